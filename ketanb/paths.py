"""Where the project lives, so notebooks run from any working directory.

Notebooks are executed by papermill and re-executed by nbval from ``reports/``;
every relative path a notebook is given (``data/raw``, ``params.yaml``,
``results/``) is read relative to the project root, never the kernel's working
directory.
"""
from __future__ import annotations

import os
from pathlib import Path

__all__ = ["ROOT", "resolve"]

#: Project root: the folder holding the ``ketanb`` package (override with KETANB_ROOT).
ROOT = Path(os.environ.get("KETANB_ROOT") or Path(__file__).resolve().parents[1])


def resolve(path: str | os.PathLike) -> Path:
    """Return ``path`` as an absolute path, relative paths taken from :data:`ROOT`."""
    p = Path(path).expanduser()
    return p if p.is_absolute() else ROOT / p
