"""Statistics against hand calculation and R reference values.

R reference values: R 4.2.2 (Rscript), ``options(digits = 15)``; the call and its
printed output are quoted next to each assertion.
"""
import math

import numpy as np
import pytest

from ketanb.stats import (
    Proportion,
    clopper_pearson,
    fisher_freeman_halton,
    kruskal_wallis,
    newcombe_difference,
    nrs_change,
    odds_ratio_exact,
    proportion,
    wilson_ci,
)


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
    # R 4.2.2: fisher.test(matrix(c(10,5,8,12,6,7), nrow=2))$p.value = 0.3770904526630931
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


def test_ffh_of_this_run_s_three_groups():
    # results/subgroups.json of the synthetic run: neuropathic 11/20, nociceptive 4/11, nociplastic 7/12;
    # every table with these margins summed with exact integers (math.comb) gives 0.53739554503505...
    assert fisher_freeman_halton([11, 4, 7], [20, 11, 12]).p_value == pytest.approx(0.537395545035, abs=5e-13)


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


def test_tables_as_probable_as_the_observed_one_count_despite_rounding():
    # Three groups of 4 with 1, 2 and 3 favorable: the six orderings of (1, 2, 3) are equally probable,
    # but their log-probabilities, summed in another order, differ in the last bits. R counts them all
    # through a relative tolerance of 1e-7: fisher.test(matrix(c(1,2,3,3,2,1),3))$p.value is
    # 0.766233766233766 (R 4.2.2), which is 59/77 exactly (brute force with fractions). Without the
    # tolerance the sum drops to 1/7 (0.142857).
    assert fisher_freeman_halton([1, 2, 3], [4, 4, 4]).p_value == pytest.approx(59 / 77, rel=1e-12)
    assert fisher_freeman_halton([3, 1, 2], [4, 4, 4]).p_value == pytest.approx(59 / 77, rel=1e-12)


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


# --------------------------------------------------------------------------
# Wilson interval (statsmodels) and the result block
# --------------------------------------------------------------------------

@pytest.mark.parametrize("events, n, confidence, low, high", [
    # R: prop.test(23, 45, correct = FALSE)$conf.int -> 0.370044646445832 0.650429762471215
    (23, 45, 0.95, 0.370044646445832, 0.650429762471215),
    # R: prop.test(7, 12, correct = FALSE, conf.level = 0.9)$conf.int -> 0.355981014900535 0.780022119308219
    (7, 12, 0.90, 0.355981014900535, 0.780022119308219),
    # R: prop.test(0, 10, correct = FALSE)$conf.int -> 0.000000000000000 0.277532799862889
    (0, 10, 0.95, 0.0, 0.277532799862889),
])
def test_wilson_matches_r_prop_test(events, n, confidence, low, high):
    got_low, got_high = wilson_ci(events, n, confidence)
    assert got_low == pytest.approx(low, rel=1e-12, abs=1e-15)
    assert got_high == pytest.approx(high, rel=1e-12)


def hand_wilson(events, n, confidence):
    """The score formula written out (the module's implementation before statsmodels)."""
    from scipy.special import ndtri

    z = float(ndtri(1 - (1 - confidence) / 2))
    p = events / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return centre - half, centre + half


@pytest.mark.parametrize("confidence", [0.9, 0.95, 0.99])
def test_wilson_equals_the_formula_and_keeps_its_ends_exact(confidence):
    for n in range(1, 81):
        for events in range(n + 1):
            low, high = wilson_ci(events, n, confidence)
            hand_low, hand_high = hand_wilson(events, n, confidence)
            assert low == pytest.approx(max(hand_low, 0.0), abs=1e-15)
            assert high == pytest.approx(min(hand_high, 1.0), abs=1e-15)
        # statsmodels alone leaves e.g. 6.9e-18 as the lower bound of 0 of 35 at 90 %:
        # the ends must be exactly 0 and 1
        assert wilson_ci(0, n, confidence)[0] == 0.0
        assert wilson_ci(n, n, confidence)[1] == 1.0


def test_wilson_rejects_a_confidence_outside_0_1():
    with pytest.raises(ValueError):
        wilson_ci(3, 10, 95)


def test_proportion_block_has_the_contract_keys_in_order():
    block = proportion(23, 45).block()
    assert list(block) == ["n", "favorable", "proportion", "ci_low", "ci_high"]
    assert block["n"] == 45 and block["favorable"] == 23
    assert block["proportion"] == pytest.approx(23 / 45, rel=1e-15)
    # R: prop.test(23, 45, correct = FALSE)$conf.int -> 0.370044646445832 0.650429762471215
    assert block["ci_low"] == pytest.approx(0.370044646445832, rel=1e-12)
    assert block["ci_high"] == pytest.approx(0.650429762471215, rel=1e-12)


def test_proportion_block_other_key_and_empty():
    assert list(Proportion(74, 3, 0.01, 0.1).block("patients")) == [
        "n", "patients", "proportion", "ci_low", "ci_high"]
    assert proportion(0, 0).block() == {"n": 0, "favorable": 0, "proportion": None,
                                         "ci_low": None, "ci_high": None}
    with pytest.raises(ValueError):
        proportion(1, 2).block("n")


# --------------------------------------------------------------------------
# Clopper-Pearson
# --------------------------------------------------------------------------

@pytest.mark.parametrize("events, n, confidence, low, high", [
    # R: binom.test(0, 74)$conf.int -> 0.0000000000000000 0.0486276162379895
    # hand: upper = 1 - 0.025^(1/74) = 1 - exp(-3.688879/74) = 1 - 0.951372 = 0.048628
    (0, 74, 0.95, 0.0, 0.0486276162379895),
    # R: binom.test(3, 45, conf.level = 0.9)$conf.int -> 0.0184160649418377 0.1633883810995225
    (3, 45, 0.90, 0.0184160649418377, 0.1633883810995225),
    # R: binom.test(74, 74)$conf.int -> 0.95137238376201 1.00000000000000
    (74, 74, 0.95, 0.95137238376201, 1.0),
    # R: binom.test(23, 45)$conf.int -> 0.357740385670030 0.662966251607206
    (23, 45, 0.95, 0.357740385670030, 0.662966251607206),
])
def test_clopper_pearson_matches_r_binom_test(events, n, confidence, low, high):
    got_low, got_high = clopper_pearson(events, n, confidence)
    assert got_low == pytest.approx(low, rel=1e-10, abs=1e-15)
    assert got_high == pytest.approx(high, rel=1e-10)


def test_clopper_pearson_edges():
    assert clopper_pearson(0, 0) == (None, None)
    with pytest.raises(ValueError):
        clopper_pearson(5, 4)


# --------------------------------------------------------------------------
# Newcombe's hybrid score interval for the risk difference
# --------------------------------------------------------------------------

# Newcombe RG, Stat Med 1998;17:873-890, the eight worked examples, method 10.
# Each row was computed twice: here (statsmodels) and in R by the formula on R's own
# Wilson limits, e.g. for 56/70 vs 48/80:
#   ci1 <- prop.test(56, 70, correct = FALSE)$conf.int; ci2 <- prop.test(48, 80, correct = FALSE)$conf.int
#   d <- 56/70 - 48/80; c(d - sqrt((56/70 - ci1[1])^2 + (ci2[2] - 48/80)^2),
#                         d + sqrt((ci1[2] - 56/70)^2 + (48/80 - ci2[1])^2))
#   -> 0.0524314724023649 0.333872654036906
# To four decimals these agree with the method-10 limits quoted from the paper's
# Table II for five examples (0.0524, 0.3339 / 0.1705, 0.8090 / -0.0381, 0.1926 /
# -0.1611, 0.2775 / -0.2775, 0.2775). For 6/7 vs 2/7, 10/10 vs 0/20 and 10/10 vs 0/10
# the method-10 formula gives (0.0582, 0.8062), (0.6791, 1) and (0.6075, 1), not the
# quoted (0.0146, 0.8221), (0.7225, 1) and (0.6791, 1): 0.7225 is the Wilson lower limit
# of 10/10 alone, 0.6791 belongs to 10/10 vs 0/20, and method 11 (continuity corrected,
# prop.test(correct = TRUE)) gives (-0.0290, 0.8423) for 6/7 vs 2/7. (The paper itself
# was not at hand to re-read; the numbers below are computed, twice.)
@pytest.mark.parametrize("x1, n1, x2, n2, difference, low, high", [
    (56, 70, 48, 80, 0.2, 0.0524314724023649, 0.333872654036906),
    (9, 10, 3, 10, 0.6, 0.170522723934503, 0.809017973535488),
    (6, 7, 2, 7, 4 / 7, 0.0582279274823123, 0.806249637524228),
    (5, 56, 0, 29, 5 / 56, -0.0381371479035369, 0.192560013855112),
    (0, 10, 0, 20, 0.0, -0.161125158052819, 0.277532799862889),
    (0, 10, 0, 10, 0.0, -0.277532799862889, 0.277532799862889),
    (10, 10, 0, 20, 1.0, 0.679086037141915, 1.0),
    (10, 10, 0, 10, 1.0, 0.607509350430524, 1.0),
])
def test_newcombe_worked_examples(x1, n1, x2, n2, difference, low, high):
    got = newcombe_difference(x1, n1, x2, n2)
    assert got[0] == pytest.approx(difference, abs=1e-15)
    assert got[1] == pytest.approx(low, abs=1e-13)
    assert got[2] == pytest.approx(high, abs=1e-13)


def test_newcombe_equals_method_10_on_our_wilson_intervals():
    # statsmodels' "newcomb" must be method 10 at any confidence: the formula on wilson_ci
    for confidence in (0.9, 0.95, 0.99):
        for n1 in (1, 7, 20):
            for x1 in range(n1 + 1):
                for n2 in (3, 11):
                    for x2 in range(n2 + 1):
                        p1, p2 = x1 / n1, x2 / n2
                        l1, u1 = wilson_ci(x1, n1, confidence)
                        l2, u2 = wilson_ci(x2, n2, confidence)
                        d, low, high = newcombe_difference(x1, n1, x2, n2, confidence)
                        assert d == pytest.approx(p1 - p2, abs=1e-15)
                        assert low == pytest.approx(d - math.sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2), abs=1e-14)
                        assert high == pytest.approx(d + math.sqrt((u1 - p1) ** 2 + (p2 - l2) ** 2), abs=1e-14)


def test_newcombe_empty_group():
    assert newcombe_difference(0, 0, 3, 10) == (None, None, None)
    assert newcombe_difference(3, 10, 0, 0) == (None, None, None)
    with pytest.raises(ValueError):
        newcombe_difference(11, 10, 3, 10)


# --------------------------------------------------------------------------
# Conditional odds ratio and Fisher's exact test (2 x 2)
# --------------------------------------------------------------------------

# table [[a, b], [c, d]] = R's matrix(c(a, c, b, d), 2)
@pytest.mark.parametrize("table, confidence, estimate, low, high, p_value", [
    # 11/20 vs 4/11. R: f <- fisher.test(matrix(c(11, 4, 9, 7), 2))
    #   f$estimate 2.08641100139668; f$conf.int 0.378526888611221 13.129685729634893; f$p.value 0.45779368380326
    ((11, 9, 4, 7), 0.95, 2.08641100139668, 0.378526888611221, 13.129685729634893, 0.45779368380326),
    # same, R: fisher.test(matrix(c(11, 4, 9, 7), 2), conf.level = 0.9)$conf.int -> 0.475849622196377 10.050968987267645
    ((11, 9, 4, 7), 0.90, 2.08641100139668, 0.475849622196377, 10.050968987267645, 0.45779368380326),
    # 7/12 vs 11/20. R: fisher.test(matrix(c(7, 11, 5, 9), 2))
    #   estimate 1.14061009228503; conf.int 0.217293471730766 6.300081975130808; p.value 1
    ((7, 5, 11, 9), 0.95, 1.14061009228503, 0.217293471730766, 6.300081975130808, 1.0),
    # R: fisher.test(matrix(c(10, 8, 5, 12), 2))
    #   estimate 2.90325404568761; conf.int 0.613638471864212 15.474034235130459; p.value 0.175583176153858
    ((10, 5, 8, 12), 0.95, 2.90325404568761, 0.613638471864212, 15.474034235130459, 0.175583176153858),
    # zero cell a = 0. R: fisher.test(matrix(c(0, 5, 8, 12), 2))
    #   estimate 0; conf.int 0.00000000000000 2.18301053234444; p.value 0.139920948616601
    ((0, 8, 5, 12), 0.95, 0.0, 0.0, 2.18301053234444, 0.139920948616601),
    # zero cell b = 0. R: fisher.test(matrix(c(5, 3, 0, 7), 2))
    #   estimate Inf; conf.int 1.13743055355736 Inf; p.value 0.0256410256410256  (Inf -> None)
    ((5, 0, 3, 7), 0.95, None, 1.13743055355736, None, 0.0256410256410256),
])
def test_odds_ratio_matches_r_fisher_test(table, confidence, estimate, low, high, p_value):
    result = odds_ratio_exact(*table, confidence=confidence)
    assert list(result) == ["odds_ratio", "or_ci_low", "or_ci_high", "fisher_p", "or_method"]
    # R solves the estimate and the limits to about four significant digits
    for key, expected in (("odds_ratio", estimate), ("or_ci_low", low), ("or_ci_high", high)):
        if expected is None:
            assert result[key] is None
        else:
            assert result[key] == pytest.approx(expected, rel=1e-3)
    assert result["fisher_p"] == pytest.approx(p_value, rel=1e-9)


def noncentral_tail(psi, a, row1, row2, col1, upper):
    """P(A >= a) (upper) or P(A <= a) under Fisher's noncentral hypergeometric distribution."""
    xs = range(max(0, col1 - row2), min(row1, col1) + 1)
    weights = {x: math.comb(row1, x) * math.comb(row2, col1 - x) * psi ** (x - a) for x in xs}
    tail = sum(w for x, w in weights.items() if (x >= a if upper else x <= a))
    return tail / sum(weights.values())


@pytest.mark.parametrize("table, estimate, low, high", [
    # Fisher's tea tasting, [[3, 1], [1, 3]]. R 4.2.2: fisher.test(matrix(c(3, 1, 1, 3), 2))
    #   estimate 6.40830886700579; conf.int 0.211732915305503 621.933750545417297
    ((3, 1, 1, 3), 6.40830886700579, 0.211732915305503, 621.933750545417297),
    # R 4.2.2: options(digits = 15); fisher.test(matrix(c(8, 1, 1, 8), 2))
    #   estimate 40.8363205419351; conf.int 2.46649135167545 3072.52643880868
    ((8, 1, 1, 8), 40.8363205419351, 2.46649135167545, 3072.52643880868),
    # R 4.2.2: fisher.test(matrix(c(7, 1, 8, 4), 2)) -> 3.30210433947636; 0.243369852003034 196.300397398972
    ((7, 8, 1, 4), 3.30210433947636, 0.243369852003034, 196.300397398972),
])
def test_odds_ratio_gives_r_s_numbers_where_r_s_root_finder_is_coarse(table, estimate, low, high):
    """R solves the limits with uniroot at a tolerance of about 1e-4 on 1/psi: its upper limit for the
    tea tasting is 621.93, while P(A <= 3 | psi) = 0.025 holds at 626.24 (0.7 % higher, by bisection
    to 1e-12 below). The contract asks for R's numbers, and R's steps give them to 1e-12."""
    from scipy.optimize import brentq

    result = odds_ratio_exact(*table)
    assert result["or_ci_low"] == pytest.approx(low, rel=1e-12)
    assert result["or_ci_high"] == pytest.approx(high, rel=1e-12)
    # the estimate's path can part from R's in the last bits of a sum (R adds in long double): within 1e-3
    assert result["odds_ratio"] == pytest.approx(estimate, rel=1e-3)
    if table == (3, 1, 1, 3):
        exact = brentq(lambda psi: noncentral_tail(psi, 3, 4, 4, 4, upper=False) - 0.025, 1, 1e4, xtol=1e-12)
        assert exact == pytest.approx(626.2435, rel=1e-6) and abs(result["or_ci_high"] / exact - 1) > 0.005


def test_r_uniroot_takes_r_s_steps():
    """R 4.2.2, options(digits = 15): uniroot(function(x) x^3 - 2, c(0, 2))$root -> 1.25993383506081 (its
    tolerance is 1.2e-4: the cube root of 2 is 1.25992104989487); uniroot(function(x) cos(x) - x,
    c(0, 1))$root -> 0.73909105828537 (the root is 0.739085133215161)."""
    from ketanb.r_uniroot import r_uniroot

    assert r_uniroot(lambda x: x ** 3 - 2, 0.0, 2.0) == pytest.approx(1.25993383506081, rel=1e-13)
    assert r_uniroot(lambda x: math.cos(x) - x, 0.0, 1.0) == pytest.approx(0.73909105828537, rel=1e-13)


def test_odds_ratio_estimate_is_the_conditional_mle():
    # The conditional MLE solves E[A | psi] = a; for 11/20 vs 4/11 check that at the estimate
    result = odds_ratio_exact(11, 9, 4, 7)
    psi = result["odds_ratio"]
    xs = range(max(0, 15 - 11), min(20, 15) + 1)
    weights = [math.comb(20, x) * math.comb(11, 15 - x) * psi ** x for x in xs]
    mean = sum(x * w for x, w in zip(xs, weights)) / sum(weights)
    assert mean == pytest.approx(11, rel=1e-4)          # R's uniroot stops within about 1e-4


def test_odds_ratio_without_information_is_none():
    # every patient favorable: R 4.2.2's fisher.test(matrix(c(5, 3, 0, 0), 2)) prints p = 1 and an
    # odds ratio of 0 with interval (0, Inf); here, as for the test across groups when every outcome
    # is the same (contract, section 3: all values tied), all four are None
    same = {"odds_ratio": None, "or_ci_low": None, "or_ci_high": None, "fisher_p": None,
            "or_method": "not computed: every patient of both groups has the same outcome"}
    assert odds_ratio_exact(5, 0, 3, 0) == same
    assert odds_ratio_exact(0, 5, 0, 3) == same           # every patient unfavorable
    assert odds_ratio_exact(0, 0, 3, 4) == {"odds_ratio": None, "or_ci_low": None, "or_ci_high": None,
                                            "fisher_p": None, "or_method": "not computed: a group is empty"}
    with pytest.raises(ValueError):
        odds_ratio_exact(-1, 2, 3, 4)


# --------------------------------------------------------------------------
# Change in pain: medians, Hodges-Lehmann estimate and interval, Wilcoxon test
# --------------------------------------------------------------------------

NRS_KEYS = ["n", "median_baseline", "median_followup", "median_change", "hodges_lehmann",
            "ci_low", "ci_high", "ci_method", "wilcoxon_p"]

# Hollander & Wolfe's depression scores, the example of R's ?wilcox.test
# (x first visit = baseline, y second visit = followup)
HW_BASELINE = [1.83, 0.50, 1.62, 2.48, 1.68, 1.88, 1.55, 3.06, 1.30]
HW_FOLLOWUP = [0.878, 0.647, 0.598, 2.05, 1.06, 1.29, 1.06, 3.14, 1.29]


def test_nrs_change_hollander_wolfe_matches_r():
    result = nrs_change(HW_BASELINE, HW_FOLLOWUP)
    assert list(result) == NRS_KEYS
    assert result["n"] == 9
    # R: median(x) 1.68; median(y) 1.06; median(y - x) -0.49
    assert result["median_baseline"] == pytest.approx(1.68, abs=1e-12)
    assert result["median_followup"] == pytest.approx(1.06, abs=1e-12)
    assert result["median_change"] == pytest.approx(-0.49, abs=1e-12)
    # R: w <- wilcox.test(y, x, paired = TRUE, conf.int = TRUE, exact = TRUE)
    #   w$estimate (pseudo)median -0.46; w$conf.int -0.786 -0.010
    assert result["hodges_lehmann"] == pytest.approx(-0.46, abs=1e-12)
    assert result["ci_low"] == pytest.approx(-0.786, abs=1e-12)
    assert result["ci_high"] == pytest.approx(-0.010, abs=1e-12)
    assert "exact" in result["ci_method"]
    # R: wilcox.test(y, x, paired = TRUE, exact = FALSE, correct = TRUE)$p.value -> 0.0440109840129515 (V = 5)
    assert result["wilcoxon_p"] == pytest.approx(0.0440109840129515, rel=1e-10)


def test_nrs_change_hollander_wolfe_90_percent():
    # R: wilcox.test(y, x, paired = TRUE, conf.int = TRUE, exact = TRUE, conf.level = 0.9)$conf.int -> -0.726 -0.175
    result = nrs_change(HW_BASELINE, HW_FOLLOWUP, confidence=0.9)
    assert (result["ci_low"], result["ci_high"]) == pytest.approx((-0.726, -0.175), abs=1e-12)


# 20 pairs, no ties among |d|, no zero d
TWENTY_D = [-6.5, -5, -4.5, -4, -3.5, -3, -2.5, -2, -1.5, -1, -0.5, 0.75, 1.25, 2.25, 3.25, -7, -5.5, -6, -8, 4.25]
TWENTY_BASELINE = [9, 8, 7.5, 8, 6, 7, 9, 5, 6.5, 8, 7, 4, 5, 6, 5.5, 10, 8, 9, 10, 5]


@pytest.mark.parametrize("confidence, low, high", [
    # R: base <- c(9, 8, 7.5, 8, 6, 7, 9, 5, 6.5, 8, 7, 4, 5, 6, 5.5, 10, 8, 9, 10, 5)
    #    d <- c(-6.5, -5, -4.5, -4, -3.5, -3, -2.5, -2, -1.5, -1, -0.5, 0.75, 1.25, 2.25, 3.25, -7, -5.5, -6, -8, 4.25)
    #    fu <- base + d; wilcox.test(fu, base, paired = TRUE, conf.int = TRUE, exact = TRUE)
    #    -> (pseudo)median -2.5; conf.int -4.25 -0.75
    (0.95, -4.25, -0.75),
    #    ... conf.level = 0.99 -> conf.int -4.750 -0.125
    (0.99, -4.75, -0.125),
])
def test_nrs_change_twenty_pairs_matches_r_exact_interval(confidence, low, high):
    followup = [b + d for b, d in zip(TWENTY_BASELINE, TWENTY_D)]
    result = nrs_change(TWENTY_BASELINE, followup, confidence=confidence)
    assert result["hodges_lehmann"] == -2.5
    assert (result["ci_low"], result["ci_high"]) == (low, high)
    # R: median(d) -2.75; median(base) 7.25; median(fu) 4
    assert (result["median_change"], result["median_baseline"], result["median_followup"]) == (-2.75, 7.25, 4.0)
    # R: wilcox.test(fu, base, paired = TRUE, exact = FALSE, correct = TRUE)$p.value -> 0.0105491877123423
    assert result["wilcoxon_p"] == pytest.approx(0.0105491877123423, rel=1e-10)


def test_nrs_change_integer_scores_with_ties_and_zeros():
    baseline = [8, 7, 9, 6, 8, 7, 10, 5, 8, 9, 7, 6, 8, 9, 7]
    followup = [4, 7, 5, 6, 3, 6, 8, 5, 2, 9, 4, 7, 6, 3, 7]    # d: 5 zeros, many ties
    result = nrs_change(baseline, followup)
    # R: wilcox.test(fu, base, paired = TRUE, exact = FALSE, correct = TRUE) -> V = 1.5, p-value 0.00916122749338601
    assert result["wilcoxon_p"] == pytest.approx(0.00916122749338601, rel=1e-10)
    # Our interval, the same method written in R:
    #   d <- fu - base; w <- outer(d, d, "+"); w <- sort(w[!lower.tri(w)]) / 2
    #   k <- qsignrank(0.025, 15)  -> 26
    #   c(median(w), w[k], w[length(w) + 1 - k])  -> -2.0 -3.5 -0.5
    assert result["hodges_lehmann"] == -2.0
    assert (result["ci_low"], result["ci_high"]) == (-3.5, -0.5)
    # R: median(d) -2; median(base) 8; median(fu) 6
    assert (result["median_change"], result["median_baseline"], result["median_followup"]) == (-2.0, 8.0, 6.0)
    # Not R's own interval here: wilcox.test(fu, base, paired = TRUE, conf.int = TRUE, exact = FALSE,
    # correct = TRUE) drops the 5 zero differences and gives (pseudo)median -3.49995, conf.int
    # -4.99997 -1.49998; the contract's Hodges-Lehmann estimate keeps them (-2).


def test_nrs_change_sixty_pairs_normal_critical_value_matches_r():
    # n >= 50: k from the normal approximation, here equal to R's exact one.
    # R: i <- 1:60; d <- i - 20 + i / 128; base <- rep(30, 60); fu <- base + d
    #    w <- wilcox.test(fu, base, paired = TRUE, conf.int = TRUE, exact = TRUE)
    #    -> (pseudo)median 10.73828125; conf.int 5.69921875 15.77734375; qsignrank(0.025, 60) -> 649
    #    wilcox.test(fu, base, paired = TRUE, exact = FALSE, correct = TRUE)$p.value -> 8.3274046037406e-05
    i = np.arange(1, 61)
    d = i - 20 + i / 128
    result = nrs_change(np.full(60, 30.0), 30.0 + d)
    assert result["hodges_lehmann"] == 10.73828125
    assert (result["ci_low"], result["ci_high"]) == (5.69921875, 15.77734375)
    assert "normal approximation" in result["ci_method"]
    assert result["wilcoxon_p"] == pytest.approx(8.3274046037406e-05, rel=1e-10)


def test_nrs_change_hand_worked_six_pairs():
    # d = -5, -4, -3, -2, -1, 6 (no ties among |d|). Walsh averages, i <= j (21):
    #   -5 -4.5 -4 -4 -3.5 -3.5 -3 -3 -3 -2.5 | -2.5 | -2 -2 -1.5 -1 0.5 1 1.5 2 2.5 6
    #   median = 11th = -2.5. Signed-rank null for n = 6: P(T+ <= 0) = 1/64 < 0.025 <=
    #   P(T+ <= 1) = 2/64, so k = 1 and the 95 % interval is [W(1), W(21)] = [-5, 6].
    #   Test: ranks of |d| 5 4 3 2 1 6, T+ = 6, mean 6*7/4 = 10.5, variance 6*7*13/24 = 22.75,
    #   z = (6 - 10.5 + 0.5) / 4.76970 = -0.83863, p = 2 Phi(-0.83863) = 0.40168.
    # R: wilcox.test(d, conf.int = TRUE, exact = TRUE) -> (pseudo)median -2.5; conf.int -5 6
    #    wilcox.test(d, exact = FALSE, correct = TRUE)$p.value -> 0.401678166469773
    result = nrs_change([0] * 6, [-5, -4, -3, -2, -1, 6])
    assert result["median_change"] == -2.5
    assert result["hodges_lehmann"] == -2.5
    assert (result["ci_low"], result["ci_high"]) == (-5.0, 6.0)
    assert result["wilcoxon_p"] == pytest.approx(0.401678166469773, rel=1e-10)


def test_nrs_change_too_few_pairs_for_an_interval():
    # d = -3, -1, 2. Walsh averages -3 -2 -1 -0.5 0.5 2: HL = (-1 - 0.5)/2 = -0.75.
    # With 3 pairs even [min, max] covers only 1 - 2/8 = 75 %: no 95 % interval.
    # Test: ranks 3 1 2, T+ = 2, mean 3, variance 3.5, z = (2 - 3 + 0.5)/1.8708 = -0.26726,
    # p = 0.78927. R: wilcox.test(c(-3, -1, 2), exact = FALSE, correct = TRUE)$p.value -> 0.789268026134281
    result = nrs_change([5, 6, 4], [2, 5, 6])
    assert result["hodges_lehmann"] == -0.75 and result["median_change"] == -1.0
    assert result["ci_low"] is None and result["ci_high"] is None
    assert result["ci_method"] == "not computed: 3 pairs cannot reach 95% confidence"
    assert result["wilcoxon_p"] == pytest.approx(0.789268026134281, rel=1e-10)


def test_nrs_change_drops_incomplete_pairs():
    import pandas as pd

    baseline = pd.Series(HW_BASELINE + [7.0, None, 6.0], dtype="Float64")     # pandas NA
    followup = [*HW_FOLLOWUP, float("nan"), 3.0, None]
    assert nrs_change(baseline, followup) == nrs_change(HW_BASELINE, HW_FOLLOWUP)
    assert baseline.isna().sum() == 1                                          # input left as it was


def test_nrs_change_no_pairs_and_no_change():
    empty = nrs_change([float("nan"), 5.0], [4.0, float("nan")])
    assert list(empty) == NRS_KEYS
    assert empty["n"] == 0 and all(empty[key] is None for key in NRS_KEYS[1:])
    assert nrs_change([], [])["n"] == 0
    unchanged = nrs_change([5, 6, 7, 8, 6, 5, 7], [5, 6, 7, 8, 6, 5, 7])
    assert unchanged["wilcoxon_p"] is None
    assert unchanged["hodges_lehmann"] == 0.0 and unchanged["median_change"] == 0.0
    assert (unchanged["ci_low"], unchanged["ci_high"]) == (0.0, 0.0)
    with pytest.raises(ValueError):
        nrs_change([1, 2], [1, 2, 3])


@pytest.mark.parametrize("n, confidence, expected", [
    # exact, n < 50. R: sapply(c(6:12, 20, 30, 49), function(n) qsignrank(0.025, n))
    #   -> 1 3 4 6 9 11 14 53 138 416
    (6, 0.95, 1), (7, 0.95, 3), (8, 0.95, 4), (9, 0.95, 6), (10, 0.95, 9), (11, 0.95, 11),
    (12, 0.95, 14), (20, 0.95, 53), (30, 0.95, 138), (49, 0.95, 416),
    # R: sapply(c(9, 20), function(n) qsignrank(0.005, n)) -> 2 38
    (9, 0.99, 2), (20, 0.99, 38),
    # not reachable: P(T+ <= 0) = 1/32 >= 0.025 for n = 5
    (5, 0.95, 0),
    # normal approximation, n >= 50, by hand: n = 50: mean 637.5, sd sqrt(10731.25) = 103.5917,
    # 1.959964 * 103.5917 = 203.0336; ceil(637.5 - 0.5 - 203.0336) = ceil(433.97) = 434
    # (R's exact qsignrank(0.025, 50) is 435: the approximation is one wider here);
    # n = 60: mean 915, sd sqrt(18452.5) = 135.8400, 1.959964 * 135.8400 = 266.2416,
    # ceil(914.5 - 266.2416) = ceil(648.26) = 649 (= R's qsignrank(0.025, 60))
    (50, 0.95, 434), (60, 0.95, 649),
])
def test_signed_rank_critical_value(n, confidence, expected):
    from ketanb.stats import _signed_rank_critical_value

    assert _signed_rank_critical_value(n, confidence) == expected


def brute_force_walsh(d, confidence):
    """HL estimate and interval from all n(n+1)/2 Walsh averages, one by one."""
    from ketanb.stats import _signed_rank_critical_value

    d = np.asarray(d, dtype=float)
    i, j = np.triu_indices(len(d))
    averages = np.sort((d[i] + d[j]) / 2)
    k = _signed_rank_critical_value(len(d), confidence)
    return float(np.median(averages)), float(averages[k - 1]), float(averages[len(averages) - k])


@pytest.mark.parametrize("seed, n", [(7, 40), (8, 45), (9, 120), (10, 333)])
def test_grouped_walsh_averages_equal_brute_force(seed, n):
    # integer NRS differences: heavy ties and zeros, the case the grouping is for
    rng = np.random.default_rng(seed)
    baseline = rng.integers(3, 11, n)
    followup = np.clip(baseline + rng.integers(-6, 3, n), 0, 10)
    result = nrs_change(baseline, followup)
    assert (result["hodges_lehmann"], result["ci_low"], result["ci_high"]) == \
        brute_force_walsh(followup - baseline, 0.95)


def test_nrs_change_a_million_pairs_is_quick():
    import time

    rng = np.random.default_rng(1)
    baseline = rng.integers(1, 11, 1_000_000).astype(float)
    followup = np.clip(baseline + rng.integers(-7, 3, 1_000_000), 0, 10)
    start = time.perf_counter()
    result = nrs_change(baseline, followup)
    assert time.perf_counter() - start < 5
    assert result["n"] == 1_000_000 and result["ci_low"] <= result["hodges_lehmann"] <= result["ci_high"]


def test_odds_ratio_of_a_large_table_uses_woolf_beside_the_exact_one():
    from ketanb.stats import EXACT_OR_LIMIT, odds_ratio_exact

    # At the limit (5000 patients) still exact.
    # R: f <- fisher.test(matrix(c(1300, 850, 1200, 1650), 2)); f$estimate 2.102631; f$conf.int 1.873162 2.360829
    exact = odds_ratio_exact(1300, 1200, 850, 1650)
    assert 1300 + 1200 + 850 + 1650 == EXACT_OR_LIMIT and exact["or_method"].startswith("conditional MLE")
    assert (exact["odds_ratio"], exact["or_ci_low"], exact["or_ci_high"]) == pytest.approx(
        (2.102631, 1.873162, 2.360829), rel=1e-3)
    # One patient more: ad/bc = 1301 x 1650 / (1200 x 850) = 2.1045588; Woolf, by hand:
    # se = sqrt(1/1301 + 1/1200 + 1/850 + 1/1650) = 0.0581765; exp(log 2.1045588 -+ 1.959964 x se) = 1.87776, 2.35874
    woolf = odds_ratio_exact(1301, 1200, 850, 1650)
    assert woolf["or_method"].startswith("sample odds ratio")
    assert (woolf["odds_ratio"], woolf["or_ci_low"], woolf["or_ci_high"]) == pytest.approx(
        (2.1045588, 1.87776, 2.35874), rel=1e-5)
    assert woolf["or_ci_low"] == pytest.approx(exact["or_ci_low"], rel=5e-3)     # the two agree closely
