"""Pipeline overhead: ``make all`` from nothing against its start-up floor (``make overhead``).

The floor is what any papermill pipeline of the same shape pays before doing
any analysis: one papermill run per stage notebook, each of an empty notebook
whose only cell imports the libraries the stages import (pandas, numpy,
scipy, matplotlib, pandera, tableone, the ketanb modules), one after the
other. The pipeline is ``make -j2 all`` on a copy of the project with every
output removed and the environment ready (stages that do not depend on each
other run side by side). Prints both, and their ratio; the target is at most
1.5 x the floor. Each is timed ``--repeat`` times (3), in turns, and the
fastest run of each is kept.
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from .paths import ROOT, copy_project

IMPORTS = ("import numpy, pandas, scipy.stats, matplotlib, pandera.pandas, tableone\n"
           "from ketanb import analysis, baseline, cleaning, io, outcomes, pipeline, plots, provenance, "
           "report, side_effects, subgroups")
TARGET = 1.5


def pipeline_seconds(work: Path) -> float:
    """Wall time of ``make -j2 all`` on a fresh copy with no outputs."""
    project = copy_project(work / f"project-{time.monotonic_ns()}", skip=("results/", "figures/", "reports/"))
    env = dict(os.environ, MAKEFLAGS="")
    start = time.perf_counter()
    subprocess.run(["make", "-s", "-j2", f"VENV={ROOT / '.venv'}", "all"], cwd=project, env=env,
                   check=True, capture_output=True)
    return time.perf_counter() - start


def floor_seconds(work: Path, runs: int) -> float:
    """Wall time of ``runs`` papermill runs of an empty notebook importing the stages' libraries."""
    import nbformat
    from nbformat.v4 import new_code_cell, new_notebook

    notebook = work / "empty.ipynb"
    cell = new_code_cell(IMPORTS)
    cell.id = "imports"
    nb = new_notebook(cells=[cell], metadata={"kernelspec": {"name": "python3", "display_name": "Python 3",
                                                             "language": "python"}})
    nbformat.write(nb, notebook)
    env = dict(os.environ, JUPYTER_PLATFORM_DIRS="1",
               JUPYTER_DATA_DIR=str(ROOT / ".venv" / "share" / "jupyter"), KETANB_ROOT=str(ROOT))
    start = time.perf_counter()
    for i in range(runs):
        subprocess.run([sys.executable, "-m", "papermill", "--no-progress-bar", "-k", "python3",
                        str(notebook), str(work / f"out-{i}.ipynb")], check=True, capture_output=True, env=env)
    return time.perf_counter() - start


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3, help="runs of each, in turns; the fastest is kept")
    args = parser.parse_args(argv)
    stages = len(list((ROOT / "notebooks").glob("[0-9]*.ipynb")))
    floors, pipelines = [], []
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        for _ in range(args.repeat):                    # in turns: both see the machine in the same state
            floors.append(floor_seconds(work, stages))
            pipelines.append(pipeline_seconds(work))
    floor, pipeline = min(floors), min(pipelines)
    ratio = pipeline / floor
    print(f"overhead pipeline_seconds={pipeline:.1f} floor_seconds={floor:.1f} ratio={ratio:.2f} "
          f"stages={stages}")
    print(f"target {'met' if ratio <= TARGET else 'MISSED'}: make -j2 all {pipeline:.1f} s <= {TARGET} x "
          f"floor {floor:.1f} s = {TARGET * floor:.1f} s")
    return 0 if ratio <= TARGET else 1


if __name__ == "__main__":
    sys.exit(main())
