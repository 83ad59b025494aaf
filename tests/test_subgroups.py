"""Small groups (data contract, section 5) and effect sizes against the reference group, by hand."""
import pandas as pd
import pytest

from ketanb import ParameterError, load_params
from ketanb.baseline import included_vs_excluded, table1
from ketanb.cleaning import derive_cohort
from ketanb.outcomes import derive_outcomes, responder_curve
from ketanb.subgroups import assign_groups, carry_groups, subgroup_summary, subgroup_table

from .conftest import patient, protocol


def cohort_of(make_extract, sizes: dict, favorable: dict | None = None):
    """Included patients, ``sizes[value]`` per value of pain_mechanism-like column ``clinic``."""
    favorable = favorable or {}
    pts, inf = [], []
    for value, size in sizes.items():
        for i in range(size):
            pid = f"{value or 'none'}{i}"
            good = i < favorable.get(value, 0)
            pts.append(patient(pid, baseline="8", followup="2" if good else "7", clinic=value))
            inf += protocol(pid)
    out = derive_outcomes(derive_cohort(make_extract(pts, inf), load_params()), threshold=50)
    return out


def summary(out, size, reference=None):
    groups = assign_groups(out, group_by="clinic", min_group_size=size)
    return groups, subgroup_summary(out, groups, group_by="clinic", min_group_size=size, reference=reference)


def test_small_values_pool_into_other(make_extract):
    out = cohort_of(make_extract, {"a": 6, "b": 3, "c": 2, "": 1})
    groups, s = summary(out, 5)
    # b (3) and c (2) are below 5: together 5 patients, enough for "other"
    assert {k: g["n"] for k, g in s["groups"].items()} == {"a": 6, "other": 5}
    assert (s["pooled_values"], s["unclassified"]) == (2, 1)
    assert list(groups.cat.categories) == ["a", "other"]


def test_other_too_small_is_counted_unclassified(make_extract):
    out = cohort_of(make_extract, {"a": 6, "b": 2, "c": 2, "": 1})
    _, s = summary(out, 5)
    # b + c = 4 < 5: no "other"; 4 + the 1 empty value are unclassified
    assert {k: g["n"] for k, g in s["groups"].items()} == {"a": 6}
    assert (s["pooled_values"], s["unclassified"]) == (2, 5)
    assert s["fisher_freeman_halton_p"] is None                       # one group: nothing to test


def test_a_value_written_other_joins_the_pooled_group(make_extract):
    """group_by: diagnosis with a recorded 'other' (or discontinuation, whose codes include it): one
    group 'other' of 5 + 3 + 2 = 10 patients, not two groups of the same name (this crashed)."""
    out = cohort_of(make_extract, {"other": 5, "CRPS": 5, "fibromyalgia": 3, "amputation": 2})
    groups, s = summary(out, 5)
    assert {k: g["n"] for k, g in s["groups"].items()} == {"CRPS": 5, "other": 10}
    assert (s["pooled_values"], s["unclassified"]) == (2, 0)
    out = cohort_of(make_extract, {"other": 2, "CRPS": 5, "x": 2})     # 2 + 2 = 4 < 5: unclassified
    _, s = summary(out, 5)
    assert {k: g["n"] for k, g in s["groups"].items()} == {"CRPS": 5}
    assert (s["pooled_values"], s["unclassified"]) == (2, 4)


def test_a_value_written_unclassified_counts_as_empty(make_extract):
    out = cohort_of(make_extract, {"a": 6, "unclassified": 5, "": 1})
    _, s = summary(out, 5)
    assert {k: g["n"] for k, g in s["groups"].items()} == {"a": 6}
    assert (s["pooled_values"], s["unclassified"]) == (0, 6)


def test_other_and_unclassified_are_recognised_in_any_case(make_extract):
    """In free text 'CRPS' and 'crps' stay two values, but 'Other' is other and 'Unclassified' unclassified."""
    out = cohort_of(make_extract, {"Other": 3, "x": 3, "CRPS": 5, "Unclassified": 2})
    _, s = summary(out, 5)
    assert {k: g["n"] for k, g in s["groups"].items()} == {"CRPS": 5, "other": 6}
    assert (s["pooled_values"], s["unclassified"]) == (2, 2)


def test_min_group_size_one_switches_pooling_off(make_extract):
    out = cohort_of(make_extract, {"a": 6, "b": 2})
    _, s = summary(out, 1)
    assert {k: g["n"] for k, g in s["groups"].items()} == {"a": 6, "b": 2} and s["pooled_values"] == 0


def test_table1_has_no_column_for_fewer_than_min_group_size_unclassified_patients(make_extract):
    """Contract, section 5: unclassified below min_group_size gets "its count ... but no statistic of it
    (no Table 1 column)". Its count is subgroups.unclassified; the overall column still counts them."""
    out = cohort_of(make_extract, {"a": 6, "b": 5, "": 2})
    groups = assign_groups(out, group_by="clinic", min_group_size=5)
    t = table1(out, groups, min_group_size=5)
    assert list(t.columns) == ["variable", "level", "missing", "overall", "a", "b"]
    assert t.loc[0, ["overall", "a", "b"]].tolist() == ["13", "6", "5"]  # the n row
    assert "p" not in t                                                 # no p-values unless asked
    out = cohort_of(make_extract, {"a": 6, "b": 5, "": 5})              # five unclassified: a column
    t = table1(out, assign_groups(out, group_by="clinic", min_group_size=5), min_group_size=5)
    assert list(t.columns) == ["variable", "level", "missing", "overall", "a", "b", "unclassified"]
    assert t.loc[0, "unclassified"] == "5"


def test_a_category_in_a_column_without_its_values_is_a_count_not_nan():
    """Nobody in column y has a diagnosis: its cells are 0, not tableone's '0 (nan)'."""
    patients = pd.DataFrame({"age": [50, 60, 70, 80], "sex": ["F", "M", "F", "M"],
                             "diagnosis": pd.Series(["a", "b", None, None], dtype="str")})
    t = table1(patients, pd.Series(pd.Categorical(["x", "x", "y", "y"]), name="clinic"))
    rows = t[(t["variable"] == "Diagnosis") & (t["level"] != "(missing)")]
    assert rows["y"].tolist() == ["0", "0"] and rows["x"].tolist() == ["1 (50.0)", "1 (50.0)"]
    # the missing values per column (issue 24): none in x, both of y
    missing = t[(t["variable"] == "Diagnosis") & (t["level"] == "(missing)")]
    assert missing[["overall", "x", "y"]].values.tolist() == [["2", "0", "2"]]


def test_included_vs_excluded_lists_no_pooled_value(make_extract):
    """group_by: diagnosis. Included: a x 6, b x 2, c x 3 (b + c = 5 form 'other'); excluded: zeta and a.
    The comparison of included and excluded patients shows a and other only (zeta, b, c are pooled)."""
    pts, inf = [], []
    for value, size in {"a": 6, "b": 2, "c": 3}.items():
        for i in range(size):
            pts.append(patient(f"{value}{i}", diagnosis=value))
            inf += protocol(f"{value}{i}")
    for pid, value in (("x1", "zeta"), ("x2", "a"), ("x3", "")):
        pts.append(patient(pid, diagnosis=value))
        inf += protocol(pid, n_later=0)                                # test dose only: excluded
    params = load_params(group_by="diagnosis")
    cohort = derive_cohort(make_extract(pts, inf), params)
    out = derive_outcomes(cohort, threshold=50)
    groups = assign_groups(out, group_by="diagnosis", min_group_size=5)
    everyone = carry_groups(cohort, groups, group_by="diagnosis")
    assert everyone.astype(object).fillna("-").tolist() == ["a"] * 6 + ["other"] * 5 + ["other", "a", "-"]
    t = included_vs_excluded(cohort, min_group_size=1, groups=everyone)
    rows = t[t["variable"] == "Diagnosis"]
    assert rows["level"].tolist() == ["a", "other", "unclassified"]
    # a count of 0 is a count: written 0 like any count below min_group_size (reading in docs/data-contract.md)
    assert rows["included"].tolist() == ["6 (54.5)", "5 (45.5)", "0"]
    assert rows["excluded"].tolist() == ["1 (33.3)", "1 (33.3)", "1 (33.3)"]
    for hidden in ("b", "c", "zeta"):
        assert not (t == hidden).any().any()


def test_a_missing_category_is_counted_as_missing_not_as_a_level_none():
    patients = pd.DataFrame({"age": [50, 60, 70, 80], "sex": ["F", "M", "F", "M"],
                             "diagnosis": pd.Series(["a", None, "a", "b"], dtype="str")})
    t = table1(patients, pd.Series(pd.Categorical(["x", "x", "y", "y"]), name="clinic"))
    rows = t[t["variable"] == "Diagnosis"]
    assert rows["level"].tolist() == ["a", "b", "(missing)"] and rows["missing"].tolist() == ["1", "", ""]
    assert rows["overall"].tolist() == ["2 (66.7)", "1 (33.3)", "1"]   # of the 3 with a diagnosis; 1 missing
    assert rows[["x", "y"]].values.tolist()[-1] == ["1", "0"]          # missing per column (issue 24)


def test_table1_cells_of_fewer_than_min_group_size_patients_show_no_statistic():
    """Columns x and y hold 4 patients each (>= 3), but M is 1 in each, and x has one pain duration:
    counts alone, and no median of one patient's value (docs/data-contract.md, 5.5). Nor y's median:
    the overall quartiles beside y's would give x's one value (issue 22). Diagnosis b, held by one
    patient, is printed "other"."""
    patients = pd.DataFrame({"age": [50, 60, 70, 80, 55, 65, 75, 85], "sex": ["F", "M", "F", "F", "F", "F", "F", "M"],
                             "pain_duration_months": [10, None, None, None, 12, 14, 16, 18],
                             "diagnosis": pd.Series(["a", "a", "a", "a", "b", "a", "a", "a"], dtype="str")})
    t = table1(patients, pd.Series(pd.Categorical(["x"] * 4 + ["y"] * 4), name="clinic"), min_group_size=3)
    cells = t.set_index(["variable", "level"])[["overall", "x", "y"]]
    assert cells.loc[("Sex", "M")].tolist() == ["2", "1", "1"]
    assert cells.loc[("Sex", "F")].tolist() == ["6 (75.0)", "3 (75.0)", "3 (75.0)"]
    assert cells.loc[("Diagnosis", "other")].tolist() == ["1", "0", "1"]   # 0 is a count too (issue 24)
    assert not (t == "b").any().any()
    assert cells.loc[("Pain duration, months", "")].tolist() == ["14.0 [12.0 to 16.0]", "", ""]


def test_no_responder_curve_for_a_group_with_fewer_follow_ups_than_min_group_size(make_extract):
    out = cohort_of(make_extract, {"q": 5, "a": 6}, favorable={"q": 1})
    out.loc[out["clinic"].eq("q").to_numpy() & (out.index > out.index[0]), "followup_nrs"] = float("nan")
    out = derive_outcomes(out.drop(columns=["reduction_pct", "has_followup", "favorable", "in_denominator"]),
                          threshold=50)
    groups = assign_groups(out, group_by="clinic", min_group_size=5)
    # q: 5 patients, 1 follow-up: no curve; nor a's, as overall minus a would be q's (issue 22)
    assert set(responder_curve(out, groups, min_group_size=5)["group"]) == {"overall"}
    assert set(responder_curve(out, groups)["group"]) == {"overall", "a", "q"}


def test_median_reduction_of_a_group_rests_on_min_group_size_patients(make_extract):
    """Group q: 5 patients, 4 without follow-up NRS: its median reduction would be one patient's own."""
    out = cohort_of(make_extract, {"q": 5, "a": 6}, favorable={"q": 1})   # q's first: NRS 8 -> 2
    out.loc[out["clinic"].eq("q").to_numpy() & (out.index > out.index[0]), "followup_nrs"] = float("nan")
    out = derive_outcomes(out.drop(columns=["reduction_pct", "has_followup", "favorable", "in_denominator"]),
                          threshold=50)
    groups = assign_groups(out, group_by="clinic", min_group_size=5)
    table = subgroup_table(out, groups, min_group_size=5).set_index("group")
    assert table.loc["q", "n_followup"] == 1 and pd.isna(table.loc["q", "median_reduction_pct"])
    # nor a's: beside the overall responder curve (7 patients), a's quartiles would narrow q's value down, so a's
    # curve and its quartiles are withheld together (audit 2026-12-03)
    assert pd.isna(table.loc["a", "median_reduction_pct"]) and table.loc["a", "n_followup"] == 6
    pooling_off = subgroup_table(out, groups).set_index("group")
    assert pooling_off.loc["q", "median_reduction_pct"] == pytest.approx(75.0)     # NRS 8 -> 2
    assert pooling_off.loc["a", "median_reduction_pct"] == pytest.approx(12.5)     # NRS 8 -> 7


def test_a_group_whose_curve_is_withheld_for_one_unclassified_patient_shows_no_quartiles_either(make_extract):
    """Audit 2026-12-03: groups a (6) and b (5, every one with a follow-up NRS) and 1 unclassified patient. b's
    responder curve was withheld with the unclassified one, but subgroups.csv still gave b's median and quartiles:
    with 5 values they are b's 2nd, 3rd and 4th, and the overall curve minus a's gave b and the unclassified patient
    together, so the unclassified patient's reduction could be read off. The quartiles now follow the curves."""
    out = cohort_of(make_extract, {"a": 6, "b": 5, "": 1}, favorable={"a": 3, "b": 2, "": 1})
    groups = assign_groups(out, group_by="clinic", min_group_size=5)
    table = subgroup_table(out, groups, min_group_size=5).set_index("group")
    curves = set(responder_curve(out, groups, min_group_size=5)["group"]) - {"overall"}
    assert curves == {"a"} and set(table.index[table["median_reduction_pct"].notna()]) == curves
    assert table.loc["b", ["reduction_q1", "median_reduction_pct", "reduction_q3"]].isna().all()
    assert table.loc["a", "median_reduction_pct"] == pytest.approx(43.75)         # 3 at 12.5 %, 3 at 75 %: (12.5 + 75) / 2
    assert table.loc["b", ["n", "favorable", "n_followup"]].tolist() == [5, 2, 5]   # counts stay


def test_reference_group_and_effect_sizes(make_extract):
    # a: 8 of 10 favorable; b: 3 of 6. Largest group a is the reference.
    out = cohort_of(make_extract, {"a": 10, "b": 6}, favorable={"a": 8, "b": 3})
    _, s = summary(out, 5)
    assert s["reference"] == "a" and "vs_reference" not in s["groups"]["a"]
    v = s["groups"]["b"]["vs_reference"]
    # risk difference 3/6 - 8/10 = -0.3; Newcombe (method 10) from the two Wilson intervals:
    # R: prop.test(3, 6, correct=FALSE)$conf.int = 0.1876163 0.8123837
    #    prop.test(8, 10, correct=FALSE)$conf.int = 0.4901625 0.9433178
    # low = -0.3 - sqrt((0.5 - 0.1876163)^2 + (0.9433178 - 0.8)^2) = -0.6437
    assert v["risk_difference"] == pytest.approx(-0.3)
    assert v["rd_ci_low"] == pytest.approx(-0.6437, abs=1e-4)
    # R: f <- fisher.test(matrix(c(3, 8, 3, 2), 2)); f$estimate 0.2754472; f$p.value 0.2994505
    assert v["odds_ratio"] == pytest.approx(0.2754472, rel=1e-3)
    assert v["fisher_p"] == pytest.approx(0.2994505, rel=1e-6)
    _, s = summary(out, 5, reference="b")
    assert s["reference"] == "b" and s["groups"]["a"]["vs_reference"]["risk_difference"] == pytest.approx(0.3)
    with pytest.raises(ParameterError, match="reference_group: 'c' is not one of the groups"):
        summary(out, 5, reference="c")
    assert summary(out, 5, reference="B")[1]["reference"] == "b"          # written in another case


def test_equally_large_groups_take_the_first_name_alphabetically_ignoring_case(make_extract):
    """Reading i: 'crps' comes before 'Fibromyalgia' as a reader sorts (Python's sort would put 'F' first)."""
    out = cohort_of(make_extract, {"Fibromyalgia": 5, "crps": 5, "amputation": 4}, favorable={"crps": 2})
    _, s = summary(out, 1)
    assert s["reference"] == "crps"


# --- issue 22: no statistic of fewer than min_group_size patients by subtraction ---------------------------

def test_responder_curves_minus_the_group_curves_never_give_two_unclassified_patients(make_extract):
    """As the default run: groups a (6) and b (5) and 2 unclassified patients. Before, overall minus
    a minus b was the 2 unclassified patients' curve; now b is withheld too (7 patients left over)."""
    out = cohort_of(make_extract, {"a": 6, "b": 5, "": 2}, favorable={"a": 3, "b": 2, "": 1})
    groups = assign_groups(out, group_by="clinic", min_group_size=5)
    curve = responder_curve(out, groups, min_group_size=5)
    assert set(curve["group"]) == {"overall", "a"}
    at = curve.set_index(["group", "threshold_pct"])
    left = at.loc["overall"] - at.loc["a"]                               # what subtraction can give
    assert set(left["n"]) == {7}                                        # b and the unclassified: 5 + 2
    assert at.loc[("overall", 50), "responders"] == 6                    # the overall curve stays


def sex_cohort(make_extract, women: int, men: int):
    pts, inf = [], []
    for i in range(women + men):
        pid = f"p{i}"
        pts.append(patient(pid, sex="F" if i < women else "M", age=str(40 + i),
                           followup="2" if i % 2 else "6"))
        inf += protocol(pid)
    return derive_outcomes(derive_cohort(make_extract(pts, inf), load_params()), threshold=50)


def test_group_by_sex_with_four_men_shows_no_curve_or_column_of_the_women(make_extract):
    """group_by: sex, 6 women and 4 men: M goes to unclassified, and overall minus F would be the
    men's reductions (curve) and ages (Table 1): F keeps its count only."""
    out = sex_cohort(make_extract, 6, 4)
    groups = assign_groups(out, group_by="sex", min_group_size=5)
    assert list(groups.cat.categories) == ["F"] and groups.isna().sum() == 4
    assert set(responder_curve(out, groups, min_group_size=5)["group"]) == {"overall"}
    made = table1(out, groups, min_group_size=5)
    t = made.set_index(["variable", "level"])
    assert t.loc[("n", ""), ["overall", "F"]].tolist() == ["10", "6"]
    assert t.loc[("Age, years", ""), "overall"] == "44.5 [42.2 to 46.8]"   # ages 40..49: median 44.5, Q1 42.25
    assert t.loc[("Age, years", ""), "F"] == ""
    note = made["level"].iloc[-1]
    assert made["variable"].iloc[-1] == "Not described"
    assert note.startswith("F (n = 6), unclassified (n = 4): count only (fewer than 5 patients, or left out")


def test_table1_withholds_the_smallest_group_beside_two_unclassified(make_extract):
    """Before, the overall column minus a and b described the 2 unclassified patients."""
    out = cohort_of(make_extract, {"a": 6, "b": 5, "": 2})
    t = table1(out, assign_groups(out, group_by="clinic", min_group_size=5), min_group_size=5)
    assert list(t.columns) == ["variable", "level", "missing", "overall", "a", "b"]
    assert t["b"].tolist()[0] == "5" and set(t["b"].tolist()[1:]) == {""}
    assert t.loc[t["variable"] == "Age, years", ["overall", "a"]].iloc[0].tolist() == ["50.0 [50.0 to 50.0]"] * 2
    assert t["variable"].tolist()[-1] == "Not described"
    assert t["level"].tolist()[-1].startswith("b (n = 5), unclassified (n = 2): count only")


def test_included_vs_excluded_with_one_excluded_patient_hides_the_overall_column(make_extract):
    """Overall Q3 beside included Q3 gave the one excluded patient's pain duration (issue 22)."""
    pts, inf = [], []
    for i in range(6):
        pts.append(patient(f"i{i}", pain_duration_months=str(10 * (i + 1))))
        inf += protocol(f"i{i}")
    pts.append(patient("x", pain_duration_months="77"))
    inf += protocol("x", n_later=0)                                       # test dose only: excluded
    cohort = derive_cohort(make_extract(pts, inf), load_params())
    t = included_vs_excluded(cohort, min_group_size=5).set_index(["variable", "level"])
    assert t.loc[("n", ""), ["overall", "included", "excluded"]].tolist() == ["7", "6", "1"]
    assert t.loc[("Pain duration, months", ""), "included"] == "35.0 [22.5 to 47.5]"   # 10..60
    assert t.loc[("Pain duration, months", ""), ["overall", "excluded", "missing"]].tolist() == ["", "", ""]
    assert not t["overall"].drop(("n", "")).str.contains(r"\d").any()
    assert "77" not in t.to_csv()


def test_a_diagnosis_held_by_one_patient_is_never_printed(make_extract):
    pts, inf = [], []
    for i in range(7):
        pts.append(patient(f"i{i}", diagnosis="CRPS - Jan Peeters" if i == 0 else "fibromyalgia"))
        inf += protocol(f"i{i}", n_later=0 if i == 6 else 2)
    cohort = derive_cohort(make_extract(pts, inf), load_params())
    out = derive_outcomes(cohort, threshold=50)
    groups = assign_groups(out, group_by="pain_mechanism", min_group_size=5)
    for t in (table1(out, groups, min_group_size=5), included_vs_excluded(cohort, min_group_size=5)):
        assert "Peeters" not in t.to_csv()
        assert t.loc[t["variable"] == "Diagnosis", "level"].tolist() == ["fibromyalgia", "other"]


def test_subgroup_median_reduction_comes_with_its_n_and_quartiles_and_kruskal_wallis_with_h_df_n(make_extract):
    """Issue 24. Group a: 6 patients, 2 favorable (8 -> 2: 75 %), 4 at 8 -> 7 (12.5 %); b: 5 patients, all
    12.5 %. a's reductions 12.5 x 4, 75 x 2: median 12.5, quartiles (type 7) 12.5 and 59.375.
    With min_group_size 6, b (5 values) gets no median and no quartiles, nor does a: beside the overall responder
    curve (11 values), a's would narrow b's down (ketanb.subgroups.reduction_disclosure, audit 2026-12-03)."""
    out = cohort_of(make_extract, {"a": 6, "b": 5}, favorable={"a": 2})
    groups, s = summary(out, 1)
    table = subgroup_table(out, groups).set_index("group")
    assert table.loc["a", ["n_followup", "median_reduction_pct", "reduction_q1", "reduction_q3"]].tolist() == [
        6, 12.5, 12.5, 59.375]
    assert table.loc["b", ["n_followup", "median_reduction_pct", "reduction_q1", "reduction_q3"]].tolist() == [
        5, 12.5, 12.5, 12.5]
    hidden = subgroup_table(out, groups, min_group_size=6).set_index("group")
    assert hidden.loc[["a", "b"], ["median_reduction_pct", "reduction_q1", "reduction_q3"]].isna().all().all()
    assert hidden["n_followup"].tolist() == [6, 5]
    # H, df = groups - 1, n = patients with a follow-up NRS: scipy.stats.kruskal([12.5]*4 + [75]*2, [12.5]*5)
    from scipy.stats import kruskal

    assert (s["kruskal_wallis_df"], s["kruskal_wallis_n"]) == (1, 11)
    assert s["kruskal_wallis_h"] == pytest.approx(kruskal([12.5] * 4 + [75] * 2, [12.5] * 5).statistic, abs=1e-12)
    from ketanb.presentation.tables import kruskal_wallis_text, readable

    assert kruskal_wallis_text(s).startswith(f"Kruskal-Wallis H = {s['kruskal_wallis_h']:.2f}, df = 1, n = 11, p = ")
    shown = readable(table.reset_index())
    assert shown["reduction in pain, median [Q1 to Q3]"].tolist() == ["12.5 % [12.5 % to 59.4 %]",
                                                                      "12.5 % [12.5 % to 12.5 %]"]
    assert shown["n with follow-up NRS"].tolist() == [6, 5]


def test_included_vs_excluded_has_the_subgroup_row_and_table1_says_what_overall_holds(make_extract):
    """Issue 24: group_by (here clinic, not a Table 1 variable) is a row of the comparison of included and
    excluded patients, as the groups of stage 03 (carry_groups: z, held by excluded patients only, is other
    or unclassified, never listed); the overall column says which patients it describes."""
    pts, inf = [], []
    for value, size in {"a": 6, "b": 5}.items():
        for i in range(size):
            pts.append(patient(f"{value}{i}", clinic=value))
            inf += protocol(f"{value}{i}")
    for pid, value in (("x1", "a"), ("x2", "z"), ("x3", "b")):
        pts.append(patient(pid, clinic=value))
        inf += protocol(pid, n_later=0)                                # test dose only: excluded
    cohort = derive_cohort(make_extract(pts, inf), load_params(group_by="clinic"))
    out = derive_outcomes(cohort, threshold=50)
    groups = assign_groups(out, group_by="clinic", min_group_size=1)
    t = included_vs_excluded(cohort, min_group_size=1, groups=carry_groups(cohort, groups, group_by="clinic"))
    rows = t[t["variable"] == "Clinic (subgroup)"]
    assert rows["level"].tolist() == ["a", "b", "unclassified"]
    assert rows["included"].tolist() == ["6 (54.5)", "5 (45.5)", "0"]
    assert rows["excluded"].tolist() == ["1 (33.3)", "1 (33.3)", "1 (33.3)"]
    note = t.loc[t["variable"] == "Overall column", "level"].tolist()
    assert len(note) == 1 and note[0].startswith("all 14 treated patients (treated means every patient of the extract")
    t1 = table1(out, groups)
    assert t1.loc[t1["variable"] == "Overall column", "level"].tolist() == ["all 11 included patients"]


def test_table1_of_a_one_patient_column_prints_no_numpy_warning():
    # issue 23: `make test` printed numpy's "Degrees of freedom <= 0" RuntimeWarning from tableone's
    # standard deviation of a variable that one patient of a column has
    import warnings
    from ketanb.baseline import describe
    frame = pd.DataFrame({"age": [50.0, 60.0, 70.0, 55.0, 65.0],
                          "pain_duration_months": [10.0, None, None, 12.0, 14.0]})
    groups = pd.Series(pd.Categorical(["a", "a", "a", "b", "b"]), name="grp")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        table = describe(frame, groups, min_group_size=1)
    assert table.loc[table["variable"] == "n", "a"].item() == "3"


def test_the_stage_in_one_call(make_extract):
    """subgroups.run: the groups, both tables of patients, the outcome by group and the section, with the
    titles the notebook shows. a: 8 of 10 favorable, b: 3 of 6, c (2) pooled into nothing (other of 2 < 5)."""
    import ketanb.subgroups as stage

    out = cohort_of(make_extract, {"a": 10, "b": 6, "c": 2}, favorable={"a": 8, "b": 3})
    params = load_params(group_by="clinic", reference_group="b")
    got = stage.run(out, out, params)
    assert got.table[["group", "n", "favorable"]].values.tolist() == [["a", 10, 8], ["b", 6, 3]]
    assert got.summary["reference"] == "b" and got.summary["unclassified"] == 2
    assert got.summary["groups"]["a"]["vs_reference"]["risk_difference"] == pytest.approx(0.3)
    # results/subgroups.csv: the table with each group against the reference b (8/10 - 3/6 = 0.3; b itself: none)
    assert got.effects[["group", "reference", "n", "favorable"]].values.tolist() == [["a", False, 10, 8],
                                                                                   ["b", True, 6, 3]]
    assert got.effects["risk_difference"].iloc[0] == pytest.approx(0.3) and got.effects["risk_difference"].isna().iloc[1]
    # Table 1: overall 18 = a + b + 2 unclassified; b is described by its count only, since overall minus a
    # minus b would describe the 2 unclassified patients (ketanb.disclosure.disclose)
    assert got.table1.iloc[0, 3:].tolist() == ["18", "10", "6"] and got.table1.iloc[1, 3:].tolist() == [
        "50.0 [50.0 to 50.0]", "50.0 [50.0 to 50.0]", ""]
    assert got.included_vs_excluded.columns.tolist()[3:] == ["overall", "included"]
    assert got.titles["table1"] == ("Table 1: included patients; median [Q1 to Q3] or n (%); fewer than 5 "
                                    "patients: a count alone")
    assert got.titles["included_vs_excluded"].startswith("Included and excluded patients; median [Q1 to Q3]")
    quick = stage.run(out, out, params, tables=False)                      # what analysis.analyse asks for
    assert quick.summary == got.summary and quick.table1 is None


def test_kruskal_wallis_compares_only_the_groups_whose_reductions_are_shown(make_extract):
    """Audit part 2 (2026-12-03): the test ran over every group, also one whose curve and quartiles are withheld
    with a single unclassified patient, and its H, with the overall responder curve, gave back that patient's
    reduction. Groups a (6), b (5), c (7) and 1 unclassified patient: b is withheld with it, so the test compares a
    (3 at 75 %, 3 at 12.5 %) and c (4 at 75 %, 3 at 12.5 %): scipy.stats.kruskal gives H = 0.0612244898,
    p = 0.8045709480."""
    from ketanb.presentation.tables import kruskal_wallis_text

    out = cohort_of(make_extract, {"a": 6, "b": 5, "c": 7, "": 1}, favorable={"a": 3, "b": 2, "c": 4, "": 1})
    _, s = summary(out, 5)
    assert s["kruskal_wallis_groups"] == ["a", "c"] and (s["kruskal_wallis_n"], s["kruskal_wallis_df"]) == (13, 1)
    assert s["kruskal_wallis_h"] == pytest.approx(0.0612244898, abs=1e-9)
    assert s["kruskal_wallis_p"] == pytest.approx(0.8045709480, abs=1e-9)
    assert s["fisher_freeman_halton_p"] is not None and s["groups"]["b"]["favorable"] == 2   # counts: every group
    assert kruskal_wallis_text(s).endswith("p = 0.805 (over 2 of the 3 groups: a group whose responder curve is "
                                           "withheld is left out)")
    _, everyone = summary(out, 1)                                          # pooling off: all three
    assert everyone["kruskal_wallis_groups"] == ["a", "b", "c"] and "over" not in kruskal_wallis_text(everyone)


def test_no_kruskal_wallis_on_fewer_follow_up_scores_than_min_group_size(make_extract):
    """Audit part 2: with 2 follow-up scores in each of two groups of 5, the curves and medians were withheld but
    results.json gave H = 2.40, df = 1, n = 4: both reductions of one group above both of the other's."""
    out = cohort_of(make_extract, {"a": 5, "b": 5}, favorable={"a": 2})
    late = out.groupby("clinic").cumcount().to_numpy() >= 2                  # all but each group's first two
    out.loc[late, "followup_nrs"] = float("nan")
    out = derive_outcomes(out.drop(columns=["reduction_pct", "has_followup", "favorable", "in_denominator"]),
                          threshold=50)
    _, s = summary(out, 5)
    assert s["kruskal_wallis_groups"] == [] and s["kruskal_wallis_p"] is None and s["kruskal_wallis_h"] is None
    assert s["kruskal_wallis_n"] == 0
    from ketanb.presentation.tables import kruskal_wallis_text

    assert kruskal_wallis_text(s).endswith("(every group's responder curve is withheld, so no group's reductions "
                                           "are compared)")


def test_table1_p_values_leave_out_the_columns_withheld(make_extract):
    """Audit part 2: Table 1's p of a two-level variable was computed over every group, the column withheld with
    the unclassified patients too, and only one count of that column fitted the published p. Groups a (4 F of 6),
    b (5 F of 5), c (3 F of 7) and 2 unclassified men: b is withheld, and Sex is tested over a and c alone:
    R's fisher.test(matrix(c(4, 2, 3, 4), 2)) p = 0.5921 (scipy.stats.fisher_exact 0.592074592)."""
    pts, inf = [], []
    for value, sexes in {"a": "FFFFMM", "b": "FFFFF", "c": "FFFMMMM", "": "MM"}.items():
        for i, sex in enumerate(sexes):
            pts.append(patient(f"{value or 'none'}{i}", sex=sex, clinic=value))
            inf += protocol(f"{value or 'none'}{i}")
    out = derive_outcomes(derive_cohort(make_extract(pts, inf), load_params()), threshold=50)
    groups = assign_groups(out, group_by="clinic", min_group_size=5)
    t = table1(out, groups, min_group_size=5, p_values=True).set_index(["variable", "level"])
    assert t.loc[("Sex", "F"), "b"] == "" and t.loc[("Sex", "F"), "p"] == pytest.approx(0.592074592, abs=1e-8)
    assert any("p compares the columns shown only" in level for level in t.loc["Not described"].index)


def test_one_diagnosis_written_in_two_unicode_forms_is_one_group(make_extract):
    """Review 2026-12-03: 'Névralgie' with é as one character (NFC, as Windows writes it) and as e plus a combining
    accent (NFD, as macOS writes it) print the same but were two values: here two groups of 3, both pooled away.
    Free text is read in the composed form, so they are one group of 6."""
    forms = ["N\u00e9vralgie"] * 3 + ["Ne\u0301vralgie"] * 3 + ["CRPS type I"] * 5
    pts = [patient(f"p{i}", diagnosis=text) for i, text in enumerate(forms)]
    inf = [row for i in range(len(forms)) for row in protocol(f"p{i}")]
    out = derive_outcomes(derive_cohort(make_extract(pts, inf), load_params()), threshold=50)
    groups = assign_groups(out, group_by="diagnosis", min_group_size=5)
    assert groups.value_counts().to_dict() == {"CRPS type I": 5, "N\u00e9vralgie": 6}
