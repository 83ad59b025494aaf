"""Write the example extract and the Excel template described in docs/data-contract.md.

    .venv/bin/python docs/make_examples.py

writes, next to this script,

- ``example-extract/``: ``patients.csv``, ``infusions.csv``,
  ``adverse_events.csv`` and ``README.md``, a tiny invented extract of six
  patients that follows every rule of the data contract;
- ``extract-template.xlsx``: a workbook with the sheets ``patients``,
  ``infusions`` and ``adverse_events`` (header row, one grey example row,
  drop-down lists for the codes) and a ``README`` sheet listing what each
  column allows.

The sheets' columns, which of them are required and their codes come from
the contract module, ``ketanb.input.contract`` (run it with the project's
environment: ``.venv/bin/python docs/make_examples.py``); the words and widths
of each column are here. Running it again gives the same bytes: the CSV
files are plain text, and the workbook gets fixed document dates and fixed
time stamps inside its zip container.
"""
from __future__ import annotations

import datetime as dt
import io
import zipfile
from pathlib import Path

import openpyxl
import pandas as pd
from openpyxl.packaging.core import DocumentProperties
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.xml.functions import tostring

from ketanb.input.contract import EVENTS, TABLES

HERE = Path(__file__).resolve().parent
EXTRACT = HERE / "example-extract"
TEMPLATE = HERE / "extract-template.xlsx"

#: Fixed date written into the workbook (document properties and zip entries).
FIXED = dt.datetime(2024, 5, 1, 0, 0, 0)

# --------------------------------------------------------------------------------------
# The columns of the contract (names, order, required, codes: ketanb.input.contract);
# here what each allows and means, in words, and its width in the template.
# --------------------------------------------------------------------------------------
WORDS = {
    "patients": {
        "patient_id": ("1-32 letters, digits, '-' or '_'; a pseudonym (e.g. EX-001), never a name", 14),
        "sex": ("F or M", 8),
        "age": ("whole number 18-110: age in years at the first infusion", 8),
        "pain_mechanism": ("neuropathic, nociceptive or nociplastic; empty = unclassified", 18),
        "diagnosis": ("free text, e.g. CRPS type I, fibromyalgia", 32),
        "pain_duration_months": ("number >= 0: months of pain before the first infusion", 22),
        "baseline_nrs": ("number 0-10: pain (NRS) before the test dose; decimals allowed (7.5)", 14),
        "followup_nrs": ("number 0-10: pain (NRS) at the evaluation after the series; empty = not measured", 14),
        "discontinuation": ("empty = not stopped; lack_of_effect, side_effects or other", 18),
    },
    "infusions": {
        "patient_id": ("a patient_id of the patients sheet", 14),
        "date": ("date of the session, YYYY-MM-DD; one row per patient and date", 12),
        "dose_mg": ("number > 0: ketamine given in that session, in mg", 10),
        "formulation": ("racemic or esketamine", 14),
    },
    "adverse_events": {
        "patient_id": ("a patient_id of the patients sheet", 14),
        "date": ("YYYY-MM-DD; must be the date of one of that patient's infusions", 12),
        "event": (", ".join(EVENTS), 16),
        "severity": ("mild, moderate or severe", 10),
        "treatment": ("free text: what was given for it, e.g. ondansetron; empty = nothing", 16),
        "serious": ("yes or no (empty = no): a major complication (life-threatening, admission, lasting harm)", 9),
    },
}


def _required(spec) -> str:
    """Whether the contract requires the column and its cells, in the template's words."""
    if spec.kind == "id":
        return "yes, unique"
    if spec.value_required:
        return "yes"
    return "column yes, cell may be empty" if spec.column_required else "no"


#: Per sheet: (name, required, allowed values / meaning, codes for drop-down lists, width).
COLUMNS = {table: [(spec.name, _required(spec), WORDS[table][spec.name][0], list(spec.codes) or None,
                    WORDS[table][spec.name][1]) for spec in specs] for table, specs in TABLES.items()}

# --------------------------------------------------------------------------------------
# The example extract: invented patients, one teaching case each.
# --------------------------------------------------------------------------------------
PATIENTS = [
    # patient_id, sex, age, pain_mechanism, diagnosis, pain_duration_months, baseline, followup, discontinuation
    ("EX-001", "F", 54, "neuropathic", "CRPS type I", 30, "8", "3", ""),
    ("EX-002", "M", 61, "nociceptive", "failed back surgery syndrome", 48, "7.5", "6", "lack_of_effect"),
    ("EX-003", "F", 45, "nociplastic", "fibromyalgia", 96, "6", "", ""),
    ("EX-004", "M", 38, "neuropathic", "postherpetic neuralgia", 14, "7", "4", ""),
    ("EX-005", "F", 67, "neuropathic", "painful diabetic polyneuropathy", 60, "8", "2", ""),
    ("EX-006", "M", 50, "", "chronic postsurgical pain", "", "9", "4.5", "side_effects"),
]

INFUSIONS = [
    # patient_id, date, dose_mg, formulation
    ("EX-001", "2016-03-01", 75, "racemic"),
    ("EX-001", "2016-03-15", 150, "racemic"),
    ("EX-001", "2016-04-12", 150, "racemic"),
    ("EX-002", "2017-05-02", 75, "racemic"),
    ("EX-002", "2017-05-16", 150, "racemic"),
    ("EX-003", "2018-01-09", 75, "racemic"),
    ("EX-003", "2018-01-23", 150, "racemic"),
    ("EX-003", "2018-02-20", 150, "racemic"),
    ("EX-004", "2016-09-06", 100, "racemic"),
    ("EX-004", "2016-09-20", 150, "racemic"),
    ("EX-005", "2019-02-05", 75, "racemic"),
    ("EX-005", "2019-02-19", 50, "esketamine"),
    ("EX-006", "2015-06-02", 75, "racemic"),
    ("EX-006", "2015-06-16", 150, "racemic"),
]

ADVERSE_EVENTS = [
    # patient_id, date, event, severity, treatment, serious
    ("EX-001", "2016-03-01", "nausea", "mild", "ondansetron", "no"),
    ("EX-002", "2017-05-16", "dizziness", "mild", "", "no"),
    ("EX-003", "2018-01-23", "hallucinations", "moderate", "midazolam", "no"),
    ("EX-006", "2015-06-16", "nausea", "mild", "ondansetron", "no"),
    ("EX-006", "2015-06-16", "vomiting", "moderate", "ondansetron", "no"),
]

README = """\
# Example extract (invented data)

**Every row here is invented.** These six patients do not exist; the
identifiers `EX-001` ... `EX-006` are made up and the files are not a sample
of the study's data. They exist to show, on a scale you can check by hand,
what an extract looks like and how the rules of
[the data contract](../data-contract.md) treat each case.

The files are written by `docs/make_examples.py` (run
`python docs/make_examples.py` from the project root to write them again,
byte for byte). The same columns, as an Excel workbook to fill in, are in
[`../extract-template.xlsx`](../extract-template.xlsx).

Plain UTF-8, comma-separated, a header row, one line per row.

## What each patient shows

| patient | what to look at | cohort | outcome (default parameters) |
|---|---|---|---|
| EX-001 | test dose 75 mg, then two 150 mg infusions, NRS 8 -> 3 (62.5 % less pain) | included | favorable |
| EX-002 | decimal NRS 7.5 -> 6 (20 % less), stopped for lack of effect | included | unfavorable |
| EX-003 | no follow-up NRS (empty cell) | included | unfavorable under `nonresponder`; left out under `exclude`; favorable in the best case |
| EX-004 | first infusion 100 mg instead of the 75 mg test dose | excluded: `no_test_dose` | - |
| EX-005 | second infusion is esketamine | excluded: `not_racemic` | - |
| EX-006 | empty pain_mechanism and empty pain_duration_months; NRS 9 -> 4.5 is exactly 50 %; stopped for side effects | included | favorable (exactly the threshold counts; stopping for side effects does not by itself make it unfavorable) |

Adverse events (five rows, each on the date of one of that patient's
infusions): nausea (EX-001, EX-006), dizziness (EX-002), hallucinations
(EX-003), vomiting (EX-006); none serious.

## What the analysis should find with the default parameters

- Cohort: 6 treated, 4 included; excluded: `not_racemic` 1, `no_test_dose` 1,
  the four other reasons 0.
- Outcome: 2 favorable of 4 (EX-001, EX-006). With `missing_followup:
  exclude` 2 of 3; in the best case (`favorable`) 3 of 4; when stopping for
  side effects also counts as unfavorable, 1 of 4. Applied to all 6 treated
  patients with their own NRS values: 3 of 6 (EX-005 also improved by 75 %),
  but with `min_group_size` 5 results.json gives only `n` 6 there: 3 of 6
  beside 2 of 4 would show that one of the 2 excluded patients improved
  (contract section 5, "No subtraction either"). With `min_group_size: 1`
  (and `i_know_this_is_not_patient_data: true`) the 3 is shown.
- Subgroups: with `min_group_size` 5 no mechanism has enough patients and
  the three of them together (3 patients) are still fewer than 5, so all are
  counted as `unclassified`: 4 unclassified (with EX-006), no group, no test,
  `pooled_values` 3. Run with a `PARAMS` file holding `min_group_size: 1` and
  `i_know_this_is_not_patient_data: true` (these patients are invented) to
  see the groups of one patient that this rule hides on real data.
- Side effects: in the treated population 4 of 6 patients had at least one
  adverse event (5 events in all); in the included population all 4 did.
"""

# --------------------------------------------------------------------------------------


def _csv_text(header: list[str], rows: list[tuple]) -> str:
    frame = pd.DataFrame(rows, columns=header, dtype=object)
    return frame.to_csv(index=False, lineterminator="\n")


def write_extract(folder: Path = EXTRACT) -> list[Path]:
    """Write the three CSV files and the README of the example extract."""
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for table, rows in (("patients", PATIENTS), ("infusions", INFUSIONS),
                        ("adverse_events", ADVERSE_EVENTS)):
        header = [c[0] for c in COLUMNS[table]]
        path = folder / f"{table}.csv"
        path.write_bytes(_csv_text(header, rows).encode("utf-8"))
        written.append(path)
    readme = folder / "README.md"
    readme.write_bytes(README.encode("utf-8"))
    written.append(readme)
    return written


# --------------------------------------------------------------------------------------
# The Excel template.
# --------------------------------------------------------------------------------------
HEADER_FONT = Font(bold=True)
HEADER_FILL = PatternFill("solid", fgColor="DDEBF7")
EXAMPLE_FONT = Font(italic=True, color="808080")
LAST_ROW = 5000  # drop-down lists and checks cover rows 2 to LAST_ROW

EXAMPLE_ROW = {
    "patients": PATIENTS[0],
    "infusions": INFUSIONS[0],
    "adverse_events": ADVERSE_EVENTS[0],
}

#: The words of the template's numeric checks (Excel "data validation"); their bounds are the contract's.
NUMERIC_WORDS = {
    "age": "a whole number from 18 to 110",
    "pain_duration_months": "a number >= 0",
    "baseline_nrs": "a number from 0 to 10 (decimals allowed)",
    "followup_nrs": "a number from 0 to 10 (decimals allowed)",
    "dose_mg": "a number > 0 (mg)",
}
#: Numeric checks by column name: (Excel type, operator, low, high, words).
NUMERIC_CHECKS = {spec.name: ("whole" if spec.kind == "integer" else "decimal",
                              "between" if spec.high is not None else "greaterThan" if spec.low_open
                              else "greaterThanOrEqual", spec.low, spec.high, NUMERIC_WORDS[spec.name])
                  for specs in TABLES.values() for spec in specs if spec.kind in ("integer", "number")}


def _cell_value(table: str, column: str, value):
    if value == "":
        return None
    if column == "date":
        return dt.datetime.strptime(value, "%Y-%m-%d")
    if column in ("baseline_nrs", "followup_nrs"):
        return float(value) if "." in value else int(value)
    return value


def _data_sheet(book: openpyxl.Workbook, table: str) -> None:
    sheet = book.create_sheet(table)
    columns = COLUMNS[table]
    for j, (name, required, meaning, codes, width) in enumerate(columns, start=1):
        letter = get_column_letter(j)
        head = sheet.cell(row=1, column=j, value=name)
        head.font, head.fill = HEADER_FONT, HEADER_FILL
        example = sheet.cell(row=2, column=j, value=_cell_value(table, name, EXAMPLE_ROW[table][j - 1]))
        example.font = EXAMPLE_FONT
        if name == "date":
            example.number_format = "yyyy-mm-dd"
        elif name == "patient_id":
            example.number_format = "@"
        sheet.column_dimensions[letter].width = width
        cells = f"{letter}2:{letter}{LAST_ROW}"
        optional = required != "yes" and not required.startswith("yes,")
        if codes:
            check = DataValidation(type="list", formula1='"' + ",".join(codes) + '"',
                                   allow_blank=optional, showErrorMessage=True,
                                   errorTitle=name, error=f"{name}: one of {', '.join(codes)}"
                                   + (" (or empty)" if optional else ""),
                                   promptTitle=name, prompt=meaning[:255], showInputMessage=True)
        elif name in NUMERIC_CHECKS:
            kind, operator, low, high, words = NUMERIC_CHECKS[name]
            check = DataValidation(type=kind, operator=operator, formula1=str(low),
                                   formula2=None if high is None else str(high),
                                   allow_blank=optional, showErrorMessage=True,
                                   errorTitle=name, error=f"{name}: {words}",
                                   promptTitle=name, prompt=meaning[:255], showInputMessage=True)
        elif name == "date":
            check = DataValidation(type="date", operator="between", formula1="DATE(1990,1,1)",
                                   formula2="DATE(2100,12,31)", allow_blank=False, showErrorMessage=True,
                                   errorTitle=name, error="date: a date, shown as YYYY-MM-DD",
                                   promptTitle=name, prompt=meaning[:255], showInputMessage=True)
        else:
            check = DataValidation(allow_blank=True, promptTitle=name, prompt=meaning[:255],
                                   showInputMessage=True)
        check.add(cells)
        sheet.add_data_validation(check)
    sheet.freeze_panes = "A2"


README_SHEET = [
    ("How to use this workbook", None),
    ("1. Fill in one row per patient (patients), per infusion session (infusions) and per side effect "
     "(adverse_events). Keep the sheet names and the header row (row 1) as they are.", None),
    ("2. Delete the grey example row (row 2) of each sheet before you use the workbook: it is data like any other row.", None),
    ("3. Use a pseudonymous patient_id (e.g. KET-0001). Never a name, birth date, national register number, "
     "address or contact details: such columns are refused.", None),
    ("4. Dates as YYYY-MM-DD (real Excel dates or text both work). Codes are not case-sensitive; "
     "surrounding spaces are ignored. An empty cell is a missing value.", None),
    ("5. Extra columns are allowed and ignored. This README sheet is ignored by the analysis.", None),
    ("6. Run: make all DATA=path/to/this-workbook.xlsx  (see docs/data-contract.md for every rule).", None),
    ("", None),
]


def _readme_sheet(book: openpyxl.Workbook) -> None:
    sheet = book.create_sheet("README")
    for text, _ in README_SHEET:
        sheet.append([text])
    sheet["A1"].font = Font(bold=True, size=13)
    start = sheet.max_row + 1
    sheet.append(["sheet", "column", "required", "allowed values and meaning"])
    for cell in sheet[start]:
        cell.font, cell.fill = HEADER_FONT, HEADER_FILL
    for table, columns in COLUMNS.items():
        for name, required, meaning, _codes, _width in columns:
            sheet.append([table, name, required, meaning])
    end = sheet.max_row
    for row in sheet.iter_rows(min_row=start, max_row=end):  # the table wraps; the notes overflow to the right
        for cell in row:
            cell.alignment = Alignment(wrap_text=True, vertical="top")
    sheet.append([])
    sheet.append(["Rules across sheets"])
    sheet.cell(row=sheet.max_row, column=1).font = HEADER_FONT
    for rule in ("- every patient has at least one infusion;",
                 "- in infusions, a patient has at most one row per date;",
                 "- an adverse event's date is the date of one of that patient's infusions;",
                 "- the adverse_events sheet may hold only its header row (nobody had a side effect)."):
        sheet.append([rule])
    for letter, width in zip("ABCD", (16, 22, 28, 90)):
        sheet.column_dimensions[letter].width = width


def _stable_zip(data: bytes, core_xml: bytes) -> bytes:
    """The same workbook with fixed zip time stamps and fixed document properties."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, \
            zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            content = core_xml if info.filename == "docProps/core.xml" else src.read(info.filename)
            entry = zipfile.ZipInfo(info.filename, date_time=FIXED.timetuple()[:6])
            entry.compress_type = zipfile.ZIP_DEFLATED
            entry.external_attr = 0o600 << 16
            dst.writestr(entry, content)
    return out.getvalue()


def write_template(path: Path = TEMPLATE) -> Path:
    """Write the Excel template, the same bytes on every run."""
    book = openpyxl.Workbook()
    book.remove(book.active)
    for table in COLUMNS:
        _data_sheet(book, table)
    _readme_sheet(book)
    book.active = 0
    properties = DocumentProperties(creator="The ketanb authors", lastModifiedBy="The ketanb authors",
                                    title="ketanb extract template", created=FIXED, modified=FIXED)
    book.properties = properties
    buffer = io.BytesIO()
    book.save(buffer)  # openpyxl stamps the current time; _stable_zip puts the fixed one back
    properties.modified = FIXED
    core_xml = tostring(properties.to_tree())
    path.write_bytes(_stable_zip(buffer.getvalue(), core_xml))
    return path


def main() -> None:
    for path in write_extract() + [write_template()]:
        print(f"wrote {path.relative_to(HERE.parent)}")


if __name__ == "__main__":
    main()
