"""The whole analysis in one process: the four stages' entry points, one after the other.

Tests and the benchmark use :func:`analyse`; the notebooks call the same
entry points one stage at a time, and a test checks that both give the same
results.json.
"""
from __future__ import annotations

import os

from . import RESULTS_FORMAT, cleaning, outcomes, side_effects, subgroups
from .params import Params

__all__ = ["analyse"]


def analyse(data: str | os.PathLike, params: Params) -> dict:
    """Read, validate and analyse an extract; return the content of results.json.

    Each stage's entry point is asked for its results.json section alone (``tables=False``): the tables and
    figures of the reports would multiply the time at a million patients (``make bench``).
    """
    cleaned = cleaning.run(data, params)
    outcome = outcomes.run(cleaned.cohort, params, tables=False)
    extract = cleaned.extract
    return {
        "ketanb_results": RESULTS_FORMAT,
        "data": {"source": extract.source, "synthetic": extract.synthetic},
        "parameters": params.to_dict(),
        "study": params.study.to_dict(),
        "cohort": cleaned.flow,
        "outcome": outcome.summary,
        "sensitivity": outcome.sensitivity,
        "subgroups": subgroups.run(outcome.patients, cleaned.cohort, params, tables=False).summary,
        "side_effects": side_effects.run(cleaned.cohort, extract.infusions, extract.adverse_events, params,
                                         tables=False).summary,
    }
