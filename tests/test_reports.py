"""What reviewers open: reports/index.html and the rendered stage reports (committed outputs)."""
import html
import json
import re
from types import SimpleNamespace

import pandas as pd
import pytest

from ketanb.presentation import plots, tables
from ketanb import load_params
from ketanb.presentation.index import TABLES, comparison
from ketanb.paths import ROOT

REPORTS = ROOT / "reports"
pytestmark = pytest.mark.skipif(not (REPORTS / "index.html").exists(), reason="run `make all` first")


def results():
    return json.loads((ROOT / "results" / "results.json").read_text())


def shipped_study():
    """The study block of the shipped params.yaml, as results.json writes it."""
    return load_params(ROOT / "params.yaml").study.to_dict()


def test_every_table_is_described_on_the_index():
    tables = sorted(p.name for p in (ROOT / "results").glob("*.csv"))
    assert tables == sorted(TABLES)
    index = (REPORTS / "index.html").read_text(encoding="utf-8")
    assert all(f"results/{name}" in index for name in tables)


INDEX_FIGURE = re.compile(r'<figure><a href="\.\./(?P<path>[^"]+)"><img src="\.\./(?P=path)" alt="(?P<alt>[^"]*)"[^>]*>'
                          r'</a>\s*<figcaption><b>(?P=path)</b>: (?P<caption>.*?) \(<a href="(?P<report>[^"]+)">report'
                          r'</a>; vector:\s*<a href="\.\./(?P<vector>[^"]+)">SVG</a>\)</figcaption></figure>', re.S)
NOTEBOOK_FIGURE = re.compile(r'<figure class="ketanb-figure".*?alt="(?P<alt>[^"]*)".*?<figcaption><b>(?P<path>[^<]+)</b>: '
                             r'(?P<caption>.*?)</figcaption></figure>', re.S)


def test_every_figure_is_on_the_index_with_its_caption_from_the_one_home_and_a_vector_copy():
    """The index read captions back out of the executed notebooks with a regex; now it reads the list
    plots.save writes, and every alt text and caption is the one declared beside the drawing function."""
    index = (REPORTS / "index.html").read_text(encoding="utf-8")
    shown = [m.groupdict() for m in INDEX_FIGURE.finditer(index)]
    assert sorted(f["path"] for f in shown) == sorted(f"figures/{p.name}" for p in (ROOT / "figures").glob("*.png"))
    homes = {(home.alt, home.caption) for home in plots.CAPTIONS.values()}
    for f in shown:
        assert (html.unescape(f["alt"]), html.unescape(f["caption"])) in homes, f["path"]
        assert (ROOT / f["vector"]).is_file() and (REPORTS / f["report"]).is_file()
    assert len({f["caption"] for f in shown}) == len(shown)


def test_reports_show_each_figure_with_its_caption_from_the_one_home_and_describe_none_otherwise():
    """Report 02 said "Each disc is a pair of NRS values..." above a bar chart of scores."""
    homes = {(home.alt, home.caption) for home in plots.CAPTIONS.values()}
    shown = 0
    for notebook in sorted(REPORTS.glob("[0-9]*.ipynb")):
        for cell in json.loads(notebook.read_text(encoding="utf-8"))["cells"]:
            for output in cell.get("outputs", []):
                for m in NOTEBOOK_FIGURE.finditer("".join(output.get("data", {}).get("text/html", ""))):
                    assert (html.unescape(m["alt"]), html.unescape(m["caption"])) in homes, m["path"]
                    shown += 1
            if cell["cell_type"] == "markdown":
                assert not re.search(r"\bdiscs?\b|pair of NRS|its area shows", "".join(cell["source"]), re.I)
    assert shown == len(list((ROOT / "figures").glob("*.png")))


def test_index_opens_with_published_beside_this_run_set_by_construction():
    """Issue 24.3: on the synthetic extract the agreement is by construction, not a replication."""
    index = (REPORTS / "index.html").read_text(encoding="utf-8")
    table = index[index.index('id="published-vs-reproduced"'):index.index("</table>", index.index("published-vs"))]
    r = results()
    # the paper: 74 treated, 45 analysed, 23/45 (51.1%) favorable; the shipped run gives each by construction
    assert {k: r["study"]["published"][k] for k in ("treated", "included", "favorable", "n")} == {
        "treated": 74, "included": 45, "favorable": 23, "n": 45}
    assert f"<td>{r['cohort']['treated']}</td>" in table and f"<td>{r['cohort']['included']}</td>" in table
    assert "23/45 (51.1 %)" in table
    assert table.count("<td>set by construction</td>") == 5
    assert "equal" not in table and "same" not in table and "different" not in table
    assert "Published (Vallé et al., Acta Anaesthesiologica Belgica, May 2024)" in table
    assert "not a replication" in index and "invented by the generator" in index


def test_comparison_says_same_or_different_on_a_real_extract_and_nothing_without_published_values():
    r = {**results(), "study": shipped_study(), "data": {"source": "clinic", "synthetic": False}}
    r["cohort"] = {**r["cohort"], "treated": 75}
    status = {row["label"]: row["status"] for row in comparison(r)}
    assert status == {"Patients treated": "different", "Treated per protocol and analysed": "same",
                      "Favorable outcome": "same", "Difference by pain mechanism": "same",
                      "Major complications": "same"}
    assert comparison({**r, "study": {**r["study"], "published": None}}) == []
    assert comparison({k: v for k, v in r.items() if k != "study"}) == []


def test_variant_parameters_are_not_compared_and_not_called_another_synthetic_extract():
    """Issue 23.2: threshold 30 and group_by sex on the synthetic extract (runs/t30sex)."""
    r = {**results(), "study": shipped_study()}
    r["parameters"] = {**r["parameters"], "responder_threshold": 30, "group_by": "sex"}
    r["outcome"] = {**r["outcome"], "threshold_pct": 30, "favorable": 30, "proportion": 30 / 45}
    r["subgroups"] = {**r["subgroups"], "group_by": "sex"}
    status = {row["label"]: row["status"] for row in comparison(r)}
    assert status == {"Patients treated": "set by construction",
                      "Treated per protocol and analysed": "set by construction",
                      "Favorable outcome": "not compared (threshold 30 %)",
                      "Difference by pain mechanism": "not compared (threshold 30 %, grouped by sex)",
                      "Major complications": "set by construction"}
    by_exclude = {**r, "parameters": {**results()["parameters"], "missing_followup": "exclude"},
                  "subgroups": results()["subgroups"], "outcome": results()["outcome"]}
    assert {row["label"]: row["status"] for row in comparison(by_exclude)}["Favorable outcome"] == (
        "not compared (missing follow-up: exclude)")


def test_the_index_of_a_variant_run_describes_it_truthfully(tmp_path):
    import shutil

    from ketanb.presentation.index import build_index

    from ketanb.analysis import analyse
    from ketanb.output.files import to_jsonable

    build = tmp_path / "build"
    shutil.copytree(ROOT / "reports", build / "reports")
    (build / "results").mkdir()
    r = to_jsonable(analyse(ROOT / "data" / "raw", load_params(ROOT / "params.yaml", responder_threshold=30)))
    (build / "results" / "results.json").write_text(json.dumps(r))
    page = build_index(build)
    assert "not compared (threshold 30 %)" in page and "not a replication" in page
    assert "settings other than the published ones" not in page and "other settings" not in page
    assert "computed here with other parameters than the published analysis" in page


def test_index_numbers_come_from_results_json():
    r = results()
    index = (REPORTS / "index.html").read_text(encoding="utf-8")
    o = r["outcome"]
    assert f"{o['favorable']}/{o['n']} ({100 * o['proportion']:.1f} %; 95 % CI {100 * o['ci_low']:.1f} % to " in index
    serious = r["side_effects"]["treated"]["serious_patients"]
    # 0 of 74 with the exact upper bound: R binom.test(0, 74)$conf.int[2] = 0.04862762
    assert serious["patients"] == 0 and round(serious["ci_high"], 4) == 0.0486
    assert f"0/74 (0.0 %; 95 % CI 0.0 % to {100 * serious['ci_high']:.1f} %, Clopper-Pearson) had a serious one" in index
    assert "SYNTHETIC DATA" in index and "exploratory" in index


@pytest.mark.parametrize("report", sorted(p.name for p in REPORTS.glob("[0-9]*.html")))
def test_reports_open_offline_with_code_folded_and_one_parameters_cell(report):
    html = (REPORTS / report).read_text(encoding="utf-8")
    assert not re.search(r"<script[^>]+src=\"https?://", html), "a script from the network"
    assert '<details class="ketanb-code"><summary>Show code</summary>' in html
    assert html.count("Parameters of this run") == 1
    assert "SYNTHETIC DATA" in html and 'href="index.html"' in html
    assert "<strong>Result" in html                                # a results paragraph


def test_reports_show_formatted_tables():
    html = (REPORTS / "02-outcomes.html").read_text(encoding="utf-8")
    r = results()
    o = r["outcome"]
    assert f"{o['favorable']}/{o['n']} ({100 * o['proportion']:.1f} %; 95 % CI" in html
    assert "<caption>Sensitivity analyses</caption>" in html
    assert "0.5111" not in html and "main_analysis" not in html    # no raw fractions, no snake_case header


def test_no_absolute_path_of_the_machine_in_any_output():
    leaks = [str(p.relative_to(ROOT)) for folder in ("results", "figures", "reports")
             for p in (ROOT / folder).rglob("*") if p.is_file() and str(ROOT) in p.read_bytes().decode("latin-1")]
    assert leaks == []


def test_default_table1_gives_the_two_unclassified_patients_no_column():
    """Contract section 5: the mechanisms (20, 11, 12) keep their columns; the 2 unclassified get no
    Table 1 column ("no Table 1 column"), their count is subgroups.unclassified and in the text."""
    import csv

    rows = list(csv.DictReader((ROOT / "results" / "table1.csv").open()))
    assert [c for c in rows[0] if c not in ("variable", "level", "missing", "overall")] == [
        "neuropathic", "nociceptive", "nociplastic"]
    assert [(r["overall"], r["neuropathic"]) for r in rows if r["variable"] == "n"] == [("45", "20")]
    assert results()["subgroups"]["unclassified"] == 2 and results()["subgroups"]["pooled_values"] == 0
    assert "2 patients unclassified" in (REPORTS / "03-subgroups.html").read_text(encoding="utf-8")


def test_the_pain_mechanism_row_is_not_compared_when_the_run_groups_by_something_else():
    r = {**results(), "study": shipped_study()}
    rows = {row["label"]: row for row in comparison(r)}
    assert rows["Difference by pain mechanism"]["status"] == "set by construction"
    by_sex = {**r, "subgroups": {**r["subgroups"], "group_by": "sex"}}
    row = {row["label"]: row for row in comparison(by_sex)}["Difference by pain mechanism"]
    assert row["status"] == "not compared (grouped by sex)"
    assert row["reproduced"].endswith(", by sex") and row["published"] == "not significant"


def test_report_tables_write_effects_as_readers_do_and_escape_names():
    """Risk differences in percentage points, odds ratios with two decimals, p with three, one
    column per effect with its interval; a group name is text, not HTML."""
    effects = pd.DataFrame({"group": ["<i>a</i>", "b"], "reference": [True, False], "n": [20, 11],
                            "favorable": [11, 4], "proportion": [0.55, 4 / 11], "ci_low": [0.342, 0.152],
                            "ci_high": [0.742, 0.646], "median_reduction_pct": [57.14, float("nan")],
                            "risk_difference": [None, -0.18636], "rd_ci_low": [None, -0.47223],
                            "rd_ci_high": [None, 0.16445], "odds_ratio": [None, 0.4793],
                            "or_ci_low": [None, 0.07617], "or_ci_high": [None, 2.6418], "fisher_p": [None, 0.45779]})
    shown = tables.readable(effects)
    assert list(shown.columns) == ["group", "reference", "n", "favorable", "median reduction (%)",
                                   "risk difference (95 % CI)", "odds ratio (95 % CI)", "Fisher p"]
    assert shown.iloc[1, 4:].tolist() == ["-", "-18.6 pp (-47.2 pp to +16.4 pp)", "0.48 (0.08 to 2.64)", "0.458"]
    assert shown.iloc[0, 4:].tolist() == ["57.1", "-", "-", ""]
    page = tables.show(shown, "By group <exploratory>").data
    assert "&lt;i&gt;a&lt;/i&gt;" in page and "<i>a</i>" not in page and "By group &lt;exploratory&gt;" in page


def test_odds_ratios_below_a_hundredth_keep_two_significant_digits():
    assert [tables.ratio(x) for x in (0.47929, 391.99, 0.0031, 0.00068, 0.0, None)] == [
        "0.48", "391.99", "0.0031", "0.00068", "0.00", "-"]


def test_counts_of_one_read_as_one_patient():
    assert (tables.patients(1), tables.patients(2), tables.patients(1, "included patient")) == (
        "1 patient", "2 patients", "1 included patient")


def test_the_index_says_the_treated_side_effects_are_not_shown_when_withheld():
    """Few excluded patients: ketanb.side_effects withholds the treated population (issue 22); the
    index reads None as 'not shown', not as 'None patients'."""
    from ketanb.side_effects import _withheld

    r = {**results(), "study": shipped_study()}
    r["side_effects"]["treated"] = _withheld(74)
    row = next(row for row in comparison(r) if row["label"] == "Major complications")
    assert (row["reproduced"], row["status"]) == ("not shown", "not compared")


def _visible_text(page: str) -> str:
    """The text a reader sees of an HTML page: no style, script, folded code or figure (the figures'
    captions and labels are plots.py's and are checked in test_plots)."""
    import html as html_module

    page = re.sub(r"<(style|script)\b.*?</\1>", " ", page, flags=re.S)
    page = re.sub(r"<figure\b.*?</figure>", " ", page, flags=re.S)
    page = re.sub(r'<details class="ketanb-code">.*?</details>', " ", page, flags=re.S)
    return html_module.unescape(re.sub(r"<[^>]+>", " ", page))


@pytest.mark.parametrize("page", ["index.html", *sorted(p.name for p in REPORTS.glob("[0-9]*.html"))])
def test_one_number_format_in_the_index_and_reports(page):
    """Issue 24, item 7: no percentage without its space (51.1%), no interval written with a hyphen
    (37.0-65.0), no Hodges-Lehmann estimate with one decimal in one place and two in another."""
    text = _visible_text((REPORTS / page).read_text(encoding="utf-8"))
    assert re.findall(r".{30}\d%.{10}", text) == []
    assert re.findall(r".{30}\d\.\d+ ?%?-\d+\.\d.{10}", text) == []
    assert re.findall(r".{30}\[\d+\.\d,\d+\.\d\]", text) == []       # Table 1 quartiles too: [Q1 to Q3]
    hl = results()["outcome"]["nrs_change"]["hodges_lehmann"]
    assert f"{hl:.2f}" == "-3.75"
    if page in ("index.html", "02-outcomes.html"):
        assert "Hodges-Lehmann estimate" in text and "-3.75" in text and not re.search(r"-3\.8\b", text)


def test_the_format_helpers_write_one_form():
    assert (tables.pct(0.5111), tables.pct(None), tables.percent(55.0)) == ("51.1 %", "-", "55.0 %")
    assert tables.interval(0.37, 0.65, tables.pct) == "37.0 % to 65.0 %"
    assert tables.interval(-0.4722, 0.1644, tables.points) == "-47.2 pp to +16.4 pp"
    assert tables.interval(None, 0.1) == "no interval"
    assert (tables.nrs(-3.75), tables.nrs(7.2)) == ("-3.75", "7.20")
    assert tables.estimate(-3.75, -4.75, -3.0, 0.95, tables.nrs) == "-3.75 (95 % CI -4.75 to -3.00)"
    assert tables.format_proportion({"favorable": 23, "n": 45, "proportion": 23 / 45, "ci_low": 0.37,
                                     "ci_high": 0.65}) == "23/45 (51.1 %; 95 % CI 37.0 % to 65.0 %)"
    assert tables.format_proportion({"patients": 8, "proportion": 8 / 74, "ci_low": 0.0478, "ci_high": 0.2020},
                                    "patients", n=74, method="Clopper-Pearson") == (
        "8/74 (10.8 %; 95 % CI 4.8 % to 20.2 %, Clopper-Pearson)")
    assert (tables.p_is(0.0001), tables.p_is(0.5374), tables.p_is(None)) == (
        "p < 0.001", "p = 0.537", "p not computable")


def test_the_index_frames_harms_and_limitations_from_results_json():
    """Issue 24, items 1, 2, 4 and 9 on the index and reports 02 (framing) and 04 (harms): both denominators, stops for side
    effects with Clopper-Pearson (R: binom.test(8, 74)$conf.int = 0.04784399 0.20195014), what treated
    means, the definitions, and the limitations from their one home (the same text on the index and report 03)."""
    r = results()
    index = _visible_text((REPORTS / "index.html").read_text(encoding="utf-8"))
    index = re.sub(r"\s+", " ", index)
    stops = r["side_effects"]["treated"]["stopped_for_side_effects"]
    assert (stops["patients"], round(stops["ci_low"], 8), round(stops["ci_high"], 8)) == (8, 0.04784399, 0.20195014)
    assert "8/74 (10.8 %; 95 % CI 4.8 % to 20.2 %, Clopper-Pearson) stopped the treatment for side effects" in index
    assert "2/45 (4.4 %; 95 % CI 0.5 % to 15.1 %, Clopper-Pearson) stopped the treatment for side effects" in index
    assert "the included patients: 23/45 (51.1 %; 95 % CI 37.0 % to 65.0 %)" in index
    assert "(the contract's denominator): 23/74 (31.1 %; 95 % CI 21.7 % to 42.3 %)" in index
    assert "adds the 29 excluded patients" in index
    assert "Treated means every patient of the extract" in index and "4 patients whose first infusion" in index
    assert "life-threatening, leading to admission to hospital, or causing lasting harm" in index
    assert "mild, moderate or severe" in index
    # over neuropathic (19 follow-up NRS) and nociplastic (12): nociceptive is left out with its curve;
    # scipy.stats.kruskal on the two groups' reductions gives H = 0.0037051, p = 0.95146
    assert ("Kruskal-Wallis H = 0.00, df = 1, n = 31, p = 0.951 (over 2 of the 3 groups: a group whose responder "
            "curve is withheld is left out)") in index
    report3 = re.sub(r"\s+", " ", _visible_text((REPORTS / "03-subgroups.html").read_text(encoding="utf-8")))
    report4 = re.sub(r"\s+", " ", _visible_text((REPORTS / "04-side-effects.html").read_text(encoding="utf-8")))
    for item in tables.limitations(r, 0.95):
        assert item in index and item in report3
    assert "Limitations" not in report4             # report 04 reads stage 01 only, so that it runs beside 02 and 03
    assert "-47.2 pp to +16.4 pp" in index and "cannot support \"no difference\"" in index
    assert "Regression to the mean" in index and "Confounding" in index and "Undefined follow-up timing" in index
    assert "Occurrences by severity, all treated patients" in report4 and "mild, moderate or severe" in report4
    assert "8/74 (10.8 %; 95 % CI 4.8 % to 20.2 %, Clopper-Pearson) stopped the treatment for side effects" in report4
    report2 = re.sub(r"\s+", " ", _visible_text((REPORTS / "02-outcomes.html").read_text(encoding="utf-8")))
    # report 02 frames the outcome; the harms are worked out by stage 04 alone, and report 02 says where
    assert "adds the 29 excluded patients" in report2 and "shown in report 04" in report2
    assert "stopped the treatment for side effects" not in report2


def test_harms_sentences_when_the_treated_population_is_withheld():
    """Few excluded patients: the treated block is withheld (ketanb.side_effects._withheld); the text says
    so and gives the included patients' stops for side effects, never 'None'."""
    from ketanb.side_effects import _withheld

    r = results()
    withheld = {**r["side_effects"], "treated": _withheld(74)}
    text = " ".join(tables.harms_sentences(withheld, 0.95, r["cohort"]))
    assert text.startswith("The side effects of the 74 treated patients are not shown")
    assert "2/45 (4.4 %; 95 % CI 0.5 % to 15.1 %, Clopper-Pearson) stopped the treatment" in text
    assert "None" not in text and "Treated means every patient of the extract" in text


def test_the_significance_level_has_one_home(monkeypatch):
    # the index's verdict on the subgroup test and the texts' warning read ketanb.presentation.tables.SIGNIFICANCE_LEVEL
    r = json.loads((ROOT / "results" / "results.json").read_text(encoding="utf-8"))

    def verdict():
        return next(row["reproduced"] for row in comparison(r) if row["label"].startswith("Difference by"))

    assert verdict() == "not significant (p = 0.537)"
    monkeypatch.setattr(tables, "SIGNIFICANCE_LEVEL", 0.6)
    assert verdict() == "significant (p = 0.537)"


HOSTILE = "a`<img src=x onerror=alert(1)>`[click](javascript:alert(2))*b*\n<script>alert(3)</script>\x1b[31m"


def test_names_from_outside_the_code_reach_a_report_as_text_never_as_html_or_a_link():
    """Audit 2026-12-03: a group name (a value of the extract), the extract's folder and the study block reached
    the reports' Markdown as written, and nbconvert turned them into live HTML (an <img onerror>, a javascript:
    link, a <script>). Rendered as the reports render Markdown, each is now text, shown as written."""
    from nbconvert.filters.markdown_mistune import markdown2html_mistune as rendered

    r = results()
    groups = r["subgroups"]["groups"]
    r["subgroups"]["groups"] = {(HOSTILE if name == "nociplastic" else name): g for name, g in groups.items()}
    r["subgroups"]["reference"] = HOSTILE
    pages = {"limitations": tables.limitations_text(r, 0.95).data,
             "banner": tables.data_notice(False, HOSTILE, {**shipped_study(), "title": HOSTILE}).data,
             "subgroups": tables.subgroup_text(r["subgroups"], SimpleNamespace(group_by=HOSTILE)).data}
    for name, markdown in pages.items():
        page = rendered(markdown)
        assert "<img" not in page and "<script" not in page and "<a " not in page and "\x1b" not in page, name
        assert "&lt;img src=x onerror=alert(1)&gt;" in page and "\\n&lt;script&gt;" in page, name
    assert "<code>a`&lt;img src=x onerror=alert(1)&gt;`[click](javascript:alert(2))*b*" in rendered(pages["banner"])
    assert "\\x1b[31m" in rendered(pages["limitations"])
    assert tables.literal("$\\href{javascript:alert(1)}{x}$") == "\\$\\\\href{javascript:alert(1)}{x}\\$"
