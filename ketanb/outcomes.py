"""Stage 2, outcomes: pain reduction and the favorable outcome of included patients."""
from __future__ import annotations

import numpy as np
import pandas as pd

from .params import MISSING_FOLLOWUP_MODES, Params
from .stats import proportion, wilson_ci

__all__ = ["derive_outcomes", "outcome_summary", "responder_counts", "responder_curve", "sensitivity",
           "sensitivity_table", "TOLERANCE", "SENSITIVITY_THRESHOLDS"]

#: Responder thresholds (percent) of the sensitivity analysis, the contract's 50 among them.
SENSITIVITY_THRESHOLDS = (30, 50, 70)

#: Absolute tolerance (percentage points) of the threshold comparison, so that
#: floating-point rounding (7.4 -> 3.7 is 49.99999999999999 %) never flips an outcome.
TOLERANCE = 1e-9


def derive_outcomes(cohort: pd.DataFrame, *, threshold: float = 50.0,
                    missing_followup: str = "nonresponder") -> pd.DataFrame:
    """Reduction in pain and favorable outcome for every included patient.

    Parameters
    ----------
    cohort : pandas.DataFrame
        As returned by :func:`ketanb.cleaning.derive_cohort` (needs
        ``included``, ``baseline_nrs``, ``followup_nrs``, ``discontinuation``).
    threshold : float
        Percent reduction from baseline that counts as a response.
    missing_followup : {"nonresponder", "exclude"}
        ``nonresponder``: an included patient without a follow-up NRS has an
        unfavorable outcome; ``exclude``: such a patient is left out of the
        outcome denominator.

    Returns
    -------
    pandas.DataFrame
        The included patients only (cohort order), with the cohort's columns plus
        ``reduction_pct`` (float, NaN without follow-up; negative when pain got
        worse), ``has_followup`` (bool), ``favorable`` (bool) and
        ``in_denominator`` (bool). The input is not modified.

    Notes
    -----
    reduction_pct = 100 (baseline - follow-up) / baseline. Favorable when the
    follow-up NRS is present, reduction_pct >= threshold - 1e-9 and
    discontinuation is not ``lack_of_effect``; discontinuation for
    ``side_effects`` or ``other`` does not by itself make an outcome unfavorable.
    Under ``exclude`` every included patient without a follow-up NRS leaves the
    denominator, also one who stopped for lack of effect (the contract keys the
    rule on the missing NRS alone).
    """
    included = cohort["included"].to_numpy(dtype=bool)
    arrays = _outcome_arrays(cohort, included, threshold, missing_followup)
    out = cohort.loc[included].copy()
    for name, values in arrays.items():
        out[name] = values
    return out


def _outcome_arrays(cohort: pd.DataFrame, included: np.ndarray, threshold: float,
                    missing_followup: str) -> dict[str, np.ndarray]:
    """The outcome columns of the included patients as arrays (the rule of :func:`derive_outcomes`)."""
    if missing_followup not in MISSING_FOLLOWUP_MODES:
        raise ValueError(f"missing_followup must be 'nonresponder' or 'exclude', not {missing_followup!r}")
    baseline = cohort["baseline_nrs"].to_numpy(dtype=float)[included]
    followup = cohort["followup_nrs"].to_numpy(dtype=float)[included]
    has_followup = ~np.isnan(followup)
    with np.errstate(invalid="ignore", divide="ignore"):
        reduction = 100.0 * (baseline - followup) / baseline
        reached = reduction >= threshold - TOLERANCE                  # NaN compares False
    stopped_for_lack = (cohort["discontinuation"] == "lack_of_effect").to_numpy(dtype=bool)[included]
    return {"has_followup": has_followup, "reduction_pct": reduction,
            "favorable": has_followup & reached & ~stopped_for_lack,
            "in_denominator": has_followup | (missing_followup == "nonresponder")}


def outcome_summary(outcomes: pd.DataFrame, *, threshold: float, confidence: float = 0.95) -> dict:
    """The ``outcome`` section of results.json.

    Returns
    -------
    dict
        ``threshold_pct``, ``n`` (denominator), ``favorable``, ``proportion``,
        ``ci_low``, ``ci_high`` (Wilson, at ``confidence``) and
        ``missing_followup`` (included patients without a follow-up NRS,
        whichever way they are counted).
    """
    denominator = outcomes["in_denominator"].to_numpy(dtype=bool)
    favorable = int(outcomes["favorable"].to_numpy(dtype=bool)[denominator].sum())
    p = proportion(favorable, int(denominator.sum()), confidence)
    return {"threshold_pct": threshold, "n": p.n, "favorable": p.events, "proportion": p.proportion,
            "ci_low": p.ci_low, "ci_high": p.ci_high,
            "missing_followup": int((~outcomes["has_followup"].to_numpy(dtype=bool)).sum())}


def responder_counts(outcomes: pd.DataFrame) -> pd.DataFrame:
    """How the denominator splits into favorable and the kinds of unfavorable outcome.

    Returns
    -------
    pandas.DataFrame
        Columns ``outcome`` and ``patients``: favorable; unfavorable because the
        reduction was below the threshold, because of stopping for lack of effect
        (with or without reaching it), or because the follow-up NRS is missing.
        The rows add up to the denominator.
    """
    d = outcomes[outcomes["in_denominator"].to_numpy(dtype=bool)]
    lack = d["discontinuation"].eq("lack_of_effect").fillna(False).to_numpy(dtype=bool)
    fav = d["favorable"].to_numpy(dtype=bool)
    has = d["has_followup"].to_numpy(dtype=bool)
    rows = [
        ("favorable", fav),
        ("unfavorable: reduction below threshold", ~fav & has & ~lack),
        ("unfavorable: stopped for lack of effect", ~fav & lack),
        ("unfavorable: follow-up NRS missing", ~fav & ~has & ~lack),
    ]
    table = pd.DataFrame({"outcome": [r[0] for r in rows],
                          "patients": [int(np.sum(r[1])) for r in rows]})
    return table


def sensitivity(cohort: pd.DataFrame, params: Params,
                thresholds=SENSITIVITY_THRESHOLDS) -> dict:
    """The ``sensitivity`` section of results.json: the outcome under other assumptions.

    Each analysis changes one parameter and keeps every other as in ``params``.

    Parameters
    ----------
    cohort : pandas.DataFrame
        As returned by :func:`ketanb.cleaning.derive_cohort`.
    params : Params
        The run's parameters (threshold, missing_followup, confidence).
    thresholds : sequence of float
        Responder thresholds to try (percent).

    Returns
    -------
    dict
        ``{"responder_threshold": {"30": block, "50": block, "70": block},
        "missing_followup": {"nonresponder": block, "exclude": block}}``, each
        block ``{"n", "favorable", "proportion", "ci_low", "ci_high"}``.
    """
    included = cohort["included"].to_numpy(dtype=bool)

    def block(threshold, mode):
        a = _outcome_arrays(cohort, included, threshold, mode)
        p = proportion(int(a["favorable"][a["in_denominator"]].sum()), int(a["in_denominator"].sum()),
                       params.confidence)
        return {"n": p.n, "favorable": p.events, "proportion": p.proportion, "ci_low": p.ci_low,
                "ci_high": p.ci_high}

    return {"responder_threshold": {f"{t:g}": block(t, params.missing_followup) for t in thresholds},
            "missing_followup": {m: block(params.responder_threshold, m) for m in MISSING_FOLLOWUP_MODES}}


def sensitivity_table(section: dict, params: Params) -> pd.DataFrame:
    """The sensitivity section as a table, one row per analysis, the main analysis marked."""
    rows = []
    for key, label in (("responder_threshold", "responder threshold {}%"),
                       ("missing_followup", "missing follow-up: {}")):
        for value, block in section[key].items():
            main = (float(value) == params.responder_threshold if key == "responder_threshold"
                    else value == params.missing_followup)
            rows.append({"analysis": label.format(value), "main_analysis": main, **block})
    return pd.DataFrame(rows)


def responder_curve(outcomes: pd.DataFrame, groups: pd.Series | None = None, *,
                    thresholds=None, confidence: float = 0.95) -> pd.DataFrame:
    """Share of patients with a favorable outcome at every threshold from 0 to 100 %.

    At threshold X a patient responds when the follow-up NRS is present, the
    reduction is at least X % (tolerance 1e-9) and they did not stop for lack
    of effect: the contract's rule with X in place of responder_threshold, so
    the curve passes through the main result at the study's threshold.

    Parameters
    ----------
    outcomes : pandas.DataFrame
        As returned by :func:`derive_outcomes` (the denominator is kept).
    groups : pandas.Series, optional
        Subgroup of each row (e.g. :func:`ketanb.subgroups.assign_groups`);
        adds one curve per group besides ``overall``.
    thresholds : sequence of float, optional
        Default 0, 1, ..., 100.

    Returns
    -------
    pandas.DataFrame
        Columns ``group``, ``threshold_pct``, ``n``, ``responders``,
        ``proportion``, ``ci_low``, ``ci_high`` (Wilson).
    """
    thresholds = np.arange(0, 101) if thresholds is None else np.asarray(thresholds, dtype=float)
    keep = outcomes["in_denominator"].to_numpy(dtype=bool)
    d = outcomes[keep]
    reduction = d["reduction_pct"].to_numpy(dtype=float)
    eligible = d["has_followup"].to_numpy(dtype=bool) & ~d["discontinuation"].eq("lack_of_effect").fillna(False).to_numpy(dtype=bool)
    with np.errstate(invalid="ignore"):
        responds = eligible[:, None] & (reduction[:, None] >= thresholds[None, :] - TOLERANCE)
    members = {"overall": np.ones(len(d), dtype=bool)}
    if groups is not None:
        g = groups[keep]
        for name in g.cat.categories:
            if (g == name).any():
                members[str(name)] = (g == name).to_numpy()
    frames = []
    for name, mask in members.items():
        counts = responds[mask].sum(axis=0)
        n = int(mask.sum())
        cis = [wilson_ci(int(k), n, confidence) for k in counts]
        frames.append(pd.DataFrame({
            "group": name, "threshold_pct": thresholds, "n": n, "responders": counts.astype(int),
            "proportion": counts / n if n else np.nan,
            "ci_low": [c[0] for c in cis], "ci_high": [c[1] for c in cis]}))
    return pd.concat(frames, ignore_index=True)
