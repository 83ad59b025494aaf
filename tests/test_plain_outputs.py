"""The pipeline on a group label that matplotlib would read as mathematics and draw with a missing glyph
(issue 22): the run finishes, and no output, warnings included, names a folder of the machine."""
import pytest

from ketanb.paths import ROOT
from ketanb.synthetic import generate_extract

from .conftest import copy_project, run_make
from .writers import write_european_csv

pytestmark = pytest.mark.usefixtures("venv_ready")

LABEL = "$\\foo$ \u4e2d"


def test_a_label_with_mathtext_and_a_missing_glyph_leaves_no_path_in_any_output(tmp_path):
    project = copy_project(tmp_path / "project")
    frames = generate_extract(120, seed=11)
    patients = frames["patients"]
    patients["diagnosis"] = patients["diagnosis"].astype(object)
    patients.loc[patients.index[:60], "diagnosis"] = LABEL                # a group of its own
    patients.loc[patients.index[60], "diagnosis"] = "CRPS - Jan Peeters"  # held by one patient
    data = write_european_csv(frames, tmp_path / "extract")
    params = tmp_path / "params.yaml"
    params.write_text("group_by: diagnosis\n")
    run = run_make(project, "all", f"DATA={data}", f"PARAMS={params}")
    assert run.returncode == 0, run.stderr[-3000:]
    assert LABEL in (project / "results" / "table1.csv").read_text(encoding="utf-8").splitlines()[0]
    leaks = []
    for folder in ("results", "figures", "reports"):
        for path in (project / folder).rglob("*"):
            if path.is_file():
                text = path.read_bytes().decode("utf-8", errors="replace")
                leaks += [(str(path.relative_to(project)), token)
                          for token in (str(tmp_path), str(ROOT), "Peeters", "UserWarning") if token in text]
    assert leaks == []
