"""Inputs as clinics have them: comma CSV, European semicolon CSV, .xlsx; all give the same results.
And the hand-over of large arrays between processes."""
import multiprocessing
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from ketanb import load_params
from ketanb.ids import IdBytes
from ketanb.io import categorical, hand_over, take_over
from ketanb.io import read_extract
from ketanb.analysis import analyse
from ketanb.synthetic import generate_extract, write_european_csv, write_extract, write_workbook

P = load_params()


@pytest.fixture(scope="module")
def frames():
    frames = generate_extract(300, seed=7)
    # the comparison only means something if decimals are present
    assert frames["patients"]["baseline_nrs"].str.contains(".", regex=False).any()
    return frames


def without_source(results):
    return {k: v for k, v in results.items() if k != "data"}


@pytest.fixture(scope="module")
def plain(frames, tmp_path_factory):
    folder = write_extract(frames, tmp_path_factory.mktemp("plain"), n_patients=300, seed=7)
    return without_source(analyse(folder, P))


@pytest.mark.parametrize("form", ["european_bom", "european_no_bom", "xlsx_typed", "xlsx_text"])
def test_every_form_gives_the_same_results(frames, plain, tmp_path, form):
    if form.startswith("european"):
        path = write_european_csv(frames, tmp_path, bom=form.endswith("_bom"))
        head = (path / "patients.csv").read_bytes()[:40]
        assert head.startswith(b"\xef\xbb\xbfpatient_id;sex;age") == form.endswith("_bom")
        assert read_extract(path).tables["patients"].decimal_comma
    else:
        path = write_workbook(frames, tmp_path / "extract.xlsx", synthetic=False, typed=form == "xlsx_typed")
    assert without_source(analyse(path, P)) == plain


def test_decimal_comma_is_read_as_a_decimal(frames, tmp_path):
    path = write_european_csv(frames, tmp_path)
    text = (path / "patients.csv").read_text(encoding="utf-8-sig")
    assert ";7,5;" in text or ",5;" in text
    raw = read_extract(path).tables["patients"]
    assert raw.decimal_comma and not read_extract(path).tables["adverse_events"].frame.empty


def test_workbook_marks_synthetic_data(frames, tmp_path):
    marked = read_extract(write_workbook(frames, tmp_path / "a.xlsx", synthetic=True))
    plain = read_extract(write_workbook(frames, tmp_path / "b.xlsx", synthetic=False))
    assert marked.synthetic and not plain.synthetic
    assert marked.tables["patients"].file == "a.xlsx, sheet patients"


def test_hand_over_and_take_over_between_processes():
    frame = pd.DataFrame({"date": pd.to_datetime(["2016-03-01", "2016-03-31"]), "dose_mg": [75.0, 150.0],
                          "formulation": categorical([0, 0], ["racemic"])})
    ids = IdBytes.of(np.array(["SYN-0000001", "SYN-0000002"], dtype=object))
    ids.hashes()
    with multiprocessing.get_context("fork").Pool(1) as pool:          # written by another process
        name = pool.apply(hand_over, ({"frame": frame, "ids": ids},))
    assert Path(name).is_file()
    got = take_over(name)
    assert not Path(name).exists()                                      # deleted once read
    pd.testing.assert_frame_equal(got["frame"], frame, check_exact=True)
    assert got["ids"].text().tolist() == ["SYN-0000001", "SYN-0000002"]
    assert (got["ids"].hashes() == ids.hashes()).all()
    got["frame"].loc[0, "dose_mg"] = 1.0                                # arrays made on the file are writable
    assert take_over(None) is None
