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
    """How many partial tables :func:`_half_tables` makes: a convolution of box functions,
    each done with one cumulative sum, so O(groups x K) time however large the groups are."""
    ways = np.zeros(total + 1)
    ways[0] = 1.0
    for n in sizes:
        cumulative = np.cumsum(ways)
        shifted = np.concatenate([np.zeros(n + 1), cumulative[: max(total - n, 0)]])[: total + 1]
        ways = cumulative - shifted
    return float(ways.sum())


def _split(sizes: list[int]) -> tuple[list[int], list[int]]:
    """Two halves of the groups with about equal numbers of partial tables (largest first, greedy)."""
    halves: tuple[list[int], list[int]] = ([], [])
    work = [0.0, 0.0]
    for n in sorted(sizes, reverse=True):
        side = 0 if work[0] <= work[1] else 1
        halves[side].append(n)
        work[side] += math.log(n + 1)
    return halves


def fisher_freeman_halton(favorable, n, *, limit: int = EXACT_TABLE_LIMIT) -> TestResult:
    """Fisher-Freeman-Halton exact test of an R x 2 table (groups x favorable/unfavorable).

    Parameters
    ----------
    favorable : sequence of int
        Number of favorable outcomes in each group.
    n : sequence of int
        Group sizes (favorable + unfavorable), same order.
    limit : int
        Largest number of partial tables (per half, see Notes) to enumerate
        exactly (default :data:`EXACT_TABLE_LIMIT`).

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
    definition of R's ``fisher.test``.

    The sum is exact and found by meeting in the middle: the groups are split
    in two halves; every partial table of each half is enumerated (favorable
    sum and log-probability, sums above K pruned); the halves' partial tables
    are joined on sums that add up to K, and for each partial table of one half
    the qualifying ones of the other are summed at once (sorted log-probabilities
    and cumulative sums). Work and memory grow with the square root of the
    number of tables, so 15 diagnoses of a 45-patient cohort (6 x 10^7 tables)
    take milliseconds. The halves' sizes are counted beforehand in O(R x K)
    time; when one would exceed ``limit`` (two or more groups of several
    thousand patients), Pearson's chi-squared test with R - 1 degrees of
    freedom is used instead: with groups that large every expected count is
    large and the two agree closely. ``method`` says which gave the p-value,
    and warns when an expected count is below 5.

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
    keep = sizes > 0
    x, sizes = x[keep], sizes[keep]
    total_n, total_fav = int(sizes.sum()), int(x.sum())
    if len(sizes) < 2:
        return TestResult(None, None, "not computed: fewer than two groups")
    if total_fav == 0 or total_fav == total_n:
        return TestResult(None, None, "not computed: every outcome is the same")
    first, second = _split([int(v) for v in sizes])
    if max(_half_count(first, total_fav), _half_count(second, total_fav)) > limit:
        expected = np.outer(sizes, [total_fav, total_n - total_fav]) / total_n
        observed = np.column_stack([x, sizes - x])
        chi2 = float(((observed - expected) ** 2 / expected).sum())
        p = float(stats.chi2.sf(chi2, len(sizes) - 1))
        method = "chi-squared" if expected.min() >= 5 else "chi-squared (some expected counts below 5: approximate)"
        return TestResult(p, chi2, method)

    log_total = float(_log_choose(total_n, total_fav))
    bound = float(_log_choose(sizes, x).sum()) + math.log1p(FFH_RELATIVE_TOLERANCE)
    sum_a, log_a = _half_tables(first, total_fav)
    sum_b, log_b = _half_tables(second, total_fav)
    order = np.lexsort((log_b, sum_b))                  # by sum, then log-probability
    sum_b, log_b = sum_b[order], log_b[order]
    p = 0.0
    for s in np.unique(sum_b):
        lo, hi = np.searchsorted(sum_b, [s, s + 1])
        bucket = log_b[lo:hi]                            # ascending
        top = bucket[-1]
        cumulative = np.cumsum(np.exp(bucket - top))
        partners = sum_a == total_fav - s
        if not partners.any():
            continue
        la = log_a[partners]
        count = np.searchsorted(bucket, bound - la, side="right")
        hit = count > 0
        p += float(np.sum(np.exp(la[hit] + top - log_total) * cumulative[count[hit] - 1]))
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
