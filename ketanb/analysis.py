"""The whole analysis in one process: what the four stage notebooks compute, in one call.

Tests and the benchmark use :func:`analyse`; the notebooks call the same
functions one stage at a time, and a test checks that both give the same
results.json.
"""
from __future__ import annotations

import os

from . import RESULTS_FORMAT, cleaning, outcomes, side_effects, subgroups
from .params import Params

__all__ = ["analyse"]


def analyse(data: str | os.PathLike, params: Params) -> dict:
    """Read, validate and analyse an extract; return the content of results.json."""
    extract = cleaning.load(data, params)
    cohort = cleaning.derive_cohort(extract, params)
    result = outcomes.derive_outcomes(cohort, threshold=params.responder_threshold,
                                      missing_followup=params.missing_followup)
    groups = subgroups.assign_groups(result, group_by=params.group_by, edges=params.group_edges,
                                     min_group_size=params.min_group_size)
    return {
        "ketanb_results": RESULTS_FORMAT,
        "data": {"source": extract.source, "synthetic": extract.synthetic},
        "parameters": params.to_dict(),
        "study": params.study.to_dict(),
        "cohort": cleaning.flow_counts(cohort),
        "outcome": outcomes.outcome_summary(result, threshold=params.responder_threshold,
                                            confidence=params.confidence, min_group_size=params.min_group_size),
        "sensitivity": outcomes.sensitivity(cohort, params),
        "subgroups": subgroups.subgroup_summary(result, groups, group_by=params.group_by,
                                                confidence=params.confidence, edges=params.group_edges,
                                                min_group_size=params.min_group_size,
                                                reference=params.reference_group),
        "side_effects": side_effects.side_effect_summary(cohort, extract.infusions, extract.adverse_events,
                                                         confidence=params.confidence,
                                                         min_group_size=params.min_group_size),
    }
