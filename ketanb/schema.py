"""The per-column rules of the contract as pandera schemas, and their failures as Problems.

The column declarations of :mod:`ketanb.contract` are turned into one
:class:`pandera.pandas.DataFrameSchema` per input table. A schema checks the
*normalised text* of a table (cells trimmed, empty cell = missing, codes folded
to the contract's case), so that a failure quotes the value as the clinic wrote
it. Validation is lazy: every failing cell of every column is collected in one
pass and turned into :class:`~ketanb.errors.Problem` records with the
spreadsheet row number.

Rules that span tables (known patient, one infusion per patient and day,
adverse events on an infusion date, every patient has an infusion) are checked
in :mod:`ketanb.cleaning`, after these.
"""
from __future__ import annotations

import pandas as pd
import pandera.pandas as pa

from .contract import TABLES, ColumnSpec
from .errors import Problem
from .io import RawTable

__all__ = ["ID_PATTERN", "DATE_PATTERN", "EXAMPLES_PER_CHECK", "UNIQUE_ID", "normalise", "parse_number",
           "table_schema", "check_table"]

ID_PATTERN = r"^[A-Za-z0-9_-]{1,32}$"
DATE_PATTERN = r"^\d{4}-\d{2}-\d{2}$"

#: Bad cells quoted one by one per column and rule; more are summarised in one line.
EXAMPLES_PER_CHECK = 20

UNIQUE_ID = "a patient_id not used by an earlier row (each patient once)"


def parse_number(text: pd.Series, decimal_comma: bool = False) -> pd.Series:
    """Text to float64 (NaN where missing or not a number); ``7,5`` is 7.5 with a decimal comma."""
    if decimal_comma:
        text = text.str.replace(",", ".", regex=False)
    return pd.to_numeric(text, errors="coerce").astype("float64")


def normalise(table: RawTable, specs: tuple[ColumnSpec, ...]) -> pd.DataFrame:
    """The contract's columns of a table as text: empty cells missing, codes in the contract's case."""
    columns = {}
    for spec in specs:
        if spec.name not in table.frame.columns:
            continue
        text = table.frame[spec.name].astype("str")
        text = text.where(text != "")
        if spec.kind == "code":
            text = text.str.upper() if spec.codes[0].isupper() else text.str.lower()
        columns[spec.name] = text
    return pd.DataFrame(columns, index=table.frame.index)


def _number_check(spec: ColumnSpec, decimal_comma: bool) -> pa.Check:
    def ok(text: pd.Series) -> pd.Series:
        number = parse_number(text, decimal_comma)
        good = number.notna() & number.abs().lt(float("inf"))
        if spec.kind == "integer":
            good &= number.mod(1).eq(0)
        if spec.low is not None:
            good &= number.gt(spec.low) if spec.low_open else number.ge(spec.low)
        if spec.high is not None:
            good &= number.le(spec.high)
        return good.fillna(False)

    hint = spec.expectation()
    if decimal_comma:
        hint += " (decimal comma, as in this semicolon-separated file)"
    return pa.Check(ok, error=hint, name="number")


def _date_check(spec: ColumnSpec) -> pa.Check:
    def ok(text: pd.Series) -> pd.Series:
        well_formed = text.str.fullmatch(DATE_PATTERN).fillna(False).astype(bool)
        parsed = pd.to_datetime(text.where(well_formed), format="%Y-%m-%d", errors="coerce")
        return well_formed & parsed.notna()

    return pa.Check(ok, error=spec.expectation(), name="date")


def _checks(spec: ColumnSpec, decimal_comma: bool) -> list[pa.Check]:
    if spec.kind == "id":
        return [pa.Check.str_matches(ID_PATTERN, error=spec.expectation())]
    if spec.kind == "code":
        return [pa.Check.isin(list(spec.codes), error=spec.expectation())]
    if spec.kind == "date":
        return [_date_check(spec)]
    if spec.kind in ("integer", "number"):
        return [_number_check(spec, decimal_comma)]
    return []


def table_schema(name: str, decimal_comma: bool = False) -> pa.DataFrameSchema:
    """The pandera schema of one input table (``"patients"``, ``"infusions"``, ``"adverse_events"``).

    Columns are text; a column the contract does not require may be absent;
    extra columns are allowed. ``patients.patient_id`` is unique.
    """
    columns = {
        spec.name: pa.Column(
            "str", checks=_checks(spec, decimal_comma), nullable=not spec.value_required,
            required=spec.column_required,
            unique=(name == "patients" and spec.name == "patient_id"),
            report_duplicates="exclude_first", coerce=False, description=spec.expectation())
        for spec in TABLES[name]
    }
    return pa.DataFrameSchema(columns, strict=False, name=name)


def check_table(name: str, table: RawTable) -> list[Problem]:
    """Every cell of ``table`` that breaks a per-column rule of the contract.

    Parameters
    ----------
    name : str
        Table name in :data:`ketanb.contract.TABLES`.
    table : RawTable
        The table as read (all its required columns present).

    Returns
    -------
    list of Problem
        In column order of the contract, then by rule, then by row; at most
        :data:`EXAMPLES_PER_CHECK` rows quoted per column and rule, followed by
        one line counting the rest.
    """
    specs = TABLES[name]
    try:
        table_schema(name, table.decimal_comma).validate(normalise(table, specs), lazy=True)
        return []
    except pa.errors.SchemaErrors as exc:
        cases = exc.failure_cases
    order = {spec.name: i for i, spec in enumerate(specs)}
    by_name = {spec.name: spec for spec in specs}
    cases = cases[cases["column"].isin(order) & cases["index"].notna()].copy()
    cases["order"] = cases["column"].map(order)
    cases = cases.sort_values(["order", "check", "index"], kind="stable")
    problems: list[Problem] = []
    for (column, check), group in cases.groupby(["column", "check"], sort=False):
        spec = by_name[column]
        if check == "field_uniqueness":  # an empty id is reported once, as missing
            group = group[group["failure_case"].notna()]
        if check == "not_nullable":
            expected = f"a value is required: {spec.expectation()}"
        elif check == "field_uniqueness":
            expected = UNIQUE_ID
        else:
            expected = check
        rows = group["index"].astype("int64").to_numpy()
        for i in rows[:EXAMPLES_PER_CHECK]:
            problems.append(Problem(table.file, int(i) + 2, column,
                                    str(table.frame[column].iloc[int(i)]), expected))
        if len(rows) > EXAMPLES_PER_CHECK:
            problems.append(Problem(table.file, None, column, None,
                                    f"{len(rows) - EXAMPLES_PER_CHECK} more rows have the same "
                                    f"problem ({expected})"))
    return problems
