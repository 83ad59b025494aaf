"""Side-effect counts per patient and per occurrence, worked out by hand."""
from ketanb import load_params
from ketanb.cleaning import derive_cohort
from ketanb.side_effects import side_effect_summary

from .conftest import patient, protocol


def ae(pid, date, event, severity="mild", serious="no"):
    return {"patient_id": pid, "date": date, "event": event, "severity": severity,
            "treatment": "", "serious": serious}


def test_patients_and_occurrences_in_both_populations(make_extract):
    # a and b follow the protocol; c had esketamine (excluded: not_racemic); d had no event
    infusions = protocol("a") + protocol("b") + protocol("d")
    infusions += [dict(r, formulation="esketamine") for r in protocol("c")]
    events = [ae("a", "2016-03-01", "nausea"), ae("a", "2016-03-31", "nausea", "moderate"),
              ae("a", "2016-03-31", "dizziness"), ae("b", "2016-04-30", "nausea"),
              ae("c", "2016-03-01", "nausea", "severe", serious="yes")]
    extract = make_extract([patient(p) for p in "abcd"], infusions, events)
    cohort = derive_cohort(extract, load_params())
    got = side_effect_summary(cohort, extract.infusions, extract.adverse_events)
    assert got["treated"] == {
        "patients": 4, "infusions": 12, "patients_with_any": 3, "serious": 1,
        "events": {"nausea": {"patients": 3, "occurrences": 4}, "dizziness": {"patients": 1, "occurrences": 1}},
        "severity": {"mild": 3, "moderate": 1, "severe": 1}}
    assert got["included"] == {
        "patients": 3, "infusions": 9, "patients_with_any": 2, "serious": 0,
        "events": {"nausea": {"patients": 2, "occurrences": 3}, "dizziness": {"patients": 1, "occurrences": 1}},
        "severity": {"mild": 3, "moderate": 1, "severe": 0}}
