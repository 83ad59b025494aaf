"""A synthetic extract that reproduces the published counts by construction.

The patient files of the study are not public. :func:`generate_extract` builds
a cohort in the format of the data contract whose composition is fixed, not
drawn: at 74 patients it has exactly the published flow (74 treated, 45
included, 23/45 favorable) and a non-significant difference between the pain
mechanisms; randomness (a fixed seed) only fills in plausible detail: ages,
diagnoses, NRS values, dates, doses and side effects. For another size the
same composition is scaled by the largest-remainder method, so the generator
also makes the large cohorts of the benchmark.

THE DATA IT MAKES ARE SYNTHETIC: no row describes a real patient.
"""
from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pandas as pd

from .output.files import write_csv
from .output.writing import write_text
from .input.contract import PAIN_MECHANISMS
from .input.read import SYNTHETIC_MARKER
from .presentation.notices import extract_notice
from .paths import resolve

__all__ = ["SEED", "PUBLISHED_SIZE", "COMPOSITION", "generate_extract", "write_extract", "scale_counts", "NOTICE"]

SEED = 20240501
PUBLISHED_SIZE = 74
#: What the files of a synthetic extract say of themselves (its README and synthetic.json).
NOTICE = extract_notice(PUBLISHED_SIZE)

#: Patients per category at the published size (74). Excluded patients by reason
#: (contract order), included ones by pain mechanism ("" = unclassified) and outcome.
COMPOSITION: dict[tuple, int] = {
    ("excluded", "outside_study_period"): 4,
    ("excluded", "not_racemic"): 3,
    ("excluded", "no_test_dose"): 5,
    ("excluded", "off_protocol_dose"): 6,
    ("excluded", "test_dose_only"): 8,
    ("excluded", "no_baseline_nrs"): 3,
    ("included", "neuropathic", True): 11, ("included", "neuropathic", False): 9,
    ("included", "nociceptive", True): 4, ("included", "nociceptive", False): 7,
    ("included", "nociplastic", True): 7, ("included", "nociplastic", False): 5,
    ("included", "", True): 1, ("included", "", False): 1,
}
#: How the favorable and unfavorable outcomes come about (at 74 patients: 23 and 22).
FAVORABLE_KINDS = {"reduction": 18, "exactly_threshold": 1, "decimal_threshold": 1,
                   "stopped_side_effects": 2, "stopped_other": 1}
UNFAVORABLE_KINDS = {"below_threshold": 10, "worse": 2, "missing_followup": 3,
                     "stopped_lack_of_effect": 6, "stopped_lack_of_effect_despite_reduction": 1}

DIAGNOSES = {
    "neuropathic": ["post-herpetic neuralgia", "painful diabetic polyneuropathy", "CRPS type II",
                    "post-surgical neuropathic pain", "lumbar radiculopathy", "trigeminal neuralgia"],
    "nociceptive": ["knee osteoarthritis", "chronic low back pain", "chronic pancreatitis",
                    "hip osteoarthritis"],
    "nociplastic": ["fibromyalgia", "CRPS type I", "chronic widespread pain", "irritable bowel syndrome"],
    "": ["failed back surgery syndrome", "mixed chronic pain"],
}
EVENT_WEIGHTS = {"nausea": 22, "dizziness": 18, "drowsiness": 12, "dissociation": 12,
                 "hallucinations": 7, "headache": 7, "vomiting": 5, "anxiety": 5, "nightmares": 4,
                 "blurred_vision": 4, "hypertension": 2, "tachycardia": 1, "other": 1}
TREATMENTS = {"nausea": "ondansetron", "vomiting": "ondansetron", "hallucinations": "midazolam",
              "dissociation": "midazolam", "anxiety": "midazolam", "nightmares": "midazolam",
              "headache": "paracetamol", "hypertension": "infusion rate reduced"}
INFUSIONS_PER_AE = 4.0          # about one side effect per four sessions
DAY = np.timedelta64(1, "D")


def scale_counts(counts: dict, total: int) -> dict:
    """Scale category counts to a new total by the largest-remainder method.

    Parameters
    ----------
    counts : dict
        Category -> count (the published composition).
    total : int
        New total.

    Returns
    -------
    dict
        Same categories, non-negative integers summing to ``total``; with
        ``total`` equal to the sum of ``counts`` the counts come back unchanged.
        Ties in the remainders go to the category listed first.
    """
    keys = list(counts)
    base = np.array([counts[k] for k in keys], dtype=float)
    if base.sum() == 0 or total == 0:
        return {k: 0 for k in keys}
    quota = base * total / base.sum()
    out = np.floor(quota).astype(int)
    remainder = quota - out
    order = sorted(range(len(keys)), key=lambda i: (-round(remainder[i], 12), i))
    for i in order[: total - out.sum()]:
        out[i] += 1
    return dict(zip(keys, out.tolist()))


def _fmt(values: np.ndarray) -> np.ndarray:
    """Numbers as a clinic would type them: 7, 7.5, empty for missing."""
    values = np.asarray(values, dtype=float)
    out = np.full(values.shape, "", dtype=object)
    ok = ~np.isnan(values)
    whole = ok & (values == np.round(values))
    out[whole] = values[whole].astype(np.int64).astype(str)
    frac = ok & ~whole
    if frac.any():
        out[frac] = np.char.mod("%g", values[frac])
    return out


def _kinds(rng, counts: dict, slots: int) -> np.ndarray:
    scaled = scale_counts(counts, slots)
    kinds = np.repeat(np.array(list(scaled), dtype=object), list(scaled.values()))
    return rng.permutation(kinds)


def generate_extract(n_patients: int = PUBLISHED_SIZE, seed: int = SEED, *,
                     favorable_share: float | None = None) -> dict[str, pd.DataFrame]:
    """Make a synthetic extract in the format of the data contract.

    Parameters
    ----------
    n_patients : int
        Number of treated patients (74 reproduces the published counts exactly).
    seed : int
        Seed of the random detail; the composition does not depend on it.
    favorable_share : float or None
        ``None`` (default) keeps the published composition exactly. A number in
        [0, 1] re-splits the included patients of each pain mechanism into
        favorable and unfavorable so that about that share of the included
        patients is favorable: a clinic with another true response rate, for
        demonstrations of pooling (:mod:`ketanb.pooling`). The total favorable
        is ``share * included`` rounded half up; it is spread over the
        mechanisms by the largest-remainder method of ``share * included of
        the mechanism`` (ties to the mechanism listed first in
        :data:`COMPOSITION`). The exclusions do not change.

    Returns
    -------
    dict of pandas.DataFrame
        ``patients``, ``infusions``, ``adverse_events`` with every cell as the
        text written to the CSV files.

    Notes
    -----
    With the default parameters the cohort stage finds, per category of
    :data:`COMPOSITION`, exactly that many patients: each excluded patient
    breaks its own rule (and sometimes a later one too, which the order of
    precedence must ignore), each included one follows the protocol (75 mg
    racemic test dose, then 150 mg infusions, first infusion in 2015-2019).
    Favorable and unfavorable outcomes are assigned per category first, then an
    NRS pair, discontinuation and missing follow-up that produce that outcome,
    including the edge cases of the rules (exactly 50 %, 7.4 -> 3.7, >= 50 % but
    stopped for lack of effect, stopped for side effects, worse pain).
    """
    if n_patients < 1:
        raise ValueError("n_patients must be at least 1")
    rng = np.random.default_rng(seed)
    comp = scale_counts(COMPOSITION, n_patients)
    if favorable_share is not None:  # another true response rate: re-split each mechanism
        share = float(favorable_share)
        if not 0 <= share <= 1:
            raise ValueError(f"favorable_share must be in [0, 1], not {favorable_share!r}")
        mechs = list(dict.fromkeys(c[1] for c in comp if c[0] == "included"))
        sizes = np.array([comp[("included", m, True)] + comp[("included", m, False)] for m in mechs])
        quota = np.round(share * sizes, 9)
        fav = np.floor(quota).astype(int)
        extra = int(np.floor(round(share * sizes.sum(), 9) + 0.5)) - int(fav.sum())
        order = sorted(range(len(mechs)), key=lambda i: (-round(quota[i] - fav[i], 12), i))
        fav[order[:extra]] += 1
        for m, f, size in zip(mechs, fav.tolist(), sizes.tolist()):
            comp[("included", m, True)], comp[("included", m, False)] = f, size - f
    categories = list(comp)
    cat = rng.permutation(np.repeat(np.arange(len(categories)), list(comp.values())))
    n = n_patients
    status = np.array([c[0] for c in categories], dtype=object)[cat]
    label = np.array([c[1] for c in categories], dtype=object)[cat]
    favorable = np.array([c[2] if len(c) > 2 else False for c in categories], dtype=bool)[cat]
    included = status == "included"
    reason = np.where(included, "", label)
    mechanism = np.where(included, label, "")
    # excluded patients: a mechanism drawn at random (a few unclassified)
    n_exc = int((~included).sum())
    mechanism[~included] = rng.choice(list(PAIN_MECHANISMS) + [""], size=n_exc, p=[0.4, 0.27, 0.28, 0.05])

    # ---- outcome kinds for the included patients, fixed per favorable / unfavorable slot
    kind = np.full(n, "", dtype=object)
    fav_slots, unfav_slots = included & favorable, included & ~favorable
    kind[fav_slots] = _kinds(rng, FAVORABLE_KINDS, int(fav_slots.sum()))
    kind[unfav_slots] = _kinds(rng, UNFAVORABLE_KINDS, int(unfav_slots.sum()))

    # ---- NRS
    baseline = rng.choice([5, 6, 6.5, 7, 7.5, 8, 8.5, 9, 10], size=n,
                          p=[0.05, 0.12, 0.05, 0.2, 0.08, 0.22, 0.08, 0.12, 0.08])
    baseline = np.where(kind == "worse", rng.choice([6, 7, 8, 9], size=n), baseline)
    baseline = np.where(kind == "exactly_threshold", rng.choice([6, 8, 10], size=n), baseline)
    baseline = np.where(kind == "decimal_threshold", 7.4, baseline)
    r_hi = rng.uniform(0.5, 1.0, size=n)       # reductions that reach 50 %
    r_lo = rng.uniform(0.0, 0.42, size=n)      # reductions that do not
    down = np.floor(baseline * (1 - r_hi) * 2) / 2   # rounding down keeps the reduction >= r_hi
    up = np.minimum(10, np.ceil(baseline * (1 - r_lo) * 2) / 2)
    followup = np.full(n, np.nan)
    reach = np.isin(kind, ["reduction", "stopped_side_effects", "stopped_other",
                           "stopped_lack_of_effect_despite_reduction"])
    followup[reach] = down[reach]
    below = np.isin(kind, ["below_threshold", "stopped_lack_of_effect"])
    followup[below] = up[below]
    worse = kind == "worse"
    followup[worse] = np.minimum(10, baseline[worse] + rng.choice([0.5, 1, 1.5, 2], size=int(worse.sum())))
    exact = np.isin(kind, ["exactly_threshold", "decimal_threshold"])
    followup[exact] = baseline[exact] / 2
    # excluded patients: follow-up often recorded anyway
    exc_follow = ~included & (rng.random(n) < 0.7)
    followup[exc_follow] = up[exc_follow]
    no_baseline = reason == "no_baseline_nrs"
    baseline = np.where(no_baseline, np.where(np.cumsum(no_baseline) % 3 == 0, 0.0, np.nan), baseline)

    discontinuation = np.full(n, "", dtype=object)
    discontinuation[np.isin(kind, ["stopped_lack_of_effect", "stopped_lack_of_effect_despite_reduction"])] = "lack_of_effect"
    discontinuation[kind == "stopped_side_effects"] = "side_effects"
    discontinuation[kind == "stopped_other"] = "other"
    missing = kind == "missing_followup"
    discontinuation[missing & (rng.random(n) < 0.5)] = "other"
    discontinuation[~included & (rng.random(n) < 0.15)] = "side_effects"

    # ---- demographics
    sex = np.where(rng.random(n) < 0.64, "F", "M")
    age = np.clip(np.round(rng.normal(51, 13, size=n)), 19, 88).astype(int)
    diagnosis = np.empty(n, dtype=object)
    for m, options in DIAGNOSES.items():
        at = mechanism == m
        diagnosis[at] = rng.choice(options, size=int(at.sum()))
    duration = np.clip(np.round(rng.lognormal(np.log(48), 0.8, size=n)), 3, 480)
    duration[rng.random(n) < 0.08] = np.nan

    # ---- infusions
    n_later = np.where(reason == "test_dose_only", 0, 1 + rng.poisson(2.0, size=n))
    per_patient = 1 + n_later
    start, stop = np.datetime64("2015-01-05"), np.datetime64("2019-11-30")
    first = start + rng.integers(0, (stop - start) // DAY + 1, size=n) * DAY
    outside = reason == "outside_study_period"
    before = rng.random(n) < 0.5
    early = np.datetime64("2013-06-01") + rng.integers(0, 560, size=n) * DAY
    late = np.datetime64("2020-01-10") + rng.integers(0, 330, size=n) * DAY
    first = np.where(outside, np.where(before, early, late), first)

    pid = np.repeat(np.arange(n), per_patient)
    offsets = np.repeat(np.cumsum(per_patient) - per_patient, per_patient)
    position = np.arange(len(pid)) - offsets
    gap = np.where(position == 0, 0,
                   np.where(position == 1, rng.integers(14, 43, size=len(pid)),
                            rng.integers(28, 85, size=len(pid))))
    run = np.cumsum(gap)
    days = run - (run[offsets] - gap[offsets])
    date = first[pid] + days * DAY

    not_racemic = reason == "not_racemic"
    all_esketamine = not_racemic & (np.cumsum(not_racemic) % 2 == 1)
    switched = not_racemic & ~all_esketamine
    formulation = np.where(all_esketamine[pid] | (switched[pid] & (position == n_later[pid])),
                           "esketamine", "racemic")
    test_dose = np.where(reason == "no_test_dose", rng.choice([150.0, 50.0], size=n, p=[0.7, 0.3]), 75.0)
    dose = np.where(position == 0, test_dose[pid], 150.0)
    dose = np.where(formulation == "esketamine", dose / 2, dose)
    off_row = 1 + np.floor(rng.random(n) * np.maximum(n_later, 1)).astype(int)
    off = (reason == "off_protocol_dose")[pid] & (position == off_row[pid])
    dose = np.where(off, rng.choice([100.0, 125.0, 200.0], size=len(pid)), dose)

    width = max(4, len(str(n)))
    ids = np.char.add("SYN-", np.char.zfill(np.arange(1, n + 1).astype(str), width)).astype(object)
    infusions = pd.DataFrame({"patient_id": ids[pid], "date": np.datetime_as_string(date, unit="D"),
                              "dose_mg": _fmt(dose), "formulation": formulation})
    order = np.lexsort((infusions["patient_id"].to_numpy(dtype=str), infusions["date"].to_numpy(dtype=str)))
    infusions = infusions.iloc[order].reset_index(drop=True)

    # ---- side effects: about one per INFUSIONS_PER_AE sessions, each on a session date
    has_ae = rng.random(len(pid)) < 1 / INFUSIONS_PER_AE
    ae_rows = np.flatnonzero(has_ae)
    events = np.array(list(EVENT_WEIGHTS), dtype=object)
    weights = np.array(list(EVENT_WEIGHTS.values()), dtype=float)
    event = rng.choice(events, size=len(ae_rows), p=weights / weights.sum())
    severity = np.where(rng.random(len(ae_rows)) < 0.82, "mild", "moderate")
    given = np.array([TREATMENTS.get(e, "") for e in events], dtype=object)
    treatment = given[pd.Index(events).get_indexer(event)]
    treated_anyway = (severity == "moderate") | (rng.random(len(ae_rows)) < 0.6)
    treatment = np.where(treated_anyway, treatment, "")
    serious = np.where(rng.random(len(ae_rows)) < 0.8, "no", "")
    adverse_events = pd.DataFrame({
        "patient_id": ids[pid[ae_rows]], "date": np.datetime_as_string(date[ae_rows], unit="D"),
        "event": event, "severity": severity, "treatment": treatment, "serious": serious})
    order = np.lexsort((adverse_events["patient_id"].to_numpy(dtype=str),
                        adverse_events["date"].to_numpy(dtype=str)))
    adverse_events = adverse_events.iloc[order].reset_index(drop=True)

    patients = pd.DataFrame({
        "patient_id": ids, "sex": sex, "age": age.astype(str), "pain_mechanism": mechanism,
        "diagnosis": diagnosis, "pain_duration_months": _fmt(duration),
        "baseline_nrs": _fmt(baseline), "followup_nrs": _fmt(followup),
        "discontinuation": discontinuation})
    return {"patients": patients, "infusions": infusions, "adverse_events": adverse_events}


def _readme(n_patients: int, seed: int, favorable_share: float | None) -> str:
    excluded = {c[1]: k for c, k in COMPOSITION.items() if c[0] == "excluded"}
    included = sum(k for c, k in COMPOSITION.items() if c[0] == "included")
    favorable = sum(k for c, k in COMPOSITION.items() if c[0] == "included" and c[2])
    reasons = ", ".join(f"{k} {reason.replace('_', ' ')}" for reason, k in excluded.items())
    call = f"n_patients={n_patients}, seed={seed}" + (f", favorable_share={favorable_share:g}"
                                                       if favorable_share is not None else "")
    return f"""# Synthetic extract (not patient data)

{NOTICE}

Made by `ketanb.synthetic.generate_extract({call})`; `python -m ketanb data`
with the same arguments writes it again byte for byte. The files follow
`docs/data-contract.md`, section 1; `synthetic.json` marks the folder as
synthetic so that every notebook and figure made from it says so.

At {PUBLISHED_SIZE} patients and the published response rate the composition is fixed by
construction (`ketanb.synthetic.COMPOSITION`): {PUBLISHED_SIZE} treated, {sum(excluded.values())}
excluded ({reasons}), {included} included, {favorable}/{included} favorable. Other sizes scale it;
`favorable_share` changes the share of favorable outcomes (further synthetic clinics).
"""


def write_extract(frames: dict[str, pd.DataFrame], folder: str | os.PathLike, *,
                  n_patients: int, seed: int, favorable_share: float | None = None) -> Path:
    """Write a synthetic extract as a folder of CSV files, with its synthetic marker and README."""
    target = resolve(folder)
    for name, frame in frames.items():
        write_csv(target / f"{name}.csv", frame)
    marker = {"generator": "ketanb.synthetic.generate_extract", "n_patients": n_patients,
              "seed": seed, "notice": NOTICE}
    if favorable_share is not None:
        marker["favorable_share"] = favorable_share
    write_text(target / SYNTHETIC_MARKER, json.dumps(marker, indent=2) + "\n")
    write_text(target / "README.md", _readme(n_patients, seed, favorable_share))
    return target
