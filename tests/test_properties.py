"""Property-based tests: any generated valid extract passes validation and its flow adds up."""
import numpy as np
from hypothesis import HealthCheck, given, settings, strategies as st

from ketanb import load_params
from ketanb.cleaning import derive_cohort, flow_counts
from ketanb.input.read import RawExtract, RawTable, read_extract
from ketanb.input.validate import validate
from ketanb.outcomes import derive_outcomes, outcome_summary
from ketanb.side_effects import side_effect_summary
from ketanb.subgroups import assign_groups, subgroup_summary
from ketanb.synthetic import generate_extract

P = load_params()
SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def raw(frames):
    return RawExtract("generated", {k: v if isinstance(v, RawTable) else RawTable(f"{k}.csv", v.reset_index(drop=True))
                                    for k, v in frames.items()})


def analyse(frames, missing_followup="nonresponder"):
    extract = validate(raw(frames), P)
    cohort = derive_cohort(extract, P)
    out = derive_outcomes(cohort, threshold=50, missing_followup=missing_followup)
    return extract, cohort, out


@SETTINGS
@given(n=st.integers(1, 400), seed=st.integers(0, 2**32 - 1))
def test_generated_extracts_are_valid_and_add_up(n, seed):
    frames = generate_extract(n, seed)
    extract, cohort, out = analyse(frames)
    flow = flow_counts(cohort)
    # nothing lost: every patient row is treated, and treated = included + excluded by reason
    assert flow["treated"] == n == len(extract.patients)
    assert flow["included"] + sum(flow["excluded"].values()) == n
    summary = outcome_summary(out, threshold=50)
    assert summary["n"] == flow["included"] and 0 <= summary["favorable"] <= summary["n"]
    groups = subgroup_summary(out, assign_groups(out, group_by="pain_mechanism"), group_by="pain_mechanism")
    assert sum(g["n"] for g in groups["groups"].values()) + groups["unclassified"] == summary["n"]
    assert sum(g["favorable"] for g in groups["groups"].values()) <= summary["favorable"]
    effects = side_effect_summary(cohort, extract.infusions, extract.adverse_events)
    assert effects["treated"]["infusions"] == len(frames["infusions"])
    assert sum(e["occurrences"] for e in effects["treated"]["events"].values()) == len(frames["adverse_events"])
    for population in ("treated", "included"):
        block = effects[population]
        assert all(e["patients"] <= min(e["occurrences"], block["patients_with_any"])
                   for e in block["events"].values())


@SETTINGS
@given(n=st.integers(5, 200), seed=st.integers(0, 2**16), shuffle=st.integers(0, 2**16))
def test_row_order_case_and_spaces_do_not_matter(tmp_path_factory, n, seed, shuffle):
    frames = generate_extract(n, seed)
    rng = np.random.default_rng(shuffle)
    messy = {}
    for name, frame in frames.items():
        frame = frame.iloc[rng.permutation(len(frame))].copy()
        for column in ("formulation", "pain_mechanism", "severity", "event", "discontinuation"):
            if column in frame:
                frame[column] = " " + frame[column].str.upper() + "  "
        messy[name] = frame
    folder = tmp_path_factory.mktemp("messy")
    for name, frame in messy.items():  # through a real file: cells are trimmed on reading
        frame.to_csv(folder / f"{name}.csv", index=False)
    _, cohort_a, out_a = analyse(frames)
    _, cohort_b, out_b = analyse(read_extract(folder).tables)
    assert flow_counts(cohort_a) == flow_counts(cohort_b)
    assert outcome_summary(out_a, threshold=50) == outcome_summary(out_b, threshold=50)
    assert (subgroup_summary(out_a, assign_groups(out_a, group_by="pain_mechanism"), group_by="pain_mechanism")
            == subgroup_summary(out_b, assign_groups(out_b, group_by="pain_mechanism"), group_by="pain_mechanism"))


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(st.sampled_from("abcdefg"), st.integers(0, 30), min_size=1), st.integers(1, 10),
       st.booleans())
def test_disclosure_never_leaves_fewer_than_min_group_size_to_subtract(sizes, m, keep_whole):
    """Whatever the partition: every shown part holds >= m; when the whole is shown, the withheld
    parts together hold 0 or >= m (so whole minus shown parts never describes 1 to m - 1 patients);
    and with keep_whole the whole is shown whenever it holds >= m (the main result survives)."""
    from ketanb.disclosure import disclose

    got = disclose(sizes, m, keep_whole=keep_whole)
    assert all(sizes[p] >= m for p in got.parts)
    assert set(got.parts) | set(got.withheld) == set(sizes) and not set(got.parts) & set(got.withheld)
    left = sum(sizes[p] for p in got.withheld)
    if got.whole:
        assert sum(sizes.values()) >= m and (left == 0 or left >= m)
    if keep_whole:
        assert got.whole == (sum(sizes.values()) >= m)
