"""Table 1: baseline characteristics by subgroup, and included against excluded patients.

Built with tableone: median [Q1 to Q3] for the skewed numeric variables, n (%)
for categories, a count of missing values per variable. A column of fewer
than ``min_group_size`` patients shows its count only (contract, section 5).
No p-values by default: STROBE's explanation of item 14a advises against
testing baseline differences. With ``p_values`` the tests are ketanb's
(tableone's chi-squared is unreliable with small counts): the exact
Fisher-Freeman-Halton test for a two-level category, Kruskal-Wallis for
numbers; categories with more levels are described, not tested.
"""
from __future__ import annotations

import warnings

import pandas as pd

from .disclosure import disclose, pool_rare_text
from .input.contract import TREATED_MEANS, UNCLASSIFIED
from .stats import fisher_freeman_halton, kruskal_wallis

__all__ = ["TABLE1_VARIABLES", "table1", "included_vs_excluded"]

#: The level of the row that counts a variable's missing values per column (parenthesised: no value reads so).
MISSING_LEVEL = "(missing)"

#: The column of the subgroups of stage 03 in the comparison of included and excluded patients.
SUBGROUP = "__subgroup"

#: Variables of Table 1 written as free text: a value held by fewer than min_group_size patients is "other".
FREE_TEXT = ("diagnosis",)

#: Variables of Table 1: column -> (label, kind); "number" variables are shown as median [Q1 to Q3].
TABLE1_VARIABLES = {
    "age": ("Age, years", "number"),
    "sex": ("Sex", "category"),
    "diagnosis": ("Diagnosis", "category"),
    "pain_duration_months": ("Pain duration, months", "number"),
    "baseline_nrs": ("Baseline NRS (0-10)", "number"),
    "n_infusions": ("Infusions per patient", "number"),
}


def _p_value(values: pd.Series, groups: pd.Series, kind: str) -> tuple[float | None, str]:
    """The test of one variable across the groups (patients without a group left out)."""
    known = groups.notna().to_numpy()
    values, groups = values[known], groups[known].astype(str)
    names = sorted(set(groups))
    if kind == "number":
        return kruskal_wallis([values[(groups == g).to_numpy()].dropna() for g in names]).p_value, "Kruskal-Wallis"
    levels = sorted(values.dropna().unique())
    if len(levels) != 2:
        return None, "not tested (more than two categories)" if len(levels) > 2 else "not tested"
    present = values.notna().to_numpy()
    first = (values == levels[0]).to_numpy() & present
    counts = [int((first & (groups == g).to_numpy()).sum()) for g in names]
    totals = [int((present & (groups == g).to_numpy()).sum()) for g in names]
    return fisher_freeman_halton(counts, totals).p_value, "Fisher-Freeman-Halton exact"


def _shows(disclosure, column: str) -> bool:
    """Whether a column of :func:`describe` may show statistics (``overall`` is the whole)."""
    return disclosure.whole if column == "overall" else disclosure.shows(column)


def _with_note(made: pd.DataFrame, variable: str, text: str) -> pd.DataFrame:
    """``made`` with a last row of text, ``variable`` and ``text`` (in ``level``); every empty cell ``""``."""
    note = pd.DataFrame([{"variable": variable, "level": text}], columns=made.columns)
    return pd.concat([made.astype(object), note.astype(object)], ignore_index=True).fillna("")


def _missing_rows(made: pd.DataFrame, frame: pd.DataFrame, described: list[str], columns: list[str]) -> pd.DataFrame:
    """``made`` with a row ``(missing)`` after each variable that has missing values: their count in each
    column whose values of that variable are shown (a blank cell stays blank)."""
    rows = []
    for variable, block in made.groupby("variable", sort=False):
        rows.append(block)
        if variable not in described or not frame[variable].isna().any():
            continue
        first = block.iloc[0]
        counts = {c: str(int((frame[variable] if c == "overall" else
                              frame.loc[frame["__group"] == c, variable]).isna().sum())) if first[c] else ""
                  for c in columns}
        rows.append(pd.DataFrame([{"variable": variable, "level": MISSING_LEVEL, "missing": "", **counts}]))
    return pd.concat(rows, ignore_index=True)[made.columns].fillna("")


def describe(patients: pd.DataFrame, columns: pd.Series, *, min_group_size: int = 1, p_values: bool = False,
             decimals: int = 1, keep_overall: bool = True, overall: str | None = None,
             extra: dict | None = None) -> pd.DataFrame:
    """The variables of :data:`TABLE1_VARIABLES`, overall and per value of ``columns``.

    Parameters
    ----------
    patients : pandas.DataFrame
        The patients described.
    columns : pandas.Series
        The column each patient belongs to (a categorical; missing values
        form a column ``unclassified``, left out when it holds fewer than
        ``min_group_size`` patients).
    min_group_size : int
        A column with fewer patients shows its count only; so does a category
        level held by fewer patients in a column, and a number with fewer
        values in a column is left out (contract, section 5). Nor may the
        overall column minus the others describe fewer patients (or values of a
        variable): :func:`ketanb.disclosure.disclose` says which columns keep
        their count only, and a last row ``Not described`` names them. Free
        text (the diagnosis) held by fewer patients of the table is shown as
        ``other``.
    keep_overall : bool
        When subtraction would describe too few patients, leave out further
        columns (True: Table 1) or the overall column (False: included vs excluded).
    p_values : bool
        Add ``p`` and ``test`` (across the columns, unclassified left out).
    overall : str, optional
        Which patients the overall column describes (``"the 45 included
        patients"``): a row ``Overall column`` says so, and names the
        unclassified patients it holds without a column of their own.
    extra : dict, optional
        More variables, column -> (label, kind), after those of :data:`TABLE1_VARIABLES`.

    Returns
    -------
    pandas.DataFrame
        Columns ``variable``, ``level`` (empty for numbers), ``missing`` (the
        overall count of missing values), ``overall``, one per group, then
        ``p`` and ``test`` if asked; every cell text; the first row is ``n``.
        A variable with missing values gets a row of level ``(missing)``: their
        count in each column whose values of that variable are shown. A
        category held by fewer than ``min_group_size`` patients of a column,
        none included, is its count alone: ``3``, ``0`` (never ``0 (0.0)``).
    """
    known = {**TABLE1_VARIABLES, **(extra or {})}
    from tableone import TableOne

    data = patients.reset_index(drop=True)
    groups = columns.reset_index(drop=True)
    variables = [c for c in known if c in data and c != groups.name]
    frame = pd.DataFrame({c: pd.to_numeric(data[c], errors="coerce").astype("float64")
                          if known[c][1] == "number" else data[c].astype(object).where(data[c].notna(), None)
                          for c in variables})
    for c in FREE_TEXT:                                           # a diagnosis of fewer patients: "other"
        if c in frame:
            frame[c] = pool_rare_text(frame[c], min_group_size)
    order = [str(g) for g in groups.cat.categories if (groups == g).any()]
    if groups.isna().any():
        order.append(UNCLASSIFIED)
    frame["__group"] = groups.astype(object).where(groups.notna(), UNCLASSIFIED).astype(str).to_numpy()
    if frame.empty:                                               # nobody to describe
        return pd.DataFrame([{"variable": "n", "level": "", "missing": "", "overall": "0"}])
    described = [c for c in variables if frame[c].notna().any()]
    numbers = [c for c in described if known[c][1] == "number"]
    with warnings.catch_warnings():  # tableone 0.9.6 inserts its n row with an idiom pandas 3 deprecates
        warnings.filterwarnings("ignore", message="Setting a new row on a DataFrame with a MultiIndex")
        # ... and computes a standard deviation (not shown: medians only) of every column, which numpy
        # warns about for a column of one value; the column's cells are withheld below anyway
        warnings.filterwarnings("ignore", message="Degrees of freedom <= 0", category=RuntimeWarning)
        made = TableOne(frame, columns=described, categorical=[c for c in described if c not in numbers],
                        continuous=numbers, nonnormal=numbers, groupby="__group", order={"__group": order},
                        missing=True, include_null=False, overall=True, pval=False, dip_test=False,
                        normal_test=False, tukey_test=False, decimals=decimals, label_suffix=False).tableone
    made.columns = [c[1] if isinstance(c, tuple) else c for c in made.columns]
    made = made.reset_index()
    made.columns = ["variable", "level", *made.columns[2:]]
    made = made.rename(columns={"Overall": "overall", "Missing": "missing"})
    made["level"] = made["level"].astype(str).str.strip()
    empty = [c for c in variables if c not in described]           # not recorded in this extract
    if empty:
        made = pd.concat([made, pd.DataFrame([{"variable": c, "level": "", "missing": len(frame),
                                               "overall": "not recorded"} for c in empty])], ignore_index=True)
    parts = list(order)                                           # unclassified too, even when left out below
    sizes = {"overall": len(frame), **{g: int((frame["__group"] == g).sum()) for g in parts}}
    shown = disclose({g: sizes[g] for g in parts}, min_group_size, keep_whole=keep_overall)
    for column in [c for c in ["overall", *parts] if not _shows(shown, c)]:   # a withheld column: its count only
        made[column] = [str(sizes[column]) if v == "n" else "" for v in made["variable"]]
    large = disclose({g: sizes[g] for g in parts}, min_group_size, keep_whole=False)   # each part on its own
    order = [g for g in order if g != UNCLASSIFIED or large.shows(g)]   # small unclassified: its count is in the text
    made = made[["variable", "level", "missing", "overall", *order]].fillna("").astype(str)
    tested = {}                          # the columns a variable's test may compare: those it is shown in
    for variable in described:           # the same rule on the patients with a value of each variable
        values = {g: int(frame.loc[frame["__group"] == g, variable].notna().sum()) for g in parts}
        row = disclose(values, min_group_size, keep_whole=keep_overall, withheld=shown.withheld)
        tested[variable] = row.parts
        rows = (made["variable"] == variable).to_numpy()
        for column in [c for c in ["overall", *order] if not _shows(row, c) and values.get(c, 1)]:
            made.loc[rows, column] = ""                           # (a column without values describes nobody)
        if not row.whole:                                         # the overall count of missing values too
            made.loc[rows, "missing"] = ""
    for column in ["overall", *order]:          # a category of fewer than min_group_size patients: its count alone
        members = frame if column == "overall" else frame[frame["__group"] == column]
        for variable in [v for v in described if v not in numbers]:
            rows = (made["variable"] == variable).to_numpy() & (made[column] != "").to_numpy()
            counts = {level: int((members[variable] == level).sum()) for level in made.loc[rows, "level"]}
            levels = disclose(counts, min_group_size, keep_whole=False)   # keep_whole=False: each level alone
            made.loc[rows, column] = [made.at[i, column] if levels.shows(level) else str(counts[level])
                                      for i, level in made.loc[rows, "level"].items()]   # 0 too (reading)
    # tableone writes quartiles "a [b,c]" (tableone.py, hard-coded); every interval here reads "a [b to c]"
    for column in ["overall", *order]:
        made[column] = made[column].str.replace(r"^(\S+) \[(\S+),(\S+)\]$", r"\1 [\2 to \3]", regex=True)
    made = _missing_rows(made, frame, described, ["overall", *order])
    first_row = ~made["variable"].duplicated().to_numpy()
    if p_values:  # not tableone's htest=: it tests every column, unclassified too, and writes p as text
        # a column withheld (small, or with a small one) is no test's either: the p of a two-level variable
        # across the columns is a function of each column's count, so it would give the withheld count back
        tests = {c: _p_value(frame[c], groups.where(groups.astype(object).isin(tested[c])), known[c][1])
                 for c in described}
        made["p"] = [tests[v][0] if v in tests and first else None for v, first in zip(made["variable"], first_row)]
        made["test"] = [tests[v][1] if v in tests and first else "" for v, first in zip(made["variable"], first_row)]
    made["variable"] = [known[v][0] if v in known else v for v in made["variable"]]
    withheld = [g for g in parts if not shown.shows(g)]
    if overall is not None and shown.whole:                       # which patients the overall column describes
        inside = (f"; the {sizes[UNCLASSIFIED]} unclassified among them have no column of their own"
                  if UNCLASSIFIED in parts and UNCLASSIFIED not in order else "")
        made = _with_note(made, "Overall column", f"{overall}{inside}")
    notes = [f"{', '.join(f'{g} (n = {sizes[g]})' for g in withheld)}: count only (fewer than {min_group_size} "
             f"patients, or left out with such a column so that the overall column minus the others describes at "
             f"least {min_group_size})"] if withheld else []
    if not shown.whole:
        notes.append(f"overall: count only (fewer than {min_group_size} patients in all, or it minus the other "
                     f"columns would describe fewer than {min_group_size})")
    if p_values and withheld:
        notes.append("p compares the columns shown only")
    if notes:                                                     # say what is left out, and why
        made = _with_note(made, "Not described", "; ".join(notes))
    return made


def table1(outcomes: pd.DataFrame, groups: pd.Series, *, min_group_size: int = 1, p_values: bool = False,
           decimals: int = 1) -> pd.DataFrame:
    """Table 1: baseline characteristics of the included patients, overall and by subgroup.

    ``outcomes`` are the included patients (:func:`ketanb.outcomes.derive_outcomes`),
    ``groups`` their subgroups (:func:`ketanb.subgroups.assign_groups`). See :func:`describe`.
    """
    return describe(outcomes, groups, min_group_size=min_group_size, p_values=p_values, decimals=decimals,
                    overall=f"all {len(outcomes)} included patients")


def included_vs_excluded(cohort: pd.DataFrame, *, min_group_size: int = 1, decimals: int = 1,
                         groups: pd.Series | None = None) -> pd.DataFrame:
    """Are the patients analysed like those left out? The variables of Table 1, included vs excluded.

    ``groups``: each patient's subgroup (:func:`ketanb.subgroups.carry_groups`). When the ``group_by``
    column is a category of Table 1 (``sex``, ``diagnosis``) it is shown as these groups, with
    ``unclassified``, so that the values pooled by the small-group rule are not listed; any other
    ``group_by`` (the pain mechanism, bands of a number) gets a row of its own, ``<group_by> (subgroup)``,
    the same groups.
    Returns the table of :func:`describe` with the columns ``included`` and ``excluded``; with fewer than
    ``min_group_size`` excluded patients the overall column keeps its count only (all treated minus the
    included would describe them), and the included column stays.
    """
    extra = None
    if groups is not None:
        named = groups.astype(object).where(groups.notna(), UNCLASSIFIED)
        if TABLE1_VARIABLES.get(groups.name, ("", ""))[1] == "category":
            cohort = cohort.assign(**{groups.name: named})
        else:                                                    # the subgroups of stage 03, as a row
            cohort = cohort.assign(**{SUBGROUP: named})
            extra = {SUBGROUP: (f"{str(groups.name).replace('_', ' ').capitalize()} (subgroup)", "category")}
    status = pd.Series(pd.Categorical(cohort["included"].map({True: "included", False: "excluded"}),
                                      categories=["included", "excluded"]), index=cohort.index, name="status")
    return describe(cohort, status, min_group_size=min_group_size, decimals=decimals, keep_overall=False,
                    overall=f"all {len(cohort)} treated patients ({TREATED_MEANS})", extra=extra)
