"""Matching the patient_id of infusions and adverse events to the rows of patients.csv.

A million patients have about four million infusions. Looking each id up in a
hash table of Python strings costs about 0.6 µs per row, most of it spent
hashing and comparing the strings one by one. Here every id is instead turned
into a row of bytes (UTF-8, zero-padded to a common width) in one numpy
matrix, each row is hashed to one 64-bit integer with a few vectorised
passes, and the integers are looked up in an integer hash table. A hash says
only where an id *may* be; every match is then confirmed by comparing the
bytes and the lengths of the two ids, so the answer is exact whatever the
hashes do: two different ids never match.

When the byte trick does not apply (an id holding a line break, an id that is
not text, patients' hashes that collide) the lookup falls back to pandas on
the strings, which gives the same answer more slowly.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["PatientLookup", "byte_rows", "row_hash"]

_NEWLINE = 10
_MULTIPLIER = np.uint64(0x9E3779B97F4A7C15)   # 2**64 / golden ratio, odd
_SHIFT = np.uint64(29)


def byte_rows(values: np.ndarray, width: int | None = None) -> tuple[np.ndarray, np.ndarray] | None:
    """Each id's UTF-8 bytes as one row of a zero-padded uint8 matrix, and each id's length in bytes.

    Parameters
    ----------
    values : numpy.ndarray of str
        The ids.
    width : int, optional
        Width of the matrix in bytes (rounded up to a multiple of 8). An id
        longer than ``width`` keeps its length but gets an all-zero row.
        Default: the longest id.

    Returns
    -------
    (matrix, lengths) or None
        ``None`` when a value is not a str or an id holds a line break.
    """
    n = len(values)
    try:
        joined = ("\n".join(values.tolist()) + "\n").encode("utf-8") if n else b""
    except (TypeError, UnicodeEncodeError):            # not text, or a lone surrogate
        return None
    buf = np.frombuffer(joined, dtype=np.uint8)
    ends = np.flatnonzero(buf == _NEWLINE)
    if len(ends) != n:                                  # a line break inside an id
        return None
    starts = np.empty(n, dtype=np.int64)
    if n:
        starts[0] = 0
        starts[1:] = ends[:-1] + 1
    lengths = ends - starts
    longest = int(lengths.max()) if n else 0
    if width is None:
        width = longest
    padded = max(8, -(-width // 8) * 8)
    matrix = np.zeros((n, padded), dtype=np.uint8)
    if n and (lengths == longest).all():                # ids of one length: a reshape, no scatter
        if longest <= width:
            matrix[:, :longest] = buf.reshape(n, longest + 1)[:, :longest]
    elif n:
        for length in np.unique(lengths[lengths <= width]):  # a few distinct lengths
            rows = np.flatnonzero(lengths == length)
            matrix[rows, :length] = buf[starts[rows, None] + np.arange(length)]
    return matrix, lengths


def row_hash(matrix: np.ndarray) -> np.ndarray:
    """One int64 per row of a byte matrix from :func:`byte_rows` (equal rows, equal hashes)."""
    words = matrix.view(np.uint64)
    hashed = np.zeros(len(matrix), dtype=np.uint64)
    for k in range(words.shape[1]):
        hashed ^= words[:, k]
        hashed *= _MULTIPLIER
        hashed ^= hashed >> _SHIFT
    return hashed.view(np.int64)


class PatientLookup:
    """The row of patients.csv for a patient_id; built once from the patients' (trimmed) ids.

    Attributes
    ----------
    rows : int
        Number of patients.
    duplicate : numpy.ndarray of bool
        Rows whose id appeared on an earlier row; the first row wins.
    """

    def __init__(self, ids: pd.Series):
        self._ids = ids.to_numpy(dtype=object)
        self.rows = len(self._ids)
        self.duplicate = np.zeros(self.rows, dtype=bool)
        self._bytes = byte_rows(self._ids)
        self._hashes = self._text = None
        if self._bytes is not None:
            self._hashes = pd.Index(row_hash(self._bytes[0]))
            if not self._hashes.is_unique:              # a repeated id (or, rarely, two ids with one hash)
                self._bytes = self._hashes = None
        if self._bytes is None:
            self._strings(self._ids[:0])

    def _strings(self, values: np.ndarray) -> np.ndarray:
        """The slow path: a hash table of the ids as Python strings, first rows of repeated ids only."""
        if self._text is None:
            self._text = pd.Index(self._ids, dtype=object)
            self._first = None
            if not self._text.is_unique:
                self.duplicate = self._text.duplicated(keep="first")
                self._first = np.flatnonzero(~self.duplicate)
                self._text = self._text[self._first]
        found = self._text.get_indexer(values).astype(np.int64)
        if self._first is not None:
            found = np.where(found >= 0, self._first[found], -1)
        return found

    def positions(self, column: pd.Series) -> np.ndarray:
        """Row of patients.csv for each id of ``column``; -1 where no patient has that id."""
        values = column.to_numpy(dtype=object)
        if self._bytes is not None:
            matrix, lengths = self._bytes
            wanted = byte_rows(values, width=matrix.shape[1])
            if wanted is not None:
                found = self._hashes.get_indexer(row_hash(wanted[0])).astype(np.int64)
                known = found >= 0
                every = known.all()                     # the usual case: no selection to copy
                rows = found if every else found[known]
                same = lengths[rows] == (wanted[1] if every else wanted[1][known])
                ours, theirs = matrix.view(np.uint64), wanted[0].view(np.uint64)
                for k in range(ours.shape[1]):          # confirm: the same bytes, word by word
                    same &= ours[rows, k] == (theirs[:, k] if every else theirs[known, k])
                found[np.flatnonzero(known)[~same]] = -1
                return found
        return self._strings(values)
