"""Statistics against hand calculation and R reference values."""
import pytest

from ketanb.stats import fisher_freeman_halton, kruskal_wallis, wilson_ci


def test_wilson_23_of_45():
    # Hand calculation: p=0.5111, z=1.95996; centre 0.5102, half-width 0.1402 -> 0.3700-0.6504
    low, high = wilson_ci(23, 45, 0.95)
    assert low == pytest.approx(0.3700, abs=1e-4)
    assert high == pytest.approx(0.6504, abs=1e-4)


def test_wilson_edges():
    assert wilson_ci(0, 0) == (None, None)
    low, high = wilson_ci(0, 10)
    assert low == 0.0 and high == pytest.approx(0.2775, abs=1e-4)  # z^2/(n+z^2) = 3.8415/13.8415
    with pytest.raises(ValueError):
        wilson_ci(5, 4)


@pytest.mark.parametrize("favorable, n, expected", [
    # R 4.5.2: fisher.test(matrix(c(10,5,8,12,6,7), nrow=2))$p.value = 0.3770904526630931
    ([10, 8, 6], [15, 20, 13], 0.3770904526630931),
    # R: fisher.test(matrix(c(3,1,1,3), nrow=2)) (Fisher's tea tasting) p = 0.4857142857142856
    ([3, 1], [4, 4], 0.4857142857142856),
    # R: fisher.test(matrix(c(1,3,5,2), nrow=2)) p = 0.24242424242424254
    ([1, 3], [6, 5], 0.24242424242424254),
    # R: fisher.test(matrix(c(0,5,8,12), nrow=2)) p = 0.13992094861660076
    ([0, 5], [8, 17], 0.13992094861660076),
])
def test_ffh_matches_r(favorable, n, expected):
    result = fisher_freeman_halton(favorable, n)
    assert result.method == "exact"
    assert result.p_value == pytest.approx(expected, rel=1e-9)


def test_ffh_not_computable():
    assert fisher_freeman_halton([3], [5]).p_value is None
    assert fisher_freeman_halton([0, 0], [3, 4]).p_value is None
    assert fisher_freeman_halton([3, 4], [3, 4]).p_value is None


def test_ffh_large_falls_back_to_chi_squared():
    result = fisher_freeman_halton([3000, 2000, 1000], [6000, 5000, 3000])
    assert result.method == "chi-squared" and result.p_value < 1e-40


def test_kruskal_wallis():
    # scipy docs / hand: groups [1,2,3] vs [4,5,6]: ranks 6 vs 15, H = 12/42*(36/3+225/3) - 21 = 3.857
    result = kruskal_wallis([[1, 2, 3], [4, 5, 6]])
    assert result.statistic == pytest.approx(27 / 7, rel=1e-9)
    assert kruskal_wallis([[1, 1], [1, 1]]).p_value is None
    assert kruskal_wallis([[1, 2], []]).p_value is None


def brute_force_ffh(favorable, n):
    """Every table with these margins, one by one (itertools): the definition, for checking."""
    import itertools
    import math

    k = sum(favorable)
    def prob(xs):
        return math.prod(math.comb(g, v) for g, v in zip(n, xs)) / math.comb(sum(n), k)
    observed = prob(favorable)
    return sum(prob(xs) for xs in itertools.product(*[range(g + 1) for g in n])
               if sum(xs) == k and prob(xs) <= observed * (1 + 1e-7))


@pytest.mark.parametrize("favorable, n", [
    ([1, 0, 2, 1, 3, 0, 2], [2, 3, 3, 2, 4, 1, 3]),        # many small groups, like diagnoses
    ([5, 1, 4, 0, 2], [6, 4, 5, 3, 2]),
    ([0, 3, 3, 1, 2, 2], [2, 3, 5, 2, 4, 3]),
])
def test_meet_in_the_middle_equals_brute_force(favorable, n):
    assert fisher_freeman_halton(favorable, n).p_value == pytest.approx(brute_force_ffh(favorable, n), rel=1e-10)


def test_fifteen_diagnoses_of_45_patients_are_exact_and_quick():
    import time

    sizes = [2, 3, 3, 3, 2, 3, 3, 5, 2, 3, 2, 5, 3, 4, 2]     # 6 x 10^7 tables
    favorable = [1, 2, 1, 2, 1, 1, 2, 3, 1, 2, 1, 2, 2, 1, 1]
    start = time.perf_counter()
    result = fisher_freeman_halton(favorable, sizes)
    assert result.method == "exact" and time.perf_counter() - start < 2
    assert 0 < result.p_value <= 1


@pytest.mark.parametrize("sizes", [[3, 4, 5], [2, 2, 2, 6], [10, 1, 7], [5, 5], [1, 1, 1, 1, 9]])
def test_partial_table_count_matches_brute_force(sizes):
    import itertools

    from ketanb.stats import _half_count

    k = sum(sizes) // 2
    brute = sum(1 for xs in itertools.product(*[range(v + 1) for v in sizes]) if sum(xs) <= k)
    assert _half_count(sizes, k) == brute


def test_huge_groups_are_counted_quickly_and_use_chi_squared():
    import time

    start = time.perf_counter()
    result = fisher_freeman_halton([100_000, 120_000, 90_000], [300_000, 250_000, 200_000])
    assert time.perf_counter() - start < 2        # the count is O(groups x K), not an enumeration
    assert result.method == "chi-squared" and result.p_value < 1e-100
