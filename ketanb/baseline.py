"""Table 1: baseline characteristics of the included patients, overall and by subgroup.

Built with tableone (median [Q1,Q3] for the skewed numeric variables, n (%)
for categories, a count of missing values per variable). tableone's own tests
use chi-squared for categories, which is unreliable with the small counts of a
single-centre cohort, so the p-values here are ketanb's: the exact
Fisher-Freeman-Halton test for a two-level category (groups x levels) and
Kruskal-Wallis for numbers. Categories with more than two levels (diagnosis)
are described, not tested. Patients without a group (unclassified) get their
own column and are left out of the tests, as in the subgroup analysis.
"""
from __future__ import annotations

import warnings

import pandas as pd

from .stats import fisher_freeman_halton, kruskal_wallis
from .subgroups import UNCLASSIFIED, assign_groups

__all__ = ["TABLE1_VARIABLES", "table1"]

#: Variables of Table 1: column -> (label, kind); "number" variables are shown as median [Q1,Q3].
TABLE1_VARIABLES = {
    "age": ("Age, years", "number"),
    "sex": ("Sex", "category"),
    "diagnosis": ("Diagnosis", "category"),
    "pain_duration_months": ("Pain duration, months", "number"),
    "baseline_nrs": ("Baseline NRS (0-10)", "number"),
    "n_infusions": ("Infusions per patient", "number"),
}


def _p_value(values: pd.Series, groups: pd.Series, kind: str) -> tuple[float | None, str]:
    known = groups.notna().to_numpy()
    values, groups = values[known], groups[known]
    names = list(groups.cat.categories)
    if kind == "number":
        samples = [values[(groups == g).to_numpy()].dropna().to_numpy(dtype=float) for g in names]
        return kruskal_wallis([s for s in samples if len(s)]).p_value, "Kruskal-Wallis"
    levels = sorted(values.dropna().unique())
    if len(levels) != 2:
        return None, "not tested (more than two categories)" if len(levels) > 2 else "not tested"
    first = (values == levels[0]).to_numpy()
    present = values.notna().to_numpy()
    counts = [int((first & present & (groups == g).to_numpy()).sum()) for g in names]
    totals = [int((present & (groups == g).to_numpy()).sum()) for g in names]
    keep = [i for i, t in enumerate(totals) if t]
    result = fisher_freeman_halton([counts[i] for i in keep], [totals[i] for i in keep])
    return result.p_value, "Fisher-Freeman-Halton exact"


def table1(cohort: pd.DataFrame, *, group_by: str, edges=(), decimals: int = 1) -> pd.DataFrame:
    """Baseline characteristics of the included patients, overall and by subgroup.

    Parameters
    ----------
    cohort : pandas.DataFrame
        As returned by :func:`ketanb.cleaning.derive_cohort`; only included
        patients are described.
    group_by, edges
        The subgroups, as in :func:`ketanb.subgroups.assign_groups`.
    decimals : int
        Decimals of medians, quartiles and percentages.

    Returns
    -------
    pandas.DataFrame
        Columns ``variable``, ``level`` (category, empty for numbers),
        ``missing`` (patients without a value), ``overall``, one column per
        group (plus ``unclassified`` when some patient has no group), ``p``
        and ``test``. The first row is ``n``.
    """
    from tableone import TableOne

    included = cohort[cohort["included"].to_numpy(dtype=bool)].reset_index(drop=True)
    groups = assign_groups(included, group_by=group_by, edges=edges)
    columns = [c for c in TABLE1_VARIABLES if c in included and c != group_by]
    data = included[columns].copy()
    for column in columns:
        if TABLE1_VARIABLES[column][1] == "number":
            data[column] = pd.to_numeric(data[column], errors="coerce").astype("float64")
        else:
            data[column] = data[column].astype(object).where(data[column].notna(), None)
    order = [str(g) for g in groups.cat.categories]
    label = groups.astype(object).where(groups.notna(), UNCLASSIFIED).astype(str)
    if groups.isna().any():
        order.append(UNCLASSIFIED)
    data["__group"] = label.to_numpy()
    empty = [c for c in columns if data[c].isna().all()]   # not recorded in this extract: one row, no summary
    described = [c for c in columns if c not in empty]
    numbers = [c for c in described if TABLE1_VARIABLES[c][1] == "number"]
    categories = [c for c in described if TABLE1_VARIABLES[c][1] == "category"]
    with warnings.catch_warnings():  # tableone 0.9.6 inserts its n row with an idiom pandas 3 deprecates
        warnings.filterwarnings("ignore", message="Setting a new row on a DataFrame with a MultiIndex")
        made = TableOne(data, columns=described, categorical=categories, continuous=numbers, nonnormal=numbers,
                        groupby="__group", order={"__group": order}, missing=True, overall=True, pval=False,
                        dip_test=False, normal_test=False, tukey_test=False, decimals=decimals,
                        label_suffix=False).tableone
    made.columns = [c[1] if isinstance(c, tuple) else c for c in made.columns]
    made = made.reset_index()
    made.columns = ["variable", "level"] + list(made.columns[2:])
    made = made.rename(columns={"Missing": "missing", "Overall": "overall"})
    made["level"] = made["level"].astype(str).str.strip()
    if empty:
        rows = pd.DataFrame([{"variable": c, "level": "", "overall": "not recorded",
                              **{g: "not recorded" for g in order}} for c in empty])
        made = pd.concat([made, rows], ignore_index=True)
    first_row = ~made["variable"].duplicated().to_numpy()
    missing = {c: int(data[c].isna().sum()) for c in columns}
    made["missing"] = [str(missing[v]) if v in missing and first else ""
                       for v, first in zip(made["variable"], first_row)]
    tests = {c: _p_value(data[c], groups, TABLE1_VARIABLES[c][1]) for c in described}
    made["p"] = [tests[v][0] if v in tests and first else None for v, first in zip(made["variable"], first_row)]
    made["test"] = [tests[v][1] if v in tests and first else "" for v, first in zip(made["variable"], first_row)]
    made["variable"] = [TABLE1_VARIABLES.get(v, (v,))[0] if v in TABLE1_VARIABLES else v
                        for v in made["variable"]]
    made = made[["variable", "level", "missing", "overall", *order, "p", "test"]]
    text = ["variable", "level", "missing", "overall", *order]
    made[text] = made[text].astype(str)
    return made
