"""Inputs as clinics have them: comma CSV, European semicolon CSV, .xlsx; all give the same results."""
import pytest

from ketanb import load_params
from ketanb.input.read import read_extract
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
