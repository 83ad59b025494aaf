"""Stage 3, subgroups: outcome by the ``group_by`` column and tests across groups."""
from __future__ import annotations

import numpy as np
import pandas as pd

from .contract import PAIN_MECHANISMS
from .stats import fisher_freeman_halton, kruskal_wallis, proportion

__all__ = ["group_labels", "subgroup_table", "subgroup_summary", "UNCLASSIFIED"]

UNCLASSIFIED = "unclassified"


def group_labels(outcomes: pd.DataFrame, *, group_by: str) -> pd.Series:
    """The subgroup of each patient as text, missing for an empty value.

    Values are compared as written after trimming; the pain mechanism codes are
    already normalised to lower case by the cleaning stage.
    """
    if group_by not in outcomes.columns:
        raise KeyError(f"group_by column {group_by!r} is not a column of the cohort")
    text = outcomes[group_by].astype("string").str.strip()
    return text.mask(text == "")


def _label_array(d: pd.DataFrame, group_by: str) -> np.ndarray:
    return group_labels(d, group_by=group_by).to_numpy(dtype=object, na_value=None)


def _order(labels, group_by: str) -> list[str]:
    present = sorted(set(labels))
    if group_by == "pain_mechanism":
        known = [m for m in PAIN_MECHANISMS if m in present]
        return known + [v for v in present if v not in known]
    return present


def subgroup_table(outcomes: pd.DataFrame, *, group_by: str, confidence: float = 0.95) -> pd.DataFrame:
    """Favorable outcome by subgroup, patients in the outcome denominator.

    Returns
    -------
    pandas.DataFrame
        One row per group (pain mechanisms in the contract's order, other
        values sorted), columns ``group``, ``n``, ``favorable``, ``proportion``,
        ``ci_low``, ``ci_high``, ``n_followup`` (patients with a follow-up NRS)
        and ``median_reduction_pct`` (among them). Unclassified patients are
        not in the table (see :func:`subgroup_summary`).
    """
    d = outcomes[outcomes["in_denominator"].to_numpy(dtype=bool)]
    labels = _label_array(d, group_by)
    rows = []
    for group in _order(labels[~pd.isna(labels)], group_by):
        members = d[labels == group]
        p = proportion(int(members["favorable"].sum()), len(members), confidence)
        reductions = members["reduction_pct"].dropna()
        rows.append({"group": group, "n": p.n, "favorable": p.events, "proportion": p.proportion,
                     "ci_low": p.ci_low, "ci_high": p.ci_high, "n_followup": int(len(reductions)),
                     "median_reduction_pct": float(reductions.median()) if len(reductions) else None})
    columns = ["group", "n", "favorable", "proportion", "ci_low", "ci_high", "n_followup",
               "median_reduction_pct"]
    return pd.DataFrame(rows, columns=columns)


def subgroup_summary(outcomes: pd.DataFrame, *, group_by: str, confidence: float = 0.95) -> dict:
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
    labels = _label_array(d, group_by)
    table = subgroup_table(outcomes, group_by=group_by, confidence=confidence)
    ffh = fisher_freeman_halton(table["favorable"].tolist(), table["n"].tolist())
    samples = [d.loc[labels == g, "reduction_pct"].dropna().to_numpy()
               for g in table["group"]]
    kw = kruskal_wallis(samples)
    groups = {row.group: {"n": int(row.n), "favorable": int(row.favorable), "proportion": row.proportion,
                          "ci_low": row.ci_low, "ci_high": row.ci_high}
              for row in table.itertuples(index=False)}
    return {"group_by": group_by, "unclassified": int(pd.isna(labels).sum()), "groups": groups,
            "fisher_freeman_halton_p": ffh.p_value, "kruskal_wallis_p": kw.p_value,
            "fisher_freeman_halton_method": ffh.method, "kruskal_wallis_h": kw.statistic,
            "kruskal_wallis_n": int(sum(len(s) for s in samples))}
