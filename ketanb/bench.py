"""Benchmark: the analysis on synthetic extracts of 1k to 1M patients (``make bench``).

For each size the project's generator writes an extract (about 4 infusions
and 1 adverse event per patient) under ``bench/out/`` (kept between runs, not
committed). Fresh Python processes then run on it, after one warm-up read of
the files so that all see the same file cache:

- the *read floor*: the fastest plain read of the three files that the locked
  environment offers: ``pandas.read_csv`` with the C engine or the pyarrow
  engine (both timed, both printed, the faster kept), nothing else;
- the *analysis*: :func:`ketanb.analysis.analyse`, i.e. reading, validation
  against the contract, the cohort rules, outcomes with the sensitivity
  analyses, subgroup tests and side effects (what results.json holds; Table 1,
  the responder curve and the figures are not included).

One line per size, exactly::

    bench patients=N infusions=M seconds=S peak_mib=P read_floor_seconds=F

S is the analysis wall time, F the read floor's. Each is measured
``--repeat`` times (3), in turns, each in a fresh process, and the fastest
run is kept, as :mod:`timeit` does: on this shared machine two runs a minute
apart can differ by a fifth. Imports are outside S, as ``import pandas`` is
outside F. P is the peak resident memory of the analysis process. A second
line (on stderr) gives the processor time of the fastest analysis run, all
threads together (Arrow reads a file on every core), and both read floors.

Then one line per target (at 1M patients: S <= 3.75, i.e. 1.25 x the 3.0 s
of the earlier, hand-tuned version, and P <= 2048; from 100k to 1M, S grows
at most 12-fold); the exit status is 1 when a target is missed.

    python -m ketanb.bench                    # 1000 10000 100000 1000000
    python -m ketanb.bench 1000 10000         # other sizes
    python -m ketanb.bench --repeat 1 1000    # one run of each
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

from .paths import ROOT

SIZES = (1_000, 10_000, 100_000, 1_000_000)
SEED = 1
#: Runs of each measurement; the fastest is kept.
REPEAT = 3
OUT = ROOT / "bench" / "out"
FILES = ("patients.csv", "infusions.csv", "adverse_events.csv")


def extract(n: int) -> Path:
    """The benchmark extract of ``n`` patients, generated once and reused."""
    from .synthetic import generate_extract, write_extract

    folder = OUT / f"n{n}"
    marker = folder / "synthetic.json"
    if marker.exists() and json.loads(marker.read_text()).get("n_patients") == n and all(
            (folder / f).exists() for f in FILES):
        return folder
    write_extract(generate_extract(n, SEED), folder, n_patients=n, seed=SEED)
    return folder


def _child(code: str, folder: Path) -> dict:
    """Run ``code`` in a fresh interpreter; it prints one JSON object."""
    run = subprocess.run([sys.executable, "-c", code, str(folder)], capture_output=True, text=True,
                         cwd=ROOT, check=False)
    if run.returncode:
        raise RuntimeError(run.stderr)
    return json.loads(run.stdout.strip().splitlines()[-1])


FLOOR = """
import json, sys, time
import pandas as pd
folder = sys.argv[1]
seconds = {}
for engine in ("pyarrow", "c"):
    start = time.perf_counter()
    for name in ("patients.csv", "infusions.csv", "adverse_events.csv"):
        pd.read_csv(f"{folder}/{name}", engine=engine)
    seconds[engine] = time.perf_counter() - start
print(json.dumps({"seconds": min(seconds.values()), "pyarrow_engine_seconds": seconds["pyarrow"],
                  "c_engine_seconds": seconds["c"]}))
"""

ANALYSIS = """
import json, resource, sys, time
from ketanb import load_params
from ketanb.analysis import analyse
params = load_params()
def cpu():  # processor time of this process and any it waited for, every thread
    return sum(u.ru_utime + u.ru_stime for u in map(resource.getrusage, (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)))
cpu_before = cpu()
start = time.perf_counter()
results = analyse(sys.argv[1], params)
seconds = time.perf_counter() - start
cpu_seconds = cpu() - cpu_before
print(json.dumps({"seconds": seconds, "cpu_seconds": cpu_seconds,
                  "peak_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                  "infusions": results["side_effects"]["treated"]["infusions"],
                  "treated": results["cohort"]["treated"],
                  "method": results["subgroups"]["fisher_freeman_halton_method"]}))
"""


def measure(n: int, repeat: int = REPEAT) -> dict:
    """Best of ``repeat`` runs each of the floor and the analysis (taken in turns), largest peak memory."""
    folder = extract(n)
    for name in FILES:                      # warm the file cache for both measurements
        (folder / name).read_bytes()
    floors, analyses = [], []
    for _ in range(repeat):
        floors.append(_child(FLOOR, folder))
        analyses.append(_child(ANALYSIS, folder))
    analysis = min(analyses, key=lambda a: a["seconds"])
    if analysis["treated"] != n:
        raise RuntimeError(f"{n} patients generated, {analysis['treated']} analysed")
    return {"patients": n, "infusions": analysis["infusions"], "seconds": analysis["seconds"],
            "cpu_seconds": analysis["cpu_seconds"],
            "peak_mib": max(a["peak_mib"] for a in analyses),
            "read_floor_seconds": min(f["seconds"] for f in floors),
            "c_engine_seconds": min(f["c_engine_seconds"] for f in floors),
            "pyarrow_engine_seconds": min(f["pyarrow_engine_seconds"] for f in floors), "method": analysis["method"]}


def targets(rows: dict[int, dict]) -> list[tuple[str, bool]]:
    """The targets that the measured sizes allow to check."""
    checks = []
    if 1_000_000 in rows:
        r = rows[1_000_000]
        checks += [(f"1M seconds {r['seconds']:.2f} <= 3.75 (1.25 x 3.0)", r["seconds"] <= 3.75),
                   (f"1M peak_mib {r['peak_mib']:.0f} <= 2048", r["peak_mib"] <= 2048)]
        if 100_000 in rows:
            growth = r["seconds"] / rows[100_000]["seconds"]
            checks.append((f"growth 100k -> 1M {growth:.1f}-fold <= 12", growth <= 12))
    return checks


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ketanb.bench", description=__doc__.splitlines()[0])
    parser.add_argument("sizes", nargs="*", type=int, default=list(SIZES), help="numbers of patients")
    parser.add_argument("--repeat", type=int, default=REPEAT, help="runs of each measurement, best kept")
    args = parser.parse_args(argv)
    rows = {}
    for n in args.sizes:
        started = time.perf_counter()
        extract(n)
        made = time.perf_counter() - started
        r = rows[n] = measure(n, args.repeat)
        print(f"bench patients={r['patients']} infusions={r['infusions']} seconds={r['seconds']:.2f} "
              f"peak_mib={r['peak_mib']:.0f} read_floor_seconds={r['read_floor_seconds']:.2f}", flush=True)
        print(f"  (processor time of that run {r['cpu_seconds']:.2f} s, every thread; "
              f"read floor: C engine {r['c_engine_seconds']:.2f} s, pyarrow engine {r['pyarrow_engine_seconds']:.2f} s; "
              f"subgroup test: {r['method']}; "
              f"extract ready in {made:.1f} s)", file=sys.stderr, flush=True)
    ok = True
    for text, met in targets(rows):
        print(f"target {'met' if met else 'MISSED'}: {text}")
        ok &= met
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
