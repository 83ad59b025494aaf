"""The analysis's outputs do not depend on the Python version (3.11, 3.12, 3.13 are accepted).

Runs only when KETANB_OTHER_PYTHON names another interpreter (.ci/run sets it when one is
installed): a second environment is made from the same requirements.lock with it, the whole
analysis runs into runs/other-python, and every result and figure must equal the committed ones
byte for byte. Only the Python version recorded in provenance.json and in the rendered notebooks
may differ.
"""
import json
import os
import subprocess

import pytest

from ketanb.paths import ROOT

OTHER = os.environ.get("KETANB_OTHER_PYTHON")
pytestmark = pytest.mark.skipif(not OTHER, reason="set KETANB_OTHER_PYTHON=/path/to/python3.x")


def test_results_and_figures_are_identical_on_another_python(tmp_path):
    venv = ROOT / ".venv-other-python"
    env = dict(os.environ, MAKEFLAGS="")
    run = subprocess.run(["make", "-s", f"PYTHON={OTHER}", f"VENV={venv}", "OUT=runs/other-python", "all"],
                         cwd=ROOT, env=env, capture_output=True, text=True, timeout=1200)
    assert run.returncode == 0, run.stderr[-3000:]
    out = ROOT / "runs" / "other-python"
    version = subprocess.run([str(venv / "bin" / "python"), "-c", "import platform; print(platform.python_version())"],
                             capture_output=True, text=True, check=True).stdout.strip()
    differ = []
    for folder in ("results", "figures"):
        for committed in sorted((ROOT / folder).iterdir()):
            if committed.name == "provenance.json":
                a, b = (json.loads(p.read_text()) for p in (committed, out / folder / committed.name))
                assert b["python"] == version
                a.pop("python"), b.pop("python")
                same = a == b
            else:
                same = committed.read_bytes() == (out / folder / committed.name).read_bytes()
            if not same:
                differ.append(f"{folder}/{committed.name}")
    assert differ == [], f"outputs that differ on Python {version}"
