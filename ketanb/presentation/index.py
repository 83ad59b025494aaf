"""reports/index.html: the reviewers' entry page, from results.json, the reports and a Jinja2 template.

It is headed with the study the run belongs to (results.json, key ``study``: the ``study:`` block of
the parameters) and, when the study gives published values, opens with them beside this run's; then
the main results (every number read from results.json, none typed in, written by
:mod:`ketanb.presentation.tables`; the limitations from :func:`ketanb.presentation.tables.limitations`,
as at the end of report 03), links to every stage report, figure (with the caption and alt text that
:func:`ketanb.presentation.plots.save` listed for it) and table. It needs no script and no network:
open the file.
"""
from __future__ import annotations

import json
from pathlib import Path

import jinja2

from ..input.contract import REASON_LABELS
from ..output.files import SAVED_FIGURES
from ..params import Study
from . import tables as fmt
from .notices import HEADLINE, REAL_DATA, RUN_NOTICE

__all__ = ["TABLES", "saved_figures", "comparison", "build_index"]

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
    """The figures the stages of ``build`` saved, as ketanb.presentation.plots.save listed them (``saved-figures/``).

    Each: ``path``, ``vector`` (the SVG), ``figure`` (the function that drew it), ``alt``,
    ``caption`` and ``report`` (the stage report that made it, from the stage's list of
    written files); in the order of the stages, and within a stage in the paper's order
    (``order``, the figure function's place in :data:`ketanb.presentation.plots.CAPTIONS`).
    """
    found = []
    for written in sorted((build / "written").glob("[0-9]*.txt")):
        listed = [line for line in written.read_text(encoding="utf-8").splitlines()
                  if line.startswith(f"{SAVED_FIGURES}/") and (build / line).is_file()]
        entries = [json.loads((build / line).read_text(encoding="utf-8")) for line in listed]
        entries.sort(key=lambda e: (e["order"], e["path"]))
        found += [{**entry, "report": f"{written.stem}.html"} for entry in entries]
    return found


def _title(notebook: Path) -> str:
    for cell in json.loads(notebook.read_text(encoding="utf-8"))["cells"]:
        if cell["cell_type"] == "markdown":
            return "".join(cell["source"]).splitlines()[0].lstrip("# ").strip()
    return notebook.stem


def _differs(r: dict, published: dict, keys) -> list[str]:
    """How this run's analysis differs from the published one in ``keys`` (empty: it does not)."""
    params, found = r["parameters"], []
    if "responder_threshold" in keys and params["responder_threshold"] != published.get("responder_threshold",
                                                                                       params["responder_threshold"]):
        found.append(f"threshold {fmt.parameter_percent(params['responder_threshold'])}")
    if "missing_followup" in keys and params["missing_followup"] != published.get("missing_followup",
                                                                                 params["missing_followup"]):
        found.append(f"missing follow-up: {params['missing_followup']}")
    if "group_by" in keys and (r["subgroups"]["group_by"] != published.get("group_by", r["subgroups"]["group_by"])
                               or params.get("group_edges")):
        found.append(f"grouped by {fmt.words(r['subgroups']['group_by'])}"
                     f"{' in bands' if params.get('group_edges') else ''}")
    return found


def comparison(r: dict) -> list[dict]:
    """The study's published values beside this run's (empty: the study gives none).

    Each row: ``label``, ``published``, ``reproduced`` and ``status``: ``not compared (...)`` when this run's
    parameters differ from the published analysis on what the row depends on (its threshold, its handling of
    a missing follow-up NRS, its grouping); else, on the synthetic extract, ``set by construction`` for an
    equal value (the generator was built to give it: not a replication); else ``same`` or ``different``.
    """
    published = (r.get("study") or {}).get("published")
    if not published:
        return []
    o, sub = r["outcome"], r["subgroups"]
    p = sub["fisher_freeman_halton_p"]
    serious = r["side_effects"]["treated"]["serious_patients"]["patients"]   # None: withheld (few excluded)
    outcome_keys = ("responder_threshold", "missing_followup")
    rows = []     # label, published, this run, equal (None: not computable), what differs from the published analysis
    if "treated" in published:
        rows.append(("Patients treated", published["treated"], r["cohort"]["treated"],
                     r["cohort"]["treated"] == published["treated"], []))
    if "included" in published:
        rows.append(("Treated per protocol and analysed", published["included"], r["cohort"]["included"],
                     r["cohort"]["included"] == published["included"], []))
    if "favorable" in published and "n" in published:
        k, n = published["favorable"], published["n"]
        rows.append(("Favorable outcome", fmt.count_text(k, n, k / n if n else None),
                     fmt.count_text(o["favorable"], o["n"], o["proportion"]), (o["favorable"], o["n"]) == (k, n),
                     _differs(r, published, outcome_keys)))
    if "subgroup_difference" in published:
        verdict = None if p is None else "significant" if p < fmt.SIGNIFICANCE_LEVEL else "not significant"
        rows.append((f"Difference by {fmt.words(published.get('group_by', sub['group_by']))}",
                     published["subgroup_difference"],
                     ("not computable" if p is None else f"{verdict} ({fmt.p_is(p)})")
                     + ("" if sub["group_by"] == published.get("group_by", sub["group_by"]) else
                        f", by {fmt.words(sub['group_by'])}"),
                     None if p is None else verdict == published["subgroup_difference"],
                     _differs(r, published, (*outcome_keys, "group_by"))))
    if "serious_complications" in published:
        rows.append(("Major complications", "none" if published["serious_complications"] == 0 else
                     fmt.patients(published["serious_complications"]),
                     "not shown" if serious is None else "none" if serious == 0 else fmt.patients(serious),
                     None if serious is None else serious == published["serious_complications"], []))
    synthetic = r["data"]["synthetic"]
    out = []
    for label, pub, rep, same, differs in rows:
        if differs:
            status = f"not compared ({', '.join(differs)})"
        elif same is None:
            status = "not compared"
        elif synthetic:
            status = "set by construction" if same else "different"
        else:
            status = "same" if same else "different"
        out.append({"label": label, "published": pub, "reproduced": rep, "status": status})
    return out


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
    study = r.get("study") or {"title": Study.title}      # a results.json from before the study block
    rows = comparison(r)
    return env.get_template("index.html.j2").render(
        r=r, study=study, study_line=fmt.study_line(study, title=False),
        rule=fmt.favorable_rule(r["outcome"]["threshold_pct"], r["parameters"]["missing_followup"]),
        compared_otherwise=any(row["status"].startswith("not compared (") for row in rows),
        differs=any(row["status"] == "different" for row in rows), synthetic_headline=HEADLINE, synthetic_notice=RUN_NOTICE,
        real_data=REAL_DATA, ci=fmt.ci_label(confidence), significance=fmt.SIGNIFICANCE_LEVEL, comparison=rows,
        sensitivity=sensitivity, treated_note=fmt.treated_note(r["cohort"]),
        framing=fmt.framing(r["outcome"], r["sensitivity"], r["cohort"], confidence, r["parameters"]["min_group_size"],
                            r["data"]["synthetic"]),
        harms=fmt.harms_sentences(r["side_effects"], confidence), harms_definitions=fmt.HARMS_DEFINITIONS,
        kruskal_wallis=fmt.kruskal_wallis_text(r["subgroups"]), limitations=fmt.limitations(r, confidence),
        excluded="; ".join(f"{REASON_LABELS[reason]}: {n}" for reason, n in r["cohort"]["excluded"].items() if n),
        stages=[{"html": nb.with_suffix(".html").name, "notebook": nb.name, "title": _title(nb)}
                for nb in sorted(reports.glob("[0-9]*.ipynb"))],
        figures=saved_figures(build),
        tables=[(name, text) for name, text in TABLES.items() if (build / "results" / name).exists()],
        pct=fmt.pct, num=fmt.num, nrs=fmt.nrs, ratio=fmt.ratio, patients=fmt.patients, p_is=fmt.p_is, words=fmt.words,
        points=fmt.points, interval=fmt.interval, estimate=lambda *a: fmt.estimate(*a, confidence, fmt.nrs),
        prop=lambda block: fmt.format_proportion(block, confidence=confidence))
