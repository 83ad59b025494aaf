"""Analysis parameters: defaults, loading from YAML, checking.

The defaults are those of the data contract, section 2; ``params.yaml`` at the
project root repeats them for people to copy (a test checks the two agree).
"""
from __future__ import annotations

import datetime as dt
import math
import os
from dataclasses import asdict, dataclass, fields, replace

import yaml

from .errors import ParameterError
from .input.contract import DATE_FORMATS, MAX_NAME_LENGTH, OTHER_TEXT, TABLES, composed_name, prints, visible
from .paths import resolve

__all__ = ["Params", "Study", "DEFAULTS", "load_params", "MISSING_FOLLOWUP_MODES", "PUBLISHED_KEYS", "as_written",
           "band_labels"]

MISSING_FOLLOWUP_MODES = ("nonresponder", "exclude", "favorable")

#: What a study's ``published:`` block may hold, each with the kind of value it takes: the published counts
#: (patients treated, included and analysed, favorable outcomes among ``n``), the subgroup test's verdict, the
#: patients with a serious complication, and the parameters of the published analysis (a run with other values
#: is not compared on the rows they change).
PUBLISHED_KEYS = {"treated": "count", "included": "count", "favorable": "count", "n": "count",
                  "subgroup_difference": ("significant", "not significant"), "serious_complications": "count",
                  "responder_threshold": "percent", "missing_followup": MISSING_FOLLOWUP_MODES, "group_by": "name"}


@dataclass(frozen=True)
class Study:
    """The study a run belongs to: descriptive, it changes no result (the ``study:`` block of a parameter file).

    Attributes
    ----------
    title : str
        What the reports and the index are headed with.
    centre : str
        Where the patients were treated (empty: not said).
    period : str
        When, as readers should see it (``2015-2019``); empty: the years of ``study_start`` and ``study_end``.
    authors : str
        Who did the study: authors or a team (empty: not said).
    publication : str
        Where it was published, if it was (``Acta Anaesthesiologica Belgica, May 2024``; empty: nowhere).
    published : dict or None
        The published values to compare this run with (keys of :data:`PUBLISHED_KEYS`); None: the run is
        compared with nothing and the index has no comparison table.
    """

    title: str = "Ketamine infusion therapy in chronic pain"
    centre: str = ""
    period: str = ""
    authors: str = ""
    publication: str = ""
    published: dict | None = None

    def to_dict(self) -> dict:
        """JSON-ready mapping (results.json, key ``study``); without ``published`` when none was given."""
        out = asdict(self)
        if self.published is None:
            del out["published"]
        return out


@dataclass(frozen=True)
class Params:
    """Every parameter of the analysis (data contract, section 2).

    Attributes
    ----------
    study_start, study_end : datetime.date
        The period in which a patient's first infusion must fall (inclusive).
    test_dose_mg : float
        Dose of the first (test) infusion.
    treatment_dose_mg : float
        Dose of every later infusion.
    responder_threshold : float
        Percent pain reduction from baseline that counts as a response.
    missing_followup : {"nonresponder", "exclude", "favorable"}
        How an included patient without a follow-up NRS is counted:
        unfavorable, left out of the denominator, or favorable unless they
        stopped for lack of effect (the best case).
    group_by : str
        The patients.csv column that defines the subgroups.
    confidence : float
        Level of every confidence interval, in (0, 1).
    group_edges : tuple of float, optional
        Cut points that turn a numeric ``group_by`` column into bands (not in
        the contract; ketanb's own). ``[40, 60]`` gives the groups ``<40``,
        ``40-<60`` and ``>=60``. Empty (the default): each value is a group.
    min_group_size : int
        Smallest group reported on its own (contract, section 5): smaller
        groups are pooled into ``other`` or counted unclassified; 1 switches
        pooling off.
    reference_group : str or None
        The group the others are compared with; None: the largest group.
    table1_p_values : bool
        Show p-values comparing the groups in Table 1 (default False, as
        STROBE's explanation of item 14a advises).
    i_know_this_is_not_patient_data : bool
        Lets ``min_group_size`` 1 run on an extract that is not the synthetic
        one (validation refuses it otherwise). Not written to results.json.
    study : Study
        The study the run belongs to (title, centre, period, authors, published values): descriptive, not a
        parameter of the analysis, so not in :meth:`to_dict` (results.json has it under its own key ``study``).
    date_format : {"iso", "dmy"}
        How the extract writes its dates (not in the contract; ketanb's own):
        ``iso`` (the default) YYYY-MM-DD only, ``dmy`` day/month/year as well
        (``4/01/2016``, ``04-01-2016``, ``04.01.2016``), as Excel writes dates in
        Belgium. How the extract is read, not a choice of the analysis: not
        written to results.json.
    """

    study_start: dt.date = dt.date(2015, 1, 1)
    study_end: dt.date = dt.date(2019, 12, 31)
    test_dose_mg: float = 75.0
    treatment_dose_mg: float = 150.0
    responder_threshold: float = 50.0
    missing_followup: str = "nonresponder"
    group_by: str = "pain_mechanism"
    confidence: float = 0.95
    group_edges: tuple[float, ...] = ()
    min_group_size: int = 5
    reference_group: str | None = None
    table1_p_values: bool = False
    i_know_this_is_not_patient_data: bool = False
    date_format: str = "iso"
    study: Study = Study()

    def to_dict(self) -> dict:
        """JSON-ready mapping (dates as ISO text, whole numbers as int), without
        ``i_know_this_is_not_patient_data``, which is a switch, ``date_format``, which says how the
        extract is read, and ``study``, which describes the study: none is a parameter of the analysis."""
        out = {}
        for key, value in asdict(self).items():
            if key in ("i_know_this_is_not_patient_data", "date_format", "study"):
                continue
            if isinstance(value, dt.date):
                value = value.isoformat()
            elif isinstance(value, float) and key != "confidence":
                value = as_written(value)
            elif isinstance(value, tuple):
                value = [as_written(v) for v in value]
            out[key] = value
        return out


def as_written(number: float) -> int | float:
    """A number as results.json writes a parameter: 50.0 as 50, 37.5 as it is."""
    return int(number) if float(number).is_integer() else float(number)


def band_labels(edges) -> list[str]:
    """Names of the bands cut by ``edges``: ``[40, 60]`` gives ``<40``, ``40-<60``, ``>=60``."""
    e = [f"{x:g}" for x in edges]
    return [f"<{e[0]}"] + [f"{a}-<{b}" for a, b in zip(e, e[1:])] + [f">={e[-1]}"]


def _check_reference(reference: str, group_by: str, edges: tuple) -> None:
    """Refuse a ``reference_group`` that ``group_by`` cannot give: neither one of the column's codes (the
    contract's) nor a band of ``group_edges``, nor ``other``. A free-text column's groups come from the data:
    the subgroups stage checks those."""
    codes = {s.name: s.codes for s in TABLES["patients"]}.get(group_by, ())
    names = band_labels(edges) if edges else list(codes)
    if names and reference.lower() not in {n.lower() for n in [*names, OTHER_TEXT]}:
        raise ParameterError(f"parameter reference_group: {reference!r} is not one of the groups {group_by} can "
                             f"give ({', '.join([*names, OTHER_TEXT])})")


def _as_date(key, value):
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value).strip())
    except ValueError:
        raise ParameterError(f"parameter {key}: {value!r} is not a date YYYY-MM-DD") from None


def _as_number(key, value, *, low=None, high=None, low_open=False, high_open=False):
    if isinstance(value, bool):
        raise ParameterError(f"parameter {key}: {value!r} is not a number")
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ParameterError(f"parameter {key}: {value!r} is not a number") from None
    if not math.isfinite(number):
        raise ParameterError(f"parameter {key}: {value!r} is not a finite number")
    too_low = low is not None and (number <= low if low_open else number < low)
    too_high = high is not None and (number >= high if high_open else number > high)
    if too_low or too_high:
        bounds = [f"{'above' if low_open else 'at least'} {low:g}" if low is not None else "",
                  f"{'below' if high_open else 'at most'} {high:g}" if high is not None else ""]
        raise ParameterError(f"parameter {key}: {value!r} must be {' and '.join(b for b in bounds if b)}")
    return number


def _check_study(study, start: dt.date, end: dt.date) -> Study:
    """The ``study:`` block as a :class:`Study`, every value checked; an empty period becomes the years."""
    if isinstance(study, Study):
        study = study.to_dict()
    if not isinstance(study, dict):
        raise ParameterError(f"parameter study: {study!r:.60} is not a block of 'key: value' lines "
                             "(title, centre, period, authors, publication, published)")
    known = [f.name for f in fields(Study)]
    unknown = sorted(map(str, set(study) - set(known)))
    if unknown:
        raise ParameterError(f"parameter study: unknown key(s) {', '.join(unknown)}; the keys are: {', '.join(known)}")
    values = {**asdict(Study()), **study}
    for key in known[:-1]:
        value = "" if values[key] is None else values[key]
        if not isinstance(value, (str, int)) or isinstance(value, bool):
            raise ParameterError(f"parameter study.{key}: {value!r:.60} is not text")
        values[key] = str(value).strip()
    if not values["title"]:
        raise ParameterError("parameter study.title: empty; give the study a title")
    if not values["period"]:
        values["period"] = f"{start.year}" if start.year == end.year else f"{start.year}-{end.year}"
    values["published"] = _check_published(values["published"])
    return Study(**values)


def _check_published(published) -> dict | None:
    """The ``published:`` block of the study, checked against :data:`PUBLISHED_KEYS` (None: none given)."""
    if published is None:
        return None
    if not isinstance(published, dict) or not published:
        raise ParameterError(f"parameter study.published: {published!r:.60} is not a block of 'key: value' lines "
                             f"({', '.join(PUBLISHED_KEYS)}); leave it out when nothing was published")
    unknown = sorted(map(str, set(published) - set(PUBLISHED_KEYS)))
    if unknown:
        raise ParameterError(f"parameter study.published: unknown key(s) {', '.join(unknown)}; the keys are: "
                             f"{', '.join(PUBLISHED_KEYS)}")
    out = {}
    for key, value in published.items():
        kind, name = PUBLISHED_KEYS[key], f"study.published.{key}"
        if kind == "count":
            number = _as_number(name, value, low=0)
            if not number.is_integer():
                raise ParameterError(f"parameter {name}: {value!r} is not a whole number")
            out[key] = int(number)
        elif kind == "percent":
            out[key] = as_written(_as_number(name, value, low=0, high=100))
        elif kind == "name":
            if not isinstance(value, str) or not value.strip():
                raise ParameterError(f"parameter {name}: {value!r:.60} is not a column name")
            out[key] = value.strip().lower()
        elif value not in kind:
            raise ParameterError(f"parameter {name}: {value!r:.60} is not one of {', '.join(kind)}")
        else:
            out[key] = value
    if "favorable" in out and "n" in out and out["favorable"] > out["n"]:
        raise ParameterError(f"parameter study.published: favorable {out['favorable']} is more than n {out['n']}")
    return out


def check_params(params: Params) -> Params:
    """Return ``params`` with every value converted and checked.

    Raises
    ------
    ParameterError
        Naming the parameter, the value and what is allowed.
    """
    p = replace(
        params,
        study_start=_as_date("study_start", params.study_start),
        study_end=_as_date("study_end", params.study_end),
        test_dose_mg=_as_number("test_dose_mg", params.test_dose_mg, low=0, low_open=True),
        treatment_dose_mg=_as_number("treatment_dose_mg", params.treatment_dose_mg, low=0, low_open=True),
        responder_threshold=_as_number("responder_threshold", params.responder_threshold, low=0, high=100),
        confidence=_as_number("confidence", params.confidence, low=0, high=1, low_open=True, high_open=True),
    )
    if p.study_end < p.study_start:
        raise ParameterError(f"parameter study_end: {p.study_end} is before study_start {p.study_start}")
    if p.missing_followup not in MISSING_FOLLOWUP_MODES:
        raise ParameterError(f"parameter missing_followup: {p.missing_followup!r} is not one of "
                             f"{', '.join(MISSING_FOLLOWUP_MODES)}")
    if not isinstance(p.group_by, str) or not p.group_by.strip():
        raise ParameterError(f"parameter group_by: {p.group_by!r} is not a column name")
    edges = p.group_edges if p.group_edges is not None else ()
    if isinstance(edges, (str, bytes)) or not hasattr(edges, "__iter__"):
        raise ParameterError(f"parameter group_edges: {edges!r} is not a list of numbers, e.g. [40, 60]")
    edges = tuple(_as_number("group_edges", e) for e in edges)
    if any(b <= a for a, b in zip(edges, edges[1:])):
        raise ParameterError(f"parameter group_edges: {list(edges)} must be increasing")
    size = _as_number("min_group_size", p.min_group_size, low=1)
    if not size.is_integer():
        raise ParameterError(f"parameter min_group_size: {p.min_group_size!r} is not a whole number")
    reference = p.reference_group
    if reference is not None and (not isinstance(reference, (str, int, float)) or not str(reference).strip()):
        raise ParameterError(f"parameter reference_group: {reference!r} is not a group name")
    for key in ("table1_p_values", "i_know_this_is_not_patient_data"):
        if not isinstance(getattr(p, key), bool):
            raise ParameterError(f"parameter {key}: {getattr(p, key)!r} is not true or false")
    date_format = p.date_format.strip().lower() if isinstance(p.date_format, str) else p.date_format
    if date_format not in DATE_FORMATS:
        raise ParameterError(f"parameter date_format: {p.date_format!r} is not one of {', '.join(DATE_FORMATS)} "
                             "(iso: dates written YYYY-MM-DD; dmy: day/month/year, such as 4/01/2016, as well)")
    group_by = composed_name(p.group_by.strip().lower())  # headers are matched ignoring case, composed
    if len(group_by) > MAX_NAME_LENGTH or not prints(group_by):
        raise ParameterError(f"parameter group_by: {visible(group_by)!r:.60} is not a column name of at most "
                             f"{MAX_NAME_LENGTH} characters that all print: it names the subgroups in every output, "
                             "and a pooling of clinics takes no other (rename the column)")
    if group_by == "patient_id":
        raise ParameterError("parameter group_by: patient_id would name every patient in the outputs (the "
                             "contract allows no patient_id in any output); choose a column that groups patients")
    numeric = {s.name for s in TABLES["patients"] if s.holds_numbers} | {"n_infusions"}
    if group_by in numeric and not edges:
        raise ParameterError(f"parameter group_by: {group_by!r} is a number; give group_edges (cut points, "
                             "e.g. [40, 60]) to make bands of it")
    if edges and group_by in {s.name for s in TABLES["patients"]} - numeric:
        raise ParameterError(f"parameter group_edges: {group_by!r} is not a number column, so it cannot be cut "
                             "into bands; leave group_edges empty")
    reference = None if reference is None else composed_name(str(reference).strip())
    if reference is not None:
        _check_reference(reference, group_by, edges)
    return replace(p, group_by=group_by, group_edges=edges, min_group_size=int(size), date_format=date_format,
                   reference_group=reference,
                   study=_check_study(p.study, p.study_start, p.study_end))


#: The parameters of the data contract, section 2, and a study described by nothing but its period.
DEFAULTS = check_params(Params())


#: A parameter file is a flat mapping: the mapping is level 1, its keys and values level 2, the numbers of a
#: group_edges list and the keys of the ``study:`` block level 3, the values of ``study: published:`` level 4,
#: and nothing is deeper.
MAX_DEPTH = 4
#: A parameter file holds a few lines: anything longer is not one.
MAX_BYTES = 100_000


class _Loader(yaml.SafeLoader):
    """YAML's safe loader for a flat parameter file: no anchors or aliases (``&a``, ``*a``: a few hundred bytes
    of them can expand to gigabytes), no key written twice, at most MAX_DEPTH levels of nesting (the loader
    builds nested values by recursion: 40,000 brackets ended in a RecursionError)."""

    def __init__(self, stream):
        super().__init__(stream)
        self._depth = 0

    def compose_node(self, parent, index):
        event = self.peek_event()
        if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None) is not None:
            raise ParameterError(f"line {event.start_mark.line + 1}: an anchor or alias ('&' or '*'); a "
                                 "parameter file writes every value out")
        self._depth += 1
        try:
            if self._depth > MAX_DEPTH:
                raise ParameterError(f"line {event.start_mark.line + 1}: values nested more than {MAX_DEPTH} deep; "
                                     "a parameter file is a list of 'parameter: value' lines")
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1

    def construct_mapping(self, node, deep=False):
        seen = {}
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=True)
            line = key_node.start_mark.line + 1
            try:
                if key in seen:
                    raise ParameterError(f"line {line}: {key!r} is given twice (first on line {seen[key]}); "
                                         "keep one")
                seen[key] = line
            except TypeError:                              # a list or mapping as a key
                raise ParameterError(f"line {line}: a key that is not a name") from None
        return super().construct_mapping(node, deep=deep)


def _read_yaml(path, file) -> object:
    """The content of a parameter file, or a ParameterError naming the file and what is wrong."""
    try:
        if file.stat().st_size > MAX_BYTES:
            raise ParameterError(f"it has {file.stat().st_size:,} bytes; a parameter file is a few lines")
        return yaml.load(file.read_text(encoding="utf-8"), Loader=_Loader)   # noqa: S506 - a safe loader
    except FileNotFoundError:
        raise ParameterError(f"parameter file {path} does not exist") from None
    except (IsADirectoryError, UnicodeDecodeError) as exc:
        raise ParameterError(f"parameter file {path} is not a text file in UTF-8 ({exc})") from None
    except ParameterError as exc:
        raise ParameterError(f"parameter file {path}, {exc}") from None
    except yaml.YAMLError as exc:
        raise ParameterError(f"parameter file {path} is not valid YAML: {exc}") from None


def load_params(path: str | os.PathLike | None = None, **overrides) -> Params:
    """Read parameters from a YAML mapping; keys left out keep their defaults.

    Parameters
    ----------
    path : path-like, optional
        A YAML file holding a mapping with keys named as in the contract.
        ``None`` or an empty string gives the defaults.
    **overrides
        Values that take precedence over the file (used by tests and the
        sensitivity analyses).

    Returns
    -------
    Params

    Raises
    ------
    ParameterError
        For an unreadable file, a key that is not a parameter (a typo is an
        error, not a warning) or a value out of range; for YAML a parameter
        file does not need, with its line: an anchor or alias, a key given
        twice, values nested more than MAX_DEPTH deep.
    """
    values: dict = {}
    if path:
        loaded = _read_yaml(path, resolve(path))
        if loaded is None:
            loaded = {}
        if not isinstance(loaded, dict):
            raise ParameterError(f"parameter file {path} must hold a mapping of parameter: value")
        values.update(loaded)
    values.update(overrides)
    values.setdefault("study", Study())                      # its period follows this file's dates
    known = {f.name for f in fields(Params)}
    unknown = sorted(set(values) - known, key=str)          # a key may be a number: 1: x
    if unknown:
        raise ParameterError(f"unknown parameter(s) {', '.join(map(str, unknown))} in "
                             f"{path or 'the call'}; the parameters are: {', '.join(sorted(known))}")
    return check_params(replace(DEFAULTS, **values))
