"""Writing outputs, and handing patient-level tables from one stage to the next.

Stages run with the build folder as their working directory
(:func:`ketanb.compendium.stage.start`), so outputs are written to relative
paths such as ``results/cohort.json``. Writing is deterministic (floats to 12
significant digits, Unix newlines) and goes through a temporary file and a
rename, so a reader never sees half a file; a file whose bytes do not change
is left alone.

Every writer of an output here goes through :func:`ketanb.output.writing.write_text`, which lists
what a stage wrote; the patient-level tables handed on (:func:`save_processed`, pickles under
``processed/``) are not outputs and are not listed.
"""
from __future__ import annotations

import datetime as dt
import io
import json
import math
import os
import re
from pathlib import Path

import numpy as np
import pandas as pd

from .writing import write_bytes, write_text

__all__ = ["write_json", "write_csv", "FORMULA_STARTS", "read_json", "to_jsonable", "save_processed", "load_processed",
           "PROCESSED", "SAVED_FIGURES"]

#: Folder of the build folder where stages hand patient-level tables on (never published).
PROCESSED = "processed"
#: Folder of the build folder where :func:`ketanb.presentation.plots.save` lists each figure it saved (path, caption,
#: alt text, place in the paper's order), for the index (never published).
SAVED_FIGURES = "saved-figures"


def to_jsonable(obj):
    """Numpy / pandas scalars to plain Python; floats to 12 significant digits; NaN and infinity to None."""
    if isinstance(obj, dict):
        return {str(k): to_jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [to_jsonable(v) for v in obj]
    if isinstance(obj, (bool, np.bool_)):
        return bool(obj)
    if isinstance(obj, (int, np.integer)):
        return int(obj)
    if isinstance(obj, (float, np.floating)):
        return float(f"{obj:.12g}") if math.isfinite(obj) else None
    if obj is None or obj is pd.NA or obj is pd.NaT:
        return None
    if isinstance(obj, (dt.date, pd.Timestamp)):
        return obj.isoformat()[:10]
    return obj


def write_json(path: str | os.PathLike, obj) -> Path:
    """Write ``obj`` as indented JSON, keys in the given order, floats to 12 significant digits."""
    return write_text(path, json.dumps(to_jsonable(obj), indent=2, ensure_ascii=False, allow_nan=False) + "\n")


def read_json(path: str | os.PathLike):
    """Read a JSON file."""
    return json.loads(Path(path).read_text(encoding="utf-8"))


#: First characters that make a spreadsheet read a cell as a formula (OWASP, "CSV injection").
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
#: A text cell that is a plain number ("-3.5", "+2", "1e-3"), or a lone "-" (nothing to show), is left
#: as it is.
_PLAIN_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?|-")


def _neutralised(value):
    """A text value that starts like a formula, prefixed with ``'`` so that a spreadsheet shows it as
    text; anything else (numbers, plain numbers written as text, other text) as it is. A carriage
    return inside text becomes a newline, so that the cell is quoted and cannot start a row."""
    if not isinstance(value, str):
        return value
    if value.startswith(FORMULA_STARTS) and not _PLAIN_NUMBER.fullmatch(value):
        value = "'" + value
    return value.replace("\r\n", "\n").replace("\r", "\n")


def _text_neutralised(labels: pd.Index) -> pd.Index:
    """Column or index labels with :func:`_neutralised` applied to text labels (a new index)."""
    if isinstance(labels, pd.MultiIndex):
        return labels.set_levels([_text_neutralised(level) for level in labels.levels])
    return labels.map(_neutralised) if labels.dtype == object or isinstance(labels.dtype, pd.StringDtype) \
        else labels


def write_csv(path: str | os.PathLike, frame: pd.DataFrame, *, index: bool = False) -> Path:
    """Write a table as comma-separated UTF-8 with Unix newlines, floats to 12 significant digits.

    Every CSV of the project is written here, so that none can carry a
    formula into the spreadsheet a clinician opens it in: a text cell, column
    header or index label starting with one of :data:`FORMULA_STARTS`
    (``=HYPERLINK(...)``, ``+cmd|...``, ``@SUM(...)``) gets a leading ``'``, as
    OWASP advises, and a carriage return inside text is written as a newline
    (inside quotes, so it cannot start a row of its own). Numbers stay
    numbers: -18.6 in a number column, and a text cell holding a plain number
    such as ``"-3.5"`` (or a lone ``"-"``), are written as they are.
    ``frame`` is not modified.
    """
    safe = frame.copy()
    for position in range(safe.shape[1]):
        column = safe.iloc[:, position]
        if not (pd.api.types.is_numeric_dtype(column) or pd.api.types.is_datetime64_any_dtype(column)):
            safe.isetitem(position, column.astype(object).map(_neutralised))
    safe.columns = _text_neutralised(safe.columns)
    labels = _text_neutralised(safe.index)
    safe.index = labels.set_names([_neutralised(name) for name in labels.names])     # a new index
    buffer = io.StringIO()
    safe.to_csv(buffer, index=index, lineterminator="\n", float_format="%.12g")
    return write_text(path, buffer.getvalue())


def save_processed(frames: dict[str, pd.DataFrame]) -> None:
    """Hand patient-level frames to the next stage (pickles under ``processed/`` of the build folder).

    Written whole by :func:`~ketanb.output.writing.write_bytes`, so that a stage reading one at the same
    time (``make test-notebooks`` runs two notebooks at once) finds the old file or the new one, never half.
    """
    for name, frame in frames.items():
        pickled = io.BytesIO()
        frame.to_pickle(pickled)
        write_bytes(Path(PROCESSED) / f"{name}.pkl", pickled.getvalue())


def load_processed(*names: str) -> list[pd.DataFrame]:
    """Frames written by :func:`save_processed` in an earlier stage."""
    return [pd.read_pickle(Path(PROCESSED) / f"{name}.pkl") for name in names]
