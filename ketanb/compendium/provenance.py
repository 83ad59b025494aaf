"""results/provenance.json: what went into a run, deterministically (no times, no host names)."""
from __future__ import annotations

import platform
from importlib import metadata

from .. import __version__
from ..params import Params
from ..paths import resolve
from ..output.writing import digest
from .stamps import extract_files

__all__ = ["ANALYSIS_PACKAGES", "provenance"]

#: Packages whose versions can change a number, a table or a figure.
ANALYSIS_PACKAGES = ("numpy", "pandas", "scipy", "matplotlib", "tableone", "statsmodels",
                     "seaborn", "pyarrow", "duckdb", "jinja2", "openpyxl", "pyyaml", "papermill", "nbconvert", "nbformat", "ipykernel")


def provenance(data, params: Params) -> dict:
    """Inputs (name and sha256 of each file), parameters and package versions of a run.

    The file names are relative to the extract, so the same extract gives the
    same provenance wherever it lies; the extract's location is in run.json.
    """
    return {
        "inputs": {p.name: {"sha256": digest(p), "bytes": p.stat().st_size} for p in extract_files(resolve(data))},
        "parameters": params.to_dict(),
        "python": platform.python_version(),
        "packages": {"ketanb": __version__, **{name: metadata.version(name) for name in ANALYSIS_PACKAGES}},
    }
