"""STROBE.md points only at things that exist: files, notebook sections, results.json keys."""
import json
import re

import pytest

from ketanb.paths import ROOT

STROBE = (ROOT / "STROBE.md").read_text(encoding="utf-8")
LINK = re.compile(r"\[([^\]]+)\]\(([^)]+)\)")
SECTION = re.compile(r"^(notebooks/[\w.-]+\.ipynb)#([\w-]+)$")
KEY = re.compile(r"^(results/results\.json)#([\w.]+)$")


def anchor(heading: str) -> str:
    return re.sub(r"[^a-z0-9 _-]", "", heading.lstrip("#").strip().lower()).replace(" ", "-")


def headings(notebook):
    nb = json.loads((ROOT / notebook).read_text(encoding="utf-8"))
    return {anchor(line) for cell in nb["cells"] if cell["cell_type"] == "markdown"
            for line in "".join(cell["source"]).splitlines() if line.startswith("#")}


ROWS = [line for line in STROBE.splitlines() if re.match(r"^\| \d+[a-e]? ", line)]


def test_the_applicable_cohort_items_are_all_mapped():
    items = {row.split("|")[1].split()[0] for row in ROWS}
    assert {"6a", "7", "12a", "12b", "12c", "12d", "12e", "13a", "13c", "14a", "14b", "15", "16a", "17", "19"} <= items


@pytest.mark.parametrize("row", ROWS, ids=[r.split("|")[1].strip() for r in ROWS])
def test_every_target_exists(row):
    cell = row.split("|")[3]
    targets = [label for label, _ in LINK.findall(cell) if "/" in label or "." in label]
    assert targets, "each item names at least one file, section or key"
    for label, href in LINK.findall(cell):
        if href.startswith("http"):
            continue
        path = href.split("#")[0]
        assert (ROOT / path).exists(), f"{href}: no such file"
        if (m := SECTION.match(label)):
            assert m[2] in headings(m[1]), f"{label}: no such section in {m[1]}"
        if (m := KEY.match(label)):
            node = json.loads((ROOT / m[1]).read_text())
            for key in m[2].split("."):
                assert key in node, f"{label}: results.json has no key {key!r}"
                node = node[key]
        if "#" in href and href.startswith("README.md"):
            assert href.split("#")[1] in {anchor(l) for l in (ROOT / "README.md").read_text().splitlines()
                                          if l.startswith("#")}, f"{href}: no such README section"
