"""Matching patient ids across tables (ketanb.ids): exact, whatever the hashes do."""
import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from ketanb.ids import IdBytes, PatientLookup


def _reference(patients, wanted):
    """Row of the first patient with that id, -1 if none: a plain dict."""
    first = {}
    for row, pid in enumerate(patients):
        first.setdefault(pid, row)
    return np.array([first.get(w, -1) for w in wanted], dtype=np.int64)


def _positions(patients, wanted):
    lookup = PatientLookup(pd.Series(patients, dtype=object))
    return lookup.positions(pd.Series(wanted, dtype=object))


def as_bytes(*values):
    return IdBytes.of(np.array(values, dtype=object))


def test_bytes_by_hand_ids_of_several_lengths():
    got = as_bytes("AB", "C", "é")
    assert got.lengths.tolist() == [2, 1, 2]                # é is two bytes in UTF-8
    rows = got.rows()
    assert rows.shape == (3, 8)                             # padded to one 64-bit word
    assert rows[0, :3].tolist() == [65, 66, 0]
    assert rows[1, :2].tolist() == [67, 0]
    assert rows[2, :3].tolist() == [0xC3, 0xA9, 0]
    assert got.word(0).tolist() == [65 + (66 << 8), 67, 0xC3 + (0xA9 << 8)]   # little-endian words


def test_bytes_by_hand_ids_of_one_length_are_read_in_place():
    got = as_bytes("SYN-0000001", "SYN-0000002")
    assert got.lengths == 11 and got.words == 2             # one length, two words each
    assert got.word(0).tolist() == [int.from_bytes(b"SYN-0000", "little")] * 2
    assert got.word(1).tolist() == [int.from_bytes(b"001", "little"), int.from_bytes(b"002", "little")]
    assert got.word(2).tolist() == [0, 0]                   # past the longest id: zero
    assert got.text().tolist() == ["SYN-0000001", "SYN-0000002"]


def test_plain_ids_need_no_trimming():
    assert as_bytes("SYN-1", "SYN-2").plain() and as_bytes("a", "b_2", "-c-").plain()
    assert not as_bytes("SYN-1 ", "SYN-2 ").plain()          # one length, trailing space
    assert not as_bytes("a", " b").plain() and not as_bytes("a", "").plain() and not as_bytes("", "").plain()
    assert not as_bytes("é", "a").plain() and not as_bytes("a\xa0", "b").plain()


def test_bytes_give_up_on_line_breaks_and_non_text():
    assert as_bytes("A\nB", "C") is None
    assert as_bytes("A", np.nan) is None


def test_equal_ids_equal_hashes_and_one_byte_changes_the_hash():
    hashes = as_bytes("SYN-0000001", "SYN-0000001", "SYN-0000002").hashes()
    assert hashes[0] == hashes[1] != hashes[2]
    assert as_bytes("SYN-0000001", "X").hashes()[0] == hashes[0]   # the same id read either way


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


def test_positions_of_ids_in_bytes_of_another_width():
    lookup = PatientLookup(pd.Series(["P1", "P22", "P333"], dtype=object))     # one word
    wide = as_bytes("P22", "P1", "P333333333", "P4")                                  # two words
    assert lookup.positions(None, wide).tolist() == [1, 0, -1, -1]
    wide.hashes()                                                                # hashes of two words, kept
    assert lookup.positions(None, wide).tolist() == [1, 0, -1, -1]
    narrow = PatientLookup(pd.Series(["P1", "P0123456789"], dtype=object))      # two words
    assert narrow.positions(None, as_bytes("P0123456789", "P1", "P2")).tolist() == [1, 0, -1]
    assert narrow.positions(None, as_bytes("P1", "P2")).tolist() == [0, -1]              # one word


def test_positions_of_ids_in_bytes_when_patients_ids_are_not_bytes():
    lookup = PatientLookup(pd.Series(["A\nB", "C"], dtype=object))
    assert lookup.positions(None, as_bytes("C", "D", "é")).tolist() == [1, -1, -1]
    assert lookup.positions(None, as_bytes("C", "D")).tolist() == [1, -1]               # one length


@settings(max_examples=200, deadline=None)
@given(st.integers(1, 20), st.lists(st.text(alphabet="xyé\x00 ", min_size=0, max_size=20), min_size=1, max_size=40),
       st.booleans())
def test_bytes_hold_each_ids_bytes_then_zeros(size, texts, one_length):
    if one_length:                                          # read in place: ids of one length
        texts = [(t + "x" * size)[:size] for t in texts]
    got = IdBytes.of(np.array(texts, dtype=object))
    lengths = np.broadcast_to(got.lengths, len(texts))
    for row, n, text in zip(got.rows(), lengths, texts):
        encoded = text.encode("utf-8")
        assert n == len(encoded) and bytes(row[:n]) == encoded and not row[n:].any()
    assert got.text().tolist() == texts
