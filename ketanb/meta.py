"""Random-effects meta-analysis beyond DerSimonian-Laird: the intervals a reviewer asks for when
few sites are pooled.

With three or four sites the DerSimonian-Laird (Wald) interval of the pooled
estimate is too narrow, and I² is a number with a wide uncertainty of its
own. This module adds, for effect sizes ``y`` with sampling variances ``v``
(the logits of the sites' favorable proportions, in :mod:`ketanb.pooling`):

- :func:`hartung_knapp`: the Hartung-Knapp-Sidik-Jonkman interval (metafor's
  ``rma(yi, vi, method = "DL", test = "knha")``);
- :func:`q_profile`: confidence intervals for tau² and I² by the Q-profile
  method (metafor's ``confint(rma(...))``).

Every function takes plain arrays and returns plain Python numbers; it imports
nothing from ketanb.
"""
from __future__ import annotations

import math

import numpy as np
from scipy import optimize, stats

__all__ = ["hartung_knapp", "generalised_q", "q_profile", "typical_variance"]


def _arrays(y, v) -> tuple[np.ndarray, np.ndarray]:
    y, v = np.asarray(y, dtype=float), np.asarray(v, dtype=float)
    if len(y) != len(v) or len(y) < 2:
        raise ValueError(f"need at least two effect sizes with one variance each, got {len(y)} and {len(v)}")
    if not np.all(v > 0):
        raise ValueError("every sampling variance must be positive")
    return y, v


def hartung_knapp(y, v, tau2: float, confidence: float = 0.95) -> dict:
    """The pooled estimate with the Hartung-Knapp-Sidik-Jonkman interval.

    Parameters
    ----------
    y, v : sequence of float
        Effect sizes and their sampling variances, at least two.
    tau2 : float
        The between-site variance (the DerSimonian-Laird estimate in ketanb).
    confidence : float
        Level of the interval.

    Returns
    -------
    dict
        ``estimate`` (the random-effects mean), ``se`` (its HKSJ standard
        error), ``df`` (sites - 1), ``ci_low``, ``ci_high`` (on the scale of ``y``).

    Notes
    -----
    With ``w = 1 / (v + tau2)`` and ``mu = sum(w y) / sum(w)``:

        SE_HK^2 = sum(w (y - mu)^2) / ((k - 1) sum(w)),   mu -/+ t_{k-1} SE_HK,

    without the ad hoc truncation of the factor at 1 (metafor's default, as
    ``rma(..., test = "knha")``).

    References
    ----------
    Hartung J, Knapp G. A refined method for the meta-analysis of controlled
    clinical trials with binary outcome. Stat Med 2001;20:3875-3889.

    IntHout J, Ioannidis JPA, Borm GF. The Hartung-Knapp-Sidik-Jonkman method
    for random effects meta-analysis is straightforward and considerably
    outperforms the standard DerSimonian-Laird method. BMC Med Res Methodol
    2014;14:25.
    """
    y, v = _arrays(y, v)
    w = 1 / (v + tau2)
    mu = float(np.sum(w * y) / np.sum(w))
    df = len(y) - 1
    se = math.sqrt(float(np.sum(w * (y - mu) ** 2)) / (df * float(np.sum(w))))
    half = float(stats.t.ppf(1 - (1 - confidence) / 2, df)) * se
    return {"estimate": mu, "se": se, "df": df, "ci_low": mu - half, "ci_high": mu + half}


def generalised_q(y, v, tau2: float) -> float:
    """The generalised Q statistic ``sum(w (y - mu_w)^2)`` with ``w = 1 / (v + tau2)``
    (Cochran's Q at ``tau2 = 0``); it decreases as ``tau2`` grows."""
    y, v = _arrays(y, v)
    w = 1 / (v + tau2)
    return float(np.sum(w * (y - np.sum(w * y) / np.sum(w)) ** 2))


def typical_variance(v) -> float:
    """The "typical" within-site variance ``s^2 = (k - 1) sum(w) / (sum(w)^2 - sum(w^2))``,
    ``w = 1 / v``, with which ``I^2 = tau^2 / (tau^2 + s^2)`` (Higgins and Thompson 2002)."""
    w = 1 / np.asarray(v, dtype=float)
    return float((len(w) - 1) * w.sum() / (w.sum() ** 2 - (w ** 2).sum()))


def q_profile(y, v, confidence: float = 0.95) -> dict:
    """Confidence intervals for tau² and I² by the Q-profile method.

    Returns
    -------
    dict
        ``tau2_ci_low``, ``tau2_ci_high``, ``i2_ci_low``, ``i2_ci_high`` (I² as
        a fraction, as ketanb reports I²).

    Notes
    -----
    The generalised Q statistic follows a chi-squared distribution on ``k - 1``
    degrees of freedom at the true tau². The interval holds the values of tau²
    where it lies between the distribution's ``alpha/2`` and ``1 - alpha/2``
    quantiles: the lower limit solves ``Q(tau2) = chi2_{1-alpha/2}`` (0 when
    ``Q(0)`` is already below it), the upper limit ``Q(tau2) = chi2_{alpha/2}``
    (0 when ``Q(0)`` is below that). I² limits follow from the tau² limits as
    ``tau2 / (tau2 + s^2)`` with :func:`typical_variance`, as metafor's
    ``confint`` does.

    References
    ----------
    Viechtbauer W. Confidence intervals for the amount of heterogeneity in
    meta-analysis. Stat Med 2007;26:37-52.
    """
    y, v = _arrays(y, v)
    df = len(y) - 1
    alpha = 1 - confidence
    q0 = generalised_q(y, v, 0.0)

    def solve(target: float) -> float:
        if q0 <= target:
            return 0.0
        high = max(1.0, 10 * float(np.var(y)))
        while generalised_q(y, v, high) > target:    # Q falls towards 0 as tau2 grows: widen until below
            high *= 10
        return float(optimize.brentq(lambda t: generalised_q(y, v, t) - target, 0.0, high, xtol=1e-12, rtol=1e-12))

    low, high = solve(float(stats.chi2.ppf(1 - alpha / 2, df))), solve(float(stats.chi2.ppf(alpha / 2, df)))
    s2 = typical_variance(v)
    return {"tau2_ci_low": low, "tau2_ci_high": high,
            "i2_ci_low": low / (low + s2), "i2_ci_high": high / (high + s2)}
