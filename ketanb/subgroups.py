"""Stage 3, subgroups: outcome by the ``group_by`` column, tests across groups, effect sizes.

Small groups are pooled first (contract, section 5): a value held by fewer
than ``min_group_size`` patients of the outcome denominator is not reported on
its own; those patients form the group ``other``, or are counted as
``unclassified`` when ``other`` would itself be too small. Every table and
figure uses the groups of :func:`assign_groups`, so no output points at one patient.
:func:`run` is the stage: every result of it in one call, for notebook 03 and
:func:`ketanb.analysis.analyse`.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from .baseline import included_vs_excluded, table1
from .disclosure import Disclosure, disclose, pool_small_groups
from .errors import ParameterError
from .input.contract import OTHER_TEXT, PAIN_MECHANISMS, UNCLASSIFIED
from .params import Params, as_written, band_labels
from .stats import fisher_freeman_halton, kruskal_wallis, newcombe_difference, odds_ratio_exact, proportion

__all__ = ["Subgroups", "run", "titles", "assign_groups", "carry_groups", "reduction_disclosure", "subgroup_table",
           "subgroup_summary", "subgroup_effects", "reference_group"]


def _labels(frame: pd.DataFrame, group_by: str, edges) -> tuple[pd.Series, list[str]]:
    """Each patient's value of ``group_by`` as text (missing when empty), and the values in display order."""
    if group_by not in frame.columns:
        raise ParameterError(f"parameter group_by: {group_by!r} is not a column of patients.csv")
    values = frame[group_by]
    if len(edges):
        numbers = pd.to_numeric(values, errors="coerce").astype("float64")
        bands = pd.cut(numbers, [-np.inf, *edges, np.inf], right=False, labels=band_labels(edges))
        return pd.Series(bands, index=frame.index).astype("str").where(numbers.notna()), band_labels(edges)
    text = values.astype("str").str.strip()
    text = text.where(values.notna() & (text != "") & (text.str.lower() != UNCLASSIFIED))   # written: so it is
    present = sorted(text.dropna().unique())
    known = [m for m in PAIN_MECHANISMS if m in present] if group_by == "pain_mechanism" else []
    return text, known + [v for v in present if v not in known]


def _counted(frame: pd.DataFrame, group_by: str, edges) -> tuple[pd.Series, dict[str, int]]:
    """Labels of :func:`_labels`, and each value in display order with how many patients hold it: those
    with ``in_denominator`` True when the column is there, otherwise all rows (0: none of those)."""
    labels, order = _labels(frame, group_by, edges)
    counted = labels[frame["in_denominator"].to_numpy(dtype=bool)] if "in_denominator" in frame else labels
    counts = counted.value_counts()
    return labels, {v: int(counts.get(v, 0)) for v in order}


def assign_groups(frame: pd.DataFrame, *, group_by: str, edges=(), min_group_size: int = 1) -> pd.Series:
    """The subgroup of each patient after the small-group rule: a categorical, missing = unclassified.

    Parameters
    ----------
    frame : pandas.DataFrame
        Patients (cohort or outcomes) with the ``group_by`` column. Group
        sizes are counted among the patients with ``in_denominator`` True
        when the column is there, otherwise among all rows.
    group_by : str
        Column that defines the groups: a code, free text or a number cut
        into bands by ``edges`` (``[40, 60]``: ``<40``, ``40-<60``, ``>=60``).
    min_group_size : int
        Values held by fewer patients go to ``other``; if ``other`` would
        hold fewer than this, its patients are unclassified instead.
        Patients whose value is written ``other`` (any case) join that group,
        and a value written ``unclassified`` counts as empty (see
        ``docs/data-contract.md``, "Readings of the contract").

    Returns
    -------
    pandas.Series
        Categorical; categories in a meaningful order (pain mechanisms in the
        contract's order, bands in order, other values sorted, ``other``
        last); only categories that keep patients.
    """
    labels, sizes = _counted(frame, group_by, edges)
    # the small values, and a value written "other" (such as discontinuation's code): one group "other"
    kept, _, other = pool_small_groups(sizes, min_group_size)
    return _grouped(labels, kept + ([OTHER_TEXT] if other else []), group_by)


def carry_groups(frame: pd.DataFrame, groups: pd.Series, *, group_by: str, edges=()) -> pd.Series:
    """The groups of :func:`assign_groups` for other patients, such as every treated one, so that no
    output lists a pooled value (contract, section 5)."""
    labels, _ = _labels(frame, group_by, edges)
    return _grouped(labels, list(groups.cat.categories), group_by)


def _grouped(labels: pd.Series, categories: list[str], name: str) -> pd.Series:
    """Each value as its group: a group keeps its name; any other value goes to ``other`` when there is
    such a group, else it is unclassified (missing)."""
    other = OTHER_TEXT if OTHER_TEXT in categories else None
    grouped = labels.where(labels.isin(categories), other).where(labels.notna())
    return pd.Series(pd.Categorical(grouped, categories=categories, ordered=True), index=labels.index, name=name)


def pooled_values(frame: pd.DataFrame, *, group_by: str, edges=(), min_group_size: int = 1) -> int:
    """How many values of ``group_by`` were held by fewer than ``min_group_size`` patients (a count only)."""
    _, sizes = _counted(frame, group_by, edges)
    return len(pool_small_groups(sizes, min_group_size)[1])


def reduction_disclosure(outcomes: pd.DataFrame, groups: pd.Series, min_group_size: int) -> Disclosure:
    """Which groups may show how the reduction in pain spreads among their patients: their responder curve
    (:func:`ketanb.outcomes.responder_curve`) and their median and quartiles (:func:`subgroup_table`). One
    decision for both, since the overall responder curve, every patient with a follow-up NRS, is shown
    beside them: the whole of that partition is the groups and ``unclassified`` together.

    :func:`ketanb.disclosure.disclose` over the patients of the outcome denominator with a follow-up NRS in
    each group (groups without a patient in the denominator left out), ``unclassified`` always withheld:
    with 1 to ``min_group_size - 1`` unclassified patients, the smallest groups are withheld with them, so
    that the overall curve minus the shown groups' never gives fewer than ``min_group_size`` patients' values.
    """
    keep = outcomes["in_denominator"].to_numpy(dtype=bool)
    measured = outcomes["has_followup"].to_numpy(dtype=bool)[keep]
    in_group = groups[keep]
    members = {str(g): (in_group == g).to_numpy() for g in groups.cat.categories}
    sizes = {g: int((mask & measured).sum()) for g, mask in members.items() if mask.any()}
    sizes[UNCLASSIFIED] = int((in_group.isna().to_numpy() & measured).sum())
    return disclose(sizes, min_group_size, withheld=[UNCLASSIFIED])


def subgroup_table(outcomes: pd.DataFrame, groups: pd.Series, *, confidence: float = 0.95,
                   min_group_size: int = 1) -> pd.DataFrame:
    """Favorable outcome by subgroup, patients in the outcome denominator.

    Returns
    -------
    pandas.DataFrame
        One row per group (in category order, groups without a patient in the
        denominator left out): ``group``, ``n``, ``favorable``, ``proportion``,
        ``ci_low``, ``ci_high`` (Wilson), ``n_followup`` and
        ``median_reduction_pct`` with its quartiles ``reduction_q1``,
        ``reduction_q3`` (among those with a follow-up NRS, quartiles as pandas'
        and R's default, type 7; NaN for a group whose responder curve is
        withheld, :func:`reduction_disclosure`: fewer than ``min_group_size``
        have one, or the overall curve minus the shown groups' would give a
        small unclassified part's values).
    """
    keep = outcomes["in_denominator"].to_numpy(dtype=bool)
    d, g = outcomes.loc[keep, ["favorable", "reduction_pct"]], groups[keep]   # the two columns counted
    members = {group: d[(g == group).to_numpy()] for group in g.cat.categories}
    members = {group: m for group, m in members.items() if not m.empty}        # a band nobody falls in: left out
    reductions = {group: m["reduction_pct"].dropna() for group, m in members.items()}
    shown = reduction_disclosure(outcomes, groups, min_group_size)
    rows = []
    for group, m in members.items():
        r = reductions[group]
        quantiles = r.quantile([0.5, 0.25, 0.75]).tolist() if shown.shows(group) else [float("nan")] * 3
        rows.append({"group": group, **proportion(int(m["favorable"].sum()), len(m), confidence).block(),
                     "n_followup": len(r), "median_reduction_pct": float(quantiles[0]),
                     "reduction_q1": float(quantiles[1]), "reduction_q3": float(quantiles[2])})
    columns = ["group", "n", "favorable", "proportion", "ci_low", "ci_high", "n_followup", "median_reduction_pct",
               "reduction_q1", "reduction_q3"]
    return pd.DataFrame(rows, columns=columns)


def reference_group(table: pd.DataFrame, wanted: str | None) -> str | None:
    """The group the others are compared with: ``wanted``, else the largest (ties: alphabetical, ignoring case).

    ``wanted`` may differ from the group's name in case only (``Neuropathic``) when no other group
    matches it that way too.
    """
    if wanted is not None:
        names = [str(g) for g in table["group"]]
        same = [g for g in names if g == wanted] or [g for g in names if g.lower() == str(wanted).lower()]
        if len(same) != 1:
            raise ParameterError(f"parameter reference_group: {wanted!r} is not one of the groups "
                                 f"({', '.join(names) or 'none'})")
        return same[0]
    if table.empty:
        return None
    largest = table.loc[table["n"] == table["n"].max(), "group"].astype(str)
    return min(largest, key=lambda name: (name.lower(), name))   # alphabetical as a reader sorts: crps < Fibromyalgia


def _versus(group: dict, reference: dict, confidence: float) -> dict:
    """Risk difference (Newcombe) and odds ratio (conditional MLE, exact) of a group vs the reference."""
    rd, low, high = newcombe_difference(group["favorable"], group["n"], reference["favorable"], reference["n"],
                                        confidence)
    a, c = group["favorable"], reference["favorable"]
    return {"risk_difference": rd, "rd_ci_low": low, "rd_ci_high": high,
            **odds_ratio_exact(a, group["n"] - a, c, reference["n"] - c, confidence)}


def subgroup_summary(outcomes: pd.DataFrame, groups: pd.Series, *, group_by: str, confidence: float = 0.95,
                     edges=(), min_group_size: int = 1, reference: str | None = None,
                     table: pd.DataFrame | None = None) -> dict:
    """The ``subgroups`` section of results.json (``table``: :func:`subgroup_table` of the same arguments, when
    the caller has it already).

    Returns
    -------
    dict
        ``group_by``, ``group_edges``, ``min_group_size``, ``unclassified``
        (denominator patients without a group), ``pooled_values``, ``groups``
        (``{group: {n, favorable, proportion, ci_low, ci_high[, vs_reference]}}``),
        ``reference``, ``fisher_freeman_halton_p``, ``kruskal_wallis_p``
        (None when not computable) and how each test was done;
        ``kruskal_wallis_h``, its degrees of freedom ``kruskal_wallis_df``
        (groups with a value, minus one; None when not computed) and
        ``kruskal_wallis_n`` (patients with a follow-up NRS in the groups tested).
        Kruskal-Wallis compares ``kruskal_wallis_groups``, the groups whose reductions
        in pain may be shown (:func:`reduction_disclosure`); Fisher-Freeman-Halton
        every group (it reads their counts, which are shown).
    """
    keep = outcomes["in_denominator"].to_numpy(dtype=bool)
    if table is None:                                    # run() hands over the one it made
        table = subgroup_table(outcomes, groups, confidence=confidence, min_group_size=min_group_size)
    ffh = fisher_freeman_halton(table["favorable"].tolist(), table["n"].tolist())
    with_followup = keep & outcomes["has_followup"].to_numpy(dtype=bool)
    # the groups whose reductions in pain may be shown (reduction_disclosure): the test of a withheld group's
    # values, beside the overall responder curve, would give back what its curve and quartiles withhold
    shown = reduction_disclosure(outcomes, groups, min_group_size)
    tested = [str(g) for g in table["group"] if shown.shows(str(g))]
    samples = [outcomes.loc[with_followup & (groups == g).to_numpy(), "reduction_pct"].to_numpy() for g in tested]
    kw = kruskal_wallis(samples)
    ref = reference_group(table, reference)
    blocks = {row["group"]: {k: row[k] for k in ("n", "favorable", "proportion", "ci_low", "ci_high")}
              for row in table.to_dict("records")}
    for name, block in blocks.items():
        if name != ref:
            block["vs_reference"] = _versus(block, blocks[ref], confidence)
    return {"group_by": group_by, "group_edges": [as_written(e) for e in edges], "min_group_size": min_group_size,
            "unclassified": int(groups[keep].isna().sum()),
            "pooled_values": pooled_values(outcomes, group_by=group_by, edges=edges, min_group_size=min_group_size),
            "groups": blocks, "reference": ref,
            "fisher_freeman_halton_p": ffh.p_value, "kruskal_wallis_p": kw.p_value,
            "fisher_freeman_halton_method": ffh.method, "kruskal_wallis_h": kw.statistic,
            "kruskal_wallis_n": int(sum(len(s) for s in samples)), "kruskal_wallis_groups": tested,
            "kruskal_wallis_df": None if kw.statistic is None else sum(1 for s in samples if len(s)) - 1}


def titles(min_group_size: int) -> dict:
    """The titles of stage 03's tables, by the name of the file each is written to."""
    described = f"median [Q1 to Q3] or n (%); fewer than {min_group_size} patients: a count alone"
    return {"table1": f"Table 1: included patients; {described}",
            "included_vs_excluded": f"Included and excluded patients; {described}",
            "subgroups": "Favorable outcome by subgroup, and compared with the reference group (exploratory)"}


def subgroup_effects(table: pd.DataFrame, summary: dict) -> pd.DataFrame:
    """:func:`subgroup_table` with each group's comparison with the reference group beside it (from
    ``summary``, :func:`subgroup_summary`): results/subgroups.csv."""
    keys = ["risk_difference", "rd_ci_low", "rd_ci_high", "odds_ratio", "or_ci_low", "or_ci_high", "fisher_p"]
    versus = [summary["groups"][g].get("vs_reference", {}) for g in table["group"]]
    out = table.copy()
    for key in keys:
        out[key] = pd.array([v.get(key) for v in versus], dtype="Float64")
    out.insert(1, "reference", table["group"] == summary["reference"])
    return out


@dataclass(frozen=True)
class Subgroups:
    """What stage 03 gives: every result it shows, writes or draws.

    Attributes
    ----------
    groups : pandas.Series
        :func:`assign_groups` of the patients analysed.
    table1, included_vs_excluded : pandas.DataFrame or None
        :func:`ketanb.baseline.table1` by subgroup, and :func:`ketanb.baseline.included_vs_excluded`
        with the subgroups as a row (None when :func:`run` was asked for no tables).
    table : pandas.DataFrame
        :func:`subgroup_table`: favorable outcome by subgroup.
    effects : pandas.DataFrame
        :func:`subgroup_effects`: the same with each group's comparison with the reference group.
    summary : dict
        :func:`subgroup_summary`: the ``subgroups`` section of results.json.
    titles : dict
        :func:`titles` of the tables.
    """

    groups: pd.Series
    table1: pd.DataFrame | None
    included_vs_excluded: pd.DataFrame | None
    table: pd.DataFrame
    effects: pd.DataFrame
    summary: dict
    titles: dict


def run(outcomes: pd.DataFrame, cohort: pd.DataFrame, params: Params, *, tables: bool = True) -> Subgroups:
    """Stage 03: the patients' characteristics and their outcome by subgroup.

    ``outcomes`` is stage 02's per-patient result (:func:`ketanb.outcomes.derive_outcomes`), ``cohort``
    stage 01's (:func:`ketanb.cleaning.derive_cohort`). ``tables`` False: the ``subgroups`` section alone
    (``table1`` and ``included_vs_excluded`` None), what :func:`ketanb.analysis.analyse` needs: at a million
    patients the two tables would take half a minute.
    """
    size = params.min_group_size
    groups = assign_groups(outcomes, group_by=params.group_by, edges=params.group_edges, min_group_size=size)
    table = subgroup_table(outcomes, groups, confidence=params.confidence, min_group_size=size)
    summary = subgroup_summary(outcomes, groups, group_by=params.group_by, confidence=params.confidence,
                               edges=params.group_edges, min_group_size=size, reference=params.reference_group,
                               table=table)
    effects = subgroup_effects(table, summary)
    if not tables:
        return Subgroups(groups, None, None, table, effects, summary, titles(size))
    everyone = carry_groups(cohort, groups, group_by=params.group_by, edges=params.group_edges)
    return Subgroups(groups, table1(outcomes, groups, min_group_size=size, p_values=params.table1_p_values),
                     included_vs_excluded(cohort, min_group_size=size, groups=everyone), table, effects, summary,
                     titles(size))
