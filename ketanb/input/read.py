"""Reading an extract: a folder of three CSV files or one .xlsx workbook, every cell as text.

Cells are kept exactly as the clinic wrote them, so that validation can quote a
bad value back. CSV files are read by pandas with the pyarrow engine (Arrow
strings). Encodings: UTF-8 with or without a byte-order mark, and UTF-16 with
a byte-order mark (what Excel's "Unicode Text" writes). Separators: comma,
semicolon (then numbers use a decimal comma, as Excel writes them in Belgium)
or tab, told apart on the header row. A header row of more than MAX_COLUMNS
columns or with a name longer than MAX_NAME_CHARS, and a cell too long for
Python's csv module, are problems named by their row, not tracebacks. In a
workbook, a formula without a saved result is a problem naming its cell: it
would otherwise be read as an empty cell.
"""
from __future__ import annotations

import codecs
import csv
import datetime as dt
import io
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as arrow

from ..errors import InputError, Problem
from ..paths import resolve, shown_path
from .contract import MAX_CELL_CHARS, MAX_COLUMNS, MAX_NAME_CHARS, TABLE_FILES, composed_name

__all__ = ["RawTable", "RawExtract", "read_extract", "read_csv_table", "give_back_freed_memory", "SYNTHETIC_MARKER"]

#: A folder holding this file (or a workbook with a sheet of this name without
#: ``.json``) was made by :mod:`ketanb.synthetic`.
SYNTHETIC_MARKER = "synthetic.json"

# Arrow takes its memory from the C library's allocator, as numpy and pandas do, instead of its own
# default (mimalloc). mimalloc keeps what Arrow frees and gives pages back and asks for them again
# later; on a machine that hands memory out slowly (this one), a million patients' analysis took 15 s
# with it and 6 s without, and peaked 100 MiB higher (make bench, measured in turns).
arrow.set_memory_pool(arrow.system_memory_pool())


def give_back_freed_memory() -> None:
    """Return to the system the memory freed so far (pyarrow's ``release_unused``: glibc's ``malloc_trim``).

    The C library's allocator keeps freed memory for later, and what the checks free lies scattered
    among what the typed tables keep, so it would stay taken to the end of the run: at a million
    patients, the checks' own columns and the text of the dates and numbers once parsed, about 280 MiB;
    given back, the run's peak went from 1.11 to 1.02 GiB (``make bench``). Called twice a run: before
    the rules across tables, and once the text read is dropped (:func:`ketanb.cleaning.load`); 0.03 s
    each at a million patients.
    """
    arrow.default_memory_pool().release_unused()


SEPARATORS = {",": "comma", ";": "semicolon", "\t": "tab"}


@dataclass
class RawTable:
    """One input table with every cell as text, as written (empty cell = ``""``).

    Attributes
    ----------
    file : str
        Name to quote in messages, e.g. ``"patients.csv"`` or ``"zottegem.xlsx, sheet patients"``: the
        user's own file, not the link to it in a build folder.
    frame : pandas.DataFrame
        Columns named as in the header (trimmed, lower case, composed: ``contract.NORMAL_FORM``), cells as text.
        Row ``i`` of the frame is spreadsheet row ``i + 2``.
    decimal_comma : bool
        Numbers may use a decimal comma (semicolon- or tab-separated file).
    header : list of str
        The column names as written in the file.
    separator : str
        ``"comma"``, ``"semicolon"``, ``"tab"`` (``""`` for a workbook sheet).
    """

    file: str
    frame: pd.DataFrame
    decimal_comma: bool = False
    header: list[str] = field(default_factory=list)
    separator: str = ""


@dataclass
class RawExtract:
    """The tables of an extract, as text, with where they came from.

    ``problems`` lists the files or sheets that could not be read (only with
    ``read_extract(..., keep_going=True)``); :func:`ketanb.input.validate.validate`
    reports them with the problems of the tables that were read.
    """

    source: str
    tables: dict[str, RawTable]
    synthetic: bool = False
    problems: list[Problem] = field(default_factory=list)


def _utf8_source(path: Path, problems: list[Problem]) -> Path | bytes | None:
    """What pandas reads: the file itself if it is UTF-8 (pyarrow skips a byte-order mark), the text
    re-encoded as UTF-8 if it is UTF-16 with a byte-order mark; None (the reason in ``problems``) otherwise.

    Whether the file is UTF-8 is checked while it is read (:func:`read_csv_table`).
    """
    with path.open("rb") as file:
        start = file.read(1000)
    if start.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return path.read_bytes().decode("utf-16").encode("utf-8")        # Excel's "Unicode Text"
    if start.count(b"\0") * 4 >= len(start) > 0:            # text holds no NUL bytes; UTF-16 is half NUL bytes
        problems.append(Problem(path.name, 1, None, None, "a text file in UTF-8; this one is UTF-16 without a "
                                "byte-order mark: save it again as 'CSV UTF-8 (comma delimited)'"))
        return None
    return path


def _not_utf8(data: bytes, name: str) -> Problem | None:
    """The problem with a file that is not UTF-8, naming the line and the first bad byte; None if it is UTF-8."""
    try:
        data.decode("utf-8")
        return None
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        return Problem(name, line, None, data[exc.start: exc.start + 1].hex(" "),
                       "the file is not UTF-8 (it looks like Windows-1252 / Latin-1, as older Excel "
                       "versions save 'CSV'); save it again as 'CSV UTF-8 (comma delimited)'")


def _parse_csv(name: str, source: Path | bytes) -> RawTable | Problem:
    """A UTF-8 CSV file (a path, or the file's bytes) as a RawTable, or what stops it being read.

    Raises UnicodeDecodeError if the header row is not UTF-8; pyarrow refuses any other cell that is not.
    """
    with _open(source) as file:
        first_line = file.readline().decode("utf-8-sig").rstrip("\r\n")     # -sig: without a byte-order mark
        header_only = not file.read(1)
    if not first_line.strip():
        return Problem(name, 1, None, None, "a header row with the column names")
    if "\r" in first_line:                                # lines end in CR alone: read as one line
        return Problem(name, 1, None, None, "lines that end as on Windows or Linux; this file ends them as old "
                       "Macs did: save it again as 'CSV UTF-8 (comma delimited)'")
    sep = max(SEPARATORS, key=first_line.count)           # ties: comma, the first listed
    try:
        header = next(csv.reader([first_line], delimiter=sep))
        long_name = max(map(len, header)) > MAX_NAME_CHARS
    except csv.Error:                                      # a name longer than the csv module's limit
        header, long_name = [], True
    if long_name or len(header) > MAX_COLUMNS:
        what = (f"column names of at most {MAX_NAME_CHARS:,} characters (this header row has a longer one; a "
                "quote that is never closed makes the rest of the line one name)" if long_name else
                f"at most {MAX_COLUMNS:,} columns (this header row has {len(header):,})")
        return Problem(name, 1, None, None, f"{what}: keep the columns of the contract and the few more the "
                       "analysis needs, each named in a few words")
    if header_only:                                        # pyarrow needs a line end after the header
        frame = pd.DataFrame({i: pd.Series(dtype="str") for i in range(len(header))})
    else:
        try:
            # skip_blank_lines=False: an empty line is a row of empty cells, so rows keep the numbers a
            # spreadsheet shows them with
            frame = pd.read_csv(source if isinstance(source, Path) else io.BytesIO(source), sep=sep,
                                engine="pyarrow", dtype="str", keep_default_na=False, na_values=[],
                                skip_blank_lines=False)
        except (pd.errors.ParserError, ValueError) as exc:
            return _ragged_row(name, source, sep, len(header)) or Problem(
                name, None, None, None, f"a well-formed {SEPARATORS[sep]}-separated file ({exc})")
    frame.columns = [composed_name(c.strip().lower()) for c in header]
    return RawTable(name, _without_empty_rows_at_end(frame), decimal_comma=sep != ",", header=header,
                    separator=SEPARATORS[sep])


def _open(source: Path | bytes):
    return source.open("rb") if isinstance(source, Path) else io.BytesIO(source)


def _ragged_row(name: str, source: Path | bytes, sep: str, width: int) -> Problem | None:
    """The first row with more or fewer cells than the header has, as a problem; None if every row fits."""
    number = 0
    with _open(source) as file:
        rows = csv.reader(io.TextIOWrapper(file, encoding="utf-8-sig", newline=""), delimiter=sep)
        try:
            for number, cells in enumerate(rows, start=1):
                if cells and len(cells) != width:
                    return Problem(name, number, None, None, f"{width} cells, as the header row has, not "
                                   f"{len(cells)}: a {SEPARATORS[sep]} inside a value needs quotes around the "
                                   "value, and a quote its closing quote")
        except csv.Error:                                 # a cell longer than the csv module's limit (131,072)
            return Problem(name, number + 1, None, None, f"cells of at most {MAX_CELL_CHARS:,} characters; this row "
                           "holds a longer one (a quote that is never closed makes the rest of the file one "
                           "cell: close it)")
    return None


def _without_empty_rows_at_end(frame: pd.DataFrame) -> pd.DataFrame:
    """The table without the empty rows a spreadsheet can leave at its end (an empty row between
    others stays: it keeps the row numbers of the rows below)."""
    if len(frame) == 0 or frame.iloc[-1].ne("").any():   # the usual case: the last row has a value
        return frame
    filled = np.flatnonzero(frame.ne("").to_numpy().any(axis=1))
    return frame.iloc[: filled[-1] + 1 if len(filled) else 0]


def read_csv_table(path: Path, problems: list[Problem]) -> RawTable | None:
    """One CSV file as a RawTable; None (and the reason appended to ``problems``) if it cannot be read.

    pyarrow reads the file from its path (faster than from bytes in memory), except UTF-16, which is
    re-encoded first.
    """
    source = _utf8_source(path, problems)
    if source is None:
        return None
    try:
        table = _parse_csv(path.name, source)
    except UnicodeDecodeError:
        table = None
    if isinstance(table, RawTable):
        return table                        # read, so UTF-8: pyarrow checks every cell (the header was decoded)
    # a file that is not UTF-8 is reported as such, whatever else is wrong with it. Python's decoder finds
    # the first bad byte; it runs only now because on every file it took a fifth of the reading time.
    data = source if isinstance(source, bytes) else path.read_bytes()
    problems.append(_not_utf8(data, path.name) or table)
    return None


def _excel_cell_text(value) -> str:
    """A workbook cell as the text a CSV export would hold (real dates as YYYY-MM-DD)."""
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time(0) else value.isoformat(" ")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float):
        return repr(int(value)) if value.is_integer() else repr(value)
    return str(value)


def _formulas_without_values(label: str, values: list[list[str]], formulas, header: list[str]) -> list[Problem]:
    """The cells that are empty in ``values`` (the saved values) but hold a formula in ``formulas`` (the same
    sheet's rows read without values): a workbook written by a program, not saved by a spreadsheet
    program, has no result for them, and they would be read as empty cells."""
    from openpyxl.utils import get_column_letter

    found = []
    for number, (row, written) in enumerate(zip(values, formulas), start=1):
        for i, (value, formula) in enumerate(zip(row, written)):
            if value == "" and isinstance(formula, str) and formula.startswith("="):
                column = header[i].strip().lower() if i < len(header) and header[i].strip() else None
                found.append(Problem(label, number, column, formula, f"a value, not a formula without a saved "
                                     f"result (cell {get_column_letter(i + 1)}{number}), which would be read as an "
                                     "empty cell: open the workbook in Excel or LibreOffice and save it, so that "
                                     "every formula's result is stored, or paste the values over the formulas"))
    return found


def _read_workbook(path: Path, problems: list[Problem], name: str) -> tuple[dict[str, RawTable], bool]:
    """The three sheets of a workbook, by the values saved with it. A formula without a saved value is a
    problem (:func:`_formulas_without_values`): the workbook is read a second time for its formulas.

    ``name`` is the workbook's name in messages (``zottegem.xlsx, sheet patients``): the user's own file
    name, also when ``path`` is the link to it in a build folder (``extract.xlsx``).
    """
    import openpyxl  # only needed for workbooks

    try:
        book = openpyxl.load_workbook(path, read_only=True, data_only=True)
        written = openpyxl.load_workbook(path, read_only=True, data_only=False)
    except Exception as exc:  # noqa: BLE001 - any unreadable workbook is the same problem to a user
        problems.append(Problem(name, None, None, None, f"a readable .xlsx workbook ({exc})"))
        return {}, False
    tables: dict[str, RawTable] = {}
    sheets = {name.strip().lower(): name for name in book.sheetnames}
    for table in TABLE_FILES:
        if table not in sheets:
            problems.append(Problem(name, None, None, None, f"a sheet named {table!r} (the workbook "
                                    f"has: {', '.join(book.sheetnames)})"))
            continue
        rows = [[_excel_cell_text(v) for v in row] for row in book[sheets[table]].iter_rows(values_only=True)]
        label = f"{name}, sheet {table}"
        if not rows or not any(rows[0]):
            problems.append(Problem(label, 1, None, None, "a header row with the column names"))
            continue
        if unsaved := _formulas_without_values(label, rows, written[sheets[table]].iter_rows(values_only=True),
                                               rows[0]):
            problems.extend(unsaved)
            continue
        # up to the last column with a name or a value, so that a value without a name is seen
        width = max(max((i + 1 for i, v in enumerate(row) if v), default=0) for row in rows)
        header = (rows[0] + [""] * width)[:width]
        body = [(row + [""] * width)[:width] for row in rows[1:]]
        frame = pd.DataFrame(body, columns=range(width), dtype="str")
        frame.columns = [composed_name(c.strip().lower()) for c in header]
        tables[table] = RawTable(label, _without_empty_rows_at_end(frame), header=header)
    synthetic = SYNTHETIC_MARKER.removesuffix(".json") in sheets
    book.close()
    written.close()
    return tables, synthetic


def read_extract(path: str | os.PathLike, *, keep_going: bool = False) -> RawExtract:
    """Read an extract: a folder of three CSV files or one ``.xlsx`` workbook.

    Parameters
    ----------
    path : path-like
        Folder holding ``patients.csv``, ``infusions.csv`` and
        ``adverse_events.csv``, or a workbook with sheets of those names.
        Relative paths are taken from the project root.
    keep_going : bool
        When some file or sheet cannot be read, return the others, with what is wrong in
        ``problems``, instead of raising, so that validation can list every problem at once
        (:func:`ketanb.cleaning.load` does).

    Returns
    -------
    RawExtract
        Every cell as text, as written.

    Raises
    ------
    InputError
        A missing file or sheet, an encoding that is not UTF-8 or UTF-16, an unreadable file
        (with ``keep_going``, only when no table at all could be read).
    """
    where = resolve(path)
    shown = shown_path(path)
    problems: list[Problem] = []
    tables: dict[str, RawTable] = {}
    synthetic = False
    if where.is_dir():
        for table, filename in TABLE_FILES.items():
            if not (where / filename).is_file():
                problems.append(Problem(filename, None, None, None, f"the file {filename} in {shown} (it is missing)"))
            elif (raw := read_csv_table(where / filename, problems)) is not None:
                tables[table] = raw
        synthetic = (where / SYNTHETIC_MARKER).is_file()
    elif where.is_file() and where.suffix.lower() == ".xlsx":
        tables, synthetic = _read_workbook(where, problems, Path(shown).name)   # a link: its target's name
    elif where.exists():
        problems.append(Problem(shown, None, None, None, "a folder of CSV files or an .xlsx workbook"))
    else:
        problems.append(Problem(shown, None, None, None, "an existing folder or .xlsx workbook"))
    if problems and not (keep_going and tables):
        raise InputError(problems, source=shown)
    return RawExtract(shown, tables, synthetic, problems)

