"""Stage 4, side effects: events per patient and per occurrence, in two populations.

:func:`run` is the stage: every result of it in one call, for notebook 04 and
:func:`ketanb.analysis.analyse`.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from .disclosure import disclose, few_excluded, pool_rare_text
from .input.contract import EVENTS, SEVERITIES
from .params import Params
from .stats import clopper_pearson, proportion

__all__ = ["SideEffects", "run", "titles", "POPULATIONS", "population_mask", "side_effect_summary", "side_effect_table",
           "severity_table", "treatment_table"]

#: The two populations of the contract: every treated patient, and the included ones.
POPULATIONS = ("treated", "included")


def population_mask(cohort: pd.DataFrame, population: str) -> np.ndarray:
    """For each patient (row of the cohort), whether they belong to ``population``."""
    if population == "treated":
        return np.ones(len(cohort), dtype=bool)
    if population == "included":
        return cohort["included"].to_numpy(dtype=bool)
    raise ValueError(f"population must be one of {POPULATIONS}, not {population!r}")


def _member_rows(frame: pd.DataFrame, members: np.ndarray) -> np.ndarray:
    """For each row of infusions or adverse events, whether its patient (``patient``: cohort row) is a member."""
    return members[frame["patient"].to_numpy()]


def _in_population(frame: pd.DataFrame, members: np.ndarray) -> pd.DataFrame:
    """Rows of infusions or adverse events whose patient is a member."""
    return frame[_member_rows(frame, members)]


def _ordered_events(present) -> list[str]:
    return [e for e in EVENTS if e in set(present)]


def side_effect_summary(cohort: pd.DataFrame, infusions: pd.DataFrame, adverse_events: pd.DataFrame, *,
                        confidence: float = 0.95, min_group_size: int = 1) -> dict:
    """The ``side_effects`` section of results.json.

    Parameters
    ----------
    cohort, infusions, adverse_events : pandas.DataFrame
        As :func:`ketanb.cleaning.derive_cohort` and the extract give them.
    confidence : float
    min_group_size : int
        A population of fewer patients keeps its counts, without proportions
        or intervals (None). When 1 to ``min_group_size - 1`` patients were
        excluded, the treated population minus the included one would give
        their side effects: ``treated`` then keeps ``patients`` alone, every
        other value None (:func:`ketanb.disclosure.disclose`, contract section 5).

    Returns
    -------
    dict
        For ``treated`` and ``included``: ``patients`` (in the population),
        ``infusions`` (sessions of that population), ``patients_with_any``
        (distinct patients with at least one event), ``serious`` (rows with
        serious = yes), ``any`` and ``serious_patients`` (``{patients,
        proportion, ci_low, ci_high}`` of patients with at least one event,
        Wilson, and with at least one serious event, Clopper-Pearson, so that
        0 of 74 still has an upper bound), ``stopped_for_side_effects``
        (``{patients, proportion, ci_low, ci_high}`` of patients whose
        ``discontinuation`` is ``side_effects``, Clopper-Pearson), ``events`` (``{event: {patients,
        occurrences, proportion, ci_low, ci_high}}`` for every event that
        occurs, in the contract's order; proportions of patients, Wilson) and
        ``severity`` (occurrences by severity, all three listed).
    """
    section = {}
    adverse_events = adverse_events[["patient", "event", "severity", "serious"]]   # the columns counted
    first_of_kind = ~adverse_events.duplicated(["patient", "event"]).to_numpy()   # a patient's first of each kind
    treated_shown = _treated_shown(cohort, min_group_size)
    for population in POPULATIONS:
        members = population_mask(cohort, population)
        n = int(members.sum())
        if population == "treated" and not treated_shown:
            section[population] = _withheld(n)
            continue
        estimated = disclose({population: n}, min_group_size).whole    # else counts only
        in_population = _member_rows(adverse_events, members)
        ae = adverse_events[in_population]
        patients = adverse_events.loc[in_population & first_of_kind, "event"].value_counts()   # patients per event
        occurrences = ae["event"].value_counts()
        with_any = ae["patient"].nunique()
        serious = ae.loc[ae["serious"].to_numpy(dtype=bool), "patient"].nunique()
        low, high = clopper_pearson(serious, n, confidence) if estimated else (None, None)
        stopped = int((cohort.loc[members, "discontinuation"] == "side_effects").sum())
        section[population] = {
            "patients": n,
            "infusions": int(_member_rows(infusions, members).sum()),
            "patients_with_any": int(with_any),
            "serious": int(ae["serious"].sum()),
            "any": _harm(proportion(with_any, n, confidence), estimated=estimated),
            "serious_patients": {"patients": int(serious), "proportion": serious / n if n and estimated else None,
                                 "ci_low": low, "ci_high": high},
            "stopped_for_side_effects": _exact(stopped, n, confidence, estimated),
            "events": {e: {"patients": int(patients[e]), "occurrences": int(occurrences[e]),
                           **_harm(proportion(int(patients[e]), n, confidence), counts=False, estimated=estimated)}
                       for e in _ordered_events(occurrences.index)},
            "severity": {s: int((ae["severity"] == s).sum()) for s in SEVERITIES},
        }
    return section


def _exact(k: int, n: int, confidence: float, estimated: bool) -> dict:
    """``{patients, proportion, ci_low, ci_high}`` of ``k`` of ``n`` patients, Clopper-Pearson interval
    (proportion and interval None when not ``estimated``)."""
    if not estimated or not n:
        return {"patients": int(k), "proportion": None, "ci_low": None, "ci_high": None}
    low, high = clopper_pearson(k, n, confidence)
    return {"patients": int(k), "proportion": k / n, "ci_low": low, "ci_high": high}


def _treated_shown(cohort: pd.DataFrame, min_group_size: int) -> bool:
    """Whether the side effects of all treated patients may be shown beside the included ones': not when
    1 to ``min_group_size - 1`` patients were excluded (theirs by subtraction, :func:`ketanb.disclosure.few_excluded`)."""
    return not few_excluded(int(population_mask(cohort, "included").sum()), len(cohort), min_group_size)


def _withheld(n: int) -> dict:
    """A population's block with its number of patients alone (the rest would point at a few patients)."""
    empty = {"patients": None, "proportion": None, "ci_low": None, "ci_high": None}
    return {"patients": n, "infusions": None, "patients_with_any": None, "serious": None, "any": empty,
            "serious_patients": dict(empty), "stopped_for_side_effects": dict(empty), "events": None,
            "severity": None}


def _harm(p, counts: bool = True, estimated: bool = True) -> dict:
    """``{patients, proportion, ci_low, ci_high}`` of a proportion of patients (without ``patients``: counts False;
    proportion and interval None when not ``estimated``)."""
    block = {"patients": p.events} if counts else {}
    if not estimated:
        return {**block, "proportion": None, "ci_low": None, "ci_high": None}
    return {**block, "proportion": p.proportion, "ci_low": p.ci_low, "ci_high": p.ci_high}


def side_effect_table(summary: dict) -> pd.DataFrame:
    """Per event and population: patients, % of patients with a Wilson CI, occurrences, per 100 infusions.

    Parameters
    ----------
    summary : dict
        As returned by :func:`side_effect_summary`.

    Returns
    -------
    pandas.DataFrame
        Columns ``population``, ``event``, ``n`` (patients in the population), ``patients``, ``proportion``,
        ``ci_low``, ``ci_high``, ``occurrences``, ``per_100_infusions``; an
        ``any event`` row first in each population (alone, its values None, when
        the population's side effects are withheld).
    """
    rows = []
    for population in POPULATIONS:
        s = summary[population]
        events = s["events"] or {}                          # None: withheld, see side_effect_summary
        every = {**s["any"], "occurrences": None if s["events"] is None else
                 sum(v["occurrences"] for v in events.values())}
        for event, v in [("any event", every), *events.items()]:
            rows.append({"population": population, "event": event, "n": s["patients"],
                         **{k: v[k] for k in ("patients", "proportion", "ci_low", "ci_high", "occurrences")},
                         "per_100_infusions": 100 * v["occurrences"] / s["infusions"]
                         if s["infusions"] and v["occurrences"] is not None else None})
    return pd.DataFrame(rows)


def severity_table(cohort: pd.DataFrame, adverse_events: pd.DataFrame,
                   population: str = "included", *, min_group_size: int = 1) -> pd.DataFrame:
    """Occurrences by event and severity, with serious ones, in one population.

    Parameters
    ----------
    min_group_size : int
        The treated population's table is empty (no row) when its side effects
        are withheld: 1 to ``min_group_size - 1`` excluded patients, whose
        side effects the treated table minus the included one would give
        (as :func:`side_effect_summary`).

    Returns
    -------
    pandas.DataFrame
        Index ``event`` (contract order, events that occur), columns ``mild``,
        ``moderate``, ``severe``, ``serious``, ``total``; a ``total`` row last.
    """
    if population == "treated" and not _treated_shown(cohort, min_group_size):
        adverse_events = adverse_events.iloc[:0]
    ae = _in_population(adverse_events, population_mask(cohort, population))
    table = pd.crosstab(ae["event"], ae["severity"]).reindex(columns=list(SEVERITIES), fill_value=0)
    table["serious"] = ae.groupby("event")["serious"].sum().reindex(table.index).fillna(0).astype(int)
    table = table.reindex(_ordered_events(ae["event"]))
    table["total"] = table[list(SEVERITIES)].sum(axis=1)
    table.loc["total"] = table.sum(axis=0)
    table.index.name = "event"
    table.columns.name = None
    return table.astype(int)


def treatment_table(cohort: pd.DataFrame, adverse_events: pd.DataFrame,
                    population: str = "included", *, min_group_size: int = 1) -> pd.DataFrame:
    """How side effects were treated: occurrences by event and treatment given.

    Parameters
    ----------
    min_group_size : int
        A treatment (free text) given to fewer patients of the population is
        printed ``other`` (:func:`ketanb.disclosure.pool_rare_text`, contract section 5).

    Returns
    -------
    pandas.DataFrame
        Columns ``event``, ``treatment`` (``"none"`` when the cell was empty),
        ``occurrences``; events in contract order, treatments by frequency.
    """
    ae = _in_population(adverse_events, population_mask(cohort, population))
    treatment = ae["treatment"].astype("string").str.strip().str.lower()
    given = (treatment.notna() & (treatment != "")).to_numpy(dtype=bool)
    pairs = pd.DataFrame({"patient": ae["patient"].to_numpy()[given], "treatment": treatment.to_numpy()[given]})
    pairs = pairs.drop_duplicates()                  # held by: a patient counts once per treatment
    pairs["printed"] = pool_rare_text(pairs["treatment"], min_group_size).to_numpy()
    printed = dict(zip(pairs["treatment"], pairs["printed"]))
    treatment = treatment.map(lambda t: "none" if pd.isna(t) or t == "" else printed[t])
    counts = (pd.DataFrame({"event": ae["event"].to_numpy(), "treatment": treatment.to_numpy()})
              .value_counts().rename("occurrences").reset_index())
    order = {e: i for i, e in enumerate(EVENTS)}
    counts["_order"] = counts["event"].map(order)
    counts = counts.sort_values(["_order", "occurrences", "treatment"], ascending=[True, False, True])
    return counts.drop(columns="_order").reset_index(drop=True).astype({"occurrences": np.int64})


def titles(summary: dict) -> dict:
    """The titles of stage 04's tables, by name (``summary``: :func:`side_effect_summary`, which says whether
    the treated patients' severities are withheld)."""
    withheld = "" if summary["treated"]["severity"] is not None else \
        ": not shown (too few excluded patients: they would be theirs by subtraction)"
    return {"side_effects": "Patients with each side effect (% of the population) and occurrences",
            "severity_treated": f"Occurrences by severity, all treated patients{withheld}",
            "severity": "Occurrences by severity, included patients",
            "treatment": "Treatment given for each side effect"}


@dataclass(frozen=True)
class SideEffects:
    """What stage 04 gives: every result it shows, writes or draws.

    Attributes
    ----------
    summary : dict
        :func:`side_effect_summary`: the ``side_effects`` section of results.json.
    table : pandas.DataFrame
        :func:`side_effect_table` of the summary.
    severity_treated, severity : pandas.DataFrame or None
        :func:`severity_table` of all treated patients and of the included ones.
    treatment : pandas.DataFrame or None
        :func:`treatment_table` of the included patients (these three None when :func:`run` was asked for
        no tables).
    titles : dict
        :func:`titles` of the tables.
    """

    summary: dict
    table: pd.DataFrame
    severity_treated: pd.DataFrame | None
    severity: pd.DataFrame | None
    treatment: pd.DataFrame | None
    titles: dict


def run(cohort: pd.DataFrame, infusions: pd.DataFrame, adverse_events: pd.DataFrame, params: Params, *,
        tables: bool = True) -> SideEffects:
    """Stage 04: the side effects of the cohort (:func:`ketanb.cleaning.derive_cohort`) in both populations.

    ``tables`` False: the ``side_effects`` section alone (the severity and treatment tables None), what
    :func:`ketanb.analysis.analyse` needs: at a million patients they would take seconds.
    """
    size = params.min_group_size
    summary = side_effect_summary(cohort, infusions, adverse_events, confidence=params.confidence,
                                  min_group_size=size)
    if not tables:
        return SideEffects(summary, side_effect_table(summary), None, None, None, titles(summary))
    return SideEffects(summary, side_effect_table(summary),
                       severity_table(cohort, adverse_events, "treated", min_group_size=size),
                       severity_table(cohort, adverse_events, "included"),
                       treatment_table(cohort, adverse_events, "included", min_group_size=size), titles(summary))
