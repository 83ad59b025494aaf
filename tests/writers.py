"""Writers of extracts in the forms clinics send (European CSV, Excel workbooks), for the tests only.

The synthetic extract of the project (:func:`ketanb.synthetic.write_extract`) is plain CSV; these
write the same frames as a Dutch or French Excel saves them, to test that the reader takes them.
"""
from __future__ import annotations

import os
from pathlib import Path

import pandas as pd

from ketanb.input.contract import TABLES
from ketanb.input.read import SYNTHETIC_MARKER
from ketanb.paths import resolve
from ketanb.synthetic import NOTICE


#: Numeric columns of the contract (written with a decimal comma in the European CSV form).
NUMERIC_COLUMNS = tuple(spec.name for specs in TABLES.values() for spec in specs if spec.kind in ("integer", "number"))


def write_european_csv(frames: dict[str, pd.DataFrame], folder: str | os.PathLike, *,
                       bom: bool = True) -> Path:
    """Write an extract as Excel does in Belgian and other European locales.

    Semicolon-separated, decimal commas (``7,5``), UTF-8 with a byte-order
    mark: the form a clinic gets from "Save as CSV UTF-8" on a Dutch or French
    Windows. No synthetic marker is written, so it reads like a clinic's files.
    """
    target = resolve(folder)
    for name, frame in frames.items():
        frame = frame.copy()
        for column in NUMERIC_COLUMNS:
            if column in frame:
                frame[column] = frame[column].str.replace(".", ",", regex=False)
        text = frame.to_csv(index=False, sep=";", lineterminator="\r\n")
        target.mkdir(parents=True, exist_ok=True)
        (target / f"{name}.csv").write_bytes((b"\xef\xbb\xbf" if bom else b"") + text.encode("utf-8"))
    return target


def write_workbook(frames: dict[str, pd.DataFrame], path: str | os.PathLike, *, synthetic: bool = True,
                   typed: bool = True) -> Path:
    """Write an extract as one .xlsx workbook with a sheet per table.

    With ``typed`` dates become real Excel dates and numbers real numbers, as
    a clinic's spreadsheet has them; otherwise every cell is text.
    """
    import openpyxl

    book = openpyxl.Workbook(write_only=True)
    for name, frame in frames.items():
        sheet = book.create_sheet(name)
        sheet.append(list(frame.columns))
        for row in frame.itertuples(index=False):
            cells = []
            for column, value in zip(frame.columns, row):
                if typed and value != "" and column == "date":
                    value = pd.Timestamp(value).to_pydatetime()
                elif typed and value != "" and column in NUMERIC_COLUMNS:
                    value = float(value) if "." in value else int(value)
                cells.append(None if value == "" else value)
            sheet.append(cells)
    if synthetic:
        book.create_sheet(SYNTHETIC_MARKER.removesuffix(".json")).append([NOTICE])
    target = resolve(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.tmp")
    book.save(tmp)
    os.replace(tmp, target)
    return target
