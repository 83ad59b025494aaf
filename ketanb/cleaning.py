"""Stage 1, cleaning: check an extract against the contract and apply the inclusion rules.

:func:`validate` turns a :class:`~ketanb.io.RawExtract` (text cells) into an
:class:`Extract` of typed, normalised tables, or raises one
:class:`~ketanb.errors.InputError` listing every problem found.
:func:`derive_cohort` then applies the exclusion reasons of the contract,
section 3, in their order of precedence.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import pandas as pd

from . import schema
from .contract import EXCLUSION_REASONS, IDENTIFYING_COLUMNS, TABLES
from .errors import InputError, Problem
from .io import RawExtract, RawTable
from .params import Params
from .schema import EXAMPLES_PER_CHECK, normalise, parse_number

__all__ = ["Extract", "validate", "derive_cohort", "exclusion_counts", "flow_counts"]

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
        ``patient_id``, ``date`` (datetime64), ``dose_mg`` (float), ``formulation``.
    adverse_events : pandas.DataFrame
        ``patient_id``, ``date``, ``event``, ``severity``, ``treatment`` (str or
        missing), ``serious`` (bool).
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


def _typed(table: RawTable, name: str) -> pd.DataFrame:
    """A table that passed its schema, parsed: numbers float (age Int64), dates datetime64."""
    text = normalise(table, TABLES[name])
    frame = {}
    for spec in TABLES[name]:
        if spec.name not in text:
            continue
        column = text[spec.name]
        if spec.kind in ("integer", "number"):
            number = parse_number(column, table.decimal_comma)
            frame[spec.name] = number.astype("Int64") if spec.kind == "integer" else number
        elif spec.kind == "date":
            frame[spec.name] = pd.to_datetime(column, format="%Y-%m-%d").astype("datetime64[ns]")
        else:
            frame[spec.name] = column.astype(object).where(column.notna(), None)
    for column in table.frame.columns:  # extra columns: kept as trimmed text
        if column not in frame:
            extra = table.frame[column].astype(str)
            frame[column] = extra.where(extra != "").astype(object)
    return pd.DataFrame(frame, index=pd.RangeIndex(len(table.frame)))


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
    typed: dict[str, pd.DataFrame] = {}
    group_by = params.group_by if params is not None else None
    for name, specs in TABLES.items():
        table = raw.tables[name]
        extra = (group_by,) if name == "patients" and group_by else ()
        if not _check_columns(name, table, out, extra):
            continue
        if table.frame.empty and name != "adverse_events":
            out.whole(table.file, "at least one data row below the header", row=2)
            continue
        problems = schema.check_table(name, table)
        out.problems.extend(problems)
        if all(p.expected == schema.UNIQUE_ID for p in problems):  # every cell parses
            typed[name] = _typed(table, name)
    if len(typed) < len(TABLES):
        raise InputError(out.problems, source=raw.source)

    patients, infusions, events = typed["patients"], typed["infusions"], typed["adverse_events"]
    if "serious" not in events:
        events["serious"] = None
    events["serious"] = events["serious"].eq("yes").astype(bool)
    if "treatment" not in events:
        events["treatment"] = pd.Series(None, index=events.index, dtype=object)
    for column in ("diagnosis", "pain_duration_months"):
        if column not in patients:
            patients[column] = pd.Series(np.nan if column.endswith("months") else None,
                                         index=patients.index, dtype="float64" if column.endswith("months") else object)

    if params is not None and params.group_edges and group_by not in {s.name for s in TABLES["patients"]}:
        _parse_group_column(raw.tables["patients"], patients, group_by, out)
    _check_relations(raw, patients, infusions, events, out)
    if out.problems:
        raise InputError(out.problems, source=raw.source)
    return Extract(patients, infusions, events, raw.source, raw.synthetic, raw.synthetic_notice)


def _parse_group_column(table: RawTable, patients: pd.DataFrame, column: str, out: _Collector) -> None:
    """An extra patients column cut into bands by group_edges must hold numbers (or be empty)."""
    text = table.frame[column].astype(str)
    number = parse_number(text.where(text != ""), table.decimal_comma)
    out.rows(table, (text != "").to_numpy() & number.isna().to_numpy(), column,
             "a number (group_by names this column and group_edges cut it into bands), or empty")
    patients[column] = number


def _check_relations(raw, patients, infusions, events, out: _Collector) -> None:
    tp, ti, te = raw.tables["patients"], raw.tables["infusions"], raw.tables["adverse_events"]
    dup_patient = patients["patient_id"].duplicated(keep="first").to_numpy()  # reported by the schema
    known = set(patients["patient_id"])
    unknown = ~infusions["patient_id"].isin(known).to_numpy()
    out.rows(ti, unknown, "patient_id", "a patient_id of patients.csv")
    dup = infusions.duplicated(["patient_id", "date"], keep="first").to_numpy() & ~unknown
    out.rows(ti, dup, "date", "one infusion per patient and date (this patient already has one that day)")
    has_infusion = patients["patient_id"].isin(set(infusions["patient_id"])).to_numpy()
    out.rows(tp, ~has_infusion & ~dup_patient, "patient_id",
             "a patient with at least one infusion in infusions.csv")
    unknown_ae = ~events["patient_id"].isin(known).to_numpy()
    out.rows(te, unknown_ae, "patient_id", "a patient_id of patients.csv")
    if len(events):
        pairs = pd.MultiIndex.from_frame(infusions[["patient_id", "date"]])
        on_infusion = pd.MultiIndex.from_frame(events[["patient_id", "date"]]).isin(pairs)
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
        applies, missing for included patients) and ``included`` (bool).

    Notes
    -----
    Doses are compared with an absolute tolerance of 1e-9 mg, so a dose written
    as ``75.0`` or ``75`` is the test dose. Rows of infusions.csv need not be
    in date order: the first infusion is the one with the earliest date.
    """
    inf = extract.infusions.sort_values(["patient_id", "date"], kind="stable")
    grouped = inf.groupby("patient_id", sort=False)
    first = grouped.head(1).set_index("patient_id")
    later = inf[grouped.cumcount().to_numpy() > 0]
    per_patient = pd.DataFrame({
        "first_infusion": first["date"],
        "first_dose": first["dose_mg"],
        "n_infusions": grouped.size(),
        "any_not_racemic": (inf["formulation"] != "racemic").groupby(inf["patient_id"]).any(),
        "any_off_dose": pd.Series(
            ~np.isclose(later["dose_mg"], params.treatment_dose_mg, rtol=0, atol=_TOLERANCE),
            index=later.index).groupby(later["patient_id"]).any(),
    })
    per_patient["any_off_dose"] = per_patient["any_off_dose"].fillna(False).astype(bool)
    cohort = extract.patients.join(per_patient, on="patient_id")
    start = pd.Timestamp(params.study_start)
    end = pd.Timestamp(params.study_end)
    conditions = [
        ((cohort["first_infusion"] < start) | (cohort["first_infusion"] > end)).to_numpy(),
        cohort["any_not_racemic"].to_numpy(dtype=bool),
        ~np.isclose(cohort["first_dose"].to_numpy(dtype=float), params.test_dose_mg, rtol=0, atol=_TOLERANCE),
        cohort["any_off_dose"].to_numpy(dtype=bool),
        (cohort["n_infusions"] < 2).to_numpy(),
        (cohort["baseline_nrs"].isna() | (cohort["baseline_nrs"] == 0)).to_numpy(),
    ]
    reason = np.select(conditions, EXCLUSION_REASONS, default="")
    cohort = cohort.drop(columns=["first_dose", "any_not_racemic", "any_off_dose"])
    cohort["n_infusions"] = cohort["n_infusions"].astype("int64")
    cohort["exclusion_reason"] = pd.Series(reason, index=cohort.index).replace("", None).astype(object)
    cohort["included"] = reason == ""
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
