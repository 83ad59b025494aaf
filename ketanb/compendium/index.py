"""reports/index.html: the reviewers' entry page, from results.json, the reports and a Jinja2 template.

It opens with the published numbers beside this run's, then the main results
(every number read from results.json, none typed in, written by :mod:`ketanb.tables`,
the limitations from :func:`ketanb.tables.limitations` as in report 04), links to every stage
report, figure (with the caption and alt text that ketanb.plots.save listed
for it) and table. It needs no script and no network: open the file.
"""
from __future__ import annotations

import json
from pathlib import Path

import jinja2

from .. import tables as fmt
from ..input.contract import REASON_LABELS
from ..input.read import SYNTHETIC_HEADLINE, SYNTHETIC_NOTICE
from ..plots import CAPTIONS, SAVED_FIGURES

__all__ = ["PUBLISHED", "TABLES", "saved_figures", "build_index"]

#: The published numbers (Vallé et al., Acta Anaesthesiologica Belgica, May 2024): 74 patients
#: treated, 45 treated per protocol and analysed, a favorable outcome in 23/45 (51.1%), no
#: significant difference between neuropathic, nociceptive and nociplastic pain, mild side
#: effects and no major complications.
PUBLISHED = {"treated": 74, "included": 45, "favorable": 23, "n": 45}

#: Every table under results/ with what it holds (a test checks none is left out).
TABLES = {
    "flow.csv": "Participant flow: treated, excluded by reason, included (stage 01)",
    "outcome_breakdown.csv": "How the denominator splits into favorable and kinds of unfavorable outcome (stage 02)",
    "sensitivity.csv": "Main analysis and sensitivity analyses: thresholds, missing follow-up, side-effect stops, "
                       "all treated (stage 02)",
    "responder_curve.csv": "Favorable outcome at every threshold 0-100 %, overall and by subgroup (stage 02)",
    "table1.csv": "Table 1: baseline characteristics overall and by subgroup (stage 03)",
    "included_vs_excluded.csv": "Baseline characteristics of included and excluded patients (stage 03)",
    "subgroups.csv": "Favorable outcome by subgroup with confidence intervals and effect sizes (stage 03)",
    "side_effects.csv": "Side effects per event and population, patients and occurrences (stage 04)",
    "side_effects_severity.csv": "Side effects by severity, included patients (stage 04)",
    "side_effects_treatment.csv": "Treatments given for side effects, included patients (stage 04)",
}


def saved_figures(build: Path) -> list[dict]:
    """The figures the stages of ``build`` saved, as ketanb.plots.save listed them (``saved-figures/``).

    Each: ``path``, ``vector`` (the SVG), ``figure`` (the function that drew it), ``alt``,
    ``caption`` and ``report`` (the stage report that made it, from the stage's list of
    written files); in the order of the stages, and within a stage in the order of
    :data:`ketanb.plots.CAPTIONS` (the paper's).
    """
    order = list(CAPTIONS)
    found = []
    for written in sorted((build / "written").glob("[0-9]*.txt")):
        listed = [line for line in written.read_text(encoding="utf-8").splitlines()
                  if line.startswith(f"{SAVED_FIGURES}/") and (build / line).is_file()]
        entries = [json.loads((build / line).read_text(encoding="utf-8")) for line in listed]
        entries.sort(key=lambda e: (order.index(e["figure"]) if e["figure"] in order else len(order), e["path"]))
        found += [{**entry, "report": f"{written.stem}.html"} for entry in entries]
    return found


def _title(notebook: Path) -> str:
    for cell in json.loads(notebook.read_text(encoding="utf-8"))["cells"]:
        if cell["cell_type"] == "markdown":
            return "".join(cell["source"]).splitlines()[0].lstrip("# ").strip()
    return notebook.stem


def _comparison(r: dict) -> list[dict]:
    """The published numbers beside this run's, each marked equal or not (None: not comparable)."""
    o, p = r["outcome"], r["subgroups"]["fisher_freeman_halton_p"]
    serious = r["side_effects"]["treated"]["serious_patients"]["patients"]   # None: withheld (few excluded)
    significant = None if p is None else p < 0.05
    difference = ("not computable" if p is None else
                  f"{'significant' if significant else 'not significant'} ({fmt.p_is(p)})")
    if r["subgroups"]["group_by"] != "pain_mechanism" or r["parameters"].get("group_edges"):
        # the paper compared pain mechanisms; another grouping does not answer its question
        difference = f"not compared: this run groups by {r['subgroups']['group_by'].replace('_', ' ')}"
        same_difference = None
    else:
        same_difference = significant is False
    rows = [  # label, published, this run, equal
        ("Patients treated", PUBLISHED["treated"], r["cohort"]["treated"],
         r["cohort"]["treated"] == PUBLISHED["treated"]),
        ("Treated per protocol and analysed", PUBLISHED["included"], r["cohort"]["included"],
         r["cohort"]["included"] == PUBLISHED["included"]),
        ("Favorable outcome", f"{PUBLISHED['favorable']}/{PUBLISHED['n']} ({fmt.pct(PUBLISHED['favorable'] / PUBLISHED['n'])})",
         f"{o['favorable']}/{o['n']} ({fmt.pct(o['proportion'])})",
         (o["favorable"], o["n"]) == (PUBLISHED["favorable"], PUBLISHED["n"])),
        ("Difference between pain mechanisms", "not significant", difference, same_difference),
        ("Major complications", "none", "not shown" if serious is None else "none" if serious == 0 else
         f"{serious} patients", None if serious is None else serious == 0),
    ]
    return [{"label": label, "published": pub, "reproduced": rep, "same": same} for label, pub, rep, same in rows]


def build_index(build: Path) -> str:
    """The HTML of reports/index.html for the build folder ``build`` (results/ and reports/ in it)."""
    r = json.loads((build / "results" / "results.json").read_text(encoding="utf-8"))
    reports = build / "reports"
    confidence = r["parameters"]["confidence"]
    sensitivity = []
    if (build / "results" / "sensitivity.csv").is_file():
        import pandas as pd

        sensitivity = pd.read_csv(build / "results" / "sensitivity.csv").to_dict("records")
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(Path(__file__).parent / "templates" / "index"),
                             autoescape=True, keep_trailing_newline=True)
    return env.get_template("index.html.j2").render(
        r=r, synthetic_headline=SYNTHETIC_HEADLINE, synthetic_notice=SYNTHETIC_NOTICE,
        ci=fmt.ci_label(confidence), comparison=_comparison(r), sensitivity=sensitivity,
        treated_note=fmt.treated_note(r["cohort"]),
        framing=fmt.framing(r["outcome"], r["sensitivity"], r["cohort"], confidence, r["parameters"]["min_group_size"],
                            r["data"]["synthetic"]),
        harms=fmt.harms_sentences(r["side_effects"], confidence), harms_definitions=fmt.HARMS_DEFINITIONS,
        kruskal_wallis=fmt.kruskal_wallis_text(r["subgroups"]), limitations=fmt.limitations(r, confidence),
        excluded="; ".join(f"{REASON_LABELS[reason]}: {n}" for reason, n in r["cohort"]["excluded"].items() if n),
        stages=[{"html": nb.with_suffix(".html").name, "notebook": nb.name, "title": _title(nb)}
                for nb in sorted(reports.glob("[0-9]*.ipynb"))],
        figures=saved_figures(build),
        tables=[(name, text) for name, text in TABLES.items() if (build / "results" / name).exists()],
        pct=fmt.pct, num=fmt.num, nrs=fmt.nrs, ratio=fmt.ratio, patients=fmt.patients, p_is=fmt.p_is,
        points=fmt.points, interval=fmt.interval, estimate=lambda *a: fmt.estimate(*a, confidence, fmt.nrs),
        prop=lambda block: fmt.format_proportion(block, confidence=confidence))
