"""Figures: one style for the whole paper, saved as reproducible PNG and SVG files.

Each figure function returns a :class:`matplotlib.figure.Figure` made without pyplot
(no global state) inside ``matplotlib.rc_context(STYLE)``, so the user's own matplotlib
settings stay as they are. Figures are drawn at a journal's column widths
(:data:`SINGLE_COLUMN`, :data:`DOUBLE_COLUMN`) with no text smaller than
:data:`MIN_FONT_SIZE` points, so they are printed at 100 %. Proportions come in as
fractions (0.511) and are drawn as percentages (:func:`ketanb.presentation.tables.pct`);
``confidence`` is the level of the intervals (0.95) and ``threshold`` the responder
threshold (% NRS reduction).

Every figure's alt text and caption have one home: :data:`CAPTIONS`, filled by the
decorator written right above the function that draws it. :func:`save` takes them from
there and lists each saved figure in ``saved-figures/`` of the working directory (the
build folder), which the reports' index reads (:mod:`ketanb.presentation.index`).
"""
from __future__ import annotations

import base64
import dataclasses
import functools
import html
import io
import os
import textwrap
from pathlib import Path

import matplotlib
import matplotlib.text
import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from ..disclosure import disclose
from ..input.contract import REASON_LABELS
from ..outcomes import MISSING_LABELS
from ..output.files import SAVED_FIGURES, write_json
from ..output.writing import write_bytes
from ..params import DEFAULTS
from .notices import FIGURE_LABEL
from .pooled_report import FOREST_MAX_SITES
from .tables import (ci_label, confidence_text, count_text, favorable_rule, interval, p_is, parameter_percent, pct,
                     points, ratio, tau2, with_interval, words)

__all__ = ["STYLE", "SINGLE_COLUMN", "DOUBLE_COLUMN", "MIN_FONT_SIZE", "MECHANISM_COLOURS",
           "OUTCOME_COLOURS", "Caption", "CAPTIONS", "SAVED_FIGURES", "SavedFigure", "new_figure", "save", "flow_diagram", "nrs_before_after", "reduction_distribution", "sensitivity_forest",
           "responder_curves", "subgroup_proportions", "side_effect_bars", "risk_difference_forest",
           "pooled_forest"]


#: A journal's single and double column widths (inches): every figure is drawn at one of them.
SINGLE_COLUMN, DOUBLE_COLUMN = 3.5, 7.0
#: The smallest text of any figure (points), at the width it is drawn at.
MIN_FONT_SIZE = 7.0

#: Seaborn's "paper" context and "ticks" style with text of 7.5-8.5 points, a fixed font,
#: no top/right spines, 300 dpi, SVG text kept as text (editable; the font is named, not
#: embedded) and a fixed SVG id salt (the same file on every run).
STYLE = {**sns.plotting_context("paper"), **sns.axes_style("ticks"),
         "font.family": "sans-serif", "font.sans-serif": ["DejaVu Sans"], "font.size": 8.0,
         "axes.titlesize": 8.5, "axes.labelsize": 8.0, "xtick.labelsize": 7.5, "ytick.labelsize": 7.5,
         "legend.fontsize": 7.5, "legend.title_fontsize": 8.0,
         "axes.spines.top": False, "axes.spines.right": False, "legend.frameon": False,
         "figure.dpi": 100, "savefig.dpi": 300, "svg.hashsalt": "ketanb", "svg.fonttype": "none",
         "text.usetex": False, "text.parse_math": False}   # text from the data ("$\\foo$") is drawn as written
_SMALL = 7.5   # points: notes beside the rows, labels inside the axes

# Okabe-Ito colours (colour-blind safe); grey for "unclassified".
MECHANISM_COLOURS = {"neuropathic": "#0072B2", "nociceptive": "#E69F00", "nociplastic": "#CC79A7",
                     "other": "#56B4E9", "unclassified": "#999999"}
OUTCOME_COLOURS = {"favorable": "#009E73", "unfavorable": "#D55E00"}
_BLUE, _GREY = MECHANISM_COLOURS["neuropathic"], "0.35"
# Colours of groups that are not pain mechanisms, by position.
_OTHER_GROUPS = [*list(MECHANISM_COLOURS.values())[:4], *OUTCOME_COLOURS.values(), "#000000"]


# --- style, captions and files --------------------------------------------------------------------

def _styled(make_figure):
    """Decorator: run a whole figure function inside the project style (artists read it when made)."""
    @functools.wraps(make_figure)
    def styled(*args, **kwargs):
        with matplotlib.rc_context(STYLE):
            return make_figure(*args, **kwargs)
    return styled


@_styled
def new_figure(width: float = SINGLE_COLUMN, height: float = 2.8) -> Figure:
    """An empty figure of ``width`` x ``height`` inches, constrained layout (add axes inside ``STYLE``)."""
    return Figure(figsize=(width, height), layout="constrained")


@dataclasses.dataclass(frozen=True)
class Caption:
    """What a figure shows: ``alt`` for readers who cannot see it, ``caption`` under it in the reports."""

    alt: str
    caption: str


#: The alt text and caption of every figure, by the name of the function that draws it: their one
#: home, filled by ``@_figure(...)`` above each function (the order is the paper's). The notebooks
#: and the reports' index take them from here, through :func:`save`.
CAPTIONS: dict[str, Caption] = {}


def _figure(*, alt: str, caption: str):
    """Decorator of a figure function: its alt text and caption go to :data:`CAPTIONS`.

    The function runs inside :data:`STYLE` (as :func:`_styled`), and the figure it returns
    is labelled with the function's name, by which :func:`save` finds the caption.
    """
    def decorate(make_figure):
        name = make_figure.__name__
        CAPTIONS[name] = Caption(alt, caption)
        styled = _styled(make_figure)

        @functools.wraps(make_figure)
        def drawn(*args, **kwargs):
            fig = styled(*args, **kwargs)
            fig.set_label(name)
            return fig
        return drawn
    return decorate


@dataclasses.dataclass(frozen=True)
class SavedFigure:
    """A saved figure, shown in notebooks as HTML: the image and its caption."""

    data: bytes = dataclasses.field(repr=False)
    path: str
    alt: str
    caption: str = ""

    def _repr_html_(self) -> str:
        encoded = base64.b64encode(self.data).decode("ascii")
        caption = html.escape(self.caption or self.alt)
        return (f'<figure class="ketanb-figure" style="margin:0 0 1em 0">'
                f'<img src="data:image/png;base64,{encoded}" alt="{html.escape(self.alt, quote=True)}" '
                f'style="max-width:100%;height:auto">'
                f"<figcaption><b>{html.escape(self.path)}</b>: {caption}</figcaption></figure>")


def save(fig: Figure, path: str | os.PathLike, *, synthetic: bool, alt: str | None = None,
         caption: str | None = None) -> SavedFigure:
    """Save a figure as a 300-dpi PNG and an SVG next to it, byte-identical across rebuilds, and list it.

    The list entry, ``saved-figures/<file name>.json`` under the working directory
    (:data:`SAVED_FIGURES`), holds the path, the SVG's path, the figure function, the
    alt text and the caption: the reports' index reads it.

    Parameters
    ----------
    fig : Figure
    path : str or path-like
        Target ``.png``.
    synthetic : bool
        Stamp :data:`ketanb.presentation.notices.FIGURE_LABEL` above the figure.
    alt, caption : str, optional
        Only for a figure not drawn by a figure function of this module (``alt``
        needed, ``caption`` default ``alt``); the others have theirs in
        :data:`CAPTIONS`, and passing either is an error (one home for a caption).

    Returns
    -------
    SavedFigure
    """
    home = CAPTIONS.get(fig.get_label())
    if home is not None:
        if alt is not None or caption is not None:
            raise TypeError(f"the alt text and caption of {fig.get_label()} are in ketanb.presentation.plots.CAPTIONS: "
                            "pass neither to save(), or change them there")
        alt, caption = home.alt, home.caption
    elif not alt:
        raise TypeError("save() needs alt text for a figure not drawn by a figure function of ketanb.presentation.plots")
    caption = caption or alt
    with matplotlib.rc_context(STYLE):
        if synthetic:
            fig.suptitle(FIGURE_LABEL, x=0.99, ha="right", fontsize=MIN_FONT_SIZE, color="#B00020")
        for text in fig.findobj(matplotlib.text.Text):       # titles, legends, notes: drawable as written
            text.set_text(_plain(text.get_text()))
        png, svg = io.BytesIO(), io.BytesIO()
        fig.savefig(png, format="png", metadata={"Software": None})  # no version or date in the files
        fig.savefig(svg, format="svg", metadata={"Date": None})
    target = Path(path)
    write_bytes(target, png.getvalue())                      # unchanged bytes: the file is left alone
    write_bytes(target.with_suffix(".svg"), svg.getvalue())
    write_json(Path(SAVED_FIGURES) / f"{target.name}.json",
               {"path": target.as_posix(), "vector": target.with_suffix(".svg").as_posix(),
                "figure": fig.get_label() if home else None,
                "order": list(CAPTIONS).index(fig.get_label()) if home else len(CAPTIONS),   # the paper's order
                "alt": alt, "caption": caption})
    return SavedFigure(png.getvalue(), os.fspath(path), alt, caption)


# --- small helpers -------------------------------------------------------------------------------

@functools.cache
def _glyphs() -> frozenset:
    """The characters the style's font can draw."""
    from matplotlib import font_manager, ft2font

    path = font_manager.findfont(font_manager.FontProperties(family=STYLE["font.sans-serif"]), fallback_to_default=True)
    return frozenset(ft2font.FT2Font(path).get_charmap())


def _plain(text) -> str:
    """``text`` as the font can draw it: a character it lacks is written as its code (``U+4E2D``).

    A missing glyph would be drawn as an empty box and make matplotlib warn (and a warning
    names files on the machine); mathematics is off in :data:`STYLE`, so ``$`` is drawn as is.
    """
    glyphs = _glyphs()
    return "".join(c if ord(c) < 32 or ord(c) in glyphs else f"U+{ord(c):04X}" for c in str(text))


def _pct(value) -> float:
    """A fraction as a percentage; None or NaN give NaN."""
    return np.nan if pd.isna(value) else 100 * float(value)


def _complement(proportion):
    """1 - proportion; None stays None."""
    return None if pd.isna(proportion) else 1 - proportion


def _note(ax, text: str) -> None:
    """A message in the middle of the axes, e.g. "no data"."""
    ax.text(0.5, 0.5, text, transform=ax.transAxes, ha="center", va="center", color=_GREY,
            bbox={"facecolor": "white", "edgecolor": "none"})


def _rows(ax, labels, width: int = 30) -> np.ndarray:
    """Rows top to bottom with wrapped labels as y ticks; returns the y of each row."""
    y = np.arange(len(labels))[::-1].astype(float)
    ax.set_yticks(y, ["\n".join(textwrap.fill(line, width) for line in _plain(label).split("\n")) for label in labels])
    ax.set_ylim(-0.6, max(len(labels), 1) - 0.4)
    return y


def _interval(ax, y, point, low, high, **style) -> None:
    """A point with a horizontal interval (percent) in row ``y``; nothing when the point is missing."""
    if not np.isnan(point):
        ax.errorbar(point, y, xerr=[[point - low], [high - point]], capsize=3, **style)


def _right_text(ax, y, text, weight="normal") -> None:
    """Text at the right of the axes, in row ``y``."""
    ax.text(1.02, y, text, transform=ax.get_yaxis_transform(), va="center", fontsize=_SMALL, fontweight=weight)


def _group_colour(group: str, position: int) -> str:
    """The mechanism colour of a group, otherwise a fixed colour by position."""
    return MECHANISM_COLOURS.get(group, _OTHER_GROUPS[position % len(_OTHER_GROUPS)])


# --- figures, in the order of the paper ----------------------------------------------------------

@_figure(alt="Participant flow: treated patients, the excluded ones by reason, the included patients and "
              "their outcome, favorable or unfavorable, the unfavorable ones by kind",
         caption="Participant flow: every treated patient, excluded for the first reason that applies; the "
                 "included patients (treated per protocol) and their outcome, favorable or unfavorable, the "
                 "unfavorable ones split by kind (reduction below the threshold, stopped for lack of effect, "
                 "follow-up NRS missing). The box of the analysed patients says how many had no follow-up NRS "
                 "and how they were counted.")
def flow_diagram(flow: dict, outcome: dict, *, breakdown: pd.DataFrame, threshold: float,
                 missing_followup: str) -> Figure:
    """Participant flow: treated, excluded by reason, included (and analysed), favorable / unfavorable by kind.

    Parameters
    ----------
    flow : dict
        ``{"treated", "included", "excluded": {reason: count}}``, reasons in flow order.
    outcome : dict
        ``{"n", "favorable", "proportion" (None when n = 0), "missing_followup"}``.
    breakdown : DataFrame
        :func:`ketanb.outcomes.responder_counts` of the same outcomes: its rows
        ``unfavorable: ...`` are the parts of the unfavorable box.
    threshold : float
    missing_followup : {"nonresponder", "exclude", "favorable"}
        How a missing follow-up NRS was counted (``outcomes.MISSING_LABELS``); the
        box of the analysed patients says how many patients that concerns. The part
        "follow-up NRS missing" of the unfavorable outcome is drawn only when they
        count unfavorable ("nonresponder").
    """
    fig = new_figure(DOUBLE_COLUMN, 4.6)
    ax = fig.add_subplot()
    ax.set(xlim=(0, 1), ylim=(0, 1), title="Participant flow")
    ax.set_axis_off()
    pad = 4  # points between a box's text and its frame, and where arrows stop

    def box(x, y, text, colour="0.2", ha="center", va="center"):
        return ax.text(x, y, text, ha=ha, va=va, multialignment="center" if ha == "center" else "left",
                       fontsize=8, bbox={"boxstyle": f"round,pad={pad / 8:.3f}", "facecolor": "white",
                                         "edgecolor": colour, "linewidth": 0.9})

    def arrow(start, end, start_at=(0.5, 0.0), end_at=(0.5, 1.0)):
        """From box to box, ``*_at`` in fractions of the box; ``start="data"``: from the point ``start_at``."""
        ax.annotate("", xy=end_at, xycoords=end, xytext=start_at, textcoords=start,
                    arrowprops={"arrowstyle": "-|>", "color": "0.2", "linewidth": 0.8,
                                "shrinkA": 0 if start == "data" else pad, "shrinkB": pad})

    excluded = flow["excluded"]
    reasons = "".join(f"\n{REASON_LABELS[key]}: {count}" for key, count in excluded.items())
    treated = box(0.3, 0.95, f"Treated with ketamine infusions\nn = {flow['treated']}")
    excluded_box = box(0.52, 0.77, f"Excluded: n = {sum(excluded.values())}{reasons}", ha="left")
    arrow("data", excluded_box, start_at=(0.3, 0.77), end_at=(0.0, 0.5))

    n = outcome["n"]
    counted = outcome["missing_followup"] if missing_followup != "exclude" else 0
    note = f"\n{counted} with {MISSING_LABELS[missing_followup]}" if counted else ""
    if flow["included"] == n:                 # one box: the included patients are the analysed ones
        analysed = box(0.3, 0.56, f"Included and analysed: treated per protocol\nn = {n}{note}")
        arrow(treated, analysed)
    else:
        included = box(0.3, 0.61, f"Included: treated per protocol\nn = {flow['included']}")
        not_analysed = box(0.52, 0.515, f"Not analysed: no follow-up NRS\nn = {flow['included'] - n}", ha="left")
        arrow("data", not_analysed, start_at=(0.3, 0.515), end_at=(0.0, 0.5))
        analysed = box(0.3, 0.425, f"Analysed\nn = {n}{note}")
        arrow(treated, included)
        arrow(included, analysed)
    if n == 0:
        ax.text(0.3, 0.2, f"no {'included' if flow['included'] == 0 else 'analysed'} patients: no outcome",
                ha="center", va="center", color=_GREY)
        return fig

    top = 0.35
    rule = textwrap.fill(favorable_rule(threshold), 28)                  # the rule's words from its one home
    favorable = box(0.14, top, f"Favorable outcome:\n{rule}\n"
                    f"n = {count_text(outcome['favorable'], n, outcome['proportion'])}",
                    colour=OUTCOME_COLOURS["favorable"], va="top")
    unfavorable = box(0.62, top, "Unfavorable outcome\n"
                      f"n = {count_text(n - outcome['favorable'], n, _complement(outcome['proportion']))}",
                      colour=OUTCOME_COLOURS["unfavorable"], va="top")
    arrow(analysed, favorable, start_at=(0.3, 0.0))
    arrow(analysed, unfavorable, start_at=(0.7, 0.0))
    parts = [(label.removeprefix("unfavorable: "), count) for label, count in
             zip(breakdown["outcome"], breakdown["patients"]) if label.startswith("unfavorable: ")
             and (missing_followup == "nonresponder" or "missing" not in label)]
    for i, (label, count) in enumerate(parts):
        x = 0.62 + 0.24 * (i - (len(parts) - 1) / 2)
        part = box(x, 0.08, f"{label[0].upper()}{label[1:]}\nn = {count}", colour=OUTCOME_COLOURS["unfavorable"])
        arrow(unfavorable, part)
    return fig


@_figure(alt="Bar chart of the number of patients at each NRS score, at baseline and at follow-up",
         caption="Pain at baseline and at follow-up: patients per NRS score (included patients with a "
                 "follow-up NRS), medians in the legend; scores counted separately, pairs not shown.")
def nrs_before_after(outcomes: pd.DataFrame, *, min_group_size: int = DEFAULTS.min_group_size) -> Figure:
    """Patients per NRS score at baseline and at follow-up, the medians in the legend.

    Counts per score, not pairs: a patient's own baseline and follow-up are never
    drawn together (contract, section 4: no patient-level row in any figure).

    Parameters
    ----------
    outcomes : DataFrame
        One row per included patient: ``baseline_nrs``, ``followup_nrs``, ``has_followup``.
    min_group_size : int, optional
        With fewer patients with a follow-up, no bars are drawn.
    """
    followed = outcomes[outcomes["has_followup"].to_numpy(bool)]
    fig = new_figure(SINGLE_COLUMN, 2.8)
    ax = fig.add_subplot()
    ax.set(xlim=(-0.6, 10.6), xticks=range(11), xlabel="Pain (NRS, 0-10; a half point counts up)",
           ylabel="Patients (n)")
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_title(f"Pain before and after the infusion series\n"
                 f"patients with a follow-up NRS (n = {len(followed)})")
    if len(outcomes) == 0 or not disclose({"with a follow-up": len(followed)}, min_group_size).whole:
        ax.set(yticks=[])
        _note(ax, "no included patients" if len(outcomes) == 0 else
                  f"fewer than {min_group_size} patients with a follow-up NRS: not shown")
        return fig

    edges = np.arange(-0.5, 11, 1.0)                              # one bar per whole point, 0 to 10
    for offset, label, column, colour in ((-0.2, "baseline", "baseline_nrs", _GREY),
                                          (0.2, "follow-up", "followup_nrs", _BLUE)):
        values = followed[column].to_numpy(float)
        counts, _ = np.histogram(values, bins=edges)
        ax.bar(np.arange(11) + offset, counts, width=0.4, color=colour,
               label=f"{label} (median {np.median(values):g})")
    ax.legend(loc="upper left")
    ax.set_ylim(0, ax.get_ylim()[1] * 1.15)                      # room for the legend
    return fig


@_figure(alt="Histogram of percent pain reduction coloured by outcome, the responder threshold marked",
         caption="Distribution of the percent reduction in pain (included patients with a follow-up NRS), "
                 "coloured by the outcome: a stop for lack of effect is unfavorable whatever the reduction; "
                 "the dashed line is the responder threshold.")
def reduction_distribution(outcomes: pd.DataFrame, *, threshold: float, min_group_size: int = DEFAULTS.min_group_size) -> Figure:
    """Histogram of the percent NRS reduction, the responder threshold marked.

    Colours follow ``favorable``, not the reduction (a stop for lack of effect is unfavorable).

    Parameters
    ----------
    outcomes : DataFrame
        One row per included patient: ``reduction_pct``, ``has_followup``, ``favorable``.
    threshold : float
    min_group_size : int, optional
        With fewer patients with a follow-up NRS, no bar is drawn (each would be one patient's value).
    """
    has = outcomes["has_followup"].to_numpy(bool)
    favorable = outcomes["favorable"].to_numpy(bool)[has]
    labels = [f"favorable (n = {favorable.sum()})", f"not favorable (n = {(~favorable).sum()})"]
    data = pd.DataFrame({"reduction": outcomes["reduction_pct"].to_numpy(float)[has],
                         "outcome": np.where(favorable, labels[0], labels[1])})
    fig = new_figure(SINGLE_COLUMN, 2.9)
    ax = fig.add_subplot()
    ax.set(xlabel="Reduction in pain from baseline (%;\nnegative = more pain)", ylabel="Patients (n)")
    ax.set_title(f"Pain reduction, patients with a follow-up NRS\n"
                 f"(n = {len(data)}; {len(outcomes) - len(data)} without a follow-up NRS not shown)")
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    if data["reduction"].isna().all() or not disclose({"with a follow-up": len(data)}, min_group_size).whole:
        ax.set(xlim=(-50, 100), yticks=[])
        _note(ax, "no included patients" if len(outcomes) == 0 else
              f"fewer than {min_group_size} patients with a follow-up NRS: not shown" if len(data) else "no data")
        return fig

    # 10 % bins with an edge at the threshold (no bar straddles it), from -50 % or less up to 100 %.
    start = threshold - 10 * np.ceil((threshold - min(data["reduction"].min(), -50)) / 10)
    stop = threshold + 10 * np.ceil((100 - threshold) / 10)
    sns.histplot(data, x="reduction", hue="outcome", hue_order=labels, multiple="stack", alpha=0.85,
                 bins=np.arange(start, stop + 5, 10), palette=dict(zip(labels, OUTCOME_COLOURS.values())), ax=ax)
    sns.move_legend(ax, "upper left", title=None, frameon=True, facecolor="white", edgecolor="none", framealpha=1)
    ax.set_ylim(0, ax.get_ylim()[1] * 1.25)  # room for the legend and the threshold label
    ax.axvline(0, color="0.6", lw=0.8)
    ax.axvline(threshold, color="0.1", ls="--", lw=1)
    ax.text(threshold, 0.97, f" threshold:\n {parameter_percent(threshold)} reduction", transform=ax.get_xaxis_transform(),
            va="top", fontsize=_SMALL)
    return fig


@_figure(alt="Proportion with a favorable outcome and confidence interval under each sensitivity analysis",
         caption="Sensitivity analyses: favorable outcome with Wilson confidence intervals when one assumption "
                 "is changed at a time; the main analysis in bold, its proportion as a dotted line.")
def sensitivity_forest(table: pd.DataFrame, *, confidence: float) -> Figure:
    """Favorable outcome under each sensitivity analysis; the main analysis in bold black.

    Parameters
    ----------
    table : DataFrame
        One row per analysis: ``analysis`` (label), ``main_analysis`` (bool), ``n``,
        ``favorable``, ``proportion``, ``ci_low``, ``ci_high`` (NaN when n = 0).
    confidence : float
    """
    fig = new_figure(DOUBLE_COLUMN, 1.3 + 0.32 * max(len(table), 1))
    ax = fig.add_subplot()
    y = _rows(ax, table["analysis"], width=45)
    for yi, row, tick in zip(y, table.itertuples(), ax.get_yticklabels()):
        main = bool(row.main_analysis)
        _interval(ax, yi, _pct(row.proportion), _pct(row.ci_low), _pct(row.ci_high),
                  fmt="D" if main else "o", color="black" if main else _BLUE, markersize=6 if main else 5)
        if main and not pd.isna(row.proportion):
            ax.axvline(_pct(row.proportion), color=_GREY, ls=":", lw=0.8, zorder=0)
        tick.set_fontweight("bold" if main else "normal")
        _right_text(ax, yi, count_text(row.favorable, row.n, row.proportion), tick.get_fontweight())
    ax.set(xlim=(0, 100), xlabel=f"Favorable outcome (%), {confidence_text(confidence)} Wilson confidence interval")
    ax.set_title("Sensitivity analyses: one assumption changed at a time\n(main analysis in bold)")
    if table["proportion"].isna().all():
        _note(ax, "no data")
    return fig


@_figure(alt="Step curves of the percentage of patients with a favorable outcome at each reduction threshold, "
              "overall with a pointwise confidence band and per subgroup",
         caption=f"Responder analysis: percentage of patients with a favorable outcome ({favorable_rule()}) "
                 "at every threshold from 0 to 100 %, overall and per "
                 "subgroup. The grey band is a pointwise Wilson confidence band: an interval at each threshold "
                 "on its own, not a band that holds for the whole curve at once. The dashed line is the "
                 "study's threshold.")
def responder_curves(curve: pd.DataFrame, *, threshold: float, confidence: float) -> Figure:
    """Favorable outcome at every responder threshold, overall (with confidence band) and by group.

    Parameters
    ----------
    curve : DataFrame
        ``group`` ("overall" and the groups), ``threshold_pct`` (0-100), ``n``,
        ``responders``, ``proportion``, ``ci_low``, ``ci_high``.
    threshold, confidence : float
    """
    fig = new_figure(SINGLE_COLUMN, 3.9)
    ax = fig.add_subplot()
    ax.set(xlim=(0, 100), ylim=(0, 100), xlabel="Responder threshold:\nreduction in pain from baseline (%)",
           ylabel="Favorable outcome (%):\n" + textwrap.fill(favorable_rule(), 36))
    ax.set_title("Responder analysis:\nfavorable outcome at every threshold")
    overall = curve[curve["group"] == "overall"].sort_values("threshold_pct")
    if overall["proportion"].isna().all():
        n = int(overall["n"].iloc[0]) if len(overall) else 0
        _note(ax, f"n = {n}: too few patients with a follow-up NRS for a curve" if n else "no data")
        return fig

    x = overall["threshold_pct"]
    ax.step(x, 100 * overall["proportion"], where="post", color="black", lw=2, zorder=3,
            label=f"overall (n = {int(overall['n'].iloc[0])})")
    ax.fill_between(x, 100 * overall["ci_low"], 100 * overall["ci_high"], step="post", color="0.2", alpha=0.15,
                    lw=0, label=f"overall, {confidence_text(confidence)} pointwise confidence band (Wilson)")
    for i, group in enumerate(curve.loc[curve["group"] != "overall", "group"].unique()):
        rows = curve[curve["group"] == group].sort_values("threshold_pct")
        ax.step(rows["threshold_pct"], 100 * rows["proportion"], where="post", color=_group_colour(group, i),
                lw=1.2, label=f"{group} (n = {int(rows['n'].iloc[0])})")
    ax.axvline(threshold, color="0.1", ls="--", lw=1)
    at = overall[np.isclose(x, threshold)]
    if len(at):
        row = at.iloc[0]
        ax.text(threshold + 1.5, 97, f"threshold {parameter_percent(threshold)}:\n"
                f"{count_text(row['responders'], row['n'], row['proportion'])}", va="top", fontsize=_SMALL)
    fig.legend(loc="outside lower center", ncols=1)
    return fig


@_figure(alt="Proportion with a favorable outcome per subgroup with confidence intervals (exploratory)",
         caption="Exploratory: favorable outcome per subgroup with Wilson confidence intervals; the dashed line "
                 "is the proportion of all analysed patients. Few patients per group: a wide interval, and no "
                 "evidence of a difference is not evidence of none.")
def subgroup_proportions(table: pd.DataFrame, overall: dict, *, group_by: str, confidence: float,
                         p_value: float | None, unclassified: int = 0, min_group_size: int = DEFAULTS.min_group_size) -> Figure:
    """Favorable outcome per subgroup with Wilson intervals, the overall proportion as a dashed line.

    Parameters
    ----------
    table : DataFrame
        One row per group, top to bottom: ``group``, ``n``, ``favorable``, ``proportion``,
        ``ci_low``, ``ci_high``.
    overall : dict
        ``{"n", "favorable", "proportion"}`` of all analysed patients.
    group_by : str
        The grouping variable ("pain_mechanism").
    confidence : float
    p_value : float or None
        Fisher-Freeman-Halton p across the groups.
    unclassified, min_group_size : int, optional
        Patients without a group get a note when fewer than ``min_group_size``
        (more are a row of ``table``).
    """
    name = words(group_by)
    fig = new_figure(SINGLE_COLUMN, 1.9 + 0.38 * max(len(table), 2))
    ax = fig.add_subplot()
    y = _rows(ax, table["group"], width=14)
    for i, (yi, row) in enumerate(zip(y, table.itertuples())):
        _interval(ax, yi, _pct(row.proportion), _pct(row.ci_low), _pct(row.ci_high), fmt="o",
                  color=_group_colour(str(row.group), i), markersize=6)
        _right_text(ax, yi, count_text(row.favorable, row.n, row.proportion).replace(" (", "\n("))
    ax.set(xlim=(0, 100), xticks=range(0, 101, 25),
           xlabel=f"Favorable outcome (%),\n{confidence_text(confidence)} Wilson confidence interval", ylabel=name)
    ax.set_title(f"Exploratory: favorable outcome\nby {name}\nFisher-Freeman-Halton {p_is(p_value)}")
    if table["proportion"].isna().all():
        _note(ax, "no data")
    if not pd.isna(overall["proportion"]):
        line = ax.axvline(_pct(overall["proportion"]), color=_GREY, ls="--", lw=0.9, zorder=0)
        label = f"all analysed patients:\n{count_text(overall['favorable'], overall['n'], overall['proportion'])}"
        fig.legend([line], [label], loc="outside lower left")
    if unclassified and not disclose({"unclassified": unclassified}, min_group_size).whole:
        ax.annotate(f"unclassified: n = {unclassified}\n(fewer than {min_group_size}: no estimate shown)",
                    xy=(0, 0), xycoords=ax.xaxis.label, xytext=(0, -4), textcoords="offset points",
                    va="top", fontsize=_SMALL, color=_GREY)
    return fig


@_figure(alt="Share of patients with each side effect among all treated patients, and among the included "
              "patients drawn inside as a part of them",
         caption="Side effects: percentage of patients with each event among all treated patients (wide light "
                 "bars) and among the included patients, who are part of the treated ones (narrow dark bars "
                 "drawn inside), with Wilson confidence intervals; an event no patient of a population had is "
                 "drawn as 0.")
def side_effect_bars(table: pd.DataFrame, *, confidence: float, population_sizes: dict) -> Figure:
    """Share of patients with each side effect, all treated patients and the included ones within, Wilson intervals.

    The included patients are part of the treated ones: their bar is drawn inside the
    treated bar of the same event. An event that occurs in one population only is
    drawn as 0 in the other (a bar of length 0, labelled "0").

    Parameters
    ----------
    table : DataFrame
        ``population`` ("treated" / "included"), ``event`` (codes of the contract,
        drawn as words: "blurred vision"), ``patients``, ``proportion``, ``ci_low``,
        ``ci_high``; the row "any event" of each population goes in the title. An
        event missing from a population's rows had no patient there.
    confidence : float
    population_sizes : dict
        Patients per population, ``{"treated": 74, "included": 45}``.
    """
    # label, colour, bar height, where in the bar the interval is drawn (the included one inside the treated one)
    populations = {"treated": ("all treated", "#A6D3F0", 0.72, 0.24),
                   "included": ("included (within treated)", _BLUE, 0.3, 0.0)}
    events = table[table["event"] != "any event"]
    treated = events[events["population"] == "treated"].set_index("event")["proportion"]
    order = sorted(events["event"].unique(), key=lambda event: (-treated.get(event, 0), event))  # most frequent first
    fig = new_figure(SINGLE_COLUMN, 1.9 + 0.26 * max(len(order), 3))
    ax = fig.add_subplot()
    y = _rows(ax, [words(event) for event in order])
    # where a "0" goes: right of the longest bar of its row
    longest = 100 * events.groupby("event")["proportion"].max().reindex(order).astype("float64").fillna(0)
    for population, (label, colour, height, offset) in populations.items():
        rows = events[events["population"] == population].set_index("event").reindex(order)
        every = table[(table["population"] == population) & (table["event"] == "any event")]
        if every["proportion"].isna().all():  # too few patients, or withheld (ketanb.side_effects): no bars
            continue
        # a shown population lists every event it had: one not listed had no patient (0)
        p, low, high = (100 * rows[key].astype("float64").fillna(0) for key in ("proportion", "ci_low", "ci_high"))
        ax.barh(y, p, height=height, color=colour, label=f"{label}, n = {population_sizes[population]}")
        ax.errorbar(p, y + offset, xerr=[p - low, high - p], fmt="none", ecolor="0.2", lw=0.7, capsize=1.5)
        for yi, value, x in zip(y, p, longest):
            if value == 0:
                ax.text(x, yi, " 0", va="center", ha="left", fontsize=_SMALL, color=colour, fontweight="bold")
    ax.set(xlim=(0, None if order else 100),
           xlabel=f"Patients with the event (%),\n{confidence_text(confidence)} Wilson confidence interval")
    summary = "\n".join(f"{populations[r.population][0].split(' (')[0]} "
                         f"{count_text(r.patients, population_sizes[r.population], r.proportion)}"
                         + ("" if pd.isna(r.patients) or not pd.isna(r.proportion) else " (too few for a percentage)")
                         for r in table[table["event"] == "any event"].itertuples())
    ax.set_title("Side effects during or after the infusions" + (f"\nany event: {summary}" if summary else ""))
    if order and ax.get_legend_handles_labels()[0]:
        fig.legend(*ax.get_legend_handles_labels(), loc="outside lower center")
    else:
        _note(ax, "no data")
    return fig


@_figure(alt="Risk difference in favorable outcome of each subgroup against the reference group, with intervals",
         caption="Exploratory: difference in the proportion with a favorable outcome against the reference "
                 "group, in percentage points, with Newcombe intervals; odds ratio (conditional maximum "
                 "likelihood, exact interval) and Fisher's exact p beside each row.")
def risk_difference_forest(subgroups: dict, *, confidence: float) -> Figure:
    """Exploratory risk differences of a favorable outcome against a reference group (Newcombe intervals).

    Parameters
    ----------
    subgroups : dict
        ``{"reference": name, "groups": {name: {"n", "favorable", "proportion", ...,
        "vs_reference": {"risk_difference", "rd_ci_low", "rd_ci_high", "odds_ratio",
        "or_ci_low", "or_ci_high", "fisher_p"}}}}``; the reference has no
        "vs_reference"; risk differences are fractions; any value may be None.
    confidence : float
    """
    reference, groups = subgroups["reference"], subgroups["groups"]
    compared = {name: g for name, g in groups.items() if name != reference and g.get("vs_reference")}
    fig = new_figure(DOUBLE_COLUMN, 1.7 + 0.45 * max(len(compared), 2))
    ax = fig.add_subplot()
    y = _rows(ax, [f"{name}\n{count_text(g['favorable'], g['n'])}" for name, g in compared.items()])
    for i, (yi, (name, g)) in enumerate(zip(y, compared.items())):
        vs = g["vs_reference"]
        rd, low, high = _pct(vs["risk_difference"]), _pct(vs["rd_ci_low"]), _pct(vs["rd_ci_high"])
        _interval(ax, yi, rd, low, high, fmt="o", color=_group_colour(name, i + 1), markersize=6)
        odds = with_interval(vs["odds_ratio"], vs["or_ci_low"], vs["or_ci_high"], ratio)
        difference = (f"{points(vs['risk_difference'])} ({interval(vs['rd_ci_low'], vs['rd_ci_high'], points)})"
                      if not np.isnan(rd) else "not computable")
        _right_text(ax, yi, f"{difference}\nOR {odds}, Fisher {p_is(vs['fisher_p'])}")
    ax.axvline(0, color=_GREY, lw=0.9, zorder=0)
    ax.set(xlim=(-100, 100), xticks=range(-100, 101, 25),
           xlabel=f"Risk difference vs {reference or 'the reference group'} (percentage points)\n"
                  f"{confidence_text(confidence)} Newcombe confidence interval")
    base = groups.get(reference)
    base_text = f"\nreference {reference}: {count_text(base['favorable'], base['n'], base['proportion'])}" if base else ""
    ax.set_title(f"Exploratory: favorable outcome compared with {reference or 'a reference group'}{base_text}")
    if not compared:
        _note(ax, "only one group: no comparison" if groups else "no data")
    return fig


@_figure(alt="Forest plot: percentage with a favorable outcome and confidence interval per site, and the "
             "pooled random-effects estimate with its confidence, HKSJ and prediction intervals",
         caption="Favorable outcome per site and pooled over the sites. Each site is drawn as the pooling sees "
                 "it: its interval is computed on the logit scale and turned back into a percentage (not the "
                 "Wilson interval of the site's own report; a site with no or only favorable outcomes has 0.5 "
                 "added to both counts), and the area of its square is proportional to its random-effects "
                 "weight. The diamond is the DerSimonian-Laird random-effects estimate with its confidence "
                 "interval; the thick line below it the Hartung-Knapp-Sidik-Jonkman interval, the dashed line "
                 "the prediction interval for a new site. "
                 f"At most {FOREST_MAX_SITES} sites are drawn, those with the most patients; the title counts "
                 "the others, which the pooled estimate includes.")
def pooled_forest(pooled: dict, *, confidence: float | None = None,
                  max_sites: int | None = FOREST_MAX_SITES) -> Figure:
    """Favorable outcome per clinic and the random-effects pooled estimate.

    Parameters
    ----------
    pooled : dict
        ``{"confidence", "n", "favorable", "sites": {name: {"n", "favorable", "proportion",
        "y", "weight", "logit_ci_low", "logit_ci_high"}}, "random_effects": {"proportion",
        "ci_low", "ci_high", "hksj_ci_low", "hksj_ci_high", "tau2", "tau2_ci_low",
        "tau2_ci_high", "i2", "i2_ci_low", "i2_ci_high", "prediction_low", "prediction_high",
        ...}}`` as :func:`ketanb.pooling.pool` writes it; ``i2`` is a fraction;
        ``random_effects`` is None without sites, the prediction limits None with two.
    confidence : float, optional
        Default ``pooled["confidence"]``.
    max_sites : int, optional
        Draw at most this many sites (those with the most patients, in their
        order; :data:`ketanb.presentation.pooled_report.FOREST_MAX_SITES` by default, None for
        all); the title counts the others, which the estimate includes.

    Notes
    -----
    Each site is drawn as the pooling sees it: a square at ``1 / (1 + exp(-y))``
    (its proportion, after the 0.5 added to a site with 0 or all favorable) with
    its interval on the logit scale, back-transformed; the square's area is
    proportional to the site's random-effects weight. Below the pooled diamond
    (the DerSimonian-Laird interval) are the Hartung-Knapp-Sidik-Jonkman
    interval and the prediction interval.
    """
    confidence = pooled["confidence"] if confidence is None else confidence
    every, effects = pooled["sites"], pooled["random_effects"] or {}
    drawn = set(sorted(every, key=lambda name: -every[name]["n"])[:max_sites])
    sites = {name: site for name, site in every.items() if name in drawn}
    fig = new_figure(DOUBLE_COLUMN, 2.6 + 0.4 * (len(sites) + 1))
    ax = fig.add_subplot()
    y = _rows(ax, [*sites, "pooled (random effects)"])  # the pooled row is at y = 0
    ax.set_ylim(-1.3, len(sites) + 0.6)
    heaviest = max((site["weight"] for site in sites.values()), default=1)
    for yi, site in zip(y, sites.values()):
        point = 100 / (1 + np.exp(-site["y"]))
        _interval(ax, yi, point, _pct(site["logit_ci_low"]), _pct(site["logit_ci_high"]),
                  fmt="none", ecolor="black", lw=1)
        # square area proportional to the site's random-effects weight
        ax.scatter(point, yi, marker="s", s=150 * site["weight"] / heaviest, color=_BLUE, zorder=3)
        _right_text(ax, yi, count_text(site["favorable"], site["n"], site["proportion"]))

    point, low, high = (_pct(effects.get(key)) for key in ("proportion", "ci_low", "ci_high"))
    pooled_text = count_text(pooled["favorable"], pooled["n"])
    if not np.isnan(point):
        ax.fill([low, point, high, point], [0, 0.25, 0, -0.25], color="black")  # the diamond
        ax.axvline(point, color=_GREY, ls=":", lw=0.8, zorder=0)
        pooled_text += f"; {with_interval(effects['proportion'], effects['ci_low'], effects['ci_high'], pct)}"
    _right_text(ax, 0, pooled_text)
    hk_low, hk_high = _pct(effects.get("hksj_ci_low")), _pct(effects.get("hksj_ci_high"))
    if not np.isnan(hk_low):
        ax.plot([hk_low, hk_high], [-0.5, -0.5], color="black", lw=1.6)
        _right_text(ax, -0.5, f"HKSJ interval {interval(effects['hksj_ci_low'], effects['hksj_ci_high'], pct)}")
    pred_low, pred_high = _pct(effects.get("prediction_low")), _pct(effects.get("prediction_high"))
    if not np.isnan(pred_low):
        ax.plot([pred_low, pred_high], [-0.9, -0.9], color="black", lw=0.8, ls="--")
        _right_text(ax, -0.9, "prediction interval "
                    f"{interval(effects['prediction_low'], effects['prediction_high'], pct)}")

    ax.set(xlim=(0, 100), xlabel=f"Favorable outcome (%), {ci_label(confidence)}")
    i2 = with_interval(effects.get("i2"), effects.get("i2_ci_low"), effects.get("i2_ci_high"), pct)
    between = with_interval(effects.get("tau2"), effects.get("tau2_ci_low"), effects.get("tau2_ci_high"), tau2)
    left_out = len(every) - len(sites)
    ax.set_title(f"Favorable outcome by clinic and pooled (random effects)\n"
                 f"{len(every)} clinics; heterogeneity I² = {i2}, tau² = {between}"
                 + (f"\n{len(sites)} largest clinics drawn; {left_out} others ("
                    f"{sum(s['n'] for name, s in every.items() if name not in sites)} patients) "
                    "not drawn, all in the pooled estimate" if left_out else ""))
    if not sites:
        _note(ax, "no data")
    return fig
