"""Stage 2, outcomes: pain reduction and the favorable outcome, with sensitivity analyses.

:func:`is_favorable` is the one home of the contract's responder rule; every
estimate here (main analysis, sensitivity analyses, responder curve) calls it.
:func:`run` is the stage: every result of it in one call, for notebook 02 and
:func:`ketanb.analysis.analyse`.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from .disclosure import disclose, few_excluded
from .input.contract import TOLERANCE, UNCLASSIFIED
from .params import MISSING_FOLLOWUP_MODES, Params, as_written
from .stats import nrs_change, proportion
from .subgroups import assign_groups, reduction_disclosure

__all__ = ["Outcomes", "run", "is_favorable", "derive_outcomes", "outcome_summary",
           "responder_counts", "sensitivity", "sensitivity_table", "responder_curve", "SENSITIVITY_THRESHOLDS"]

#: Responder thresholds (percent) of the sensitivity analysis, the contract's 50 among them.
SENSITIVITY_THRESHOLDS = (30, 50, 70)


def is_favorable(patients: pd.DataFrame, threshold: float, *, missing_followup: str = "nonresponder",
                 side_effect_stops_unfavorable: bool = False) -> np.ndarray:
    """The contract's favorable outcome, patient by patient.

    Parameters
    ----------
    patients : pandas.DataFrame
        Needs ``baseline_nrs``, ``followup_nrs`` (float, NaN when missing) and
        ``discontinuation`` (text or missing).
    threshold : float
        Percent reduction from baseline that counts as a response.
    missing_followup : {"nonresponder", "exclude", "favorable"}
        ``favorable`` (the best case) counts a missing follow-up NRS as
        favorable unless the patient stopped for lack of effect; otherwise it
        is unfavorable (whether it stays in the denominator is
        :func:`derive_outcomes`' business).
    side_effect_stops_unfavorable : bool
        Also a discontinuation for side effects makes the outcome unfavorable
        (a sensitivity analysis; by the contract it does not).

    Returns
    -------
    numpy.ndarray of bool

    Notes
    -----
    reduction_pct = 100 (baseline - follow-up) / baseline. Favorable when the
    follow-up NRS is present, reduction_pct >= threshold - 1e-9 (a reduction
    of exactly the threshold counts, whatever floating point does) and the
    patient did not discontinue for lack of effect. :func:`ketanb.presentation.tables.favorable_rule`
    says it in words: change the two together.
    """
    reduction = reduction_pct(patients)
    stops = ["lack_of_effect", "side_effects"] if side_effect_stops_unfavorable else ["lack_of_effect"]
    stopped = patients["discontinuation"].isin(stops).to_numpy(dtype=bool)
    missing = np.isnan(patients["followup_nrs"].to_numpy(dtype=float))
    with np.errstate(invalid="ignore"):
        reached = reduction >= threshold - TOLERANCE          # NaN (no follow-up, no baseline) is False
    if missing_followup == "favorable":
        reached |= missing
    return reached & ~stopped


def reduction_pct(patients: pd.DataFrame) -> np.ndarray:
    """100 x (baseline - follow-up) / baseline; NaN without follow-up, negative when pain got worse."""
    baseline = patients["baseline_nrs"].to_numpy(dtype=float)
    followup = patients["followup_nrs"].to_numpy(dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        reduction = 100.0 * (baseline - followup) / baseline
    return np.where(np.isfinite(reduction), reduction, np.nan)


def derive_outcomes(cohort: pd.DataFrame, *, threshold: float = 50.0, missing_followup: str = "nonresponder",
                    side_effect_stops_unfavorable: bool = False, all_treated: bool = False) -> pd.DataFrame:
    """Reduction in pain and favorable outcome for every included patient.

    Parameters
    ----------
    cohort : pandas.DataFrame
        As returned by :func:`ketanb.cleaning.derive_cohort`.
    threshold, missing_followup, side_effect_stops_unfavorable
        As in :func:`is_favorable`. Under ``exclude`` every included patient
        without a follow-up NRS leaves the denominator (also one who stopped
        for lack of effect: the contract keys the rule on the missing NRS).
    all_treated : bool
        Every treated patient instead of the included ones (a sensitivity
        analysis): a missing or zero baseline, or a missing follow-up, is then
        unfavorable.

    Returns
    -------
    pandas.DataFrame
        The patients analysed (cohort order), with the cohort's columns plus
        ``reduction_pct`` (float, NaN without follow-up), ``has_followup``,
        ``favorable`` and ``in_denominator`` (bool). The input is not modified.
    """
    if missing_followup not in MISSING_FOLLOWUP_MODES:
        raise ValueError(f"missing_followup must be one of {MISSING_FOLLOWUP_MODES}, not {missing_followup!r}")
    out = cohort.copy() if all_treated else cohort[cohort["included"].to_numpy(dtype=bool)].copy()
    mode = "nonresponder" if all_treated else missing_followup
    out["reduction_pct"] = reduction_pct(out)
    out["has_followup"] = out["followup_nrs"].notna().to_numpy(dtype=bool)
    out["favorable"] = is_favorable(out, threshold, missing_followup=mode,
                                    side_effect_stops_unfavorable=side_effect_stops_unfavorable)
    out["in_denominator"] = out["has_followup"] | (mode != "exclude")
    return out


def _block(outcomes: pd.DataFrame, confidence: float, min_group_size: int = 1) -> dict:
    """``{n, favorable, proportion, ci_low, ci_high}`` of the outcome denominator; a denominator of
    fewer than ``min_group_size`` patients gets its counts only (the rest None, contract section 5)."""
    d = outcomes[outcomes["in_denominator"].to_numpy(dtype=bool)]
    block = proportion(int(d["favorable"].sum()), len(d), confidence).block()
    if not disclose({"all": len(d)}, min_group_size).whole:
        block.update(proportion=None, ci_low=None, ci_high=None)
    return block


def outcome_summary(outcomes: pd.DataFrame, *, threshold: float, confidence: float = 0.95,
                    min_group_size: int = 1) -> dict:
    """The ``outcome`` section of results.json.

    Returns
    -------
    dict
        ``threshold_pct`` (as ``parameters.responder_threshold``: 50, not 50.0),
        ``n`` (denominator), ``favorable``, ``proportion``,
        ``ci_low``, ``ci_high`` (Wilson; None with fewer than ``min_group_size``
        patients in the denominator: counts only), ``missing_followup`` (included
        patients without a follow-up NRS) and ``nrs_change`` (the change in
        pain of those with both NRS values, :func:`ketanb.stats.nrs_change`; with
        fewer than ``min_group_size`` of them, ``n`` alone: their medians would be
        their own scores, contract section 5).
    """
    both = outcomes["has_followup"].to_numpy(dtype=bool) & outcomes["baseline_nrs"].notna().to_numpy()
    change = nrs_change(outcomes.loc[both, "baseline_nrs"].to_numpy(float),
                        outcomes.loc[both, "followup_nrs"].to_numpy(float), confidence)
    if not disclose({"all": change["n"]}, min_group_size).whole:
        change = {**dict.fromkeys(change), "n": change["n"]}
    return {"threshold_pct": as_written(threshold), **_block(outcomes, confidence, min_group_size),
            "missing_followup": int((~outcomes["has_followup"].to_numpy(dtype=bool)).sum()),
            "nrs_change": change}


def responder_counts(outcomes: pd.DataFrame) -> pd.DataFrame:
    """How the denominator splits into favorable and the kinds of unfavorable outcome.

    Returns
    -------
    pandas.DataFrame
        Columns ``outcome`` and ``patients``; the rows add up to the denominator.
    """
    d = outcomes[outcomes["in_denominator"].to_numpy(dtype=bool)]
    lack = d["discontinuation"].eq("lack_of_effect").fillna(False).to_numpy(dtype=bool)
    fav = d["favorable"].to_numpy(dtype=bool)
    has = d["has_followup"].to_numpy(dtype=bool)
    rows = {"favorable": fav,
            "unfavorable: reduction below threshold": ~fav & has & ~lack,
            "unfavorable: stopped for lack of effect": ~fav & lack,
            "unfavorable: follow-up NRS missing": ~fav & ~has & ~lack}
    return pd.DataFrame({"outcome": list(rows), "patients": [int(mask.sum()) for mask in rows.values()]})


def sensitivity(cohort: pd.DataFrame, params: Params, thresholds=SENSITIVITY_THRESHOLDS) -> dict:
    """The ``sensitivity`` section of results.json: the outcome under other assumptions.

    Each analysis changes one assumption and keeps every other as in ``params``.

    Returns
    -------
    dict
        ``responder_threshold`` (one block per threshold), ``missing_followup``
        (one block per way of counting a missing follow-up NRS, the best case
        ``favorable`` among them), ``side_effect_stops_unfavorable`` and
        ``all_treated``; each block ``{n, favorable, proportion, ci_low, ci_high}``,
        the last three None when n is below ``params.min_group_size``; ``all_treated``
        keeps ``n`` alone when 1 to ``min_group_size - 1`` patients were excluded (it
        minus the main analysis would be their outcome: contract section 5).
    """
    # the columns the rule reads: eight copies of the whole cohort would be work for nothing
    needed = cohort[["included", "baseline_nrs", "followup_nrs", "discontinuation"]]

    def block(**changes) -> dict:
        rule = {"threshold": params.responder_threshold, "missing_followup": params.missing_followup, **changes}
        return _block(derive_outcomes(needed, **rule), params.confidence, params.min_group_size)

    everyone = block(all_treated=True)
    included = int(needed["included"].sum())
    if few_excluded(included, len(needed), params.min_group_size):   # all treated minus the included
        everyone.update(favorable=None, proportion=None, ci_low=None, ci_high=None)
    return {"responder_threshold": {f"{t:g}": block(threshold=t) for t in thresholds},
            "missing_followup": {m: block(missing_followup=m) for m in MISSING_FOLLOWUP_MODES},
            "side_effect_stops_unfavorable": block(side_effect_stops_unfavorable=True),
            "all_treated": everyone}


MISSING_LABELS = {"nonresponder": "missing follow-up NRS counted unfavorable",
                  "exclude": "missing follow-up NRS left out of the denominator",
                  "favorable": "missing follow-up NRS counted favorable (best case)"}


def sensitivity_table(outcome: dict, section: dict, params: Params) -> pd.DataFrame:
    """The main analysis and every sensitivity analysis, one row each (the main analysis once).

    Returns
    -------
    pandas.DataFrame
        Columns ``analysis`` (label), ``main_analysis`` (bool), ``n``,
        ``favorable``, ``proportion``, ``ci_low``, ``ci_high``.
    """
    main = (f"main analysis: threshold {params.responder_threshold:g} %, "
            f"{MISSING_LABELS[params.missing_followup].replace('missing follow-up NRS ', 'missing follow-up ')}")
    rows = [(main, True, outcome)]
    rows += [(f"responder threshold {t} %", False, b) for t, b in section["responder_threshold"].items()
             if float(t) != params.responder_threshold]
    rows += [(MISSING_LABELS[m], False, b) for m, b in section["missing_followup"].items()
             if m != params.missing_followup]
    rows += [("stops for side effects counted unfavorable", False, section["side_effect_stops_unfavorable"]),
             ("all treated patients (every patient of the extract), excluded ones too", False, section["all_treated"])]
    keys = ["n", "favorable", "proportion", "ci_low", "ci_high"]
    return pd.DataFrame([{"analysis": label, "main_analysis": is_main, **{k: b[k] for k in keys}}
                         for label, is_main, b in rows])


def responder_curve(outcomes: pd.DataFrame, groups: pd.Series | None = None, *, thresholds=None,
                    missing_followup: str = "nonresponder", confidence: float = 0.95,
                    min_group_size: int = 1) -> pd.DataFrame:
    """Favorable outcome at every threshold from 0 to 100 %, overall and by subgroup.

    At threshold X the rule of :func:`is_favorable` is applied with X in place
    of responder_threshold, so the curve passes through the main result at the
    study's threshold.

    Parameters
    ----------
    outcomes : pandas.DataFrame
        As returned by :func:`derive_outcomes` (the denominator is kept).
    groups : pandas.Series, optional
        Subgroup of each row (:func:`ketanb.subgroups.assign_groups`); adds one
        curve per group besides ``overall`` (patients without a group get none).
    min_group_size : int
        A group in which fewer patients have a follow-up NRS gets no curve: its
        steps would trace their own reductions (contract, section 5). Nor may
        the overall curve minus the group curves give such a curve: when the
        patients without a curve of their own (unclassified ones too) number 1
        to ``min_group_size - 1``, the smallest groups lose their curve as well
        (:func:`ketanb.subgroups.reduction_disclosure`, which decides the groups'
        medians and quartiles too; the overall curve stays). With
        fewer than ``min_group_size`` follow-up NRS values in all, the overall
        rows keep ``n`` and nothing else (NaN).
    thresholds : sequence of float, optional
        Default 0, 1, ..., 100.
    missing_followup : str
        As in the run (the best case counts a missing follow-up as favorable).

    Returns
    -------
    pandas.DataFrame
        Columns ``group``, ``threshold_pct``, ``n``, ``responders``,
        ``proportion``, ``ci_low``, ``ci_high`` (Wilson).
    """
    thresholds = np.arange(0, 101) if thresholds is None else np.asarray(thresholds, dtype=float)
    keep = outcomes["in_denominator"].to_numpy(dtype=bool)
    d = outcomes[keep]
    measured = d["has_followup"].to_numpy(dtype=bool)
    members = {"overall": np.ones(len(d), dtype=bool)}
    if groups is None:           # the patients whose outcome changes with the threshold: those with a follow-up NRS
        shown = disclose({UNCLASSIFIED: int(measured.sum())}, min_group_size, withheld=[UNCLASSIFIED])
    else:                        # the groups whose median and quartiles subgroup_table shows: one decision for both
        shown = reduction_disclosure(outcomes, groups, min_group_size)
        in_group = groups[keep]
        members.update({g: (in_group == g).to_numpy() for g in shown.parts})
    favorable = {threshold: is_favorable(d, threshold, missing_followup=missing_followup) for threshold in thresholds}
    rows = [{"group": group, "threshold_pct": threshold,
             **proportion(int(fav[mask].sum()), int(mask.sum()), confidence).block("responders")}
            for group, mask in members.items() for threshold, fav in favorable.items()]
    curve = pd.DataFrame(rows, columns=["group", "threshold_pct", "n", "responders", "proportion", "ci_low", "ci_high"])
    if not shown.whole:                     # too few patients: their count, no step of their own
        overall = (curve["group"] == "overall").to_numpy()
        curve[["responders", "proportion", "ci_low", "ci_high"]] = curve[
            ["responders", "proportion", "ci_low", "ci_high"]].astype("float64")
        curve.loc[overall, ["responders", "proportion", "ci_low", "ci_high"]] = np.nan
    return curve


@dataclass(frozen=True)
class Outcomes:
    """What stage 02 gives: every result it shows, writes or draws.

    Attributes
    ----------
    patients : pandas.DataFrame
        :func:`derive_outcomes` of the cohort: the included patients with their outcome.
    summary, sensitivity : dict
        The ``outcome`` and ``sensitivity`` sections of results.json.
    sensitivity_table : pandas.DataFrame or None
        :func:`sensitivity_table`: the main analysis and each sensitivity analysis, one row each (this, the
        curve and its rows: None when :func:`run` was asked for no tables).
    breakdown : pandas.DataFrame
        :func:`responder_counts`: how the denominator splits (also without tables: it is small, and the
        flow diagram draws it).
    curve : pandas.DataFrame or None
        :func:`responder_curve`, overall and by subgroup.
    curve_at_thresholds : pandas.DataFrame or None
        The curve's rows at :data:`SENSITIVITY_THRESHOLDS` and the study's threshold, ``responders``
        named ``favorable``.
    """

    patients: pd.DataFrame
    summary: dict
    sensitivity: dict
    sensitivity_table: pd.DataFrame | None
    breakdown: pd.DataFrame
    curve: pd.DataFrame | None
    curve_at_thresholds: pd.DataFrame | None


def run(cohort: pd.DataFrame, params: Params, *, tables: bool = True) -> Outcomes:
    """Stage 02: the favorable outcome of the cohort (:func:`ketanb.cleaning.derive_cohort`), its sensitivity
    analyses and the responder curve, with the parameters ``params``.

    ``tables`` False: the results.json sections and the breakdown alone (the other tables and the curve
    None), what :func:`ketanb.analysis.analyse` needs: at a million patients the curve would take seconds.
    """
    patients = derive_outcomes(cohort, threshold=params.responder_threshold, missing_followup=params.missing_followup)
    summary = outcome_summary(patients, threshold=params.responder_threshold, confidence=params.confidence,
                              min_group_size=params.min_group_size)
    section = sensitivity(cohort, params)
    breakdown = responder_counts(patients)
    if not tables:
        return Outcomes(patients, summary, section, None, breakdown, None, None)
    groups = assign_groups(patients, group_by=params.group_by, edges=params.group_edges,
                           min_group_size=params.min_group_size)
    curve = responder_curve(patients, groups, missing_followup=params.missing_followup,
                            confidence=params.confidence, min_group_size=params.min_group_size)
    at = curve[curve["threshold_pct"].isin([*SENSITIVITY_THRESHOLDS, params.responder_threshold])]
    return Outcomes(patients, summary, section, sensitivity_table(summary, section, params), breakdown, curve,
                    at.rename(columns={"responders": "favorable"}))
