"""Content stamps: make re-runs a stage when what it depends on changed, not when a date did.

    python3 ketanb/compendium/stamps.py BUILD DATA PARAMS      (the Makefile does this)

Writes, under ``BUILD/stamps/``, one file per dependency holding the sha256 of
its content: ``data`` (the extract's files and the DATA value), ``params``
(the parameter file and the PARAMS value), ``code`` (every file of the
``ketanb`` package) and ``notebooks/NAME`` (each stage notebook). A stamp is
rewritten only when a hash changes, and the stage rules depend on the stamps:
a corrected extract copied with an old date re-runs what uses it, and a file
touched without a change re-runs nothing.

An extract outside the project is linked as ``BUILD/extract`` (or
``BUILD/extract.xlsx``), and a parameter file as ``BUILD/params.yaml``, so
that notebooks, reports and results name them by that link, never by an
absolute path of the machine. Prints the path the notebooks are to read the
extract from (with ``--params BUILD PARAMS``: the parameter file's). Standard library only: it runs
before the project's environment exists.
"""
from __future__ import annotations

import hashlib
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def digest(path: Path) -> str:
    """sha256 of a file's bytes, ``missing`` if it does not exist."""
    if not path.is_file():
        return "missing"
    h = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


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


def link_argument(build: Path, given: str, name: str) -> str:
    """The path notebooks use for a file or folder: as given inside the project, else a link ``build/name``."""
    path = (ROOT / given).resolve()
    if path.is_relative_to(ROOT) and not Path(given).is_absolute():
        return given
    link = build / name
    if link.is_symlink() or link.exists():
        if link.resolve() == path:
            return link.relative_to(ROOT).as_posix()
        link.unlink()
    link.parent.mkdir(parents=True, exist_ok=True)
    link.symlink_to(path)
    return link.relative_to(ROOT).as_posix()


def main(build: str, data: str, params: str) -> str:
    folder = (ROOT / build).resolve()
    stamps = folder / "stamps"
    source = (ROOT / data).resolve()
    stamp(stamps / "data", [f"DATA={data}"] + [f"{digest(p)}  {p.name}" for p in extract_files(source)])
    stamp(stamps / "params", [f"PARAMS={params}", f"{digest(ROOT / params)}  {Path(params).name}"])
    code = sorted(p for p in (ROOT / "ketanb").rglob("*") if p.is_file() and "__pycache__" not in p.parts)
    stamp(stamps / "code", [f"{digest(p)}  {p.relative_to(ROOT).as_posix()}" for p in code])
    for notebook in sorted((ROOT / "notebooks").glob("*.ipynb")):
        stamp(stamps / "notebooks" / notebook.name, [f"{digest(notebook)}  {notebook.name}"])
    return link_argument(folder, data, "extract.xlsx" if source.suffix.lower() == ".xlsx" else "extract")


if __name__ == "__main__":
    os.chdir(ROOT)
    if sys.argv[1] == "--params":               # stamps.py --params BUILD PARAMS: the parameter file's path
        print(link_argument((ROOT / sys.argv[2]).resolve(), sys.argv[3], "params.yaml"))
    else:
        print(main(*sys.argv[1:4]))
