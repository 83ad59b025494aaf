"""Stage 1, cleaning: check an extract against the contract and apply the inclusion rules.

:func:`validate` turns a :class:`~ketanb.io.RawExtract` (text cells) into an
:class:`Extract` of typed, normalised tables, or raises one
:class:`~ketanb.errors.InputError` listing every problem found.
:func:`load` reads and validates in one call, reading a large infusions.csv
in a second process. :func:`derive_cohort` then applies the exclusion reasons
of the contract, section 3, in their order of precedence.
"""
from __future__ import annotations

import multiprocessing
import re
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from . import schema
from .contract import EXCLUSION_REASONS, IDENTIFYING_COLUMNS, TABLE_FILES, TABLES
from .errors import InputError, Problem
from .ids import IdBytes, PatientLookup
from .io import LazyRawTable, RawExtract, RawTable, categorical, hand_over, read_csv_table, read_extract, take_over
from .params import Params
from .schema import EXAMPLES_PER_CHECK, broadcast, parse_date, parse_number, recode

__all__ = ["Extract", "load", "validate", "PARALLEL_BYTES", "derive_cohort", "exclusion_counts", "flow_counts"]

_TOLERANCE = 1e-9


@dataclass
class Extract:
    """A validated extract: typed tables with normalised codes.

    Attributes
    ----------
    patients : pandas.DataFrame
        One row per patient, in file order. ``patient_id``, ``sex`` (F/M),
        ``age`` (int), ``pain_mechanism``, ``diagnosis``, ``discontinuation``
        (str or missing), ``pain_duration_months``, ``baseline_nrs``,
        ``followup_nrs`` (float, NaN when empty), and any extra column as text.
    infusions : pandas.DataFrame
        ``patient_id``, ``date`` (datetime64), ``dose_mg`` (float), ``formulation``,
        ``patient`` (the patient's row in ``patients``).
    adverse_events : pandas.DataFrame
        ``patient_id``, ``date``, ``event``, ``severity``, ``treatment`` (str or
        missing), ``serious`` (bool), ``patient``. In both tables ``patient_id``
        is a categorical whose categories are the patients' ids, trimmed.
    source : str
        Where the extract was read from.
    synthetic : bool
        The extract was made by :mod:`ketanb.synthetic`.
    """

    patients: pd.DataFrame
    infusions: pd.DataFrame
    adverse_events: pd.DataFrame
    source: str = ""
    synthetic: bool = False
    synthetic_notice: str = ""


class _Collector:
    """Collects problems, quoting at most EXAMPLES_PER_CHECK rows per check."""

    def __init__(self):
        self.problems: list[Problem] = []

    def whole(self, file, expected, column=None, value=None, row=None):
        self.problems.append(Problem(file, row, column, value, expected))

    def rows(self, table: RawTable, mask: np.ndarray, column: str | None, expected: str,
             values: pd.Series | None = None):
        bad = np.flatnonzero(np.asarray(mask, dtype=bool))
        if not len(bad):
            return
        shown = values if values is not None else (table.frame[column] if column else None)
        for i in bad[:EXAMPLES_PER_CHECK]:
            value = None if shown is None else str(shown.iloc[i])
            self.problems.append(Problem(table.file, int(i) + 2, column, value, expected))
        if len(bad) > EXAMPLES_PER_CHECK:
            self.problems.append(Problem(
                table.file, None, column, None,
                f"{len(bad) - EXAMPLES_PER_CHECK} more rows have the same problem ({expected})"))


def _objects(column: pd.Series) -> pd.Series:
    """A categorical column as plain text (None where missing)."""
    values = broadcast(np.asarray(column.cat.categories, dtype=object), column.cat.codes.to_numpy(), None)
    return pd.Series(values, dtype=object, copy=False)


def _typed(table: RawTable, name: str, text: pd.DataFrame) -> pd.DataFrame:
    """A table that passed its schema, parsed: numbers float (age Int64), dates datetime64.

    Codes and text stay categorical in the long tables (infusions, adverse
    events) and become plain text (None where missing) in patients.
    """
    frame = {}
    for spec in TABLES[name]:
        if spec.name not in text:
            continue
        column = text[spec.name]
        if spec.kind in ("integer", "number"):
            number = parse_number(column, table.decimal_comma)
            frame[spec.name] = number.astype("Int64") if spec.kind == "integer" else number
        elif spec.kind == "date":
            frame[spec.name] = parse_date(column)
        elif spec.kind in ("id", "ref"):
            frame[spec.name] = pd.Series(column.to_numpy(dtype=object), dtype=object, copy=False)
        elif name == "patients":
            frame[spec.name] = _objects(column)
        else:
            frame[spec.name] = column
    for column in table.frame.columns:  # extra columns: kept as trimmed text
        if column not in frame:
            frame[column] = _objects(recode(table.frame[column]))
    return pd.DataFrame(frame, index=pd.RangeIndex(len(table.frame)), copy=False)  # no consolidation copy


def _check_columns(name: str, table: RawTable, out: _Collector, extra_required=()) -> bool:
    columns = list(table.frame.columns)
    seen = set()
    for column in columns:
        if column in seen:
            out.whole(table.file, "each column name once (this one appears more than once)",
                      column=column, row=1)
        seen.add(column)
        key = re.sub(r"[\s\-]+", "_", column)
        if key in IDENTIFYING_COLUMNS:
            out.whole(table.file, f"no direct identifiers: this column looks like "
                      f"{IDENTIFYING_COLUMNS[key]}. Remove it; the analysis needs only a pseudonymous "
                      "patient_id", column=column, row=1)
    missing = [s.name for s in TABLES[name] if s.column_required and s.name not in seen]
    missing += [c for c in extra_required if c not in seen]
    for column in missing:
        out.whole(table.file, f"a column named {column!r} (the header has: "
                  f"{', '.join(table.header) or 'nothing'})", column=column, row=1)
    return not missing and len(seen) == len(columns)


def validate(raw: RawExtract, params: Params | None = None) -> Extract:
    """Check an extract against every rule of the contract and return typed tables.

    Parameters
    ----------
    raw : RawExtract
        As returned by :func:`ketanb.io.read_extract`.
    params : Params, optional
        Only ``group_by`` is used: the column it names must exist in patients.

    Returns
    -------
    Extract
        Typed, normalised tables (codes in the contract's case, spaces trimmed).

    Raises
    ------
    InputError
        Listing every problem: file, spreadsheet row, column, value, what is allowed.
    """
    out = _Collector()
    prepared = {name: _prepare(name, raw.tables[name], out, params) for name in TABLES}
    return _finish(raw, prepared, out, params)


def _prepare(name: str, table: RawTable, out: _Collector, params: Params | None = None):
    """One table checked column by column and typed, or None if a cell fails.

    Returns ``(typed, normalised text, ids in bytes)``, the last as
    :func:`ketanb.schema.normalise` gives them.
    """
    group_by = params.group_by if params is not None else None
    extra = (group_by,) if name == "patients" and group_by else ()
    if not _check_columns(name, table, out, extra):
        return None
    if table.frame.empty and name != "adverse_events":
        out.whole(table.file, "at least one data row below the header", row=2)
        return None
    problems, text, id_bytes = schema.check_table(name, table)
    out.problems.extend(problems)
    if not all(p.expected == schema.UNIQUE_ID for p in problems):   # a cell that does not parse
        return None
    return _typed(table, name, text), text, id_bytes


def _finish(raw: RawExtract, prepared: dict, out: _Collector, params: Params | None,
            lookup: PatientLookup | None = None, event_rows: np.ndarray | None = None) -> Extract:
    """The typed tables completed (optional columns), checked across tables, as an Extract.

    When a second process read infusions.csv (:func:`load`), its typed table
    comes without patient_id, its ids only in bytes, and the patients'
    ``lookup`` and the adverse events' patient rows (``event_rows``) come
    ready-made.
    """
    if any(prepared[name] is None for name in TABLES):
        raise InputError(out.problems, source=raw.source)
    (patients, text, patient_bytes), (infusions, _, infusion_bytes), (events, _, event_bytes) = (
        prepared[name] for name in TABLES)
    if "serious" not in events:
        events["serious"] = pd.Series(pd.Categorical([None] * len(events), categories=["yes", "no"]))
    events["serious"] = events["serious"].eq("yes").to_numpy(dtype=bool)
    if "treatment" not in events:
        events["treatment"] = pd.Series(pd.Categorical([None] * len(events), categories=pd.Index([], dtype=object)))
    for column in ("diagnosis", "pain_duration_months"):
        if column not in patients:
            patients[column] = pd.Series(np.nan if column.endswith("months") else None,
                                         index=patients.index, dtype="float64" if column.endswith("months") else object)

    group_by = params.group_by if params is not None else None
    if params is not None and params.group_edges and group_by not in {s.name for s in TABLES["patients"]}:
        _parse_group_column(raw.tables["patients"], patients, group_by, out)
    if lookup is None:                                        # duplicates are reported by the schema
        lookup = PatientLookup(text["patient_id"], patient_bytes.get("patient_id"))
    infusions["patient"] = lookup.positions(infusions.get("patient_id"), infusion_bytes.get("patient_id"))
    if event_rows is None:
        event_rows = lookup.positions(events["patient_id"], event_bytes.get("patient_id"))
    events["patient"] = event_rows
    _check_relations(raw, lookup, infusions, events, out)
    if out.problems:
        raise InputError(out.problems, source=raw.source)
    ids = text["patient_id"].to_numpy(dtype=object)           # every id now names one patient:
    for frame in (infusions, events):                         # patient_id as a categorical of theirs
        column = pd.Series(categorical(frame["patient"].to_numpy(), ids), index=frame.index, copy=False)
        if "patient_id" in frame:
            frame["patient_id"] = column
        else:
            frame.insert(0, "patient_id", column)
    return Extract(patients, infusions, events, raw.source, raw.synthetic, raw.synthetic_notice)


#: infusions.csv is read in a second process from this size on (about 250 000 rows).
PARALLEL_BYTES = 8_000_000


def load(data, params: Params | None = None, *, parallel: bool | None = None) -> Extract:
    """Read and validate an extract: ``validate(read_extract(data), params)``, faster on large extracts.

    Parameters
    ----------
    data : path-like
        A folder of CSV files or an .xlsx workbook (see :func:`ketanb.io.read_extract`).
    params : Params, optional
        As for :func:`validate`.
    parallel : bool, optional
        Read, check and type infusions.csv in a second process while this one
        does patients and adverse events. By default only for a folder whose
        infusions.csv has at least :data:`PARALLEL_BYTES` bytes, on systems
        that can fork; ``False`` never, ``True`` whenever possible.

    Returns
    -------
    Extract
        The same tables as :func:`validate`, and on a bad extract the same
        InputError with the same problems in the same order (a test checks both).
    """
    from .paths import resolve

    folder = resolve(data)
    infusions_file = folder / TABLE_FILES["infusions"]
    if parallel is None:
        parallel = infusions_file.is_file() and infusions_file.stat().st_size >= PARALLEL_BYTES
    if not (parallel and folder.is_dir() and infusions_file.is_file()
            and "fork" in multiprocessing.get_all_start_methods()):
        return validate(read_extract(data), params)
    with ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("fork")) as pool:
        second = pool.submit(_handed_over, infusions_file)
        try:
            first = _prepare_beside(data, params)         # patients and adverse events, meanwhile
        except BaseException:
            _discard(second)
            raise
        infusions = take_over(second.result())
    if first is None or infusions is None:        # a file that cannot be read: reported as validate does
        return validate(read_extract(data), params)
    raw, prepared, out = first["raw"], first["prepared"], first["out"]
    at = first["patient_problems"]
    out.problems[at:at] = infusions["problems"]   # in the order of validate: patients, infusions, events
    prepared["infusions"] = infusions["prepared"]
    raw.tables["infusions"] = LazyRawTable(infusions_file, *infusions["table"])
    raw.tables = {name: raw.tables[name] for name in TABLES}
    return _finish(raw, {name: prepared[name] for name in TABLES}, out, params, first["lookup"],
                   first["event_rows"])


def _prepare_beside(data, params: Params | None) -> dict | None:
    """What :func:`load` does while the second process reads infusions.csv.

    Reads patients and adverse events, checks and types them, and builds the
    patients' lookup with the adverse events' patient rows. None when one of
    the two files cannot be read.
    """
    try:
        raw = read_extract(data, only=("patients", "adverse_events"))
    except InputError:
        return None
    out = _Collector()
    prepared = {"patients": _prepare("patients", raw.tables["patients"], out, params)}
    patient_problems = len(out.problems)
    prepared["adverse_events"] = _prepare("adverse_events", raw.tables["adverse_events"], out, params)
    lookup = event_rows = None
    if prepared["patients"] is not None:
        _, text, id_bytes = prepared["patients"]
        lookup = PatientLookup(text["patient_id"], id_bytes.get("patient_id"))
        if prepared["adverse_events"] is not None:
            events, _, id_bytes = prepared["adverse_events"]
            event_rows = lookup.positions(events["patient_id"], id_bytes.get("patient_id"))
    return {"raw": raw, "prepared": prepared, "out": out, "patient_problems": patient_problems,
            "lookup": lookup, "event_rows": event_rows}


def _discard(second) -> None:
    """Wait for the second process and delete what it handed over (the first one failed)."""
    try:
        name = second.result()
    except Exception:  # noqa: BLE001 - the first process's error is the one to report
        return
    if name is not None:
        Path(name).unlink(missing_ok=True)


def _handed_over(path) -> str | None:
    """In the second process: :func:`_prepare_infusions`, handed back through :func:`ketanb.io.hand_over`."""
    result = _prepare_infusions(path)
    return None if result is None else hand_over(result)


def _prepare_infusions(path) -> dict | None:
    """In the second process: infusions.csv read, checked and typed, its ids in bytes.

    Returns None when the file cannot be read or an id cannot be put in bytes
    (the caller then does everything in one process). Otherwise the problems
    found, the typed table without its patient_id column, its ids as
    :class:`~ketanb.ids.IdBytes` (hashed), and what
    :class:`~ketanb.io.LazyRawTable` needs to quote cells later.
    """
    table = read_csv_table(path, [])
    if table is None:
        return None
    out = _Collector()
    prepared = _prepare("infusions", table, out)
    if prepared is not None:
        typed, _, id_bytes = prepared
        column = typed.pop("patient_id")
        ids = id_bytes.get("patient_id")
        if ids is None:                                   # trimmed: the bytes of the trimmed ids
            ids = IdBytes.of(column.to_numpy(dtype=object))
        if ids is None:
            return None
        ids.hashes()                                      # computed here, on the second core
        prepared = (typed, None, {"patient_id": ids})
    return {"problems": out.problems, "prepared": prepared,
            "table": (table.file, table.header, table.decimal_comma)}


def _parse_group_column(table: RawTable, patients: pd.DataFrame, column: str, out: _Collector) -> None:
    """An extra patients column cut into bands by group_edges must hold numbers (or be empty)."""
    text = recode(table.frame[column])
    number = parse_number(text, table.decimal_comma)
    out.rows(table, (text.notna() & number.isna()).to_numpy(), column,
             "a number (group_by names this column and group_edges cut it into bands), or empty")
    patients[column] = number


#: Days added to dates before they are combined with a patient number into one key.
_DAY_OFFSET = 1 << 20


def _date_key(positions: np.ndarray, dates: pd.Series) -> np.ndarray:
    """One int64 per (patient, date): patient position and day number packed together.

    Two arrays are made, not six: at a million patients every temporary of
    four million rows costs time to allocate.
    """
    key = np.multiply(positions, 2 * _DAY_OFFSET, dtype=np.int64)
    key += dates.to_numpy(dtype="datetime64[D]").view(np.int64)
    key += _DAY_OFFSET
    return key


def _repeated(keys: np.ndarray) -> np.ndarray:
    """Rows whose key appeared on an earlier row."""
    order = np.argsort(keys, kind="stable")
    ordered = keys[order]
    repeat = np.zeros(len(keys), dtype=bool)
    repeat[order[1:]] = ordered[1:] == ordered[:-1]
    return repeat


def _check_relations(raw, patients: PatientLookup, infusions, events, out: _Collector) -> None:
    """Rules across tables, on ``patient`` (row of patients.csv, -1 if unknown) of infusions and adverse events."""
    tp, ti, te = raw.tables["patients"], raw.tables["infusions"], raw.tables["adverse_events"]
    rows = infusions["patient"].to_numpy()
    unknown = rows < 0
    out.rows(ti, unknown, "patient_id", "a patient_id of patients.csv")
    keys = _date_key(rows, infusions["date"])
    known = np.sort(keys[~unknown] if unknown.any() else keys)     # (patient, date) of known patients
    if len(known) and (known[1:] == known[:-1]).any():           # a repeat: which rows (rare, slower)
        out.rows(ti, _repeated(keys) & ~unknown, "date",
                 "one infusion per patient and date (this patient already has one that day)")
    has_infusion = np.bincount(rows[~unknown], minlength=patients.rows) > 0
    out.rows(tp, ~has_infusion & ~patients.duplicate, "patient_id",
             "a patient with at least one infusion in infusions.csv")
    unknown_ae = events["patient"].to_numpy() < 0
    out.rows(te, unknown_ae, "patient_id", "a patient_id of patients.csv")
    if len(events):
        wanted = _date_key(events["patient"].to_numpy(), events["date"])
        on_infusion = np.zeros(len(wanted), dtype=bool)
        if len(known):
            by_key = np.argsort(wanted)                   # sorted needles: searchsorted stays in cache
            at = np.minimum(np.searchsorted(known, wanted[by_key]), len(known) - 1)
            on_infusion[by_key] = known[at] == wanted[by_key]
        out.rows(te, ~on_infusion & ~unknown_ae, "date", "the date of one of this patient's infusions",
                 values=raw.tables["adverse_events"].frame["date"])


def derive_cohort(extract: Extract, params: Params) -> pd.DataFrame:
    """Apply the exclusion reasons of the contract, section 3, in order of precedence.

    Parameters
    ----------
    extract : Extract
        A validated extract.
    params : Params
        Uses ``study_start``, ``study_end``, ``test_dose_mg``, ``treatment_dose_mg``.

    Returns
    -------
    pandas.DataFrame
        One row per patient, in the order of patients.csv: every column of
        ``extract.patients`` plus ``first_infusion`` (date of the earliest
        infusion), ``n_infusions``, ``exclusion_reason`` (the first reason that
        applies, a categorical of the reasons in order of precedence, missing
        for included patients) and ``included`` (bool).

    Notes
    -----
    Doses are compared with an absolute tolerance of 1e-9 mg, so a dose written
    as ``75.0`` or ``75`` is the test dose. Rows of infusions.csv need not be
    in date order: the first infusion is the one with the earliest date.
    Infusions are matched to patients by ``patient`` (row of patients.csv,
    added by :func:`validate`), so the work is a few passes of numpy over the
    infusions, without sorting or joining on text.
    """
    inf = extract.infusions
    n = len(extract.patients)
    pos = inf["patient"].to_numpy()
    days = inf["date"].to_numpy(dtype="datetime64[D]").view(np.int64)
    dose = inf["dose_mg"].to_numpy(dtype=float)
    first_day = np.full(n, np.iinfo(np.int64).max)   # validate: every patient has an infusion
    np.minimum.at(first_day, pos, days)
    is_first = days == first_day[pos]           # (patient, date) is unique: one first row per patient
    first_dose = np.full(n, np.nan)
    first_dose[pos[is_first]] = dose[is_first]
    not_racemic = (inf["formulation"] != "racemic").to_numpy(dtype=bool)
    off_dose = np.abs(dose - params.treatment_dose_mg) > _TOLERANCE
    off_dose &= ~is_first
    n_infusions = np.bincount(pos, minlength=n)
    any_not_racemic = np.bincount(pos[not_racemic], minlength=n) > 0
    any_off_dose = np.bincount(pos[off_dose], minlength=n) > 0

    cohort = extract.patients.copy(deep=False)   # copy-on-write: new columns leave the extract as it was
    first_day[n_infusions == 0] = np.iinfo(np.int64).min  # NaT (none after validate)
    cohort["first_infusion"] = first_day.astype("datetime64[D]").astype("datetime64[ns]")
    cohort["n_infusions"] = n_infusions.astype("int64")
    start = np.datetime64(params.study_start, "D").astype(np.int64)
    end = np.datetime64(params.study_end, "D").astype(np.int64)
    baseline = cohort["baseline_nrs"].to_numpy(dtype=float)
    conditions = [
        (first_day < start) | (first_day > end),
        any_not_racemic,
        ~np.isclose(first_dose, params.test_dose_mg, rtol=0, atol=_TOLERANCE),
        any_off_dose,
        n_infusions < 2,
        np.isnan(baseline) | (baseline == 0),
    ]
    reason = np.select(conditions, np.arange(1, len(EXCLUSION_REASONS) + 1), default=0)  # first that applies
    cohort["exclusion_reason"] = categorical(reason - 1, EXCLUSION_REASONS)   # missing when included
    cohort["included"] = reason == 0
    return cohort


def exclusion_counts(cohort: pd.DataFrame) -> dict[str, int]:
    """Number of patients excluded for each reason, all six reasons listed (zeros included)."""
    counts = cohort["exclusion_reason"].value_counts()
    return {reason: int(counts.get(reason, 0)) for reason in EXCLUSION_REASONS}


def flow_counts(cohort: pd.DataFrame) -> dict:
    """The ``cohort`` section of results.json: treated, included and excluded by reason.

    Returns
    -------
    dict
        ``{"treated": int, "included": int, "excluded": {reason: int, ...}}``
        with treated = included + sum of excluded (checked).
    """
    excluded = exclusion_counts(cohort)
    section = {"treated": int(len(cohort)), "included": int(cohort["included"].sum()),
               "excluded": excluded}
    if section["treated"] != section["included"] + sum(excluded.values()):  # pragma: no cover
        raise AssertionError("patients lost in the flow: treated != included + excluded")
    return section
