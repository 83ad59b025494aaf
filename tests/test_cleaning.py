"""Inclusion rules and their precedence; validation messages."""
import pandas as pd
import pytest

from ketanb import InputError, load_params
from ketanb.cleaning import derive_cohort, flow_counts

from ketanb.input.validate import validate

from .conftest import patient, protocol, raw_extract

P = load_params()


def reasons(extract):
    got = derive_cohort(extract, P).set_index("patient_id")["exclusion_reason"].to_dict()
    return {k: v if isinstance(v, str) else None for k, v in got.items()}  # included: missing reason


def test_each_reason_and_precedence(make_extract):
    inf = protocol("ok") + protocol("early", start="2014-12-31") + protocol("late", start="2020-01-01")
    inf += [dict(r, formulation="esketamine") for r in protocol("eske")]
    inf += [dict(r, dose_mg="150") if r["dose_mg"] == "75" else r for r in protocol("notest")]
    inf += [dict(r, dose_mg="100") if r["date"] == "2016-03-31" else r for r in protocol("offdose")]
    inf += protocol("only", n_later=0)
    inf += protocol("nobase") + protocol("zerobase")
    # early AND esketamine AND no test dose: the first reason wins
    inf += [dict(r, formulation="esketamine", dose_mg="150") for r in protocol("multi", start="2014-01-01")]
    pts = [patient(p) for p in ["ok", "early", "late", "eske", "notest", "offdose", "only", "multi"]]
    pts += [patient("nobase", baseline=""), patient("zerobase", baseline="0")]
    got = reasons(make_extract(pts, inf))
    assert got == {"ok": None, "early": "outside_study_period", "late": "outside_study_period",
                   "eske": "not_racemic", "notest": "no_test_dose", "offdose": "off_protocol_dose",
                   "only": "test_dose_only", "multi": "outside_study_period",
                   "nobase": "no_baseline_nrs", "zerobase": "no_baseline_nrs"}


def test_infusions_out_of_date_order(make_extract):
    rows = protocol("a")
    got = reasons(make_extract([patient("a")], rows[::-1]))
    assert got == {"a": None}


def test_first_infusion_is_each_patients_earliest_date_in_any_row_order_and_unit(make_extract):
    """The earliest date by hand: a 2016-03-01 to 2016-04-30 (rows reversed), b 2015-06-01 to 2015-07-31, rows
    of a and b interleaved; as groupby().min() gives it, in microseconds (as read) and in nanoseconds."""
    a, b = protocol("a")[::-1], protocol("b", start="2015-06-01")
    extract = make_extract([patient("a"), patient("b")], [row for pair in zip(a, b) for row in pair])
    expected = pd.to_datetime(["2016-03-01", "2015-06-01"]).to_numpy()
    for unit in ("us", "ns"):
        extract.infusions["date"] = extract.infusions["date"].astype(f"datetime64[{unit}]")
        first = derive_cohort(extract, P)["first_infusion"]
        assert first.dtype == f"datetime64[{unit}]"
        assert (first.to_numpy() == expected).all()
        assert (first.to_numpy() == extract.infusions.groupby("patient")["date"].min().to_numpy()).all()


def test_a_patient_without_infusions_has_no_first_date(make_extract):
    """Validation refuses such a patient; derive_cohort on a frame built otherwise still gives NaT and
    test_dose_only (fewer than two infusions), not a date after any study period."""
    extract = make_extract([patient("a"), patient("b")], protocol("a") + protocol("b"))
    extract.infusions = extract.infusions[extract.infusions["patient_id"] == "a"]
    cohort = derive_cohort(extract, P).set_index("patient_id")
    assert pd.isna(cohort.loc["b", "first_infusion"]) and cohort.loc["b", "exclusion_reason"] == "test_dose_only"
    assert cohort.loc["a", "first_infusion"] == pd.Timestamp("2016-03-01")


def test_flow_adds_up(make_extract):
    cohort = derive_cohort(make_extract([patient("a"), patient("b")], protocol("a") + protocol("b", n_later=0)), P)
    assert flow_counts(cohort) == {"treated": 2, "included": 1, "excluded": {
        "outside_study_period": 0, "not_racemic": 0, "no_test_dose": 0, "off_protocol_dose": 0,
        "test_dose_only": 1, "no_baseline_nrs": 0}}


def test_codes_case_and_spaces(make_extract):
    e = make_extract([patient("a", mechanism=" Neuropathic ", discontinuation="LACK_OF_EFFECT")],
                     [dict(r, formulation=" Racemic ") for r in protocol("a")])
    assert e.patients.loc[0, "pain_mechanism"] == "neuropathic"
    assert e.patients.loc[0, "discontinuation"] == "lack_of_effect"
    assert set(e.infusions["formulation"]) == {"racemic"}


def test_all_problems_reported_with_row_column_value():
    raw = raw_extract([patient("a", age="17"), patient("a", mechanism="visceral")], protocol("a") + protocol("zz"))
    with pytest.raises(InputError) as info:
        validate(raw)
    text = str(info.value)
    assert "patients.csv, row 2, column age: value '17'" in text
    assert "patients.csv, row 3, column pain_mechanism: value 'visceral'" in text
    raw = raw_extract([patient("a"), patient("a")], protocol("a") + protocol("zz"))
    with pytest.raises(InputError) as info:
        validate(raw)
    text = str(info.value)
    assert "patients.csv, row 3, column patient_id: value 'a'" in text
    assert "infusions.csv, row 5, column patient_id: value 'zz'" in text


def test_derive_cohort_leaves_the_extract_as_it_was(make_extract):
    extract = make_extract([patient("a"), patient("b", baseline="")], protocol("a") + protocol("b"))
    before = extract.patients.copy(deep=True)
    cohort = derive_cohort(extract, P)
    assert cohort["exclusion_reason"].isna().tolist() == [True, False]
    cohort.loc[0, "age"] = 99
    pd.testing.assert_frame_equal(extract.patients, before)


def test_derive_cohort_leaves_the_extract_as_it_is(make_extract):
    extract = make_extract([patient("a"), patient("b", baseline="")], protocol("a") + protocol("b"))
    before = extract.patients.copy(), extract.infusions.copy()
    cohort = derive_cohort(extract, P)
    cohort.loc[0, "baseline_nrs"] = 0                                   # the cohort's columns are its own
    pd.testing.assert_frame_equal(extract.patients, before[0])
    pd.testing.assert_frame_equal(extract.infusions, before[1])
    assert cohort["exclusion_reason"].tolist()[1] == "no_baseline_nrs" and cohort["included"].tolist() == [True, False]
