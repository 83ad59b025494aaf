import pandas as pd
import pytest

from ketanb.cleaning import validate
from ketanb.io import RawExtract, RawTable


def raw_extract(patients, infusions, adverse_events=None):
    """An in-memory extract from lists of dicts (all values as text)."""
    ae_cols = ["patient_id", "date", "event", "severity", "treatment", "serious"]
    frames = {"patients": pd.DataFrame(patients), "infusions": pd.DataFrame(infusions),
              "adverse_events": pd.DataFrame(adverse_events or [], columns=ae_cols)}
    return RawExtract("test extract", {k: RawTable(f"{k}.csv", v.astype(str).apply(lambda c: c.str.strip()))
                                       for k, v in frames.items()})


def patient(pid, baseline="8", followup="3", mechanism="neuropathic", discontinuation="", **extra):
    row = {"patient_id": pid, "sex": "F", "age": "50", "pain_mechanism": mechanism,
           "baseline_nrs": baseline, "followup_nrs": followup, "discontinuation": discontinuation}
    row.update(extra)
    return row


def protocol(pid, start="2016-03-01", n_later=2):
    rows = [{"patient_id": pid, "date": start, "dose_mg": "75", "formulation": "racemic"}]
    day = pd.Timestamp(start)
    for i in range(n_later):
        day += pd.Timedelta(days=30)
        rows.append({"patient_id": pid, "date": day.date().isoformat(), "dose_mg": "150", "formulation": "racemic"})
    return rows


@pytest.fixture
def make_extract():
    def make(patients, infusions, adverse_events=None, params=None):
        return validate(raw_extract(patients, infusions, adverse_events), params)
    return make
