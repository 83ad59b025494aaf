"""Validation: every rule of the data contract, every problem reported at once.

:func:`validate` turns a :class:`~ketanb.input.read.RawExtract` (text cells)
into an :class:`Extract` of typed tables, or raises one
:class:`~ketanb.errors.InputError` listing every problem with file,
spreadsheet row, column, value and what the contract allows.

1. Columns: required ones present, none twice, none that looks like a name,
   birth date, national register number, address or contact details
   (:func:`~ketanb.input.contract.identifier_kind`, in English, Dutch and French).
   A column missing or named twice is reported, and the other columns are checked
   all the same: only the rules that read that column wait for the next run.
2. Cells: the rules of :mod:`ketanb.input.contract`, column by column
   (:func:`cell_rules`; a table's columns on every core at once), on the
   normalised text (trimmed, empty cell = missing, codes folded to the
   contract's case); a failure quotes the value as written. Free text
   (:func:`text_rules`): no NUL byte and no cell longer than MAX_CELL_CHARS in any
   column without a rule of its own; no national register number, phone number or
   e-mail address in the text the analysis reads (diagnosis, treatment, a
   free-text group_by column), which the message does not quote.
3. Across tables (:func:`_across_tables`: the case-folded ids joined by
   :func:`_patient_rows`, which gives each row its patient, and the days compared, by
   DuckDB queries): unique patient_id (ignoring case: ``SYN-0001`` and ``syn-0001``
   are one person), known patients, one infusion per patient and day, every patient
   with an infusion, adverse events on infusion days.
"""
from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace

import duckdb
import numpy as np
import pandas as pd
import pyarrow as arrow
import pyarrow.compute as arrow_compute

from ..errors import InputError, ParameterError, Problem
from .contract import (DATE_FORMAT_HINT, IDENTIFYING_TEXT, MAX_CELL_CHARS, MAX_NAME_LENGTH, TABLES,
                       NORMAL_FORM, UNPRINTED_PATTERN, ColumnSpec, identifier_kind, visible)
from .read import RawExtract, RawTable, give_back_freed_memory

__all__ = ["Extract", "validate", "parse_number", "parse_date", "normalise", "parse", "cell_rules",
           "text_rules", "national_number", "LISTED", "UNIQUE_ID", "NOT_PATIENT_DATA"]

ID_PATTERN = r"[A-Za-z0-9_-]{1,32}"
#: ``[0-9]``, not ``\d``, which would take other scripts' digits, such as ``٢٠١٦``.
DATE_PATTERN = r"[0-9]{4}-[0-9]{2}-[0-9]{2}"
#: A date written day/month/year (``date_format: dmy``): day and month of one or two digits, a year of four, the
#: same separator twice (``4/01/2016``, ``04-01-2016``, ``04.01.2016``). One alternative per separator: RE2,
#: with which Arrow matches, has no back-references.
DMY_PATTERN = "(?:" + "|".join(rf"[0-9]{{1,2}}{sep}[0-9]{{1,2}}{sep}[0-9]{{4}}" for sep in ("/", "-", r"\.")) + ")"
#: ``[0-9]`` rather than ``\d``: Arrow's cast to float reads ASCII digits only, and for ``\d`` pandas
#: first scans the column for non-ASCII text (then matching with Python's re, which takes any script's digits).
NUMBER_PATTERN = r"[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?"
#: Problems quoted with their row, at most (the contract: "the first 200, then how many more"); past
#: them, each rule counts its further rows in one line.
LISTED = InputError.max_listed
#: The parameter that lets min_group_size 1 (pooling off) run on an extract that is not the synthetic one.
NOT_PATIENT_DATA = "i_know_this_is_not_patient_data"
UNIQUE_ID = "a patient_id not used by an earlier row (each patient once)"
#: Any of contract.IDENTIFYING_TEXT, in one pattern: one pass over a column finds whether a cell may hold one.
IDENTIFYING_PATTERN = "|".join(f"(?:{pattern})" for pattern in IDENTIFYING_TEXT.values())
UNPRINTED_EXPECTED = ("text whose every character prints: no tab, line break or other control character, and no "
                      "invisible formatting character such as a right-to-left override or a zero-width space (the "
                      "reports show this text as written): replace each by a space, or remove it")


@dataclass
class Extract:
    """A validated extract: typed tables with normalised codes.

    Attributes
    ----------
    patients : pandas.DataFrame
        One row per patient, in file order: ``patient_id``, ``sex``, ``age``
        (Int64), ``pain_mechanism``, ``diagnosis``, ``discontinuation`` (text,
        missing when empty), ``pain_duration_months``, ``baseline_nrs``,
        ``followup_nrs`` (float, NaN when empty), and every extra column as text.
    infusions : pandas.DataFrame
        ``patient_id``, ``date`` (datetime64), ``dose_mg`` (float),
        ``formulation``, every extra column as text, and ``patient`` (int64):
        the patient's row in ``patients`` (0-based), its patient_id matched
        ignoring case (:func:`_patient_rows`). :func:`validate` builds it with
        the other columns; cohort derivation and the side effects count
        patients by it.
    adverse_events : pandas.DataFrame
        ``patient_id``, ``date``, ``event``, ``severity``, ``treatment`` (text
        or missing), ``serious`` (bool), every extra column as text, and
        ``patient``, as in ``infusions``.
    source : str
        The extract as shown in outputs (see :func:`ketanb.paths.shown_path`).
    synthetic : bool
        The extract was made by :mod:`ketanb.synthetic`.
    """

    patients: pd.DataFrame
    infusions: pd.DataFrame
    adverse_events: pd.DataFrame
    source: str = ""
    synthetic: bool = False


class _Report:
    """The problems found so far: the first LISTED with their rows, then one line per rule counting the rest."""

    def __init__(self):
        self.problems: list[Problem] = []
        self.with_row = 0                                  # problems listed with a row so far

    def add(self, file, expected, *, row=None, column=None, value=None):
        self.problems.append(Problem(file, row, column, value, expected))
        self.with_row += row is not None

    def room(self) -> int:
        """How many more problems can be listed with their rows."""
        return max(LISTED - self.with_row, 0)

    def rows(self, table: RawTable, bad, column: str, expected: str, values=None, quote: bool = True):
        """Report the rows where ``bad`` is True, quoting ``values`` (default: the cells as written;
        ``quote=False``: no value, for a cell that holds what must not be repeated)."""
        rows = np.flatnonzero(np.asarray(bad, dtype=bool))
        shown = table.frame[column] if values is None else values
        listed = rows[: self.room()]
        for i in listed:
            value = visible(str(shown.iloc[i])) if quote else None
            self.add(table.file, expected, row=int(i) + 2, column=column, value=value)
        if len(rows) > len(listed):
            self.add(table.file, f"{len(rows) - len(listed)} more rows have the same problem ({expected})",
                     column=column)


def parse_number(text: pd.Series, decimal_comma: bool = False) -> pd.Series:
    """Text to float64, NaN where missing or not a number; ``7,5`` is 7.5 with a decimal comma."""
    if decimal_comma:
        text = text.str.replace(",", ".", regex=False)
    try:
        # Arrow's cast reads what NUMBER_PATTERN allows, and also nan and inf; 10 x faster than via
        # Python floats, but it stops at the first cell that is not a number
        number = text.astype("float64[pyarrow]").astype("float64")
    except ValueError:                                    # then each cell that is not a number becomes NaN
        number = text.where(text.str.fullmatch(NUMBER_PATTERN).fillna(False).astype(bool)).astype("float64")
    infinite = np.isinf(number)                           # inf, 1e400: not a number here either (nan is NaN)
    return number.mask(infinite) if infinite.any() else number


def _dmy_as_iso(text: pd.Series) -> pd.Series:
    """The column with each date written day/month/year (DMY_PATTERN) rewritten as YYYY-MM-DD
    (``4/01/2016`` as ``2016-01-04``, ``31.02.2016`` as ``2016-02-31``); every other cell as it is."""
    dmy = text.str.fullmatch(DMY_PATTERN).fillna(False).astype(bool)
    if not dmy.any():
        return text
    parts = text[dmy].str.extract(r"([0-9]+)[/.-]([0-9]+)[/.-]([0-9]+)")
    iso = parts[2] + "-" + parts[1].str.zfill(2) + "-" + parts[0].str.zfill(2)
    return text.mask(dmy, iso)


def parse_date(text: pd.Series, date_format: str = "iso") -> pd.Series:
    """Date text to datetime64 (NaT where missing, another form or no such date): ``YYYY-MM-DD``, and with
    ``date_format="dmy"`` day/month/year too (:data:`DMY_PATTERN`). Month/day/year is never read."""
    if date_format == "dmy":
        text = _dmy_as_iso(text)
    try:
        # Arrow's cast reads YYYY-MM-DD only and refuses dates that do not exist, 10 x faster than
        # pandas, but it stops at the first cell that is not such a date
        days = arrow_compute.cast(arrow.array(text), arrow.date32())
    except arrow.ArrowInvalid:
        days = None
    if days is None or days.null_count == len(days):      # pandas marks each bad cell NaT (and types an empty column)
        return pd.to_datetime(text.where(text.str.fullmatch(DATE_PATTERN)), format="%Y-%m-%d", errors="coerce")
    return pd.Series(days.cast(arrow.timestamp("us")).to_numpy(zero_copy_only=False), index=text.index)


def _same_or(text: pd.Series, changed: pd.Series) -> pd.Series:
    """``text`` itself if ``changed`` holds the same cells, else ``changed``: where normalising changes nothing,
    as is usual, the typed tables share the text read instead of holding a second copy of it."""
    return text if changed.equals(text) else changed


def trimmed(text: pd.Series) -> pd.Series:
    """Cells without the spaces around them; an empty cell is missing."""
    text = _same_or(text, text.str.strip())
    empty = text.eq("")
    return text.where(~empty) if empty.any() else text


def composed(text: pd.Series) -> pd.Series:
    """Free text in Unicode's composed form (NFC): ``Névralgie`` typed on two machines, its é as one character or
    as e and an accent (as macOS writes it), is one value, so one group and one row of a table. Text of ASCII
    characters only, as usual, is composed already and is returned as it is."""
    if arrow_compute.all(arrow_compute.string_is_ascii(_arrow_text(text))).as_py() is not False:
        return text
    return _same_or(text, text.str.normalize(NORMAL_FORM))


def normalise(table: RawTable, spec: ColumnSpec) -> pd.Series:
    """A column as checked: trimmed, empty cell = missing, codes in the contract's case, free text composed."""
    text = trimmed(table.frame[spec.name])
    if spec.kind == "code":
        text = _same_or(text, text.str.upper() if spec.codes[0].isupper() else text.str.lower())
    return composed(text) if spec.kind == "text" else text


def parse(spec: ColumnSpec, text: pd.Series, decimal_comma: bool, date_format: str = "iso") -> pd.Series:
    """A normalised column as the typed table holds it: numbers and dates parsed (dates as ``date_format``
    allows, see :func:`parse_date`), other columns as text."""
    if spec.holds_numbers:
        return parse_number(text, decimal_comma)
    if spec.kind == "date":
        return parse_date(text, date_format)
    return text


def cell_rules(spec: ColumnSpec, text: pd.Series, value: pd.Series, decimal_comma: bool,
               date_format: str = "iso") -> list[tuple]:
    """The contract's rules for the cells of one column, as ``(good, expected)`` pairs.

    ``good`` is True for each cell that keeps the rule, ``expected`` what a clinic reads when one does not.
    ``text`` is the normalised column and ``value`` the same column parsed (:func:`parse`), so that numbers
    and dates are parsed once, for the checks and for the typed table. An empty cell keeps every rule
    but the last, "a value is required", which only columns that need a value have. A date is read as
    ``date_format`` says; with ``iso``, a date written day/month/year is refused with a hint naming the parameter.
    """
    expected = spec.expectation(date_format)
    empty = text.isna()
    if spec.kind == "id":
        rules = [(text.str.fullmatch(ID_PATTERN), expected)]
    elif spec.kind == "code":
        rules = [(text.isin(spec.codes), expected)]
    elif spec.kind == "date":
        # parse_date reads the forms of date_format only: once it has read every cell, the pattern has nothing to find
        form = DATE_PATTERN if date_format == "iso" else f"(?:{DATE_PATTERN}|{DMY_PATTERN})"
        well_formed = value.notna() if value.notna().sum() == text.notna().sum() else text.str.fullmatch(form)
        no_such_date = "there is no such date" + ("" if date_format == "iso" else "; the day comes first")
        rules = [(well_formed, expected), (~well_formed | value.notna(), f"{expected} ({no_such_date})")]
        if date_format == "iso" and not well_formed.fillna(True).all():
            day_first = text.str.fullmatch(DMY_PATTERN)     # 4/01/2016: said once, with the hint
            rules = [(well_formed | day_first, expected), (~day_first, f"{expected}: {DATE_FORMAT_HINT}")] + rules[1:]
    elif spec.holds_numbers:
        good = value.notna()                       # parse_number: NaN for text that is not a finite number
        if spec.kind == "integer":
            good &= value.mod(1).eq(0)
        if spec.low is not None:
            good &= value.gt(spec.low) if spec.low_open else value.ge(spec.low)
        if spec.high is not None:
            good &= value.le(spec.high)
        hint = " (decimal comma, as in this semicolon-separated file)" if decimal_comma else ""
        rules = [(good, expected + hint)]
    else:
        rules = []
    rules = [(good.fillna(False).astype(bool) | empty, message) for good, message in rules]
    if spec.value_required:
        rules.append((~empty, f"a value is required: {expected}"))
    return rules


def _arrow_text(text: pd.Series) -> arrow.Array:
    """A column as Arrow text: as pandas holds it (large_string, no copy), or cast (a column of missing values
    only, which Arrow types as null)."""
    cells = arrow.array(text, from_pandas=True)
    return cells if arrow.types.is_large_string(cells.type) else cells.cast(arrow.large_string())


def _holds(text: pd.Series, pattern: str, *, regex: bool = True) -> pd.Series:
    """True for each cell in which ``pattern`` (RE2 syntax, or plain text) occurs; False for a missing cell.

    Matched by Arrow, in time linear in the text: pandas' ``str.contains`` matched these patterns with
    Python's ``re``, which took minutes on one cell of 200,000 characters.
    """
    cells = _arrow_text(text)
    found = (arrow_compute.match_substring_regex if regex else arrow_compute.match_substring)(cells, pattern)
    return pd.Series(found.fill_null(False).to_numpy(zero_copy_only=False), index=text.index)


def text_rules(text: pd.Series, *, read: bool) -> list[tuple]:
    """The rules for a column of free text (or a column the contract does not name), as ``(good, expected,
    quote)`` triples: ``good`` and ``expected`` as in :func:`cell_rules`, ``quote`` False for a rule whose
    bad cells must not be repeated in the message. An empty cell keeps every rule.

    Every such column: no NUL byte, at most MAX_CELL_CHARS characters. ``read``: a column the analysis reads
    (diagnosis, treatment, a free-text group_by column), whose values outputs show, holds only characters that
    print (no control or invisible character: contract.UNPRINTED_PATTERN; the message quotes
    the value with them escaped, ``'a\\tb'``), and no national register number, phone number or e-mail address
    (contract.IDENTIFYING_TEXT); a cell is reported for the first of these three it looks like, and no rule that
    quotes its cells quotes it. One pass over the column for the four patterns; each is tried alone only if one of
    them matched. Spaces around a value are ignored, as everywhere (a line break after it too).
    """
    length = arrow_compute.utf8_length(_arrow_text(text)).fill_null(0)
    nul = _holds(text, "\0", regex=False)
    unprinted = identifying = pd.Series(False, index=text.index)
    found = []                           # (good, expected, quote) of the identifiers, each cell for the first
    if read and _holds(text, f"{UNPRINTED_PATTERN}|{IDENTIFYING_PATTERN}").any():
        for kind, pattern in IDENTIFYING_TEXT.items():
            looks = _holds(text, pattern) & ~identifying
            identifying |= looks
            found.append((~looks, "free text without a national register number, phone number or e-mail address: "
                          f"this cell holds what looks like {kind} (not repeated here). Remove it from the extract; "
                          "the analysis needs none", False))
        # spaces around a value are ignored (a tab, a line break too); a NUL byte is said by the first rule
        unprinted = _holds(trimmed(text), UNPRINTED_PATTERN) & ~nul
    # a rule that quotes its cells leaves out those that look like an identifier: they are reported without it
    rules = [(~nul | identifying, "text without NUL bytes (a NUL byte is no text: remove it, or export the file "
              "again as 'CSV UTF-8')", True),
             (pd.Series(length.to_numpy() <= MAX_CELL_CHARS, index=text.index) | identifying,
              f"a cell of at most {MAX_CELL_CHARS:,} characters (a quote that is never closed makes the rest of "
              "the file one cell: close it)", True)]
    if read:
        rules.append((~unprinted | identifying, UNPRINTED_EXPECTED, True))
    return rules + found


def national_number(ids: pd.Series) -> pd.Series:
    """True for each id whose digits (``-`` and ``_`` left out) are a Belgian national register number: 11 digits,
    the last two the check digits of the first nine (97 minus their remainder by 97; from 2000 on, with a 2 put
    before them). A numbered pseudonym such as ``00000000001`` fails the check (1 in 97 would pass it)."""
    eleven = _holds(ids, r"^(?:[-_]*[0-9]){11}[-_]*$").to_numpy()
    digits = arrow_compute.replace_substring_regex(_arrow_text(ids[eleven]), r"[-_]", "")
    number = arrow_compute.cast(digits, arrow.int64()).to_numpy(zero_copy_only=False)
    body, check = number // 100, number % 100
    found = np.zeros(len(ids), dtype=bool)
    found[eleven] = (check == 97 - body % 97) | (check == 97 - (2_000_000_000 + body) % 97)
    return pd.Series(found, index=ids.index)


def _check_column(table: RawTable, spec: ColumnSpec, date_format: str = "iso") -> tuple[pd.Series, list[tuple]]:
    """One column normalised and parsed, with the rules it breaks as ``(good, expected)`` pairs."""
    text = normalise(table, spec)
    value = parse(spec, text, table.decimal_comma, date_format)
    return value, [(good, expected) for good, expected in cell_rules(spec, text, value, table.decimal_comma,
                                                                     date_format) if not good.all()]


def _check_cells(name: str, table: RawTable, report: _Report, broken: set, read: tuple = (),
                 unchecked: set = frozenset(), date_format: str = "iso") -> pd.DataFrame:
    """The contract's columns of ``table``, normalised and parsed. A cell that breaks a rule is reported,
    and its column added to ``broken`` as ``(name, column)``. Then :func:`text_rules` on the free-text
    columns and on the columns the contract does not name (``read``: those the analysis reads); a cell
    that looks like an identifier is reported without its value. The columns in ``unchecked`` (missing,
    or named twice: :func:`_check_columns`) are left out and added to ``broken``; a contract column that
    is left out is returned empty (every value missing), so that the rules across tables can skip it.
    Dates are read as ``date_format`` says (:func:`parse_date`).

    The columns are independent, so they are checked on every core at once (Arrow's string
    functions let other threads run meanwhile); ``map`` keeps their order, and the problems
    are reported in that order afterwards.
    """
    specs = [s for s in TABLES[name] if s.name in table.frame.columns and s.name not in unchecked]
    typed = {s.name for s in specs if s.kind != "text"}
    free = [column for column in table.frame.columns if column and column not in typed and column not in unchecked]
    with ThreadPoolExecutor(max_workers=os.cpu_count()) as pool:   # one column per core
        checked = pool.map(lambda spec: _check_column(table, spec, date_format), specs)
        texts = pool.map(lambda column: text_rules(table.frame[column], read=column in read), free)
        checked, texts = list(checked), list(texts)
    values = {}
    for spec, (value, failed) in zip(specs, checked):
        values[spec.name] = value
        for good, expected in failed:
            report.rows(table, ~good, spec.name, expected)
            broken.add((name, spec.name))
    for column, rules in zip(free, texts):
        for good, expected, quote in rules:
            if not good.all():
                report.rows(table, ~good, column, expected, quote=quote)
    broken.update((name, column) for column in unchecked)
    for spec in TABLES[name]:
        if spec.name in unchecked:
            empty = pd.Series(pd.NA, index=table.frame.index, dtype="str")
            values[spec.name] = parse(spec, empty, table.decimal_comma)
    return pd.DataFrame(values, index=table.frame.index, copy=False)


def _check_columns(name: str, table: RawTable, report: _Report, extra_required=()) -> set[str]:
    """Required columns present, none twice, none a direct identifier, none without a name that holds values.

    Returns the columns whose cells cannot be checked: the required ones that are missing and those named
    twice. The other columns are checked all the same (:func:`_check_cells`), so that one run reports every
    problem. A column with neither a name nor a value (the ``;;`` at the end of each line of some exports)
    is ignored.
    """
    seen, twice = set(), set()
    for number, column in enumerate(table.frame.columns, start=1):
        if column == "":
            if table.frame.iloc[:, number - 1].ne("").any():
                report.add(table.file, f"a name in the header row for column {number}, which holds values "
                           "(name it, or delete it if the analysis does not need it)", row=1)
            continue
        if column in seen:
            report.add(table.file, "each column name once (this one appears more than once)", row=1, column=column)
            twice.add(column)
        seen.add(column)
        if "\0" in column:
            report.add(table.file, "a column name without NUL bytes (a NUL byte is no text: export the file again "
                       "as 'CSV UTF-8')", row=1, column=column.replace("\0", "\\0"))
        elif (kind := identifier_kind(column)) is not None:
            report.add(table.file, f"no direct identifiers: this column looks like {kind}. Remove it; the "
                       "analysis needs only a pseudonymous patient_id", row=1, column=column)
    required = [s.name for s in TABLES[name] if s.column_required] + list(extra_required)
    missing = [c for c in required if c not in seen]
    for column in missing:
        why = " (group_by names it)" if column in extra_required else ""
        hint = (f"this file is {table.separator}-separated; the header has: {', '.join(table.header)}"
                if len(table.header) == 1 else f"the header has: {', '.join(table.header) or 'nothing'}")
        report.add(table.file, f"required column {column!r} is missing{why}: add it ({hint})", row=1, column=column)
    return set(missing) | twice


def _typed(name: str, table: RawTable, checked: pd.DataFrame) -> pd.DataFrame:
    """A table whose cells passed their checks (as :func:`_check_cells` returns it), in the contract's
    column order: numbers float (age Int64), dates datetime64, extra columns as trimmed, composed text."""
    typed = {}
    for spec in TABLES[name]:
        if spec.name in checked:
            column = checked[spec.name]
            typed[spec.name] = column.astype("Int64") if spec.kind == "integer" else column
    for column in table.frame.columns:                     # extra columns: kept as trimmed, composed text
        if column and column not in typed:
            typed[column] = composed(trimmed(table.frame[column]))
    return pd.DataFrame(typed, index=table.frame.index, copy=False)


def _patient_rows(db: duckdb.DuckDBPyConnection, patients: pd.DataFrame, infusions: pd.DataFrame,
                  events: pd.DataFrame) -> dict[str, np.ndarray]:
    """Each row's patient: the row of patients.csv (0-based) with the row's patient_id, ignoring case (reading c),
    the first if an id is written twice, -1 if none: ``patient``, ``infusion_patient``, ``event_patient``. The ids,
    A-Z folded to a-z by Arrow (DuckDB's ``lower`` would fold other scripts' letters too), are joined in ``db``."""
    def patient_of(frame: pd.DataFrame) -> np.ndarray:    # each row's row of patients.csv, -1 for none
        ids = arrow_compute.ascii_lower(arrow.array(frame["patient_id"], type=arrow.large_string()))
        db.register("ids", arrow.table({"id": ids, "row": np.arange(len(frame), dtype=np.int32)}))
        found = db.execute("SELECT ids.row, coalesce(known.patient, -1) AS patient "
                           "FROM ids LEFT JOIN known USING (id)").fetchnumpy()
        db.unregister("ids")
        patient = np.empty(len(frame), dtype=np.int32)
        patient[found["row"]] = found["patient"]           # the rows come back in any order
        return patient

    folded = arrow_compute.ascii_lower(arrow.array(patients["patient_id"], type=arrow.large_string()))
    db.register("patients", arrow.table({"id": folded, "row": np.arange(len(patients), dtype=np.int32)}))
    db.execute("CREATE TEMP TABLE known AS SELECT id, min(row) AS patient FROM patients GROUP BY id")
    # each (case-folded) id once, as usual: each row is its own first (a join of a million rows less, 0.25 s)
    every_id_once = db.execute("SELECT count(*) FROM known").fetchall()[0][0] == len(patients)
    return {"patient": np.arange(len(patients), dtype=np.int32) if every_id_once else patient_of(patients),
            "infusion_patient": patient_of(infusions), "event_patient": patient_of(events)}


def _across_tables(patients: pd.DataFrame, infusions: pd.DataFrame, events: pd.DataFrame) -> dict[str, np.ndarray]:
    """The three tables matched on patient_id, ignoring case, by DuckDB queries: each row's patient
    (:func:`_patient_rows`), then the days, on (patient, date). Returns the arrays of :func:`_patient_rows`,
    and per row ``repeated_day``, True for an infusion on a day its patient already has one on an earlier
    row, and ``off_infusion_day``, True for an event on no day its patient has an infusion.
    """
    db = duckdb.connect()
    db.execute("SET preserve_insertion_order = false")   # rows in any order (each carries its own): less memory
    matched = _patient_rows(db, patients, infusions, events)

    def days(frame: pd.DataFrame, patient: np.ndarray) -> arrow.Table:   # with each row's position
        return arrow.table({"patient": patient, "date": arrow.array(frame["date"]).cast(arrow.date32()),
                            "row": np.arange(len(frame), dtype=np.int32)})

    def marked(query: str, n: int) -> np.ndarray:
        rows = np.zeros(n, dtype=bool)
        rows[db.execute(query).fetchnumpy()["row"]] = True
        return rows

    db.register("infusion_days", days(infusions, matched["infusion_patient"]))
    db.register("event_days", days(events, matched["event_patient"]))
    matched["repeated_day"] = marked("""
        SELECT row FROM (SELECT row, row_number() OVER (PARTITION BY patient, date ORDER BY row) AS nth
                         FROM infusion_days) WHERE nth > 1""", len(infusions))
    matched["off_infusion_day"] = marked("SELECT row FROM event_days ANTI JOIN infusion_days USING (patient, date)",
                                         len(events))
    db.close()
    return matched


def _check_relations(raw: RawExtract, patients, infusions, events, report: _Report,
                     broken=frozenset()) -> dict[str, np.ndarray] | None:
    """The rules across tables. Returns each row's patient, as :func:`_across_tables` does (None when the
    patients' ids broke their own rules); the tables are left as they are.

    A rule is checked only when the columns it compares kept their own rules: ``broken`` holds
    ``(table, column)`` pairs that did not (:func:`_check_cells`), so that one bad cell is one message.
    """
    def passed(*columns) -> bool:
        return not broken.intersection(columns)

    if not passed(("patients", "patient_id")):            # every rule here starts from the patients' ids
        return None
    tp, ti, te = (raw.tables[name] for name in TABLES)
    matched = _across_tables(patients, infusions, events)
    first_row = matched["patient"]
    is_first = first_row == np.arange(len(patients))   # the first row with its id
    repeat = np.flatnonzero(~is_first)
    listed = repeat[: report.room()]
    for i in listed:                                      # every row after the first with an id
        first = patients["patient_id"].iloc[first_row[i]]
        expected = UNIQUE_ID if first == patients["patient_id"].iloc[i] else (
            f"a patient_id not used by an earlier row: row {first_row[i] + 2} has {first!r}, the same id "
            "but for upper and lower case (each patient once)")
        report.add(tp.file, expected, row=int(i) + 2, column="patient_id", value=str(tp.frame["patient_id"].iloc[i]))
    if len(repeat) > len(listed):
        report.add(tp.file, f"{len(repeat) - len(listed)} more rows have the same problem ({UNIQUE_ID})",
                   column="patient_id")

    infusion_ids, infusion_days = ("infusions", "patient_id"), ("infusions", "date")
    event_ids, event_days = ("adverse_events", "patient_id"), ("adverse_events", "date")
    known = matched["infusion_patient"] >= 0
    if passed(infusion_ids):
        report.rows(ti, ~known, "patient_id", "a patient_id of patients.csv")
        has_infusion = np.bincount(matched["infusion_patient"][known], minlength=len(patients)) > 0
        report.rows(tp, ~has_infusion & is_first, "patient_id", "a patient with at least one infusion in infusions.csv")
    if passed(infusion_ids, infusion_days):
        report.rows(ti, known & matched["repeated_day"], "date",
                    "one infusion per patient and date (this patient already has one that day)")
    known_event = matched["event_patient"] >= 0
    if passed(event_ids):
        report.rows(te, ~known_event, "patient_id", "a patient_id of patients.csv")
    if passed(infusion_ids, infusion_days, event_ids, event_days):
        report.rows(te, known_event & matched["off_infusion_day"], "date", "the date of one of this patient's infusions")
    return matched


def _check_group_names(table: RawTable, column: str, report: _Report) -> None:
    """A column that group_by names, without group_edges: each value names a group, of at most
    MAX_NAME_LENGTH characters (as a pooled site's group names: :mod:`ketanb.sites`)."""
    text = composed(trimmed(table.frame[column]))        # the name as the outputs write it
    long = arrow_compute.utf8_length(_arrow_text(text)).fill_null(0).to_numpy() > MAX_NAME_LENGTH
    if long.any():       # a cell that looks like an identifier is reported by text_rules, unquoted: not quoted here
        long &= ~_holds(text, IDENTIFYING_PATTERN).to_numpy()
    report.rows(table, long, column, f"a value of at most {MAX_NAME_LENGTH} characters (group_by names this column: "
                "each value is the name of a group in the tables, the figures and a pooling of clinics)")


def _check_bands(table: RawTable, column: str, report: _Report) -> None:
    """An extra column that group_by names and group_edges cut into bands: each cell a number, or empty."""
    text = trimmed(table.frame[column])
    report.rows(table, text.notna() & parse_number(text, table.decimal_comma).isna(), column,
                "a number (group_by names this column and group_edges cut it into bands), or empty")


def _without_parsed_numbers(raw: RawExtract) -> RawExtract:
    """``raw`` without the text of the contract's columns of numbers: parsed by the cell checks, and quoted
    by no later rule (the rules across tables quote patient_id and date).

    ``raw`` itself is left as it is. When nobody else holds it, as in :func:`ketanb.cleaning.load`, which
    reads and validates in one call, the text is freed before the rules across tables, where a run's
    memory peaks: 75 MiB less at a million patients (``make bench``). So no name in :func:`validate`
    holds the patients' or the infusions' table read (the banded group_by column is checked in
    :func:`_check_bands`).
    """
    tables = {}
    for name, table in raw.tables.items():
        numbers = [s.name for s in TABLES[name] if s.holds_numbers]
        tables[name] = replace(table, frame=table.frame.drop(columns=numbers, errors="ignore"))
    return replace(raw, tables=tables)


def _check_min_group_size(raw: RawExtract, params) -> None:
    """min_group_size 1 (pooling off) is refused on an extract that is not the synthetic one, unless the
    parameters say NOT_PATIENT_DATA: true."""
    if getattr(params, "min_group_size", None) != 1 or raw.synthetic or getattr(params, NOT_PATIENT_DATA, False):
        return
    raise ParameterError(
        f"parameter min_group_size: 1 switches pooling off, so that groups of one or two patients are shown with "
        f"their statistics; the extract {raw.source} is not the synthetic one (ketanb.synthetic marks its extracts "
        f"with synthetic.json), so it may hold patients. Use min_group_size 5 (the default) or more; only if this "
        f"extract holds no patient data, add '{NOT_PATIENT_DATA}: true' to the parameter file")


def validate(raw: RawExtract, params=None) -> Extract:
    """Check an extract against every rule of the contract and return typed tables.

    Parameters
    ----------
    raw : RawExtract
        As returned by :func:`ketanb.input.read.read_extract`.
    params : Params, optional
        ``group_by`` must name a column of patients; with ``group_edges`` an
        extra column it names must hold numbers, without them it is free text
        (checked as diagnosis is). ``min_group_size`` 1 needs a synthetic
        extract or ``i_know_this_is_not_patient_data``. ``date_format`` says how
        dates are written (``iso``, the default, or ``dmy``).

    Returns
    -------
    Extract

    Raises
    ------
    InputError
        Listing every problem: file, spreadsheet row, column, value, what is allowed.
    ParameterError
        ``min_group_size`` 1 on an extract that is not the synthetic one, without the switch.
    """
    _check_min_group_size(raw, params)
    report = _Report()
    report.problems += raw.problems               # files or sheets that could not be read, if any
    report.with_row += sum(p.row is not None for p in raw.problems)
    group_by = getattr(params, "group_by", None)
    banded = bool(getattr(params, "group_edges", ())) and group_by not in {s.name for s in TABLES["patients"]}
    read = {"patients": ("diagnosis",) + ((group_by,) if group_by and not banded else ()),
            "adverse_events": ("treatment",)}
    texts, broken = {}, set()
    for name, table in raw.tables.items():
        extra = (group_by,) if name == "patients" and group_by else ()
        unchecked = _check_columns(name, table, report, extra)   # the other columns are checked all the same
        if table.frame.empty and name != "adverse_events":
            report.add(table.file, "at least one data row below the header", row=2)
            continue
        texts[name] = _check_cells(name, table, report, broken, read.get(name, ()), unchecked,
                                   getattr(params, "date_format", "iso"))
        if name == "patients" and ("patients", "patient_id") not in broken:
            report.rows(table, national_number(texts[name]["patient_id"]), "patient_id", "a pseudonym, not a national "
                        "register number (these 11 digits end in its check digits; not repeated here): replace "
                        "it, in the three files, by a code that does not point at the patient", quote=False)
    if len(texts) < len(TABLES):                  # a table unread, or without rows: nothing to compare
        raise InputError(report.problems, source=raw.source)
    if banded and ("patients", group_by) not in broken:
        _check_bands(raw.tables["patients"], group_by, report)
    elif (group_by in raw.tables["patients"].frame and ("patients", group_by) not in broken
          and group_by not in {s.name for s in TABLES["patients"] if s.kind != "text"}):   # free text: codes are short
        _check_group_names(raw.tables["patients"], group_by, report)
    # the rules across tables, on the columns that kept theirs (with no problem so far: on every column)
    raw = _without_parsed_numbers(raw)
    give_back_freed_memory()                      # what the cell checks freed, and the numbers' text
    matched = _check_relations(raw, *(texts[name] for name in TABLES), report, broken)
    if report.problems:
        raise InputError(report.problems, source=raw.source)

    patients, infusions, events = (_typed(name, raw.tables[name], texts[name]) for name in TABLES)
    events["serious"] = events["serious"].eq("yes").fillna(False).astype(bool) if "serious" in events else False
    if "treatment" not in events:
        events["treatment"] = pd.Series(pd.NA, index=events.index, dtype="str")
    for column in ("diagnosis", "pain_duration_months"):
        if column not in patients:
            patients[column] = pd.Series(np.nan if column.endswith("months") else pd.NA, index=patients.index,
                                         dtype="float64" if column.endswith("months") else "str")
    if banded:
        patients[group_by] = parse_number(patients[group_by], raw.tables["patients"].decimal_comma)
    infusions["patient"] = matched["infusion_patient"].astype(np.int64)
    events["patient"] = matched["event_patient"].astype(np.int64)
    return Extract(patients, infusions, events, raw.source, raw.synthetic)
