"""Where the project lives, so notebooks run from any working directory.

Notebooks are executed by papermill and re-executed by nbval from ``reports/``;
every relative path a notebook is given (``data/raw``, ``params.yaml``,
``results/``) is read relative to the project root, never the kernel's working
directory.
"""
from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

__all__ = ["ROOT", "resolve", "copy_project"]

#: Project root: the folder holding the ``ketanb`` package (override with KETANB_ROOT).
ROOT = Path(os.environ.get("KETANB_ROOT") or Path(__file__).resolve().parents[1])


def resolve(path: str | os.PathLike) -> Path:
    """Return ``path`` as an absolute path, relative paths taken from :data:`ROOT`."""
    p = Path(path).expanduser()
    return p if p.is_absolute() else ROOT / p


def copy_project(target: Path, skip: tuple[str, ...] = ()) -> Path:
    """Copy the project's files (tracked, or new and not ignored) to ``target``, mtimes kept.

    Leaves out .venv and data/processed (ignored) and any path starting with one of ``skip``.
    Used to run ``make`` on a throw-away copy (tests, ``make overhead``).
    """
    files = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
                           cwd=ROOT, capture_output=True, check=True).stdout.decode().split("\0")
    for name in filter(None, files):
        source = ROOT / name
        if source.is_file() and not (skip and name.startswith(skip)):
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target / name)
    return target
