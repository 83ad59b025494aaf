"""Stage 2, outcomes: pain reduction and the favorable outcome of included patients."""
from __future__ import annotations

import numpy as np
import pandas as pd

from .params import Params
from .stats import proportion

__all__ = ["derive_outcomes", "outcome_summary", "responder_counts", "TOLERANCE"]

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
    if missing_followup not in ("nonresponder", "exclude"):
        raise ValueError(f"missing_followup must be 'nonresponder' or 'exclude', not {missing_followup!r}")
    out = cohort.loc[cohort["included"].to_numpy(dtype=bool)].copy()
    baseline = out["baseline_nrs"].astype(float)
    followup = out["followup_nrs"].astype(float)
    out["has_followup"] = followup.notna().to_numpy()
    out["reduction_pct"] = 100.0 * (baseline - followup) / baseline
    stopped_for_lack = out["discontinuation"].eq("lack_of_effect").fillna(False).to_numpy(dtype=bool)
    reached = (out["reduction_pct"] >= threshold - TOLERANCE).fillna(False).to_numpy(dtype=bool)
    out["favorable"] = out["has_followup"].to_numpy() & reached & ~stopped_for_lack
    out["in_denominator"] = out["has_followup"].to_numpy() | (missing_followup == "nonresponder")
    return out


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
