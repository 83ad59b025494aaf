"""Pooling several clinics' results.json (ketanb.pooling), checked against R's metafor.

Reference numbers come from R 4.2.2 with metafor 3.8-1 (`options(digits=12)`).
In metafor, `rma(yi, vi, method="DL")` on `escalc(measure="PLO", ...)` is the
same DerSimonian-Laird model on the logit scale; its I2 is a percentage (ours a
fraction), and `predict(..., pi.type="riley")` gives the Higgins-Thompson-
Spiegelhalter prediction interval with a t distribution on sites - 2 degrees
of freedom (metafor's default `pi.type` uses a normal quantile instead, and with
two sites metafor falls back to 1 degree of freedom where the contract has no
interval).
"""
import copy
import json
import math
import os
import re
import warnings
from pathlib import Path

import numpy as np
import pytest
from statsmodels.stats.meta_analysis import combine_effects
from statsmodels.stats.proportion import proportion_confint

from ketanb.errors import KetanbError
from ketanb.presentation.pooled_report import describe, group_table, site_table, synthetic_note
from ketanb.pooling import INTERVAL_KEYS, dersimonian_laird, pool, write_pooled
from ketanb.sites import PoolingError, check_agreement, read_site, site_name

ROOT = Path(__file__).resolve().parents[1]
REL = 1e-9   # R printed 12 significant digits


def assert_matches(got: dict, expected: dict) -> None:
    """Every expected value (R's, to 12 digits) equals ours to REL."""
    for key, value in expected.items():
        assert got[key] == pytest.approx(value, rel=REL), key

def results(n, favorable, groups=None, **parameters):
    """A minimal results.json of format 1 (the shape of results/results.json)."""
    params = {"responder_threshold": 50, "missing_followup": "nonresponder",
              "group_by": "pain_mechanism", "confidence": 0.95, "group_edges": [], "min_group_size": 5}
    params.update(parameters)
    return {
        "ketanb_results": 1,
        "data": {"source": "data/raw", "synthetic": True},
        "parameters": params,
        "outcome": {"threshold_pct": float(params["responder_threshold"]), "n": n, "favorable": favorable,
                    "proportion": favorable / n if n else None, "ci_low": 0.0, "ci_high": 1.0, "missing_followup": 0},
        "subgroups": {"group_by": params["group_by"], "unclassified": 0, "pooled_values": 0,
                      "groups": {g: {"n": gn, "favorable": gk} for g, (gk, gn) in (groups or {}).items()}},
    }


def write_site(folder: Path, name: str, content) -> Path:
    path = folder / name / "results.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(content if isinstance(content, str) else json.dumps(content, indent=2))
    return path


@pytest.fixture
def three(tmp_path):
    """site-a = the published 23/45 (with its mechanisms), site-b 14/40, site-c 30/50."""
    published = json.loads((ROOT / "results" / "results.json").read_text())
    published.setdefault("ketanb_results", 1)
    a = write_site(tmp_path, "site-a", published)
    b = write_site(tmp_path, "site-b", results(40, 14, {"neuropathic": (5, 14), "mixed": (3, 9)}))
    c = write_site(tmp_path, "site-c", results(50, 30, {"neuropathic": (9, 16), "nociceptive": (10, 18)}))
    return [a, b, c]


# ---------------------------------------------------------------------------- against metafor

def test_three_sites_match_metafor(three):
    pooled = pool(three)
    re_ = pooled["random_effects"]
    # R 4.2.2, metafor 3.8-1:
    #   dat <- escalc(measure="PLO", xi=c(23,14,30), ni=c(45,40,50))
    #   res <- rma(yi, vi, data=dat, method="DL")
    #   c(tau2=res$tau2, I2=res$I2, QE=res$QE, QEp=res$QEp, b=res$b[1], se=res$se)
    #   ->  tau2 0.1624435544175   I2 63.5038553523746   QE 5.4800308890439   QEp 0.0645693496427
    #       b -0.0381036708280     se 0.2921181265798
    assert_matches(re_, {
        "tau2": 0.1624435544175,
        "i2": 0.635038553523746,
        "q": 5.4800308890439,
        "q_p": 0.0645693496427,
        "logit": -0.0381036708280,
        "se": 0.2921181265798,
    })
    assert re_["q_df"] == 2 and re_["sites"] == 3
    #   predict(res, transf=transf.ilogit, pi.type="riley")
    #   ->  pred 0.49047523467420  ci.lb 0.35191215214603  ci.ub 0.63051745426852
    #       pi.lb 0.00172140532129  pi.ub 0.99814253613530
    #   (the same limits as transf.ilogit(res$b + c(-1,1)*qt(.975, 1)*sqrt(res$tau2 + res$se^2)))
    assert_matches(re_, {
        "proportion": 0.49047523467420,
        "ci_low": 0.35191215214603,
        "ci_high": 0.63051745426852,
        "prediction_low": 0.00172140532129,
        "prediction_high": 0.99814253613530,
    })
    #   dat$yi -> 0.0444517625708 -0.6190392084062 0.4054651081082
    #   dat$vi -> 0.0889328063241  0.1098901098901 0.0833333333333
    #   weights(res) -> 33.9463104744 31.3339888014 34.7197007243   (percent)
    sites = pooled["sites"]
    assert [s["y"] for s in sites.values()] == pytest.approx([0.0444517625708, -0.6190392084062,
                                                              0.4054651081082], rel=REL)
    assert [s["variance"] for s in sites.values()] == pytest.approx([0.0889328063241, 0.1098901098901,
                                                                     0.0833333333333], rel=REL)
    assert [100 * s["weight"] for s in sites.values()] == pytest.approx([33.9463104744, 31.3339888014,
                                                                         34.7197007243], rel=REL)


def test_other_confidence_matches_metafor(three):
    re_ = pool(three, confidence=0.90)["random_effects"]
    # R: res <- rma(yi, vi, data=dat, method="DL", level=90)   (dat as above)
    #    predict(res, transf=transf.ilogit, pi.type="riley")
    #    -> pred 0.4904752346742  ci.lb 0.3731807743294  ci.ub 0.6088278696156
    #       pi.lb 0.0398904750525  pi.ub 0.9570863002925
    assert_matches(re_, {
        "ci_low": 0.3731807743294,
        "ci_high": 0.6088278696156,
        "prediction_low": 0.0398904750525,
        "prediction_high": 0.9570863002925,
    })


def test_zero_cells_get_half_added_as_in_metafor():
    fit = dersimonian_laird([0, 23, 12], [15, 45, 12])
    # 0/15 -> logit(0.5/15.5), variance 1/0.5 + 1/15.5; 12/12 -> logit(12.5/13), variance 1/12.5 + 1/0.5
    assert fit["y"][0] == pytest.approx(math.log(0.5 / 15.5)) and fit["y"][2] == pytest.approx(math.log(25))
    assert fit["variance"][0] == pytest.approx(2 + 1 / 15.5) and fit["variance"][2] == pytest.approx(2.08)
    # R: dat <- escalc(measure="PLO", xi=c(0,23,12), ni=c(15,45,12))   (defaults add=1/2, to="only0";
    #    the same with them written out: escalc(..., add=1/2, to="only0"))
    #    dat$yi -> -3.4339872044851  0.0444517625708  3.2188758248682
    #    dat$vi ->  2.0645161290323  0.0889328063241  2.0800000000000
    assert fit["y"] == pytest.approx([-3.4339872044851, 0.0444517625708, 3.2188758248682], rel=REL)
    assert fit["variance"] == pytest.approx([2.0645161290323, 0.0889328063241, 2.08], rel=REL)
    #    res <- rma(yi, vi, data=dat, method="DL")
    #    -> tau2 4.79299104887723  I2 81.31425599964194  QE 10.70334689355519  QEp 0.00474021186613
    #    predict(res, transf=transf.ilogit, pi.type="riley")
    #    -> pred 4.88251494141e-01  ci.lb 5.57498724085e-02  ci.ub 9.39089809453e-01
    #       pi.lb 3.80918748641e-15  pi.ub 1.00000000000e+00
    assert_matches(fit, {
        "tau2": 4.79299104887723,
        "i2": 0.8131425599964194,
        "q": 10.70334689355519,
        "q_p": 0.00474021186613,
        "proportion": 0.488251494141,
        "ci_low": 0.0557498724085,
        "ci_high": 0.939089809453,
    })
    assert fit["prediction_low"] == pytest.approx(3.80918748641e-15, rel=1e-6)
    assert fit["prediction_high"] == pytest.approx(1.0, rel=REL)


# ---------------------------------------------------------------------------- intervals for few sites (issue 24)
# Expected values derived by hand from the formulas of ketanb.meta (R could not be run here). metafor computes
# the same quantities as
#   dat <- escalc(measure = "PLO", xi = c(23, 14, 30), ni = c(45, 40, 50))
#   res <- rma(yi, vi, data = dat, method = "DL", test = "knha")
#   transf.ilogit(c(res$ci.lb, res$ci.ub))     # the HKSJ interval
#   confint(res)                               # Q-profile intervals of tau^2 and I^2

def test_hksj_interval_by_hand(three):
    re_ = pool(three)["random_effects"]
    # ketanb.meta.hartung_knapp: w* = 1 / (v + tau2), mu = sum(w* y) / sum(w*),
    #   SE_HK^2 = sum(w* (y - mu)^2) / ((k - 1) sum(w*)),   mu -/+ t_{k-1} SE_HK.
    # tau2 = 0.1624435544175 and mu = -0.0381036708280 are metafor's (test_three_sites_match_metafor);
    # sum(w*) = 1 / se^2 = 1 / 0.2921181265798^2 = 11.7187957935; sum(w* (y - mu)^2) = 2.06688592898
    # (the three terms 0.217254 + 1.474829 + 0.374803, rounded); SE_HK = sqrt(2.06688592898 / (2 * 11.7187957935))
    # = 0.296962604315; t_{2, 0.975} = 4.302652729749464 (R: qt(0.975, 2));
    # mu -/+ t SE_HK = -1.31583063092, 1.23962328926; 1 / (1 + exp(-x)) = 0.211512804211, 0.775498435505.
    assert 1 / 0.2921181265798 ** 2 == pytest.approx(11.7187957935, rel=1e-10)
    assert math.sqrt(2.06688592898 / (2 * 11.7187957935)) == pytest.approx(0.296962604315, rel=1e-10)
    assert re_["hksj_se"] == pytest.approx(0.296962604315, rel=1e-9)
    assert re_["hksj_ci_low"] == pytest.approx(0.211512804211, rel=1e-9)
    assert re_["hksj_ci_high"] == pytest.approx(0.775498435505, rel=1e-9)
    # wider than the DerSimonian-Laird (Wald) interval 0.3519-0.6305, which is kept as it was
    assert re_["hksj_ci_low"] < re_["ci_low"] and re_["hksj_ci_high"] > re_["ci_high"]
    assert (re_["ci_low"], re_["ci_high"]) == pytest.approx((0.35191215214603, 0.63051745426852), rel=REL)


def test_tau2_and_i2_intervals_by_hand(three):
    re_ = pool(three)["random_effects"]
    # ketanb.meta.q_profile: Q(tau2) = sum(w (y - mu_w)^2), w = 1 / (v + tau2). Q(0) = Cochran's Q = 5.48003088904
    # lies below chi2_{2, 0.975} = 7.37775890823 (R: qchisq(0.975, 2)), so both lower limits are 0. The upper
    # limit solves Q(tau2) = chi2_{2, 0.025} = 0.0506356159686 (R: qchisq(0.025, 2)): tau2 = 10.5664805050.
    # I^2 = tau2 / (tau2 + s^2), s^2 = (k - 1) sum(w) / (sum(w)^2 - sum(w^2)) with w = 1 / v = 0.0933575359512:
    # 10.5664805050 / (10.5664805050 + 0.0933575359512) = 0.991242124356 (and the point I^2 0.635 = 0.1624 /
    # (0.1624 + 0.0934), as (Q - df) / Q).
    y = [0.0444517625708, -0.6190392084062, 0.4054651081082]            # metafor's dat$yi and dat$vi
    v = [0.0889328063241, 0.1098901098901, 0.0833333333333]
    w = [1 / (vi + 10.5664805050) for vi in v]
    mu = sum(a * b for a, b in zip(w, y)) / sum(w)
    assert sum(a * (b - mu) ** 2 for a, b in zip(w, y)) == pytest.approx(0.0506356159686, rel=1e-8)
    w0 = [1 / vi for vi in v]
    assert 2 * sum(w0) / (sum(w0) ** 2 - sum(a * a for a in w0)) == pytest.approx(0.0933575359512, rel=1e-10)
    assert re_["tau2_ci_low"] == 0 and re_["i2_ci_low"] == 0
    assert re_["tau2_ci_high"] == pytest.approx(10.5664805050, rel=1e-8)
    assert re_["i2_ci_high"] == pytest.approx(0.991242124356, rel=1e-9)
    assert re_["i2_ci_low"] <= re_["i2"] <= re_["i2_ci_high"]
    assert re_["i2"] == pytest.approx(0.1624435544175 / (0.1624435544175 + 0.0933575359512), rel=1e-9)


def test_identical_sites_have_point_intervals():
    # 10/20 and 10/20: y = 0, 0, so Q = 0, tau2 = 0, sum(w* (y - mu)^2) = 0: SE_HK = 0 and the HKSJ interval is
    # the point 0.5 (metafor without the ad hoc truncation gives the same); Q(0) = 0 lies below both chi-squared
    # quantiles, so tau2 and I2 run from 0 to 0.
    fit = dersimonian_laird([10, 10], [20, 20])
    assert (fit["hksj_ci_low"], fit["hksj_ci_high"]) == pytest.approx((0.5, 0.5))
    assert [fit[key] for key in ("tau2_ci_low", "tau2_ci_high", "i2_ci_low", "i2_ci_high")] == [0, 0, 0, 0]


def test_groups_get_the_same_intervals(three, tmp_path):
    pooled = pool(three)
    for name, group in pooled["groups"].items():
        reporting = [json.loads(p.read_text())["subgroups"]["groups"][name] for p in three
                     if name in json.loads(p.read_text())["subgroups"]["groups"]]
        fit = dersimonian_laird([g["favorable"] for g in reporting], [g["n"] for g in reporting])
        assert {key: group[key] for key in INTERVAL_KEYS} == {key: fit[key] for key in INTERVAL_KEYS}, name
    # neuropathic at site-b 5/14 and site-c 9/16 and site-a's: the HKSJ interval holds the pooled proportion
    g = pooled["groups"]["neuropathic"]
    assert g["hksj_ci_low"] < g["proportion"] < g["hksj_ci_high"] and g["i2_ci_low"] <= g["i2"] <= g["i2_ci_high"]
    written = json.loads(write_pooled(pooled, tmp_path / "pooled").read_text())
    assert set(written["random_effects"]) >= set(INTERVAL_KEYS)
    assert all(set(g) >= set(INTERVAL_KEYS) for g in written["groups"].values())


def test_site_intervals_on_the_logit_scale(three):
    site = pool(three)["sites"]["site-a"]
    # 23/45: y = log(23/22) = 0.0444517625708, v = 1/23 + 1/22 = 0.0889328063241, z = 1.959963984540054
    # (R: qnorm(0.975)); z sqrt(v) = 0.584492697391; 1 / (1 + exp(-(y -/+ 0.584492697391))) = 0.368178059833,
    # 0.652250083186. Its Wilson interval (37.0-65.0, its own report's) stays under ci_low and ci_high.
    assert (site["logit_ci_low"], site["logit_ci_high"]) == pytest.approx((0.368178059833, 0.652250083186), rel=1e-9)
    assert (site["ci_low"], site["ci_high"]) == pytest.approx((0.370044646446, 0.650429762471), rel=1e-9)


def sites_of(tmp_path, synthetic):
    """Sites 23/45, 14/40, 30/50, ... with data.synthetic as given, one per value."""
    counts = [(45, 23), (40, 14), (50, 30), (44, 20), (41, 25), (48, 22)]
    paths = []
    for i, flag in enumerate(synthetic):
        content = results(*counts[i])
        content["data"]["synthetic"] = flag
        paths.append(write_site(tmp_path, f"site-{i}", content))
    return paths


def test_describe_gives_the_new_intervals_and_warns_below_five_sites(three, tmp_path):
    text = describe(pool(three))
    # the numbers of test_hksj_interval_by_hand and test_tau2_and_i2_intervals_by_hand, written by ketanb.presentation.tables
    assert "Hartung-Knapp-Sidik-Jonkman 95 % CI, which" in text and "is 21.2 % to 77.5 %" in text
    assert re.search(r"I² = 6\d\.\d % \(95 % CI 0\.0 % to 99\.1 %\)", text)
    assert "tau² = 0.162 (95 % CI 0.000 to 10.566" in text
    assert "With fewer than 5 sites the prediction interval and the interval of I² are very uncertain" in text
    five = describe(pool(sites_of(tmp_path, [True] * 5)))
    assert "Hartung-Knapp-Sidik-Jonkman" in five and "fewer than 5 sites" not in five


@pytest.mark.parametrize("flags, said", [
    ([True, True, True], "All 3 sites ran on synthetic data"),
    ([True, False, False], "1 of 3 sites ran on synthetic data"),
    ([False, True, True], "2 of 3 sites ran on synthetic data"),
    ([False, False, False], "Data: the sites' own extracts (none made by ketanb.synthetic)."),
])
def test_synthetic_note_says_how_many_sites_ran_on_synthetic_data(tmp_path, flags, said):
    pooled = pool(sites_of(tmp_path, flags))
    assert pooled["synthetic_sites"] == sum(flags) and pooled["synthetic"] is any(flags)
    note = synthetic_note(pooled)
    assert said in note
    assert ("SYNTHETIC DATA" in note) is any(flags) and "At least one" not in note


def test_synthetic_note_counts_sites_not_pooled(tmp_path):
    paths = sites_of(tmp_path, [True, True])
    small = results(3, 1)
    small["data"]["synthetic"] = False
    paths.append(write_site(tmp_path, "tiny", small))
    pooled = pool(paths)
    assert list(pooled["sites_not_pooled"]) == ["tiny"]
    assert "2 of 3 sites ran on synthetic data" in synthetic_note(pooled)


def test_site_table_is_shown_without_the_index(three):
    from ketanb.presentation import tables

    page = tables.show(site_table(pool(three)), "Favorable outcome per site and pooled").data
    assert "row_heading" not in page and "blank" not in page          # pandas' index column
    assert ">site-a</td>" in page and ">0</th>" not in page


def test_forest_squares_follow_the_weights_and_intervals_the_logit_scale(three):
    from matplotlib.collections import PathCollection

    from ketanb.presentation import plots

    pooled = pool(three)
    ax = plots.pooled_forest(pooled).axes[0]
    weights = [s["weight"] for s in pooled["sites"].values()]      # 0.3395, 0.3133, 0.3472 (metafor's weights)
    squares = [c for c in ax.collections if isinstance(c, PathCollection)]
    assert [s for c in squares for s in c.get_sizes()] == pytest.approx([150 * w / max(weights) for w in weights])
    # site-b has 40 patients and site-a 45, but site-b's square is the smaller by weight, not by n
    assert squares[1].get_sizes()[0] < squares[0].get_sizes()[0]
    first = ax.containers[0].lines[2][0].get_segments()[0]          # site-a's interval, in percent
    assert [x for x, _ in first] == pytest.approx([36.8178059833, 65.2250083186], rel=1e-9)
    texts = [t.get_text() for t in ax.texts]
    assert "HKSJ interval 21.2 % to 77.5 %" in texts
    assert "I² = 63.5 % (0.0 % to 99.1 %), tau² = 0.162 (0.000 to 10.566)" in ax.get_title()
    import matplotlib.pyplot as plt
    plt.close("all")


def test_two_sites_have_no_prediction_interval(three, tmp_path):
    pooled = pool(three[:2])
    re_ = pooled["random_effects"]
    # R: dat <- escalc(measure="PLO", xi=c(23,14), ni=c(45,40)); res <- rma(yi, vi, data=dat, method="DL")
    #    -> tau2 0.120698676177  I2 54.835583363542  QE 2.214132439813  QEp 0.136751918054
    #    predict(res, transf=transf.ilogit) -> pred 0.43253875828356  ci.lb 0.28475978378461
    #       ci.ub 0.59338375190575   (pi.type="riley" gives 0.0017-0.9971 with df forced up to 1;
    #       the contract has no prediction interval with two sites)
    assert_matches(re_, {
        "tau2": 0.120698676177,
        "i2": 0.54835583363542,
        "q": 2.214132439813,
        "q_p": 0.136751918054,
        "proportion": 0.43253875828356,
        "ci_low": 0.28475978378461,
        "ci_high": 0.59338375190575,
    })
    assert re_["prediction_low"] is None and re_["prediction_high"] is None
    written = json.loads(write_pooled(pooled, tmp_path / "pooled").read_text())
    assert written["random_effects"]["prediction_low"] is None
    assert written["random_effects"]["prediction_high"] is None
    assert "no prediction interval" in describe(pooled)
    assert "With fewer than 5 sites the interval of I² is very uncertain" in describe(pooled)


def test_i2_and_tau2_are_zero_when_q_is_below_df():
    fit = dersimonian_laird([20, 22, 25], [45, 44, 50])
    # R: dat <- escalc(measure="PLO", xi=c(20,22,25), ni=c(45,44,50)); res <- rma(yi, vi, data=dat, method="DL")
    #    -> tau2 0  I2 0  QE 0.3756457610235  QEp 0.8287614840437
    #    predict(res, transf=transf.ilogit, pi.type="riley")
    #    -> pred 0.4820988622244  ci.lb 0.4001631039343  ci.ub 0.5650087290619
    #       pi.lb 0.0969652803359  pi.ub 0.8897448669977
    assert fit["q"] == pytest.approx(0.3756457610235, rel=REL) and fit["q"] < fit["q_df"]
    assert fit["tau2"] == 0 and fit["i2"] == 0
    assert_matches(fit, {
        "q_p": 0.8287614840437,
        "proportion": 0.4820988622244,
        "ci_low": 0.4001631039343,
        "ci_high": 0.5650087290619,
        "prediction_low": 0.0969652803359,
        "prediction_high": 0.8897448669977,
    })


def test_q_zero_gives_i2_zero_without_warnings():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fit = dersimonian_laird([10, 20], [20, 40])       # both exactly 50 %: y = 0, Q = 0
    assert fit["q"] == 0 and fit["i2"] == 0 and fit["tau2"] == 0 and fit["q_p"] == 1
    assert fit["proportion"] == pytest.approx(0.5)


def test_statsmodels_combine_effects_agrees_only_while_q_exceeds_df():
    """Why the DL formulas are written out: combine_effects does not truncate at zero."""
    k, n = np.array([23, 14, 30]), np.array([45, 40, 50])
    y, v = np.log(k / (n - k)), 1 / k + 1 / (n - k)
    ours, theirs = dersimonian_laird(k, n), combine_effects(y, v, method_re="dl")
    assert theirs.mean_effect_re == pytest.approx(ours["logit"], rel=1e-12)
    assert theirs.tau2 == pytest.approx(ours["tau2"], rel=1e-12)
    assert theirs.i2 == pytest.approx(ours["i2"], rel=1e-12)
    assert theirs.q == pytest.approx(ours["q"], rel=1e-12)
    k, n = np.array([20, 22, 25]), np.array([45, 44, 50])
    y, v = np.log(k / (n - k)), 1 / k + 1 / (n - k)
    theirs = combine_effects(y, v, method_re="dl")
    assert theirs.tau2 < 0 and theirs.i2 < 0                    # the contract has max(0, ...)
    assert dersimonian_laird(k, n)["tau2"] == 0


def test_groups_pooled_only_when_two_sites_report_them(three):
    pooled = pool(three)
    groups = pooled["groups"]
    assert list(groups) == ["neuropathic", "nociceptive"]
    assert pooled["groups_not_pooled"] == {
        "nociplastic": {"site_names": ["site-a"], "reason": "reported by site-a only"},
        "mixed": {"site_names": ["site-b"], "reason": "reported by site-b only"}}
    neuro, noci = groups["neuropathic"], groups["nociceptive"]
    assert (neuro["n"], neuro["favorable"], neuro["sites"]) == (50, 25, 3)
    assert neuro["site_names"] == ["site-a", "site-b", "site-c"]
    assert (noci["n"], noci["favorable"], noci["sites"]) == (29, 14, 2)
    # R: dat <- escalc(measure="PLO", xi=c(11,5,9), ni=c(20,14,16)); res <- rma(yi, vi, data=dat, method="DL")
    #    predict(res, transf=transf.ilogit, pi.type="riley")
    #    -> pred 0.5019326849796  ci.lb 0.3645481501157  ci.ub 0.6390260062169
    #       pi.lb 0.0254619905598  pi.ub 0.9749188655614
    #    c(tau2=res$tau2, I2=res$I2, QE=res$QE, QEp=res$QEp) -> 0  0  1.55780901444938  0.45890846694678
    assert_matches(neuro, {
        "proportion": 0.5019326849796,
        "ci_low": 0.3645481501157,
        "ci_high": 0.6390260062169,
        "prediction_low": 0.0254619905598,
        "prediction_high": 0.9749188655614,
    })
    assert neuro["tau2"] == 0 and neuro["i2"] == 0
    assert neuro["q"] == pytest.approx(1.55780901444938, rel=REL)
    assert neuro["q_p"] == pytest.approx(0.45890846694678, rel=REL)
    # R: dat <- escalc(measure="PLO", xi=c(4,10), ni=c(11,18)); res <- rma(yi, vi, data=dat, method="DL")
    #    predict(res, transf=transf.ilogit) -> pred 0.484528056706  ci.lb 0.309333015850  ci.ub 0.663610190895
    #    c(tau2=res$tau2, I2=res$I2, QE=res$QE, QEp=res$QEp) -> 0  0  0.991672897636  0.319333847156
    assert_matches(noci, {
        "proportion": 0.484528056706,
        "ci_low": 0.309333015850,
        "ci_high": 0.663610190895,
        "q": 0.991672897636,
        "q_p": 0.319333847156,
    })
    assert noci["prediction_low"] is None and noci["prediction_high"] is None   # two sites
    table = group_table(pooled)
    assert list(table["pain_mechanism"]) == ["neuropathic", "nociceptive"] and list(table["sites"]) == [3, 2]


def test_a_merged_other_group_is_not_pooled(tmp_path):
    a = results(40, 20, {"neuropathic": (10, 20), "other": (5, 8)})
    a["subgroups"]["pooled_values"] = 2
    b = results(30, 12, {"neuropathic": (6, 15), "other": (3, 6)})
    b["subgroups"]["pooled_values"] = 1
    pooled = pool([write_site(tmp_path, "site-a", a), write_site(tmp_path, "site-b", b)])
    assert list(pooled["groups"]) == ["neuropathic"]
    assert pooled["groups_not_pooled"]["other"]["site_names"] == ["site-a", "site-b"]
    assert "min_group_size" in pooled["groups_not_pooled"]["other"]["reason"]


def test_group_with_zero_patients_counts_as_not_reported(tmp_path):
    a = write_site(tmp_path, "site-a", results(40, 20, {"neuropathic": (10, 20), "nociceptive": (0, 0)}))
    b = write_site(tmp_path, "site-b", results(30, 12, {"neuropathic": (6, 15), "nociceptive": (2, 5)}))
    pooled = pool([a, b])
    assert "nociceptive" not in pooled["groups"]
    assert pooled["groups_not_pooled"]["nociceptive"]["site_names"] == ["site-b"]


# ---------------------------------------------------------------------------- shape of pooled.json

def test_pooled_json_shape(three, tmp_path):
    pooled = pool(three)
    assert pooled["ketanb_pooled"] == 1 and "ketanb_results" not in pooled
    assert pooled["kind"].startswith("ketanb pooled")
    assert (pooled["confidence"], pooled["responder_threshold"], pooled["missing_followup"],
            pooled["group_by"]) == (0.95, 50, "nonresponder", "pain_mechanism")
    assert list(pooled["sites"]) == ["site-a", "site-b", "site-c"]
    assert (pooled["n"], pooled["favorable"]) == (135, 67)
    assert pooled["synthetic"] is True
    a = pooled["sites"]["site-a"]
    assert (a["n"], a["favorable"]) == (45, 23)
    low, high = proportion_confint(23, 45, alpha=0.05, method="wilson")
    assert (a["proportion"], a["ci_low"], a["ci_high"]) == pytest.approx((23 / 45, low, high), rel=1e-12)
    # the Wilson interval of site-a equals the one in its own results.json
    assert (a["ci_low"], a["ci_high"]) == pytest.approx((0.370044646446, 0.650429762471), rel=1e-9)
    assert sum(s["weight"] for s in pooled["sites"].values()) == pytest.approx(1)
    assert set(pooled["random_effects"]) >= {"proportion", "ci_low", "ci_high", "tau2", "i2", "q", "q_p",
                                             "prediction_low", "prediction_high"}
    assert set(pooled["groups"]["neuropathic"]) >= {"n", "favorable", "proportion", "ci_low", "ci_high",
                                                    "sites"}
    path = write_pooled(pooled, tmp_path / "pooled")
    assert path == tmp_path / "pooled" / "pooled.json"
    again = json.loads(path.read_text())
    assert "file" not in again["sites"]["site-a"] and str(tmp_path) not in path.read_text()   # names only
    assert again["sites_not_pooled"] == {}
    with pytest.raises(PoolingError, match="is a pooled.json"):     # never mistaken for a results.json
        read_site(path)


def test_site_names_and_tables(three):
    assert site_name(three[1]) == "site-b"
    assert site_name("runs/site-b/results.json") == "site-b"
    pooled = pool(" ".join(str(p) for p in three))             # a string as make passes SITES
    table = site_table(pooled)
    assert list(table.columns) == ["site", "n", "favorable", "favorable (95 % CI)", "weight %"]
    assert list(table["site"]) == ["site-a", "site-b", "site-c", "pooled (random effects)", "pooled, HKSJ interval"]
    # the site's interval on the logit scale (not its Wilson 37.0-65.0): see test_site_intervals_on_the_logit_scale
    assert table["favorable (95 % CI)"].iloc[0] == "51.1 % (36.8 % to 65.2 %)"
    assert table["favorable (95 % CI)"].iloc[-2] == "49.0 % (35.2 % to 63.1 %)"
    assert table["favorable (95 % CI)"].iloc[-1] == "49.0 % (21.2 % to 77.5 %)"
    text = describe(pooled)
    assert "**49.0 %** (95 % CI 35.2 % to 63.1 %" in text and "Q = 5.48 on 2 degrees of freedom" in text
    assert "I² = 63.5 %" in text and "between 0.2 % and 99.8 %" in text


# ---------------------------------------------------------------------------- writing

def test_write_pooled_rounds_and_writes_null_for_nan(tmp_path, three):
    pooled = pool(three)
    pooled["random_effects"]["extra"] = float("nan")
    pooled["random_effects"]["third"] = 1 / 3
    path = write_pooled(pooled, tmp_path / "out")
    text = path.read_text()
    assert '"extra": null' in text and '"third": 0.333333333333\n' in text and "NaN" not in text
    assert text.endswith("}\n") and text.startswith('{\n  "ketanb_pooled": 1,')
    assert [p.name for p in path.parent.iterdir()] == ["pooled.json"]    # no temporary file left
    mtime = path.stat().st_mtime_ns
    os.utime(path, ns=(mtime - 10**9, mtime - 10**9))
    write_pooled(pooled, tmp_path / "out")                                # same bytes: untouched
    assert path.stat().st_mtime_ns == mtime - 10**9
    with pytest.raises(PoolingError, match="ketanb_pooled"):
        write_pooled({"n": 1}, tmp_path / "other")
    assert not (tmp_path / "other").exists()


# ---------------------------------------------------------------------------- refusals

def refused(paths, folder: Path, **kwargs) -> str:
    """Run pool + write_pooled as the notebook does; return the message of the refusal."""
    with pytest.raises(PoolingError) as caught:
        write_pooled(pool(paths, **kwargs), folder)
    assert isinstance(caught.value, KetanbError)
    return str(caught.value)


def test_refused_pooling_changes_no_pooled_json(three, tmp_path):
    out = tmp_path / "pooled"
    path = write_pooled(pool(three), out)
    before, mtime = path.read_bytes(), path.stat().st_mtime_ns
    bad = write_site(tmp_path, "site-d", results(40, 14, responder_threshold=30))
    refused(three + [bad], out)
    refused(three[:1], out)
    assert path.read_bytes() == before and path.stat().st_mtime_ns == mtime
    assert sorted(p.name for p in out.iterdir()) == ["pooled.json"]
    refused([three[0], bad], tmp_path / "new")
    assert not (tmp_path / "new").exists()


def test_refuses_sites_that_disagree_on_the_threshold(tmp_path):
    a = write_site(tmp_path, "site-a", results(45, 23))
    b = write_site(tmp_path, "site-b", results(40, 14, responder_threshold=30))
    message = refused([a, b], tmp_path / "pooled")
    assert "sites disagree on responder_threshold: site-a 50, site-b 30" in message


def test_refuses_every_disagreement_at_once(tmp_path):
    a = write_site(tmp_path, "site-a", results(45, 23))
    b = write_site(tmp_path, "site-b", results(40, 14, missing_followup="exclude", group_by="sex"))
    c = write_site(tmp_path, "site-c", results(40, 14, responder_threshold=50.0))
    message = refused([a, b, c], tmp_path / "pooled")
    assert "sites disagree on missing_followup: site-a nonresponder, site-b exclude, site-c nonresponder" \
        in message
    assert "sites disagree on group_by: site-a pain_mechanism, site-b sex, site-c pain_mechanism" in message
    assert "responder_threshold" not in message                       # 50 and 50.0 agree


def test_sites_of_other_confidence_levels_pool_at_the_default_level(tmp_path):
    # the contract (section 7) refuses sites that differ in responder_threshold, missing_followup or
    # group_by only; the counts do not depend on the level, so every interval is worked out at 0.95
    a = write_site(tmp_path, "site-a", results(45, 23))
    b = write_site(tmp_path, "site-b", results(40, 14, confidence=0.9))
    assert pool([a, b])["confidence"] == 0.95
    same_counts = write_site(tmp_path, "site-c", results(40, 14))
    assert pool([a, b])["random_effects"] == pool([a, same_counts])["random_effects"]
    assert pool([a, b], confidence=0.9)["confidence"] == 0.9
    c = write_site(tmp_path, "site-d", results(41, 14, confidence=0.9))
    assert pool([b, c])["confidence"] == 0.9                        # agreeing sites keep their level


def test_a_site_without_a_confidence_level_is_refused(tmp_path):
    a = write_site(tmp_path, "site-a", results(45, 23))
    b = write_site(tmp_path, "site-b", results(40, 14, confidence=None))
    assert "key parameters.confidence is None, not a number between 0 and 1" in refused([a, b], tmp_path / "p")


def test_a_site_without_patients_is_refused_as_such(tmp_path):
    a = write_site(tmp_path, "site-a", results(45, 23))
    empty = write_site(tmp_path, "site-e", results(0, 0))
    assert refused([a, empty], tmp_path / "p") == (f"{empty} (site 'site-e'): this site analysed no patient "
                                                   "('outcome' has n = 0), so it has nothing to pool; leave it "
                                                   "out of SITES")


def test_refuses_a_file_without_a_needed_key(tmp_path):
    a = write_site(tmp_path, "site-a", results(45, 23))
    content = results(40, 14)
    del content["outcome"]
    del content["parameters"]["group_by"]
    b = write_site(tmp_path, "site-b", content)
    message = refused([a, b], tmp_path / "pooled")
    assert ("site-b/results.json (site 'site-b') is not a results.json of ketanb (format 1): it has no key 'outcome', "
            "no key 'group_by' in 'parameters'") in message
    assert "site-a" not in message


def test_refuses_a_file_without_or_with_another_format(tmp_path):
    a = write_site(tmp_path, "site-a", results(45, 23))
    old = results(40, 14)
    del old["ketanb_results"]
    b = write_site(tmp_path, "site-b", old)
    assert ("site-b/results.json (site 'site-b') is not a results.json of ketanb (format 1): it has no key "
            "'ketanb_results'") in refused([a, b], tmp_path / "p")
    for version in (2, "1", True):
        c = write_site(tmp_path, "site-c", dict(results(40, 14), ketanb_results=version))
        assert f"it is in format {version!r} (key 'ketanb_results')" in refused([a, c], tmp_path / "p")


def test_refuses_unreadable_and_non_json_files(tmp_path):
    a = write_site(tmp_path, "site-a", results(45, 23))
    b = write_site(tmp_path, "site-b", "{not json")
    message = refused([a, b, tmp_path / "site-c" / "results.json"], tmp_path / "p")
    assert "site-b/results.json is not a JSON file" in message
    assert "site-c/results.json cannot be read" in message              # every bad file named
    c = write_site(tmp_path, "site-c", "[1, 2]")
    assert "it holds a JSON array, not an object" in refused([a, c], tmp_path / "p")


def test_refuses_impossible_counts(tmp_path):
    a = write_site(tmp_path, "site-a", results(45, 23))
    b = write_site(tmp_path, "site-b", results(40, 41))
    assert "(site 'site-b') cannot be pooled: key outcome.favorable is 41, not a whole number from 0 to n = 40" \
        in refused([a, b], tmp_path / "p")
    c = write_site(tmp_path, "site-c", results(40, 14, {"neuropathic": (7, 6)}))
    assert "key subgroups.groups['neuropathic'].favorable is 7, not a whole number from 0 to n = 6" \
        in refused([a, c], tmp_path / "p")


def test_refuses_one_site_and_duplicate_names(tmp_path):
    a = write_site(tmp_path, "site-a", results(45, 23))
    assert "pooling needs at least two sites" in refused([a], tmp_path / "p")
    assert "pooling needs at least two sites" in refused([], tmp_path / "p")
    other = write_site(tmp_path / "elsewhere", "site-a", results(40, 14))
    message = refused([a, other], tmp_path / "p")
    assert f"2 sites have the same name 'site-a' ({a}, {other})" in message
    assert "same name" in refused([a, a], tmp_path / "p")


def test_check_agreement_returns_the_common_values(three):
    sites = [read_site(p) for p in three]
    assert check_agreement(sites) == {"responder_threshold": 50, "missing_followup": "nonresponder",
                                      "group_by": "pain_mechanism"}
    changed = copy.deepcopy(sites)
    changed[2]["group_by"] = "sex"
    with pytest.raises(PoolingError, match="site-a pain_mechanism, site-b pain_mechanism, site-c sex"):
        check_agreement(changed)


# ---------------------------------------------------------------------------- synthetic clinics

def included_favorable(n_patients, seed, share):
    """Favorable outcomes of the included patients, by mechanism, as the analysis counts them."""
    from ketanb import load_params
    from ketanb.analysis import analyse
    from ketanb.synthetic import generate_extract, write_extract
    import tempfile

    with tempfile.TemporaryDirectory() as folder:
        write_extract(generate_extract(n_patients, seed, favorable_share=share), folder,
                      n_patients=n_patients, seed=seed)
        result = analyse(folder, load_params(ROOT / "params.yaml"))
    return result


def test_favorable_share_resplits_each_mechanism():
    # Included at 74 patients: neuropathic 20, nociceptive 11, nociplastic 12, unclassified 2 (45).
    # Share 0.40: 0.4 * 45 = 18 favorable; quotas 8.0, 4.4, 4.8, 0.8 -> floors 8, 4, 4, 0 (16);
    # the 2 left go to the largest remainders 0.8 (nociplastic) and 0.8 (unclassified): 8, 4, 5, 1.
    result = included_favorable(74, 2, 0.40)
    assert (result["cohort"]["treated"], result["cohort"]["included"]) == (74, 45)
    assert result["cohort"]["excluded"] == {"outside_study_period": 4, "not_racemic": 3, "no_test_dose": 5,
                                            "off_protocol_dose": 6, "test_dose_only": 8, "no_baseline_nrs": 3}
    assert (result["outcome"]["n"], result["outcome"]["favorable"]) == (45, 18)
    groups = result["subgroups"]["groups"]
    assert {g: (v["favorable"], v["n"]) for g, v in groups.items()} == {
        "neuropathic": (8, 20), "nociceptive": (4, 11), "nociplastic": (5, 12)}
    # Share 0.60: 27 favorable; quotas 12.0, 6.6, 7.2, 1.2 -> floors 12, 6, 7, 1 (26); 1 left -> nociceptive.
    result = included_favorable(74, 3, 0.60)
    assert result["outcome"]["favorable"] == 27
    assert {g: v["favorable"] for g, v in result["subgroups"]["groups"].items()} == {
        "neuropathic": 12, "nociceptive": 7, "nociplastic": 7}


def test_favorable_share_none_keeps_the_committed_extract(tmp_path):
    from ketanb.synthetic import SEED, generate_extract, write_extract

    frames = generate_extract(74, SEED, favorable_share=None)
    folder = write_extract(frames, tmp_path / "raw", n_patients=74, seed=SEED)
    for name in ("patients.csv", "infusions.csv", "adverse_events.csv"):     # what generate_extract makes
        assert (folder / name).read_bytes() == (ROOT / "data" / "raw" / name).read_bytes(), name
    with pytest.raises(ValueError, match="favorable_share"):
        generate_extract(74, SEED, favorable_share=1.5)


def test_synthetic_clinics_pool(tmp_path):
    """Three analysed synthetic clinics (as make demo-pool makes them) pool without complaint."""
    paths = [ROOT / "results" / "results.json"]
    for name, seed, share in (("site-b", 2, 0.40), ("site-c", 3, 0.60)):
        content = json.loads(json.dumps(included_favorable(74, seed, share), default=lambda o: o.item()))
        content.setdefault("ketanb_results", 1)
        paths.append(write_site(tmp_path, name, content))
    if "ketanb_results" not in json.loads(paths[0].read_text()):      # until results.json carries it
        paths[0] = write_site(tmp_path, "results", dict(json.loads(paths[0].read_text()), ketanb_results=1))
    pooled = pool(paths)
    assert [(s["n"], s["favorable"]) for s in pooled["sites"].values()] == [(45, 23), (45, 18), (45, 27)]
    assert (pooled["n"], pooled["favorable"]) == (135, 68)
    assert list(pooled["groups"]) == ["neuropathic", "nociceptive", "nociplastic"]
    assert all(g["sites"] == 3 for g in pooled["groups"].values())


# ---------------------------------------------------------------------------- the notebook

def test_pool_notebook_is_thin_parameterized_and_without_outputs():
    nb = json.loads((ROOT / "notebooks" / "pool.ipynb").read_text())
    assert (nb["nbformat"], nb["nbformat_minor"]) == (4, 5)
    cells = nb["cells"]
    assert all(c.get("id") for c in cells) and len({c["id"] for c in cells}) == len(cells)
    assert cells[0]["cell_type"] == "markdown"
    assert "".join(cells[0]["source"]).startswith("# Pooled analysis of several clinics")
    assert cells[1]["metadata"].get("tags") == ["parameters"]
    assert 'sites_file = "runs/scratch-pool/sites.txt"' in "".join(cells[1]["source"])
    assert 'out = "runs/scratch-pool"' in "".join(cells[1]["source"])        # by hand: never pooled/
    code = [c for c in cells if c["cell_type"] == "code"]
    assert all(c["outputs"] == [] and c["execution_count"] is None for c in code)
    for c in code:
        lines = "".join(c["source"]).splitlines()
        assert not any(line.lstrip().startswith(("def ", "class ", "lambda")) for line in lines)
    text = "".join("".join(c["source"]) for c in code)
    assert "pooling.pool(" in text and "pooling.write_pooled(" in text
    assert "pooling.pool(pooling.read_site_list(sites_file))" in text
    # a warning printed in the report names no folder (audit 2026-12-03: a partner's huge count made numpy warn,
    # with this machine's path, and publishing then refused the report without naming the site)
    assert 0 <= text.find("disclosure.plain_warnings()") < text.index("pooling.pool(")
    assert "Markdown(pooled_report.synthetic_note(pooled))" in text and "pooled_notice" not in text
    assert "tables.show(pooled_report.site_table(pooled)," in text
    assert "tables.show(pooled_report.group_table(pooled)," in text
    assert nb["metadata"]["ketanb"] == {"index_link": False}       # no index.html under pooled/: no link to one
    assert "plots.pooled_forest(pooled)" in text and "plots.save(" in text
    assert "caption=" not in text and "alt=" not in text             # the caption's home is beside pooled_forest
    assert cells[-1]["cell_type"] == "markdown" and "prediction interval" in "".join(cells[-1]["source"])


def test_the_report_template_links_to_an_index_unless_the_notebook_says_there_is_none(tmp_path):
    import nbformat

    from ketanb.compendium.render import render

    def rendered(metadata):
        (tmp_path / "reports").mkdir(exist_ok=True)
        nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("# A report")], metadata=metadata)
        nbformat.write(nb, tmp_path / "reports" / "x.ipynb")
        assert render(tmp_path) == ["x"]
        return (tmp_path / "reports" / "x.html").read_text(encoding="utf-8")

    assert '<a href="index.html">' in rendered({})                       # the stage reports: index.html beside them
    assert "index.html" not in rendered({"ketanb": {"index_link": False}})     # pool.ipynb's metadata


def test_relative_paths_are_taken_from_the_project_root(tmp_path, monkeypatch):
    write_site(tmp_path, "site-a", results(45, 23))
    write_site(tmp_path, "site-b", results(40, 14))
    monkeypatch.setattr("ketanb.paths.ROOT", tmp_path)          # KETANB_ROOT, read at import
    monkeypatch.chdir(tmp_path / "site-a")                       # the working directory does not matter
    pooled = pool("site-a/results.json site-b/results.json")
    assert list(pooled["sites"]) == ["site-a", "site-b"]
    assert write_pooled(pooled, "pooled") == tmp_path / "pooled" / "pooled.json"
    assert str(tmp_path) not in (tmp_path / "pooled" / "pooled.json").read_text()   # no absolute path written


# ---------------------------------------------------------------------------- a hostile site (issue 22)

def edited(change):
    """A results.json of 40 patients (14 favorable, neuropathic 5/14) with ``change`` applied to it."""
    content = results(40, 14, {"neuropathic": (5, 14)})
    change(content)
    return content


@pytest.mark.parametrize("change, key, said", [
    (lambda r: r["parameters"].update(responder_threshold="<script>alert(1)</script>"),
     "key parameters.responder_threshold is '<script>alert(1)</script>'", "not a number from 0 to 100"),
    (lambda r: r["parameters"].update(responder_threshold=150), "key parameters.responder_threshold is 150",
     "not a number from 0 to 100"),
    (lambda r: r["parameters"].update(responder_threshold=True), "key parameters.responder_threshold is True",
     "not a number"),
    (lambda r: r["parameters"].update(responder_threshold=10 ** 400), "key parameters.responder_threshold is 1000",
     "not a number from 0 to 100"),
    (lambda r: r["parameters"].update(responder_threshold=float("nan")), "key parameters.responder_threshold is nan",
     "not a number from 0 to 100"),
    (lambda r: r["parameters"].update(missing_followup="<img src=x onerror=alert(1)>"),
     "key parameters.missing_followup is '<img src=x onerror=alert(1)>'",
     "not one of nonresponder, exclude, favorable"),
    (lambda r: r["parameters"].update(group_by=7), "key parameters.group_by is 7", "not a name"),
    (lambda r: r["parameters"].update(group_by="x" * 101), "key parameters.group_by is 'xxx", "not a name"),
    (lambda r: r["parameters"].update(confidence="0.95"), "key parameters.confidence is '0.95'",
     "not a number between 0 and 1"),
    (lambda r: r["parameters"].update(min_group_size=2.5), "key parameters.min_group_size is 2.5",
     "not a whole number"),
    (lambda r: r["outcome"].update(n=-3), "key outcome.n is -3", "not a whole number of patients"),
    (lambda r: r["outcome"].update(favorable="14"), "key outcome.favorable is '14'", "from 0 to n = 40"),
    (lambda r: r["subgroups"].update(groups=["neuropathic", "mixed"]),
     "key subgroups.groups is a JSON array", "not an object {group name:"),
    (lambda r: r["subgroups"].update(groups={"neuropathic": 14}),
     "key subgroups.groups['neuropathic'] is a JSON number", "not an object"),
    (lambda r: r["subgroups"]["groups"].update({"a\nb": {"n": 6, "favorable": 2}}),
     "a group name in key subgroups.groups is 'a\\nb'", "not a name"),
    (lambda r: r["subgroups"]["groups"].update({"x\u202ey": {"n": 6, "favorable": 2}}),
     "a group name in key subgroups.groups is 'x\\u202ey'", "not a name"),
    # audit part 2: names that print like another: a variation selector, a blank filler, a space after it
    (lambda r: r["subgroups"]["groups"].update({"neuropathic\ufe0f": {"n": 6, "favorable": 2}}),
     "a group name in key subgroups.groups is 'neuropathic<U+FE0F>'", "not a name"),
    (lambda r: r["subgroups"]["groups"].update({"\u3164": {"n": 6, "favorable": 2}}),
     "a group name in key subgroups.groups is '<U+3164>'", "not a name"),
    (lambda r: r["subgroups"]["groups"].update({"neuropathic ": {"n": 6, "favorable": 2}}),
     "a group name in key subgroups.groups is 'neuropathic '", "without spaces around it"),
    (lambda r: r["subgroups"]["groups"].update({"Ne\u0301vralgie": {"n": 6, "favorable": 2}}),
     "a group name in key subgroups.groups is 'Ne<U+0301>vralgie', not a name in Unicode's composed form (NFC)",
     "runs the analysis again"),
    (lambda r: r["subgroups"]["groups"]["neuropathic"].pop("favorable"),
     "key subgroups.groups['neuropathic'] has no 'favorable'", ""),
    (lambda r: r["subgroups"].update(pooled_values="2"), "key subgroups.pooled_values is '2'", "not a whole"),
    (lambda r: r.update(data=["synthetic"]), "key data is a JSON array", "not an object"),
    (lambda r: r["data"].update(synthetic="<b>no</b>"), "key data.synthetic is '<b>no</b>'", "not true or false"),
    # audit 2026-12-03: counts without bound, and counts that contradict each other, were pooled
    (lambda r: r["outcome"].update(n=10 ** 300, favorable=10 ** 299), "key outcome.n is 1000000000000000000000",
     "not a whole number of patients (0 to 1,000,000,000)"),
    (lambda r: r["subgroups"]["groups"].update(neuropathic={"n": 2 ** 70, "favorable": 2 ** 69}),
     "key subgroups.groups['neuropathic'].n is 1180591620717411303424", "(0 to 1,000,000,000)"),
    (lambda r: r["subgroups"]["groups"].update(neuropathic={"n": 5000, "favorable": 4}),
     "key subgroups.groups['neuropathic'].n is 5000, more than the 40 patients the site analysed (outcome.n)", ""),
    (lambda r: r["outcome"].update(favorable=2), "key subgroups.groups['neuropathic'].favorable is 5, more than the "
     "site's 2 favorable outcomes in all (outcome.favorable)", ""),
    (lambda r: r["subgroups"]["groups"].update(mixed={"n": 30, "favorable": 9}),
     "the groups of key subgroups.groups hold 44 patients together, more than the 40 patients the site analysed",
     "each patient is in one group at most"),
    (lambda r: r["subgroups"]["groups"].update(mixed={"n": 20, "favorable": 10}),
     "the groups of key subgroups.groups hold 15 favorable outcomes together, more than the site's 14", ""),
])
def test_every_field_read_is_checked_and_named_with_the_site(tmp_path, change, key, said):
    a = write_site(tmp_path, "site-a", results(45, 23))
    b = write_site(tmp_path, "site-b", edited(change))
    message = refused([a, b], tmp_path / "pooled")
    assert message.startswith(f"{b} (site 'site-b') cannot be pooled: {key}")
    assert said in message and "Traceback" not in message
    assert not (tmp_path / "pooled").exists()


def test_a_key_written_twice_in_a_partners_file_is_refused(tmp_path):
    """Audit 2026-12-03: Python's json keeps the last of two equal keys, a reader of the file may see the first."""
    a = write_site(tmp_path, "site-a", results(45, 23))
    text = json.dumps(results(40, 14)).replace('"n": 40,', '"n": 40, "n": 4,')
    message = refused([a, write_site(tmp_path, "site-b", text)], tmp_path / "p")
    assert message == (f"{tmp_path / 'site-b' / 'results.json'} is not a JSON file: key 'n' appears twice in one "
                       "object, so which value counts is not clear")


def test_a_site_run_with_min_group_size_below_5_is_refused(tmp_path):
    a = write_site(tmp_path, "site-a", results(45, 23))
    b = write_site(tmp_path, "site-b", results(40, 14, {"neuropathic": (1, 2), "mixed": (13, 38)}, min_group_size=2))
    message = refused([a, b], tmp_path / "p")
    assert ("key parameters.min_group_size is 2: a site run with min_group_size below 5 is refused" in message
            and "with min_group_size 5 or more" in message)
    no_size = results(40, 14)
    del no_size["parameters"]["min_group_size"]                        # cannot be shown to be 5 or more
    assert "no key 'min_group_size' in 'parameters'" in refused([a, write_site(tmp_path, "site-c", no_size)],
                                                                 tmp_path / "p")


def test_a_group_below_the_sites_min_group_size_is_refused(tmp_path):
    a = write_site(tmp_path, "site-a", results(45, 23))
    b = write_site(tmp_path, "site-b", results(40, 14, {"neuropathic": (1, 2), "mixed": (13, 38)}))
    assert ("key subgroups.groups['neuropathic'].n is 2, below the site's min_group_size 5" in
            refused([a, b], tmp_path / "p"))


def test_the_same_file_under_two_names_is_refused(tmp_path):
    a = write_site(tmp_path, "site-a", results(45, 23))
    b = write_site(tmp_path, "site-b", results(40, 14))
    copy = write_site(tmp_path, "site-b-copy", b.read_text())
    reindented = write_site(tmp_path, "site-b-again", json.dumps(json.loads(b.read_text())))  # same content
    message = refused([a, b, copy, reindented], tmp_path / "p")
    assert message.startswith("sites 'site-b' and 'site-b-copy' and 'site-b-again' hold the same results.json")
    assert "counted twice" in message
    assert refused([a, copy, a.parent.parent / "site-a" / "results.json"], tmp_path / "p")  # same name too
    assert pool([a, b])["n"] == 85


def test_a_site_smaller_than_min_group_size_gets_its_count_only(tmp_path):
    a = write_site(tmp_path, "site-a", results(45, 23))
    b = write_site(tmp_path, "site-b", results(40, 14))
    tiny = write_site(tmp_path, "site-t", results(3, 3))
    withheld = results(4, 0)
    withheld["outcome"]["favorable"] = None                         # as a small site may write it
    hidden = write_site(tmp_path, "site-h", withheld)
    pooled = pool([a, b, tiny, hidden])
    assert list(pooled["sites"]) == ["site-a", "site-b"] and (pooled["n"], pooled["favorable"]) == (85, 37)
    assert pooled["sites_not_pooled"] == {
        "site-t": {"n": 3, "reason": "fewer than min_group_size (5) patients: counts only, not pooled"},
        "site-h": {"n": 4, "reason": "fewer than min_group_size (5) patients: counts only, not pooled"}}
    assert pooled["random_effects"] == pool([a, b])["random_effects"]       # 3/3 cannot be worked out
    path = write_pooled(pooled, tmp_path / "pooled")
    assert not re.search(r'"favorable": 3\b', path.read_text())          # 37 is the sum of a and b
    assert "Not pooled, counts only: site-t (3 patients), site-h (4 patients)" in describe(pooled)
    assert "site-t" not in site_table(pooled)["site"].tolist()
    message = refused([a, tiny], tmp_path / "p")
    assert "needs at least two sites of at least min_group_size patients; 1 of the 2" in message
    assert "site-t: 3 patients get counts only" in message


def test_a_withheld_favorable_count_is_refused_in_a_large_site(tmp_path):
    a = write_site(tmp_path, "site-a", results(45, 23))
    content = results(40, 14)
    content["outcome"]["favorable"] = None
    assert "key outcome.favorable is None" in refused([a, write_site(tmp_path, "site-b", content)], tmp_path / "p")


def test_names_from_sites_are_escaped_in_the_summary_and_tables(tmp_path):
    from nbconvert.filters.markdown_mistune import markdown2html_mistune

    a = write_site(tmp_path, "<h1>X", results(45, 23, {"<script>alert(1)</script>": (5, 10)}))
    b = write_site(tmp_path, "[link](javascript:alert(1))", results(40, 14, {"<script>alert(1)</script>": (4, 9)}))
    pooled = pool([a, b])
    assert list(pooled["sites"]) == ["<h1>X", "[link](javascript:alert(1))"]   # pooled.json keeps the names
    page = markdown2html_mistune(describe(pooled))
    page += site_table(pooled)._repr_html_() + group_table(pooled)._repr_html_()
    assert "<h1>" not in page and "<script>" not in page and "<a " not in page
    assert "&lt;h1&gt;X" in page and "[link](javascript:alert(1))" in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_a_site_folder_that_is_not_a_name_is_refused(tmp_path):
    a = write_site(tmp_path, "site-a", results(45, 23))
    b = write_site(tmp_path, "site\tb", results(40, 14))
    assert "the site's folder name is 'site\\tb', not a name" in refused([a, b], tmp_path / "p")


def test_site_list_file_takes_one_path_a_line(tmp_path, monkeypatch):
    from ketanb.pooling import main, read_site_list

    listing = tmp_path / "sites.txt"
    listing.write_text("\ufeffsites/Site A/results.json\r\n\n  sites/site-b/results.json  \n", encoding="utf-8")
    assert read_site_list(listing) == ["sites/Site A/results.json", "sites/site-b/results.json"]
    with pytest.raises(PoolingError, match="the list of sites .*nope.txt cannot be read"):
        read_site_list(tmp_path / "nope.txt")
    monkeypatch.setenv("SITES", "a/results.json  b/results.json")
    monkeypatch.setenv("SITES_FILE", str(listing))
    assert main([str(tmp_path / "out" / "list.txt")]) == 0
    assert (tmp_path / "out" / "list.txt").read_text() == ("a/results.json\nb/results.json\nsites/Site A/results.json\n"
                                                          "sites/site-b/results.json\n")
    monkeypatch.setenv("SITES", "")
    monkeypatch.delenv("SITES_FILE")
    assert main([str(tmp_path / "out" / "none.txt")]) == 1 and not (tmp_path / "out" / "none.txt").exists()


def test_folders_with_spaces_pool_from_a_list(tmp_path):
    from ketanb.pooling import read_site_list

    a = write_site(tmp_path, "Site A", results(45, 23))
    b = write_site(tmp_path, "Clinic B 2024", results(40, 14))
    listing = tmp_path / "sites.txt"
    listing.write_text(f"{a}\n{b}\n")
    assert list(pool(read_site_list(listing))["sites"]) == ["Site A", "Clinic B 2024"]


def test_forest_plot_draws_at_most_50_sites_and_says_so():
    from ketanb.presentation import plots
    from ketanb.presentation.pooled_report import FOREST_MAX_SITES

    sites = {f"s{i}": {"n": 10 + i % 7, "favorable": 5, "proportion": 0.5, "ci_low": 0.2, "ci_high": 0.8,
                       "y": 0.0, "weight": 1 / 5000, "logit_ci_low": 0.2, "logit_ci_high": 0.8}
             for i in range(5000)}
    pooled = {"confidence": 0.95, "sites": sites, "n": sum(s["n"] for s in sites.values()), "favorable": 25000,
              "random_effects": {"proportion": 0.4, "ci_low": 0.35, "ci_high": 0.45, "tau2": 0.1, "i2": 0.3,
                                 "prediction_low": 0.2, "prediction_high": 0.6}}
    fig = plots.pooled_forest(pooled, max_sites=FOREST_MAX_SITES)
    ax = fig.axes[0]
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert len(labels) == 51 and labels[-1] == "pooled (random effects)"
    assert set(labels[:-1]) <= {f"s{i}" for i in range(5000) if i % 7 == 6}       # the largest (n = 16)
    assert labels[:2] == ["s6", "s13"]                                            # in their order
    drawn_n = 16 * 50
    assert ("5000 clinics" in ax.get_title() and
            f"50 largest clinics drawn; 4950 others ({pooled['n'] - drawn_n} patients) not drawn, "
            "all in the pooled estimate" in ax.get_title())
    assert fig.get_size_inches()[1] < 25
    import matplotlib.pyplot as plt
    plt.close("all")


def test_make_pool_takes_a_site_list_names_sites_by_folder_and_runs_no_path(tmp_path, venv_ready):
    """make pool SITES_FILE=...: folders with spaces and markup pool; pool.html escapes the names and
    neither output holds a path of the machine; nothing in SITES or SITES_FILE is run by make or the shell.
    Then make pool SITES=... on two sites that disagree on the threshold is refused, naming both values,
    and pooled/ is left as it was. (The refusal was test_pooling_refuses_sites_that_disagree_and_leaves_pooled_as_it_was
    in test_pipeline_runs.py, with a pool of its own before it.)"""
    from .conftest import copy_project, run_make

    project = copy_project(tmp_path / "project")
    published = json.loads((project / "results" / "results.json").read_text())
    other = copy.deepcopy(published)
    other["outcome"]["favorable"] = 18
    other["subgroups"]["groups"]["neuropathic"]["favorable"] = 7     # the groups' 22 favorable would not fit in 18
    third = copy.deepcopy(published)
    third["outcome"]["favorable"] = 27
    folders = {"Site A": published, "<h1>X": other, "x`touch pwned1`$(touch pwned2)": third}
    for name, content in folders.items():
        write_site(project / "sites", name, content)
    listing = project / "my sites.txt"
    listing.write_text("sites/Site A/results.json\n\n"
                       f"{project / 'sites' / '<h1>X' / 'results.json'}\n"     # an absolute path
                       "sites/x`touch pwned1`$(touch pwned2)/results.json\n")
    done = run_make(project, "pool", "SITES_FILE=my sites.txt")
    assert done.returncode == 0, done.stderr[-3000:]
    pooled = json.loads((project / "pooled" / "pooled.json").read_text())
    assert list(pooled["sites"]) == list(folders) and (pooled["n"], pooled["favorable"]) == (135, 68)
    page = (project / "pooled" / "reports" / "pool.html").read_text()
    for text in ((project / "pooled" / "pooled.json").read_text(), page):
        assert str(tmp_path) not in text
    assert "<h1>" not in page and "&lt;h1&gt;X" in page
    # issue 24: no link to an index that does not exist, no pandas index, the truthful synthetic sentence,
    # the HKSJ and I² intervals and the warning for fewer than 5 sites
    assert 'href="index.html"' not in page and "row_heading" not in page
    assert "All 3 sites ran on synthetic data" in page and "At least one site" not in page
    assert "Hartung-Knapp-Sidik-Jonkman 95 % CI" in page and "I² = " in page
    assert "With fewer than 5 sites the prediction interval and the interval of I² are very uncertain" in page
    assert set(pooled["random_effects"]) >= set(INTERVAL_KEYS)
    for setting, said in (("SITES_FILE=list$(shell touch pwned3)`touch pwned4`.txt",
                           "the list of sites list$(shell touch pwned3)`touch pwned4`.txt cannot be read"),
                          ("SITES=sites/a`id>pwned5`/results.json sites/b$(id>pwned6)/results.json",
                           "sites/a`id>pwned5`/results.json cannot be read")):
        refused_run = run_make(project, "pool", setting)
        assert refused_run.returncode != 0 and "Traceback" not in refused_run.stderr
        assert said in refused_run.stderr
    assert not [p for p in project.rglob("pwned*")]
    assert json.loads((project / "pooled" / "pooled.json").read_text()) == pooled     # left as it was
    assert (project / "pooled" / "forest.svg").is_file() and (project / "pooled" / "forest.png").is_file()
    pooled_bytes = (project / "pooled" / "pooled.json").read_bytes()
    write_site(project / "sites", "site-a", published)
    write_site(project / "sites", "site-b", dict(published, parameters=dict(published["parameters"],
                                                                            responder_threshold=30)))
    bad = run_make(project, "pool", "SITES=sites/site-a/results.json sites/site-b/results.json")
    assert bad.returncode != 0 and "Traceback" not in bad.stderr
    assert "responder_threshold: site-a 50, site-b 30" in bad.stderr
    assert (project / "pooled" / "pooled.json").read_bytes() == pooled_bytes


def test_a_refusal_lists_the_first_20_problems_then_counts_the_rest(tmp_path):
    bad = [write_site(tmp_path, f"site-{i:02d}", "{") for i in range(25)]
    message = refused(bad, tmp_path / "p")
    assert message.count("is not a JSON file") == 20 and message.endswith("... and 5 more of the same kind")
    assert "site-19" in message and "site-20" not in message


def test_the_study_block_of_a_site_is_ignored(tmp_path):
    """Issue 23.1: results.json's study (descriptive, a clinic's own title and published values) is not a parameter:
    sites with different studies, or none, pool as they would without it."""
    bare = [write_site(tmp_path / "bare", name, results(n, k)) for name, (n, k) in
            {"site-a": (45, 23), "site-b": (40, 14)}.items()]
    own = {"title": "Ketamine in Zottegem", "centre": "AZ Zottegem", "period": "2018-2022", "authors": "",
           "publication": ""}
    shipped = {**own, "title": "Another study", "published": {"treated": 74, "responder_threshold": 30}}
    studied = [write_site(tmp_path / "studied", "site-a", {**results(45, 23), "study": shipped}),
               write_site(tmp_path / "studied", "site-b", {**results(40, 14), "study": own})]
    a, b = pool(bare), pool(studied)
    without_digests = [{k: v for k, v in p.items() if k != "sites"} for p in (a, b)]
    assert without_digests[0] == without_digests[1] and b["responder_threshold"] == 50   # not the study's 30
    assert "Zottegem" not in json.dumps(b) and "Another study" not in json.dumps(b)


def test_reading_a_site_needs_neither_the_pooling_arithmetic_nor_the_report():
    """Issue 25: pooling split by role: ketanb.sites reads and checks, ketanb.pooling pools (ketanb.meta),
    ketanb.presentation.pooled_report writes the tables and text (ketanb.presentation.tables)."""
    import subprocess
    import sys

    loaded = subprocess.run([sys.executable, "-c", "import sys, ketanb.sites; print(sorted(sys.modules))"],
                            capture_output=True, text=True, check=True, cwd=ROOT).stdout
    for module in ("ketanb.pooling", "ketanb.meta", "ketanb.presentation.tables", "ketanb.presentation.pooled_report", "pandas"):
        assert f"'{module}'" not in loaded


@pytest.mark.parametrize("given", [{}, {"group_by": "diagnosis", "missing_followup": "exclude", "min_group_size": 6},
                                   {"group_by": "sex", "missing_followup": "favorable", "min_group_size": 8},
                                   {"group_by": "age", "group_edges": [40, 60], "reference_group": ">=60"}])
def test_pooling_takes_every_results_json_ketanb_writes(tmp_path, given):
    """Review 2026-12-03: the checks of a partner's file (counts inside the outcome, names that print) must
    never refuse a results.json that ketanb itself writes, whatever the parameters."""
    from ketanb import load_params
    from ketanb.analysis import analyse
    from ketanb.output.files import to_jsonable
    from ketanb.sites import read_site

    written = to_jsonable(analyse(ROOT / "data" / "raw", load_params(**given)))
    site = read_site(write_site(tmp_path, "site-a", written))
    assert (site["n"], site["favorable"]) == (written["outcome"]["n"], written["outcome"]["favorable"])
    groups = written["subgroups"]["groups"]
    assert sum(g["n"] for g in groups.values()) + written["subgroups"]["unclassified"] == written["outcome"]["n"]


def test_names_typed_on_a_mac_are_read_composed_and_pool(tmp_path):
    """Review 2026-12-03: with accents written apart from their letters (as a Mac writes them: NFD), a column header
    and group_by, a reference_group, a group_by value of 60 letters (120 code points) and a site's folder made a
    run that pooling refused, a reference 'not one of the groups' that read the same, a refused name. Each is
    read in the composed form (contract.NORMAL_FORM)."""
    import shutil

    from ketanb import load_params
    from ketanb.analysis import analyse
    from ketanb.output.files import to_jsonable
    from ketanb.sites import read_site

    apart = "re\u0301gion"                                           # région, NFD
    data = tmp_path / "extract"
    shutil.copytree(ROOT / "data" / "raw", data)
    patients = (data / "patients.csv").read_text(encoding="utf-8").splitlines()
    values = ["Ne\u0301vralgie", "Wallonie", "e\u0301" * 60]
    rows = [patients[0] + f",{apart}"] + [f"{line},{values[i % 3]}" for i, line in enumerate(patients[1:])]
    (data / "patients.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    params = load_params(group_by=apart, reference_group="Ne\u0301vralgie")
    assert params.group_by == "r\u00e9gion" and params.reference_group == "N\u00e9vralgie"
    written = to_jsonable(analyse(data, params))
    assert written["parameters"]["group_by"] == "r\u00e9gion" and written["subgroups"]["reference"] == "N\u00e9vralgie"
    assert "\u00e9" * 60 in written["subgroups"]["groups"]
    site = read_site(write_site(tmp_path, "Zottegem-Sint-Elisabeth e\u0301e\u0301n", written))
    assert site["name"] == "Zottegem-Sint-Elisabeth \u00e9\u00e9n" and site["group_by"] == "r\u00e9gion"
