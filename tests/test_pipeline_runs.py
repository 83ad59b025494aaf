"""The real pipeline (`make all`) on copies of the project: bad input, another extract, privacy.

These run papermill end to end, so each takes a few seconds to half a minute.
"""
import json

import pytest

from ketanb import load_params
from ketanb.analysis import analyse
from ketanb.io import read_json, to_jsonable
from ketanb.paths import copy_project
from ketanb.synthetic import generate_extract, write_european_csv

from .conftest import output_digests, run_make

pytestmark = pytest.mark.usefixtures("venv_ready")


def test_invalid_extract_changes_no_output(tmp_path):
    project = copy_project(tmp_path / "project")
    before = output_digests(project)
    frames = generate_extract(40, seed=3)
    frames["patients"].loc[4, "age"] = "250"
    frames["infusions"].loc[0, "formulation"] = "ketalar"
    write_european_csv(frames, tmp_path / "bad")
    run = run_make(project, "all", f"DATA={tmp_path / 'bad'}")
    assert run.returncode != 0
    assert "patients.csv, row 6, column age: value '250': a whole number from 18 to 110" in run.stderr
    assert "infusions.csv, row 2, column formulation: value 'ketalar': one of racemic, esketamine" in run.stderr
    assert "Traceback" not in run.stderr
    assert output_digests(project) == before


def test_invalid_parameters_change_no_output(tmp_path):
    project = copy_project(tmp_path / "project")
    before = output_digests(project)
    (tmp_path / "p.yaml").write_text("responder_threshold: 150\n")
    run = run_make(project, "all", f"PARAMS={tmp_path / 'p.yaml'}")
    assert run.returncode != 0 and "responder_threshold" in run.stderr and "Traceback" not in run.stderr
    assert output_digests(project) == before


RUNS = {
    "sex, threshold 30, exclude": ("responder_threshold: 30\nmissing_followup: exclude\ngroup_by: sex\n",
                                   {"F", "M"}),
    "age bands": ("group_by: age\ngroup_edges: [40, 50, 60]\n", {"<40", "40-<50", "50-<60", ">=60"}),
    "diagnosis": ("group_by: diagnosis\n", None),
}


@pytest.mark.parametrize("name", RUNS)
def test_other_extract_and_parameters_without_any_patient_id_in_outputs(tmp_path, name):
    """DATA= and PARAMS= on a clinic-style extract with distinctive ids; no id reaches any output."""
    project = copy_project(tmp_path / "project")
    frames = generate_extract(120, seed=11)
    ids = [f"ZQPID{i:05d}X" for i in range(120)]
    mapping = dict(zip(frames["patients"]["patient_id"], ids))
    for frame in frames.values():
        frame["patient_id"] = frame["patient_id"].map(mapping)
    data = write_european_csv(frames, tmp_path / "clinic")
    params = tmp_path / "params.yaml"
    text, expected_groups = RUNS[name]
    params.write_text(text)
    run = run_make(project, "all", f"DATA={data}", f"PARAMS={params}")
    assert run.returncode == 0, run.stderr[-3000:]

    results = read_json(project / "results" / "results.json")
    assert results == json.loads(json.dumps(to_jsonable(
        analyse(data, load_params(params)))))  # the notebooks agree with the package
    assert results["parameters"] == load_params(params).to_dict()
    groups = results["subgroups"]["groups"]
    assert set(groups) == expected_groups if expected_groups else len(groups) > 4
    table1 = (project / "results" / "table1.csv").read_text()
    assert all(g in table1 for g in groups)                         # Table 1 has a column per group
    assert results["data"]["synthetic"] is False

    leaks = []
    for folder in ("results", "figures", "reports"):
        for path in (project / folder).rglob("*"):
            if path.is_file():
                text = path.read_bytes().decode("latin-1")
                if "ZQPID" in text:
                    leaks.append(str(path.relative_to(project)))
    assert leaks == []


def test_rebuild_from_nothing_is_byte_identical_and_incremental(tmp_path):
    """Every committed output comes back byte for byte; then make is up to date and only re-runs what changed."""
    project = copy_project(tmp_path / "project")
    committed = output_digests(project)
    for folder in ("results", "figures", "reports"):
        for path in (project / folder).iterdir():
            if path.is_file():
                path.unlink()
    run = run_make(project, "all")
    assert run.returncode == 0, run.stderr[-3000:]
    assert output_digests(project) == committed

    assert run_make(project, "-q", "all").returncode == 0            # nothing left to do
    (project / "notebooks" / "04-side-effects.ipynb").touch()
    planned = run_make(project, "-n", "all").stdout
    assert "04-side-effects" in planned and "01-cleaning" not in planned and "02-outcomes" not in planned
    (project / "ketanb" / "baseline.py").touch()                     # used by stage 03 only
    planned = run_make(project, "-n", "all").stdout
    assert "03-subgroups" in planned and "02-outcomes" not in planned
    (project / "params.yaml").touch()                                # every stage reads the parameters
    planned = run_make(project, "-n", "all").stdout
    assert all(f"reports/{s}" in planned for s in ("01-cleaning", "02-outcomes", "03-subgroups", "04-side-effects"))
