"""Running one stage notebook with papermill, and what every stage starts from.

    python -m ketanb.compendium.stage notebooks/01-cleaning.ipynb .build --inputs
    python -m ketanb.compendium.stage notebooks/01-cleaning.ipynb .build -p data data/raw -p params_file params.yaml

``--inputs`` gives the notebook ``data`` and ``params_file`` from the
environment variables KETANB_DATA and KETANB_PARAMS (what ``make all`` does:
a path never passes through shell text), as :func:`ketanb.compendium.stamps.argument`
names them; ``-e NAME VARIABLE`` gives any parameter from an environment variable.
The notebook runs with the build folder (``.build``, or ``OUT/.build``) as
its working directory and is executed into ``tmp/`` there; only when it
succeeds is it normalised (papermill's times removed) and moved to ``reports/``
(rendered to HTML once every stage has succeeded: :mod:`ketanb.compendium.render`).
Nothing outside the build folder changes:
the Makefile publishes results/, figures/ and reports/ when every stage has
succeeded (:mod:`ketanb.compendium.publish`). An input or parameter error is
printed as the plain report of every problem, not as a traceback.
"""
from __future__ import annotations

import argparse
import os
import shutil
import sys
import time
from pathlib import Path

from ..params import Params, load_params
from ..paths import resolve
from ..output.writing import writes_listed_in
from .stamps import DATA_VARIABLE, PARAMS_VARIABLE, argument, given_inputs, run_base

__all__ = ["start", "run_stage", "normalise", "remove_unlisted", "LISTED_FOLDERS"]

#: The folders of the build whose every file some stage's list of written files must name.
LISTED_FOLDERS = ("results", "figures")

#: Run by the kernel before the notebook (no cell, no execution count): tornado logs only what is critical.
QUIET_TORNADO = "--IPKernelApp.exec_lines=import logging; logging.getLogger('tornado').setLevel(logging.CRITICAL)"

#: nbclient's error when a kernel exits before it answers its first message, so before any cell has run.
KERNEL_DIED = "Kernel died before replying to kernel_info"
#: How many kernels a stage starts at most when each dies that way. Two kernels starting at once (make -j2,
#: or two runs side by side) can be handed the same free port: jupyter_client picks the ports, frees them
#: and gives them to the kernel, which may then fail to bind one (jupyter/jupyter_client#154). A new
#: kernel gets new ports; a stage that fails three times stops as before.
KERNEL_STARTS = 3


def start(out: str | os.PathLike, params_file: str | os.PathLike | None = None) -> Params | None:
    """What every stage notebook does first: work in the build folder ``out``, read the parameters.

    ``out`` and ``params_file`` are relative to the project root. Outputs are
    then written to relative paths (``results/``, ``figures/``) inside ``out``;
    a notebook opened by hand writes to its default ``runs/scratch``, never to
    the committed outputs. Without ``params_file`` (the pooling notebook) no
    parameters are read.
    """
    params = None if params_file is None else load_params(params_file)
    folder = resolve(out)
    folder.mkdir(parents=True, exist_ok=True)
    os.chdir(folder)
    return params


def normalise(nb) -> None:
    """Drop what changes between identical runs (papermill's times and paths, execution timestamps).

    The notebook's own ``parameters`` cell goes too: papermill's injected cell
    after it holds every parameter of the run, and a report shows them once.
    """
    for key in ("start_time", "end_time", "duration", "exception", "input_path", "output_path"):
        nb.metadata.get("papermill", {}).pop(key, None)
    nb.cells = [c for c in nb.cells if "parameters" not in c.metadata.get("tags", [])]
    for cell in nb.cells:
        if "injected-parameters" in cell.metadata.get("tags", []):
            cell.id = "injected-parameters"  # papermill gives it a random id
        cell.metadata.pop("execution", None)
        cell.metadata.get("papermill", {}).clear()


def _listed(path: Path) -> set[str]:
    """The files a list of written files names (none if there is no list)."""
    return set(path.read_text(encoding="utf-8").splitlines()) if path.is_file() else set()


def _write_list(path: Path, names: set[str]) -> None:
    path.write_text("".join(f"{name}\n" for name in sorted(names)), encoding="utf-8")


def remove_unlisted(out: str | os.PathLike, keep=()) -> list[str]:
    """Delete every file of results/ and figures/ of the build folder ``out`` that no stage's list names
    (nor ``keep``): a figure or table nobody makes any more is not published. Returns what it deleted.

    :mod:`ketanb.compendium.assemble` calls it once every stage has succeeded, when no stage runs: under
    ``make -j2`` two stages run at once, and one that deleted files as it finished could take a file the
    other had just listed.
    """
    build = resolve(out)
    listed = set(keep).union(*(_listed(path) for path in (build / "written").glob("*.txt")))
    stale = sorted(path.relative_to(build).as_posix() for folder in LISTED_FOLDERS
                   for path in (build / folder).rglob("*") if path.is_file())
    stale = [name for name in stale if name not in listed]
    for name in stale:
        (build / name).unlink()
    return stale


def _execute(notebook: str, tmp: Path, build: Path, base: Path, parameters: dict) -> None:
    """papermill runs ``notebook`` into ``tmp`` in a fresh kernel (see :func:`run_stage`)."""
    import papermill as pm

    pm.execute_notebook(str(resolve(notebook)), str(tmp),
                        parameters={**parameters, "out": os.path.relpath(build, base)},
                        kernel_name="python3", progress_bar=False, cwd=str(build),
                        # written once at the end, not after every cell (0.1-0.3 s a stage; a
                        # kernel that dies leaves no partial notebook in tmp/ to look at)
                        request_save_on_cell_execute=False,
                        # Once the last cell has run (every file written, the kernel idle), the
                        # kernel is interrupted and killed at once. Asked to stop politely, it
                        # often did not exit within jupyter_client's 2.5 s and was sent SIGTERM
                        # anyway: half of the runs of notebook 01 took 4.1 s instead of 1.3 s
                        # (2026-12-03).
                        shutdown_kernel="immediate",
                        # The kernel's own log stays quiet: its warning that local TCP is
                        # unencrypted (it talks to papermill on localhost only), and the
                        # "KeyboardInterrupt caught in kernel" that jupyter_client's shutdown
                        # provokes by interrupting the kernel before it kills it. An
                        # error in a cell still stops the stage (PapermillExecutionError).
                        # So does tornado's: when a cell fails at once, the shutdown can
                        # race the kernel's last status message ("ZMQError: Socket
                        # operation on non-socket"), a traceback a clinic need not read.
                        # No input history either: two stages' kernels run at once (make -j2)
                        # and would share IPython's history database.
                        extra_arguments=["--IPKernelApp.log_level=CRITICAL", QUIET_TORNADO,
                                         "--HistoryManager.enabled=False"])


def run_stage(notebook: str, out: str, parameters: dict) -> int:
    """Execute ``notebook`` into ``out/reports/`` (all or nothing); 0 on success, 1 on an error.

    Every file the stage writes (:func:`ketanb.output.writing.write_bytes`) is
    listed in ``out/written/NAME.txt``; after a failed run the list keeps the old
    files and the new. Once every stage has succeeded, :func:`remove_unlisted`
    deletes what no list names. A build folder without lists (made by an older
    ketanb) starts with empty results/ and figures/.

    The kernel takes relative paths from the run's base folder
    (:func:`ketanb.compendium.stamps.run_base`: the project, or OUT when the
    build folder lies outside it), and is given ``out`` relative to it: no
    parameter shown in a report is an absolute path of the machine.
    """
    import nbformat
    import papermill as pm

    started = time.perf_counter()
    build = resolve(out)
    target = build / "reports" / Path(notebook).name
    tmp = build / "tmp" / target.name
    tmp.parent.mkdir(parents=True, exist_ok=True)
    target.parent.mkdir(parents=True, exist_ok=True)
    lists = build / "written"
    if not lists.is_dir():                              # nothing known about what is there: start clean
        for folder in ("results", "figures"):
            shutil.rmtree(build / folder, ignore_errors=True)
    lists.mkdir(parents=True, exist_ok=True)
    written = lists / f"{target.stem}.txt"
    before = _listed(written)
    written.write_text("", encoding="utf-8")
    base = run_base(build)
    saved_root = os.environ.get("KETANB_ROOT")
    os.environ["KETANB_ROOT"] = str(base)                             # the kernel inherits it
    try:
        for kernel in range(1, KERNEL_STARTS + 1):
            try:
                with writes_listed_in(written):                       # and the list of what it writes
                    _execute(notebook, tmp, build, base, parameters)
                break
            except RuntimeError as exc:                               # not a cell's error: no cell has run
                if KERNEL_DIED not in str(exc) or kernel == KERNEL_STARTS:
                    raise
                print(f"  {target.stem}: the kernel died while starting ({kernel} of {KERNEL_STARTS}); "
                      "starting another", file=sys.stderr, flush=True)
    except pm.PapermillExecutionError as exc:
        tmp.unlink(missing_ok=True)
        _write_list(written, before | _listed(written))                 # forget nothing it may have left
        print(f"  {target.stem}: stopped after {time.perf_counter() - started:.1f} s", file=sys.stderr)
        if exc.ename in ("InputError", "ParameterError", "PoolingError"):
            print(f"\n{notebook} stopped: {exc.evalue}", file=sys.stderr)
        else:
            print(f"\n{notebook} failed in cell {exc.exec_count}: {exc.ename}: {exc.evalue}\n"
                  + "".join(exc.traceback), file=sys.stderr)
        return 1
    finally:
        if saved_root is None:
            del os.environ["KETANB_ROOT"]
        else:
            os.environ["KETANB_ROOT"] = saved_root
    nb = nbformat.read(tmp, as_version=4)
    normalise(nb)
    nbformat.write(nb, tmp)
    _write_list(written, _listed(written))                             # each file once, sorted
    tmp.replace(target)                              # last: make sees the stage done only now
    print(f"  {target.stem}: done in {time.perf_counter() - started:.1f} s", flush=True)
    return 0


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebook")
    parser.add_argument("out", help="the build folder, relative to the project root")
    parser.add_argument("-p", nargs=2, action="append", default=[], metavar=("NAME", "VALUE"))
    parser.add_argument("-e", nargs=2, action="append", default=[], metavar=("NAME", "VARIABLE"),
                        help="a parameter whose value is the environment variable VARIABLE")
    parser.add_argument("--inputs", action="store_true",
                        help=f"data and params_file from {DATA_VARIABLE} and {PARAMS_VARIABLE}")
    args = parser.parse_args(argv)
    parameters = {**dict(args.p), **{name: os.environ.get(variable, "") for name, variable in args.e}}
    if args.inputs:
        data, params = given_inputs()
        parameters["data"] = argument(resolve(args.out), data, "data")
        parameters["params_file"] = argument(resolve(args.out), params, "params")
    return run_stage(args.notebook, args.out, parameters)


if __name__ == "__main__":
    sys.exit(main())
