"""Figures: files written reproducibly, captions from their one home, sizes and text for print,
every figure on empty input, and the details that were wrong before (threshold label, colour by
outcome, axis limits, row count)."""
import json
import os
import warnings
import re

import matplotlib
import matplotlib.colors as mcolors
import numpy as np
import pandas as pd
import pytest

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.collections import PathCollection
from matplotlib.figure import Figure
from PIL import Image

from ketanb import outcomes
from ketanb.presentation import notices, plots
from ketanb.input import contract
from ketanb.paths import ROOT
from ketanb.presentation.tables import favorable_rule, pct

# The HTML a saved figure shows in a notebook.
FIGURE_HTML = re.compile(r'<figure class="ketanb-figure".*?alt="(?P<alt>[^"]*)".*?<figcaption><b>(?P<path>[^<]+)</b>: '
                         r'(?P<caption>.*?)</figcaption></figure>', re.S)


def outcomes_frame(rows):
    """Included patients from (baseline, follow-up or None, favorable, discontinuation) tuples."""
    frame = pd.DataFrame(rows, columns=["baseline_nrs", "followup_nrs", "favorable", "discontinuation"])
    frame["baseline_nrs"] = frame["baseline_nrs"].astype(float)
    frame["followup_nrs"] = frame["followup_nrs"].astype(float)
    frame["has_followup"] = frame["followup_nrs"].notna()
    frame["favorable"] = frame["favorable"].astype(bool)
    frame["reduction_pct"] = 100 * (frame["baseline_nrs"] - frame["followup_nrs"]) / frame["baseline_nrs"]
    return frame


SIX = outcomes_frame([(8, 2, True, None), (8, 2, True, None), (7, 6, False, None),
                      (6, 5, False, "lack_of_effect"), (9, 3, True, None), (5, 1, False, "lack_of_effect")])
EMPTY_OUTCOMES = outcomes_frame([])


def proportions(groups, column="group"):
    """A table of (label, n, favorable) with proportion and made-up interval limits."""
    rows = []
    for label, n, k in groups:
        p = k / n if n else np.nan
        rows.append({column: label, "n": n, "favorable": k, "proportion": p,
                     "ci_low": max(p - 0.2, 0) if n else np.nan, "ci_high": min(p + 0.2, 1) if n else np.nan})
    return pd.DataFrame(rows, columns=[column, "n", "favorable", "proportion", "ci_low", "ci_high"])


def all_texts(fig: Figure) -> list[str]:
    return [t.get_text() for ax in fig.axes for t in ax.texts]


@pytest.fixture(autouse=True)
def in_tmp_path(tmp_path, monkeypatch):
    """save() lists each figure under saved-figures/ of the working directory: a temporary one."""
    monkeypatch.chdir(tmp_path)


NO_BREAKDOWN = pd.DataFrame({"outcome": [], "patients": []})


def save_any(fig: Figure, path, **kwargs):
    """Save a figure of this module (its caption from plots.CAPTIONS) or another one (an alt text)."""
    return plots.save(fig, path, **({} if fig.get_label() in plots.CAPTIONS else {"alt": "a figure"}), **kwargs)


# --- save ------------------------------------------------------------------------------------

def small_figure() -> Figure:
    return plots.sensitivity_forest(proportions([("main", 45, 23), ("other", 42, 23)], column="analysis")
                                    .assign(main_analysis=[True, False]), confidence=0.95)


def test_save_writes_png_and_svg_identical_on_rebuild(tmp_path):
    target = tmp_path / "figures" / "sensitivity.png"  # the folder does not exist yet
    saved = plots.save(small_figure(), target, synthetic=True)
    png, svg = target.read_bytes(), target.with_suffix(".svg").read_bytes()
    assert png.startswith(b"\x89PNG") and b"<svg" in svg
    assert saved.data == png
    plots.save(small_figure(), target, synthetic=True)  # a new figure, same content
    assert target.read_bytes() == png
    assert target.with_suffix(".svg").read_bytes() == svg
    assert sorted(p.name for p in target.parent.iterdir()) == ["sensitivity.png", "sensitivity.svg"]  # no temp files


def test_saving_the_same_content_keeps_the_modification_time(tmp_path):
    target = tmp_path / "figure.png"
    plots.save(small_figure(), target, synthetic=False)
    for path in (target, target.with_suffix(".svg")):
        os.utime(path, (1_000_000, 1_000_000))
    plots.save(small_figure(), target, synthetic=False)
    assert target.stat().st_mtime == target.with_suffix(".svg").stat().st_mtime == 1_000_000


def test_saving_different_content_changes_the_file(tmp_path):
    target = tmp_path / "figure.png"
    plots.save(small_figure(), target, synthetic=False)
    before = target.read_bytes()
    plots.save(small_figure(), target, synthetic=True)  # now with the synthetic stamp
    assert target.read_bytes() != before


def test_png_is_300_dpi_and_carries_no_software_tag(tmp_path):
    target = tmp_path / "figure.png"
    plots.save(small_figure(), target, synthetic=False)
    with Image.open(target) as image:
        assert image.info["dpi"] == pytest.approx((300, 300), abs=0.01)
        assert "Software" not in image.info
    assert b"<dc:date>" not in target.with_suffix(".svg").read_bytes()


def test_synthetic_stamp_is_a_suptitle(tmp_path):
    fig = small_figure()
    plots.save(fig, tmp_path / "figure.png", synthetic=True)
    assert fig.get_suptitle() == notices.FIGURE_LABEL
    plain = small_figure()
    plots.save(plain, tmp_path / "plain.png", synthetic=False)
    assert plain.get_suptitle() == ""


def test_saved_figure_html_escapes_alt_and_caption(tmp_path):
    fig = plots.new_figure()                       # not drawn by a figure function: alt and caption given
    fig.add_subplot().plot([0, 1])
    saved = plots.save(fig, "figures/flow.png", synthetic=False,
                       alt='Flow of "patients" & exclusions', caption="Participant flow <STROBE>")
    assert (tmp_path / "figures" / "flow.png").is_file()
    match = FIGURE_HTML.search(saved._repr_html_())
    assert match is not None
    assert match["path"] == "figures/flow.png"
    assert match["alt"] == "Flow of &quot;patients&quot; &amp; exclusions"
    assert match["caption"] == "Participant flow &lt;STROBE&gt;"
    assert 'src="data:image/png;base64,' in saved._repr_html_()
    assert "base64" not in repr(saved)  # the bytes stay out of the plain representation


def test_figures_leave_the_global_style_alone():
    before = dict(matplotlib.rcParams)
    plots.nrs_before_after(SIX)
    plots.reduction_distribution(SIX, threshold=50)
    assert dict(matplotlib.rcParams) == before


def test_figures_use_the_project_font():
    fig = plots.nrs_before_after(SIX)
    assert fig.axes[0].title.get_fontfamily() == ["sans-serif"]
    assert fig.axes[0].xaxis.label.get_fontname() == "DejaVu Sans"
    assert not fig.axes[0].spines["top"].get_visible()  # the project style, not matplotlib's default


# --- every figure on empty input -------------------------------------------------------------

def empty_figures():
    curve_columns = ["group", "threshold_pct", "n", "responders", "proportion", "ci_low", "ci_high"]
    side_columns = ["population", "event", "patients", "proportion", "ci_low", "ci_high", "occurrences"]
    no_outcome = {"n": 0, "favorable": 0, "proportion": None, "ci_low": None, "ci_high": None, "missing_followup": 0}
    return {
        "flow": lambda: plots.flow_diagram({"treated": 0, "included": 0, "excluded": {}}, no_outcome,
                                           breakdown=NO_BREAKDOWN, threshold=50, missing_followup="nonresponder"),
        "before_after": lambda: plots.nrs_before_after(EMPTY_OUTCOMES),
        "reduction": lambda: plots.reduction_distribution(EMPTY_OUTCOMES, threshold=50),
        "sensitivity": lambda: plots.sensitivity_forest(
            proportions([("main", 0, 0)], column="analysis").assign(main_analysis=[True]), confidence=0.95),
        "responder": lambda: plots.responder_curves(pd.DataFrame(columns=curve_columns), threshold=50,
                                                    confidence=0.95),
        "subgroups": lambda: plots.subgroup_proportions(proportions([]), no_outcome, group_by="pain_mechanism",
                                                        confidence=0.95, p_value=None),
        "side effects": lambda: plots.side_effect_bars(pd.DataFrame(columns=side_columns), confidence=0.95,
                                                       population_sizes={"treated": 0, "included": 0}),
        "risk difference": lambda: plots.risk_difference_forest({"reference": "neuropathic", "groups": {}},
                                                                confidence=0.95),
        "pooled": lambda: plots.pooled_forest({"confidence": 0.95, "sites": {}, "n": 0, "favorable": 0,
                                               "random_effects": None}),
    }


@pytest.mark.parametrize("name", list(empty_figures()))
def test_every_figure_works_without_patients(name, tmp_path):
    fig = empty_figures()[name]()
    assert isinstance(fig, Figure)
    assert fig.axes[0].get_title()
    save_any(fig, tmp_path / "empty.png", synthetic=False)  # drawing must not fail either
    if name != "flow":
        assert any(text.startswith(("no ", "only one")) for text in all_texts(fig)), all_texts(fig)


def test_flow_diagram_without_included_patients_says_so():
    fig = empty_figures()["flow"]()
    assert "no included patients: no outcome" in all_texts(fig)


def test_flow_diagram_shows_every_exclusion_reason_in_order():
    excluded = dict(zip(contract.REASON_LABELS, [4, 3, 5, 6, 8, 3]))
    fig = plots.flow_diagram({"treated": 74, "included": 45, "excluded": excluded},
                             {"n": 45, "favorable": 23, "proportion": 23 / 45, "ci_low": 0.37, "ci_high": 0.65,
                              "missing_followup": 3}, breakdown=NO_BREAKDOWN, threshold=50,
                             missing_followup="nonresponder")
    box = next(t for t in all_texts(fig) if t.startswith("Excluded"))
    assert box.splitlines() == ["Excluded: n = 29"] + [f"{label}: {n}" for label, n in
                                                       zip(contract.REASON_LABELS.values(), excluded.values())]
    # the favorable box states the rule in the words of its one home, ketanb.presentation.tables.favorable_rule
    favorable = next(t for t in all_texts(fig) if t.startswith("Favorable outcome"))
    assert f"23/45 ({pct(23 / 45)})" in favorable
    assert " ".join(favorable.split()) == " ".join(f"Favorable outcome: {favorable_rule(50)} n = 23/45 ({pct(23 / 45)})".split())


@pytest.mark.parametrize("mode, note", [("nonresponder", "3 with missing follow-up NRS counted unfavorable"),
                                         ("favorable", "3 with missing follow-up NRS counted favorable (best case)"),
                                         ("exclude", None)])
def test_flow_diagram_says_how_missing_follow_up_was_counted(mode, note):
    fig = plots.flow_diagram({"treated": 50, "included": 45, "excluded": {"test_dose_only": 5}},
                             {"n": 45 if mode != "exclude" else 42, "favorable": 23, "proportion": 0.5,
                              "ci_low": 0.4, "ci_high": 0.6, "missing_followup": 3},
                             breakdown=NO_BREAKDOWN, threshold=50, missing_followup=mode)
    analysed = next(t for t in all_texts(fig) if t.startswith(("Analysed", "Included and analysed")))
    assert analysed.splitlines()[2:] == ([note] if note else [])


# --- figure details --------------------------------------------------------------------------

def offsets_drawn(fig: Figure) -> int:
    return sum(len(c.get_offsets()) for ax in fig.axes for c in ax.collections)


def bars_by_label(fig: Figure) -> dict[str, dict[float, float]]:
    """Bar heights per legend label, keyed by the bar's centre."""
    return {container.get_label(): {round(bar.get_x() + bar.get_width() / 2, 1): bar.get_height()
                                    for bar in container}
            for container in fig.axes[0].containers}


def test_nrs_before_after_counts_patients_per_score_and_never_draws_a_pair():
    """SIX by hand: baselines 8 8 7 6 9 5 (median 7.5), follow-ups 2 2 6 5 3 1 (median 2.5)."""
    fig = plots.nrs_before_after(SIX)
    assert offsets_drawn(fig) == 0                                  # no point per patient
    bars = bars_by_label(fig)
    assert set(bars) == {"baseline (median 7.5)", "follow-up (median 2.5)"}
    baseline = {x + 0.2: h for x, h in bars["baseline (median 7.5)"].items() if h}
    followup = {x - 0.2: h for x, h in bars["follow-up (median 2.5)"].items() if h}
    assert {round(x): h for x, h in baseline.items()} == {5: 1, 6: 1, 7: 1, 8: 2, 9: 1}
    assert {round(x): h for x, h in followup.items()} == {1: 1, 2: 2, 3: 1, 5: 1, 6: 1}


def test_nrs_before_after_counts_a_half_point_up():
    frame = outcomes_frame([(7.5, 2, True, None), (8, 2.5, True, None)])
    bars = bars_by_label(plots.nrs_before_after(frame, min_group_size=1))
    assert bars["baseline (median 7.75)"][7.8] == 2                  # 7.5 and 8 in the bar of 8 (centre 8 - 0.2)
    assert bars["follow-up (median 2.25)"][3.2] == 1                 # 2.5 in the bar of 3


def test_nrs_before_after_draws_no_bar_below_the_minimum_group_size():
    fig = plots.nrs_before_after(SIX.head(4), min_group_size=5)
    assert not fig.axes[0].containers
    assert "fewer than 5 patients with a follow-up NRS: not shown" in all_texts(fig)
    assert plots.nrs_before_after(SIX, min_group_size=5).axes[0].containers


def bar_heights_by_colour(fig: Figure) -> dict[str, float]:
    heights = {}
    for patch in fig.axes[0].patches:
        colour = mcolors.to_hex(patch.get_facecolor(), keep_alpha=False)
        heights[colour] = heights.get(colour, 0) + patch.get_height()
    return heights


def test_reduction_distribution_colours_by_outcome_not_by_reduction():
    # 80 % reduction but stopped for lack of effect: not favorable; one without follow-up: not shown.
    frame = outcomes_frame([(10, 2, False, "lack_of_effect"), (10, 4, True, None), (10, 9, False, None),
                            (10, None, False, None)])
    heights = bar_heights_by_colour(plots.reduction_distribution(frame, threshold=50, min_group_size=1))
    assert heights[plots.OUTCOME_COLOURS["unfavorable"].lower()] == 2
    assert heights[plots.OUTCOME_COLOURS["favorable"].lower()] == 1
    fig = plots.reduction_distribution(frame, threshold=50, min_group_size=1)
    assert "1 without a follow-up NRS not shown" in fig.axes[0].get_title()
    assert any(f"{pct(0.5, 0)} reduction" in t for t in all_texts(fig))


def test_reduction_distribution_draws_no_bar_for_fewer_than_min_group_size():
    frame = outcomes_frame([(10, 2, True, None), (10, 4, True, None), (10, 9, False, None)])
    fig = plots.reduction_distribution(frame, threshold=50, min_group_size=5)
    assert fig.axes[0].patches == [] or all(p.get_height() == 0 for p in fig.axes[0].patches)
    assert any("fewer than 5 patients" in t for t in all_texts(fig))


def test_reduction_bins_have_an_edge_at_the_threshold():
    fig = plots.reduction_distribution(SIX, threshold=33)
    edges = {round(patch.get_x(), 6) for patch in fig.axes[0].patches}
    assert 33 in edges


def test_subgroup_axis_is_0_to_100_with_counts_and_note():
    table = proportions([("neuropathic", 20, 11), ("nociceptive", 11, 4), ("nociplastic", 12, 7)])
    fig = plots.subgroup_proportions(table, {"n": 45, "favorable": 23, "proportion": 23 / 45},
                                     group_by="pain_mechanism", confidence=0.95, p_value=0.537, unclassified=2)
    ax = fig.axes[0]
    assert ax.get_xlim() == (0, 100)
    assert f"11/20\n({pct(0.55)})" in all_texts(fig)              # one decimal, as everywhere (was "55%")
    assert "unclassified: n = 2\n(fewer than 5: no estimate shown)" in all_texts(fig)
    assert "p = 0.537" in ax.get_title() and ax.get_title().startswith("Exploratory: ")
    assert [t.get_text() for t in fig.legends[0].get_texts()] == [f"all analysed patients:\n23/45 ({pct(23 / 45)})"]


def test_subgroup_note_absent_when_unclassified_is_a_row():
    table = proportions([("neuropathic", 20, 11), ("unclassified", 6, 3)])
    fig = plots.subgroup_proportions(table, {"n": 26, "favorable": 14, "proportion": 14 / 26},
                                     group_by="pain_mechanism", confidence=0.95, p_value=None, unclassified=6)
    assert not any(t.startswith("unclassified:") for t in all_texts(fig))
    assert "not computable" in fig.axes[0].get_title()


def test_sensitivity_forest_has_one_tick_per_row_and_marks_the_main_analysis():
    labels = ["responder threshold 30%", "responder threshold 50%", "missing follow-up counted favorable (best case)",
              "stops for side effects counted unfavorable", "all treated patients (n = 74)"]
    table = proportions([(label, 45, 23) for label in labels], column="analysis")
    table["main_analysis"] = [False, True, False, False, False]
    fig = plots.sensitivity_forest(table, confidence=0.95)
    ax = fig.axes[0]
    assert len(ax.get_yticks()) == len(table)
    assert ax.get_xlim() == (0, 100)
    assert ax.get_xlabel() == f"Favorable outcome (%), {pct(0.95, 0)} Wilson confidence interval"
    bold = [t.get_text() for t in ax.get_yticklabels() if t.get_fontweight() == "bold"]
    assert bold == ["responder threshold 50%"]
    assert f"23/45 ({pct(23 / 45)})" in all_texts(fig)


def test_side_effects_sorted_by_treated_frequency_with_population_sizes():
    rows = []
    for population, counts, n in (("treated", {"any event": 45, "nausea": 14, "blurred_vision": 3, "drowsiness": 15}, 74),
                                  ("included", {"any event": 30, "nausea": 10, "blurred_vision": 2, "drowsiness": 7}, 45)):
        for event, k in counts.items():
            rows.append({"population": population, "event": event, "patients": k, "proportion": k / n,
                         "ci_low": k / n / 2, "ci_high": min(k / n * 1.5, 1), "occurrences": k})
    fig = plots.side_effect_bars(pd.DataFrame(rows), confidence=0.95, population_sizes={"treated": 74, "included": 45})
    ax = fig.axes[0]
    ticks = sorted(zip(ax.get_yticks(), (t.get_text() for t in ax.get_yticklabels())), reverse=True)
    assert [label for _, label in ticks] == ["drowsiness", "nausea", "blurred vision"]  # top to bottom
    assert [t.get_text() for t in fig.legends[0].get_texts()] == ["all treated, n = 74",
                                                                  "included (within treated), n = 45"]


def test_responder_curves_labels():
    thresholds = np.arange(0, 101)
    share = np.clip(1 - thresholds / 100, 0, 1)
    curve = pd.concat([pd.DataFrame({"group": group, "threshold_pct": thresholds, "n": 20,
                                     "responders": (20 * share).round(), "proportion": share,
                                     "ci_low": share * 0.8, "ci_high": np.minimum(share * 1.2, 1)})
                       for group in ("overall", "neuropathic")])
    fig = plots.responder_curves(curve, threshold=50, confidence=0.95)
    ax = fig.axes[0]
    assert ax.get_xlabel() == "Responder threshold:\nreduction in pain from baseline (%)"
    assert ax.get_ylabel().startswith("Favorable outcome (%)")
    assert f"threshold {pct(0.5, 0)}:\n10/20 ({pct(0.5)})" in all_texts(fig)
    legend = [t.get_text() for t in fig.legends[0].get_texts()]
    assert legend[:2] == ["overall (n = 20)", f"overall, {pct(0.95, 0)} pointwise confidence band (Wilson)"]


def rd_input(with_comparison=True):
    groups = {"neuropathic": {"n": 20, "favorable": 11, "proportion": 0.55, "ci_low": 0.34, "ci_high": 0.74}}
    if with_comparison:
        groups["nociceptive"] = {"n": 11, "favorable": 4, "proportion": 4 / 11, "ci_low": 0.15, "ci_high": 0.65,
                                 "vs_reference": {"risk_difference": -0.186, "rd_ci_low": -0.5, "rd_ci_high": 0.18,
                                                  "odds_ratio": 0.47, "or_ci_low": 0.1, "or_ci_high": 2.2,
                                                  "fisher_p": 0.46}}
        groups["nociplastic"] = {"n": 3, "favorable": 0, "proportion": 0.0, "ci_low": 0.0, "ci_high": 0.56,
                                 "vs_reference": {"risk_difference": None, "rd_ci_low": None, "rd_ci_high": None,
                                                  "odds_ratio": None, "or_ci_low": None, "or_ci_high": None,
                                                  "fisher_p": None}}
    return {"reference": "neuropathic", "groups": groups}


def test_risk_difference_forest_rows_and_labels():
    fig = plots.risk_difference_forest(rd_input(), confidence=0.95)
    ax = fig.axes[0]
    assert len(ax.get_yticks()) == 2  # not the reference
    assert ax.get_xlabel().startswith("Risk difference vs neuropathic (percentage points)")
    assert ax.get_title().startswith("Exploratory: favorable outcome compared with neuropathic")
    point = ax.containers[0].lines[0].get_xdata()[0]  # one interval drawn: the None row has none
    assert point == pytest.approx(-18.6) and len(ax.containers) == 1
    assert any(t.startswith("not computable") for t in all_texts(fig))


def test_risk_difference_forest_with_one_group():
    fig = plots.risk_difference_forest(rd_input(with_comparison=False), confidence=0.95)
    assert "only one group: no comparison" in all_texts(fig)


def test_pooled_forest_with_and_without_prediction_interval():
    sites = {"A": {"n": 45, "favorable": 23, "proportion": 23 / 45, "y": 0.0, "weight": 0.4,
                   "logit_ci_low": 0.37, "logit_ci_high": 0.65},
             "B": {"n": 80, "favorable": 35, "proportion": 35 / 80, "y": 0.0, "weight": 0.6,
                   "logit_ci_low": 0.33, "logit_ci_high": 0.55}}
    effects = {"proportion": 0.47, "ci_low": 0.38, "ci_high": 0.56, "tau2": 0.01, "i2": 0.2, "q": 1.2, "q_p": 0.27,
               "prediction_low": None, "prediction_high": None}
    pooled = {"confidence": 0.9, "sites": sites, "n": 125, "favorable": 58, "random_effects": effects}
    fig = plots.pooled_forest(pooled)
    ax = fig.axes[0]
    assert len(ax.get_yticks()) == 3 and "I² = 20.0 %" in ax.get_title() and "tau² = 0.010" in ax.get_title()
    assert ax.get_xlabel().startswith("Favorable outcome (%), 90 % CI")
    assert not any(t.startswith("prediction interval") for t in all_texts(fig))
    squares = [c for c in ax.collections if isinstance(c, PathCollection)]
    assert [s for c in squares for s in c.get_sizes()] == pytest.approx([150 * 0.4 / 0.6, 150])   # by weight
    effects.update(prediction_low=0.2, prediction_high=0.75)
    assert "prediction interval 20.0 % to 75.0 %" in all_texts(plots.pooled_forest(pooled))


# --- issue 22: counts only for few patients; labels from the data drawn as written -----------------

def test_flow_diagram_of_three_included_patients_shows_counts_without_percentages():
    """outcome_summary gives no proportion for 3 < min_group_size patients: '3/3', never '(100.0%)'
    (before, the diagram drew 100 % and 1 - None failed)."""
    fig = plots.flow_diagram({"treated": 3, "included": 3, "excluded": {}},
                             {"n": 3, "favorable": 3, "proportion": None, "ci_low": None, "ci_high": None,
                              "missing_followup": 0}, breakdown=NO_BREAKDOWN, threshold=50,
                             missing_followup="nonresponder")
    boxes = [t for t in all_texts(fig) if t.startswith(("Favorable", "Unfavorable"))]
    assert [b.splitlines()[-1] for b in boxes] == ["n = 3/3", "n = 0/3"]
    assert not any("%)" in t for t in all_texts(fig))


def test_responder_curves_of_too_few_patients_draw_no_step():
    curve = pd.DataFrame({"group": "overall", "threshold_pct": np.arange(0, 101), "n": 3, "responders": np.nan,
                          "proportion": np.nan, "ci_low": np.nan, "ci_high": np.nan})
    fig = plots.responder_curves(curve, threshold=50, confidence=0.95)
    assert fig.axes[0].get_lines() == [] and all_texts(fig) == [
        "n = 3: too few patients with a follow-up NRS for a curve"]


LABEL = "$\\foo$ \u4e2d"          # mathtext that fails to parse, and a character DejaVu Sans lacks


def test_labels_from_the_data_are_drawn_as_written_without_warnings(tmp_path):
    """A group `$\\foo$` crashed stage 02 and 03 (mathtext); a glyph missing from the font made
    matplotlib warn, and the warning put the path of plots.py in the reports (issue 22)."""
    thresholds = np.arange(0, 101)
    curve = pd.concat([pd.DataFrame({"group": group, "threshold_pct": thresholds, "n": 20, "responders": 10,
                                     "proportion": 0.5, "ci_low": 0.3, "ci_high": 0.7})
                       for group in ("overall", LABEL)])
    table = proportions([(LABEL, 20, 10), ("b", 10, 5)])
    figures = {"curve": plots.responder_curves(curve, threshold=50, confidence=0.95),
               "groups": plots.subgroup_proportions(table, {"n": 30, "favorable": 15, "proportion": 0.5},
                                                    group_by=LABEL, confidence=0.95, p_value=0.5)}
    with warnings.catch_warnings():
        warnings.simplefilter("error")                                   # a glyph warning fails the test
        for name, fig in figures.items():
            plots.save(fig, tmp_path / f"{name}.png", synthetic=False)
    ticks = [t.get_text() for t in figures["groups"].axes[0].get_yticklabels()]
    assert ticks[0] == "$\\foo$ U+4E2D"
    legend = [t.get_text() for t in figures["curve"].legends[0].get_texts()]
    assert "$\\foo$ U+4E2D (n = 20)" in legend


def test_side_effect_bars_without_the_treated_population():
    """Withheld (few excluded patients): the treated population has its 'any event' row, values missing."""
    rows = [{"population": "treated", "event": "any event", "patients": None, "proportion": None,
             "ci_low": None, "ci_high": None, "occurrences": None},
            {"population": "included", "event": "any event", "patients": 6, "proportion": 0.6,
             "ci_low": 0.3, "ci_high": 0.8, "occurrences": 6},
            {"population": "included", "event": "nausea", "patients": 6, "proportion": 0.6,
             "ci_low": 0.3, "ci_high": 0.8, "occurrences": 6}]
    fig = plots.side_effect_bars(pd.DataFrame(rows), confidence=0.95, population_sizes={"treated": 11, "included": 10})
    ax = fig.axes[0]
    assert [t.get_text() for t in fig.legends[0].get_texts()] == ["included (within treated), n = 10"]
    assert ax.get_title().endswith(f"any event: all treated n = 11\nincluded 6/10 ({pct(0.6)})")


# --- issue 24: one home for captions; figures for print ------------------------------------------

FIGURE_FUNCTIONS = ["flow_diagram", "nrs_before_after", "reduction_distribution", "sensitivity_forest",
                    "responder_curves", "subgroup_proportions", "side_effect_bars", "risk_difference_forest",
                    "pooled_forest"]


def test_every_figure_function_has_its_caption_in_the_one_home():
    assert list(plots.CAPTIONS) == FIGURE_FUNCTIONS                    # declared above each function, paper order
    for name, home in plots.CAPTIONS.items():
        assert home.alt.strip() and home.caption.strip(), name
        assert getattr(plots, name).__name__ == name                    # the decorator keeps the function's name


def test_save_takes_the_caption_from_its_home_and_lists_the_figure(tmp_path):
    saved = plots.save(small_figure(), "figures/sensitivity.png", synthetic=False)
    home = plots.CAPTIONS["sensitivity_forest"]
    assert (saved.alt, saved.caption) == (home.alt, home.caption)
    listed = json.loads((tmp_path / "saved-figures" / "sensitivity.png.json").read_text(encoding="utf-8"))
    assert listed == {"path": "figures/sensitivity.png", "vector": "figures/sensitivity.svg",
                      "figure": "sensitivity_forest", "order": list(plots.CAPTIONS).index("sensitivity_forest"),
                      "alt": home.alt, "caption": home.caption}
    assert sorted(p.name for p in (tmp_path / "figures").iterdir()) == ["sensitivity.png", "sensitivity.svg"]


def test_save_refuses_a_second_caption_for_a_figure_that_has_one():
    with pytest.raises(TypeError, match="CAPTIONS"):
        plots.save(small_figure(), "figures/sensitivity.png", synthetic=False, caption="Each disc is a pair")
    with pytest.raises(TypeError, match="alt text"):
        plots.save(plots.new_figure(), "figures/other.png", synthetic=False)   # no home: alt text needed


def notebook_cells(kind: str) -> dict[str, str]:
    """The source of every cell of one kind in the stage notebooks, by notebook and cell id."""
    cells = {}
    for notebook in sorted((ROOT / "notebooks").glob("[0-9]*.ipynb")):
        for cell in json.loads(notebook.read_text(encoding="utf-8"))["cells"]:
            if cell["cell_type"] == kind:
                cells[f"{notebook.name}:{cell['id']}"] = "".join(cell["source"])
    return cells


def test_notebooks_take_every_caption_from_the_home():
    """Report 02 described the old paired-disc figure ("Each disc is a pair of NRS values...") under the
    bar chart: a caption written beside the call drifted from the figure. Now no notebook writes one."""
    saves = {name: source for name, source in notebook_cells("code").items() if "plots.save(" in source}
    assert len(saves) == 8
    for name, source in saves.items():
        assert "alt=" not in source and "caption=" not in source, name
    for name, text in notebook_cells("markdown").items():
        assert not re.search(r"\bdiscs?\b|pair of NRS|its area shows", text, re.I), name


def realistic_figures():
    """Every figure function on inputs like the shipped run's (74 treated, 45 included, 12 events)."""
    excluded = dict(zip(contract.REASON_LABELS, [4, 3, 5, 6, 8, 3]))
    breakdown = pd.DataFrame({"outcome": ["favorable", "unfavorable: reduction below threshold",
                                          "unfavorable: stopped for lack of effect",
                                          "unfavorable: follow-up NRS missing"], "patients": [23, 12, 7, 3]})
    rng = np.random.default_rng(1)
    rows = [(float(rng.integers(5, 11)), float(rng.integers(0, 9)), bool(i % 2), None) for i in range(42)]
    frame = outcomes_frame(rows + [(7, None, False, None)] * 3)
    thresholds = np.arange(0, 101)
    share = np.clip(1 - thresholds / 100, 0, 1)
    curve = pd.concat([pd.DataFrame({"group": group, "threshold_pct": thresholds, "n": n,
                                     "responders": (n * share).round(), "proportion": share,
                                     "ci_low": share * 0.8, "ci_high": np.minimum(share * 1.2, 1)})
                       for group, n in (("overall", 45), ("neuropathic", 20), ("nociceptive", 11),
                                        ("nociplastic", 12))])
    analyses = ["main analysis: threshold 50%, missing follow-up counted unfavorable", "responder threshold 30%",
                "responder threshold 70%", "missing follow-up NRS left out of the denominator",
                "missing follow-up NRS counted favorable (best case)", "stops for side effects counted unfavorable",
                "all treated patients, excluded ones too"]
    sensitivity = proportions([(a, 45, 23) for a in analyses], column="analysis").assign(
        main_analysis=[True] + [False] * 6)
    side = []
    for population, n in (("treated", 74), ("included", 45)):
        for i, event in enumerate(("any event", *contract.EVENTS)):
            k = 45 if i == 0 else max(15 - i - (3 if population == "included" else 0), 0)
            if k:
                side.append({"population": population, "event": event, "patients": k, "proportion": k / n,
                             "ci_low": k / n / 2, "ci_high": min(k / n * 1.5, 1), "occurrences": k})
    return {
        "flow_diagram": plots.flow_diagram({"treated": 74, "included": 45, "excluded": excluded},
                                           {"n": 45, "favorable": 23, "proportion": 23 / 45, "missing_followup": 3},
                                           breakdown=breakdown, threshold=50, missing_followup="nonresponder"),
        "nrs_before_after": plots.nrs_before_after(frame),
        "reduction_distribution": plots.reduction_distribution(frame, threshold=50),
        "sensitivity_forest": plots.sensitivity_forest(sensitivity, confidence=0.95),
        "responder_curves": plots.responder_curves(curve, threshold=50, confidence=0.95),
        "subgroup_proportions": plots.subgroup_proportions(
            proportions([("neuropathic", 20, 11), ("nociceptive", 11, 4), ("nociplastic", 12, 7)]),
            {"n": 45, "favorable": 23, "proportion": 23 / 45}, group_by="pain_mechanism", confidence=0.95,
            p_value=0.537, unclassified=2),
        "side_effect_bars": plots.side_effect_bars(pd.DataFrame(side), confidence=0.95,
                                                   population_sizes={"treated": 74, "included": 45}),
        "risk_difference_forest": plots.risk_difference_forest(rd_input(), confidence=0.95),
    }


def drawn_texts(fig: Figure):
    """Every visible, non-empty text of a figure once drawn (ticks and legends included), and the renderer."""
    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    hidden = {id(t) for ax in fig.axes if not ax.axison                  # axis off (the flow diagram)
              for axis in (ax.xaxis, ax.yaxis) for t in axis.findobj(matplotlib.text.Text)}
    for ax in fig.axes:                                                   # ticks outside the axes: not drawn
        for axis in (ax.xaxis, ax.yaxis):
            low, high = sorted(axis.get_view_interval())
            hidden |= {id(label) for tick in axis.get_major_ticks() + axis.get_minor_ticks()
                       if tick.get_loc() is None or not low - 1e-9 <= tick.get_loc() <= high + 1e-9
                       for label in (tick.label1, tick.label2)}
    texts = [t for t in fig.findobj(matplotlib.text.Text)
             if t.get_visible() and t.get_text().strip() and id(t) not in hidden]
    return texts, canvas.get_renderer()


@pytest.mark.parametrize("source", ["realistic", "empty"])
def test_every_figure_is_drawn_at_a_journal_width_with_text_of_at_least_7_points(source):
    """Drawn 6-7 in wide and printed at 3.5 in, the ticks shrank to about 6 pt: now every figure is drawn
    at a column width (3.5 or 7 in) and printed at 100 %, its smallest text 7 pt, all of it inside."""
    figures = realistic_figures() if source == "realistic" else {
        name: make() for name, make in empty_figures().items() if name != "pooled"}
    assert len(figures) == 8
    for name, fig in figures.items():
        plots.save(fig, f"{name}.png", synthetic=True)                    # with the synthetic stamp (7 pt)
        width, height = fig.get_size_inches()
        assert width in (plots.SINGLE_COLUMN, plots.DOUBLE_COLUMN) and height <= 9, name
        texts, renderer = drawn_texts(fig)
        assert texts, name
        frame = fig.bbox
        for text in texts:
            assert text.get_fontsize() >= 7, (name, text.get_text(), text.get_fontsize())
            box = text.get_window_extent(renderer)
            assert (box.x0 >= frame.x0 - 1 and box.x1 <= frame.x1 + 1 and box.y0 >= frame.y0 - 1
                    and box.y1 <= frame.y1 + 1), (name, text.get_text(), box, frame)    # nothing cut off


def test_svg_keeps_text_as_text_and_is_identical_on_rebuild(tmp_path):
    """SVG text was outlined (paths per glyph): not editable. Now <text> elements, the same bytes twice."""
    plots.save(plots.subgroup_proportions(proportions([("neuropathic", 20, 11), ("nociceptive", 11, 4)]),
                                          {"n": 31, "favorable": 15, "proportion": 15 / 31}, group_by="pain_mechanism",
                                          confidence=0.95, p_value=0.5), "figures/subgroups.png", synthetic=True)
    svg = (tmp_path / "figures" / "subgroups.svg").read_text(encoding="utf-8")
    assert "<text" in svg and "SYNTHETIC DATA" in svg and "neuropathic" in svg and "Exploratory" in svg
    assert 'id="DejaVuSans-' not in svg                                  # no glyph outlines
    assert "<dc:date>" not in svg
    plots.save(plots.subgroup_proportions(proportions([("neuropathic", 20, 11), ("nociceptive", 11, 4)]),
                                          {"n": 31, "favorable": 15, "proportion": 15 / 31}, group_by="pain_mechanism",
                                          confidence=0.95, p_value=0.5), "again/subgroups.png", synthetic=True)
    assert (tmp_path / "again" / "subgroups.svg").read_text(encoding="utf-8") == svg


def six_in_the_denominator():
    """By hand: 2 favorable; 1 below the threshold (8 -> 6: 25 %); 2 stopped for lack of effect (one of
    them with 80 %); 1 without a follow-up NRS, counted unfavorable: unfavorable 4 = 1 + 2 + 1."""
    frame = outcomes_frame([(10, 2, True, None), (8, 2, True, None), (8, 6, False, None),
                            (10, 2, False, "lack_of_effect"), (9, 8, False, "lack_of_effect"),
                            (7, None, False, None)])
    frame["in_denominator"] = True
    return frame


def test_flow_diagram_splits_the_unfavorable_box_into_its_computed_parts():
    frame = six_in_the_denominator()
    breakdown = outcomes.responder_counts(frame)
    assert breakdown["patients"].tolist() == [2, 1, 2, 1]
    fig = plots.flow_diagram({"treated": 6, "included": 6, "excluded": {}},
                             {"n": 6, "favorable": 2, "proportion": 2 / 6, "missing_followup": 1},
                             breakdown=breakdown, threshold=50, missing_followup="nonresponder")
    texts = all_texts(fig)
    assert f"Unfavorable outcome\nn = 4/6 ({pct(4 / 6)})" in texts
    assert {"Reduction below threshold\nn = 1", "Stopped for lack of effect\nn = 2",
            "Follow-up NRS missing\nn = 1"} <= set(texts)
    # one box for the included patients, who are the analysed ones: no repeated Included / Analysed box
    assert [t.splitlines()[:2] for t in texts if t.startswith(("Included", "Analysed"))] == [
        ["Included and analysed: treated per protocol", "n = 6"]]
    assert not any(t.startswith(("Analysed", "Included:")) for t in texts)


def test_flow_diagram_without_the_missing_part_when_missing_follow_up_is_left_out():
    frame = six_in_the_denominator()
    frame.loc[frame["followup_nrs"].isna(), "in_denominator"] = False
    breakdown = outcomes.responder_counts(frame)
    fig = plots.flow_diagram({"treated": 6, "included": 6, "excluded": {}},
                             {"n": 5, "favorable": 2, "proportion": 2 / 5, "missing_followup": 1},
                             breakdown=breakdown, threshold=50, missing_followup="exclude")
    texts = all_texts(fig)
    assert {"Reduction below threshold\nn = 1", "Stopped for lack of effect\nn = 2"} <= set(texts)
    assert not any(t.startswith("Follow-up NRS missing") for t in texts)
    assert "Analysed\nn = 5" in texts and "Not analysed: no follow-up NRS\nn = 1" in texts


def test_side_effects_nest_the_included_in_the_treated_and_draw_a_zero_as_0():
    """vomiting: 1 of 74 treated, no included patient (the table lists only the events that occur)."""
    rows = [("treated", "any event", 20, 74), ("treated", "nausea", 14, 74), ("treated", "vomiting", 1, 74),
            ("treated", "blurred_vision", 3, 74), ("included", "any event", 12, 45), ("included", "nausea", 10, 45),
            ("included", "blurred_vision", 2, 45)]
    table = pd.DataFrame([{"population": p, "event": e, "patients": k, "proportion": k / n, "ci_low": k / n / 2,
                           "ci_high": min(1.5 * k / n, 1), "occurrences": k} for p, e, k, n in rows])
    fig = plots.side_effect_bars(table, confidence=0.95, population_sizes={"treated": 74, "included": 45})
    ax = fig.axes[0]
    ticks = dict(zip((t.get_text() for t in ax.get_yticklabels()), ax.get_yticks()))
    assert set(ticks) == {"nausea", "vomiting", "blurred vision"}                    # words, not codes
    treated_bars, included_bars = (list(c) for c in ax.containers if hasattr(c, "patches"))
    for treated, included in zip(treated_bars, included_bars):                     # same row, drawn inside
        centre = treated.get_y() + treated.get_height() / 2
        assert included.get_y() + included.get_height() / 2 == pytest.approx(centre)
        assert included.get_height() < treated.get_height()
    vomiting = [bar for bar in included_bars
                if bar.get_y() + bar.get_height() / 2 == pytest.approx(ticks["vomiting"])]
    assert len(vomiting) == 1 and vomiting[0].get_width() == 0                     # a bar of 0, not left out
    zeros = [t for t in ax.texts if t.get_text().strip() == "0"]
    assert len(zeros) == 1 and zeros[0].get_position()[1] == pytest.approx(ticks["vomiting"])
    assert zeros[0].get_position()[0] == pytest.approx(100 / 74)                   # right of the treated bar
    assert [t.get_text() for t in fig.legends[0].get_texts()] == ["all treated, n = 74",
                                                                  "included (within treated), n = 45"]


def test_the_index_lists_what_save_listed_by_stage_and_in_the_paper_order(tmp_path, monkeypatch):
    """The index used a regex on the executed notebooks; now it reads saved-figures/, each figure with
    the report of the stage whose list of written files names it."""
    from ketanb.presentation.index import saved_figures
    from ketanb.output.writing import writes_listed_in

    (tmp_path / "written").mkdir()
    for stage, figures in (("02-outcomes", [small_figure(), plots.nrs_before_after(SIX)]),   # saved in this order
                           ("01-cleaning", [empty_figures()["flow"]()])):
        with writes_listed_in(tmp_path / "written" / f"{stage}.txt"):
            for fig in figures:
                plots.save(fig, f"figures/{fig.get_label()}.png", synthetic=False)
    (tmp_path / "written" / "03-subgroups.txt").write_text("figures/other.png\n")             # no figure saved
    found = saved_figures(tmp_path)
    assert [(f["path"], f["report"]) for f in found] == [
        ("figures/flow_diagram.png", "01-cleaning.html"), ("figures/nrs_before_after.png", "02-outcomes.html"),
        ("figures/sensitivity_forest.png", "02-outcomes.html")]
    assert [f["caption"] for f in found] == [plots.CAPTIONS[name].caption for name in
                                             ("flow_diagram", "nrs_before_after", "sensitivity_forest")]
    assert all((tmp_path / f["vector"]).is_file() for f in found)


# --- issue 25: one home for the confidence-level text and for "k/n (p %)" --------------------------

def test_the_confidence_level_and_counts_are_written_by_ketanb_tables():
    from ketanb.presentation.tables import ci_label, confidence_text, count_text, words

    assert (confidence_text(0.95), confidence_text(0.975), ci_label(0.57)) == ("95 %", "97.5 %", "57 % CI")
    assert (count_text(23, 45, 23 / 45), count_text(3, 3, None), count_text(None, 3)) == ("23/45 (51.1 %)", "3/3",
                                                                                          "n = 3")
    assert words("pain_mechanism") == "pain mechanism" and words("blurred_vision") == "blurred vision"
    table = proportions([("main", 45, 23)], column="analysis").assign(main_analysis=[True])
    # 100 * 0.57 is 56.99999999999999: the label said "57.0 %" beside intervals named "57 % CI"
    assert plots.sensitivity_forest(table, confidence=0.57).axes[0].get_xlabel() == (
        "Favorable outcome (%), 57 % Wilson confidence interval")


def test_the_figures_ask_ketanb_disclosure_whether_a_small_population_may_be_drawn(monkeypatch):
    """Issue 25: the small-group rule has one home; the figures follow it when it changes."""
    from ketanb.disclosure import Disclosure

    monkeypatch.setattr(plots, "disclose", lambda sizes, *a, **k: Disclosure((), False, tuple(sizes)))
    assert not plots.nrs_before_after(SIX, min_group_size=5).axes[0].containers          # 6 >= 5, yet withheld
    assert "fewer than 5 patients with a follow-up NRS: not shown" in all_texts(
        plots.reduction_distribution(SIX, threshold=50, min_group_size=5))
    fig = plots.subgroup_proportions(proportions([("neuropathic", 20, 10)]), {"n": 20, "favorable": 10, "proportion": 0.5},
                                     group_by="pain_mechanism", confidence=0.95, p_value=None, unclassified=6)
    assert any("unclassified: n = 6" in t for t in all_texts(fig))


def test_a_value_with_its_interval_and_tau2_are_written_by_ketanb_tables():
    from ketanb.presentation.tables import ratio, tau2, with_interval

    assert with_interval(0.4912, 0.12, 1.9, ratio) == "0.49 (0.12 to 1.90)" and with_interval(0.4912, None, 1.9) == "0.5"
    assert tau2(0.16234) == "0.162" and tau2(None) == "-"
