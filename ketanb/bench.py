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
  the responder curve and the figures are not included);
- the *DuckDB reference*: a plain DuckDB query (:data:`REFERENCE`) that reads
  the three files and derives the cohort counts (treated, the exclusion
  reasons, included, favorable) by the contract's rules, without ketanb. Its
  counts must equal ketanb's, or the benchmark stops: it is a yardstick for
  the time a plain engine needs, not a second implementation to trust.

One line per size, exactly::

    bench patients=N infusions=M seconds=S peak_mib=P read_floor_seconds=F duckdb_seconds=D duckdb_peak_mib=Q ratio=R

S is the analysis wall time, F the read floor's, D the reference's, R = S / D.
Each is measured ``--repeat`` times (3), in turns, each in a fresh process,
and the fastest run is kept, as :mod:`timeit` does: on this shared machine two
runs a minute apart can differ by a fifth, so the ratio of two measurements
taken in turns is what to compare, not an absolute time. Imports are outside
S, D and F. P and Q are peak resident memory, each program's own (:data:`PEAK`).
A second line (on stderr) gives the processor time of the fastest analysis run,
all threads together (Arrow reads a file on every core), and both read floors.

Then one line per target, "met" or "MISSED" (at 1M patients: R <= 1.0 and
P <= 1024; from 100k to 1M, S grows at most 12-fold). A benchmark is not a
test: the exit status is 0 whatever the times, and 1 only when ketanb and the
reference count differently.

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

#: Each measured program's own peak resident memory, in MiB: the high-water mark of its memory
#: (VmHWM in /proc/self/status, Linux). Not ``getrusage().ru_maxrss``: a program started by another
#: begins with that one's peak, so on the first run, when this process has just generated a 1M
#: extract (about 2 GiB), every measured program would report about 2 GiB.
PEAK = """
def peak_mib():
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith("VmHWM:")) / 1024
"""

ANALYSIS = PEAK + """
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
                  "peak_mib": peak_mib(),
                  "infusions": results["side_effects"]["treated"]["infusions"],
                  "counts": {"treated": results["cohort"]["treated"], "included": results["cohort"]["included"],
                             "favorable": results["outcome"]["favorable"],
                             "excluded": {r: k for r, k in sorted(results["cohort"]["excluded"].items()) if k}},
                  "method": results["subgroups"]["fisher_freeman_halton_method"]}))
"""


#: The DuckDB reference: the cohort counts by the contract's rules (section 3) with the default
#: parameters, in one query over the three files. Ids and codes are compared trimmed and
#: lower-cased; a patient's infusions are ordered by date, the first being the test dose.
REFERENCE = PEAK + """
import json, sys, time
import duckdb
folder = sys.argv[1]
start = time.perf_counter()
con = duckdb.connect()
con.execute('SET enable_progress_bar = false')
rows = con.execute(f'''
WITH patients AS (
    SELECT lower(trim(patient_id)) AS id, TRY_CAST(baseline_nrs AS DOUBLE) AS baseline,
           TRY_CAST(followup_nrs AS DOUBLE) AS followup, lower(trim(coalesce(discontinuation, ''))) AS stop
    FROM read_csv('{folder}/patients.csv', all_varchar = true)),
infusions AS (
    SELECT lower(trim(patient_id)) AS id, CAST(date AS DATE) AS day, CAST(dose_mg AS DOUBLE) AS dose,
           lower(trim(formulation)) AS formulation,
           row_number() OVER (PARTITION BY lower(trim(patient_id)) ORDER BY CAST(date AS DATE)) AS nth
    FROM read_csv('{folder}/infusions.csv', all_varchar = true)),
per_patient AS (
    SELECT id, min(day) AS first_day, bool_and(formulation = 'racemic') AS racemic,
           max(CASE WHEN nth = 1 THEN dose END) AS first_dose,
           coalesce(bool_or(nth > 1 AND dose <> 150), false) AS off_protocol, count(*) AS infusions
    FROM infusions GROUP BY id),
reasons AS (
    SELECT *, CASE
        WHEN first_day < DATE '2015-01-01' OR first_day > DATE '2019-12-31' THEN 'outside_study_period'
        WHEN NOT racemic THEN 'not_racemic'
        WHEN first_dose <> 75 THEN 'no_test_dose'
        WHEN off_protocol THEN 'off_protocol_dose'
        WHEN infusions = 1 THEN 'test_dose_only'
        WHEN baseline IS NULL OR baseline = 0 THEN 'no_baseline_nrs' END AS reason
    FROM patients JOIN per_patient USING (id))
SELECT reason, count(*) AS patients,
       count(*) FILTER (followup IS NOT NULL AND 100 * (baseline - followup) / baseline >= 50 - 1e-9
                        AND stop <> 'lack_of_effect') AS favorable
FROM reasons GROUP BY reason ORDER BY reason''').fetchall()
seconds = time.perf_counter() - start
included = [(k, fav) for reason, k, fav in rows if reason is None] or [(0, 0)]
print(json.dumps({"seconds": seconds, "peak_mib": peak_mib(),
                  "counts": {"treated": sum(k for _, k, _ in rows), "included": included[0][0],
                             "favorable": included[0][1],
                             "excluded": {reason: k for reason, k, _ in rows if reason is not None}}}))
"""


def measure(n: int, repeat: int = REPEAT) -> dict:
    """Best of ``repeat`` runs each of the floor, the analysis and the DuckDB reference (taken in turns).

    Raises RuntimeError when the reference's cohort counts differ from ketanb's.
    """
    folder = extract(n)
    for name in FILES:                      # warm the file cache for every measurement
        (folder / name).read_bytes()
    floors, analyses, references = [], [], []
    for _ in range(repeat):
        floors.append(_child(FLOOR, folder))
        analyses.append(_child(ANALYSIS, folder))
        references.append(_child(REFERENCE, folder))
    analysis = min(analyses, key=lambda a: a["seconds"])
    reference = min(references, key=lambda a: a["seconds"])
    if analysis["counts"]["treated"] != n:
        raise RuntimeError(f"{n} patients generated, {analysis['counts']['treated']} analysed")
    if analysis["counts"] != reference["counts"]:
        raise RuntimeError(f"ketanb and the DuckDB reference count differently: {analysis['counts']} "
                           f"vs {reference['counts']}")
    return {"patients": n, "infusions": analysis["infusions"], "seconds": analysis["seconds"],
            "cpu_seconds": analysis["cpu_seconds"],
            "peak_mib": max(a["peak_mib"] for a in analyses),
            "read_floor_seconds": min(f["seconds"] for f in floors),
            "c_engine_seconds": min(f["c_engine_seconds"] for f in floors),
            "pyarrow_engine_seconds": min(f["pyarrow_engine_seconds"] for f in floors), "method": analysis["method"],
            "duckdb_seconds": reference["seconds"], "duckdb_peak_mib": max(r["peak_mib"] for r in references),
            "ratio": analysis["seconds"] / reference["seconds"]}


def targets(rows: dict[int, dict]) -> list[tuple[str, bool]]:
    """The targets that the measured sizes allow to check: level with a plain DuckDB query, in 1 GiB."""
    checks = []
    if 1_000_000 in rows:
        r = rows[1_000_000]
        checks += [(f"1M ratio to the DuckDB reference {r['ratio']:.2f} <= 1.0 (measured in turns)",
                    r["ratio"] <= 1.0),
                   (f"1M peak_mib {r['peak_mib']:.0f} <= 1024", r["peak_mib"] <= 1024)]
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
              f"peak_mib={r['peak_mib']:.0f} read_floor_seconds={r['read_floor_seconds']:.2f} "
              f"duckdb_seconds={r['duckdb_seconds']:.2f} duckdb_peak_mib={r['duckdb_peak_mib']:.0f} "
              f"ratio={r['ratio']:.2f}", flush=True)
        print(f"  (processor time of that run {r['cpu_seconds']:.2f} s, every thread; "
              f"read floor: C engine {r['c_engine_seconds']:.2f} s, pyarrow engine {r['pyarrow_engine_seconds']:.2f} s; "
              f"subgroup test: {r['method']}; "
              f"extract ready in {made:.1f} s)", file=sys.stderr, flush=True)
    for text, met in targets(rows):
        print(f"target {'met' if met else 'MISSED'}: {text}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
