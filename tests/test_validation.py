"""Every "must" of the data contract: one small bad extract per rule, read from real files.

Each case writes a valid two-patient extract as CSV files, spoils one thing,
and asserts on the exact line of the report a clinic would read: file, the
row as their spreadsheet numbers it (header = row 1), column, value, and what
the contract allows.
"""
import openpyxl
import pandas as pd
import pytest

from ketanb import InputError, ParameterError, cleaning, load_params
from ketanb.errors import Problem
from ketanb.input.read import read_extract
from ketanb.input.validate import (UNIQUE_ID, _check_relations, _Report, _without_parsed_numbers, national_number,
                                   trimmed, validate)

from .conftest import patient, protocol
from .writers import write_workbook

AE = {"patient_id": "p1", "date": "2016-03-01", "event": "nausea", "severity": "mild",
      "treatment": "ondansetron", "serious": "no"}


def good():
    """Two valid patients with three infusions each and one adverse event."""
    return {"patients": [patient("p1"), patient("p2", mechanism="nociplastic")],
            "infusions": protocol("p1") + protocol("p2", start="2017-05-02"),
            "adverse_events": [dict(AE)]}


def write(folder, tables, sep=","):
    folder.mkdir(parents=True, exist_ok=True)
    for name, rows in tables.items():
        frame = rows if isinstance(rows, pd.DataFrame) else pd.DataFrame(rows)
        if name == "adverse_events" and frame.empty:
            frame = pd.DataFrame(columns=list(AE))
        frame.to_csv(folder / f"{name}.csv", index=False, sep=sep)
    return folder


def problems_in(folder, params=None):
    """The problems reading or validating the extract in ``folder`` reports, and the whole message."""
    with pytest.raises(InputError) as info:
        validate(read_extract(folder), params)
    return [str(p) for p in info.value.problems], str(info.value)


def problems(tmp_path, tables, params=None):
    return problems_in(write(tmp_path / "extract", tables), params)


def spoil(table, row, **changes):
    tables = good()
    tables[table][row].update(changes)
    return tables


CELL_RULES = [
    # table, row index, change, expected report line (row = index + 2)
    ("patients", 0, {"patient_id": "Jan Peeters"},
     "patients.csv, row 2, column patient_id: value 'Jan Peeters': 1-32 characters of letters, digits, '-' or '_'"),
    ("patients", 0, {"patient_id": ""},
     "patients.csv, row 2, column patient_id: value '': a value is required: 1-32 characters of letters, "
     "digits, '-' or '_'"),
    ("infusions", 1, {"patient_id": ""},
     "infusions.csv, row 3, column patient_id: value '': a value is required: a patient_id of patients.csv"),
    ("adverse_events", 0, {"patient_id": "  "},
     "adverse_events.csv, row 2, column patient_id: value '  ': a value is required: a patient_id of "
     "patients.csv"),
    ("patients", 1, {"sex": "X"}, "patients.csv, row 3, column sex: value 'X': one of F, M"),
    ("patients", 0, {"sex": ""}, "patients.csv, row 2, column sex: value '': a value is required: one of F, M"),
    ("patients", 0, {"age": "17"}, "patients.csv, row 2, column age: value '17': a whole number from 18 to 110"),
    ("patients", 0, {"age": "111"}, "patients.csv, row 2, column age: value '111': a whole number from 18 to 110"),
    ("patients", 0, {"age": "45.5"}, "patients.csv, row 2, column age: value '45.5': a whole number from 18 to 110"),
    ("patients", 0, {"age": "fifty"}, "patients.csv, row 2, column age: value 'fifty': a whole number from 18 to 110"),
    ("patients", 1, {"pain_mechanism": "visceral"},
     "patients.csv, row 3, column pain_mechanism: value 'visceral': one of neuropathic, nociceptive, "
     "nociplastic (or empty)"),
    ("patients", 0, {"baseline_nrs": "11"},
     "patients.csv, row 2, column baseline_nrs: value '11': a number from 0 to 10 (or empty)"),
    ("patients", 0, {"followup_nrs": "-1"},
     "patients.csv, row 2, column followup_nrs: value '-1': a number from 0 to 10 (or empty)"),
    ("patients", 0, {"pain_duration_months": "-3"},
     "patients.csv, row 2, column pain_duration_months: value '-3': a number >= 0 (or empty)"),
    ("patients", 0, {"discontinuation": "moved"},
     "patients.csv, row 2, column discontinuation: value 'moved': one of lack_of_effect, side_effects, "
     "other (or empty)"),
    ("infusions", 1, {"date": "2016/03/31"}, "infusions.csv, row 3, column date: value '2016/03/31': a date YYYY-MM-DD"),
    ("infusions", 1, {"date": "٢٠١٦-٠٣-٠١"},              # Arabic-Indic digits: not the contract's form
     "infusions.csv, row 3, column date: value '٢٠١٦-٠٣-٠١': a date YYYY-MM-DD"),
    ("infusions", 1, {"date": "2016-02-30"},
     "infusions.csv, row 3, column date: value '2016-02-30': a date YYYY-MM-DD (there is no such date)"),
    ("infusions", 2, {"dose_mg": "0"}, "infusions.csv, row 4, column dose_mg: value '0': a number > 0"),
    # Arrow's fast cast reads these four as numbers (NaN, infinity): the rules must still refuse them
    ("patients", 0, {"pain_duration_months": "inf"},
     "patients.csv, row 2, column pain_duration_months: value 'inf': a number >= 0 (or empty)"),
    ("infusions", 2, {"dose_mg": "nan"}, "infusions.csv, row 4, column dose_mg: value 'nan': a number > 0"),
    ("patients", 0, {"age": "inf"}, "patients.csv, row 2, column age: value 'inf': a whole number from 18 to 110"),
    ("patients", 0, {"followup_nrs": "1e400"},
     "patients.csv, row 2, column followup_nrs: value '1e400': a number from 0 to 10 (or empty)"),
    ("infusions", 2, {"dose_mg": ""}, "infusions.csv, row 4, column dose_mg: value '': a value is required: a number > 0"),
    ("infusions", 0, {"formulation": "s-ketamine"},
     "infusions.csv, row 2, column formulation: value 's-ketamine': one of racemic, esketamine"),
    ("adverse_events", 0, {"event": "itch"},
     "adverse_events.csv, row 2, column event: value 'itch': one of nausea, vomiting, dizziness, drowsiness, "
     "hallucinations, dissociation, nightmares, anxiety, headache, blurred_vision, hypertension, tachycardia, other"),
    ("adverse_events", 0, {"severity": "grade 2"},
     "adverse_events.csv, row 2, column severity: value 'grade 2': one of mild, moderate, severe"),
    ("adverse_events", 0, {"serious": "maybe"},
     "adverse_events.csv, row 2, column serious: value 'maybe': one of yes, no (or empty)"),
]


@pytest.mark.parametrize("table, row, change, line", CELL_RULES,
                         ids=[f"{t}.{next(iter(c))}={next(iter(c.values()))!r}" for t, _, c, _ in CELL_RULES])
def test_cell_rule(tmp_path, table, row, change, line):
    found, _ = problems(tmp_path, spoil(table, row, **change))
    assert found == [line]


RELATION_RULES = [
    ("unique patient_id", lambda t: t["patients"].append(patient("p1")),
     "patients.csv, row 4, column patient_id: value 'p1': a patient_id not used by an earlier row "
     "(each patient once)"),
    ("two repeated patient_ids", lambda t: t["patients"].extend([patient("p1"), patient("p2")]),
     "patients.csv, row 4, column patient_id: value 'p1': a patient_id not used by an earlier row "
     "(each patient once)\n"
     "patients.csv, row 5, column patient_id: value 'p2': a patient_id not used by an earlier row "
     "(each patient once)"),
    ("unique patient and date", lambda t: t["infusions"].append(dict(t["infusions"][0], dose_mg="150")),
     "infusions.csv, row 8, column date: value '2016-03-01': one infusion per patient and date "
     "(this patient already has one that day)"),
    ("infusion of an unknown patient", lambda t: t["infusions"].append(dict(t["infusions"][0], patient_id="p9")),
     "infusions.csv, row 8, column patient_id: value 'p9': a patient_id of patients.csv"),
    ("adverse event of an unknown patient", lambda t: t["adverse_events"].append(dict(AE, patient_id="p9")),
     "adverse_events.csv, row 3, column patient_id: value 'p9': a patient_id of patients.csv"),
    ("adverse event not on an infusion date", lambda t: t["adverse_events"].append(dict(AE, date="2016-03-02")),
     "adverse_events.csv, row 3, column date: value '2016-03-02': the date of one of this patient's infusions"),
    ("patient without an infusion", lambda t: t["patients"].append(patient("p3")),
     "patients.csv, row 4, column patient_id: value 'p3': a patient with at least one infusion in infusions.csv"),
]


@pytest.mark.parametrize("rule, change, line", RELATION_RULES, ids=[r[0] for r in RELATION_RULES])
def test_relation_rule(tmp_path, rule, change, line):
    tables = good()
    change(tables)
    found, _ = problems(tmp_path, tables)
    assert found == line.split("\n")


@pytest.mark.parametrize("column, why", [("name", "a name"), ("Date of birth", "a birth date"),
                                         ("rijksregisternummer", "a national register number"),
                                         ("address", "an address")])
def test_direct_identifiers_refused(tmp_path, column, why):
    tables = good()
    for row in tables["patients"]:
        row[column] = "x"
    found, _ = problems(tmp_path, tables)
    assert found == [f"patients.csv, row 1, column {column.lower()}: no direct identifiers: this column "
                     f"looks like {why}. Remove it; the analysis needs only a pseudonymous patient_id"]


def test_missing_required_column(tmp_path):
    tables = good()
    for row in tables["patients"]:
        del row["followup_nrs"]
    found, _ = problems(tmp_path, tables)
    assert found == ["patients.csv, row 1, column followup_nrs: required column 'followup_nrs' is missing: add it "
                     "(the header has: patient_id, sex, age, pain_mechanism, baseline_nrs, discontinuation)"]


def test_a_missing_column_does_not_hide_the_other_problems(tmp_path):
    """Issue 23: a missing column stopped every other check of its file, so the unknown code and the unknown
    patient showed up only on the second run."""
    tables = spoil("patients", 1, pain_mechanism="visceral")
    for row in tables["patients"]:
        del row["sex"]
    tables["infusions"][0].update(formulation="ketalar")
    tables["infusions"][3].update(patient_id="p9")
    found, _ = problems(tmp_path, tables)
    assert found == [
        "patients.csv, row 1, column sex: required column 'sex' is missing: add it (the header has: patient_id, age, "
        "pain_mechanism, baseline_nrs, followup_nrs, discontinuation)",
        "patients.csv, row 3, column pain_mechanism: value 'visceral': one of neuropathic, nociceptive, nociplastic "
        "(or empty)",
        "infusions.csv, row 2, column formulation: value 'ketalar': one of racemic, esketamine",
        "infusions.csv, row 5, column patient_id: value 'p9': a patient_id of patients.csv"]


def test_a_missing_column_leaves_out_only_the_rules_across_tables_that_compare_it(tmp_path):
    # without infusions' date, the events cannot be matched to infusion days; the patients still can
    tables = good()
    for row in tables["infusions"]:
        del row["date"]
    tables["infusions"][3].update(patient_id="p9", dose_mg="0")
    found, _ = problems(tmp_path, tables)
    assert found == ["infusions.csv, row 1, column date: required column 'date' is missing: add it (the header has: "
                     "patient_id, dose_mg, formulation)",
                     "infusions.csv, row 5, column dose_mg: value '0': a number > 0",
                     "infusions.csv, row 5, column patient_id: value 'p9': a patient_id of patients.csv"]
    # without patients' patient_id, no rule across tables can be checked; the cells still are
    tables = spoil("patients", 0, age="17")
    for row in tables["patients"]:
        del row["patient_id"]
    found, _ = problems(tmp_path / "b", tables)
    assert found == ["patients.csv, row 1, column patient_id: required column 'patient_id' is missing: add it (the "
                     "header has: sex, age, pain_mechanism, baseline_nrs, followup_nrs, discontinuation)",
                     "patients.csv, row 2, column age: value '17': a whole number from 18 to 110"]


def test_a_column_named_twice_does_not_hide_the_other_problems(tmp_path):
    folder = write(tmp_path / "x", spoil("patients", 0, age="17"))
    path = folder / "patients.csv"
    lines = path.read_text(encoding="utf-8").splitlines()
    path.write_text("\n".join([lines[0] + ",SEX"] + [line + ",M" for line in lines[1:]]) + "\n", encoding="utf-8")
    found, _ = problems_in(folder)
    assert found == ["patients.csv, row 1, column sex: each column name once (this one appears more than once)",
                     "patients.csv, row 2, column age: value '17': a whole number from 18 to 110"]


def test_group_by_column_must_exist(tmp_path):
    found, _ = problems(tmp_path, good(), load_params(group_by="smoker"))
    assert found[0].startswith("patients.csv, row 1, column smoker: required column 'smoker' is missing (group_by "
                               "names it): add it")
    found, _ = problems(tmp_path / "banded", good(), load_params(group_by="bmi", group_edges=[30]))
    assert found == ["patients.csv, row 1, column bmi: required column 'bmi' is missing (group_by names it): add it "
                     "(the header has: patient_id, sex, age, pain_mechanism, baseline_nrs, followup_nrs, discontinuation)"]


@pytest.mark.parametrize("value", ["inf", "-Infinity", "nan", "1e400", "heavy"])
def test_group_by_number_column_takes_finite_numbers_only(tmp_path, value):
    # an extra column cut into bands by group_edges: infinity would fall silently into the top band
    tables = good()
    tables["patients"][0]["bmi"], tables["patients"][1]["bmi"] = value, "25"
    found, _ = problems(tmp_path, tables, load_params(group_by="bmi", group_edges=[30]))
    assert found == [f"patients.csv, row 2, column bmi: value {value!r}: a number (group_by names this column "
                     "and group_edges cut it into bands), or empty"]


def test_a_column_lists_its_bad_values_first_then_its_empty_required_cells(tmp_path):
    tables = spoil("infusions", 0, dose_mg="")
    tables["infusions"][1]["dose_mg"] = "abc"
    found, _ = problems(tmp_path, tables)
    assert found == ["infusions.csv, row 3, column dose_mg: value 'abc': a number > 0",
                     "infusions.csv, row 2, column dose_mg: value '': a value is required: a number > 0"]


@pytest.mark.parametrize("table", ["patients", "infusions"])
def test_header_only_refused(tmp_path, table):
    tables = good()
    tables[table] = pd.DataFrame(columns=list(tables[table][0]))
    found, _ = problems(tmp_path, tables)
    assert f"{table}.csv, row 2: at least one data row below the header" in found


def test_header_only_adverse_events_is_valid(tmp_path):
    tables = dict(good(), adverse_events=[])
    extract = validate(read_extract(write(tmp_path / "x", tables)))
    assert len(extract.adverse_events) == 0 and len(extract.patients) == 2


def test_missing_file(tmp_path):
    folder = write(tmp_path / "x", good())
    (folder / "adverse_events.csv").unlink()
    with pytest.raises(InputError) as info:
        read_extract(folder)
    assert "adverse_events.csv" in str(info.value) and "missing" in str(info.value)


def test_a_file_that_cannot_be_read_is_reported_with_the_problems_of_the_others(tmp_path):
    # one run lists everything a clinic has to correct: the missing file, a file that is not UTF-8
    # and a bad cell of a file that was read (before, the cell waited for the next run)
    folder = write(tmp_path / "x", spoil("patients", 1, age="250"))
    (folder / "adverse_events.csv").unlink()
    infusions = folder / "infusions.csv"
    infusions.write_bytes(infusions.read_bytes().replace(b"racemic", "racémic".encode("cp1252"), 1))
    with pytest.raises(InputError) as info:
        cleaning.load(folder)
    found = [str(p) for p in info.value.problems]
    assert found[0].startswith("infusions.csv, row 2: value 'e9': the file is not UTF-8")
    assert found[1].startswith("adverse_events.csv: the file adverse_events.csv in ") and "(it is missing)" in found[1]
    assert found[2] == "patients.csv, row 3, column age: value '250': a whole number from 18 to 110"
    assert len(found) == 3


def test_latin1_file_refused_with_reason(tmp_path):
    folder = write(tmp_path / "x", dict(good(), adverse_events=[dict(AE, treatment="métoclopramide")]))
    path = folder / "adverse_events.csv"
    path.write_bytes(path.read_text(encoding="utf-8").encode("cp1252"))
    with pytest.raises(InputError) as info:
        read_extract(folder)
    message = str(info.value)
    assert "adverse_events.csv, row 2: value 'e9': the file is not UTF-8" in message
    assert "CSV UTF-8" in message


def test_every_problem_at_once_and_no_traceback_words(tmp_path):
    tables = spoil("patients", 0, age="17")
    tables["patients"][1]["sex"] = "X"
    tables["infusions"][0]["dose_mg"] = "-75"
    tables["adverse_events"][0]["severity"] = "bad"
    found, message = problems(tmp_path, tables)
    assert len(found) == 4
    assert message.startswith("The extract ") and "4 problems" in message
    assert "Nothing was analysed and no output was changed." in message
    assert "Traceback" not in message


def test_rules_across_tables_are_reported_with_bad_cells(tmp_path):
    """A bad age does not hide a repeated patient_id or a repeated infusion day: every problem at once.
    A rule across tables is left out only when a column it compares has a bad cell (one message each)."""
    tables = good()
    tables["patients"][1]["age"] = "400"
    tables["patients"].append(patient("p1"))
    tables["infusions"].append(dict(tables["infusions"][3]))          # p2's first day, twice
    found, _ = problems(tmp_path, tables)
    assert found == [
        "patients.csv, row 3, column age: value '400': a whole number from 18 to 110",
        f"patients.csv, row 4, column patient_id: value 'p1': {UNIQUE_ID}",
        "infusions.csv, row 8, column date: value '2017-05-02': one infusion per patient and date "
        "(this patient already has one that day)"]
    tables["infusions"][-1]["date"] = "2017-13-02"                    # now a bad cell of that column
    found, _ = problems(tmp_path, tables)
    assert found[-1] == f"patients.csv, row 4, column patient_id: value 'p1': {UNIQUE_ID}"
    assert sum("infusions.csv" in line for line in found) == 1


def test_a_banded_group_by_column_is_checked_with_the_other_cells(tmp_path):
    tables = good()
    tables["patients"][0]["bmi"], tables["patients"][1]["bmi"] = "abc", "24"
    tables["patients"][1]["age"] = "611"
    params = load_params(group_by="bmi", group_edges=[25])
    found, _ = problems(tmp_path, tables, params)
    assert found == ["patients.csv, row 3, column age: value '611': a whole number from 18 to 110",
                     "patients.csv, row 2, column bmi: value 'abc': a number (group_by names this column and "
                     "group_edges cut it into bands), or empty"]


def test_the_first_200_bad_cells_are_listed_with_their_rows(tmp_path):
    """148 bad cells (74 patients, each with a bad age and a bad sex): all listed, one per line (before,
    20 per column: 40 of them). 250 bad ages and 250 bad sexes: the first 200 with their rows (the ages
    of rows 2-201), then one line per rule counting the rest: 50 more ages, 250 more sexes."""
    tables = good()
    tables["patients"] = [patient(f"p{i}", age="5", sex="X") for i in range(74)]
    tables["infusions"] = sum((protocol(f"p{i}") for i in range(74)), [])
    found, message = problems(tmp_path / "a", tables)
    assert len(found) == 148 and "more" not in message
    assert found[0] == "patients.csv, row 2, column sex: value 'X': one of F, M"
    assert found[-1] == "patients.csv, row 75, column age: value '5': a whole number from 18 to 110"
    tables["patients"] = [patient(f"p{i}", age="5", sex="X") for i in range(250)]
    tables["infusions"] = sum((protocol(f"p{i}") for i in range(250)), [])
    found, message = problems(tmp_path / "b", tables)
    assert len(found) == 202
    assert found[199] == "patients.csv, row 201, column sex: value 'X': one of F, M"
    assert found[200:] == ["patients.csv, column sex: 50 more rows have the same problem (one of F, M)",
                           "patients.csv, column age: 250 more rows have the same problem (a whole number from "
                           "18 to 110)"]
    assert message.endswith(found[-1])


def test_the_message_lists_200_problems_and_every_count_after_them():
    """Problems beyond the first 200 are counted; a line without a row (a count, a missing file) is kept."""
    problems = [Problem("patients.csv", 1, f"c{i}", None, "no direct identifiers") for i in range(250)]
    problems.append(Problem("patients.csv", None, "age", None, "30 more rows have the same problem (x)"))
    lines = str(InputError(problems, source="x")).splitlines()
    assert len(lines) == 1 + 200 + 1 + 1
    assert lines[-2] == "  - patients.csv, column age: 30 more rows have the same problem (x)"
    assert lines[-1] == "  ... and 50 more problems of the same kinds"


def test_a_long_value_is_shortened_in_the_message():
    line = str(Problem("patients.csv", 5, "age", "9" * 5000, "a whole number from 18 to 110"))
    assert line == f"patients.csv, row 5, column age: value '{'9' * 200}'... (5,000 characters): a whole number " \
                   "from 18 to 110"


# --- issue 22: identifiers, NUL bytes, huge cells, the parameters that switch protection off --------

IDENTIFIER_COLUMNS = [
    ("familienaam", "a name"), ("date_de_naissance", "a birth date"), ("insz_nummer", "a national register number"),
    ("rijksregister", "a national register number"), ("GSM", "contact details"), ("patient naam", "a name"),
    ("geboorte datum", "a birth date"), ("Mobile", "contact details"), ("initials", "a name"),
    ("Prénom", "a name"), ("nom du patient", "a name"), ("E-mail", "contact details"),
    ("Telefoon.nr", "contact details"), ("Date-Of-Birth", "a birth date"), ("N.I.S.S.", "a national register number"),
    ("Adresse", "an address"), ("patient_dossiernummer", "a medical record number"),
]


@pytest.mark.parametrize("column, why", IDENTIFIER_COLUMNS, ids=[c for c, _ in IDENTIFIER_COLUMNS])
def test_identifier_columns_in_dutch_french_and_english(tmp_path, column, why):
    tables = good()
    for row in tables["patients"]:
        row[column] = "x"
    found, _ = problems(tmp_path, tables)
    assert found == [f"patients.csv, row 1, column {column.lower()}: no direct identifiers: this column "
                     f"looks like {why}. Remove it; the analysis needs only a pseudonymous patient_id"]


def test_the_contract_columns_and_ordinary_extras_are_not_identifiers(tmp_path):
    from ketanb.input.contract import TABLES, identifier_kind
    ordinary = ["bmi", "site", "clinic", "comorbidity", "opioid_use", "notes", "drug name", "diagnosis_code",
                "referral", "smoking", "weight_kg", "height", "ward", "physician", "infusion_no", "visit_nr",
                "duration", "nrs_6_months", "ketamine_naive"]
    assert [c for c in ordinary + [s.name for spec in TABLES.values() for s in spec] if identifier_kind(c)] == []
    tables = good()
    for row in tables["patients"]:
        row.update({c: "1" for c in ordinary})
    assert len(validate(read_extract(write(tmp_path / "x", tables))).patients) == 2


IDENTIFYING_TEXT = [
    ("85.07.12-123.45", "a national register number"), ("CRPS - Jan Peeters RRN 85071212345", "a national register number"),
    ("850712 123 45", "a national register number"), ("fibromyalgia, bel 0475 12 34 56", "a phone number"),
    ("+32 475 12 34 56", "a phone number"), ("tel 09/123.45.67", "a phone number"), ("0032475123456", "a phone number"),
    ("+32 (0)9 123 45 67", "a phone number"), ("CRPS (jan.peeters@example.be)", "an e-mail address"),
]


@pytest.mark.parametrize("text, kind", IDENTIFYING_TEXT, ids=[t for t, _ in IDENTIFYING_TEXT])
def test_free_text_that_looks_like_an_identifier_is_refused_without_being_repeated(tmp_path, text, kind):
    tables = spoil("patients", 1, diagnosis=text)
    tables["adverse_events"][0]["treatment"] = f"ondansetron; {text}"
    found, message = problems(tmp_path, tables)
    expected = (f"free text without a national register number, phone number or e-mail address: this cell holds "
                f"what looks like {kind} (not repeated here). Remove it from the extract; the analysis needs none")
    assert found == [f"patients.csv, row 3, column diagnosis: {expected}",
                     f"adverse_events.csv, row 2, column treatment: {expected}"]
    assert text not in message


ORDINARY_TEXT = ["CRPS type I", "L5-S1", "failed back surgery syndrome", "M79.7", "G90.5", "M54.16 / M51.2",
                 "CRPS type 1 since 01/02/2016", "post-herpetic neuralgia (2015-2016)", "ondansetron 4 mg i.v.",
                 "midazolam 1-2 mg", "S/P L4-L5 fusion 2012", "pain @ rest", "ICD-10 G56.4, G57.0",
                 "T12-L1 fracture 14.03.2016", "paracetamol 1 g 4x/d", "complex regional pain syndrome 2",
                 "since 01.02.2016-03.05.2016", "2016-01-02 / 2016-03-04", "dose 0.5 mg/kg over 40 min"]


def test_ordinary_diagnoses_and_treatments_are_not_identifiers(tmp_path):
    tables = good()
    tables["patients"] = [patient(f"p{i}", diagnosis=text) for i, text in enumerate(ORDINARY_TEXT)]
    tables["infusions"] = sum((protocol(f"p{i}") for i in range(len(ORDINARY_TEXT))), [])
    tables["adverse_events"] = [dict(AE, patient_id=f"p{i}", treatment=text) for i, text in enumerate(ORDINARY_TEXT)]
    extract = validate(read_extract(write(tmp_path / "x", tables)))
    assert extract.patients["diagnosis"].tolist() == ORDINARY_TEXT


def test_a_free_text_group_by_column_is_checked_as_diagnosis_is(tmp_path):
    tables = good()
    tables["patients"][0]["referrer"], tables["patients"][1]["referrer"] = "GP", "dr X 0475/12.34.56"
    found, _ = problems(tmp_path / "a", tables, load_params(group_by="referrer"))
    assert found == ["patients.csv, row 3, column referrer: free text without a national register number, phone "
                     "number or e-mail address: this cell holds what looks like a phone number (not repeated "
                     "here). Remove it from the extract; the analysis needs none"]
    extract = validate(read_extract(write(tmp_path / "b", tables)))          # a column the analysis does not read
    assert extract.patients["referrer"].tolist() == ["GP", "dr X 0475/12.34.56"]


def test_a_patient_id_that_is_a_national_register_number_is_refused(tmp_path):
    """85071212390: 97 - 850712123 % 97 = 90, its check digits; 02010112322 (born 2002): 97 - 2020101123 % 97
    = 22. 00000000001 and 85071212345 are 11 digits without such check digits: pseudonyms."""
    assert national_number(pd.Series(["85071212390", "850712-123-90", "02010112322", "00000000001",
                                      "85071212345", "SYN-0001", None])).tolist() == \
        [True, True, True, False, False, False, False]
    tables = good()
    for row in tables["patients"] + tables["infusions"] + tables["adverse_events"]:
        row["patient_id"] = row["patient_id"].replace("p2", "85071212390")
    found, message = problems(tmp_path, tables)
    assert found == ["patients.csv, row 3, column patient_id: a pseudonym, not a national register number (these 11 "
                     "digits end in its check digits; not repeated here): replace it, in the three files, by a code "
                     "that does not point at the patient"]
    assert "85071212390" not in message


def test_nul_bytes_in_text_are_refused_with_row_and_column(tmp_path):
    tables = spoil("patients", 1, diagnosis="CRPS\0type I")
    tables["adverse_events"][0]["treatment"] = "ondan\0setron"
    tables["patients"][0]["site"] = "\0"
    found, _ = problems(tmp_path, tables)
    expected = "text without NUL bytes (a NUL byte is no text: remove it, or export the file again as 'CSV UTF-8')"
    assert found == [f"patients.csv, row 2, column site: value '\\x00': {expected}",
                     f"patients.csv, row 3, column diagnosis: value 'CRPS\\x00type I': {expected}",
                     f"adverse_events.csv, row 2, column treatment: value 'ondan\\x00setron': {expected}"]


def test_text_the_reports_show_must_print_every_character(tmp_path):
    """Audit 2026-12-03: an escape code (which recolours a terminal that shows a CSV output), a tab, a line break and
    a right-to-left override (which shows the text after it reversed) passed validation, reached the outputs, and
    pooling then refused the site's own results.json. In the text the analysis reads they are refused, the value
    quoted with them escaped; a no-break space prints, and a column the analysis does not read is not checked."""
    tables = spoil("patients", 1, diagnosis="CRPS\u202eI epyt")
    tables["patients"][0]["diagnosis"] = "CRPS\u00a0type I"                    # a no-break space: fine
    tables["adverse_events"][0]["treatment"] = "ondansetron\n4 mg"
    tables["patients"][0]["site"], tables["patients"][1]["site"] = "\x1b[31mA", "B\u200b"
    found, _ = problems(tmp_path / "a", tables, load_params(group_by="site"))
    expected = ("text whose every character prints: no tab, line break or other control character, and no invisible "
                "formatting character such as a right-to-left override or a zero-width space (the reports show this "
                "text as written): replace each by a space, or remove it")
    assert found == [f"patients.csv, row 3, column diagnosis: value 'CRPS\\u202eI epyt': {expected}",
                     f"patients.csv, row 2, column site: value '\\x1b[31mA': {expected}",
                     f"patients.csv, row 3, column site: value 'B\\u200b': {expected}",
                     f"adverse_events.csv, row 2, column treatment: value 'ondansetron\\n4 mg': {expected}"]
    found, _ = problems(tmp_path / "b", tables)                              # site is not read: not checked
    assert [line.split(":")[0] for line in found] == ["patients.csv, row 3, column diagnosis",
                                                      "adverse_events.csv, row 2, column treatment"]


def test_spaces_around_free_text_are_ignored_and_an_identifier_is_never_quoted_by_another_rule(tmp_path):
    """Review 2026-12-03: the rule for characters that print read the cell untrimmed, so a line break after a
    diagnosis was refused (the contract: surrounding white space is ignored); and a cell with a control character
    and a phone number was quoted whole by that rule. The identifier's rule alone reports it, without the value."""
    tables = spoil("patients", 1, diagnosis="fibromyalgia\n")
    tables["patients"][0]["diagnosis"] = "\tCRPS type I "
    extract = validate(read_extract(write(tmp_path / "a", tables)))
    assert extract.patients["diagnosis"].tolist() == ["CRPS type I", "fibromyalgia"]
    tables["adverse_events"][0]["treatment"] = "call 0475 12 34 56\u200b"
    found, message = problems(tmp_path / "b", tables)
    assert found == ["adverse_events.csv, row 2, column treatment: free text without a national register number, "
                     "phone number or e-mail address: this cell holds what looks like a phone number (not repeated "
                     "here). Remove it from the extract; the analysis needs none"]
    assert "0475" not in message
    tables["adverse_events"][0]["treatment"] = "ondansetron\ufe0f"          # Python's repr would show it as is
    assert problems(tmp_path / "c", tables)[0][0].startswith(
        "adverse_events.csv, row 2, column treatment: value 'ondansetron<U+FE0F>': text whose every character prints")


def test_the_code_points_arrow_finds_unprinted_are_those_python_finds():
    """Review 2026-12-03: the rule has two evaluators, RE2's character class over a column (validation) and
    contract.prints on a name (parameters, pooling); their Unicode tables differ in version, and they disagreed on
    7 code points. Every code point but the surrogates, through both."""
    import pyarrow as arrow
    import pyarrow.compute as arrow_compute

    from ketanb.input.contract import UNPRINTED_PATTERN, prints

    points = [p for p in range(0x110000) if not 0xD800 <= p <= 0xDFFF]
    found = arrow_compute.match_substring_regex(arrow.array([chr(p) for p in points]), UNPRINTED_PATTERN)
    differ = [f"U+{p:04X}" for p, refused in zip(points, found.to_pylist()) if refused == prints(chr(p))]
    assert differ == []
    assert not prints("fibromyalgia\U000e0002") and prints("N\u00e9vralgie \u4e2d\u6587 \u0639 \U0001f600")


def test_a_group_by_value_names_a_group_of_at_most_100_characters(tmp_path):
    """Pooling takes group names of up to 100 characters (ketanb.sites); a longer value of the column group_by names
    is refused when the extract is read, not when a partner pools the results."""
    tables = good()
    tables["patients"][0]["referrer"], tables["patients"][1]["referrer"] = "x" * 100, " " + "y" * 101 + " "
    found, _ = problems(tmp_path / "a", tables, load_params(group_by="referrer"))
    assert found == ["patients.csv, row 3, column referrer: value ' " + "y" * 101 + " ': a value of "
                     "at most 100 characters (group_by names this column: each value is the name of a group in the "
                     "tables, the figures and a pooling of clinics)"]
    assert validate(read_extract(write(tmp_path / "b", tables))).patients["referrer"].str.len().tolist() == [100, 101]
    tables["patients"][1]["referrer"] = "tel 0475 12 34 56 " + "y" * 100     # review: the identifier rule alone
    found, message = problems(tmp_path / "c", tables, load_params(group_by="referrer"))
    assert [line.split(": ")[1] for line in found] == ["free text without a national register number, phone number "
                                                      "or e-mail address"] and "0475" not in message


def test_a_nul_byte_in_a_column_name_is_refused(tmp_path):
    tables = good()
    for row in tables["patients"]:
        row["no\0tes"] = "x"
    found, _ = problems(tmp_path, tables)
    assert found == ["patients.csv, row 1, column no\\0tes: a column name without NUL bytes (a NUL byte is no text: "
                     "export the file again as 'CSV UTF-8')"]


def test_a_nul_byte_at_the_start_of_a_file_is_not_taken_for_utf16(tmp_path):
    found, _ = problems(tmp_path, spoil("patients", 0, diagnosis="\0"))
    assert found == ["patients.csv, row 2, column diagnosis: value '\\x00': text without NUL bytes (a NUL byte is "
                     "no text: remove it, or export the file again as 'CSV UTF-8')"]


def test_a_cell_of_50_mb_is_refused_by_its_row(tmp_path):
    """pyarrow stops at the cell and Python's csv module raised 'field larger than field limit (131072)'."""
    folder = write(tmp_path / "x", spoil("patients", 1, diagnosis="x" * (50 << 20)))
    found, message = problems_in(folder)
    assert found == ["patients.csv, row 3: cells of at most 100,000 characters; this row holds a longer one (a "
                     "quote that is never closed makes the rest of the file one cell: close it)"]
    assert len(message) < 1000


def test_a_cell_longer_than_the_limit_that_pyarrow_reads_is_refused_too(tmp_path):
    found, _ = problems(tmp_path, spoil("adverse_events", 0, treatment="y" * 200_000))
    assert found == ["adverse_events.csv, row 2, column treatment: value '" + "y" * 200 + "'... (200,000 "
                     "characters): a cell of at most 100,000 characters (a quote that is never closed makes the rest "
                     "of the file one cell: close it)"]


@pytest.mark.parametrize("header, expected", [
    (lambda line: line + ",bla" + "y" * (50 << 20),
     "column names of at most 1,000 characters (this header row has a longer one; a quote that is never closed "
     "makes the rest of the line one name)"),
    (lambda line: line + "".join(f",c{i}" for i in range(200_000)), "at most 1,000 columns (this header row has "
                                                                      "200,007)"),
], ids=["50 MB header", "200,000 columns"])
def test_a_header_too_long_or_too_wide_is_refused_clearly(tmp_path, header, expected):
    folder = write(tmp_path / "x", good())
    path = folder / "patients.csv"
    lines = path.read_text(encoding="utf-8").splitlines()
    path.write_text("\n".join([header(lines[0])] + lines[1:]) + "\n", encoding="utf-8")
    found, _ = problems_in(folder)
    assert found == [f"patients.csv, row 1: {expected}: keep the columns of the contract and the few more the "
                     "analysis needs, each named in a few words"]


def test_min_group_size_1_needs_synthetic_data_or_the_switch(tmp_path):
    folder = write(tmp_path / "x", good())
    with pytest.raises(ParameterError) as info:
        validate(read_extract(folder), load_params(min_group_size=1))
    assert "i_know_this_is_not_patient_data: true" in str(info.value)
    assert "is not the synthetic one" in str(info.value)
    switched = load_params(min_group_size=1, i_know_this_is_not_patient_data=True)
    assert len(validate(read_extract(folder), switched).patients) == 2
    assert "i_know_this_is_not_patient_data" not in switched.to_dict()
    (folder / "synthetic.json").write_text("{}")
    assert validate(read_extract(folder), load_params(min_group_size=1)).synthetic
    assert len(validate(read_extract(folder), load_params(min_group_size=2)).patients) == 2


def test_a_formula_without_a_saved_value_is_refused_naming_its_cell(tmp_path):
    """openpyxl writes formulas without their result: read as an empty cell, follow-up 3 - 1.5 went missing."""
    folder = write(tmp_path / "x", good())
    tables = {name: read_extract(folder).tables[name].frame for name in ("patients", "infusions", "adverse_events")}
    book = write_workbook(tables, tmp_path / "x.xlsx", synthetic=False, typed=False)
    workbook = openpyxl.load_workbook(book)
    assert workbook["patients"]["F1"].value == "followup_nrs"
    workbook["patients"]["F3"] = "=3-1.5"
    workbook.save(book)
    found, _ = problems_in(book)
    assert found == ["x.xlsx, sheet patients, row 3, column followup_nrs: value '=3-1.5': a value, not a formula "
                     "without a saved result (cell F3), which would be read as an empty cell: open the workbook in "
                     "Excel or LibreOffice and save it, so that every formula's result is stored, or paste the "
                     "values over the formulas"]


# --- extracts as clinic PCs write them (issue: safe on a clinic's real extract) --------------------

def test_utf16_unicode_text_and_tab_separated_files_are_read(tmp_path):
    """Excel's "Unicode Text" is UTF-16 with a byte-order mark and tabs: read like the comma CSV."""
    plain = write(tmp_path / "plain", good())
    unicode_text = tmp_path / "unicode"
    unicode_text.mkdir()
    for name in ("patients", "infusions", "adverse_events"):
        text = (plain / f"{name}.csv").read_text(encoding="utf-8").replace(",", "\t")
        (unicode_text / f"{name}.csv").write_bytes(text.encode("utf-16"))     # BOM + UTF-16 LE
    a, b = validate(read_extract(plain)), validate(read_extract(unicode_text))
    assert read_extract(unicode_text).tables["patients"].separator == "tab"
    for name in ("patients", "infusions", "adverse_events"):
        pd.testing.assert_frame_equal(getattr(a, name), getattr(b, name))


def test_utf16_without_bom_is_refused_naming_the_encoding(tmp_path):
    folder = write(tmp_path / "x", good())
    path = folder / "patients.csv"
    path.write_bytes(path.read_text(encoding="utf-8").encode("utf-16-le"))
    with pytest.raises(InputError) as info:
        read_extract(folder)
    assert "UTF-16 without a byte-order mark" in str(info.value)


def test_malformed_utf16_file_is_reported_as_malformed_not_as_an_encoding(tmp_path):
    """A UTF-16 file is re-encoded before reading: its other problems are named, not 'not UTF-8'."""
    folder = write(tmp_path / "x", good(), sep="\t")
    path = folder / "infusions.csv"
    path.write_bytes((path.read_text(encoding="utf-8") + "p1\t2016-05-01\t150\tracemic\textra\n").encode("utf-16"))
    assert problems_in(folder)[0] == ["infusions.csv, row 8: 4 cells, as the header row has, not 5: a tab inside "
                                      "a value needs quotes around the value, and a quote its closing quote"]


def test_file_with_a_utf8_byte_order_mark_and_a_latin1_byte_names_its_line(tmp_path):
    folder = write(tmp_path / "x", dict(good(), adverse_events=[dict(AE), dict(AE, treatment="métoclopramide")]))
    path = folder / "adverse_events.csv"
    path.write_bytes(b"\xef\xbb\xbf" + path.read_text(encoding="utf-8").encode("cp1252"))
    assert "adverse_events.csv, row 3: value 'e9': the file is not UTF-8" in problems_in(folder)[1]


def test_ids_match_ignoring_ascii_case_only(tmp_path):
    """The Kelvin sign K (U+212A) is lower-cased to 'k' by Python, but it is not the letter K: no match."""
    tables = good()
    tables["patients"][0]["patient_id"] = "pk"
    for row in tables["infusions"][:3]:
        row["patient_id"] = "P\u212a"
    tables["adverse_events"] = []
    found, _ = problems(tmp_path, tables)
    assert found[0] == "infusions.csv, row 2, column patient_id: value 'P\u212a': a patient_id of patients.csv"
    assert found[-1] == ("patients.csv, row 2, column patient_id: value 'pk': a patient with at least one "
                         "infusion in infusions.csv")


def test_adverse_events_header_without_a_line_end_is_an_empty_table(tmp_path):
    folder = write(tmp_path / "x", good())
    (folder / "adverse_events.csv").write_text(",".join(AE))          # the header only, no line end
    extract = validate(read_extract(folder))
    assert extract.adverse_events.empty and list(extract.adverse_events.columns)[:4] == list(AE)[:4]


def test_empty_columns_and_rows_a_spreadsheet_leaves_are_ignored(tmp_path):
    """Excel's ';;' at the end of each line and empty lines at the end of the file: read as without them."""
    plain = write(tmp_path / "plain", good(), sep=";")
    padded = write(tmp_path / "padded", good(), sep=";")
    for name in ("patients", "infusions", "adverse_events"):
        path = padded / f"{name}.csv"
        lines = path.read_text(encoding="utf-8").splitlines()
        empty_row = ";" * (lines[0].count(";") + 2)                      # every cell of the row empty
        path.write_text("".join(line + ";;\n" for line in lines) + empty_row + "\n\n", encoding="utf-8")
    a, b = validate(read_extract(plain)), validate(read_extract(padded))
    for name in ("patients", "infusions", "adverse_events"):
        pd.testing.assert_frame_equal(getattr(a, name), getattr(b, name))


def test_a_column_without_a_name_that_holds_values_is_refused(tmp_path):
    """Columns 8 and 9 have neither name nor value (ignored); column 10 holds values: refused by its number."""
    folder = write(tmp_path / "x", good())
    path = folder / "patients.csv"
    lines = path.read_text(encoding="utf-8").splitlines()
    path.write_text("\n".join([lines[0] + ",,,"] + [line + ",,,Jan" for line in lines[1:]]) + "\n", encoding="utf-8")
    expected = ["patients.csv, row 1: a name in the header row for column 10, which holds values (name it, or "
                "delete it if the analysis does not need it)"]
    found, _ = problems_in(folder)
    assert found == expected
    # in a workbook too, also to the right of the last named column (it used to be cut off unseen)
    tables = {name: read_extract(folder).tables[name].frame for name in ("patients", "infusions")}
    tables["adverse_events"] = pd.DataFrame([AE])
    tables["patients"].columns = [*tables["patients"].columns[:-1], "note"]
    book = write_workbook(tables, tmp_path / "x.xlsx", synthetic=False, typed=False)
    workbook = openpyxl.load_workbook(book)
    workbook["patients"]["J1"] = None                              # the note column loses its name
    workbook.save(book)
    found, _ = problems_in(book)
    assert found == [expected[0].replace("patients.csv", "x.xlsx, sheet patients")]


def test_lines_ending_in_cr_alone_are_refused_clearly(tmp_path):
    folder = write(tmp_path / "x", good())
    path = folder / "patients.csv"
    path.write_bytes(path.read_bytes().replace(b"\r\n", b"\n").replace(b"\n", b"\r"))
    assert problems_in(folder)[0] == [
        "patients.csv, row 1: lines that end as on Windows or Linux; this file ends them as old Macs did: save "
        "it again as 'CSV UTF-8 (comma delimited)'"]


def test_many_empty_rows_at_the_end_are_dropped(tmp_path):
    folder = write(tmp_path / "x", good())
    path = folder / "infusions.csv"
    path.write_text(path.read_text(encoding="utf-8") + ",,,\n" * 20_000, encoding="utf-8")
    assert len(read_extract(folder).tables["infusions"].frame) == 6


def test_an_empty_line_keeps_the_row_numbers_of_the_rows_below(tmp_path):
    """pyarrow would skip the empty line and report the bad age one row too high (row 3, not 4)."""
    folder = write(tmp_path / "x", spoil("patients", 1, age="250"))
    path = folder / "patients.csv"
    lines = path.read_text(encoding="utf-8").splitlines()
    path.write_text("\n".join(lines[:2] + [""] + lines[2:]) + "\n", encoding="utf-8")
    found, _ = problems_in(folder)
    assert "patients.csv, row 4, column age: value '250': a whole number from 18 to 110" in found
    assert "patients.csv, row 3, column patient_id: value '': a value is required: 1-32 characters of letters, " \
           "digits, '-' or '_'" in found


def test_a_row_with_too_many_cells_is_named(tmp_path):
    """A decimal comma in a comma-separated file splits the value: the row is named, not only the file."""
    folder = write(tmp_path / "x", good())
    path = folder / "patients.csv"
    lines = path.read_text(encoding="utf-8").splitlines()
    lines[2] = lines[2].replace(",8,", ",7,5,", 1)                  # baseline 7,5 in a comma file
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    assert problems_in(folder)[0] == [
        "patients.csv, row 3: 7 cells, as the header row has, not 8: a comma inside a value needs quotes "
        "around the value, and a quote its closing quote"]


def test_ids_equal_but_for_case_are_one_patient(tmp_path):
    tables = good()
    tables["patients"].append(patient("P1"))
    tables["infusions"] += protocol("P1", start="2018-01-02")
    found, _ = problems(tmp_path, tables)
    assert found == ["patients.csv, row 4, column patient_id: value 'P1': a patient_id not used by an earlier "
                     "row: row 2 has 'p1', the same id but for upper and lower case (each patient once)"]


def test_ids_match_across_tables_ignoring_case(tmp_path):
    tables = good()
    for row in tables["infusions"] + tables["adverse_events"]:
        row["patient_id"] = row["patient_id"].upper()
    extract = validate(read_extract(write(tmp_path / "x", tables)))
    assert extract.infusions["patient"].tolist() == [0, 0, 0, 1, 1, 1]


def test_the_rules_across_tables_leave_the_tables_they_compare_as_they_are(tmp_path):
    # issue 25: each row's patient is a column validate builds into the typed tables, not one a check adds
    raw = read_extract(write(tmp_path / "x", good()))
    extract = validate(raw)
    assert list(extract.infusions.columns) == ["patient_id", "date", "dose_mg", "formulation", "patient"]
    assert extract.infusions["patient"].dtype == "int64" and extract.adverse_events["patient"].tolist() == [0]
    tables = [extract.patients, extract.infusions.drop(columns="patient"), extract.adverse_events.drop(columns="patient")]
    before = [table.copy() for table in tables]
    matched = _check_relations(raw, *tables, _Report())
    for table, copy in zip(tables, before):
        pd.testing.assert_frame_equal(table, copy)
    assert matched["infusion_patient"].tolist() == [0, 0, 0, 1, 1, 1] and matched["event_patient"].tolist() == [0]


def test_trimming_returns_the_column_itself_when_nothing_changes():
    # issue 26: no second copy of a column that has no spaces around its cells and no empty cell
    text = pd.Series(["SYN-1", "racemic"], dtype="str")
    assert trimmed(text) is text
    spaced = pd.Series([" SYN-1\t", "", "racemic"], dtype="str")
    assert trimmed(spaced).tolist()[::2] == ["SYN-1", "racemic"] and trimmed(spaced).isna().tolist() == [False, True, False]
    assert spaced.tolist() == [" SYN-1\t", "", "racemic"]             # the input is left as it is


@pytest.mark.parametrize("date, expected", [
    ("2013-02-30", "a date YYYY-MM-DD (there is no such date)"),
    ("2016-13-01", "a date YYYY-MM-DD (there is no such date)"),
    ("2016/03/01", "a date YYYY-MM-DD"),
    ("1-3-16", "a date YYYY-MM-DD"),
])
def test_dates_that_do_not_exist_say_so(tmp_path, date, expected):
    found, _ = problems(tmp_path, spoil("infusions", 1, date=date))
    assert found == [f"infusions.csv, row 3, column date: value '{date}': {expected}"]


# --- issue 23: dates as Excel writes them in Belgium (date_format: dmy) ------------------------------

DMY = load_params(date_format="dmy")
HINT = ("a date YYYY-MM-DD: this looks like day/month/year, as Excel writes dates in Belgium: write dates as "
        "YYYY-MM-DD, or set 'date_format: dmy' in the parameter file")


def day_first(tables):
    """The tables with every date written d/mm/yyyy, as Excel in Belgium writes them (2016-03-01: 1/03/2016)."""
    return {name: [dict(row, date=f"{int(row['date'][8:])}/{row['date'][5:7]}/{row['date'][:4]}") if "date" in row
                   else row for row in rows] for name, rows in tables.items()}


def test_a_belgian_csv_with_date_format_dmy_reads_the_same_dates(tmp_path):
    tables = day_first(good())
    assert tables["infusions"][3]["date"] == "2/05/2017" and tables["adverse_events"][0]["date"] == "1/03/2016"
    iso = validate(read_extract(write(tmp_path / "iso", good())))
    belgian = validate(read_extract(write(tmp_path / "dmy", tables, sep=";")), DMY)
    for name in ("patients", "infusions", "adverse_events"):
        pd.testing.assert_frame_equal(getattr(belgian, name), getattr(iso, name))
    assert belgian.infusions["date"].iloc[3] == pd.Timestamp("2017-05-02")


@pytest.mark.parametrize("date", ["1/03/2016", "01/03/2016", "1/3/2016", "1-3-2016", "01-03-2016", "01.03.2016",
                                  "1.3.2016", " 1/03/2016 ", "2016-03-01"])
def test_every_day_month_year_form_is_read_with_date_format_dmy(tmp_path, date):
    # the first infusion of p1 is 2016-03-01, the day of its adverse event: matched, so read as 1 March
    extract = validate(read_extract(write(tmp_path / "x", spoil("infusions", 0, date=date))), DMY)
    assert extract.infusions["date"].iloc[0] == pd.Timestamp("2016-03-01")


def test_day_month_year_without_the_parameter_is_refused_with_a_hint(tmp_path):
    found, message = problems(tmp_path, day_first(good()))
    assert found[0] == f"infusions.csv, row 2, column date: value '1/03/2016': {HINT}"
    assert found[-1] == f"adverse_events.csv, row 2, column date: value '1/03/2016': {HINT}"
    assert len(found) == 7 and all(line.endswith(HINT) for line in found)   # 6 infusions, 1 event; nothing else


@pytest.mark.parametrize("date, expected", [
    ("31/02/2016", "(there is no such date; the day comes first)"),
    ("02/13/2016", "(there is no such date; the day comes first)"),       # month/day/year is never guessed
    ("0/03/2016", "(there is no such date; the day comes first)"),
    ("2016-02-30", "(there is no such date; the day comes first)"),
    ("1/03/16", ""),                                                      # a year of two digits: which century?
    ("1/03-2016", ""),
    ("2016/03/01", ""),
])
def test_impossible_and_other_dates_are_refused_with_date_format_dmy(tmp_path, date, expected):
    found, _ = problems(tmp_path, spoil("infusions", 1, date=date), DMY)
    assert found == [f"infusions.csv, row 3, column date: value '{date}': a date day/month/year (4/01/2016, "
                     f"04-01-2016 or 04.01.2016) or YYYY-MM-DD{' ' if expected else ''}{expected}"]


def test_the_text_of_parsed_numbers_is_let_go_before_the_rules_across_tables(tmp_path, monkeypatch):
    # issue 26: the rules across tables quote patient_id and date only, so the text of the numbers, parsed by then,
    # is not kept through them (75 MiB at a million patients), where a run's memory peaks. Here an extra column,
    # written with a decimal comma (a semicolon file), is cut into bands: it stays, as text, and is read as numbers.
    import weakref

    import ketanb.input.validate as validation

    tables = good()
    for row in tables["patients"]:
        row["bmi"] = "24,5"
    folder = write(tmp_path / "x", tables, sep=";")
    seen = {}

    def check_relations(raw, *args, **kwargs):                          # what the rules across tables get
        seen["columns"] = {name: list(table.frame.columns) for name, table in raw.tables.items()}
        seen["text read still held"] = read() is not None
        return checked(raw, *args, **kwargs)

    checked = validation._check_relations
    monkeypatch.setattr(validation, "_check_relations", check_relations)
    given = [read_extract(folder)]
    read = weakref.ref(given[0].tables["patients"])
    extract = validate(given.pop(), load_params(group_by="bmi", group_edges=[25]))   # as cleaning.load does
    assert seen == {"columns": {"patients": ["patient_id", "sex", "pain_mechanism", "discontinuation", "bmi"],
                                "infusions": ["patient_id", "date", "formulation"],
                                "adverse_events": ["patient_id", "date", "event", "severity", "treatment", "serious"]},
                    "text read still held": False}
    assert extract.patients["bmi"].tolist() == [24.5, 24.5] and extract.infusions["dose_mg"].tolist()[:2] == [75, 150]


def test_validate_leaves_the_text_read_as_it_is(tmp_path):
    raw = read_extract(write(tmp_path / "x", good()))
    columns = {name: list(table.frame.columns) for name, table in raw.tables.items()}
    validate(raw)
    assert {name: list(table.frame.columns) for name, table in raw.tables.items()} == columns
    assert list(_without_parsed_numbers(raw).tables["infusions"].frame.columns) == ["patient_id", "date", "formulation"]
    assert list(raw.tables["infusions"].frame.columns) == ["patient_id", "date", "dose_mg", "formulation"]
