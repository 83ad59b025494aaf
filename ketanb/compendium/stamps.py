"""Before make looks at a run: the inputs checked, content stamps and links written, outputs checked.

    python -m ketanb.compendium.stamps BUILD OUT      (``make all`` runs it once it holds the run's lock)

The extract and the parameter file are read from the environment variables
``KETANB_DATA`` and ``KETANB_PARAMS`` (the Makefile exports DATA and PARAMS
under these names), never from shell text: a folder named ``a;b`` or
``$(x)`` is a folder name, not a command. :func:`prepare` does, in order:

1. refuse an extract or a parameter file that does not exist, or that lies
   inside OUT's results/, figures/, reports/ or .build/ (publishing would
   delete it); nothing is written before;
2. finish a publish that was interrupted (:func:`ketanb.compendium.publish.finish`);
3. write the content stamps and the links (below), and forget a stage whose
   notebook was removed (:func:`forget_removed_stages`);
4. check the build folder against its manifest and the published outputs
   against the record of what was published
   (:func:`ketanb.compendium.publish.check`): make then rebuilds or publishes again what differs.

Content stamps: under ``BUILD/stamps/``, one file per dependency holding the
sha256 of its content: ``data`` (the extract's files and the DATA value),
``params`` (the parameter file and the PARAMS value), ``code`` (every file of
the ``ketanb`` package) and ``notebooks/NAME`` (each stage notebook). A stamp
is rewritten only when a hash changes, and the stage rules depend on the
stamps: a corrected extract copied with an old date re-runs what uses it, and
a file touched without a change re-runs nothing.

Links: notebooks are given paths relative to the run's base folder
(:func:`run_base`: the project, or OUT when OUT lies outside it), never an
absolute path of the machine. An extract that is not inside the base is
linked as ``BUILD/extract`` (or ``BUILD/extract.xlsx``), a parameter file as
``BUILD/params.yaml``, and notebooks, reports and results name them by that link.
"""
from __future__ import annotations

import os
import sys
from pathlib import Path

from ..errors import KetanbError
from ..paths import ROOT, resolve
from ..output.writing import digest

__all__ = ["DATA_VARIABLE", "PARAMS_VARIABLE", "given_inputs", "extract_files", "run_base", "argument",
           "check_inputs", "forget_removed_stages", "prepare"]

#: Environment variables through which the Makefile hands DATA and PARAMS to the scripts.
DATA_VARIABLE, PARAMS_VARIABLE = "KETANB_DATA", "KETANB_PARAMS"


def given_inputs() -> tuple[str, str]:
    """DATA and PARAMS as given to make (the Makefile's defaults when run without make)."""
    return os.environ.get(DATA_VARIABLE, "data/raw"), os.environ.get(PARAMS_VARIABLE, "params.yaml")


def stamp(target: Path, lines: list[str]) -> None:
    """Write ``lines`` to ``target`` unless it holds them already (its date then stays)."""
    text = "".join(f"{line}\n" for line in lines)
    if target.is_file() and target.read_text(encoding="utf-8") == text:
        return
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(text, encoding="utf-8")


def extract_files(data: Path) -> list[Path]:
    """The files an extract consists of: the workbook, or the folder's CSV files and marker."""
    if data.is_dir():
        return sorted(p for p in data.iterdir() if p.suffix in (".csv", ".json"))
    return [data]


def run_base(build: Path) -> Path:
    """The folder a run's notebooks take relative paths from: the project, or OUT when ``build`` lies outside it."""
    build = Path(os.path.abspath(build))
    return ROOT if build.is_relative_to(ROOT) else build.parent


def _link_name(given: str, kind: str) -> str:
    if kind == "params":
        return "params.yaml"
    return "extract.xlsx" if given.lower().endswith(".xlsx") else "extract"


def argument(build: Path, given: str, kind: str) -> str:
    """The path notebooks are given for the extract (``kind="data"``) or parameter file (``"params"``).

    ``given`` as it is when it is a relative path inside the project and the
    run's base is the project; else the link made by :func:`prepare`
    (``BUILD/extract``, ``BUILD/extract.xlsx`` or ``BUILD/params.yaml``),
    relative to :func:`run_base`. An empty ``given`` (no parameter file) stays empty.
    """
    build = Path(os.path.abspath(build))
    base = run_base(build)
    if not given or (base == ROOT and not Path(given).expanduser().is_absolute()
                     and resolve(given).resolve().is_relative_to(ROOT.resolve())):
        return given
    return (build / _link_name(given, kind)).relative_to(base).as_posix()


def _link(build: Path, given: str, kind: str) -> None:
    """Make the link :func:`argument` names, if it names one."""
    if not given or argument(build, given, kind) == given:
        return
    link, path = build / _link_name(given, kind), resolve(given).resolve()
    if link.is_symlink() or link.exists():
        if link.resolve() == path:
            return
        link.unlink()
    link.parent.mkdir(parents=True, exist_ok=True)
    link.symlink_to(path)


def _inside(path: Path, folder: Path) -> bool:
    return path == folder or path.is_relative_to(folder)


def check_inputs(out: str, data: str, params: str) -> None:
    """Refuse a DATA or PARAMS that does not exist, or that a run of OUT would delete.

    Raises
    ------
    KetanbError
        Naming the path as it was given and what to do.
    """
    from .publish import OUTPUT_FOLDERS

    target = resolve(out).resolve()
    replaced = [*OUTPUT_FOLDERS, ".build", *(f".{name}.{end}" for name in OUTPUT_FOLDERS for end in ("new", "old"))]
    for variable, given, what in (("DATA", data, "the extract (a folder of CSV files or an .xlsx workbook)"),
                                  ("PARAMS", params, "a parameter file (YAML, for instance params.yaml)")):
        if not given and variable == "PARAMS":
            continue
        path = resolve(given)
        if not path.exists():
            raise KetanbError(f"{variable}={given}: there is no such file or folder; give {what}. Nothing was run.")
        for name in replaced:
            folder = target / name
            if _inside(path.resolve(), folder.resolve()):
                shown = (Path(out) / name).as_posix()
                raise KetanbError(
                    f"{variable}={given} lies inside {shown}/, which a run with OUT={out} replaces or deletes: "
                    f"it would be lost. Move it out of {shown}/ (for instance next to the project) and give "
                    f"that path. Nothing was run.")


def forget_removed_stages(build: Path) -> list[str]:
    """A stage whose notebook is gone from notebooks/ leaves nothing in ``build``; returns their names.

    Its report, its list of written files and its stamp are deleted, and so is the manifest, so that
    make assembles and publishes again: assemble then deletes the files only that list named
    (:func:`ketanb.compendium.stage.remove_unlisted`), and the index no longer shows its figures.
    """
    stages = {notebook.stem for notebook in (ROOT / "notebooks").glob("[0-9]*.ipynb")}   # as the Makefile's
    gone = sorted(listing.stem for listing in (build / "written").glob("*.txt") if listing.stem not in stages)
    for name in gone:
        for path in (build / "written" / f"{name}.txt", build / "reports" / f"{name}.ipynb",
                     build / "reports" / f"{name}.html", build / "stamps" / "notebooks" / f"{name}.ipynb"):
            path.unlink(missing_ok=True)
    if gone:
        (build / "manifest.sha256").unlink(missing_ok=True)
    return gone


def prepare(build: str, out: str, data: str, params: str) -> None:
    """Everything ``make all`` does before make compares dates (see the module docstring)."""
    from . import publish

    check_inputs(out, data, params)
    folder = Path(os.path.abspath(resolve(build)))
    publish.finish(folder, resolve(out))
    stamps = folder / "stamps"
    stamp(stamps / "data", [f"DATA={data}"] + [f"{digest(p)}  {p.name}" for p in extract_files(resolve(data))])
    stamp(stamps / "params", [f"PARAMS={params}", f"{digest(resolve(params))}  {Path(params).name}"])
    code = sorted(p for p in (ROOT / "ketanb").rglob("*") if p.is_file() and "__pycache__" not in p.parts)
    stamp(stamps / "code", [f"{digest(p)}  {p.relative_to(ROOT).as_posix()}" for p in code])
    for notebook in sorted((ROOT / "notebooks").glob("*.ipynb")):
        stamp(stamps / "notebooks" / notebook.name, [f"{digest(notebook)}  {notebook.name}"])
    forget_removed_stages(folder)
    _link(folder, data, "data")
    _link(folder, params, "params")
    publish.check(folder, resolve(out))


def main(argv=None) -> int:
    build, out = (argv or sys.argv[1:])[:2]
    try:
        prepare(build, out, *given_inputs())
    except KetanbError as exc:
        print(f"make all refused: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
