"""Side-effect counts per patient and per occurrence, worked out by hand."""
import pytest

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
    treated, included = got["treated"], got["included"]
    assert {k: treated[k] for k in ("patients", "infusions", "patients_with_any", "serious", "severity")} == {
        "patients": 4, "infusions": 12, "patients_with_any": 3, "serious": 1,
        "severity": {"mild": 3, "moderate": 1, "severe": 1}}
    assert {e: (v["patients"], v["occurrences"]) for e, v in treated["events"].items()} == {
        "nausea": (3, 4), "dizziness": (1, 1)}
    assert {k: included[k] for k in ("patients", "infusions", "patients_with_any", "serious", "severity")} == {
        "patients": 3, "infusions": 9, "patients_with_any": 2, "serious": 0,
        "severity": {"mild": 3, "moderate": 1, "severe": 0}}
    assert {e: (v["patients"], v["occurrences"]) for e, v in included["events"].items()} == {
        "nausea": (2, 3), "dizziness": (1, 1)}


def test_harms_with_bounds(make_extract):
    """Any side effect (Wilson), serious ones (Clopper-Pearson), each event (Wilson), against R."""
    infusions = protocol("a") + protocol("b") + protocol("d")
    infusions += [dict(r, formulation="esketamine") for r in protocol("c")]
    events = [ae("a", "2016-03-01", "nausea"), ae("b", "2016-04-30", "nausea"),
              ae("c", "2016-03-01", "nausea", "severe", serious="yes")]
    extract = make_extract([patient(p) for p in "abcd"], infusions, events)
    got = side_effect_summary(derive_cohort(extract, load_params()), extract.infusions, extract.adverse_events)
    treated, included = got["treated"], got["included"]
    # 3 of 4 treated had one. R: prop.test(3, 4, correct = FALSE)$conf.int = 0.3006418426 0.9544127392
    assert treated["any"]["patients"] == 3 and treated["any"]["proportion"] == 0.75
    assert (treated["any"]["ci_low"], treated["any"]["ci_high"]) == pytest.approx((0.3006418426, 0.9544127392))
    assert treated["events"]["nausea"]["ci_low"] == pytest.approx(0.3006418426)
    # 1 of 4 serious. R: binom.test(1, 4)$conf.int = 0.00630946321 0.80587955032
    s = treated["serious_patients"]
    assert (s["patients"], s["proportion"]) == (1, 0.25)
    assert (s["ci_low"], s["ci_high"]) == pytest.approx((0.00630946321, 0.80587955032))
    # none of the 3 included. R: binom.test(0, 3)$conf.int = 0.0000000000 0.7075982262
    s = included["serious_patients"]
    assert (s["patients"], s["proportion"], s["ci_low"]) == (0, 0.0, 0.0)
    assert s["ci_high"] == pytest.approx(0.7075982262)
    # 2 of 3 included had nausea. R: prop.test(2, 3, correct = FALSE)$conf.int = 0.2076596008 0.9385080553
    assert (included["events"]["nausea"]["ci_low"], included["events"]["nausea"]["ci_high"]) == pytest.approx(
        (0.2076596008, 0.9385080553))


def cohort_with_events(make_extract, included: int, excluded: int, treatments=None):
    """Patients p0.. (the last ``excluded`` ones with the test dose only), each with one nausea on day one."""
    pids = [f"p{i}" for i in range(included + excluded)]
    infusions = [r for i, p in enumerate(pids) for r in protocol(p, n_later=2 if i < included else 0)]
    events = [dict(ae(p, "2016-03-01", "nausea"), treatment=(treatments or {}).get(p, "")) for p in pids]
    extract = make_extract([patient(p) for p in pids], infusions, events)
    return derive_cohort(extract, load_params()), extract


def test_one_excluded_patient_withholds_the_treated_population(make_extract):
    """Treated (7) minus included (6) would be the one excluded patient's side effects (issue 22)."""
    cohort, extract = cohort_with_events(make_extract, 6, 1)
    got = side_effect_summary(cohort, extract.infusions, extract.adverse_events, min_group_size=5)
    assert got["treated"]["patients"] == 7
    assert all(got["treated"][k] is None for k in ("infusions", "patients_with_any", "serious", "events", "severity"))
    assert got["treated"]["any"]["patients"] is None and got["treated"]["serious_patients"]["patients"] is None
    assert got["included"]["events"]["nausea"]["patients"] == 6 and got["included"]["infusions"] == 18
    from ketanb.side_effects import side_effect_table

    table = side_effect_table(got)
    assert table[table["population"] == "treated"]["event"].tolist() == ["any event"]
    assert table[table["population"] == "treated"]["patients"].isna().all()


def test_three_included_patients_get_counts_without_proportions(make_extract):
    cohort, extract = cohort_with_events(make_extract, 3, 0)
    got = side_effect_summary(cohort, extract.infusions, extract.adverse_events, min_group_size=5)["included"]
    assert got["any"] == {"patients": 3, "proportion": None, "ci_low": None, "ci_high": None}
    assert got["events"]["nausea"] == {"patients": 3, "occurrences": 3, "proportion": None, "ci_low": None,
                                       "ci_high": None}
    assert (got["serious_patients"]["patients"], got["serious_patients"]["ci_high"]) == (0, None)


def test_a_treatment_given_to_fewer_than_min_group_size_patients_is_other(make_extract):
    from ketanb.side_effects import treatment_table

    treatments = {f"p{i}": "ondansetron" for i in range(5)}
    treatments["p5"] = "Dr. Peeters called"
    cohort, extract = cohort_with_events(make_extract, 7, 0, treatments)
    table = treatment_table(cohort, extract.adverse_events, min_group_size=5)
    assert table.values.tolist() == [["nausea", "ondansetron", 5], ["nausea", "none", 1], ["nausea", "other", 1]]
    assert "peeters" in treatment_table(cohort, extract.adverse_events).to_csv()   # min_group_size 1: as given


def test_stops_for_side_effects_with_an_exact_interval_in_both_populations_against_r():
    """Issue 24: 8 of the 74 treated patients of the shipped extract stopped for side effects (patients.csv,
    discontinuation = side_effects: 8 rows), 2 of them among the 45 included ones (the other 6 are excluded:
    no test dose x 3, outside the study period x 2, test dose only x 1). Clopper-Pearson limits are the
    beta quantiles qbeta(0.025, x, n - x + 1) and qbeta(0.975, x + 1, n - x):
    R: binom.test(8, 74)$conf.int = 0.04784399 0.20195014; binom.test(2, 45)$conf.int = 0.005428489 0.151492900."""
    from scipy.stats import beta

    from ketanb.analysis import analyse
    from ketanb.paths import ROOT

    got = analyse(ROOT / "data" / "raw", load_params(ROOT / "params.yaml"))["side_effects"]
    for population, x, n, r_low, r_high in (("treated", 8, 74, 0.04784399, 0.20195014),
                                            ("included", 2, 45, 0.005428489, 0.151492900)):
        block = got[population]["stopped_for_side_effects"]
        assert block["patients"] == x and block["proportion"] == pytest.approx(x / n, abs=1e-12)
        assert block["ci_low"] == pytest.approx(beta.ppf(0.025, x, n - x + 1), abs=1e-12)
        assert block["ci_high"] == pytest.approx(beta.ppf(0.975, x + 1, n - x), abs=1e-12)
        assert (round(block["ci_low"], 8), round(block["ci_high"], 8)) == pytest.approx((r_low, r_high), abs=1e-8)


def test_stops_for_side_effects_by_hand_and_withheld_with_the_treated_population(make_extract):
    """a stops for side effects, b for lack of effect, c (excluded: esketamine) for side effects: treated 2 of 3,
    included 1 of 2; with min_group_size 2 the one excluded patient would be the treated minus the included,
    so the treated block is withheld and severity_table("treated") is empty."""
    from ketanb.side_effects import severity_table

    infusions = protocol("a") + protocol("b") + [dict(r, formulation="esketamine") for r in protocol("c")]
    pts = [patient("a", discontinuation="side_effects"), patient("b", discontinuation="lack_of_effect"),
           patient("c", discontinuation="side_effects")]
    extract = make_extract(pts, infusions, [ae("a", "2016-03-01", "nausea")])
    cohort = derive_cohort(extract, load_params())
    got = side_effect_summary(cohort, extract.infusions, extract.adverse_events)
    assert got["treated"]["stopped_for_side_effects"]["patients"] == 2
    assert got["included"]["stopped_for_side_effects"]["patients"] == 1
    assert got["included"]["stopped_for_side_effects"]["proportion"] == 0.5
    hidden = side_effect_summary(cohort, extract.infusions, extract.adverse_events, min_group_size=2)
    assert hidden["treated"]["stopped_for_side_effects"] == {"patients": None, "proportion": None,
                                                             "ci_low": None, "ci_high": None}
    assert hidden["included"]["stopped_for_side_effects"]["patients"] == 1
    assert severity_table(cohort, extract.adverse_events, "treated", min_group_size=2).loc["total", "total"] == 0
    assert severity_table(cohort, extract.adverse_events, "treated").loc["total", "total"] == 1


def test_the_stage_in_one_call(make_extract):
    """side_effects.run on the first test's extract (a, b included; c excluded; d no event), min_group_size 1:
    every table the notebook shows, and their titles."""
    from ketanb import side_effects

    infusions = protocol("a") + protocol("b") + protocol("d")
    infusions += [dict(r, formulation="esketamine") for r in protocol("c")]
    events = [ae("a", "2016-03-01", "nausea"), ae("a", "2016-03-31", "nausea", "moderate"),
              ae("a", "2016-03-31", "dizziness"), ae("b", "2016-04-30", "nausea"),
              ae("c", "2016-03-01", "nausea", "severe", serious="yes")]
    params = load_params(min_group_size=1, i_know_this_is_not_patient_data=True)
    extract = make_extract([patient(p) for p in "abcd"], infusions, events)
    cohort = derive_cohort(extract, params)
    got = side_effects.run(cohort, extract.infusions, extract.adverse_events, params)
    assert got.summary["included"]["patients_with_any"] == 2 and got.summary["treated"]["serious"] == 1
    assert got.severity.loc["total"].tolist() == [3, 1, 0, 0, 4]          # mild moderate severe serious total
    assert got.severity_treated.loc["nausea"].tolist() == [2, 1, 1, 1, 4]
    assert got.treatment.values.tolist() == [["nausea", "none", 3], ["dizziness", "none", 1]]
    assert got.table[got.table["population"] == "included"]["event"].tolist() == ["any event", "nausea", "dizziness"]
    assert got.titles["severity_treated"] == "Occurrences by severity, all treated patients"
    withheld = side_effects.run(cohort, extract.infusions, extract.adverse_events, load_params(min_group_size=2))
    assert withheld.titles["severity_treated"] == ("Occurrences by severity, all treated patients: not shown (too "
                                                   "few excluded patients: they would be theirs by subtraction)")
    assert side_effects.run(cohort, extract.infusions, extract.adverse_events, params, tables=False).severity is None
