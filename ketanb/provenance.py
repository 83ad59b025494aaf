"""results/provenance.json: what went into a run, deterministically (no times, no host names)."""
from __future__ import annotations

import hashlib
import platform
from importlib import metadata
from pathlib import Path

from . import __version__
from .params import Params
from .paths import resolve

__all__ = ["ANALYSIS_PACKAGES", "input_files", "provenance"]

#: Packages whose versions can change a number, a table or a figure.
ANALYSIS_PACKAGES = ("numpy", "pandas", "scipy", "matplotlib", "pandera", "tableone", "statsmodels",
                     "openpyxl", "pyyaml", "papermill", "nbconvert", "nbformat", "ipykernel")


def input_files(data) -> list[Path]:
    """The files an extract consists of: the workbook, or the folder's CSV files and marker."""
    path = resolve(data)
    if path.is_file():
        return [path]
    return sorted(p for p in path.iterdir() if p.is_file() and p.suffix in (".csv", ".json"))


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def provenance(data, params: Params) -> dict:
    """Inputs (name and sha256 of each file), parameters and package versions of a run.

    The file names are relative to the extract, so the same extract gives the
    same provenance wherever it lies; the extract's location is in run.json.
    """
    files = input_files(data)
    base = resolve(data) if resolve(data).is_dir() else resolve(data).parent
    return {
        "inputs": {str(p.relative_to(base)): {"sha256": _sha256(p), "bytes": p.stat().st_size} for p in files},
        "parameters": params.to_dict(),
        "python": platform.python_version(),
        "packages": {"ketanb": __version__, **{name: metadata.version(name) for name in ANALYSIS_PACKAGES}},
    }
