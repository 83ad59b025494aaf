"""Matching patient ids across tables (ketanb.ids): exact, whatever the hashes do."""
import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from ketanb.ids import PatientLookup, byte_rows, row_hash


def _reference(patients, wanted):
    """Row of the first patient with that id, -1 if none: a plain dict."""
    first = {}
    for row, pid in enumerate(patients):
        first.setdefault(pid, row)
    return np.array([first.get(w, -1) for w in wanted], dtype=np.int64)


def _positions(patients, wanted):
    lookup = PatientLookup(pd.Series(patients, dtype=object))
    return lookup.positions(pd.Series(wanted, dtype=object))


def test_byte_rows_by_hand():
    matrix, lengths = byte_rows(np.array(["AB", "C", "é"], dtype=object))
    assert lengths.tolist() == [2, 1, 2]                    # é is two bytes in UTF-8
    assert matrix.shape == (3, 8)                           # padded to one 64-bit word
    assert matrix[0, :3].tolist() == [65, 66, 0]
    assert matrix[1, :2].tolist() == [67, 0]
    assert matrix[2, :3].tolist() == [0xC3, 0xA9, 0]


def test_byte_rows_width_zeroes_longer_ids_but_keeps_their_length():
    matrix, lengths = byte_rows(np.array(["ABCDEFGHIJ", "AB"], dtype=object), width=8)
    assert lengths.tolist() == [10, 2]
    assert matrix.shape == (2, 8)
    assert not matrix[0].any()
    assert bytes(matrix[1, :2]) == b"AB"


def test_byte_rows_gives_up_on_line_breaks_and_non_text():
    assert byte_rows(np.array(["A\nB", "C"], dtype=object)) is None
    assert byte_rows(np.array(["A", np.nan], dtype=object)) is None


def test_equal_rows_equal_hashes_and_one_byte_changes_the_hash():
    matrix, _ = byte_rows(np.array(["SYN-0000001", "SYN-0000001", "SYN-0000002"], dtype=object))
    hashes = row_hash(matrix)
    assert hashes[0] == hashes[1] != hashes[2]


def test_lookup_by_hand():
    patients = ["P1", "P22", "P333", "P22"]                 # a repeated id: the first row wins
    wanted = ["P333", "P22", "P4", "P1", "P1\x00", "P3333", "p1", ""]
    assert _positions(patients, wanted).tolist() == [2, 1, -1, 0, -1, -1, -1, -1]
    assert PatientLookup(pd.Series(patients, dtype=object)).duplicate.tolist() == [False, False, False, True]


def test_a_trailing_nul_or_longer_id_is_not_a_match():
    # zero padding makes "A" and "A\x00" the same bytes; their lengths tell them apart
    assert _positions(["A", "BCDEFGHIJ"], ["A\x00", "A", "BCDEFGHIJK", "BCDEFGHIJ"]).tolist() == [-1, 0, -1, 1]


def test_fallback_paths_give_the_same_answer():
    assert _positions(["A\nB", "C"], ["C", "A\nB", "D"]).tolist() == [1, 0, -1]   # patients not bytes
    assert _positions(["A", "C"], ["C", "A\nB", "A"]).tolist() == [1, -1, 0]      # wanted not bytes


def test_many_fixed_length_ids_like_the_synthetic_extract():
    rng = np.random.default_rng(3)
    patients = [f"SYN-{i:07d}" for i in rng.permutation(50_000) + 1]
    wanted = [f"SYN-{i:07d}" for i in rng.integers(0, 52_000, size=200_000)]   # some unknown
    assert (_positions(patients, wanted) == _reference(patients, wanted)).all()


ids = st.text(alphabet=st.sampled_from(list("ab-_Z09é \x00")), min_size=0, max_size=20)


@settings(max_examples=200, deadline=None)
@given(st.lists(ids, min_size=1, max_size=30), st.lists(ids, max_size=60))
def test_lookup_matches_a_dictionary(patients, wanted):
    assert _positions(patients, wanted).tolist() == _reference(patients, wanted).tolist()


def test_positions_of_byte_rows_of_another_width():
    lookup = PatientLookup(pd.Series(["P1", "P22", "P333"], dtype=object))     # 8-byte rows
    wide = byte_rows(np.array(["P22", "P1", "P333333333", "P4"], dtype=object))  # 16-byte rows
    assert wide[0].shape[1] == 16
    assert lookup.positions_of(*wide).tolist() == [1, 0, -1, -1]
    narrow = PatientLookup(pd.Series(["P1", "P0123456789"], dtype=object))    # 16-byte rows
    assert narrow.positions_of(*byte_rows(np.array(["P0123456789", "P1", "P2"], dtype=object))).tolist() == [1, 0, -1]


def test_positions_of_when_patients_ids_are_not_bytes():
    lookup = PatientLookup(pd.Series(["A\nB", "C"], dtype=object))
    assert lookup.positions_of(*byte_rows(np.array(["C", "D", "é"], dtype=object))).tolist() == [1, -1, -1]


@settings(max_examples=200, deadline=None)
@given(st.integers(1, 20), st.lists(st.text(alphabet="xyé\x00 ", min_size=0, max_size=20), min_size=1, max_size=40),
       st.booleans())
def test_byte_rows_hold_each_ids_bytes_then_zeros(size, texts, one_length):
    if one_length:                                          # the strided fast path: ids of one length
        texts = [(t + "x" * size)[:size] for t in texts]
    matrix, lengths = byte_rows(np.array(texts, dtype=object))
    for row, n, text in zip(matrix, lengths, texts):
        encoded = text.encode("utf-8")
        assert n == len(encoded) and bytes(row[:n]) == encoded and not row[n:].any()
