"""The favorable-outcome rule on its edge cases."""
import pytest

from ketanb import load_params
from ketanb.cleaning import derive_cohort
from ketanb.outcomes import derive_outcomes, outcome_summary

from .conftest import patient, protocol


def outcome(make_extract, mode="nonresponder", **kw):
    cases = {"half": dict(baseline="8", followup="4"),           # exactly 50 %
             "decimal": dict(baseline="7.4", followup="3.7"),    # 50 % in floating point
             "lack": dict(baseline="8", followup="2", discontinuation="lack_of_effect"),
             "side": dict(baseline="8", followup="2", discontinuation="side_effects"),
             "missing": dict(baseline="8", followup=""),
             "worse": dict(baseline="6", followup="8"),
             "below": dict(baseline="8", followup="4.5")}
    pts = [patient(k, **v) for k, v in cases.items()]
    inf = [r for k in cases for r in protocol(k)]
    cohort = derive_cohort(make_extract(pts, inf), load_params())
    return derive_outcomes(cohort, threshold=50, missing_followup=mode).set_index("patient_id")


def test_edge_cases(make_extract):
    o = outcome(make_extract)
    assert o["favorable"].to_dict() == {"half": True, "decimal": True, "lack": False, "side": True,
                                        "missing": False, "worse": False, "below": False}
    assert o.loc["worse", "reduction_pct"] == pytest.approx(-100 * 2 / 6)
    s = outcome_summary(o, threshold=50)
    assert (s["n"], s["favorable"], s["missing_followup"]) == (7, 3, 1)
    # written as parameters.responder_threshold is, and as the contract's example: 50, not 50.0
    assert type(outcome_summary(o, threshold=50.0)["threshold_pct"]) is int
    assert outcome_summary(o, threshold=37.5)["threshold_pct"] == 37.5


def test_missing_followup_exclude(make_extract):
    s = outcome_summary(outcome(make_extract, "exclude"), threshold=50)
    assert (s["n"], s["favorable"], s["missing_followup"]) == (6, 3, 1)


def test_change_in_pain_of_fewer_than_min_group_size_patients_is_a_count(make_extract):
    """Six patients have both NRS values (7 included, one without follow-up). With min_group_size 7
    their medians would be statistics of too small a group (contract, section 5): n alone. By hand
    with min_group_size 6: baselines 8 7.4 8 8 6 8 -> median 8; follow-ups 4 3.7 2 2 8 4.5 -> 3.85."""
    o = outcome(make_extract)
    hidden = outcome_summary(o, threshold=50, min_group_size=7)["nrs_change"]
    assert hidden == {"n": 6, "median_baseline": None, "median_followup": None, "median_change": None,
                      "hodges_lehmann": None, "ci_low": None, "ci_high": None, "ci_method": None,
                      "wilcoxon_p": None}
    shown = outcome_summary(o, threshold=50, min_group_size=6)["nrs_change"]
    assert (shown["n"], shown["median_baseline"], shown["median_followup"]) == (6, 8.0, pytest.approx(3.85))


def small_cohort(make_extract, included: int, excluded: int = 0):
    """``included`` patients treated per protocol, favorable every other one; ``excluded`` with the test dose only."""
    pts, inf = [], []
    for i in range(included + excluded):
        pts.append(patient(f"p{i}", followup="2" if i % 2 == 0 else "6"))
        inf += protocol(f"p{i}", n_later=2 if i < included else 0)
    return derive_cohort(make_extract(pts, inf), load_params())


def test_three_included_patients_get_counts_only(make_extract):
    """Issue 22: a population of fewer than min_group_size: the keys stay, the proportion and its
    interval are null, and the responder curve has no step (each would be one patient's reduction)."""
    from ketanb.outcomes import responder_curve

    out = derive_outcomes(small_cohort(make_extract, 3), threshold=50)
    s = outcome_summary(out, threshold=50, min_group_size=5)
    assert (s["n"], s["favorable"]) == (3, 2)
    assert (s["proportion"], s["ci_low"], s["ci_high"]) == (None, None, None)
    assert outcome_summary(out, threshold=50)["proportion"] == pytest.approx(2 / 3)
    curve = responder_curve(out, min_group_size=5)
    assert set(curve["group"]) == {"overall"} and set(curve["n"]) == {3}
    assert curve[["responders", "proportion", "ci_low", "ci_high"]].isna().all().all()


def test_all_treated_beside_the_main_analysis_with_one_excluded_patient(make_extract):
    """All treated (7) minus the main analysis (6) would be the one excluded patient's outcome."""
    from ketanb.outcomes import sensitivity

    cohort = small_cohort(make_extract, 6, excluded=1)
    block = sensitivity(cohort, load_params(min_group_size=5))["all_treated"]
    assert block == {"n": 7, "favorable": None, "proportion": None, "ci_low": None, "ci_high": None}
    assert sensitivity(cohort, load_params(min_group_size=5))["missing_followup"]["exclude"]["favorable"] == 3
    cohort = small_cohort(make_extract, 6, excluded=5)
    assert sensitivity(cohort, load_params(min_group_size=5))["all_treated"]["favorable"] == 6   # 3 + 3 excluded


def test_per_protocol_and_all_treated_side_by_side_with_why_they_differ():
    """Issue 24, on the shipped extract: 23/45 per protocol, 23/74 all treated (31.1 %; Wilson 21.7 % to
    42.3 %: R prop.test(23, 74, correct = FALSE)$conf.int = 0.2169084 0.4233861), the 29 excluded patients
    adding none (23 - 23), every number read from the results."""
    from ketanb import load_params as params_of
    from ketanb.analysis import analyse
    from ketanb.paths import ROOT
    from ketanb.presentation.tables import framing

    r = analyse(ROOT / "data" / "raw", params_of(ROOT / "params.yaml"))
    text = framing(r["outcome"], r["sensitivity"], r["cohort"], 0.95, 5)
    assert "the included patients: 23/45 (51.1 %; 95 % CI 37.0 % to 65.0 %)" in text
    assert "(the contract's denominator): 23/74 (31.1 %; 95 % CI 21.7 % to 42.3 %)" in text
    assert "adds the 29 excluded patients" in text and "Not one of them had a favorable outcome" in text
    # with fewer than min_group_size excluded patients their count of favorable outcomes is not spelled out
    assert "of them had a favorable" not in framing(r["outcome"], r["sensitivity"], r["cohort"], 0.95, 30)
    # the synthetic extract: by construction (ketanb.synthetic draws an excluded patient's reduction below 42 %)
    assert "by construction" not in text
    assert "by construction" in framing(r["outcome"], r["sensitivity"], r["cohort"], 0.95, 5, synthetic=True)


def _frame(**columns):
    import numpy as np
    import pandas as pd

    return pd.DataFrame({"baseline_nrs": columns.get("baseline", [8.0]),
                         "followup_nrs": columns.get("followup", [np.nan]),
                         "discontinuation": columns.get("discontinuation", [None])})


@pytest.mark.parametrize("threshold, written", [(30, "30 %"), (50, "50 %"), (37.5, "37.5 %")])
@pytest.mark.parametrize("mode", ["nonresponder", "exclude", "favorable"])
def test_the_rule_in_words_says_what_is_favorable_does(threshold, written, mode):
    """Issue 23.3: ketanb.presentation.tables.favorable_rule, the words of is_favorable, agrees with it: the threshold it names
    is the one a reduction must reach (8 -> 8 (1 - t/100) counts, a reduction 0.1 point short does not), what it
    says of a missing follow-up NRS is what is_favorable does with one, and the stops it names are the ones that
    make the outcome unfavorable."""
    from ketanb.outcomes import is_favorable
    from ketanb.presentation.tables import favorable_rule

    text = favorable_rule(threshold, mode)
    assert f"at least {written} from baseline" in text
    at, short = 8 * (1 - threshold / 100), 8 * (1 - threshold / 100) + 0.1
    assert is_favorable(_frame(baseline=[8.0, 8.0], followup=[at, short], discontinuation=[None, None]),
                        threshold).tolist() == [True, False]
    missing_counts = is_favorable(_frame(), threshold, missing_followup=mode)[0]
    assert ("counts as favorable" in text) is bool(missing_counts)
    assert ("counts as unfavorable" in text) is (mode == "nonresponder")
    assert ("left out of the denominator" in text) is (mode == "exclude")
    for stops_count in (False, True):
        words = favorable_rule(threshold, mode, side_effect_stops_unfavorable=stops_count)
        side = _frame(followup=[0.0], discontinuation=["side_effects"])
        assert ("side effects" in words) is (not is_favorable(side, threshold,
                                                              side_effect_stops_unfavorable=stops_count)[0])
    lack = _frame(followup=[0.0], discontinuation=["lack_of_effect"])
    assert "without stopping for lack of effect" in text and not is_favorable(lack, threshold)[0]


def test_every_description_of_the_rule_comes_from_favorable_rule(monkeypatch, tmp_path):
    """Issue 23.3: the results paragraph, the index, the responder curve's label: with another threshold they say
    the new number, and with favorable_rule replaced they say what it says (no copy of the words elsewhere)."""
    import json

    from ketanb.presentation import plots, tables
    from ketanb.presentation.index import build_index
    from ketanb.paths import ROOT

    from ketanb.analysis import analyse
    from ketanb.output.files import to_jsonable

    params = load_params(responder_threshold=30)
    r = json.loads(json.dumps(to_jsonable(analyse(ROOT / "data" / "raw", params))))
    (tmp_path / "results").mkdir()
    (tmp_path / "reports").mkdir()
    (tmp_path / "results" / "results.json").write_text(json.dumps(r))
    import numpy as np
    import pandas as pd

    curve = pd.DataFrame({"group": "overall", "threshold_pct": np.arange(0, 101), "n": 20, "responders": 10,
                          "proportion": 0.5, "ci_low": 0.3, "ci_high": 0.7})

    def rendered():
        return {"result": tables.outcome_text(r["outcome"], params).data, "index": build_index(tmp_path),
                "curve": plots.responder_curves(curve, threshold=30, confidence=0.95).axes[0].get_ylabel()}

    texts = rendered()
    assert "an NRS pain reduction of at least 30 % from baseline" in texts["result"]
    assert "an NRS pain reduction of at least 30 % from baseline" in texts["index"]
    assert "50 %" not in texts["result"] and "at least 50" not in texts["index"]
    assert texts["curve"].replace("\n", " ").endswith("an NRS pain reduction of at least the threshold from "
                                                      "baseline, without stopping for lack of effect")
    def replaced(threshold=None, *a, **k):
        return "RULE-" + ("any" if threshold is None else f"{threshold:g}")

    monkeypatch.setattr(tables, "favorable_rule", replaced)
    monkeypatch.setattr(plots, "favorable_rule", replaced)          # plots imports the name from tables
    texts = rendered()
    assert "A favorable outcome (RULE-30) in" in texts["result"]
    assert "<b>Favorable outcome</b> (RULE-30)." in texts["index"]
    assert texts["curve"] == "Favorable outcome (%):\nRULE-any"


def test_the_stage_in_one_call(make_extract):
    """outcomes.run: what notebook 02 shows, writes and draws, from the seven edge cases above (all
    neuropathic). By hand at 50 %: half, decimal, side favorable (3/7); below 50: worse, below; lack stopped;
    missing has no NRS. At 30 % below (43.75 %) joins them (4/7), at 70 % only side (75 %) is left (1/7)."""
    from ketanb import cleaning, outcomes

    cases = {"half": ("8", "4", ""), "decimal": ("7.4", "3.7", ""), "lack": ("8", "2", "lack_of_effect"),
             "side": ("8", "2", "side_effects"), "missing": ("8", "", ""), "worse": ("6", "8", ""),
             "below": ("8", "4.5", "")}
    pts = [patient(k, baseline=b, followup=f, discontinuation=d) for k, (b, f, d) in cases.items()]
    cohort = derive_cohort(make_extract(pts, [r for k in cases for r in protocol(k)]), load_params())
    got = outcomes.run(cohort, load_params())
    assert (got.summary["n"], got.summary["favorable"]) == (7, 3)
    assert got.breakdown["patients"].tolist() == [3, 2, 1, 1]
    at = got.curve_at_thresholds.set_index(["group", "threshold_pct"])["favorable"]
    assert at.to_dict() == {(g, t): k for g in ("overall", "neuropathic") for t, k in ((30, 4), (50, 3), (70, 1))}
    assert got.sensitivity_table["main_analysis"].tolist()[0] and got.sensitivity_table["n"].tolist()[0] == 7
    assert got.patients.set_index("patient_id")["favorable"].to_dict() == {
        "half": True, "decimal": True, "lack": False, "side": True, "missing": False, "worse": False,
        "below": False}
    quick = outcomes.run(cohort, load_params(), tables=False)              # what analysis.analyse asks for
    assert (quick.summary, quick.sensitivity) == (got.summary, got.sensitivity) and quick.curve is None
    assert cleaning.flow_counts(cohort)["included"] == 7
