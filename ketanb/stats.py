"""Statistics used across stages: Wilson intervals and the tests across subgroups.

Every function takes plain counts or arrays and returns plain Python numbers,
so that results.json and the tests see exactly what the notebooks show.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import special, stats

__all__ = ["Proportion", "wilson_ci", "proportion", "TestResult", "fisher_freeman_halton",
           "kruskal_wallis", "EXACT_TABLE_LIMIT"]

#: Largest number of tables the exact Fisher-Freeman-Halton test enumerates;
#: above it the p-value comes from Pearson's chi-squared test (see fisher_freeman_halton).
EXACT_TABLE_LIMIT = 5_000_000
#: Relative tolerance of "as probable as the observed table" (as R's fisher.test).
FFH_RELATIVE_TOLERANCE = 1e-7


@dataclass(frozen=True)
class Proportion:
    """A proportion with its Wilson score interval.

    Attributes
    ----------
    n, events : int
        Denominator and numerator.
    proportion, ci_low, ci_high : float or None
        Fractions in [0, 1]; ``None`` when ``n`` is 0.
    """

    n: int
    events: int
    proportion: float | None
    ci_low: float | None
    ci_high: float | None


def wilson_ci(events: int, n: int, confidence: float = 0.95) -> tuple[float, float] | tuple[None, None]:
    """Wilson score interval for a binomial proportion, without continuity correction.

    Parameters
    ----------
    events : int
        Number of successes, 0 <= events <= n.
    n : int
        Number of trials.
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

    References
    ----------
    Wilson EB. Probable inference, the law of succession, and statistical
    inference. J Am Stat Assoc 1927;22:209-212.
    Newcombe RG. Two-sided confidence intervals for the single proportion:
    comparison of seven methods. Stat Med 1998;17:857-872.
    """
    if n < 0 or events < 0 or events > n:
        raise ValueError(f"need 0 <= events <= n, got events={events}, n={n}")
    if n == 0:
        return None, None
    z = float(special.ndtri(1 - (1 - confidence) / 2))
    p = events / n
    denominator = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denominator
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denominator
    low, high = max(0.0, centre - half), min(1.0, centre + half)
    if events == 0:
        low = 0.0
    if events == n:
        high = 1.0
    return low, high


def proportion(events: int, n: int, confidence: float = 0.95) -> Proportion:
    """``events / n`` with its Wilson interval (see :func:`wilson_ci`)."""
    low, high = wilson_ci(int(events), int(n), confidence)
    return Proportion(int(n), int(events), events / n if n else None, low, high)


@dataclass(frozen=True)
class TestResult:
    """Result of a test across groups.

    Attributes
    ----------
    p_value : float or None
        ``None`` when the test cannot be computed (fewer than two groups, all values tied).
    statistic : float or None
        The test statistic (H for Kruskal-Wallis, chi-squared for the large-sample
        fallback; ``None`` for the exact test, which has none).
    method : str
        How the p-value was obtained, or why there is none.
    """

    p_value: float | None
    statistic: float | None
    method: str


def _log_choose(n, k):
    return special.gammaln(n + 1) - special.gammaln(k + 1) - special.gammaln(n - k + 1)


def _table_count(sizes: list[int], others: list[int], largest: int, total: int) -> float:
    """Number of R x 2 tables with these margins that the enumeration visits.

    Counts the ways to choose favorable counts of the non-largest groups with
    a partial sum the largest group can complete: a convolution of box
    functions, each done with one cumulative sum, so O(groups x K) time however
    large the groups are. A float, so astronomically many tables are just large.
    """
    ways = np.zeros(total + 1)
    ways[0] = 1.0
    for n in others:
        cumulative = np.cumsum(ways)
        shifted = np.concatenate([np.zeros(n + 1), cumulative[: max(total - n, 0)]])[: total + 1]
        ways = cumulative - shifted
    s = np.arange(total + 1)
    return float(ways[(total - s >= 0) & (total - s <= sizes[largest])].sum())


def fisher_freeman_halton(favorable, n, *, limit: int = EXACT_TABLE_LIMIT) -> TestResult:
    """Fisher-Freeman-Halton exact test of an R x 2 table (groups x favorable/unfavorable).

    Parameters
    ----------
    favorable : sequence of int
        Number of favorable outcomes in each group.
    n : sequence of int
        Group sizes (favorable + unfavorable), same order.
    limit : int
        Largest number of tables to enumerate exactly (default
        :data:`EXACT_TABLE_LIMIT`).

    Returns
    -------
    TestResult
        ``method`` is ``"exact"`` for the enumeration, ``"chi-squared"`` for the
        large-table fallback; ``p_value`` is ``None`` with fewer than two groups
        or when every outcome is the same (all favorable or all unfavorable).

    Notes
    -----
    Under independence with both margins fixed, a table with ``x_i`` favorable
    out of ``n_i`` in group i has probability

    .. math:: P(x) = \\prod_i \\binom{n_i}{x_i} \\Big/ \\binom{N}{K}.

    The two-sided p-value is the sum of :math:`P(y)` over every table ``y``
    with the same margins and :math:`P(y) \\le P(x_{obs})(1 + 10^{-7})`, the
    definition of R's ``fisher.test``. Tables are enumerated group by group
    (the largest group's count follows from the others), with partial sums
    above K pruned, in log space. When more than ``limit`` tables would be
    visited (counted beforehand in O(R x K) time; with the default limit this
    happens when two or more groups other than the largest hold a few thousand
    patients), Pearson's chi-squared test with R - 1 degrees of freedom is used
    instead: with large groups every expected count is large and the two agree
    closely. ``method`` says which gave the p-value, and warns when an expected
    count is below 5 (many small groups).

    References
    ----------
    Freeman GH, Halton JH. Note on an exact treatment of contingency, goodness
    of fit and other problems of significance. Biometrika 1951;38:141-149.
    """
    x = np.asarray(favorable, dtype=np.int64)
    sizes = np.asarray(n, dtype=np.int64)
    if x.shape != sizes.shape or (x < 0).any() or (x > sizes).any():
        raise ValueError("need 0 <= favorable <= n in every group")
    keep = sizes > 0
    x, sizes = x[keep], sizes[keep]
    total_n, total_fav = int(sizes.sum()), int(x.sum())
    if len(sizes) < 2:
        return TestResult(None, None, "not computed: fewer than two groups")
    if total_fav == 0 or total_fav == total_n:
        return TestResult(None, None, "not computed: every outcome is the same")
    largest = int(np.argmax(sizes))
    others = [int(v) for i, v in enumerate(sizes) if i != largest]
    count = _table_count([int(v) for v in sizes], others, largest, total_fav)
    if count > limit:
        expected = np.outer(sizes, [total_fav, total_n - total_fav]) / total_n
        observed = np.column_stack([x, sizes - x])
        chi2 = float(((observed - expected) ** 2 / expected).sum())
        p = float(stats.chi2.sf(chi2, len(sizes) - 1))
        method = "chi-squared" if expected.min() >= 5 else "chi-squared (some expected counts below 5: approximate)"
        return TestResult(p, chi2, method)

    log_obs = float(_log_choose(sizes, x).sum())
    partial_sum = np.zeros(1, dtype=np.int64)
    partial_log = np.zeros(1)
    for g in others:
        values = np.arange(g + 1)
        partial_sum = (partial_sum[:, None] + values[None, :]).ravel()
        partial_log = (partial_log[:, None] + _log_choose(g, values)[None, :]).ravel()
        fits = partial_sum <= total_fav
        partial_sum, partial_log = partial_sum[fits], partial_log[fits]
    last = total_fav - partial_sum
    valid = (last >= 0) & (last <= sizes[largest])
    log_p = partial_log[valid] + _log_choose(int(sizes[largest]), last[valid])
    log_total = float(_log_choose(total_n, total_fav))
    as_extreme = log_p <= log_obs + math.log1p(FFH_RELATIVE_TOLERANCE)
    p = float(np.exp(log_p[as_extreme] - log_total).sum())
    return TestResult(min(1.0, p), None, "exact")


def kruskal_wallis(samples) -> TestResult:
    """Kruskal-Wallis H test across groups, with the correction for ties.

    Parameters
    ----------
    samples : sequence of array-like
        One array of values per group; empty groups are ignored.

    Returns
    -------
    TestResult
        ``p_value`` is ``None`` with fewer than two non-empty groups or when
        every value is the same.

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
    groups = [np.asarray(s, dtype=float) for s in samples]
    groups = [g[~np.isnan(g)] for g in groups]
    groups = [g for g in groups if len(g)]
    if len(groups) < 2:
        return TestResult(None, None, "not computed: fewer than two groups with values")
    values = np.concatenate(groups)
    if np.all(values == values[0]):
        return TestResult(None, None, "not computed: all values tied")
    h, p = stats.kruskal(*groups)
    return TestResult(float(p), float(h), "chi-squared approximation, tie-corrected")
