"""The benchmark runs and prints its line in the agreed format (small size only; `make bench` does 1k-1M)."""
import re
import subprocess
import sys

from ketanb.paths import ROOT

LINE = re.compile(r"^bench patients=(\d+) infusions=(\d+) seconds=([\d.]+) peak_mib=(\d+) read_floor_seconds=([\d.]+)$")


def test_bench_prints_the_agreed_line():
    run = subprocess.run([sys.executable, "-m", "ketanb.bench", "--repeat", "2", "1000"], cwd=ROOT, capture_output=True,
                         text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    lines = run.stdout.strip().splitlines()
    match = LINE.match(lines[0])
    assert match, lines[0]
    patients, infusions = int(match[1]), int(match[2])
    assert patients == 1000 and 3000 < infusions < 5000          # about 4 infusions per patient
    # the detail line: processor time of the kept run, and both read floors
    detail = re.search(r"processor time of that run ([\d.]+) s.*C engine ([\d.]+) s, pyarrow engine ([\d.]+) s",
                       run.stderr)
    assert detail, run.stderr
    assert float(detail[1]) > 0
    assert float(match[5]) == min(float(detail[2]), float(detail[3]))   # the floor is the faster engine
