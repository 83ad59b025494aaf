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
    if not n:
        return np.zeros((0, _padded(width or 0)), dtype=np.uint8), np.zeros(0, dtype=np.int64)
    try:
        joined = ("\n".join(values.tolist()) + "\n").encode("utf-8")
    except (TypeError, UnicodeEncodeError):            # not text, or a lone surrogate
        return None
    if joined.count(b"\n") != n:                        # a line break inside an id
        return None
    buf = np.frombuffer(joined, dtype=np.uint8)
    same = _one_length(buf, n, values)
    if same is not None:                                # the usual case: ids of one format
        lengths = np.full(n, same, dtype=np.int64)
        width = same if width is None else width
        return _fixed_rows(joined, n, same, width), lengths
    ends = np.flatnonzero(buf == _NEWLINE)
    starts = np.empty(n, dtype=np.int64)
    starts[0] = 0
    starts[1:] = ends[:-1] + 1
    lengths = ends - starts
    width = int(lengths.max()) if width is None else width
    matrix = np.zeros((n, _padded(width)), dtype=np.uint8)
    for length in np.unique(lengths[lengths <= width]):  # a few distinct lengths
        rows = np.flatnonzero(lengths == length)
        matrix[rows, :length] = buf[starts[rows, None] + np.arange(length)]
    return matrix, lengths


def _padded(width: int) -> int:
    return max(8, -(-width // 8) * 8)


def _one_length(buf: np.ndarray, n: int, values: np.ndarray) -> int | None:
    """The length in bytes shared by every id, or None.

    With exactly n line breaks in the joined ids (checked before), every id
    has the first one's length L exactly when the breaks sit every L + 1 bytes.
    """
    length = len(values[0].encode("utf-8"))
    if len(buf) != n * (length + 1) or not (buf[length::length + 1] == _NEWLINE).all():
        return None
    return length


def _fixed_rows(joined: bytes, n: int, length: int, width: int) -> np.ndarray:
    """Byte rows of n ids of one length, read as 64-bit words straight from the joined bytes.

    Word k of an id is its bytes 8k to 8k + 7, zero past its end: read eight
    bytes at that place of every row at once (a strided view, no per-byte copy)
    and mask the bytes that belong to the next row.
    """
    words = np.zeros((n, _padded(width) // 8), dtype="<u8")
    if length > width:                                   # longer than any patient's: all-zero rows
        return words.view(np.uint8)
    data = joined + b"\0" * 8                            # the last row's last word may read past the end
    for k in range(-(-length // 8)):
        word = np.ndarray((n,), dtype="<u8", buffer=data, offset=8 * k, strides=(length + 1,))
        kept = min(8, length - 8 * k)
        words[:, k] = word if kept == 8 else word & np.uint64((1 << (8 * kept)) - 1)
    return words.view(np.uint8)


def row_hash(matrix: np.ndarray) -> np.ndarray:
    """One int64 per row of a byte matrix from :func:`byte_rows` (equal rows, equal hashes)."""
    words = matrix.view("<u8")
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
            wanted = byte_rows(values, width=self._bytes[0].shape[1])
            if wanted is not None:
                return self.positions_of(*wanted)
        return self._strings(values)

    def positions_of(self, matrix: np.ndarray, lengths: np.ndarray, hashes: np.ndarray | None = None) -> np.ndarray:
        """As :meth:`positions`, for ids already turned into byte rows by :func:`byte_rows` (and hashed)."""
        if self._bytes is None:                             # patients' ids are not bytes: decode and look up
            ids = [bytes(row[:n]).decode("utf-8") for row, n in zip(matrix, lengths)]
            return self._strings(np.array(ids, dtype=object))
        ours, our_lengths = self._bytes
        width = ours.shape[1]
        if matrix.shape[1] != width:                        # another width: hashes differ, cut or pad
            fitted = np.zeros((len(matrix), width), dtype=np.uint8)
            common = min(width, matrix.shape[1])
            fitted[:, :common] = matrix[:, :common]         # an id cut short is longer than any patient's
            matrix, hashes = fitted, None
        if hashes is None:
            hashes = row_hash(matrix)
        found = self._hashes.get_indexer(hashes).astype(np.int64)
        known = found >= 0
        every = known.all()                                 # the usual case: no selection to copy
        rows = found if every else found[known]
        same = our_lengths[rows] == (lengths if every else lengths[known])
        ours, theirs = ours.view(np.uint64), matrix.view(np.uint64)
        for k in range(ours.shape[1]):                      # confirm: the same bytes, word by word
            same &= ours[rows, k] == (theirs[:, k] if every else theirs[known, k])
        found[np.flatnonzero(known)[~same]] = -1
        return found
