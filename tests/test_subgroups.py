"""Small groups (data contract, section 5) and effect sizes against the reference group, by hand."""
import pandas as pd
import pytest

from ketanb import ParameterError, load_params
from ketanb.baseline import table1
from ketanb.cleaning import derive_cohort
from ketanb.outcomes import derive_outcomes
from ketanb.subgroups import assign_groups, subgroup_summary

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


def test_table1_column_of_a_small_group_shows_its_count_only(make_extract):
    out = cohort_of(make_extract, {"a": 6, "b": 5, "": 2})
    groups = assign_groups(out, group_by="clinic", min_group_size=5)
    t = table1(out, groups, min_group_size=5)
    assert list(t.columns) == ["variable", "level", "missing", "overall", "a", "b", "unclassified"]
    assert t.loc[0, "unclassified"] == "2"                              # the n row
    assert (t.loc[1:, "unclassified"] == "").all()                      # no age, sex, NRS of those two
    assert "p" not in t                                                 # no p-values unless asked


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
