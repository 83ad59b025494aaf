"""What reviewers open: reports/index.html and the rendered stage reports (committed outputs)."""
import json
import re

import pytest

from ketanb.index import TABLES, figures_in_reports
from ketanb.paths import ROOT

REPORTS = ROOT / "reports"
pytestmark = pytest.mark.skipif(not (REPORTS / "index.html").exists(), reason="run `make all` first")


def test_every_table_is_described_on_the_index():
    tables = sorted(p.name for p in (ROOT / "results").glob("*.csv"))
    assert tables == sorted(TABLES)
    index = (REPORTS / "index.html").read_text(encoding="utf-8")
    assert all(f"results/{name}" in index for name in tables)


def test_every_figure_is_on_the_index_with_caption_and_alt_text():
    figures = figures_in_reports(REPORTS)
    assert sorted(f["path"] for f in figures) == sorted(f"figures/{p.name}" for p in (ROOT / "figures").glob("*.png"))
    index = (REPORTS / "index.html").read_text(encoding="utf-8")
    for f in figures:
        assert f["alt"].strip() and f["caption"].strip()
        assert f'<img src="../{f["path"]}" alt="' in index


def test_index_summary_numbers_come_from_results_json():
    results = json.loads((ROOT / "results" / "results.json").read_text())
    index = (REPORTS / "index.html").read_text(encoding="utf-8")
    o = results["outcome"]
    assert f"{o['favorable']}/{o['n']} ({100 * o['proportion']:.1f}%" in index
    assert f"{results['cohort']['treated']} patients treated" in index
    assert "SYNTHETIC DATA" in index


@pytest.mark.parametrize("report", sorted(p.name for p in REPORTS.glob("[0-9]*.html")))
def test_reports_open_offline_with_code_folded(report):
    html = (REPORTS / report).read_text(encoding="utf-8")
    assert not re.search(r"<script[^>]+src=\"https?://", html), "a script from the network"
    assert '<details class="ketanb-code"><summary>Show code</summary>' in html
    assert "SYNTHETIC DATA" in html
    assert 'href="index.html"' in html
