"""Exceptions of ketanb.

Every error the package raises on purpose derives from :class:`KetanbError`.
Problems with an input extract are collected as :class:`Problem` records and
raised together as one :class:`InputError`, so that a clinic sees every problem
of its extract at once, each with file, row, column, value and what was expected.
"""
from __future__ import annotations

from dataclasses import dataclass

__all__ = ["KetanbError", "InputError", "ParameterError", "Problem"]


class KetanbError(Exception):
    """Base class of every error raised by ketanb on purpose."""


@dataclass(frozen=True)
class Problem:
    """One thing wrong with an extract.

    Attributes
    ----------
    file : str
        File (or workbook sheet) name, e.g. ``"patients.csv"``.
    row : int or None
        Row number as the user sees it in a spreadsheet: the header is row 1,
        the first data row is row 2. ``None`` for a problem of the whole file.
    column : str or None
        Column name, ``None`` for a problem of a whole row or file.
    value : str or None
        The offending value as written in the file (a long one is shortened in the message).
    expected : str
        What the contract allows, in words.
    """

    #: A value is quoted up to this many characters, then its length is given.
    shown_chars = 200

    file: str
    row: int | None
    column: str | None
    value: str | None
    expected: str

    def __str__(self) -> str:
        where = [self.file]
        if self.row is not None:
            where.append(f"row {self.row}")
        if self.column is not None:
            where.append(f"column {self.column}")
        text = ", ".join(where)
        if self.value is not None and len(self.value) > self.shown_chars:
            text += f": value {self.value[: self.shown_chars]!r}... ({len(self.value):,} characters)"
        elif self.value is not None:
            text += f": value {self.value!r}"
        return f"{text}: {self.expected}"


class InputError(KetanbError):
    """An extract does not follow the data contract.

    Parameters
    ----------
    problems : list of Problem
        Every problem found. The message lists the first ``max_listed``,
        then every problem without a row (a whole file, or a line counting
        the further rows of a rule), then how many more there are.
    source : str
        The extract (folder or workbook) the problems were found in.
    """

    max_listed = 200

    def __init__(self, problems: list[Problem], source: str = "the extract"):
        self.problems = list(problems)
        self.source = source
        super().__init__(self._message())

    def _message(self) -> str:
        n = len(self.problems)
        head = (f"The extract {self.source} does not follow the data contract "
                f"(docs/data-contract.md): {n} problem{'s' if n != 1 else ''}. "
                "Nothing was analysed and no output was changed.")
        shown = self.problems[: self.max_listed] + [p for p in self.problems[self.max_listed:] if p.row is None]
        lines = [head] + [f"  - {p}" for p in shown]
        if n > len(shown):
            lines.append(f"  ... and {n - len(shown)} more problems of the same kinds")
        return "\n".join(lines)


class ParameterError(KetanbError):
    """A parameter file or value is not one the analysis understands."""
