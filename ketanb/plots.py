"""Figures: one style for the whole paper, deterministic PNG files.

Every figure is a :class:`matplotlib.figure.Figure` made without pyplot (no
global state, nothing shown twice in a notebook) and saved by :func:`save`,
which writes byte-identical files for identical inputs and stamps a
"synthetic data" notice on figures made from the synthetic extract.
"""
from __future__ import annotations

import base64
import html
import io
import os

import matplotlib
import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.patches import FancyBboxPatch

from .contract import EXCLUSION_REASONS
from .io import write_bytes

__all__ = ["STYLE", "MECHANISM_COLOURS", "OUTCOME_COLOURS", "new_figure", "save", "flow_diagram",
           "paired_nrs", "reduction_distribution", "subgroup_proportions", "side_effect_bars", "responder_curves",
           "sensitivity_forest", "SavedFigure"]

STYLE = {
    "font.family": "DejaVu Sans", "font.size": 9, "axes.titlesize": 10, "axes.labelsize": 9,
    "xtick.labelsize": 8, "ytick.labelsize": 8, "legend.fontsize": 8, "legend.frameon": False,
    "axes.spines.top": False, "axes.spines.right": False, "axes.grid": False,
    "figure.dpi": 100, "savefig.dpi": 150, "svg.hashsalt": "ketanb", "path.simplify": True,
}
#: Colours of the pain mechanisms (Okabe-Ito, colour-blind safe), used by every figure.
MECHANISM_COLOURS = {"neuropathic": "#0072B2", "nociceptive": "#E69F00", "nociplastic": "#009E73",
                     "unclassified": "#999999"}
OUTCOME_COLOURS = {"favorable": "#009E73", "unfavorable": "#D55E00", "neutral": "#555555"}
_FALLBACK = ["#56B4E9", "#CC79A7", "#F0E442", "#0072B2", "#E69F00", "#009E73", "#D55E00"]
REASON_LABELS = {
    "outside_study_period": "first infusion outside study period",
    "not_racemic": "not racemic ketamine",
    "no_test_dose": "no test dose",
    "off_protocol_dose": "off-protocol dose",
    "test_dose_only": "test dose only",
    "no_baseline_nrs": "no baseline NRS",
}


def group_colour(group: str, position: int) -> str:
    """Colour of a subgroup: the mechanism colours, otherwise a fixed palette by position."""
    return MECHANISM_COLOURS.get(group, _FALLBACK[position % len(_FALLBACK)])


def new_figure(width: float = 6.0, height: float = 4.0) -> Figure:
    """A figure in the project's style (sizes in inches)."""
    with matplotlib.rc_context(STYLE):
        fig = Figure(figsize=(width, height), layout="constrained")
    return fig


class SavedFigure:
    """A saved figure as a notebook shows it: the PNG with its alt text and caption.

    Displayed as HTML (``<figure>`` with ``alt`` and ``<figcaption>``), so the
    rendered reports carry both; the PNG bytes are those of the saved file.
    """

    def __init__(self, data: bytes, path: str, alt: str, caption: str):
        self.data, self.path, self.alt, self.caption = data, path, alt, caption

    def _repr_html_(self) -> str:
        encoded = base64.b64encode(self.data).decode("ascii")
        caption = html.escape(self.caption or self.alt)
        return (f'<figure class="ketanb-figure" style="margin:0 0 1em 0">'
                f'<img src="data:image/png;base64,{encoded}" alt="{html.escape(self.alt, quote=True)}" '
                f'style="max-width:100%;height:auto">'
                f"<figcaption><b>{html.escape(self.path)}</b>: {caption}</figcaption></figure>")

    def __repr__(self) -> str:
        return f"<figure {self.path}: {self.alt}>"


def save(fig: Figure, path: str | os.PathLike, *, synthetic: bool, alt: str, caption: str = "") -> SavedFigure:
    """Save a figure as PNG, byte-identical for identical content, and return it for display.

    Parameters
    ----------
    fig : Figure
    path : path-like
        Target ``.png`` (relative to the project root).
    synthetic : bool
        Stamp "Synthetic data" in the bottom corner.
    alt : str
        Alternative text: what the figure shows, for readers who cannot see it.
    caption : str, optional
        Caption under the figure in the reports (default: the alt text).

    Returns
    -------
    SavedFigure
        The saved bytes with alt text and caption, so a notebook shows exactly
        the committed file.
    """
    if synthetic:  # a suptitle gets its own room in the constrained layout: it never covers data
        fig.suptitle("SYNTHETIC DATA - not patient records", x=0.99, ha="right", fontsize=7,
                     color="#B00020")
    buffer = io.BytesIO()
    with matplotlib.rc_context(STYLE):
        fig.savefig(buffer, format="png", metadata={"Software": None})
    data = buffer.getvalue()
    write_bytes(path, data)
    return SavedFigure(data, str(path), alt, caption)


def _box(ax, x, y, text, *, width=0.36, height=0.1, colour="#333333", face="white"):
    ax.add_patch(FancyBboxPatch((x - width / 2, y - height / 2), width, height,
                                boxstyle="round,pad=0.005,rounding_size=0.01",
                                linewidth=1, edgecolor=colour, facecolor=face))
    ax.text(x, y, text, ha="center", va="center", fontsize=8.5, wrap=True)


def _arrow(ax, x0, y0, x1, y1):
    ax.annotate("", xy=(x1, y1), xytext=(x0, y0),
                arrowprops={"arrowstyle": "-|>", "color": "#333333", "linewidth": 1})


def flow_diagram(flow: dict, outcome: dict, *, threshold: float, missing_followup: str) -> Figure:
    """Participant flow: treated -> excluded by reason -> included -> favorable / unfavorable.

    Parameters
    ----------
    flow : dict
        The ``cohort`` section (:func:`ketanb.cleaning.flow_counts`).
    outcome : dict
        The ``outcome`` section (:func:`ketanb.outcomes.outcome_summary`).
    """
    fig = new_figure(7.0, 5.2)
    ax = fig.add_subplot()
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.axis("off")
    excluded = sum(flow["excluded"].values())
    _box(ax, 0.3, 0.92, f"Treated with ketamine infusions\nn = {flow['treated']}")
    reasons = "\n".join(f"{REASON_LABELS[r]}: {flow['excluded'][r]}" for r in EXCLUSION_REASONS)
    _box(ax, 0.77, 0.68, f"Excluded, n = {excluded}\n{reasons}", width=0.42, height=0.3)
    _arrow(ax, 0.3, 0.87, 0.3, 0.5)
    _arrow(ax, 0.3, 0.68, 0.56, 0.68)
    _box(ax, 0.3, 0.45, f"Included: treated per protocol\nn = {flow['included']}")
    not_evaluable = flow["included"] - outcome["n"]
    y_out = 0.14
    if not_evaluable:
        _box(ax, 0.77, 0.3, f"Not evaluable: no follow-up NRS\nn = {not_evaluable}", width=0.42, height=0.1)
        _arrow(ax, 0.3, 0.3, 0.56, 0.3)
    unfavorable = outcome["n"] - outcome["favorable"]
    pct = f"{100 * outcome['proportion']:.1f}%" if outcome["proportion"] is not None else "-"
    _arrow(ax, 0.3, 0.4, 0.13, y_out + 0.06)
    _arrow(ax, 0.3, 0.4, 0.49, y_out + 0.06)
    _box(ax, 0.13, y_out, f"Favorable\n(>= {threshold:g}% NRS reduction)\nn = {outcome['favorable']} ({pct})",
         width=0.25, height=0.12, colour=OUTCOME_COLOURS["favorable"])
    missing_note = ("\nincl. missing follow-up" if missing_followup == "nonresponder"
                    and outcome["missing_followup"] else "")
    _box(ax, 0.49, y_out, f"Unfavorable\nn = {unfavorable}{missing_note}", width=0.25, height=0.12,
         colour=OUTCOME_COLOURS["unfavorable"])
    ax.set_title("Participant flow")
    return fig


def paired_nrs(outcomes: pd.DataFrame) -> Figure:
    """Baseline vs follow-up NRS of the included patients with a follow-up, as counts per pair.

    Each disc is a (baseline, follow-up) pair, its area proportional to the
    number of patients with it (no individual is identifiable); colour shows
    the outcome. The dashed line is no change, the dotted line a 50 % reduction.
    """
    d = outcomes[outcomes["has_followup"].to_numpy(dtype=bool)]
    fig = new_figure(5.2, 4.6)
    ax = fig.add_subplot()
    lack = d["discontinuation"].eq("lack_of_effect").fillna(False).to_numpy(dtype=bool)
    kinds = np.where(d["favorable"].to_numpy(dtype=bool), "favorable",
                     np.where(lack, "stopped for lack of effect", "unfavorable"))
    styles = {"favorable": OUTCOME_COLOURS["favorable"], "unfavorable": OUTCOME_COLOURS["unfavorable"],
              "stopped for lack of effect": "#7F3C8D"}
    pairs = pd.DataFrame({"b": d["baseline_nrs"].to_numpy(float), "f": d["followup_nrs"].to_numpy(float),
                          "k": kinds}).value_counts().rename("n").reset_index()
    for kind, colour in styles.items():
        sub = pairs[pairs["k"] == kind]
        if len(sub):
            ax.scatter(sub["b"], sub["f"], s=30 * sub["n"], color=colour, alpha=0.65, edgecolor="white",
                       linewidth=0.5, label=f"{kind} (n = {int(sub['n'].sum())})")
    ax.plot([0, 10], [0, 10], ls="--", color="#777777", lw=0.8)
    ax.plot([0, 10], [0, 5], ls=":", color="#333333", lw=0.8)
    ax.text(9.9, 9.6, "no change", ha="right", fontsize=7, color="#555555")
    ax.text(9.9, 4.5, "50% reduction", ha="right", fontsize=7, color="#333333")
    ax.set_xlim(-0.3, 10.3)
    ax.set_ylim(-0.3, 10.3)
    ax.set_xticks(range(0, 11))
    ax.set_yticks(range(0, 11))
    ax.set_xlabel("Baseline pain (NRS, 0-10)")
    ax.set_ylabel("Follow-up pain (NRS, 0-10)")
    ax.set_title(f"Pain before and after the infusion series\n(included patients with a follow-up NRS, n = {len(d)})")
    ax.legend(loc="upper left", markerscale=0.5)
    return fig


def reduction_distribution(outcomes: pd.DataFrame, *, threshold: float) -> Figure:
    """Histogram of the percent NRS reduction, the responder threshold marked."""
    values = outcomes.loc[outcomes["has_followup"].to_numpy(dtype=bool), "reduction_pct"].to_numpy(float)
    fig = new_figure(6.0, 3.6)
    ax = fig.add_subplot()
    low = min(-50.0, np.floor(values.min() / 10) * 10) if len(values) else -50.0
    bins = np.arange(low, 110, 10)
    ax.hist(values[values < threshold - 1e-9], bins=bins, color=OUTCOME_COLOURS["unfavorable"], alpha=0.8,
            label=f"below {threshold:g}%")
    ax.hist(values[values >= threshold - 1e-9], bins=bins, color=OUTCOME_COLOURS["favorable"], alpha=0.8,
            label=f"{threshold:g}% or more")
    ax.axvline(threshold, color="#222222", ls="--", lw=1)
    ax.text(threshold, ax.get_ylim()[1] * 0.97, f" threshold {threshold:g}%", va="top", fontsize=8)
    ax.axvline(0, color="#999999", lw=0.8)
    ax.set_xlabel("Reduction in pain from baseline (%; negative = worse)")
    ax.set_ylabel("Patients")
    missing = int((~outcomes["has_followup"].to_numpy(dtype=bool)).sum())
    ax.set_title(f"Pain reduction, included patients with follow-up\n(n = {len(values)}; "
                 f"{missing} without follow-up not shown)")
    ax.legend(loc="upper left")
    return fig


def subgroup_proportions(table: pd.DataFrame, overall: dict, *, group_by: str, confidence: float,
                         p_value: float | None) -> Figure:
    """Proportion favorable per subgroup with Wilson CI bars and the overall proportion."""
    fig = new_figure(6.0, 0.9 + 0.55 * max(len(table), 2))
    ax = fig.add_subplot()
    y = np.arange(len(table))[::-1]
    for i, row in enumerate(table.itertuples(index=False)):
        colour = group_colour(row.group, i)
        ax.errorbar(100 * row.proportion, y[i],
                    xerr=[[100 * (row.proportion - row.ci_low)], [100 * (row.ci_high - row.proportion)]],
                    fmt="o", color=colour, capsize=3, markersize=6)
        ax.text(101, y[i], f"{row.favorable}/{row.n} ({100 * row.proportion:.0f}%)", va="center", fontsize=8)
    if overall.get("proportion") is not None:
        ax.axvline(100 * overall["proportion"], color="#555555", ls="--", lw=0.8)
        ax.text(100 * overall["proportion"], len(table) - 0.45,
                f"overall {100 * overall['proportion']:.1f}%", ha="center", fontsize=7, color="#555555")
    ax.set_yticks(y, table["group"].tolist())
    ax.set_xlim(0, 125)
    ax.set_xticks(range(0, 101, 20))
    ax.set_ylim(-0.6, len(table) - 0.3)
    ax.set_xlabel(f"Favorable outcome (%), with {100 * confidence:g}% Wilson confidence interval")
    ax.set_ylabel(group_by.replace("_", " "))
    p_text = "not computable" if p_value is None else f"{p_value:.3f}"
    ax.set_title(f"Favorable outcome by {group_by.replace('_', ' ')}\n"
                 f"(Fisher-Freeman-Halton p = {p_text})")
    return fig


def side_effect_bars(table: pd.DataFrame, *, confidence: float) -> Figure:
    """Share of patients with each side effect, treated vs included population, with Wilson CIs."""
    t = table[table["event"] != "any event"]
    events = [e for e in t["event"].unique()]
    fig = new_figure(6.2, 1.0 + 0.32 * max(len(events), 3))
    ax = fig.add_subplot()
    y = np.arange(len(events))[::-1]
    for offset, (population, colour) in zip((0.18, -0.18), (("treated", "#56B4E9"), ("included", "#0072B2"))):
        sub = t[t["population"] == population].set_index("event").reindex(events)
        p = sub["proportion"].fillna(0).to_numpy(float) * 100
        low = sub["ci_low"].fillna(0).to_numpy(float) * 100
        high = sub["ci_high"].fillna(0).to_numpy(float) * 100
        ax.barh(y + offset, p, height=0.34, color=colour, label=population)
        ax.errorbar(p, y + offset, xerr=[p - low, high - p], fmt="none", ecolor="#333333", lw=0.7, capsize=2)
    ax.set_yticks(y, [e.replace("_", " ") for e in events])
    ax.set_xlabel(f"Patients with the side effect (%), with {100 * confidence:g}% Wilson CI")
    ax.set_title("Side effects during or after the infusions")
    ax.legend(loc="lower right")
    return fig


def responder_curves(curve: pd.DataFrame, *, threshold: float, confidence: float) -> Figure:
    """Share of patients responding at each threshold, overall (with CI band) and by subgroup."""
    fig = new_figure(6.2, 4.0)
    ax = fig.add_subplot()
    overall = curve[curve["group"] == "overall"]
    x = overall["threshold_pct"].to_numpy(float)
    ax.fill_between(x, 100 * overall["ci_low"].to_numpy(float), 100 * overall["ci_high"].to_numpy(float),
                    step="post", color="#333333", alpha=0.12, lw=0,
                    label=f"overall, {100 * confidence:g}% Wilson CI")
    groups = [g for g in curve["group"].unique() if g != "overall"]
    for i, group in enumerate(groups):
        sub = curve[curve["group"] == group]
        ax.step(sub["threshold_pct"], 100 * sub["proportion"], where="post", color=group_colour(group, i),
                lw=1.2, label=f"{group} (n = {int(sub['n'].iloc[0])})")
    ax.step(x, 100 * overall["proportion"].to_numpy(float), where="post", color="#111111", lw=2,
            label=f"overall (n = {int(overall['n'].iloc[0])})")
    ax.axvline(threshold, color="#222222", ls="--", lw=1)
    at = overall[np.isclose(overall["threshold_pct"], threshold)]
    if len(at):
        ax.text(threshold + 1, 98, f"threshold {threshold:g}%: {int(at['responders'].iloc[0])}/"
                f"{int(at['n'].iloc[0])} ({100 * float(at['proportion'].iloc[0]):.1f}%)", va="top", fontsize=8)
    ax.set_xlim(0, 100)
    ax.set_ylim(0, 100)
    ax.set_xlabel("Threshold: reduction in pain from baseline (%)")
    ax.set_ylabel("Patients with at least that reduction (%)")
    ax.set_title("Responder analysis: favorable outcome at every threshold")
    ax.legend(loc="lower left")
    return fig


def sensitivity_forest(table: pd.DataFrame, *, confidence: float) -> Figure:
    """Favorable proportion under each sensitivity analysis, main analysis in bold."""
    fig = new_figure(6.2, 1.0 + 0.45 * len(table))
    ax = fig.add_subplot()
    y = np.arange(len(table))[::-1]
    for i, row in enumerate(table.itertuples(index=False)):
        colour = "#111111" if row.main_analysis else "#0072B2"
        ax.errorbar(100 * row.proportion, y[i],
                    xerr=[[100 * (row.proportion - row.ci_low)], [100 * (row.ci_high - row.proportion)]],
                    fmt="s" if row.main_analysis else "o", color=colour, capsize=3, markersize=6)
        ax.text(101, y[i], f"{row.favorable}/{row.n} ({100 * row.proportion:.1f}%)", va="center", fontsize=8)
    labels = [f"{a} (main)" if m else a for a, m in zip(table["analysis"], table["main_analysis"])]
    ax.set_yticks(y, labels)
    ax.set_xlim(0, 125)
    ax.set_xticks(range(0, 101, 20))
    ax.set_xlabel(f"Favorable outcome (%), with {100 * confidence:g}% Wilson confidence interval")
    ax.set_title("Sensitivity analyses\n(one assumption changed at a time)")
    return fig
