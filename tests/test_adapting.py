"""docs/adapting.md lists the path from the CSV cells to the favorable count (issue 25): the functions
named there exist, and a student reads at most 700 lines to follow it."""
import importlib
import inspect
import json
import re

import pytest

from ketanb.paths import ROOT

MAX_LINES = 700
START, END = "<!-- path:", "<!-- end of path -->"


def path_entries() -> list[tuple[str, list[str]]]:
    """(file, names) for each line of the list between the two markers of docs/adapting.md."""
    text = (ROOT / "docs" / "adapting.md").read_text(encoding="utf-8")
    listed = text[text.index(START):text.index(END)]
    entries = []
    for file, names in re.findall(r"^- `([^`]+)`: (.+)$", listed, flags=re.M):
        entries.append((file, re.findall(r"`([\w-]+)`", names)))
    return entries


def lines_of(file: str, names: list[str]) -> int:
    """The lines of the named functions and classes, or of a notebook's code cells named by their ids."""
    if file.endswith(".ipynb"):
        cells = {cell["id"]: cell for cell in json.loads((ROOT / file).read_text(encoding="utf-8"))["cells"]}
        assert all(cells[name]["cell_type"] == "code" for name in names), names
        return sum(len("".join(cells[name]["source"]).splitlines()) for name in names)
    module = importlib.import_module(file.removesuffix(".py").replace("/", "."))
    return sum(len(inspect.getsourcelines(getattr(module, name))[0]) for name in names)


def test_the_path_names_the_functions_that_read_decide_and_count_the_favorable_outcome():
    entries = dict(path_entries())
    assert {"read_extract", "validate", "derive_cohort", "is_favorable", "outcome_summary", "wilson_ci"} <= {
        name for names in entries.values() for name in names}
    assert "notebooks/02-outcomes.ipynb" in entries


def test_the_path_from_the_csv_cells_to_the_favorable_count_is_at_most_700_lines():
    total = sum(lines_of(file, names) for file, names in path_entries())
    assert 300 < total <= MAX_LINES, total     # more than 300: the list was read, not skipped


@pytest.mark.parametrize("file,names", path_entries())
def test_every_function_on_the_path_exists(file, names):
    assert lines_of(file, names) > 0
