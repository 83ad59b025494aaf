"""The small-group rule against subtraction (contract section 5, "No subtraction either"), by hand."""
import warnings

import pandas as pd

from ketanb.disclosure import disclose, plain_warnings, pool_rare_text, pool_small_groups


def test_the_default_run_loses_its_smallest_group_beside_two_unclassified():
    # overall (45) minus the groups 20 + 11 + 12 would be the 2 unclassified patients: the smallest
    # group, nociceptive (11), is withheld with them, so that what can be subtracted holds 13 >= 5
    got = disclose({"neuropathic": 20, "nociceptive": 11, "nociplastic": 12, "unclassified": 2}, 5)
    assert got.parts == ("neuropathic", "nociplastic") and got.whole
    assert got.withheld == ("nociceptive", "unclassified")


def test_nothing_to_subtract_keeps_every_part():
    got = disclose({"a": 6, "b": 5}, 5)
    assert got.parts == ("a", "b") and got.whole and got.withheld == ()
    got = disclose({"a": 6, "b": 0}, 5)                   # an empty part: nothing to give away
    assert got.parts == ("a",) and got.whole


def test_four_men_leave_the_whole_alone():
    # group_by: sex with 41 women and 4 men: overall minus F would be the men's
    got = disclose({"F": 41, "M": 4}, 5)
    assert got.parts == () and got.whole


def test_two_small_parts_together_are_enough():
    got = disclose({"a": 10, "b": 3, "c": 2}, 5)          # b + c = 5: a may stay beside the whole
    assert got.parts == ("a",) and got.whole


def test_withholding_the_whole_instead():
    got = disclose({"included": 45, "excluded": 1}, 5, keep_whole=False)
    assert got.parts == ("included",) and not got.whole
    assert disclose({"included": 45, "excluded": 5}, 5, keep_whole=False).whole


def test_a_population_smaller_than_min_group_size_gets_counts_only():
    got = disclose({"included": 3}, 5)
    assert got.parts == () and not got.whole


def test_a_part_withheld_elsewhere_counts_as_withheld():
    # the pain durations of a table: a withheld column (5 values) already holds enough
    got = disclose({"a": 9, "b": 5, "c": 1}, 5, withheld=["b"])
    assert got.parts == ("a",) and got.whole
    got = disclose({"a": 9, "b": 6, "c": 2}, 5, withheld=["c"])    # ties broken towards the last: b, not a
    assert got.parts == ("a",)


def test_small_groups_pool_into_other_only_when_other_reaches_min_group_size():
    """Contract section 5, rare values pooled, with m = 5 (worked by hand). 3 + 2 patients pool into a group
    'other' of 5, which may be shown; the value written 'Other' joins it whatever its size. 3 patients alone
    make an 'other' of 3: no group, those patients are unclassified. A value held only by patients outside
    the count (0) is not counted as pooled, and it joins 'other' without adding to it."""
    sizes = {"neuropathic": 20, "nociceptive": 3, "nociplastic": 2}
    assert pool_small_groups(sizes, 5) == (["neuropathic"], ["nociceptive", "nociplastic"], True)
    assert pool_small_groups({"neuropathic": 20, "nociceptive": 3}, 5) == (["neuropathic"], ["nociceptive"], False)
    assert pool_small_groups({"a": 5, "Other": 7, "b": 0}, 5) == (["a"], [], True)     # written other: joins
    assert pool_small_groups({"a": 5, "b": 4, "c": 0}, 5) == (["a"], ["b"], False)     # 4 + 0 < 5
    assert pool_small_groups({"a": 5, "b": 4}, 1) == (["a", "b"], [], False)          # min_group_size 1: none pooled
    assert pool_small_groups({}, 5) == ([], [], False)


def test_free_text_of_few_patients_is_other():
    values = pd.Series(["CRPS - Jan Peeters RRN 85.07.12-123.45", "fibromyalgia", "fibromyalgia", None])
    before = values.copy()
    got = pool_rare_text(values, 2)
    assert got[:3].tolist() == ["other", "fibromyalgia", "fibromyalgia"] and pd.isna(got[3])
    pd.testing.assert_series_equal(values, before)                 # the input is left alone


def test_warnings_name_no_folder():
    old = warnings.formatwarning
    try:
        plain_warnings()
        text = warnings.formatwarning("Glyph missing, see /home/clinic/ketanb/plots.py", UserWarning,
                                      "/home/clinic/ketanb/plots.py", 115, "fig.savefig(png)")
    finally:
        warnings.formatwarning = old
    assert text == "plots.py:115: UserWarning: Glyph missing, see plots.py\n"


def test_the_result_sentence_says_fewer_than_min_group_size_only_when_the_rule_withheld_it():
    """Issue 25: tables.outcome_text decides through disclose, not by reading a missing median."""
    from ketanb import load_params
    from ketanb.presentation import tables

    params = load_params()
    change = {"n": 3, "median_change": None}
    summary = {"n": 10, "favorable": 4, "proportion": 0.4, "ci_low": 0.17, "ci_high": 0.69, "missing_followup": 0,
               "nrs_change": change}
    assert ("The change in pain of the 3 patients with both NRS values is not shown (fewer than 5: it would be "
            "their own scores).") in tables.outcome_text(summary, params).data
    summary["nrs_change"] = {**change, "n": 6}                 # no median for another reason: not "fewer than 5"
    assert "fewer than" not in tables.outcome_text(summary, params).data
