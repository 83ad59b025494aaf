"""The real pipeline (`make all`) on copies of the project: bad input, other extracts, privacy,
content-based rebuilds, all-or-nothing publishing, one run at a time, empty cohorts.

These run papermill end to end, so each takes a few seconds to half a minute.
"""
import ast
import json
import os
import shutil
import signal
import subprocess
import time

import pandas as pd
import pytest

from ketanb import load_params
from ketanb.analysis import analyse
from ketanb.output.files import read_json, to_jsonable
from ketanb.paths import ROOT
from ketanb.synthetic import generate_extract

from .conftest import copy_built, copy_project, output_digests, run_make
from .writers import write_european_csv, write_workbook

pytestmark = pytest.mark.usefixtures("venv_ready")
STAGES = ("01-cleaning", "02-outcomes", "03-subgroups", "04-side-effects")


def analyse_frames(frames, tmp_path):
    """The included patients' favorable outcome of an extract given as frames."""
    from ketanb import cleaning, outcomes

    params = load_params()
    cohort = cleaning.run(write_european_csv(frames, tmp_path / "whole"), params).cohort
    out = outcomes.run(cohort, params, tables=False).patients
    cohort["favorable"] = False
    cohort.loc[out.index, "favorable"] = out["favorable"]
    return cohort


def test_each_stage_notebook_calls_its_entry_point_once_and_validates_no_other_stage():
    """Issue 25: notebook 01 worked out the subgroups only to fail early on a bad reference_group, and each
    notebook strung the stage's functions together again. Now params checks the parameters, and each notebook
    calls its stage's entry point once (as ketanb.analysis.analyse does), then shows, writes and draws."""
    stage_modules = ("cleaning", "outcomes", "subgroups", "side_effects")
    for stage, module in zip(STAGES, stage_modules):
        cells = json.loads((ROOT / "notebooks" / f"{stage}.ipynb").read_text(encoding="utf-8"))["cells"]
        code = "\n".join("".join(cell["source"]) for cell in cells if cell["cell_type"] == "code")
        assert code.count(f"{module}.run(") == 1, stage
        assert "reference_group(" not in code and "assign_groups(" not in code and "derive_" not in code, stage
        # no other stage's code either (report 02 worked out stage 04's side effects for a paragraph of its own),
        # nor ketanb.analysis, which runs every stage: what the notebook imports from ketanb, read by ast
        used = set()
        for node in ast.walk(ast.parse(code)):
            if isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] == "ketanb":
                parts = node.module.split(".")[1:]
                used |= {parts[0]} if parts else {alias.name for alias in node.names}
            elif isinstance(node, ast.Import):
                used |= {alias.name.split(".")[1] for alias in node.names if alias.name.startswith("ketanb.")}
        assert used & {*stage_modules, "analysis"} == {module}, (stage, used)


def planned(project, *args):
    """The stages a `make all` would run now (`make -n all` writes the stamps, then shows what would run)."""
    out = run_make(project, "-n", "all", *args).stdout
    return [s for s in STAGES if f"notebooks/{s}.ipynb" in out]


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


def test_errors_name_the_users_own_workbook(tmp_path):
    """The build folder links a workbook outside the project as extract.xlsx; the errors name zottegem.xlsx."""
    project = copy_project(tmp_path / "project")
    frames = generate_extract(40, seed=3)
    frames["patients"].loc[4, "age"] = "250"
    write_workbook(frames, tmp_path / "clinic" / "zottegem.xlsx", synthetic=False)
    run = run_make(project, "all", f"DATA={tmp_path / 'clinic' / 'zottegem.xlsx'}", "OUT=runs/zottegem")
    assert run.returncode != 0
    assert "The extract zottegem.xlsx does not follow the data contract" in run.stderr
    assert "zottegem.xlsx, sheet patients, row 6, column age: value '250': a whole number from 18 to 110" in run.stderr
    assert "extract.xlsx" not in run.stderr and str(tmp_path) not in run.stderr and "Traceback" not in run.stderr


@pytest.mark.parametrize("params, message", [
    ("responder_threshold: 150\n", "responder_threshold"),
    ("group_by: age\n", "give group_edges"),                        # refused before any stage writes
    ("reference_group: visceral\n", "reference_group: 'visceral' is not one of the groups"),
])
def test_refused_parameters_change_no_output(tmp_path, params, message):
    project = copy_project(tmp_path / "project")
    before = output_digests(project)
    (tmp_path / "p.yaml").write_text(params)
    run = run_make(project, "all", f"PARAMS={tmp_path / 'p.yaml'}")
    assert run.returncode != 0 and message in run.stderr and "Traceback" not in run.stderr
    assert output_digests(project) == before


RUNS = {
    "sex, threshold 30, exclude": ("responder_threshold: 30\nmissing_followup: exclude\ngroup_by: sex\n",
                                   {"F", "M"}),
    "age bands, best case": ("group_by: age\ngroup_edges: [40, 50, 60]\nmissing_followup: favorable\n",
                             {"<40", "40-<50", "50-<60", ">=60"}),
    "diagnosis: many small groups": ("group_by: Diagnosis\nreference_group: other\n", None),
}


#: Characters a shell would run or expand: a folder with this name holds the extract and the parameters.
ODD = "x`touch PWNED1`y $(touch PWNED2) ${HOME} 'q\" ;touch PWNED3; <b>"
#: A group label that matplotlib would read as mathematics and draw with a missing glyph (issue 22).
LABEL = "$\\foo$ \u4e2d"


def clinic_extract(folder):
    """120 patients with distinctive ids (ZQPID...), as a clinic's CSV files; 60 of them share the
    diagnosis LABEL, and one patient alone has the diagnosis "CRPS - Jan Peeters"."""
    frames = generate_extract(120, seed=11)
    mapping = {old: f"ZQPID{i:05d}X" for i, old in enumerate(frames["patients"]["patient_id"])}
    for frame in frames.values():
        frame["patient_id"] = frame["patient_id"].map(mapping)
    patients = frames["patients"]
    patients["diagnosis"] = patients["diagnosis"].astype(object)
    patients.loc[patients.index[:60], "diagnosis"] = LABEL                # a group of its own
    patients.loc[patients.index[60], "diagnosis"] = "CRPS - Jan Peeters"  # held by one patient
    return write_european_csv(frames, folder)


@pytest.mark.parametrize("name", RUNS)
def test_other_extract_and_parameters_show_no_patient(tmp_path, name):
    """DATA= and PARAMS= on a clinic-style extract with distinctive ids, both in a folder whose name has
    spaces, backticks, $(...), quotes and ; (file names, never run by make or the shell), and OUT= outside
    the project: results agree with the package, no id, no path of the machine and no warning reaches any
    output, and no group of fewer than min_group_size patients gets a statistic. The diagnoses include a
    label matplotlib would read as mathematics and draw with a missing glyph, and a patient's name held
    by one patient (issue 22).

    (Once three tests: this one, test_plain_outputs.py's label test, and the run of
    test_paths_given_to_make_are_never_run_and_out_may_lie_outside; one run per case now.)"""
    project = copy_project(tmp_path / "project")
    committed = output_digests(project)
    data = clinic_extract(tmp_path / ODD / "Pain clinic" / "Extract 2024")
    params = tmp_path / ODD / "clinic params.yaml"
    text, expected_groups = RUNS[name]
    params.write_text(text)
    out = tmp_path / "elsewhere" / "run"
    run = run_make(project, "all", f"DATA={data}", f"PARAMS={params}", f"OUT={out}")
    assert run.returncode == 0, run.stderr[-3000:]
    assert list(tmp_path.rglob("PWNED*")) == [] and list(project.rglob("PWNED*")) == []
    assert output_digests(project) == committed                          # OUT elsewhere: the project's untouched
    assert run_make(project, "-q", "outputs", f"OUT={out}").returncode == 0
    injected = read_json(out / "reports" / "01-cleaning.ipynb")["metadata"]["papermill"]["parameters"]
    assert injected == {"data": ".build/extract", "params_file": ".build/params.yaml", "out": ".build"}

    results = read_json(out / "results" / "results.json")
    fresh = json.loads(json.dumps(to_jsonable(analyse(data, load_params(params)))))
    assert results == fresh                                               # the notebooks agree with the package
    assert results["data"] == {"source": "Extract 2024", "synthetic": False}
    assert results["cohort"]["treated"] == 120
    groups = results["subgroups"]["groups"]
    assert set(groups) == expected_groups if expected_groups else "other" in groups
    assert all(g["n"] >= 5 for g in groups.values())
    if expected_groups is None:                                           # 16 diagnoses, LABEL and many small ones
        assert results["subgroups"]["pooled_values"] > 5
        assert results["subgroups"]["reference"] == "other" and "vs_reference" not in groups["other"]
        assert LABEL in groups
    table1 = (out / "results" / "table1.csv").read_text(encoding="utf-8")
    header = table1.splitlines()[0].split(",")
    assert all(g in header for g in groups)                               # Table 1 has a column per group
    curve_groups = {line.split(",")[0] for line in (out / "results" / "responder_curve.csv")
                    .read_text(encoding="utf-8").splitlines()[1:]}
    assert curve_groups == {"overall", *groups}
    index = (out / "reports" / "index.html").read_text(encoding="utf-8")
    assert "published-vs-reproduced" not in index                         # no study block: compared with nothing
    assert "None" not in index and "(not synthetic)" not in index
    for report in ("02-outcomes.html", "03-subgroups.html"):
        assert ">None<" not in (out / "reports" / report).read_text(encoding="utf-8")

    leaks = []
    for folder in ("results", "figures", "reports"):
        for path in (out / folder).rglob("*"):
            if path.is_file():
                text = path.read_bytes().decode("utf-8", errors="replace")
                leaks += [(str(path.relative_to(out)), token)
                          for token in ("ZQPID", str(tmp_path), str(ROOT), "Pain clinic", "Peeters", "UserWarning")
                          if token in text]
    assert leaks == []


def test_rebuilds_follow_content_not_dates(fresh_build, tmp_path):
    """Every committed output comes back byte for byte; then only a changed content re-runs a stage:
    new dates alone re-run nothing, a changed notebook re-runs its stage, and a corrected patients.csv
    copied in with an OLD date re-runs every stage (make alone, comparing dates, would run nothing).

    The corrected file is the project's own data/raw/patients.csv of the built copy (once another
    extract, built by one more `make all` first: the stamps check the same way)."""
    run = fresh_build.run                                                 # make all from nothing
    assert run.returncode == 0, run.stderr[-3000:]
    assert output_digests(fresh_build.project) == fresh_build.committed
    project = copy_built(fresh_build.project, tmp_path / "project")
    assert run_make(project, "-q", "outputs").returncode == 0            # nothing left to do

    future = time.time() + 3600                                           # new dates, same content
    for path in [project / "params.yaml", project / "ketanb" / "baseline.py",
                 project / "notebooks" / "04-side-effects.ipynb", *(project / "data" / "raw").iterdir()]:
        os.utime(path, (future, future))
    assert planned(project) == []

    notebook = project / "notebooks" / "04-side-effects.ipynb"
    nb = json.loads(notebook.read_text())
    nb["cells"][0]["source"] += "\n"
    notebook.write_text(json.dumps(nb, indent=1))
    assert planned(project) == ["04-side-effects"]
    assert run_make(project, "all").returncode == 0

    assert planned(project) == []                                         # built: nothing left to do

    # a corrected patients.csv copied in with an OLD date: everything re-runs
    patients = project / "data" / "raw" / "patients.csv"
    old = patients.stat().st_mtime - 86400
    text = patients.read_text()
    assert "SYN-0001,F," in text or "SYN-0001,M," in text
    patients.write_text(text.replace("SYN-0001,F,", "SYN-0001,M,", 1) if "SYN-0001,F," in text
                        else text.replace("SYN-0001,M,", "SYN-0001,F,", 1))
    os.utime(patients, (old, old))
    assert planned(project) == list(STAGES)


def test_a_second_run_stops_and_a_killed_run_publishes_nothing(tmp_path):
    """A run with responder_threshold 30 (so what it would publish differs from the committed outputs):
    while it runs, a second `make all` is refused; killed half-way, it publishes nothing. Then the run
    again, killed when OUT/.figures.new appears (while publishing): the next `make all` finishes the
    publish, and the three folders come from one run, the t30 one, as the package computes it.

    (Once two tests, each with a full run of its own: this one and
    test_a_run_killed_while_publishing_is_finished_by_the_next.)"""
    project = copy_project(tmp_path / "project")
    before = output_digests(project)
    t30 = tmp_path / "t30.yaml"
    t30.write_text("responder_threshold: 30\n")
    env = dict(os.environ, MAKEFLAGS="")
    command = ["make", "-s", f"VENV={ROOT / '.venv'}", "all", f"PARAMS={t30}"]
    first = subprocess.Popen(command, cwd=project, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                             start_new_session=True)
    stage_01 = project / ".build" / "reports" / "01-cleaning.ipynb"
    deadline = time.time() + 300
    while not stage_01.exists() and first.poll() is None and time.time() < deadline:
        time.sleep(0.01)                                              # half-way: stage 01 done, 02-04 running
    if first.poll() is not None or not stage_01.exists():                # stage 01 failed, or took 5 minutes
        if first.poll() is None:
            os.killpg(first.pid, signal.SIGKILL)
        pytest.fail(f"stage 01 did not finish while the run went on: {first.communicate(timeout=60)[1][-3000:]}")
    second = run_make(project, "all")
    assert second.returncode != 0
    assert "another run is in progress (pid" in second.stderr and "Traceback" not in second.stderr
    os.killpg(first.pid, signal.SIGTERM)                                  # killed half-way
    first.communicate(timeout=60)
    assert output_digests(project) == before                             # nothing published

    # the same run again, killed while publishing
    again = subprocess.Popen(command, cwd=project, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             start_new_session=True)
    deadline = time.time() + 300
    while not (project / ".figures.new").exists() and again.poll() is None and time.time() < deadline:
        time.sleep(0.002)
    try:
        os.killpg(again.pid, signal.SIGKILL)
    except ProcessLookupError:                                            # it finished between two looks
        pass
    again.communicate(timeout=60)
    run = run_make(project, "all", f"PARAMS={t30}")                       # the next run finishes
    assert run.returncode == 0, run.stderr[-3000:]
    build = project / ".build"
    built = {str(p.relative_to(build)): p.read_bytes() for folder in ("results", "figures", "reports")
             for p in (build / folder).rglob("*") if p.is_file() and not p.name.startswith(".")}
    published = {name: (project / name).read_bytes() for name in built}
    assert published == built
    assert output_digests(project).keys() == before.keys() and output_digests(project) != before
    results = read_json(project / "results" / "results.json")
    assert results["outcome"]["threshold_pct"] == 30
    fresh = json.loads(json.dumps(to_jsonable(analyse(ROOT / "data" / "raw", load_params(t30)))))   # the same extract
    assert results == fresh                                               # the killed runs left nothing stale
    assert "30" in (project / "reports" / "index.html").read_text(encoding="utf-8")
    assert not any(p.name.endswith((".new", ".old")) for p in project.iterdir())
    assert run_make(project, "-q", "outputs", f"PARAMS={t30}").returncode == 0


@pytest.mark.parametrize("case", ["no patient included", "no follow-up NRS at all", "one patient, favorable"])
def test_tiny_cohorts_finish(tmp_path, case):
    project = copy_project(tmp_path / "project")
    frames = generate_extract(12, seed=4)
    params = tmp_path / "p.yaml"
    params.write_text("")
    if case == "no patient included":
        params.write_text("test_dose_mg: 60\n")                           # nobody had a 60 mg test dose
    elif case == "no follow-up NRS at all":
        params.write_text("missing_followup: exclude\n")
        frames["patients"]["followup_nrs"] = ""
    else:                                                                 # keep one included, favorable patient
        cohort = analyse_frames(frames, tmp_path)
        keep = cohort.loc[cohort["included"] & cohort["favorable"], "patient_id"].iloc[:1].tolist()
        keep += cohort.loc[~cohort["included"], "patient_id"].tolist()
        frames = {name: frame[frame["patient_id"].isin(keep)].reset_index(drop=True) for name, frame in frames.items()}
    data = write_european_csv(frames, tmp_path / "tiny")
    run = run_make(project, "all", f"DATA={data}", f"PARAMS={params}")
    assert run.returncode == 0, run.stderr[-3000:]
    results = read_json(project / "results" / "results.json")
    if case == "one patient, favorable":
        # one patient (< min_group_size): counts only, no proportion or interval (issue 22)
        assert (results["outcome"]["n"], results["outcome"]["favorable"], results["outcome"]["ci_high"]) == (1, 1, None)
        assert results["subgroups"]["groups"] == {} and results["subgroups"]["unclassified"] == 1
        import csv

        table1 = list(csv.DictReader((project / "results" / "table1.csv").open()))
        assert table1[0]["overall"] == "1" and all(row["overall"] == "" for row in table1[1:])
        change = results["outcome"]["nrs_change"]                        # that patient's own scores: n alone
        assert change["n"] == 1 and all(v is None for k, v in change.items() if k != "n")
        index = (project / "reports" / "index.html").read_text(encoding="utf-8")
        assert "Change in pain</b> (1 patient with both NRS values): not" in index
    else:
        assert results["outcome"]["n"] == 0
        assert results["outcome"]["proportion"] is None and results["outcome"]["ci_low"] is None
    assert len(list((project / "figures").glob("*.png"))) == len(list((ROOT / "figures").glob("*.png")))
    assert (project / "reports" / "index.html").is_file()
    assert sorted(p.name for p in (project / "reports").glob("*.ipynb")) == [f"{s}.ipynb" for s in STAGES]


#: What names the shipped study (issue 23): none of it may reach the outputs of a clinic's own study.
SHIPPED_STUDY_WORDS = ("Dendermonde", "Sint-Blasius", "Vallé", "Vall&eacute;", "Vall\\u00e9", "Acta Anaesth",
                       "published")


def test_a_clinics_own_study_names_neither_the_paper_nor_its_centre(tmp_path):
    """Issue 23: a clinic's parameter file with its own study block and no published values, on its own
    (not synthetic) extract: every report is headed with its study, the index compares it with nothing, and no
    output (results, the text of the SVGs, reports) names Dendermonde, Vallé or "published".

    The run goes to OUT=runs/zottegem with PARAMS=runs/zottegem.yaml (threshold 30), and leaves the committed
    outputs alone. Before it, while another run holds runs/zottegem, the same command is refused without a
    stamp or a link written; once that run is done the command runs. (Once three tests, each with a full run:
    this one, test_variant_run_with_out_leaves_the_committed_outputs_alone and
    test_a_run_refused_by_the_lock_writes_nothing.)"""
    project = copy_project(tmp_path / "project")
    before = output_digests(project)
    frames = generate_extract(60, seed=5)
    for name in ("infusions", "adverse_events"):     # dates as Excel writes them in Belgium: 4/01/2016
        day = pd.to_datetime(frames[name]["date"])
        frames[name]["date"] = [f"{d.day}/{d.month:02d}/{d.year}" for d in day]
    (project / "runs").mkdir(exist_ok=True)
    (project / "runs" / "zottegem.yaml").write_text(
        "responder_threshold: 30\ndate_format: dmy\n"
        "study:\n  title: Ketamine infusions for chronic pain in Zottegem\n  centre: AZ Zottegem, Belgium\n"
        "  period: 2018-2022\n  authors: The pain team of AZ Zottegem\n", encoding="utf-8")
    out = project / "runs" / "zottegem"
    data = write_european_csv(frames, tmp_path / "zottegem")
    command = ("all", f"DATA={data}", "PARAMS=runs/zottegem.yaml", "OUT=runs/zottegem")
    # Another run holds runs/zottegem: refused, and nothing written (no stamps, no extract link)
    lock = hold_lock(out / ".build")
    refused = run_make(project, *command)
    assert refused.returncode != 0
    assert "another run is in progress (pid 4242) in runs/zottegem/" in refused.stderr
    assert sorted(p.name for p in (out / ".build").iterdir()) == [".lock", ".pid"]
    lock.close()
    # First as sent: the column sex left out and one unknown code; both are reported in one run, and
    # nothing is published.
    broken = {**frames, "patients": frames["patients"].drop(columns="sex")}
    broken["patients"].loc[3, "pain_mechanism"] = "neuropatic"
    write_european_csv(broken, data)
    run = run_make(project, *command)
    assert run.returncode != 0
    assert "required column 'sex' is missing" in run.stderr and "neuropatic" in run.stderr, run.stderr[-3000:]
    assert not (out / "results").exists()
    # Then corrected: the day/month/year dates are read with date_format: dmy
    write_european_csv(frames, data)
    run = run_make(project, *command)
    assert run.returncode == 0, run.stderr[-3000:]
    assert output_digests(project) == before                             # the committed outputs untouched
    assert run_make(project, "-q", "outputs", *command[1:]).returncode == 0
    results = read_json(out / "results" / "results.json")
    assert results["data"]["source"] == "zottegem" and results["cohort"]["treated"] == 60
    assert results["outcome"]["threshold_pct"] == 30
    assert (out / "figures" / "flow.svg").is_file()
    assert results["study"] == {"title": "Ketamine infusions for chronic pain in Zottegem",
                                "centre": "AZ Zottegem, Belgium", "period": "2018-2022",
                                "authors": "The pain team of AZ Zottegem", "publication": ""}
    assert "study" not in results["parameters"] and results["data"]["synthetic"] is False
    found = []
    for folder in ("results", "figures", "reports"):
        for path in sorted((out / folder).rglob("*")):
            if path.is_file() and path.suffix in (".json", ".csv", ".svg", ".html", ".ipynb"):
                text = path.read_text(encoding="utf-8").lower()
                found += [(path.name, word) for word in SHIPPED_STUDY_WORDS if word.lower() in text]
    assert found == []
    index = (out / "reports" / "index.html").read_text(encoding="utf-8")
    assert "<h1>Ketamine infusions for chronic pain in Zottegem</h1>" in index
    assert "A retrospective cohort, AZ Zottegem, Belgium, 2018-2022 (The pain team of AZ Zottegem)." in index
    assert "published-vs-reproduced" not in index and "not compared" not in index
    assert "an NRS pain reduction of at least 30 % from baseline" in index
    line = ("Study: Ketamine infusions for chronic pain in Zottegem (The pain team of AZ Zottegem): a retrospective "
            "cohort, AZ Zottegem, Belgium, 2018-2022.")
    for stage in STAGES:
        assert line in (out / "reports" / f"{stage}.html").read_text(encoding="utf-8"), stage


def test_a_notebook_run_by_hand_writes_to_scratch(tmp_path, monkeypatch):
    """As `make lab` opens them: the notebook's own defaults, no injected parameters."""
    import papermill

    project = copy_project(tmp_path / "project")
    monkeypatch.setenv("KETANB_ROOT", str(project))                     # the kernel's project root
    before = output_digests(project)
    papermill.execute_notebook(str(project / "notebooks" / "01-cleaning.ipynb"), str(tmp_path / "by-hand.ipynb"),
                               kernel_name="python3", progress_bar=False, cwd=str(project / "notebooks"))
    assert (project / "runs" / "scratch" / "results" / "flow.csv").is_file()
    assert output_digests(project) == before


def writing_stage(folder):
    """A stage notebook that writes the figures named in ``names`` (comma-separated), then fails if asked."""
    import nbformat

    notebook = folder / "writes.ipynb"
    cells = [nbformat.v4.new_code_cell('names = "old.png"\nfail = False\nout = ""', metadata={"tags": ["parameters"]}),
             nbformat.v4.new_code_cell("from ketanb.output import files\n"
                                       "for name in names.split(','):\n    files.write_text(f'figures/{name}', 'x')\n"
                                       "assert not fail, 'asked to fail'")]
    kernel = {"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}}
    nbformat.write(nbformat.v4.new_notebook(cells=cells, metadata=kernel), notebook)
    return notebook


def figures_in(build):
    return sorted(p.name for p in (build / "figures").iterdir())


def test_a_figure_a_stage_no_longer_makes_is_not_published(tmp_path):
    """A stage that stops writing a file (a renamed figure) leaves nothing stale in the build folder,
    while what other stages wrote stays, also a file that moved from one stage to another. The stale
    file goes when every stage has run (assemble calls remove_unlisted), never while another may run."""
    from ketanb.compendium.stage import remove_unlisted, run_stage

    build = tmp_path / "build"
    (build / "written").mkdir(parents=True)
    (build / "written" / "other.txt").write_text("figures/other-stage.png\nfigures/moved.png\n")
    (build / "figures").mkdir()
    (build / "figures" / "other-stage.png").write_text("kept")
    stage = str(writing_stage(tmp_path))
    assert run_stage(stage, str(build), {"names": "old.png"}) == 0
    assert (build / "written" / "writes.txt").read_text() == "figures/old.png\n"
    assert run_stage(stage, str(build), {"names": "new.png,moved.png"}) == 0       # moved.png: also made here now
    assert figures_in(build) == ["moved.png", "new.png", "old.png", "other-stage.png"]   # a stage deletes nothing
    assert remove_unlisted(build) == ["figures/old.png"]
    assert figures_in(build) == ["moved.png", "new.png", "other-stage.png"]
    assert os.environ.get("KETANB_WRITTEN_LIST") is None                          # not left set


def test_what_a_failed_stage_wrote_is_not_forgotten(tmp_path):
    from ketanb.compendium.stage import remove_unlisted, run_stage

    build = tmp_path / "build"
    stage = str(writing_stage(tmp_path))
    assert run_stage(stage, str(build), {"names": "p.png", "fail": True}) == 1
    assert (build / "written" / "writes.txt").read_text() == "figures/p.png\n"   # listed, though the stage failed
    assert run_stage(stage, str(build), {"names": "p.png"}) == 0
    assert run_stage(stage, str(build), {"names": "q.png"}) == 0
    remove_unlisted(build)
    assert figures_in(build) == ["q.png"]


def test_a_kernel_that_dies_while_starting_is_started_again(tmp_path, monkeypatch, capsys):
    """.ci/run on a fresh clone, 2026-12-03: stage 04's kernel died before its first reply ("Kernel died before
    replying to kernel_info") while another stage's kernel started; two kernels starting at once can be handed
    the same free port (jupyter/jupyter_client#154). No cell has run then, so the stage starts a new kernel,
    at most KERNEL_STARTS in all; any other error is not retried."""
    import papermill

    from ketanb.compendium import stage as stages

    real, calls = papermill.execute_notebook, []

    def dies_first(*args, **kwargs):                 # nbclient's RuntimeError, then a kernel that starts
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError(stages.KERNEL_DIED)
        return real(*args, **kwargs)

    build = tmp_path / "build"
    monkeypatch.setattr(papermill, "execute_notebook", dies_first)
    assert stages.run_stage(str(writing_stage(tmp_path)), str(build), {"names": "p.png"}) == 0
    assert len(calls) == 2 and figures_in(build) == ["p.png"]
    assert (f"the kernel died while starting (1 of {stages.KERNEL_STARTS}); starting another"
            in capsys.readouterr().err)

    def always(message):
        def fail(*args, **kwargs):
            calls.append(1)
            raise RuntimeError(message)
        return fail

    for message, tries in ((stages.KERNEL_DIED, stages.KERNEL_STARTS), ("Kernel didn't respond in 60 seconds", 1)):
        calls.clear()
        monkeypatch.setattr(papermill, "execute_notebook", always(message))
        with pytest.raises(RuntimeError, match=message):
            stages.run_stage(str(writing_stage(tmp_path)), str(build), {"names": "p.png"})
        assert len(calls) == tries


def test_a_build_folder_without_lists_starts_clean(tmp_path):
    """Made by an older ketanb: what its figures/ holds is unknown (the patient-level nrs_paired.png)."""
    from ketanb.compendium.stage import run_stage

    build = tmp_path / "build"
    (build / "figures").mkdir(parents=True)
    (build / "figures" / "nrs_paired.png").write_text("stale")
    assert run_stage(str(writing_stage(tmp_path)), str(build), {"names": "new.png"}) == 0
    assert figures_in(build) == ["new.png"]


# --- never stale, never mixed; paths are never shell text (issue 22) -------------------------
def hold_lock(build):
    """Hold the lock of a run in ``build`` as a running `make all` does (released when closed)."""
    import fcntl

    build.mkdir(parents=True, exist_ok=True)
    (build / ".pid").write_text("4242\n")
    handle = open(build / ".lock", "w")
    fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    return handle


def test_published_outputs_are_checked_against_the_build(fresh_build, tmp_path):
    """A deleted figure, report or folder is published again; a build file changed after its stage
    wrote it is not published: the stages run again."""
    project = copy_built(fresh_build.project, tmp_path / "project")
    committed = fresh_build.committed
    assert run_make(project, "all").returncode == 0
    assert output_digests(project) == committed
    stage_report = project / ".build" / "reports" / "01-cleaning.ipynb"
    built_at = stage_report.stat().st_mtime_ns
    for remove in ("figures/flow.png", "reports/index.html", "figures"):
        path = project / remove
        shutil.rmtree(path) if path.is_dir() else path.unlink()
        run = run_make(project, "all")
        assert run.returncode == 0, run.stderr[-3000:]
        assert f"differ from what was published ({remove}" in run.stderr
        assert stage_report.stat().st_mtime_ns == built_at                   # published again, not rebuilt
        assert output_digests(project) == committed
    (project / "figures" / "stale.png").write_bytes(b"not from this run")
    assert run_make(project, "all").returncode == 0
    assert output_digests(project) == committed                             # the folders hold one run's files
    (project / ".build" / "results" / "results.json").write_text("CORRUPTED\n")
    run = run_make(project, "all")
    assert run.returncode == 0, run.stderr[-3000:]
    assert "results/results.json (changed)" in run.stderr and stage_report.stat().st_mtime_ns > built_at
    assert output_digests(project) == committed
    assert run_make(project, "-q", "outputs").returncode == 0


def test_paths_given_to_make_are_never_run_and_out_may_lie_outside(tmp_path):
    """DATA, PARAMS and OUT with backticks, $(...), quotes and ; are refused as paths, never run.
    (A successful run with such paths and OUT outside the project is
    test_other_extract_and_parameters_show_no_patient: it shares that run.)"""
    project = copy_project(tmp_path / "project")
    out = tmp_path / "elsewhere" / "run"
    missing = run_make(project, "all", f"DATA=../x`touch ../PWNED4`y;touch PWNED5", f"OUT={out}")
    assert missing.returncode != 0
    assert "DATA=../x`touch ../PWNED4`y;touch PWNED5: there is no such file or folder" in missing.stderr
    gone = run_make(project, "all", f"PARAMS={tmp_path / 'nowhere' / 't30.yaml'}")
    assert gone.returncode != 0 and f"PARAMS={tmp_path / 'nowhere' / 't30.yaml'}: there is no such file" in gone.stderr
    assert ".build/params.yaml" not in gone.stderr and "Traceback" not in gone.stderr
    odd_out = run_make(project, "all", "OUT=runs/a;touch PWNED6")
    assert odd_out.returncode != 0 and "OUT must be one folder path of letters, digits" in odd_out.stderr
    # make's own function call in a variable given on the command line: make expands such a variable when it
    # exports it to a recipe's environment, for any target (here `help`), unless the Makefile holds it as typed
    for target in ("help", "all"):
        run_make(project, target, f"DATA=x$(shell touch {tmp_path}/PWNED7)", f"PARAMS=$(shell touch {tmp_path}/PWNED8)",
                 f"LAB_ARGS=$(shell touch {tmp_path}/PWNED9)")
    assert list(tmp_path.rglob("PWNED*")) == []


@pytest.mark.parametrize("data, params", [("runs/d/results/extract", "params.yaml"),
                                          ("data/raw", "runs/d/.build/p.yaml"),
                                          ("runs/d/figures", "params.yaml")])
def test_inputs_inside_the_outputs_of_out_are_refused(tmp_path, data, params):
    project = copy_project(tmp_path / "project")
    for given in (data, params):
        if given.startswith("runs/"):
            path = project / given
            if given.endswith(".yaml"):
                path.parent.mkdir(parents=True)
                path.write_text("responder_threshold: 30\n")
            else:
                shutil.copytree(project / "data" / "raw", path)
    before = sorted(str(p.relative_to(project)) for p in (project / "runs").rglob("*"))
    run = run_make(project, "all", "OUT=runs/d", f"DATA={data}", f"PARAMS={params}")
    assert run.returncode != 0 and "Traceback" not in run.stderr
    assert "lies inside runs/d/" in run.stderr and "Nothing was run" in run.stderr
    after = sorted(str(p.relative_to(project)) for p in (project / "runs").rglob("*"))
    assert set(before) <= set(after)                                      # the input is still there
    assert set(after) - set(before) <= {"runs/d/.build", "runs/d/.build/.lock", "runs/d/.build/.pid"}


def test_a_stage_kernel_keeps_tornado_quiet_and_counts_no_extra_cell(tmp_path):
    """A parameter error in the first cell once reached the clinic with tornado's traceback of the
    kernel's shutdown ("ZMQError: Socket operation on non-socket", a race seen in CI): the kernel's
    tornado logger is set to CRITICAL before the notebook runs, without a cell of its own."""
    import nbformat

    from ketanb.compendium.stage import run_stage

    notebook = tmp_path / "quiet.ipynb"
    check = ("import logging\nassert logging.getLogger('tornado').level == logging.CRITICAL, "
             "logging.getLogger('tornado').level")
    kernel = {"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}}
    nbformat.write(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(check)], metadata=kernel), notebook)
    build = tmp_path / "build"
    assert run_stage(str(notebook), str(build), {}) == 0
    ran = nbformat.read(build / "reports" / "quiet.ipynb", as_version=4)
    assert [cell.execution_count for cell in ran.cells if cell.cell_type == "code"][-1] == 2   # injected, then ours
