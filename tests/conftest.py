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
import hashlib
import os
import shutil
import subprocess
from pathlib import Path

from ketanb.compendium.publish import OUTPUT_FOLDERS as OUTPUT_DIRS
from ketanb.paths import ROOT



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


@pytest.fixture(scope="module")
def venv_ready():
    if not (ROOT / ".venv" / ".installed").exists():
        pytest.skip("needs the project's .venv (make env)")
