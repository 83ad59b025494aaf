"""Stage 4, side effects: events per patient and per occurrence, in two populations."""
from __future__ import annotations

import numpy as np
import pandas as pd

from .contract import EVENTS, SEVERITIES
from .stats import proportion

__all__ = ["POPULATIONS", "population_mask", "side_effect_summary", "side_effect_table",
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


def _in_population(frame: pd.DataFrame, members: np.ndarray) -> pd.DataFrame:
    """Rows of infusions or adverse events whose patient (``patient``: cohort row) is a member."""
    return frame[members[frame["patient"].to_numpy()]]


def _ordered_events(present) -> list[str]:
    return [e for e in EVENTS if e in set(present)]


def side_effect_summary(cohort: pd.DataFrame, infusions: pd.DataFrame,
                        adverse_events: pd.DataFrame) -> dict:
    """The ``side_effects`` section of results.json.

    Returns
    -------
    dict
        For ``treated`` and ``included``: ``patients`` (in the population),
        ``infusions`` (sessions of that population), ``patients_with_any``
        (distinct patients with at least one event), ``serious`` (rows with
        serious = yes), ``events`` (``{event: {patients, occurrences}}`` for
        every event that occurs at least once, in the contract's order) and
        ``severity`` (occurrences by severity, all three listed).
    """
    section = {}
    for population in POPULATIONS:
        members = population_mask(cohort, population)
        ae = _in_population(adverse_events, members)
        event = ae["event"].astype(pd.CategoricalDtype(list(EVENTS))).cat.codes.to_numpy()
        patient = ae["patient"].to_numpy()
        had = np.zeros((len(cohort), len(EVENTS)), dtype=bool)   # patient had this event at least once
        had[patient, event] = True
        patients = had.sum(axis=0)
        occurrences = np.bincount(event, minlength=len(EVENTS))
        severity = ae["severity"].value_counts()
        section[population] = {
            "patients": int(members.sum()),
            "infusions": int(members[infusions["patient"].to_numpy()].sum()),
            "patients_with_any": int(had.any(axis=1).sum()),
            "serious": int(ae["serious"].to_numpy(dtype=bool).sum()),
            "events": {e: {"patients": int(patients[i]), "occurrences": int(occurrences[i])}
                       for i, e in enumerate(EVENTS) if occurrences[i]},
            "severity": {s: int(severity.get(s, 0)) for s in SEVERITIES},
        }
    return section


def side_effect_table(summary: dict, *, confidence: float = 0.95) -> pd.DataFrame:
    """Per event and population: patients, % of patients with a Wilson CI, occurrences, per 100 infusions.

    Parameters
    ----------
    summary : dict
        As returned by :func:`side_effect_summary`.

    Returns
    -------
    pandas.DataFrame
        Columns ``population``, ``event``, ``patients``, ``proportion``,
        ``ci_low``, ``ci_high``, ``occurrences``, ``per_100_infusions``; an
        ``any event`` row first in each population.
    """
    rows = []
    for population in POPULATIONS:
        s = summary[population]
        items = [("any event", s["patients_with_any"], sum(v["occurrences"] for v in s["events"].values()))]
        items += [(e, v["patients"], v["occurrences"]) for e, v in s["events"].items()]
        for event, patients, occurrences in items:
            p = proportion(patients, s["patients"], confidence)
            rows.append({"population": population, "event": event, "patients": patients,
                         "proportion": p.proportion, "ci_low": p.ci_low, "ci_high": p.ci_high,
                         "occurrences": occurrences,
                         "per_100_infusions": 100 * occurrences / s["infusions"] if s["infusions"] else None})
    return pd.DataFrame(rows)


def severity_table(cohort: pd.DataFrame, adverse_events: pd.DataFrame,
                   population: str = "included") -> pd.DataFrame:
    """Occurrences by event and severity, with serious ones, in one population.

    Returns
    -------
    pandas.DataFrame
        Index ``event`` (contract order, events that occur), columns ``mild``,
        ``moderate``, ``severe``, ``serious``, ``total``; a ``total`` row last.
    """
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
                    population: str = "included") -> pd.DataFrame:
    """How side effects were treated: occurrences by event and treatment given.

    Returns
    -------
    pandas.DataFrame
        Columns ``event``, ``treatment`` (``"none"`` when the cell was empty),
        ``occurrences``; events in contract order, treatments by frequency.
    """
    ae = _in_population(adverse_events, population_mask(cohort, population))
    treatment = ae["treatment"].astype("string").str.strip().str.lower()
    treatment = treatment.mask(treatment.isna() | (treatment == ""), "none")
    counts = (pd.DataFrame({"event": ae["event"].to_numpy(), "treatment": treatment.to_numpy()})
              .value_counts().rename("occurrences").reset_index())
    order = {e: i for i, e in enumerate(EVENTS)}
    counts["_order"] = counts["event"].map(order)
    counts = counts.sort_values(["_order", "occurrences", "treatment"], ascending=[True, False, True])
    return counts.drop(columns="_order").reset_index(drop=True).astype({"occurrences": np.int64})
