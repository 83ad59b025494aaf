"""Inputs as clinics have them: comma CSV, European semicolon CSV, .xlsx; all give the same results."""
import pytest

from ketanb import load_params
from ketanb.input.read import read_extract
from ketanb.analysis import analyse
from ketanb.synthetic import generate_extract, write_extract

from .writers import write_european_csv, write_workbook

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


def test_a_belgian_csv_with_day_month_year_dates_gives_the_same_results(frames, plain, tmp_path):
    # Excel in Belgium saves 2016-01-04 as 4/01/2016 (issue 23): read with date_format: dmy
    belgian = {name: frame.copy() for name, frame in frames.items()}
    for name in ("infusions", "adverse_events"):
        iso = belgian[name]["date"]
        belgian[name]["date"] = iso.str[8:].str.lstrip("0") + "/" + iso.str[5:7] + "/" + iso.str[:4]
    path = write_european_csv(belgian, tmp_path)
    assert ";4/01/2016;" in (path / "infusions.csv").read_text(encoding="utf-8-sig")
    assert without_source(analyse(path, load_params(date_format="dmy"))) == plain


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



def test_a_linked_workbook_is_named_by_the_users_own_file(frames, tmp_path):
    # make links a workbook outside the project into its build folder as extract.xlsx (issue 23, item 5)
    own = write_workbook(frames, tmp_path / "clinic" / "zottegem.xlsx", synthetic=False)
    link = tmp_path / "build" / "extract.xlsx"
    link.parent.mkdir()
    link.symlink_to(own)
    raw = read_extract(link)
    assert raw.source == "zottegem.xlsx"
    assert [t.file for t in raw.tables.values()] == ["zottegem.xlsx, sheet patients", "zottegem.xlsx, sheet infusions",
                                                    "zottegem.xlsx, sheet adverse_events"]

# --- writing CSVs: no formula reaches a spreadsheet (issue 22) ----------------------------------

def test_write_csv_neutralises_formulas_but_keeps_numbers(tmp_path):
    import csv

    import numpy as np
    import pandas as pd

    from ketanb.output.files import write_csv

    dangerous = ['=HYPERLINK("http://x","click")', "+cmd|' /C calc'!A0", "-2+3+cmd|' /C calc'!A0",
                 "@SUM(A1:A9)", "\t=1+1", "\r=1+1"]
    frame = pd.DataFrame({
        "diagnosis": dangerous + ["-3.5", "CRPS", None],
        "change": [-18.6, 2.5, -0.25, 1e-20, -4.0, 0.0, 1.0, 3.0, np.nan],      # a number column
        "mixed": [-18.6, "=1+1", 3, None, "a", "b", "c", "d", "e"],             # numbers among text
        "group": pd.Categorical(["@x"] * 9),
    }).rename(columns={"group": "=evil"})
    before = frame.copy(deep=True)
    write_csv(tmp_path / "t.csv", frame)
    assert frame.equals(before) and list(frame.columns)[-1] == "=evil"           # its input untouched
    text = (tmp_path / "t.csv").read_text()
    rows = list(csv.reader(text.splitlines(keepends=True)))
    assert rows[0] == ["diagnosis", "change", "mixed", "'=evil"]
    assert [r[0] for r in rows[1:]] == ["'" + v for v in dangerous[:5]] + ["'\n=1+1", "-3.5", "CRPS", ""]
    assert [r[1] for r in rows[1:]] == ["-18.6", "2.5", "-0.25", "1e-20", "-4", "0", "1", "3", ""]
    assert [r[2] for r in rows[1:]] == ["-18.6", "'=1+1", "3", "", "a", "b", "c", "d", "e"]
    assert {r[3] for r in rows[1:]} == {"'@x"}
    assert len(rows) == 10                     # the carriage return no longer starts a row of its own
    index = pd.DataFrame({"n": [1, 2]}, index=pd.Index(["=a", "b"], name="+g"))
    write_csv(tmp_path / "i.csv", index, index=True)
    assert (tmp_path / "i.csv").read_text() == "'+g,n\n'=a,1\nb,2\n"
    numbered = pd.DataFrame({"n": [1, 2]}, index=pd.Index([3, 4], name="=g"))
    write_csv(tmp_path / "j.csv", numbered, index=True)
    assert (tmp_path / "j.csv").read_text() == "'=g,n\n3,1\n4,2\n" and numbered.index.name == "=g"


def test_write_csv_leaves_a_safe_table_byte_identical(tmp_path):
    import pandas as pd

    from ketanb.output.files import write_csv

    frame = pd.DataFrame({"group": ["neuropathic", "a, b", 'say "x"', "-"], "n": [20, 11, 12, -1],
                          "p": [0.55, 1 / 3, -18.6, float("nan")]})
    write_csv(tmp_path / "t.csv", frame)
    assert (tmp_path / "t.csv").read_text() == ('group,n,p\nneuropathic,20,0.55\n"a, b",11,0.333333333333\n'
                                               '"say ""x""",12,-18.6\n-,-1,\n')
