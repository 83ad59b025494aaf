"""reports/index.html: the reviewer's entry page, built from results.json and the reports.

It links every rendered stage report, figure and table, summarises the main
results (every number read from results.json, none typed in) and shows each
figure with its caption and alt text, taken from the figure's own output in
the executed notebook. It needs no script and no network: open the file.

Standard library only (it runs in the last, quick step of ``make all``).
"""
from __future__ import annotations

import html
import json
import re
from pathlib import Path

__all__ = ["TABLES", "figures_in_reports", "build_index"]

#: Every table under results/ with what it holds (a test checks none is left out).
TABLES = {
    "flow.csv": "Participant flow: treated, excluded by reason, included (stage 01)",
    "outcome.csv": "Favorable outcome with its confidence interval (stage 02)",
    "outcome_breakdown.csv": "How the denominator splits into favorable and kinds of unfavorable outcome (stage 02)",
    "sensitivity.csv": "Sensitivity analyses: responder thresholds 30/50/70 %, missing follow-up handling (stage 02)",
    "responder_curve.csv": "Responder analysis: favorable proportion at every threshold 0-100 %, overall and by subgroup (stage 02)",
    "table1.csv": "Table 1: baseline characteristics overall and by subgroup (stage 03)",
    "subgroups.csv": "Favorable outcome by subgroup with confidence intervals (stage 03)",
    "side_effects.csv": "Side effects per event and population, patients and occurrences (stage 04)",
    "side_effects_severity.csv": "Side effects by severity, included patients (stage 04)",
    "side_effects_treatment.csv": "Treatments given for side effects, included patients (stage 04)",
}

_FIGURE = re.compile(r'<figure class="ketanb-figure".*?alt="(?P<alt>[^"]*)".*?<figcaption><b>(?P<path>[^<]+)</b>: '
                     r'(?P<caption>.*?)</figcaption></figure>', re.S)


def figures_in_reports(reports: Path) -> list[dict]:
    """Figures shown by the executed notebooks, in order: path, alt text, caption, report."""
    found = []
    for notebook in sorted(reports.glob("[0-9]*.ipynb")):
        nb = json.loads(notebook.read_text(encoding="utf-8"))
        for cell in nb["cells"]:
            for output in cell.get("outputs", []):
                text = "".join(output.get("data", {}).get("text/html", ""))
                for match in _FIGURE.finditer(text):
                    found.append({"path": match["path"], "alt": html.unescape(match["alt"]),
                                  "caption": html.unescape(match["caption"]),
                                  "report": notebook.with_suffix(".html").name})
    return found


def _title(notebook: Path) -> str:
    nb = json.loads(notebook.read_text(encoding="utf-8"))
    for cell in nb["cells"]:
        if cell["cell_type"] == "markdown":
            first = "".join(cell["source"]).splitlines()[0]
            return first.lstrip("# ").strip()
    return notebook.stem


def _pct(p) -> str:
    return "not estimable" if p is None else f"{100 * p:.1f}%"


def _proportion(block: dict, events: str = "favorable", level: float = 0.95) -> str:
    if not block["n"]:
        return f"{block[events]}/0 (not estimable)"
    return (f"{block[events]}/{block['n']} ({_pct(block['proportion'])}; {100 * level:g}% CI "
            f"{_pct(block['ci_low'])} to {_pct(block['ci_high'])})")


def _p(value) -> str:
    return "not computable" if value is None else f"{value:.3f}"


def _summary(r: dict) -> str:
    e = html.escape
    level = r["parameters"]["confidence"]
    cohort, outcome, sub = r["cohort"], r["outcome"], r["subgroups"]
    excluded = ", ".join(f"{n} {reason.replace('_', ' ')}" for reason, n in cohort["excluded"].items() if n)
    rows = "".join(
        f"<tr><td>{e(name)}</td><td>{_proportion(g, level=level)}</td></tr>" for name, g in sub["groups"].items())
    sens = r.get("sensitivity", {})
    sens_rows = "".join(
        f"<tr><td>responder threshold {e(k)}%</td><td>{_proportion(b, level=level)}</td></tr>"
        for k, b in sens.get("responder_threshold", {}).items())
    sens_rows += "".join(
        f"<tr><td>missing follow-up: {e(k)}</td><td>{_proportion(b, level=level)}</td></tr>"
        for k, b in sens.get("missing_followup", {}).items())
    se = r["side_effects"]
    return f"""
<h2>Main results</h2>
<ul>
<li><b>Cohort.</b> {cohort['treated']} patients treated, {cohort['included']} included and analysed;
excluded: {e(excluded) or 'none'}.</li>
<li><b>Favorable outcome</b> (pain reduction of at least {outcome['threshold_pct']:g}% without stopping for
lack of effect; missing follow-up counted as {e(r['parameters']['missing_followup'])}):
{_proportion(outcome, level=level)}. {outcome['missing_followup']} included patients had no follow-up NRS.</li>
<li><b>By {e(sub['group_by'].replace('_', ' '))}</b>: Fisher-Freeman-Halton p = {_p(sub['fisher_freeman_halton_p'])}
({e(str(sub.get('fisher_freeman_halton_method', '')))}), Kruskal-Wallis p = {_p(sub['kruskal_wallis_p'])};
{sub['unclassified']} unclassified.</li>
<li><b>Side effects</b>: {se['treated']['patients_with_any']} of {se['treated']['patients']} treated patients
had at least one ({se['treated']['infusions']} infusions); serious complications: {se['treated']['serious']}.</li>
</ul>
<table><thead><tr><th>Subgroup</th><th>Favorable outcome</th></tr></thead><tbody>{rows}</tbody></table>
<h3>Sensitivity analyses</h3>
<table><thead><tr><th>Analysis</th><th>Favorable outcome</th></tr></thead><tbody>{sens_rows}</tbody></table>
"""


def build_index(root: Path) -> str:
    """The HTML of reports/index.html for the project at ``root``."""
    e = html.escape
    results = json.loads((root / "results" / "results.json").read_text(encoding="utf-8"))
    reports = root / "reports"
    synthetic = results["data"]["synthetic"]
    notice = ('<p class="notice"><b>SYNTHETIC DATA.</b> These results come from the synthetic extract shipped '
              "with the project (<code>ketanb.synthetic</code>); it reproduces the published counts, but no row "
              "describes a real patient.</p>" if synthetic else
              f'<p class="notice">Data: the extract at <code>{e(results["data"]["source"])}</code> '
              "(not synthetic).</p>")
    stage_items = "".join(
        f'<li><a href="{e(nb.with_suffix(".html").name)}">{e(_title(nb))}</a> '
        f'(<a href="{e(nb.name)}">notebook</a>)</li>' for nb in sorted(reports.glob("[0-9]*.ipynb")))
    figures = "".join(
        f'<figure><a href="../{e(f["path"])}"><img src="../{e(f["path"])}" alt="{e(f["alt"], quote=True)}" '
        f'loading="eager"></a><figcaption><b>{e(f["path"])}</b>: {e(f["caption"])} '
        f'(<a href="{e(f["report"])}">report</a>)</figcaption></figure>'
        for f in figures_in_reports(reports))
    tables = "".join(
        f'<li><a href="../results/{e(name)}">results/{e(name)}</a>: {e(text)}</li>'
        for name, text in TABLES.items() if (root / "results" / name).exists())
    params = "".join(f"<tr><td><code>{e(k)}</code></td><td>{e(json.dumps(v))}</td></tr>"
                     for k, v in results["parameters"].items())
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>ketanb: ketamine infusion therapy in chronic pain, reports</title>
<style>
body {{ font-family: sans-serif; max-width: 980px; margin: 2em auto; padding: 0 1em; line-height: 1.45; color: #222; }}
.notice {{ border-left: 4px solid #B00020; background: #fdecef; padding: 0.6em 1em; }}
table {{ border-collapse: collapse; margin: 0.5em 0 1em 0; }}
td, th {{ border-bottom: 1px solid #ddd; padding: 3px 10px; text-align: left; }}
figure {{ display: inline-block; width: 46%; margin: 0 1.5% 1.5em 0; vertical-align: top; }}
figure img {{ width: 100%; border: 1px solid #eee; }}
figcaption {{ font-size: 0.85em; }}
</style>
</head>
<body>
<h1>Ketamine infusion therapy in chronic pain</h1>
<p>Retrospective cohort, AZ Sint-Blasius, Dendermonde (Belgium), 2015-2019. Reproducible compendium
<code>ketanb</code>: every number below is read from <a href="../results/results.json">results/results.json</a>,
which <code>make all</code> computes from the extract.</p>
{notice}
{_summary(results)}
<h2>Stage reports</h2>
<p>The executed notebooks, code folded (click "Show code").</p>
<ol>{stage_items}</ol>
<h2>Figures</h2>
{figures}
<h2>Tables</h2>
<ul><li><a href="../results/results.json">results/results.json</a>: every result of the contract, machine-readable</li>
<li><a href="../results/provenance.json">results/provenance.json</a>: input files (sha256), parameters, package versions</li>
{tables}</ul>
<h2>Parameters of this run</h2>
<table>{params}</table>
<p>Data: <code>{e(results['data']['source'])}</code>. How each STROBE item is answered:
<a href="../STROBE.md">STROBE.md</a>.</p>
</body>
</html>
"""
