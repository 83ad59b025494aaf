"""What may be published: the one home of the small-group rules of the data contract (section 5).

A statistic of fewer than ``min_group_size`` patients is never published, and
it must not be recoverable by subtraction either ("No subtraction either"):
when a whole (all analysed patients, all treated) is split into parts (groups,
``unclassified``, included and excluded), publishing the whole's statistic
beside those of all parts but a small one gives the small one by subtraction.
:func:`disclose` says which parts, and whether the whole, may be shown; every
table and figure that shows a whole beside its parts calls it.

Counts of patients per part (``n``) may always be shown; a count of an
attribute inside a part (a diagnosis, a sex, a favorable outcome, an event) is
a statistic. :func:`pool_small_groups` decides which values of a grouping column
are groups of their own and whether the rest pooled make a group ``other``;
:func:`pool_rare_text` keeps free text held by few patients out of the outputs,
and :func:`plain_warnings` keeps the machine's paths out of the warnings printed
in the reports.
"""
from __future__ import annotations

import dataclasses
import os
import re
import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from .input.contract import OTHER_TEXT    # what a free-text value held by too few patients is printed as

if TYPE_CHECKING:       # pandas is named in annotations only: reading a site's results.json (sites) needs none
    import pandas as pd

__all__ = ["Disclosure", "disclose", "few_excluded", "pool_small_groups", "pool_rare_text", "plain_warnings"]


@dataclasses.dataclass(frozen=True)
class Disclosure:
    """The outcome of :func:`disclose`.

    Attributes
    ----------
    parts : tuple of str
        The parts whose statistics may be shown, in the order given.
    whole : bool
        Whether the whole's statistic may be shown.
    withheld : tuple of str
        The parts whose statistics are withheld (small ones, and those withheld
        with them so that nothing is recoverable by subtraction).
    """

    parts: tuple[str, ...]
    whole: bool
    withheld: tuple[str, ...]

    def shows(self, part: str) -> bool:
        """Whether the statistics of ``part`` may be shown."""
        return part in self.parts


def disclose(sizes: Mapping[str, int], min_group_size: int, *, keep_whole: bool = True,
             withheld=()) -> Disclosure:
    """Which parts of a partition, and whether the whole, may have their statistics shown.

    Parameters
    ----------
    sizes : mapping of str to int
        Each part of the whole and the number of patients that contribute a
        value to the statistic (a part of 5 with 4 follow-up NRS values counts
        4 for the reduction in pain). The whole is the sum of the parts.
    min_group_size : int
        The smallest number of patients a statistic may rest on.
    keep_whole : bool
        When subtraction would give a small part away: True withholds further
        parts (complementary suppression, the main result stays), False
        withholds the whole (the parts stay).
    withheld : iterable of str
        Parts withheld whatever their size (for example a column already
        withheld for the table as a whole).

    Returns
    -------
    Disclosure

    Notes
    -----
    With ``m = min_group_size``: a part of fewer than ``m`` patients is withheld;
    so is the whole when it holds fewer than ``m`` (a population that small gets
    counts only, and then no part is shown either). The whole shown beside the
    shown parts gives, by subtraction, the patients of the withheld parts taken
    together; they must number 0 or at least ``m``. When they number 1 to
    ``m - 1``, either the whole is withheld (``keep_whole=False``) or the
    smallest shown part is withheld too (ties: the last in order), and again,
    until the withheld parts hold at least ``m`` or no part is shown. Two
    shown parts never differ by a withheld part alone, since every shown part
    holds at least ``m``.

    Examples
    --------
    >>> disclose({"neuropathic": 20, "nociceptive": 11, "nociplastic": 12, "unclassified": 2}, 5)
    Disclosure(parts=('neuropathic', 'nociplastic'), whole=True, withheld=('nociceptive', 'unclassified'))
    >>> disclose({"included": 45, "excluded": 1}, 5, keep_whole=False).whole
    False
    """
    sizes = {str(part): int(n) for part, n in sizes.items()}
    forced = {str(part) for part in withheld}
    if sum(sizes.values()) < min_group_size:                 # a population this small: counts only
        return Disclosure((), False, tuple(sizes))
    shown = [p for p, n in sizes.items() if n >= min_group_size and p not in forced]
    hidden = sum(n for p, n in sizes.items() if p not in shown)
    whole = True
    if 0 < hidden < min_group_size:
        if keep_whole:
            while shown and hidden < min_group_size:
                smallest = min(reversed(shown), key=lambda p: sizes[p])   # ties: the last in order
                shown.remove(smallest)
                hidden += sizes[smallest]
        else:
            whole = False
    return Disclosure(tuple(shown), whole, tuple(p for p in sizes if p not in shown))


def few_excluded(included: int, treated: int, min_group_size: int) -> bool:
    """Whether 1 to ``min_group_size - 1`` treated patients were excluded.

    Then nothing of all treated patients (their outcome, their side effects) may be shown beside the
    included patients' own: the difference would be the excluded patients' values (the "included vs
    excluded beside all treated" case of contract section 5). Counts of patients stay.

    >>> few_excluded(45, 46, 5), few_excluded(45, 74, 5), few_excluded(45, 45, 5)
    (True, False, False)
    """
    return 0 < treated - included < min_group_size


def pool_small_groups(sizes: Mapping[str, int], min_group_size: int) -> tuple[list[str], list[str], bool]:
    """The small-group rule for the values of a grouping column (contract section 5: rare values pooled).

    Parameters
    ----------
    sizes : mapping of str to int
        Each value of the column, in display order, and the number of
        patients counted with it (0 for a value that only patients outside
        the count hold).
    min_group_size : int

    Returns
    -------
    kept : list of str
        The values that are groups of their own, in the order given: held by
        at least ``min_group_size`` patients and not written ``other`` (any case).
    pooled : list of str
        The values held by 1 to ``min_group_size - 1`` patients, whatever they
        are called: they go to ``other``, or are unclassified when ``other`` is
        False (what :func:`ketanb.subgroups.pooled_values` counts).
    other : bool
        Whether ``other`` is a group: the values that are not kept hold at
        least ``min_group_size`` patients together; if not, their patients are
        unclassified.

    Examples
    --------
    >>> pool_small_groups({"neuropathic": 20, "nociceptive": 3, "nociplastic": 2, "Other": 1}, 5)
    (['neuropathic'], ['nociceptive', 'nociplastic', 'Other'], True)
    >>> pool_small_groups({"neuropathic": 20, "nociceptive": 3}, 5)
    (['neuropathic'], ['nociceptive'], False)
    """
    into_other = [v for v, n in sizes.items() if n < min_group_size or v.lower() == OTHER_TEXT]
    kept = [v for v in sizes if v not in into_other]
    pooled = [v for v in into_other if 0 < sizes[v] < min_group_size]
    return kept, pooled, sum(sizes[v] for v in into_other) >= min_group_size


def pool_rare_text(values: pd.Series, min_group_size: int, *, other: str = OTHER_TEXT) -> pd.Series:
    """Free text held by fewer than ``min_group_size`` rows replaced by ``other``; missing stays missing.

    Parameters
    ----------
    values : pandas.Series
        One value per patient (a diagnosis), or per patient and value
        (count a patient once: pass distinct rows).
    min_group_size : int
    other : str
        The text printed instead (a value written so joins it).

    Returns
    -------
    pandas.Series
        A new series of text (object dtype), same index; the input is not modified.
    """
    text = values.astype(object).where(values.notna(), None)
    counts = text.dropna().astype(str).value_counts()
    rare = {v for v, n in counts.items() if n < min_group_size}
    return text.map(lambda v: v if v is None or str(v) not in rare else other)


_ABSOLUTE = re.compile(r"(?<![\w.~])(?:[A-Za-z]:)?[\\/](?:[^\s:'\"\\/]+[\\/])+")   # an absolute folder path


def _without_paths(text: str) -> str:
    """``text`` with every absolute folder path dropped: ``/home/x/ketanb/plots.py`` gives ``plots.py``."""
    return _ABSOLUTE.sub("", text)


def _format_warning(message, category, filename, lineno, line=None) -> str:
    return f"{Path(os.fspath(filename)).name}:{lineno}: {category.__name__}: {_without_paths(str(message))}\n"


def plain_warnings() -> None:
    """Print warnings with the file's name only, no folder and no source line (the stage notebooks call it).

    A warning printed in an executed notebook becomes part of a published report;
    Python names the full path of the file that warned, which tells a reader
    where the project lives on the clinic's machine.
    """
    warnings.formatwarning = _format_warning
