"""Run one stage notebook with papermill: all or nothing, reproducible, readable errors.

    python -m ketanb.stage notebooks/01-cleaning.ipynb reports/01-cleaning.ipynb -p data data/raw ...

The notebook is executed into a staging folder; only when it succeeds is it
normalised (timestamps and durations removed), moved into ``reports/`` and
rendered to HTML next to it. A failed stage leaves the previous report in
place, and an input error is printed as the plain report of every problem,
not as a traceback.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .paths import ROOT

#: nbconvert templates of the project (``reviewer``: offline, code folded).
TEMPLATES = Path(__file__).resolve().parent / "templates"

VOLATILE = ("start_time", "end_time", "duration", "exception")


def normalise(nb) -> None:
    """Drop what changes between identical runs (papermill times, execution timestamps)."""
    pm = nb.metadata.get("papermill", {})
    for key in VOLATILE:
        pm.pop(key, None)
    pm.pop("input_path", None)
    pm.pop("output_path", None)
    for cell in nb.cells:
        if "injected-parameters" in cell.metadata.get("tags", []):
            cell.id = "injected-parameters"  # papermill gives it a random id
        cell.metadata.pop("execution", None)
        cell.metadata.get("papermill", {}).clear()


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebook")
    parser.add_argument("output")
    parser.add_argument("-p", nargs=2, action="append", default=[], metavar=("NAME", "VALUE"))
    args = parser.parse_args(argv)

    import nbformat
    import papermill as pm
    from nbconvert import HTMLExporter

    output = ROOT / args.output
    staging = ROOT / "reports" / ".staging"
    staging.mkdir(parents=True, exist_ok=True)
    tmp = staging / output.name
    try:
        pm.execute_notebook(str(ROOT / args.notebook), str(tmp), parameters=dict(args.p),
                            kernel_name="python3", progress_bar=False, cwd=str(output.parent),
                            # the kernel talks to papermill on localhost only; its warning that
                            # local TCP is unencrypted would be the loudest line of every run
                            extra_arguments=["--IPKernelApp.log_level=ERROR"])
    except pm.PapermillExecutionError as exc:
        tmp.unlink(missing_ok=True)
        if exc.ename in ("InputError", "ParameterError"):
            print(f"\n{args.notebook} stopped: {exc.evalue}", file=sys.stderr)
        else:
            print(f"\n{args.notebook} failed in cell {exc.exec_count}: {exc.ename}: {exc.evalue}\n"
                  + "".join(exc.traceback), file=sys.stderr)
        return 1
    nb = nbformat.read(tmp, as_version=4)
    normalise(nb)
    nbformat.write(nb, tmp)
    body, _ = HTMLExporter(template_name="reviewer", extra_template_basedirs=[str(TEMPLATES)],
                           ).from_notebook_node(nb, resources={"metadata": {"name": output.stem}})
    tmp.replace(output)
    output.with_suffix(".html").write_text(body, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
