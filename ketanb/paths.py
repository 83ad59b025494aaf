"""Where the project lives, so notebooks run from any working directory.

Every relative path a notebook is given (``data/raw``, ``params.yaml``, an
output folder) is read relative to the project root, never the kernel's
working directory. Outputs never show an absolute path of the machine:
:func:`shown_path` gives the name to print instead.
"""
from __future__ import annotations

import os
from pathlib import Path

__all__ = ["ROOT", "resolve", "shown_path"]

#: Project root: the folder holding the ``ketanb`` package (override with KETANB_ROOT).
ROOT = Path(os.environ.get("KETANB_ROOT") or Path(__file__).resolve().parents[1])


def resolve(path: str | os.PathLike) -> Path:
    """Return ``path`` as an absolute path, relative paths taken from :data:`ROOT`."""
    p = Path(path).expanduser()
    return p if p.is_absolute() else ROOT / p


def shown_path(path: str | os.PathLike) -> str:
    """How a path is shown in outputs: relative to the project when inside it, else its last name.

    ``data/raw`` stays ``data/raw``; ``/home/anna/Pain clinic/Extract 2024``
    becomes ``Extract 2024``, so no output names the user's folders. A link to
    an extract (the build folder links extracts from outside the project) is
    shown by the name of what it points to.
    """
    p = resolve(path)
    if p.is_symlink():
        return p.resolve().name
    try:
        return p.relative_to(ROOT).as_posix()
    except ValueError:
        return p.name
