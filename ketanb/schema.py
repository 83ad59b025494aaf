"""The per-column rules of the contract as pandera schemas, and their failures as Problems.

The column declarations of :mod:`ketanb.contract` are turned into one
:class:`pandera.pandas.DataFrameSchema` per input table. A schema checks the
*normalised text* of a table (cells trimmed, empty cell = missing, codes folded
to the contract's case), so that a failure quotes the value as the clinic wrote
it. Columns are categoricals and every rule is evaluated once per distinct
value, so a million-row table costs little more than its distinct values. Validation is lazy: every failing cell of every column is collected in one
pass and turned into :class:`~ketanb.errors.Problem` records with the
spreadsheet row number.

Rules that span tables (known patient, one infusion per patient and day,
adverse events on an infusion date, every patient has an infusion) are checked
in :mod:`ketanb.cleaning`, after these.
"""
from __future__ import annotations

import sys

import numpy as np
import pandas as pd
import pandera.pandas as pa

from .contract import TABLES, ColumnSpec
from .errors import Problem
from .ids import IdBytes
from .io import RawTable, categorical, code_dtype, text_column

__all__ = ["ID_PATTERN", "DATE_PATTERN", "EXAMPLES_PER_CHECK", "UNIQUE_ID", "normalise", "parse_number", "parse_date", "recode", "broadcast",
           "table_schema", "check_table"]



def _register_pandera_backends() -> None:
    """Register pandera's pandas backends now, and without importing hypothesis.

    pandera registers them on first use, and then imports hypothesis if it is
    installed, for data synthesis that ketanb does not use. Here hypothesis is
    installed for the tests only; importing it (and trio, which it pulls in)
    would cost every validating process about 0.4 s and a subprocess. So it
    is kept out, unless something has imported it already.
    """
    keep_out = "hypothesis" not in sys.modules
    if keep_out:
        sys.modules["hypothesis"] = None          # `import hypothesis` now raises ImportError
    try:
        pa.DataFrameSchema.register_default_backends(pd.DataFrame)
    finally:
        if keep_out:
            del sys.modules["hypothesis"]


_register_pandera_backends()

ID_PATTERN = r"^[A-Za-z0-9_-]{1,32}$"
DATE_PATTERN = r"^\d{4}-\d{2}-\d{2}$"

#: Bad cells quoted one by one per column and rule; more are summarised in one line.
EXAMPLES_PER_CHECK = 20

UNIQUE_ID = "a patient_id not used by an earlier row (each patient once)"


def parse_number(text: pd.Series, decimal_comma: bool = False) -> pd.Series:
    """Text to float64 (NaN where missing or not a number); ``7,5`` is 7.5 with a decimal comma.

    A categorical is parsed once per distinct value.
    """
    if isinstance(text.dtype, pd.CategoricalDtype):
        numbers = parse_number(pd.Series(text.cat.categories, dtype=object), decimal_comma).to_numpy()
        return pd.Series(broadcast(numbers, text.cat.codes.to_numpy(), np.nan), index=text.index, copy=False)
    text = text.astype(object)
    if decimal_comma:
        text = text.str.replace(",", ".", regex=False)
    return pd.to_numeric(text, errors="coerce").astype("float64")


def parse_date(text: pd.Series) -> pd.Series:
    """``YYYY-MM-DD`` text to datetime64[ns] (NaT where missing or not such a date)."""
    if isinstance(text.dtype, pd.CategoricalDtype):
        dates = parse_date(pd.Series(text.cat.categories, dtype=object)).to_numpy()
        return pd.Series(broadcast(dates, text.cat.codes.to_numpy(), np.datetime64("NaT", "ns")),
                         index=text.index, copy=False)
    text = text.astype(object)
    well_formed = text.str.fullmatch(DATE_PATTERN).fillna(False).astype(bool)
    return pd.to_datetime(text.where(well_formed), format="%Y-%m-%d", errors="coerce").astype("datetime64[ns]")


def broadcast(per_value: np.ndarray, codes: np.ndarray, missing) -> np.ndarray:
    """Values of a categorical's categories spread to its rows (code -1 = missing)."""
    extended = np.append(per_value, np.array([missing], dtype=per_value.dtype))
    return extended[codes]


def recode(column: pd.Series, transform=None) -> pd.Series:
    """Empty cells become missing and ``transform`` is applied to the distinct values of a categorical.

    Values that become equal merge. ``transform`` takes and returns a
    pandas.Index of text (e.g. lower case).
    """
    if not isinstance(column.dtype, pd.CategoricalDtype):
        column = pd.Series(text_column(column.to_numpy(dtype=object)), index=column.index, copy=False)
    categories = pd.Index(column.cat.categories, dtype=object)
    codes = column.cat.codes.to_numpy()
    if transform is None:  # only drop the empty value: no re-hashing of (possibly a million) values
        empty = np.flatnonzero(categories == "")
        if not len(empty):
            return column
        keep = np.ones(len(categories), dtype=bool)
        keep[empty] = False
        remap = np.full(len(categories) + 1, -1, dtype=code_dtype(len(categories)))
        remap[np.flatnonzero(keep)] = np.arange(keep.sum())
        return pd.Series(categorical(remap[codes], categories[keep]), index=column.index, name=column.name,
                         copy=False)
    new = transform(categories).where(categories != "")
    remap, uniques = pd.factorize(np.asarray(new, dtype=object))
    remap = np.append(remap, -1).astype(code_dtype(len(uniques)))
    return pd.Series(categorical(remap[codes], uniques), index=column.index, name=column.name, copy=False)


def strip_ids(column: pd.Series) -> tuple[pd.Series, IdBytes | None]:
    """An id column as trimmed text, empty = missing; stays an object array (ids are mostly distinct).

    Returns the column and, when no id needed trimming (checked on the ids'
    bytes, which are kept for matching them later), the ids as
    :class:`~ketanb.ids.IdBytes`; otherwise None.
    """
    values = column.to_numpy(dtype=object)
    ids = IdBytes.of(values)
    if ids is not None and ids.plain():                    # the usual case: nothing to trim, none empty
        return pd.Series(values, index=column.index, name=column.name, dtype=object, copy=False), ids
    values = np.array([v.strip() for v in values], dtype=object)
    out = pd.Series(values, index=column.index, name=column.name, dtype=object, copy=False)
    return out.where(out != ""), None


def normalise(table: RawTable, specs: tuple[ColumnSpec, ...]) -> tuple[pd.DataFrame, dict[str, IdBytes]]:
    """The contract's columns of a table, trimmed, empty cells missing, codes in the contract's case.

    Ids stay object arrays; every other column becomes a categorical, so its
    checks and parsing run once per distinct value. Also returns, per id
    column that needed no trimming, its ids as :class:`~ketanb.ids.IdBytes`.
    """
    columns, id_bytes = {}, {}
    for spec in specs:
        if spec.name not in table.frame.columns:
            continue
        if spec.kind in ("id", "ref"):
            columns[spec.name], ids = strip_ids(table.frame[spec.name])
            if ids is not None:
                id_bytes[spec.name] = ids
            continue
        fold = None
        if spec.kind == "code":
            fold = (lambda v: v.str.upper()) if spec.codes[0].isupper() else (lambda v: v.str.lower())
        columns[spec.name] = recode(table.frame[spec.name], fold)
    return pd.DataFrame(columns, index=table.frame.index, copy=False), id_bytes  # no consolidation copy


_ID_BYTES = np.zeros(256, dtype=bool)
for _c in b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-\n":
    _ID_BYTES[_c] = True


def valid_ids(values: pd.Series) -> np.ndarray:
    """Which values are 1-32 letters, digits, '-' or '_'.

    Fast path for many values: one pass over their bytes joined by newlines
    (allowed bytes only, no empty or over-long value between two newlines);
    the regular expression only when that pass finds something to report.
    """
    values = values.astype(object)
    if len(values) > 1000:
        try:
            joined = np.frombuffer(("\n".join(values.tolist()) + "\n").encode("ascii"), dtype=np.uint8)
        except (UnicodeEncodeError, TypeError):
            joined = None
        if joined is not None and _ID_BYTES[joined].all():
            lengths = np.diff(np.flatnonzero(joined == 10), prepend=-1) - 1
            if lengths.min() >= 1 and lengths.max() <= 32:
                return np.ones(len(values), dtype=bool)
    return values.str.fullmatch(ID_PATTERN).fillna(False).to_numpy(dtype=bool)


def _unique_check(ids: IdBytes | None = None) -> pa.Check:
    """Each value once: every row after the first with a given value fails.

    With the column's ids in bytes (every row has one), distinct hashes prove
    them distinct without hashing the strings; the hashes are kept for
    matching the other tables' ids later.
    """
    def ok(column: pd.Series) -> pd.Series:
        values = column.to_numpy(dtype=object)
        if ids is not None and pd.Index(ids.hashes()).is_unique:
            return pd.Series(True, index=column.index)
        if pd.Index(values).is_unique:
            return pd.Series(True, index=column.index)
        return pd.Series(~pd.Series(values, copy=False).duplicated(keep="first").to_numpy(), index=column.index,
                         copy=False)

    return pa.Check(ok, error=UNIQUE_ID, name="unique", ignore_na=ids is None)


def _per_value(ok_values, error: str, name: str, ignore_na: bool = True) -> pa.Check:
    """A pandera check evaluated once per distinct value of a categorical column."""
    def ok(column: pd.Series) -> pd.Series:
        if isinstance(column.dtype, pd.CategoricalDtype):
            good = np.asarray(ok_values(pd.Series(column.cat.categories, dtype=object)), dtype=bool)
            return pd.Series(broadcast(good, column.cat.codes.to_numpy(), True), index=column.index, copy=False)
        return pd.Series(np.asarray(ok_values(column.astype(object)), dtype=bool), index=column.index,
                         copy=False)

    return pa.Check(ok, error=error, name=name, ignore_na=ignore_na)


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
    return _per_value(ok, hint, "number")


def _checks(spec: ColumnSpec, decimal_comma: bool, complete: bool = False) -> list[pa.Check]:
    if spec.kind == "id":
        return [_per_value(valid_ids, spec.expectation(), "id", ignore_na=not complete)]
    if spec.kind == "code":
        return [_per_value(lambda v: v.isin(spec.codes), spec.expectation(), "code")]
    if spec.kind == "date":
        return [_per_value(lambda v: parse_date(v).notna(), spec.expectation(), "date")]
    if spec.kind in ("integer", "number"):
        return [_number_check(spec, decimal_comma)]
    return []


def table_schema(name: str, decimal_comma: bool = False, id_bytes=None) -> pa.DataFrameSchema:
    """The pandera schema of one input table (``"patients"``, ``"infusions"``, ``"adverse_events"``).

    Columns are text; a column the contract does not require may be absent;
    extra columns are allowed. ``patients.patient_id`` is unique.

    ``id_bytes`` holds, per id column known to have a value in every row, its
    ids as :func:`normalise` gives them: for those columns pandera neither
    checks for missing values nor drops them before the other checks, which
    would make it scan millions of Python strings twice for nothing.
    """
    id_bytes = id_bytes or {}
    columns = {}
    for spec in TABLES[name]:
        known = spec.name in id_bytes
        checks = _checks(spec, decimal_comma, known)
        if name == "patients" and spec.name == "patient_id":
            checks.append(_unique_check(id_bytes.get(spec.name)))
        columns[spec.name] = pa.Column(None, checks=checks, nullable=known or not spec.value_required,
                                       required=spec.column_required, coerce=False,
                                       description=spec.expectation())
    return pa.DataFrameSchema(columns, strict=False, name=name)


def check_table(name: str, table: RawTable) -> tuple[list[Problem], pd.DataFrame, dict[str, IdBytes]]:
    """Every cell of ``table`` that breaks a per-column rule of the contract.

    Parameters
    ----------
    name : str
        Table name in :data:`ketanb.contract.TABLES`.
    table : RawTable
        The table as read (all its required columns present).

    Returns
    -------
    problems : list of Problem
        In column order of the contract, then by rule, then by row; at most
        :data:`EXAMPLES_PER_CHECK` rows quoted per column and rule, followed by
        one line counting the rest.
    normalised : pandas.DataFrame
        The checked columns as :func:`normalise` made them (for parsing).
    id_bytes : dict
        Ids in bytes, as :func:`normalise` gives them.
    """
    specs = TABLES[name]
    normalised, id_bytes = normalise(table, specs)
    try:
        table_schema(name, table.decimal_comma, id_bytes).validate(normalised, lazy=True)
        return [], normalised, id_bytes
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
        if check == "not_nullable":
            expected = f"a value is required: {spec.expectation()}"
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
    return problems, normalised, id_bytes
