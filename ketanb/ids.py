"""Matching the patient_id of infusions and adverse events to the rows of patients.csv.

A million patients have about four million infusions. Looking each id up in a
hash table of Python strings costs about 0.6 µs per row, most of it spent
hashing and comparing the strings one by one. Here the ids are instead joined
into one buffer of UTF-8 bytes and read as 64-bit words (an id's bytes 0-7,
8-15, ..., zero past its end), all ids at once: :class:`IdBytes`. Each id is
hashed to one integer with a few vectorised passes over its words, and the
integers are looked up in an integer hash table. A hash says only where an id
*may* be; every match is then confirmed by comparing the words and the
lengths of the two ids, so the answer is exact whatever the hashes do: two
different ids never match.

When the byte trick does not apply (an id holding a line break, an id that is
not text, patients' hashes that collide) the lookup falls back to pandas on
the strings, which gives the same answer more slowly.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["IdBytes", "PatientLookup"]

_NEWLINE = 10
_PAD = 8                                        # zero bytes after the last id: its last word may read them
_EDGE = np.zeros(256, dtype=bool)               # bytes an id may begin and end with, trimming aside
_EDGE[list(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")] = True
_MULTIPLIER = np.uint64(0x9E3779B97F4A7C15)     # 2**64 / golden ratio, odd
_SHIFT = np.uint64(29)


class IdBytes:
    """Ids as UTF-8 bytes, read as little-endian 64-bit words.

    Ids of one length (the usual case: ids of one format) are read straight
    from the joined bytes: word k of every id is a strided view, nothing is
    copied. Ids of several lengths are copied into a zero-padded matrix.

    Attributes
    ----------
    n : int
        Number of ids.
    words : int
        Words per id (the longest id's bytes, rounded up to whole words).
    lengths : int or numpy.ndarray
        Each id's length in bytes (one int when all are equally long).
    """

    def __init__(self, n: int, lengths, words: int, data: np.ndarray | None = None,
                 matrix: np.ndarray | None = None):
        self.n, self.lengths, self.words = n, lengths, words
        self._data, self._matrix = data, matrix
        self._hashes: dict[int, np.ndarray] = {}

    @classmethod
    def of(cls, values: np.ndarray) -> "IdBytes | None":
        """The ids ``values`` (str) as bytes; None when one is not a str or holds a line break."""
        n = len(values)
        if not n:
            return cls(0, np.zeros(0, dtype=np.int64), 1, matrix=np.zeros((0, 8), dtype=np.uint8))
        texts = values.tolist()
        texts.append("\0" * _PAD)             # joined: id, \n, id, \n, ..., id, \n, then the padding
        try:
            data = "\n".join(texts).encode("utf-8")
        except (TypeError, UnicodeEncodeError):                # not text, or a lone surrogate
            return None
        if data.count(b"\n") != n:                             # a line break inside an id
            return None
        buf = np.frombuffer(data, dtype=np.uint8)
        length = len(values[0].encode("utf-8"))
        if len(data) == n * (length + 1) + _PAD and (buf[length:-_PAD:length + 1] == _NEWLINE).all():
            # n line breaks, every one at its place for ids of the first one's length: all are that long
            return cls(n, length, max(1, -(-length // 8)), data=buf)
        ends = np.flatnonzero(buf[:-_PAD] == _NEWLINE)
        starts = np.r_[0, ends[:-1] + 1]
        lengths = ends - starts
        words = max(1, -(-int(lengths.max()) // 8))
        matrix = np.zeros((n, 8 * words), dtype=np.uint8)
        for size in np.unique(lengths):                       # a few distinct lengths
            rows = np.flatnonzero(lengths == size)
            matrix[rows, :size] = buf[starts[rows, None] + np.arange(size)]
        return cls(n, lengths, words, matrix=matrix)

    def plain(self) -> bool:
        """Every id begins and ends with an ASCII letter, digit, '-' or '_' (so trimming changes none)."""
        if not self.n:
            return True
        if self._matrix is None:
            if self.lengths == 0:
                return False
            size = self.lengths + 1
            first, last = self._data[0:-_PAD:size], self._data[self.lengths - 1:-_PAD:size]
        else:
            if self.lengths.min() < 1:
                return False
            first, last = self._matrix[:, 0], self._matrix[np.arange(self.n), self.lengths - 1]
        return bool(_EDGE[first].all() and _EDGE[last].all())

    def word(self, k: int) -> np.ndarray:
        """Word ``k`` of every id (zero past an id's end), as uint64."""
        if k >= self.words:
            return np.zeros(self.n, dtype=np.uint64)
        if self._matrix is not None:
            return self._matrix.view("<u8")[:, k]
        word = np.ndarray((self.n,), dtype="<u8", buffer=self._data, offset=8 * k, strides=(self.lengths + 1,))
        kept = self.lengths - 8 * k
        return word if kept >= 8 else word & np.uint64((1 << (8 * kept)) - 1)   # bytes of the next id off

    def rows(self) -> np.ndarray:
        """The ids as a zero-padded uint8 matrix, one row per id (for tests and small tables)."""
        return np.stack([self.word(k) for k in range(self.words)], axis=1).astype("<u8").view(np.uint8)

    def hashes(self, words: int | None = None) -> np.ndarray:
        """One int64 per id from its first ``words`` words (default: all); equal ids, equal hashes.

        Kept once computed (and pickled with the ids).
        """
        words = self.words if words is None else words
        if words not in self._hashes:
            hashed = np.zeros(self.n, dtype=np.uint64)
            for k in range(words):
                hashed ^= self.word(k)
                hashed *= _MULTIPLIER
                hashed ^= hashed >> _SHIFT
            self._hashes[words] = hashed.view(np.int64)
        return self._hashes[words]

    def text(self) -> np.ndarray:
        """The ids back as str (slow: for the rare fallback only)."""
        if self._matrix is None:
            size = self.lengths + 1
            return np.array([bytes(self._data[i * size:i * size + self.lengths]).decode("utf-8")
                             for i in range(self.n)], dtype=object)
        return np.array([bytes(row[:size]).decode("utf-8") for row, size in zip(self._matrix, self.lengths)],
                        dtype=object)


class PatientLookup:
    """The row of patients.csv for a patient_id; built once from the patients' (trimmed) ids.

    Attributes
    ----------
    rows : int
        Number of patients.
    duplicate : numpy.ndarray of bool
        Rows whose id appeared on an earlier row; the first row wins.
    """

    def __init__(self, ids: pd.Series, id_bytes: IdBytes | None = None):
        self._ids = ids.to_numpy(dtype=object)
        self.rows = len(self._ids)
        self.duplicate = np.zeros(self.rows, dtype=bool)
        self._bytes = id_bytes if id_bytes is not None else IdBytes.of(self._ids)
        self._hashes = self._text = None
        if self._bytes is not None:
            self._hashes = pd.Index(self._bytes.hashes())
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

    def positions(self, column: pd.Series | None, id_bytes: IdBytes | None = None) -> np.ndarray:
        """Row of patients.csv for each id of ``column`` (or ``id_bytes``); -1 where no patient has it."""
        if id_bytes is None:
            values = column.to_numpy(dtype=object)
            if self._bytes is None:
                return self._strings(values)
            id_bytes = IdBytes.of(values)
            if id_bytes is None:
                return self._strings(values)
        if self._bytes is None:                             # patients' ids are not bytes: look up the text
            return self._strings(id_bytes.text())
        ours, wanted = self._bytes, id_bytes
        # hashes over as many words as the patients' ids have (a longer id then differs in length)
        found = self._hashes.get_indexer(wanted.hashes(ours.words)).astype(np.int64)
        known = found >= 0
        every = known.all()                                 # the usual case: no selection to copy
        rows = found if every else found[known]

        def pick(values):
            return values if every or np.ndim(values) == 0 else values[known]

        ours_lengths = ours.lengths if np.ndim(ours.lengths) == 0 else ours.lengths[rows]
        same = np.asarray(ours_lengths == pick(wanted.lengths))
        if same.ndim == 0:
            same = np.full(len(rows), bool(same))
        for k in range(ours.words):                         # confirm: the same bytes, word by word
            same &= ours.word(k)[rows] == pick(wanted.word(k))
        found[np.flatnonzero(known)[~same]] = -1
        return found
