"""Stage 3, subgroups: outcome by the ``group_by`` column and tests across groups."""
from __future__ import annotations

import numpy as np
import pandas as pd

from .contract import PAIN_MECHANISMS
from .errors import ParameterError
from .stats import fisher_freeman_halton, kruskal_wallis, proportion

__all__ = ["assign_groups", "band_labels", "subgroup_table", "subgroup_summary", "UNCLASSIFIED",
           "NUMERIC_COLUMNS"]

#: Numeric columns of patients.csv: a group_by on one of them needs group_edges.
NUMERIC_COLUMNS = ("age", "pain_duration_months", "baseline_nrs", "followup_nrs", "n_infusions")

UNCLASSIFIED = "unclassified"


def band_labels(edges) -> list[str]:
    """Names of the bands cut by ``edges``: ``[40, 60]`` gives ``<40``, ``40-<60``, ``>=60``."""
    e = [f"{x:g}" for x in edges]
    return [f"<{e[0]}"] + [f"{a}-<{b}" for a, b in zip(e, e[1:])] + [f">={e[-1]}"]


def assign_groups(frame: pd.DataFrame, *, group_by: str, edges=()) -> pd.Series:
    """The subgroup of each patient: an ordered categorical, missing for an empty value.

    Parameters
    ----------
    frame : pandas.DataFrame
        Patients (cohort or outcomes), with the ``group_by`` column.
    group_by : str
        Column that defines the groups: a code (pain_mechanism, sex), free
        text (diagnosis) or a number cut into bands by ``edges``.
    edges : sequence of float, optional
        Cut points of the bands, each band closed on the left: ``[40, 60]``
        gives ``<40``, ``40-<60`` and ``>=60``.

    Returns
    -------
    pandas.Series
        Categorical, categories in a meaningful order: pain mechanisms in the
        contract's order, bands in the order of the edges, other values sorted.

    Raises
    ------
    ParameterError
        ``group_by`` is a numeric column of the contract and no ``edges`` are
        given (each distinct age would be a group).
    """
    if group_by not in frame.columns:
        raise ParameterError(f"parameter group_by: {group_by!r} is not a column of patients.csv")
    values = frame[group_by]
    if len(edges):
        numbers = pd.to_numeric(values, errors="coerce").astype("float64")
        bins = [-np.inf, *edges, np.inf]
        return pd.Series(pd.cut(numbers, bins, right=False, labels=band_labels(edges)), index=frame.index,
                         name=group_by)
    if group_by in NUMERIC_COLUMNS:
        raise ParameterError(f"parameter group_by: {group_by!r} is a number; give group_edges "
                             "(cut points, e.g. [40, 60]) to make bands of it")
    codes, uniques = pd.factorize(values.to_numpy(dtype=object))  # work on the distinct values only
    labels = pd.Index(uniques, dtype=object).astype(str).str.strip()
    labels = labels.where(labels != "")
    present = sorted(set(labels.dropna()))
    if group_by == "pain_mechanism":
        known = [m for m in PAIN_MECHANISMS if m in present]
        present = known + [v for v in present if v not in known]
    position = pd.Index(present, dtype=object).get_indexer(labels)       # -1 for missing
    group_codes = np.append(position, -1)[codes]
    return pd.Series(pd.Categorical.from_codes(group_codes, categories=present, ordered=True),
                     index=frame.index, name=group_by)


def subgroup_table(outcomes: pd.DataFrame, *, group_by: str, confidence: float = 0.95,
                   edges=()) -> pd.DataFrame:
    """Favorable outcome by subgroup, patients in the outcome denominator.

    Groups are made by :func:`assign_groups` (``edges`` cut a numeric column
    into bands); a group with no patient in the denominator gets no row.

    Returns
    -------
    pandas.DataFrame
        One row per group (in the order of :func:`assign_groups`), columns ``group``, ``n``, ``favorable``, ``proportion``,
        ``ci_low``, ``ci_high``, ``n_followup`` (patients with a follow-up NRS)
        and ``median_reduction_pct`` (among them). Unclassified patients are
        not in the table (see :func:`subgroup_summary`).
    """
    d = outcomes[outcomes["in_denominator"].to_numpy(dtype=bool)]
    labels = assign_groups(d, group_by=group_by, edges=edges)
    rows = []
    for group in labels.cat.categories:
        members = d[(labels == group).to_numpy()]
        if members.empty:  # a band nobody falls in
            continue
        p = proportion(int(members["favorable"].sum()), len(members), confidence)
        reductions = members["reduction_pct"].dropna()
        rows.append({"group": group, "n": p.n, "favorable": p.events, "proportion": p.proportion,
                     "ci_low": p.ci_low, "ci_high": p.ci_high, "n_followup": int(len(reductions)),
                     "median_reduction_pct": float(reductions.median()) if len(reductions) else None})
    columns = ["group", "n", "favorable", "proportion", "ci_low", "ci_high", "n_followup",
               "median_reduction_pct"]
    return pd.DataFrame(rows, columns=columns)


def subgroup_summary(outcomes: pd.DataFrame, *, group_by: str, confidence: float = 0.95,
                     edges=()) -> dict:
    """The ``subgroups`` section of results.json.

    Returns
    -------
    dict
        ``group_by``, ``unclassified`` (denominator patients with an empty
        value), ``groups`` (``{group: {n, favorable, proportion, ci_low,
        ci_high}}``), ``fisher_freeman_halton_p`` and ``kruskal_wallis_p``
        (``None`` when not computable), plus ``fisher_freeman_halton_method``,
        ``kruskal_wallis_h`` and ``kruskal_wallis_n``.
    """
    d = outcomes[outcomes["in_denominator"].to_numpy(dtype=bool)]
    labels = assign_groups(d, group_by=group_by, edges=edges)
    table = subgroup_table(outcomes, group_by=group_by, confidence=confidence, edges=edges)
    ffh = fisher_freeman_halton(table["favorable"].tolist(), table["n"].tolist())
    samples = [d.loc[(labels == g).to_numpy(), "reduction_pct"].dropna().to_numpy()
               for g in table["group"]]
    kw = kruskal_wallis(samples)
    groups = {row.group: {"n": int(row.n), "favorable": int(row.favorable), "proportion": row.proportion,
                          "ci_low": row.ci_low, "ci_high": row.ci_high}
              for row in table.itertuples(index=False)}
    return {"group_by": group_by, "group_edges": [float(e) for e in edges],
            "unclassified": int(labels.isna().sum()), "groups": groups,
            "fisher_freeman_halton_p": ffh.p_value, "kruskal_wallis_p": kw.p_value,
            "fisher_freeman_halton_method": ffh.method, "kruskal_wallis_h": kw.statistic,
            "kruskal_wallis_n": int(sum(len(s) for s in samples))}
