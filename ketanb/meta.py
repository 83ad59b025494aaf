"""The statistics of pooling: a DerSimonian-Laird random-effects meta-analysis of proportions on
the logit scale, and the intervals a reviewer asks for when few sites are pooled.

:func:`dersimonian_laird` pools favorable counts of several sites (contract
section 7); :mod:`ketanb.sites` reads and checks the sites, :mod:`ketanb.pooling` writes
pooled.json from its result. With three or four sites the DerSimonian-Laird
(Wald) interval of the pooled estimate is too narrow, and I² is a number with
a wide uncertainty of its own, so :func:`dersimonian_laird` also gives, for
effect sizes ``y`` with sampling variances ``v`` (the logits of the sites'
favorable proportions):

- :func:`hartung_knapp`: the Hartung-Knapp-Sidik-Jonkman interval (metafor's
  ``rma(yi, vi, method = "DL", test = "knha")``);
- :func:`q_profile`: confidence intervals for tau² and I² by the Q-profile
  method (metafor's ``confint(rma(...))``).

Every function takes plain arrays and returns plain Python numbers
(:func:`logit_proportions` returns two arrays); a bad argument raises
``ValueError``. The module imports nothing from ketanb.
"""
from __future__ import annotations

import math

import numpy as np
from scipy import optimize, special, stats

__all__ = ["logit_proportions", "dersimonian_laird", "hartung_knapp", "generalised_q", "q_profile",
           "typical_variance"]


def _arrays(y, v) -> tuple[np.ndarray, np.ndarray]:
    y, v = np.asarray(y, dtype=float), np.asarray(v, dtype=float)
    if len(y) != len(v) or len(y) < 2:
        raise ValueError(f"need at least two effect sizes with one variance each, got {len(y)} and {len(v)}")
    if not np.all(v > 0):
        raise ValueError("every sampling variance must be positive")
    return y, v


def logit_proportions(favorable, n) -> tuple[np.ndarray, np.ndarray]:
    """Each site's log-odds of a favorable outcome and its sampling variance.

    Per site ``y = log(k / (n - k))`` and ``v = 1/k + 1/(n - k)``, after adding
    0.5 to ``k`` and to ``n - k`` when ``k = 0`` or ``k = n`` (as metafor's
    ``escalc(measure = "PLO", xi = k, ni = n)``).

    Raises
    ------
    ValueError
        Fewer than two sites, or counts outside 0 <= favorable <= n with n >= 1.
    """
    k, size = np.asarray(favorable, dtype=float), np.asarray(n, dtype=float)
    if k.ndim != 1 or len(k) < 2 or k.shape != size.shape:
        raise ValueError(f"pooling needs at least two sites with one n each, not {k.size} and {size.size}")
    if not (np.all(size >= 1) and np.all(k >= 0) and np.all(k <= size)):
        raise ValueError("every site needs counts with 0 <= favorable <= n and n >= 1")
    zero_cell = (k == 0) | (k == size)
    k, size = np.where(zero_cell, k + 0.5, k), np.where(zero_cell, size + 1, size)
    return np.log(k / (size - k)), 1 / k + 1 / (size - k)


def dersimonian_laird(favorable, n, confidence: float = 0.95) -> dict:
    """Pool proportions by the DerSimonian-Laird random-effects method on the logit scale.

    Parameters
    ----------
    favorable, n : sequence of int
        Favorable outcomes ``k`` and patients ``n`` (at least 1) of each site; at least two sites.
    confidence : float
        Level of every interval.

    Returns
    -------
    dict
        ``proportion``, ``ci_low``, ``ci_high``, ``tau2``, ``i2`` (a fraction), ``q``, ``q_df``,
        ``q_p``, ``prediction_low``, ``prediction_high`` (``None`` with two sites), ``sites``,
        ``logit`` and ``se`` (the pooled logit); ``hksj_se`` (on the logit scale),
        ``hksj_ci_low``, ``hksj_ci_high`` (:func:`hartung_knapp`, back-transformed);
        ``tau2_ci_low``, ``tau2_ci_high``, ``i2_ci_low``, ``i2_ci_high`` (:func:`q_profile`);
        and per site (lists in the sites' order) ``y``, ``variance``, ``weights`` (shares of
        the random-effects weights) and ``site_ci_low``, ``site_ci_high`` (the site's own
        interval on the logit scale, ``y -/+ z sqrt(v)``, back-transformed).

    Raises
    ------
    ValueError
        Fewer than two sites, counts outside 0 <= favorable <= n with n >= 1, or a
        confidence level outside (0, 1).

    Notes
    -----
    Per site ``y`` and ``v`` of :func:`logit_proportions`.
    With ``w = 1/v``, ``mu_F = sum(w y) / sum(w)`` and ``df = sites - 1``:

        Q = sum(w (y - mu_F)^2),   I^2 = max(0, (Q - df) / Q)  (0 when Q = 0),
        tau^2 = max(0, (Q - df) / (sum(w) - sum(w^2) / sum(w))),

    ``q_p`` the chi-squared tail of Q. With ``w* = 1 / (v + tau^2)``:
    ``mu = sum(w* y) / sum(w*)``, ``SE = sqrt(1 / sum(w*))``, the interval
    ``mu -/+ z SE`` and the prediction interval for a new site

        mu -/+ t_{sites - 2} sqrt(tau^2 + SE^2)

    (none with two sites), back-transformed by ``1 / (1 + exp(-x))``. The
    Hartung-Knapp-Sidik-Jonkman interval and the Q-profile intervals of tau^2 and
    I^2 are those of :func:`hartung_knapp` and :func:`q_profile` at this tau^2; the
    Q-profile I^2 = tau^2 / (tau^2 + s^2) equals (Q - df) / Q at the DerSimonian-Laird
    tau^2, so the I^2 interval holds ``i2``.
    statsmodels' ``combine_effects`` does not truncate tau^2 and I^2 at zero.

    References
    ----------
    DerSimonian R, Laird N. Meta-analysis in clinical trials. Control Clin
    Trials 1986;7:177-188.

    Higgins JPT, Thompson SG, Spiegelhalter DJ. A re-evaluation of
    random-effects meta-analysis. J R Stat Soc A 2009;172:137-159.
    """
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must be between 0 and 1, not {confidence!r}")
    y, v = logit_proportions(favorable, n)
    sites = len(y)
    df = sites - 1
    w = 1 / v
    q = float(np.sum(w * (y - np.sum(w * y) / np.sum(w)) ** 2))
    tau2 = max(0.0, float((q - df) / (np.sum(w) - np.sum(w ** 2) / np.sum(w))))
    i2 = max(0.0, (q - df) / q) if q > 0 else 0.0
    w_re = 1 / (v + tau2)
    mu = float(np.sum(w_re * y) / np.sum(w_re))
    se = float(math.sqrt(1 / np.sum(w_re)))
    upper = 1 - (1 - confidence) / 2
    z = float(stats.norm.ppf(upper))
    prediction = (None, None)
    if sites >= 3:
        half = float(stats.t.ppf(upper, sites - 2)) * math.sqrt(tau2 + se ** 2)
        prediction = (float(special.expit(mu - half)), float(special.expit(mu + half)))
    hk = hartung_knapp(y, v, tau2, confidence)
    site_half = z * np.sqrt(v)
    return {
        "proportion": float(special.expit(mu)),
        "ci_low": float(special.expit(mu - z * se)), "ci_high": float(special.expit(mu + z * se)),
        "tau2": tau2, "i2": float(i2), "q": q, "q_df": df, "q_p": float(stats.chi2.sf(q, df)),
        "prediction_low": prediction[0], "prediction_high": prediction[1],
        "sites": sites, "logit": mu, "se": se,
        "hksj_se": hk["se"],
        "hksj_ci_low": float(special.expit(hk["ci_low"])), "hksj_ci_high": float(special.expit(hk["ci_high"])),
        **q_profile(y, v, confidence),
        "y": y.tolist(), "variance": v.tolist(), "weights": (w_re / w_re.sum()).tolist(),
        "site_ci_low": special.expit(y - site_half).tolist(), "site_ci_high": special.expit(y + site_half).tolist(),
    }


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
