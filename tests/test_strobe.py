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


# The cohort checklist of STROBE (von Elm et al., 2007; www.strobe-statement.org): items 1-22 and
# their parts, in the checklist's order.
COHORT_ITEMS = ["1a", "1b", "2", "3", "4", "5", "6a", "6b", "7", "8", "9", "10", "11", "12a", "12b", "12c", "12d",
                "12e", "13a", "13b", "13c", "14a", "14b", "14c", "15", "16a", "16b", "16c", "17", "18", "19", "20",
                "21", "22"]
UNANSWERED = ("For the authors", "Not applicable")


def test_every_cohort_item_is_listed_once_in_order():
    assert [row.split("|")[1].split()[0] for row in ROWS] == COHORT_ITEMS


def test_no_item_says_it_is_answered_by_software_alone():
    # a reviewer's complaint: item 8 pointed at the validation code instead of saying how pain
    # and side effects were measured
    row = next(r for r in ROWS if r.startswith("| 8 "))
    assert "numeric rating scale" in row and "severity" in row


@pytest.mark.parametrize("row", ROWS, ids=[r.split("|")[1].strip() for r in ROWS])
def test_every_target_exists(row):
    cell = row.split("|")[3]
    targets = [label for label, _ in LINK.findall(cell) if "/" in label or "." in label]
    assert targets or cell.strip().startswith(UNANSWERED), \
        "each item names a file, section or key, or says 'For the authors' / 'Not applicable'"
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
