"""Statistics used across stages: intervals for proportions, effect sizes between
two groups, the tests across subgroups and the change in pain.

Every function takes plain counts or arrays and returns plain Python numbers
(``None`` where a value cannot be computed). This module imports nothing from ketanb but :mod:`ketanb.r_uniroot`.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import special, stats
from statsmodels.stats.proportion import confint_proportions_2indep, proportion_confint

from .r_uniroot import r_uniroot

__all__ = ["Proportion", "wilson_ci", "proportion", "clopper_pearson", "newcombe_difference",
           "odds_ratio_exact", "TestResult", "fisher_freeman_halton", "kruskal_wallis",
           "nrs_change", "EXACT_TABLE_LIMIT"]

#: Largest number of partial tables (per half) the exact Fisher-Freeman-Halton test enumerates.
EXACT_TABLE_LIMIT = 5_000_000
#: From this many pairs on, :func:`nrs_change` approximates its critical value (as R's wilcox.test).
SIGNED_RANK_EXACT_BELOW = 50


def _check_counts(events: int, n: int) -> None:
    if n < 0 or events < 0 or events > n:
        raise ValueError(f"need 0 <= events <= n, got events={events}, n={n}")


def _check_confidence(confidence: float) -> None:
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must be between 0 and 1, got {confidence}")


@dataclass(frozen=True)
class Proportion:
    """A proportion with its Wilson score interval (fractions; ``None`` when ``n`` is 0)."""

    n: int
    events: int
    ci_low: float | None
    ci_high: float | None

    @property
    def proportion(self) -> float | None:
        """``events / n``; None when ``n`` is 0."""
        return self.events / self.n if self.n else None

    def block(self, events_key: str = "favorable") -> dict:
        """The result block ``{n, <events_key>, proportion, ci_low, ci_high}`` of the data contract
        (``docs/data-contract.md``, sections 4 and 6), keys in this order."""
        if events_key in ("n", "proportion", "ci_low", "ci_high"):
            raise ValueError(f"events_key {events_key!r} would overwrite another key")
        return {"n": self.n, events_key: self.events, "proportion": self.proportion,
                "ci_low": self.ci_low, "ci_high": self.ci_high}


def wilson_ci(events: int, n: int, confidence: float = 0.95) -> tuple[float, float] | tuple[None, None]:
    """Wilson score interval for a binomial proportion, without continuity correction.

    Parameters
    ----------
    events, n : int
        Successes and trials, 0 <= events <= n.
    confidence : float
        Two-sided level, e.g. 0.95.

    Returns
    -------
    (low, high) : tuple of float
        Bounds in [0, 1]; ``(None, None)`` when ``n`` is 0.

    Notes
    -----
    With :math:`\\hat p = x/n` and :math:`z` the :math:`1-(1-c)/2` normal quantile,

    .. math:: \\frac{\\hat p + z^2/(2n) \\pm z\\sqrt{\\hat p(1-\\hat p)/n + z^2/(4n^2)}}{1 + z^2/n}

    computed by statsmodels ``proportion_confint(method="wilson")``, which can
    leave about 1e-18 where the bound is 0 (x = 0) or 1 (x = n): those ends are
    set exactly. Same values as R's ``prop.test(x, n, correct = FALSE)$conf.int``.

    References
    ----------
    Wilson EB. Probable inference, the law of succession, and statistical
    inference. J Am Stat Assoc 1927;22:209-212.
    Newcombe RG. Two-sided confidence intervals for the single proportion:
    comparison of seven methods. Stat Med 1998;17:857-872.
    """
    _check_counts(events, n)
    _check_confidence(confidence)
    if n == 0:
        return None, None
    low, high = proportion_confint(events, n, alpha=1 - confidence, method="wilson")
    return (0.0 if events == 0 else float(low)), (1.0 if events == n else float(high))


def proportion(events: int, n: int, confidence: float = 0.95) -> Proportion:
    """``events / n`` with its Wilson interval (:func:`wilson_ci`); ``None`` values when ``n`` is 0."""
    low, high = wilson_ci(int(events), int(n), confidence)
    return Proportion(int(n), int(events), low, high)


def clopper_pearson(events: int, n: int, confidence: float = 0.95) -> tuple[float, float] | tuple[None, None]:
    """Clopper-Pearson ("exact") interval for a binomial proportion.

    Parameters and return as :func:`wilson_ci`.

    Notes
    -----
    With :math:`\\alpha = 1 - c`, the bounds are beta quantiles,

    .. math:: \\text{low} = B_{\\alpha/2}(x, n - x + 1), \\qquad
              \\text{high} = B_{1-\\alpha/2}(x + 1, n - x),

    with low = 0 when x = 0 and high = 1 when x = n (so 0 of 74 still has an
    upper bound, :math:`1 - (\\alpha/2)^{1/n}` = 0.0486 at 95 %). Computed by
    scipy ``binomtest(x, n).proportion_ci(method="exact")``; same values as R's
    ``binom.test(x, n)$conf.int``.

    References
    ----------
    Clopper CJ, Pearson ES. The use of confidence or fiducial limits illustrated
    in the case of the binomial. Biometrika 1934;26:404-413.
    """
    _check_counts(events, n)
    _check_confidence(confidence)
    if n == 0:
        return None, None
    interval = stats.binomtest(int(events), int(n)).proportion_ci(confidence_level=confidence, method="exact")
    return float(interval.low), float(interval.high)


def newcombe_difference(x1: int, n1: int, x2: int, n2: int,
                        confidence: float = 0.95) -> tuple[float, float, float] | tuple[None, None, None]:
    """Risk difference p1 - p2 with Newcombe's hybrid score interval (his method 10).

    Parameters
    ----------
    x1, n1, x2, n2 : int
        Events and size of the group (1) and of the reference group (2).
    confidence : float
        Two-sided level, e.g. 0.95.

    Returns
    -------
    (difference, low, high) : tuple of float
        In [-1, 1]; ``(None, None, None)`` when either group is empty.

    Notes
    -----
    With :math:`d = \\hat p_1 - \\hat p_2` and :math:`(l_i, u_i)` the Wilson
    interval of group i,

    .. math:: \\text{low} = d - \\sqrt{(\\hat p_1 - l_1)^2 + (u_2 - \\hat p_2)^2}, \\qquad
              \\text{high} = d + \\sqrt{(u_1 - \\hat p_1)^2 + (\\hat p_2 - l_2)^2}.

    Computed by statsmodels ``confint_proportions_2indep(method="newcomb",
    compare="diff")`` (checked in the tests against this formula and Newcombe's
    worked examples, e.g. 56/70 vs 48/80: 0.2000 (0.0524, 0.3339)).

    References
    ----------
    Newcombe RG. Interval estimation for the difference between independent
    proportions: comparison of eleven methods. Stat Med 1998;17:873-890.
    """
    _check_counts(x1, n1)
    _check_counts(x2, n2)
    _check_confidence(confidence)
    if n1 == 0 or n2 == 0:
        return None, None, None
    low, high = confint_proportions_2indep(int(x1), int(n1), int(x2), int(n2), method="newcomb",
                                           compare="diff", alpha=1 - confidence)
    return x1 / n1 - x2 / n2, float(low), float(high)


def _fisher_2x2(a: int, b: int, c: int, d: int, confidence: float) -> tuple[float, float, float]:
    """Conditional MLE of the odds ratio and its exact interval, as R's ``fisher.test`` computes them.

    A transcription of R's code: ``a`` given the margins follows Fisher's noncentral
    hypergeometric distribution on its support; the estimate solves E(A) = a, the limits
    P(A >= a) = alpha/2 and P(A <= a) = alpha/2, each by :func:`r_uniroot` on (0, 1) or,
    above 1, on the reciprocal.
    """
    m, n, k = a + c, b + d, a + b                     # R: column 1, column 2 and row 1 totals
    lo, hi = max(0, k - n), min(k, m)
    support = np.arange(lo, hi + 1)
    log_central = stats.hypergeom.logpmf(support, m + n, m, k)

    def density(psi):
        log_d = log_central + math.log(psi) * support
        d_ = np.exp(log_d - log_d.max())
        return d_ / d_.sum()

    def mean(psi):
        return lo if psi == 0 else hi if psi == math.inf else float((support * density(psi)).sum())

    def tail(psi, upper):                            # P(A >= a) if upper else P(A <= a)
        if psi in (0, math.inf):                     # all the mass at one end of the support
            end = lo if psi == 0 else hi
            return float(a <= end if upper else a >= end)
        if psi == 1:
            return float(stats.hypergeom.sf(a - 1, m + n, m, k) if upper else stats.hypergeom.cdf(a, m + n, m, k))
        return float(density(psi)[support >= a if upper else support <= a].sum())

    def solve(f, target):                            # the psi with f(psi) = target; f increases with psi
        at_one = f(1.0)
        if at_one > target:
            return r_uniroot(lambda t: f(t) - target, 0.0, 1.0)
        if at_one < target:
            return 1 / r_uniroot(lambda t: f(1 / t) - target, np.finfo(float).eps, 1.0)
        return 1.0

    alpha = (1 - confidence) / 2
    estimate = 0.0 if a == lo else math.inf if a == hi else solve(mean, a)
    low = 0.0 if a == lo else solve(lambda psi: tail(psi, upper=True), alpha)          # P(A >= a) grows with psi
    high = math.inf if a == hi else solve(lambda psi: -tail(psi, upper=False), -alpha)  # P(A <= a) falls
    return estimate, low, high


def odds_ratio_exact(a: int, b: int, c: int, d: int, confidence: float = 0.95) -> dict:
    """Conditional odds ratio, its exact interval and Fisher's exact test of a 2 x 2 table.

    Parameters
    ----------
    a, b, c, d : int
        Favorable and unfavorable counts of the group (a, b) and of the reference group (c, d).
    confidence : float
        Two-sided level of the interval.

    Returns
    -------
    dict
        ``odds_ratio`` (conditional maximum likelihood estimate), ``or_ci_low``,
        ``or_ci_high`` (exact conditional interval), ``fisher_p`` (two-sided),
        ``or_method`` (how the odds ratio was computed).
        An infinite value (``b`` or ``c`` is 0) is ``None``; an estimate of 0
        stays 0. When every patient of both groups has the same outcome, or a
        group is empty, every value is ``None``: there is nothing to test (the
        contract's rule for a test whose values are all tied, as for
        :func:`fisher_freeman_halton`; R would print p = 1 and an odds ratio of
        0 with the interval 0 to infinity).

    Notes
    -----
    Given the margins of :math:`[[a, b], [c, d]]`, :math:`a` follows Fisher's
    noncentral hypergeometric distribution with odds ratio :math:`\\psi`,

    .. math:: P(a = x \\mid \\psi) = \\frac{\\binom{a+b}{x}\\binom{c+d}{a+c-x}\\psi^x}
              {\\sum_y \\binom{a+b}{y}\\binom{c+d}{a+c-y}\\psi^y}.

    The estimate maximises this likelihood; the interval's bounds solve
    :math:`P(A \\ge a \\mid \\psi) = \\alpha/2` and
    :math:`P(A \\le a \\mid \\psi) = \\alpha/2`; the p-value sums
    :math:`P(x \\mid 1)` over every :math:`x` no more probable than the
    observed table (relative tolerance 1e-7, scipy's ``fisher_exact``). The
    estimate and the bounds are found as R's ``fisher.test`` finds them
    (:func:`_fisher_2x2`, :func:`r_uniroot`), so they are R's numbers, even
    where R's root finder stops a percent short of the exact root.

    Each step of the root-finding sums over every possible count (0.2 s for
    a table of 500 000 patients, a few milliseconds for a clinic). Above
    :data:`EXACT_OR_LIMIT` patients the sample odds ratio ad/bc with Woolf's interval
    :math:`\\exp(\\log OR \\pm z\\sqrt{1/a + 1/b + 1/c + 1/d})` is given instead
    (``or_method`` says so): with tables that large the two differ by a few
    tenths of a percent. Fisher's p stays exact.

    References
    ----------
    Fisher RA. On the interpretation of chi-squared from contingency tables, and
    the calculation of P. J R Stat Soc 1922;85:87-94.
    Cornfield J. A statistical problem arising from retrospective studies. In:
    Proc Third Berkeley Symp Math Stat Prob 1956;4:135-148.
    Agresti A. Categorical Data Analysis, 3rd ed. Wiley 2013, section 16.6.
    """
    if min(a, b, c, d) < 0:
        raise ValueError(f"counts must be >= 0, got {(a, b, c, d)}")
    _check_confidence(confidence)
    nothing = ("a group is empty" if min(a + b, c + d) == 0 else
               "every patient of both groups has the same outcome" if min(a + c, b + d) == 0 else None)
    if nothing:
        return {"odds_ratio": None, "or_ci_low": None, "or_ci_high": None, "fisher_p": None,
                "or_method": f"not computed: {nothing}"}
    table = [[int(a), int(b)], [int(c), int(d)]]
    if a + b + c + d <= EXACT_OR_LIMIT:
        values, method = _fisher_2x2(a, b, c, d, confidence), "conditional MLE, exact interval (as R's fisher.test)"
    else:                                                   # large table: Woolf's interval (see Notes)
        log_or = math.log(a * d / (b * c)) if min(a, b, c, d) > 0 else math.nan
        half = float(special.ndtri(1 - (1 - confidence) / 2)) * math.sqrt(1 / a + 1 / b + 1 / c + 1 / d) \
            if min(a, b, c, d) > 0 else math.nan
        values = (math.exp(log_or), math.exp(log_or - half), math.exp(log_or + half))
        method = "sample odds ratio, Woolf's logit interval (large table)"
    finite = [float(v) if math.isfinite(v) else None for v in values]          # infinity, NaN -> None
    return {"odds_ratio": finite[0], "or_ci_low": finite[1], "or_ci_high": finite[2],
            "fisher_p": float(stats.fisher_exact(table).pvalue), "or_method": method}


#: Largest 2 x 2 table (patients) whose odds ratio gets the exact conditional interval.
EXACT_OR_LIMIT = 5000


@dataclass(frozen=True)
class TestResult:
    """Result of a test across groups: ``p_value`` (``None`` when it cannot be computed),
    ``statistic`` (H or chi-squared; ``None`` for the exact test) and ``method`` (how, or why not)."""

    p_value: float | None
    statistic: float | None
    method: str


def _log_choose(n, k):
    return special.gammaln(n + 1) - special.gammaln(k + 1) - special.gammaln(n - k + 1)


def _half_tables(sizes: list[int], total: int) -> tuple[np.ndarray, np.ndarray]:
    """Every (sum of favorable, log of prod C(n_i, x_i)) over the groups ``sizes``, sums <= total."""
    partial_sum = np.zeros(1, dtype=np.int64)
    partial_log = np.zeros(1)
    for g in sizes:
        values = np.arange(g + 1)
        partial_sum = (partial_sum[:, None] + values[None, :]).ravel()
        partial_log = (partial_log[:, None] + _log_choose(g, values)[None, :]).ravel()
        fits = partial_sum <= total
        partial_sum, partial_log = partial_sum[fits], partial_log[fits]
    return partial_sum, partial_log


def _half_count(sizes: list[int], total: int) -> float:
    """How many partial tables :func:`_half_tables` makes (a convolution of boxes, O(groups x total))."""
    ways = np.zeros(total + 1)
    ways[0] = 1.0
    for n in sizes:
        cumulative = np.cumsum(ways)
        shifted = np.concatenate([np.zeros(n + 1), cumulative[: max(total - n, 0)]])[: total + 1]
        ways = cumulative - shifted
    return float(ways.sum())


def fisher_freeman_halton(favorable, n, *, limit: int = EXACT_TABLE_LIMIT) -> TestResult:
    """Fisher-Freeman-Halton exact test of an R x 2 table (groups x favorable/unfavorable).

    Parameters
    ----------
    favorable, n : sequence of int
        Favorable outcomes and size of each group.
    limit : int
        Largest number of partial tables per half to enumerate exactly.

    Returns
    -------
    TestResult
        ``method`` is ``"exact"``, or ``"chi-squared"`` for the large-table
        fallback; ``p_value`` is ``None`` with fewer than two groups or when
        every outcome is the same.

    Notes
    -----
    With both margins fixed, a table with ``x_i`` favorable out of ``n_i`` in
    group i has probability

    .. math:: P(x) = \\prod_i \\binom{n_i}{x_i} \\Big/ \\binom{N}{K}.

    The two-sided p-value sums :math:`P(y)` over every table ``y`` with
    :math:`P(y) \\le P(x_{obs})(1 + 10^{-7})`, as R's ``fisher.test``.

    The sum is exact, by meeting in the middle: every partial table of each
    half of the groups is enumerated (favorable sum, log-probability) and the
    halves are joined on sums adding up to K, so work grows with the square
    root of the number of tables (6 x 10^7 tables take milliseconds). Enumerating
    every table one by one is shorter, but in plain Python it takes about 1.4
    microseconds a table: 0.2 ms for 3 groups of 43 patients, minutes for 15
    diagnoses of 2 to 5 patients (6 x 10^7 tables), hours for 15 groups of 5
    (3 x 10^10 tables; 0.1 s here). When a half exceeds ``limit`` partial
    tables (groups of thousands), Pearson's
    chi-squared test on R - 1 degrees of freedom is used instead.

    References
    ----------
    Freeman GH, Halton JH. Note on an exact treatment of contingency, goodness
    of fit and other problems of significance. Biometrika 1951;38:141-149.
    Mehta CR, Patel NR. A network algorithm for performing Fisher's exact test
    in r x c contingency tables. J Am Stat Assoc 1983;78:427-434.
    """
    x = np.asarray(favorable, dtype=np.int64)
    sizes = np.asarray(n, dtype=np.int64)
    if x.shape != sizes.shape or (x < 0).any() or (x > sizes).any():
        raise ValueError("need 0 <= favorable <= n in every group")
    x, sizes = x[sizes > 0], sizes[sizes > 0]
    total_n, total_fav = int(sizes.sum()), int(x.sum())
    if len(sizes) < 2:
        return TestResult(None, None, "not computed: fewer than two groups")
    if total_fav == 0 or total_fav == total_n:
        return TestResult(None, None, "not computed: every outcome is the same")

    halves, work = ([], []), [0.0, 0.0]           # about equal numbers of partial tables, largest first
    for size in sorted(sizes.tolist(), reverse=True):
        side = 0 if work[0] <= work[1] else 1
        halves[side].append(size)
        work[side] += math.log(size + 1)
    if max(_half_count(half, total_fav) for half in halves) > limit:
        test = stats.chi2_contingency(np.column_stack([x, sizes - x]), correction=False)   # Pearson, no Yates
        chi2, p = float(test.statistic), float(test.pvalue)
        approximate = test.expected_freq.min() < 5
        method = "chi-squared (some expected counts below 5: approximate)" if approximate else "chi-squared"
        return TestResult(p, chi2, method)

    log_total = float(_log_choose(total_n, total_fav))
    bound = float(_log_choose(sizes, x).sum()) + math.log1p(1e-7)      # R's relative tolerance
    sum_a, log_a = _half_tables(halves[0], total_fav)
    sum_b, log_b = _half_tables(halves[1], total_fav)
    order = np.lexsort((log_b, sum_b))                                  # by sum, then log-probability
    sum_b, log_b = sum_b[order], log_b[order]
    p = 0.0
    for s in np.unique(sum_b):
        partners = sum_a == total_fav - s
        if not partners.any():
            continue
        lo, hi = np.searchsorted(sum_b, [s, s + 1])
        bucket = log_b[lo:hi]                                           # ascending
        cumulative = np.cumsum(np.exp(bucket - bucket[-1]))
        la = log_a[partners]
        count = np.searchsorted(bucket, bound - la, side="right")
        hit = count > 0
        p += float(np.sum(np.exp(la[hit] + bucket[-1] - log_total) * cumulative[count[hit] - 1]))
    return TestResult(min(1.0, p), None, "exact")


def kruskal_wallis(samples) -> TestResult:
    """Kruskal-Wallis H test across groups, with the correction for ties.

    ``samples`` holds one array of values per group (NaN and empty groups
    ignored); ``p_value`` is ``None`` with fewer than two groups or when every
    value is the same.

    Notes
    -----
    :math:`H = \\frac{12}{N(N+1)} \\sum_i R_i^2 / n_i - 3(N+1)`, divided by
    :math:`1 - \\sum (t^3 - t)/(N^3 - N)` for ties; p from the chi-squared
    distribution with (groups - 1) degrees of freedom (scipy.stats.kruskal).

    References
    ----------
    Kruskal WH, Wallis WA. Use of ranks in one-criterion variance analysis.
    J Am Stat Assoc 1952;47:583-621.
    """
    groups = [g[~np.isnan(g)] for g in (np.asarray(s, dtype=float) for s in samples)]
    groups = [g for g in groups if len(g)]
    if len(groups) < 2:
        return TestResult(None, None, "not computed: fewer than two groups with values")
    values = np.concatenate(groups)
    if np.all(values == values[0]):
        return TestResult(None, None, "not computed: all values tied")
    h, p = stats.kruskal(*groups)
    return TestResult(float(p), float(h), "chi-squared approximation, tie-corrected")


def _signed_rank_critical_value(n: int, confidence: float) -> int:
    """The k of the interval [W_(k), W_(M+1-k)] (R's qsignrank(alpha/2, n)); 0 if none reaches it."""
    half_alpha = (1 - confidence) / 2
    if n < SIGNED_RANK_EXACT_BELOW:
        ways = np.zeros(n * (n + 1) // 2 + 1)          # ways[w]: subsets of {1..n} with rank sum w
        ways[0] = 1.0
        for rank in range(1, n + 1):
            with_rank = np.zeros_like(ways)
            with_rank[rank:] = ways[:-rank]
            ways = ways + with_rank
        cdf = np.cumsum(ways) / 2.0 ** n
        # first q with cdf[q] >= alpha/2; the tolerance keeps rounding in 1 - confidence from moving q
        return int(np.searchsorted(cdf, half_alpha - 1e-12))
    mean = n * (n + 1) / 4
    sd = math.sqrt(n * (n + 1) * (2 * n + 1) / 24)
    return max(0, math.ceil(mean - 0.5 - float(special.ndtri(1 - half_alpha)) * sd))


def nrs_change(baseline, followup, confidence: float = 0.95) -> dict:
    """Change in pain between paired NRS scores: medians, Hodges-Lehmann estimate, Wilcoxon test.

    Parameters
    ----------
    baseline, followup : array-like of float
        Paired scores, same length; a pair with a missing value (NaN, None,
        pandas NA) is dropped.
    confidence : float
        Two-sided level of the interval.

    Returns
    -------
    dict
        ``n`` (complete pairs), ``median_baseline``, ``median_followup``,
        ``median_change`` (of d = followup - baseline), ``hodges_lehmann``,
        ``ci_low``, ``ci_high`` (``None`` below 6 pairs at 95 %), ``ci_method``
        and ``wilcoxon_p`` (``None`` when every d is 0); with n = 0 all ``None``.

    Notes
    -----
    *Estimate.* The median of the M = n(n+1)/2 Walsh averages
    :math:`W = (d_i + d_j)/2, i \\le j`, zero differences kept.

    *Interval* (Tukey): :math:`[W_{(k)}, W_{(M+1-k)}]`, k the smallest q with
    :math:`P(T^+ \\le q) \\ge \\alpha/2` for the signed-rank statistic
    :math:`T^+` of n differences under the null hypothesis; exact for n < 50,
    from 50 pairs on

    .. math:: k = \\lceil n(n+1)/4 - 0.5 - z_{1-\\alpha/2}\\sqrt{n(n+1)(2n+1)/24}\\,\\rceil

    Without ties or zeros and n < 50 this is R's ``wilcox.test(followup,
    baseline, paired = TRUE, conf.int = TRUE, exact = TRUE)``; with them R
    drops the zeros and approximates, so it differs (coverage here is then
    approximate).

    *Test.* Zero differences dropped; :math:`T^+` the sum of the (mid)ranks of
    :math:`|d|` of positive d, m the number of non-zero d, and

    .. math:: z = \\frac{T^+ - m(m+1)/4 - 0.5\\,\\mathrm{sign}(T^+ - m(m+1)/4)}
                       {\\sqrt{m(m+1)(2m+1)/24 - \\sum_t (t^3 - t)/48}}

    with t the sizes of tied groups; p = 2(1 - Φ(|z|)). Computed by scipy
    ``wilcoxon(d, zero_method="wilcox", correction=True, method="approx")``;
    same as R's ``wilcox.test(followup, baseline, paired = TRUE, exact = FALSE,
    correct = TRUE)``.

    References
    ----------
    Wilcoxon F. Individual comparisons by ranking methods. Biometrics Bull
    1945;1:80-83.
    Hodges JL, Lehmann EL. Estimates of location based on rank tests. Ann Math
    Stat 1963;34:598-611.
    Tukey JW. The simplest signed-rank tests. Memorandum Report 17, Statistical
    Research Group, Princeton University, 1949.
    Bauer DF. Constructing confidence sets using rank statistics. J Am Stat
    Assoc 1972;67:687-690.
    Hollander M, Wolfe DA, Chicken E. Nonparametric Statistical Methods, 3rd ed.
    Wiley 2014, chapter 3.
    """
    _check_confidence(confidence)
    before = np.asarray(baseline, dtype=float)
    after = np.asarray(followup, dtype=float)
    if before.shape != after.shape or before.ndim != 1:
        raise ValueError("baseline and followup must be 1-d arrays of the same length")
    complete = ~np.isnan(before) & ~np.isnan(after)
    before, after = before[complete], after[complete]
    d = after - before
    n = len(d)
    result = {"n": n, **dict.fromkeys(["median_baseline", "median_followup", "median_change",
                                       "hodges_lehmann", "ci_low", "ci_high", "ci_method", "wilcoxon_p"])}
    if n == 0:
        return result
    result["median_baseline"] = float(np.median(before))
    result["median_followup"] = float(np.median(after))
    result["median_change"] = float(np.median(d))

    # The Walsh averages by distinct values of d (NRS differences take few; all n(n+1)/2 of them
    # would be 5 x 10^11 at a million pairs): values u < v that occur c_u and c_v times give
    # (u + v)/2 c_u c_v times, u with itself c_u (c_u + 1)/2 times.
    values, counts = np.unique(d, return_counts=True)
    i, j = np.triu_indices(len(values))
    averages = (values[i] + values[j]) / 2
    times = np.where(i == j, counts[i] * (counts[i] + 1) // 2, counts[i] * counts[j])
    order = np.argsort(averages, kind="stable")
    averages, cumulative = averages[order], np.cumsum(times[order])

    def walsh(k: int) -> float:                     # the k-th smallest Walsh average, k = 1, 2, ...
        return float(averages[np.searchsorted(cumulative, k)])

    m = n * (n + 1) // 2
    result["hodges_lehmann"] = walsh((m + 1) // 2) if m % 2 else (walsh(m // 2) + walsh(m // 2 + 1)) / 2
    k = _signed_rank_critical_value(n, confidence)
    if k == 0:
        result["ci_method"] = f"not computed: {n} pairs cannot reach {100 * confidence:g}% confidence"
    else:
        result["ci_low"], result["ci_high"] = walsh(k), walsh(m + 1 - k)
        kind = "exact" if n < SIGNED_RANK_EXACT_BELOW else "normal approximation"
        result["ci_method"] = f"Walsh averages, Wilcoxon signed-rank critical value ({kind})"
    if np.any(d != 0):
        test = stats.wilcoxon(d, zero_method="wilcox", correction=True, method="approx")
        result["wilcoxon_p"] = float(test.pvalue)
    return result
