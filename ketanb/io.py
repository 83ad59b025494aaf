"""Reading extracts and writing outputs.

Reading keeps every cell as text, exactly as the clinic wrote it, so that the
cleaning stage can quote a bad value back in its error message. Writing is
deterministic and only touches a file whose bytes change, so that re-running a
stage (or nbval re-executing a notebook) leaves unchanged outputs untouched.
"""
from __future__ import annotations

import datetime as dt
import io
import json
import math
import os
import pickle
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from .contract import TABLE_FILES
from .errors import InputError, Problem
from .paths import resolve

__all__ = ["RawTable", "LazyRawTable", "RawExtract", "read_extract", "read_csv_table", "text_column",
           "run_starts", "code_dtype", "categorical", "write_bytes", "write_text", "write_json", "write_csv", "read_json",
           "SYNTHETIC_MARKER", "to_jsonable", "hand_over", "take_over"]

#: A folder extract holding this file (or a workbook holding a sheet of this
#: name without ``.json``) was made by :mod:`ketanb.synthetic`.
SYNTHETIC_MARKER = "synthetic.json"


@dataclass
class RawTable:
    """One input table with every cell as text, as written (empty cell = ``""``).

    Attributes
    ----------
    file : str
        Name to quote in messages, e.g. ``"patients.csv"`` or ``"extract.xlsx, sheet patients"``.
    frame : pandas.DataFrame
        Columns named as in the header (trimmed, lower case), each an object
        array of the cells' text as written (empty cell = ``""``). Row ``i`` of
        the frame is spreadsheet row ``i + 2``.
    decimal_comma : bool
        Numbers use a decimal comma (semicolon-separated European CSV).
    header : list of str
        The column names as written in the file.
    """

    file: str
    frame: pd.DataFrame
    decimal_comma: bool = False
    header: list[str] = field(default_factory=list)


class LazyRawTable(RawTable):
    """A CSV table whose cells are read only if asked for: to quote a bad value in an error message.

    Used for infusions.csv when a second process has already read, checked
    and typed it (:func:`ketanb.cleaning.load`).
    """

    def __init__(self, path: Path, file: str, header: list[str], decimal_comma: bool):
        self.path, self.file, self.header, self.decimal_comma = path, file, header, decimal_comma
        self._frame = None

    @property
    def frame(self) -> pd.DataFrame:
        if self._frame is None:
            self._frame = read_csv_table(self.path, []).frame
        return self._frame


@dataclass
class RawExtract:
    """The three tables of an extract, as text, with where they came from."""

    source: str
    tables: dict[str, RawTable]
    synthetic: bool = False
    synthetic_notice: str = ""


def _normalise_header(frame: pd.DataFrame) -> tuple[pd.DataFrame, list[str]]:
    header = [str(c) for c in frame.columns]
    frame.columns = [c.strip().lower() for c in header]
    return frame, header


def run_starts(values: np.ndarray) -> np.ndarray:
    """Positions where a new run of equal values begins (always 0 for a non-empty array)."""
    change = np.empty(len(values), dtype=bool)
    if len(values):
        change[0] = True
        np.not_equal(values[1:], values[:-1], out=change[1:])
    return np.flatnonzero(change)


def _mostly_runs(values: np.ndarray, sample: int = 1000) -> bool:
    """Whether runs of equal cells are worth finding: a sample of neighbours is at least 40 % equal.

    Short columns are always searched; a long one only when the sample says so,
    which saves a pass of comparisons over a million unsorted cells.
    """
    n = len(values)
    if n <= 10 * sample:
        return n > 0
    at = np.linspace(0, n - 2, sample).astype(np.int64)
    return (values[at] == values[at + 1]).mean() >= 0.4


def code_dtype(n_categories: int) -> np.dtype:
    """The integer type pandas keeps a categorical's codes in: the smallest that holds them (and -1)."""
    for kind in (np.int8, np.int16, np.int32):
        if n_categories < np.iinfo(kind).max:
            return np.dtype(kind)
    return np.dtype(np.int64)


def categorical(codes: np.ndarray, categories) -> pd.Categorical:
    """A categorical from codes and categories already known to be valid and distinct (no re-check).

    Codes already in :func:`code_dtype` are used as they are, not copied.
    """
    categories = pd.Index(categories, dtype=object)
    dtype = pd.CategoricalDtype._from_fastpath(categories, False)
    codes = np.asarray(codes, dtype=code_dtype(len(categories)))
    return pd.Categorical.from_codes(codes, dtype=dtype, validate=False)


def text_column(values) -> pd.Categorical:
    """Cells of one column as a categorical of trimmed text (empty cell = ``""``).

    Every distinct value is stored once and every later step (normalising,
    checking, parsing) works on the distinct values only, which keeps a
    million-patient extract fast. Runs of equal cells (an extract sorted by
    patient) are hashed once per run.
    """
    values = np.asarray(values, dtype=object)
    n = len(values)
    starts = run_starts(values) if _mostly_runs(values) else None
    if starts is not None and len(starts) < 0.6 * n:
        run_codes, uniques = pd.factorize(values[starts])
        codes = np.repeat(run_codes.astype(code_dtype(len(uniques))), np.diff(np.r_[starts, n]))
    else:
        codes, uniques = pd.factorize(values)
        codes = codes.astype(code_dtype(len(uniques)), copy=False)   # a few categories: small codes
    uniques = np.asarray(uniques, dtype=object)
    if len(uniques):
        stripped = np.array([u.strip() for u in uniques], dtype=object)
        if (stripped != uniques).any():  # merge values that differ only in surrounding spaces
            remap, uniques = pd.factorize(stripped)
            codes = remap.astype(code_dtype(len(uniques)))[codes]
    return categorical(codes, uniques)


def _text_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """Every column as an object array of str, untouched (trimming happens per column when checked).

    Object dtype on purpose: pandas' ``str`` dtype would check every cell again.
    """
    if all(dtype == object for dtype in frame.dtypes):
        return frame.reset_index(drop=True)
    return frame.astype(object).reset_index(drop=True)


def read_csv_table(path: Path, problems: list[Problem]) -> RawTable | None:
    """One CSV file as a RawTable; None (and the reason appended to ``problems``) if it cannot be read."""
    name = path.name
    data = path.read_bytes()
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        problems.append(Problem(
            name, line, None, data[exc.start: exc.start + 1].hex(" "),
            "the file is not UTF-8 (it looks like Windows-1252 / Latin-1, as older Excel "
            "versions save 'CSV'); save it again as 'CSV UTF-8 (comma delimited)'"))
        return None
    end = text.find("\n")
    first_line = text if end < 0 else text[:end]
    if not first_line.strip():
        problems.append(Problem(name, 1, None, None, "a header row with the column names"))
        return None
    semicolon = first_line.count(";") > first_line.count(",")
    try:
        frame = pd.read_csv(io.BytesIO(data), encoding="utf-8", sep=";" if semicolon else ",", dtype=object,
                            keep_default_na=False, na_filter=False, skip_blank_lines=True)
    except pd.errors.ParserError as exc:
        problems.append(Problem(name, None, None, None,
                                f"a well-formed {'semicolon' if semicolon else 'comma'}-separated "
                                f"file ({exc})"))
        return None
    frame, header = _normalise_header(frame)
    return RawTable(name, _text_frame(frame), decimal_comma=semicolon, header=header)


def _excel_cell_text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time(0) else value.isoformat(" ")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, float):
        return repr(int(value)) if value.is_integer() else repr(value)
    return str(value)


def _read_workbook(path: Path, problems: list[Problem]) -> tuple[dict[str, RawTable], bool, str]:
    import openpyxl  # only needed for workbooks

    try:
        book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # noqa: BLE001 - any unreadable workbook is the same problem to a user
        problems.append(Problem(path.name, None, None, None, f"a readable .xlsx workbook ({exc})"))
        return {}, False, ""
    tables: dict[str, RawTable] = {}
    sheets = {name.strip().lower(): name for name in book.sheetnames}
    for table in TABLE_FILES:
        if table not in sheets:
            problems.append(Problem(path.name, None, None, None,
                                    f"a sheet named {table!r} (the workbook has: "
                                    f"{', '.join(book.sheetnames)})"))
            continue
        rows = book[sheets[table]].iter_rows(values_only=True)
        header_row = next(rows, None)
        label = f"{path.name}, sheet {table}"
        if header_row is None or all(v is None for v in header_row):
            problems.append(Problem(label, 1, None, None, "a header row with the column names"))
            continue
        width = max(i for i, v in enumerate(header_row) if v is not None) + 1
        header = [_excel_cell_text(v) for v in header_row[:width]]
        body = []
        for row in rows:
            cells = [_excel_cell_text(v) for v in (tuple(row) + (None,) * width)[:width]]
            body.append(cells)
        while body and not any(body[-1]):
            body.pop()
        frame = pd.DataFrame(body, columns=header, dtype=str) if body else pd.DataFrame(columns=header, dtype=str)
        frame, header = _normalise_header(frame)
        tables[table] = RawTable(label, _text_frame(frame), header=header)
    marker = SYNTHETIC_MARKER.removesuffix(".json")
    notice = ""
    if marker in sheets:
        notice = " ".join(str(v) for row in book[sheets[marker]].iter_rows(values_only=True)
                          for v in row if v is not None)
    book.close()
    return tables, marker in sheets, notice


def read_extract(path: str | os.PathLike, only=tuple(TABLE_FILES)) -> RawExtract:
    """Read an extract: a folder of three CSV files or one ``.xlsx`` workbook.

    Parameters
    ----------
    path : path-like
        Folder holding ``patients.csv``, ``infusions.csv`` and
        ``adverse_events.csv``, or a workbook with sheets of those names.
        Relative paths are taken from the project root.
    only : sequence of str, optional
        Only these tables of a folder (all three by default).

    Returns
    -------
    RawExtract
        Every cell as stripped text; comma- or semicolon-separated CSV is
        detected from the header row (semicolon means decimal commas too).

    Raises
    ------
    InputError
        A missing file or sheet, a file that is not UTF-8, an unreadable file.
    """
    where = resolve(path)
    shown = str(path)
    problems: list[Problem] = []
    tables: dict[str, RawTable] = {}
    synthetic, notice = False, ""
    if where.is_dir():
        for table in only:
            filename = TABLE_FILES[table]
            file = where / filename
            if not file.is_file():
                problems.append(Problem(filename, None, None, None,
                                        f"the file {filename} in {shown}"))
                continue
            raw = read_csv_table(file, problems)
            if raw is not None:
                tables[table] = raw
        marker = where / SYNTHETIC_MARKER
        if marker.is_file():
            synthetic = True
            notice = json.loads(marker.read_text(encoding="utf-8")).get("notice", "")
    elif where.is_file() and where.suffix.lower() == ".xlsx":
        tables, synthetic, notice = _read_workbook(where, problems)
    elif where.exists():
        problems.append(Problem(shown, None, None, None,
                                "a folder of CSV files or an .xlsx workbook"))
    else:
        problems.append(Problem(shown, None, None, None, "an existing folder or .xlsx workbook"))
    if problems:
        raise InputError(problems, source=shown)
    return RawExtract(shown, tables, synthetic, notice)


# --------------------------------------------------------------------------- writing

def write_bytes(path: str | os.PathLike, data: bytes) -> Path:
    """Write ``data`` to ``path`` unless the file already holds exactly these bytes.

    Leaving an identical file alone keeps its modification time, so make does
    not think later stages are out of date after a re-run that changed nothing.
    The write goes through a temporary file and a rename, so a reader never
    sees half a file.
    """
    target = resolve(path)
    if target.is_file() and target.stat().st_size == len(data) and target.read_bytes() == data:
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.tmp")
    tmp.write_bytes(data)
    os.replace(tmp, target)
    return target


def write_text(path: str | os.PathLike, text: str) -> Path:
    """Write UTF-8 text with Unix newlines (see :func:`write_bytes`)."""
    return write_bytes(path, text.encode("utf-8"))


def _round_float(value: float) -> float | None:
    if not math.isfinite(value):
        return None
    return float(f"{value:.12g}")


def to_jsonable(obj):
    """Convert numpy / pandas scalars to plain Python; floats to 12 significant digits; NaN to None."""
    if isinstance(obj, dict):
        return {str(k): to_jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [to_jsonable(v) for v in obj]
    if isinstance(obj, (bool, np.bool_)):
        return bool(obj)
    if isinstance(obj, (int, np.integer)):
        return int(obj)
    if isinstance(obj, (float, np.floating)):
        return _round_float(float(obj))
    if obj is None or obj is pd.NA:
        return None
    if isinstance(obj, (dt.date, pd.Timestamp)):
        return obj.isoformat()[:10]
    return obj


def write_json(path: str | os.PathLike, obj) -> Path:
    """Write ``obj`` as indented JSON, keys in the given order, floats to 12 significant digits."""
    text = json.dumps(to_jsonable(obj), indent=2, ensure_ascii=False, allow_nan=False) + "\n"
    return write_text(path, text)


def read_json(path: str | os.PathLike):
    """Read a JSON file written by :func:`write_json`."""
    return json.loads(resolve(path).read_text(encoding="utf-8"))


def write_csv(path: str | os.PathLike, frame: pd.DataFrame, *, index: bool = False) -> Path:
    """Write a table as comma-separated UTF-8 with Unix newlines, floats to 12 significant digits."""
    buffer = io.StringIO()
    frame.to_csv(buffer, index=index, lineterminator="\n", float_format="%.12g")
    return write_text(path, buffer.getvalue())


# --------------------------------------------------------------------------- between processes

def hand_over(obj) -> str:
    """Leave ``obj`` in a temporary file for another process; returns the file's name (see :func:`take_over`).

    Made for a few large arrays (about 150 MB for the infusions of a million
    patients). Pickled the usual way and sent through a pipe they would be
    copied several times; here they are written once, as they are (pickle
    protocol 5, buffers out of band), to a file in memory (/dev/shm) when the
    system has one.
    """
    buffers = []
    head = pickle.dumps(obj, protocol=5, buffer_callback=buffers.append)
    shm = Path("/dev/shm")
    handle, name = tempfile.mkstemp(prefix="ketanb-", suffix=".pickle",
                                    dir=shm if shm.is_dir() and os.access(shm, os.W_OK) else None)
    with os.fdopen(handle, "wb") as file:
        for part in [memoryview(head), *(buffer.raw() for buffer in buffers)]:
            file.write(len(part).to_bytes(8, "little"))
            file.write(part)
    return name


def take_over(name: str | None):
    """The object :func:`hand_over` left in file ``name``, which is deleted; None for None."""
    if name is None:
        return None
    try:
        with open(name, "rb") as file:
            data = bytearray(os.fstat(file.fileno()).st_size)   # writable: arrays made on it are too
            file.readinto(data)
    finally:
        os.unlink(name)
    view, parts, at = memoryview(data), [], 0
    while at < len(data):
        size = int.from_bytes(view[at:at + 8], "little")
        parts.append(view[at + 8:at + 8 + size])
        at += 8 + size
    return pickle.loads(parts[0], buffers=parts[1:])
