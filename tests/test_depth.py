"""Sensitivity analyses, responder curves, any subgroup (bands) and Table 1, on hand-worked cohorts."""
import re

import numpy as np
import pytest

from ketanb import ParameterError, load_params
from ketanb.analysis import analyse
from ketanb.baseline import table1
from ketanb.cleaning import derive_cohort
from ketanb.outcomes import derive_outcomes, responder_curve, sensitivity
from ketanb.params import band_labels
from ketanb.subgroups import assign_groups, subgroup_summary

from .conftest import patient, protocol

# Baseline 10, so reduction_pct = 10 x (10 - follow-up): 100, 75, 60, 50, 40, 20, -10 %,
# one without follow-up and one who stopped for lack of effect at 80 %.
CASES = {"r100": "0", "r75": "2.5", "r60": "4", "r50": "5", "r40": "6", "r20": "8", "worse": "11",
         "missing": "", "lack": "2"}
AGES = {"r100": "25", "r75": "39", "r60": "40", "r50": "59", "r40": "60", "r20": "75", "worse": "80",
        "missing": "45", "lack": "33"}


@pytest.fixture
def cohort(make_extract):
    pts = [patient(k, baseline="9" if k == "worse" else "10",       # "worse": 9 -> 10 is -11.1 %
                   followup="10" if k == "worse" else f,
                   discontinuation="lack_of_effect" if k == "lack" else "", age=AGES[k],
                   sex="F" if k in ("r100", "r75", "r60", "r50") else "M")
           for k, f in CASES.items()]
    inf = [r for k in CASES for r in protocol(k)]
    return derive_cohort(make_extract(pts, inf), load_params())


def test_sensitivity_thresholds_and_missing_followup(cohort):
    s = sensitivity(cohort, load_params())
    # >= 30 %: r100 r75 r60 r50 r40 = 5/9; >= 50 %: 4/9; >= 70 %: r100 r75 = 2/9 (lack never counts)
    got = {k: (b["favorable"], b["n"]) for k, b in s["responder_threshold"].items()}
    assert got == {"30": (5, 9), "50": (4, 9), "70": (2, 9)}
    # exclude: the patient without follow-up leaves the denominator (4/8); best case: "missing" is
    # favorable (5/9); "lack" stays unfavorable whatever happens
    got = {k: (b["favorable"], b["n"]) for k, b in s["missing_followup"].items()}
    assert got == {"nonresponder": (4, 9), "exclude": (4, 8), "favorable": (5, 9)}
    # nobody stopped for side effects here: the same 4/9; all treated = the 9 included ones
    assert (s["side_effect_stops_unfavorable"]["favorable"], s["all_treated"]["n"]) == (4, 9)
    # Wilson 95 % CI of 4/9, by hand: centre (4/9 + z^2/18) / (1 + z^2/9) = 0.4663,
    # half-width z sqrt(p(1-p)/9 + z^2/324) / (1 + z^2/9) = 0.2780 -> 0.1888 to 0.7333
    block = s["responder_threshold"]["50"]
    assert (round(block["ci_low"], 4), round(block["ci_high"], 4)) == (0.1888, 0.7333)


def test_sensitivity_keeps_other_parameters(cohort):
    s = sensitivity(cohort, load_params(missing_followup="exclude", responder_threshold=70))
    assert {k: b["n"] for k, b in s["responder_threshold"].items()} == {"30": 8, "50": 8, "70": 8}
    assert s["missing_followup"]["nonresponder"]["favorable"] == 2  # at the run's 70 %


def test_responder_curve_by_hand(cohort):
    out = derive_outcomes(cohort, threshold=50)
    curve = responder_curve(out).set_index("threshold_pct")
    # X = 0: the six with a reduction >= 0 (r100 r75 r60 r50 r40 r20); never "worse" (-11 %),
    # "missing" (no follow-up) or "lack" (stopped for lack of effect) -> 6/9
    assert curve.loc[0, "responders"] == 6
    assert curve.loc[50, "responders"] == 4 and curve.loc[51, "responders"] == 3
    assert curve.loc[100, "responders"] == 1
    assert (np.diff(curve["responders"].to_numpy()) <= 0).all()   # never rises with the threshold
    assert len(curve) == 101 and set(curve["n"]) == {9}


def test_responder_curve_by_subgroup_adds_up(cohort):
    out = derive_outcomes(cohort, threshold=50)
    curve = responder_curve(out, assign_groups(out, group_by="sex"))
    at50 = curve[curve["threshold_pct"] == 50].set_index("group")["responders"].to_dict()
    assert at50 == {"overall": 4, "F": 4, "M": 0}


def test_age_bands():
    assert band_labels([40, 60]) == ["<40", "40-<60", ">=60"]


def test_bands_close_on_the_left(cohort):
    groups = assign_groups(cohort, group_by="age", edges=(40, 60)).astype(str)
    by_patient = dict(zip(cohort["patient_id"], groups))
    assert by_patient["r75"] == "<40" and by_patient["r60"] == "40-<60"          # 39 and 40
    assert by_patient["r50"] == "40-<60" and by_patient["r40"] == ">=60"         # 59 and 60
    out = derive_outcomes(cohort, threshold=50)
    summary = subgroup_summary(out, assign_groups(out, group_by="age", edges=(40, 60)), group_by="age",
                               edges=(40, 60))
    assert list(summary["groups"]) == ["<40", "40-<60", ">=60"]                 # in band order
    assert {k: (g["favorable"], g["n"]) for k, g in summary["groups"].items()} == {
        "<40": (2, 3), "40-<60": (2, 3), ">=60": (0, 3)}


def test_numeric_group_without_edges_is_refused_when_the_parameters_are_read():
    with pytest.raises(ParameterError, match="give group_edges"):
        load_params(group_by="age")
    assert load_params(group_by=" Diagnosis ").group_by == "diagnosis"      # headers match ignoring case


def test_edges_on_a_text_column_are_refused():
    # they would make every patient unclassified without a word
    with pytest.raises(ParameterError, match="'diagnosis' is not a number column"):
        load_params(group_by="diagnosis", group_edges=[30])


def test_patient_id_cannot_be_the_subgroup_column():
    # with min_group_size 1 every output would list every patient's id and outcome (contract, section 4)
    for written in ("patient_id", " Patient_ID"):
        with pytest.raises(ParameterError, match="patient_id would name every patient"):
            load_params(group_by=written, min_group_size=1)


@pytest.mark.parametrize("group_by, groups", [("sex", {"F", "M"}), ("diagnosis", None)])
def test_any_categorical_group(group_by, groups):
    r = analyse("data/raw", load_params(group_by=group_by))
    got = r["subgroups"]["groups"]
    if groups:
        assert set(got) == groups
    else:       # 15 diagnoses of 2-5 patients: only those of >= 5 stand alone, the rest pool into "other"
        assert set(got) == {"irritable bowel syndrome", "painful diabetic polyneuropathy", "other"}
        assert r["subgroups"]["pooled_values"] == 13
        assert all(g["n"] >= 5 for g in got.values())
    assert sum(g["n"] for g in got.values()) + r["subgroups"]["unclassified"] == r["outcome"]["n"]


def test_extra_numeric_column_with_edges(make_extract):
    pts = [patient(f"p{i}", bmi=b) for i, b in enumerate(["22.5", "31", ""])]
    params = load_params(group_by="bmi", group_edges=[25, 30])
    extract = make_extract(pts, [r for i in range(3) for r in protocol(f"p{i}")], params=params)
    assert extract.patients["bmi"].tolist()[:2] == [22.5, 31.0] and np.isnan(extract.patients["bmi"][2])
    out = derive_outcomes(derive_cohort(extract, params), threshold=50)
    summary = subgroup_summary(out, assign_groups(out, group_by="bmi", edges=params.group_edges), group_by="bmi",
                               edges=params.group_edges)
    assert {k: g["n"] for k, g in summary["groups"].items()} == {"<25": 1, ">=30": 1}
    assert summary["unclassified"] == 1


def test_table1_by_hand(cohort):
    out = derive_outcomes(cohort, threshold=50)
    t = table1(out, assign_groups(out, group_by="sex"), p_values=True).set_index(["variable", "level"])
    assert t.loc[("n", ""), ["overall", "F", "M"]].tolist() == ["9", "4", "5"]
    # ages F: 25 39 40 59 -> median 39.5, quartiles (numpy linear) 35.5 and 44.75 -> 44.8
    assert t.loc[("Age, years", ""), "F"] == "39.5 [35.5 to 44.8]"
    assert t.loc[("Age, years", ""), "missing"] == "0"
    assert t.loc[("Pain duration, months", ""), "missing"] == "9"                # column absent: all missing
    # baseline NRS differs by group? F all 10, M 10 10 9 10 10 -> Kruskal-Wallis p as scipy gives it
    assert t.loc[("Age, years", ""), "test"] == "Kruskal-Wallis"


def test_table1_exact_test_for_two_level_category(cohort):
    # by age band <50 / >=50: F = r100 r75 r60 (<50) and r50 (>=50); M: lack 33, missing 45 (<50),
    # r40 r20 worse (>=50). Table <50: 3 F of 5; >=50: 1 F of 4.
    # R: fisher.test(matrix(c(3, 2, 1, 3), 2)) p-value = 0.5238095
    out = derive_outcomes(cohort, threshold=50)
    t = table1(out, assign_groups(out, group_by="age", edges=(50,)), p_values=True).set_index(["variable", "level"])
    assert t.loc[("Sex", "F"), "p"] == pytest.approx(0.5238095, abs=1e-7)
    assert t.loc[("Sex", "F"), "test"] == "Fisher-Freeman-Halton exact"


@pytest.mark.parametrize("given, message", [
    ({"min_group_size": 0}, "parameter min_group_size: 0 must be at least 1"),
    ({"responder_threshold": 150}, "parameter responder_threshold: 150 must be at least 0 and at most 100"),
    ({"confidence": 1}, "parameter confidence: 1 must be above 0 and below 1"),
])
def test_a_value_out_of_range_is_named_with_the_range_in_words(given, message):
    with pytest.raises(ParameterError, match=f"^{re.escape(message)}$"):
        load_params(**given)
