import pandas as pd
import pytest

from ketanb.input.read import RawExtract, RawTable
from ketanb.input.validate import validate


def raw_extract(patients, infusions, adverse_events=None):
    """An in-memory extract from lists of dicts (all values as text)."""
    ae_cols = ["patient_id", "date", "event", "severity", "treatment", "serious"]
    frames = {"patients": pd.DataFrame(patients), "infusions": pd.DataFrame(infusions),
              "adverse_events": pd.DataFrame(adverse_events or [], columns=ae_cols)}
    return RawExtract("test extract", {k: RawTable(f"{k}.csv", v.astype(str).apply(lambda c: c.str.strip()))
                                       for k, v in frames.items()})


def patient(pid, baseline="8", followup="3", mechanism="neuropathic", discontinuation="", **extra):
    row = {"patient_id": pid, "sex": "F", "age": "50", "pain_mechanism": mechanism,
           "baseline_nrs": baseline, "followup_nrs": followup, "discontinuation": discontinuation}
    row.update(extra)
    return row


def protocol(pid, start="2016-03-01", n_later=2):
    rows = [{"patient_id": pid, "date": start, "dose_mg": "75", "formulation": "racemic"}]
    day = pd.Timestamp(start)
    for i in range(n_later):
        day += pd.Timedelta(days=30)
        rows.append({"patient_id": pid, "date": day.date().isoformat(), "dose_mg": "150", "formulation": "racemic"})
    return rows


@pytest.fixture
def make_extract():
    def make(patients, infusions, adverse_events=None, params=None):
        return validate(raw_extract(patients, infusions, adverse_events), params)
    return make


# --- running the real pipeline (make) on a copy of the project -------------------------------
import fcntl
import hashlib
import json
import os
import shutil
import subprocess
from pathlib import Path
from types import SimpleNamespace

from ketanb.compendium.publish import OUTPUT_FOLDERS as OUTPUT_DIRS
from ketanb.paths import ROOT

#: Test files that run make, papermill or another program (a browser, a second Python): marked
#: ``pipeline``, as is every test using the fixture venv_ready; `make test-fast` leaves them out.
#: Listed slowest first: they start first, so both workers finish at about the same time.
PIPELINE_FILES = ("test_python_versions.py", "test_pipeline_runs.py", "test_lab.py",
                  "test_bench.py", "test_browser.py")
#: Then the slowest files of the others (the property tests run an analysis 40 times each).
SLOW_FILES = ("test_properties.py", "test_validation.py", "test_plots.py")


def pytest_collection_modifyitems(items):
    """Mark the pipeline tests and start them first (slowest first), the two using fresh_build side by side;
    then the slowest of the others, so that the two workers finish at about the same time.

    Side by side they start on one xdist worker (work-stealing hands each worker a run of the list), so
    the other worker rarely waits for the build. xdist_group marks would say this more plainly, but
    pytest-xdist 3.8 cannot rename a test under pytest 9.2, so --dist loadgroup ignores them.
    """
    for item in items:
        if item.path.name in PIPELINE_FILES or "venv_ready" in item.fixturenames:
            item.add_marker(pytest.mark.pipeline)

    order = (*PIPELINE_FILES, "(other pipeline tests)", *SLOW_FILES)

    def start(item):
        if item.path.name in order:
            rank = order.index(item.path.name)
        else:
            rank = len(PIPELINE_FILES) if item.get_closest_marker("pipeline") else len(order)
        return rank, "fresh_build" not in item.fixturenames
    items.sort(key=start)                                           # stable: each file's own order kept


def copy_project(target: Path) -> Path:
    """Copy the project's files (tracked, or new and not ignored) to ``target``, dates kept.

    Leaves out .venv and the build folders (ignored); ``make`` is then run on the throw-away copy,
    with this checkout's .venv. That .venv must be up to date (``make test`` sees to it): else
    ``make`` in the copy would rebuild it and point its ketanb.pth at the copy.
    """
    installed = ROOT / ".venv" / ".installed"
    if not installed.exists() or installed.stat().st_mtime < (ROOT / "requirements.lock").stat().st_mtime:
        pytest.fail("requirements.lock is newer than .venv: run `make env` (or `make test`) first", pytrace=False)
    files = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
                           cwd=ROOT, capture_output=True, check=True).stdout.decode().split("\0")
    for name in filter(None, files):
        if (ROOT / name).is_file():
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, target / name)
    return target


def copy_built(project: Path, target: Path) -> Path:
    """Copy a project with its build folder (dates kept): ``make`` in the copy has nothing to do."""
    shutil.copytree(project, target, symlinks=True)
    return target


def run_make(project, *args, timeout=600):
    """``make -s ARGS`` in ``project`` with this checkout's .venv; returns the CompletedProcess."""
    env = dict(os.environ, MAKEFLAGS="")
    return subprocess.run(["make", "-s", f"VENV={ROOT / '.venv'}", *args], cwd=project, env=env,
                          capture_output=True, text=True, timeout=timeout)


def output_digests(project):
    """sha256 of every file under results/, figures/, reports/ (staging excluded)."""
    digests = {}
    for folder in OUTPUT_DIRS:
        for path in sorted((project / folder).rglob("*")):
            if path.is_file() and ".screenshots" not in path.parts:
                digests[str(path.relative_to(project))] = hashlib.sha256(path.read_bytes()).hexdigest()
    return digests


@pytest.fixture(scope="session")
def venv_ready():
    if not (ROOT / ".venv" / ".installed").exists():
        pytest.skip("needs the project's .venv (make env)")


@pytest.fixture(scope="session")
def fresh_build(tmp_path_factory, venv_ready):
    """A copy of the project whose outputs were deleted, then built by `make all` from nothing.

    Built once per test session and shared: under pytest-xdist the first worker that needs it builds
    it in the session's folder (pytest-N/, above each worker's popen-gwN/) while the others wait on a
    lock, as the pytest-xdist docs advise. ``project`` (never change it: copy it with copy_built),
    ``committed`` (output_digests before the outputs were deleted) and ``run`` (returncode and stderr
    of `make all`).
    """
    shared = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        shared = shared.parent
    project, record = shared / "fresh-build" / "project", shared / "fresh-build" / "run.json"
    with open(shared / "fresh-build.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)                                   # released when closed
        if not record.exists():
            copy_project(project)
            committed = output_digests(project)
            for folder in OUTPUT_DIRS:
                for path in (project / folder).iterdir():
                    if path.is_file():
                        path.unlink()
            run = run_make(project, "all")
            record.write_text(json.dumps({"committed": committed, "returncode": run.returncode,
                                          "stderr": run.stderr}))
    saved = json.loads(record.read_text())
    return SimpleNamespace(project=project, committed=saved["committed"],
                           run=SimpleNamespace(returncode=saved["returncode"], stderr=saved["stderr"]))
