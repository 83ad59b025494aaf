"""ketanb.meta: Hartung-Knapp-Sidik-Jonkman and Q-profile intervals, against metafor's published output."""
import numpy as np
import pytest
from scipy import stats

from ketanb.meta import dersimonian_laird, generalised_q, hartung_knapp, q_profile, typical_variance

# The BCG vaccine trials (Colditz et al. 1994; metafor's dat.bcg / dat.colditz1994): tpos, tneg, cpos, cneg.
BCG = [(4, 119, 11, 128), (6, 300, 29, 274), (3, 228, 11, 209), (62, 13536, 248, 12619), (33, 5036, 47, 5761),
       (180, 1361, 372, 1079), (8, 2537, 10, 619), (505, 87886, 499, 87892), (29, 7470, 45, 7232),
       (17, 1699, 65, 1600), (186, 50448, 141, 27197), (5, 2493, 3, 2338), (27, 16886, 29, 17825)]
A, B, C, D = (np.array(column, dtype=float) for column in zip(*BCG))


def test_q_profile_log_odds_ratios_as_metafor():
    # metafor-project.org, "van Houwelingen et al. (2002)": dat <- escalc(measure="OR", ai=tpos, bi=tneg,
    # ci=cpos, di=cneg, data=dat.colditz1994); res <- rma(yi, vi, data=dat); confint(res):
    # tau^2 "based on the Q-profile method (0.1302 to 1.1812)". R's uniroot stops at about 1e-4,
    # so agreement to 2e-4 is what can be asked.
    y, v = np.log(A * D / (B * C)), 1 / A + 1 / B + 1 / C + 1 / D
    assert y[0] == pytest.approx(-0.9387, abs=5e-5) and v[0] == pytest.approx(0.3571, abs=5e-5)  # the page's row 1
    ci = q_profile(y, v)
    assert ci["tau2_ci_low"] == pytest.approx(0.1302, abs=2e-4)
    assert ci["tau2_ci_high"] == pytest.approx(1.1812, abs=2e-4)


def test_q_profile_log_risk_ratios_as_metafor():
    # metafor's example for confint.rma: dat <- escalc(measure="RR", ai=tpos, bi=tneg, ci=cpos, di=cneg,
    # data=dat.bcg); confint(rma(yi, vi, data=dat)) prints tau^2 0.3132 (0.1197 to 1.1115) and
    # I^2 92.2214 %. I^2 = tau^2 / (tau^2 + s^2) fixes s^2 = 0.3132 (1 / 0.922214 - 1) = 0.026416, so
    # the I^2 limits are 0.1197 / 0.146116 = 81.92 % and 1.1115 / 1.137916 = 97.68 %.
    y = np.log((A / (A + B)) / (C / (C + D)))
    v = 1 / A - 1 / (A + B) + 1 / C - 1 / (C + D)
    assert typical_variance(v) == pytest.approx(0.026416, abs=1e-5)   # 0.3132 is rounded: +-4e-6
    ci = q_profile(y, v)
    assert ci["tau2_ci_low"] == pytest.approx(0.1197, abs=2e-4)
    assert ci["tau2_ci_high"] == pytest.approx(1.1115, abs=2e-4)
    assert 100 * ci["i2_ci_low"] == pytest.approx(81.92, abs=0.01)
    assert 100 * ci["i2_ci_high"] == pytest.approx(97.68, abs=0.01)
    # the limits are where the generalised Q meets the chi-squared quantiles on 12 df
    assert generalised_q(y, v, ci["tau2_ci_low"]) == pytest.approx(stats.chi2.ppf(0.975, 12), rel=1e-9)
    assert generalised_q(y, v, ci["tau2_ci_high"]) == pytest.approx(stats.chi2.ppf(0.025, 12), rel=1e-9)


def test_q_profile_of_identical_sites_is_zero_to_zero():
    # Q(0) = 0 lies below both quantiles: no heterogeneity is compatible with the data but zero
    assert q_profile([0.5, 0.5, 0.5], [0.1, 0.2, 0.3]) == {"tau2_ci_low": 0.0, "tau2_ci_high": 0.0,
                                                          "i2_ci_low": 0.0, "i2_ci_high": 0.0}


def test_typical_variance_by_hand():
    # v = 1, 1: w = 1, 1; s^2 = 1 * 2 / (4 - 2) = 1
    assert typical_variance([1.0, 1.0]) == pytest.approx(1.0)
    # v = 1, 0.5: w = 1, 2; s^2 = 1 * 3 / (9 - 5) = 0.75
    assert typical_variance([1.0, 0.5]) == pytest.approx(0.75)


def test_hartung_knapp_by_hand():
    # y = 0, 1, 2, v = 1, tau2 = 0: w = 1, mu = 1, sum w (y - mu)^2 = 2, SE^2 = 2 / (2 * 3) = 1/3;
    # t_{2, 0.975} = 4.302652729749464 (R: qt(0.975, 2)), half width 4.3026527 / sqrt(3) = 2.4841377
    hk = hartung_knapp([0.0, 1.0, 2.0], [1.0, 1.0, 1.0], tau2=0.0)
    assert hk["estimate"] == pytest.approx(1.0)
    assert hk["se"] == pytest.approx(3 ** -0.5)
    assert hk["df"] == 2
    assert (hk["ci_low"], hk["ci_high"]) == pytest.approx((1 - 2.4841377, 1 + 2.4841377), abs=1e-6)


def test_hartung_knapp_bcg_is_wider_than_the_wald_interval():
    # DerSimonian-Laird on the log risk ratios: metafor's rma(yi, vi, method="DL") gives
    # estimate -0.7141, se 0.1787, Q(df = 12) = 152.2330; the HKSJ standard error is larger here.
    y = np.log((A / (A + B)) / (C / (C + D)))
    v = 1 / A - 1 / (A + B) + 1 / C - 1 / (C + D)
    w = 1 / v
    q = float(np.sum(w * (y - np.sum(w * y) / w.sum()) ** 2))
    assert q == pytest.approx(152.2330, abs=1e-4)
    tau2 = (q - 12) / (w.sum() - (w ** 2).sum() / w.sum())
    hk = hartung_knapp(y, v, tau2)
    assert hk["estimate"] == pytest.approx(-0.7141, abs=1e-4)
    wald_se = (1 / np.sum(1 / (v + tau2))) ** 0.5
    assert wald_se == pytest.approx(0.1787, abs=1e-4)
    assert hk["se"] > wald_se and hk["ci_high"] - hk["ci_low"] > 2 * 1.959964 * wald_se


def test_dersimonian_laird_needs_two_valid_sites():
    # moved from ketanb.pooling (still importable there); a plain ValueError: pool() checks the sites first
    with pytest.raises(ValueError, match="at least two"):
        dersimonian_laird([3], [10])
    with pytest.raises(ValueError, match="0 <= favorable <= n"):
        dersimonian_laird([3, 11], [10, 10])
    with pytest.raises(ValueError, match="confidence"):
        dersimonian_laird([3, 4], [10, 10], confidence=1.0)


def test_bad_input_is_refused():
    with pytest.raises(ValueError, match="at least two"):
        q_profile([0.1], [0.2])
    with pytest.raises(ValueError, match="positive"):
        hartung_knapp([0.1, 0.2], [0.0, 0.1], tau2=0.0)
