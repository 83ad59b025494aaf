"""The pooled analysis as the report shows it: tables, the summary paragraph, the data banner.

The numbers come from :func:`ketanb.pooling.pool` (the content of ``pooled.json``) and are
written by :mod:`ketanb.presentation.tables`, as everywhere else.
"""
from __future__ import annotations

import pandas as pd

from .notices import pooled_banner
from .tables import (ci_label, confidence_text, favorable_rule, interval, literal, p_is, pct, statistic, tau2,
                     with_interval)

__all__ = ["FOREST_MAX_SITES", "FEW_SITES", "site_table", "group_table", "describe", "synthetic_note"]

#: The forest plot draws at most this many sites (the largest); the others are summarised in a line.
FOREST_MAX_SITES = 50
#: Below this many sites the prediction interval and the I² interval are very uncertain (the reports say so).
FEW_SITES = 5


def _with_ci(entry: dict, low: str = "ci_low", high: str = "ci_high") -> str:
    """``51.1 % (37.0 % to 65.0 %)``; ``-`` without a proportion."""
    return with_interval(entry["proportion"], entry[low], entry[high], pct)


def site_table(pooled: dict) -> pd.DataFrame:
    """One row per site and two last rows with the pooled estimate.

    Columns ``site``, ``n``, ``favorable``, ``% (CI)`` and ``weight %``
    (random-effects weight share). A site's interval is the one the pooling
    uses: on the logit scale, back-transformed (``logit_ci_low``,
    ``logit_ci_high``; a site's own report gives its Wilson interval). The
    row ``pooled (random effects)`` has the DerSimonian-Laird interval, the
    row ``pooled, HKSJ interval`` the Hartung-Knapp-Sidik-Jonkman one. Show
    it with :func:`ketanb.presentation.tables.show` (no index column).
    """
    ci = f"favorable ({ci_label(pooled['confidence'])})"
    re_ = pooled["random_effects"]
    rows = [{"site": name, "n": s["n"], "favorable": s["favorable"],
             ci: _with_ci(s, "logit_ci_low", "logit_ci_high"), "weight %": round(100 * s["weight"], 1)}
            for name, s in pooled["sites"].items()]
    rows.append({"site": "pooled (random effects)", "n": pooled["n"], "favorable": pooled["favorable"],
                 ci: _with_ci(re_), "weight %": 100.0})
    rows.append({"site": "pooled, HKSJ interval", "n": pooled["n"], "favorable": pooled["favorable"],
                 ci: _with_ci(re_, "hksj_ci_low", "hksj_ci_high"), "weight %": 100.0})
    return pd.DataFrame(rows)


def group_table(pooled: dict) -> pd.DataFrame:
    """One row per pooled group: sites, n, favorable, pooled % with the DerSimonian-Laird and the
    Hartung-Knapp-Sidik-Jonkman intervals, I² % and tau² with their Q-profile intervals."""
    level = ci_label(pooled["confidence"])
    columns = [pooled["group_by"], "sites", "n", "favorable", f"% ({level})", f"% ({level}, HKSJ)",
               f"I² ({level})", f"tau² ({level})"]
    rows = [[name, g["sites"], g["n"], g["favorable"], _with_ci(g), _with_ci(g, "hksj_ci_low", "hksj_ci_high"),
             f"{pct(g['i2'])} ({interval(g['i2_ci_low'], g['i2_ci_high'], pct)})",
             f"{tau2(g['tau2'])} ({interval(g['tau2_ci_low'], g['tau2_ci_high'], tau2)})"]
            for name, g in pooled["groups"].items()]
    return pd.DataFrame(rows, columns=columns)


def describe(pooled: dict) -> str:
    """A Markdown paragraph stating the pooled estimate and its heterogeneity, from the numbers.

    It gives the DerSimonian-Laird and the Hartung-Knapp-Sidik-Jonkman
    intervals, I² and tau² with their Q-profile intervals, the prediction
    interval and, with fewer than :data:`FEW_SITES` sites, that the prediction
    interval and the I² interval are very uncertain. Site names are escaped
    (:func:`~ketanb.presentation.tables.literal`); more than :data:`FOREST_MAX_SITES` sites are counted, not named.
    """
    re_ = pooled["random_effects"]
    level = ci_label(pooled["confidence"])
    names = list(pooled["sites"])
    listed = f" ({', '.join(literal(name) for name in names)}; " if len(names) <= FOREST_MAX_SITES else " ("
    text = (f"Pooled over {len(names)} sites{listed}{pooled['n']} patients, "
            f"{pooled['favorable']} with a favorable outcome), the random-effects estimate of the "
            f"proportion with a favorable outcome ({favorable_rule(pooled['responder_threshold'], pooled['missing_followup'])}) is "
            f"**{pct(re_['proportion'])}** ({level} {interval(re_['ci_low'], re_['ci_high'], pct)}, "
            f"DerSimonian-Laird). The Hartung-Knapp-Sidik-Jonkman {level}, which allows for the "
            f"uncertainty of tau² and holds its level better with few sites, is "
            f"{interval(re_['hksj_ci_low'], re_['hksj_ci_high'], pct)}. "
            f"Heterogeneity between sites: Q = {statistic(re_['q'])} on {re_['q_df']} degrees of freedom "
            f"({p_is(re_['q_p'])}), I² = {pct(re_['i2'])} ({level} "
            f"{interval(re_['i2_ci_low'], re_['i2_ci_high'], pct)}), tau² = {tau2(re_['tau2'])} "
            f"({level} {interval(re_['tau2_ci_low'], re_['tau2_ci_high'], tau2)}; logit scale; "
            "Q-profile intervals). ")
    if re_["prediction_low"] is None:
        text += "With two sites there is no prediction interval (it needs at least three)."
    else:
        text += (f"The true proportion of a new, similar clinic would lie between "
                 f"{pct(re_['prediction_low'])} and {pct(re_['prediction_high'])} "
                 f"({confidence_text(pooled['confidence'])} prediction interval).")
    if len(names) < FEW_SITES:
        which = ("the interval of I² is" if re_["prediction_low"] is None
                 else "the prediction interval and the interval of I² are")
        text += (f" With fewer than {FEW_SITES} sites {which} very uncertain: a few sites say little "
                 "about how much clinics differ.")
    small = pooled.get("sites_not_pooled") or {}
    if small:
        shown = ", ".join(f"{literal(name)} ({e['n']} patients)" for name, e in list(small.items())[:FOREST_MAX_SITES])
        more = f" and {len(small) - FOREST_MAX_SITES} more" if len(small) > FOREST_MAX_SITES else ""
        text += (f" Not pooled, counts only: {shown}{more}; a site of fewer than min_group_size "
                 "patients shows no proportion of its own.")
    return text


def synthetic_note(pooled: dict) -> str:
    """The data banner of the pooled report (Markdown), true to how many sites ran on synthetic data.

    ``All 3 sites ran on synthetic data ...``, ``1 of 3 sites ran on synthetic
    data ...`` (both loud, headed by the synthetic-data headline), or, when
    none did, that the sites used their own extracts. Counts every site read,
    pooled or not (``synthetic_sites`` of all ``sites`` and ``sites_not_pooled``).
    """
    return pooled_banner(pooled["synthetic_sites"], len(pooled["sites"]) + len(pooled.get("sites_not_pooled") or {}))
