"""The whole analysis in one call, and the assembly of results/results.json.

The notebooks run the stages one by one (each writing its section to
``results/<section>.json``); :func:`analyse` runs the same functions in one
process (tests, benchmark), and :func:`assemble` merges the stage sections
into results.json. A test checks that both give the same results.
"""
from __future__ import annotations

import os

import pandas as pd

from . import cleaning, outcomes, side_effects, subgroups
from .io import read_extract, read_json, write_json
from .params import Params

__all__ = ["SECTIONS", "analyse", "assemble", "load_processed", "save_processed"]

#: Sections of results.json, each written by one stage as results/<section>.json.
SECTIONS = ("cohort", "outcome", "subgroups", "side_effects")


def analyse(data: str | os.PathLike, params: Params) -> dict:
    """Read, validate and analyse an extract; return the content of results.json."""
    extract = cleaning.validate(read_extract(data), params)
    cohort = cleaning.derive_cohort(extract, params)
    out = outcomes.derive_outcomes(cohort, threshold=params.responder_threshold,
                                   missing_followup=params.missing_followup)
    return {
        "data": {"source": str(data), "synthetic": extract.synthetic},
        "parameters": params.to_dict(),
        "cohort": cleaning.flow_counts(cohort),
        "outcome": outcomes.outcome_summary(out, threshold=params.responder_threshold,
                                            confidence=params.confidence),
        "subgroups": subgroups.subgroup_summary(out, group_by=params.group_by,
                                                confidence=params.confidence),
        "side_effects": side_effects.side_effect_summary(cohort, extract.infusions,
                                                         extract.adverse_events),
    }


def assemble(results_dir: str | os.PathLike = "results") -> dict:
    """Merge the stage sections ``results/<section>.json`` into ``results/results.json``."""
    merged: dict = {}
    for section in ("run",) + SECTIONS:
        merged.update(read_json(os.path.join(results_dir, f"{section}.json")))
    write_json(os.path.join(results_dir, "results.json"), merged)
    return merged


def save_processed(frames: dict[str, pd.DataFrame], folder: str | os.PathLike) -> None:
    """Hand patient-level frames to the next stage (pickles under data/processed/, never committed)."""
    from .paths import resolve

    target = resolve(folder)
    target.mkdir(parents=True, exist_ok=True)
    for name, frame in frames.items():
        frame.to_pickle(target / f"{name}.pkl")


def load_processed(folder: str | os.PathLike, *names: str) -> list[pd.DataFrame]:
    """Read frames written by :func:`save_processed`."""
    from .paths import resolve

    return [pd.read_pickle(resolve(folder) / f"{name}.pkl") for name in names]
