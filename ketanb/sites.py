"""A site's results.json, read and checked before pooling (:mod:`ketanb.pooling`).

Each clinic shares only its ``results.json`` (counts and parameters, nothing
patient-level). :func:`read_site` reads one and checks every field pooling uses
against the contract's types, :func:`check_agreement` that the sites analysed
the same way, :func:`read_site_list` reads a list of sites' files. A site is
named by the folder holding its file (:func:`site_name`). Relative paths are
taken from the project root. Every refusal is a :class:`PoolingError` naming
the files and what is wrong.
"""
from __future__ import annotations

import hashlib
import json
import math
import os
import unicodedata
from pathlib import Path

from . import RESULTS_FORMAT
from .disclosure import disclose
from .errors import KetanbError
from .input.contract import MAX_NAME_LENGTH, NORMAL_FORM, code_point, composed_name, prints, visible
from .params import MISSING_FOLLOWUP_MODES
from .paths import resolve

__all__ = ["PoolingError", "POOLED_FORMAT", "POOLED_KIND", "AGREEMENT_KEYS", "MERGED_GROUP", "SITE_MIN_GROUP_SIZE",
           "MAX_NAME_LENGTH", "MAX_COUNT", "MAX_LISTED", "site_name", "listed", "read_site", "check_agreement",
           "read_site_list"]

#: The format of pooled.json (its key ``ketanb_pooled``).
POOLED_FORMAT = 1
#: The ``kind`` of a pooled.json, so it cannot be mistaken for a site's results.json.
POOLED_KIND = "ketanb pooled analysis of several sites"
#: Parameters on which every site must agree before their counts can be pooled.
AGREEMENT_KEYS = ("responder_threshold", "missing_followup", "group_by")
#: The group into which a site merges values held by fewer than min_group_size patients (never pooled).
MERGED_GROUP = "other"

#: The smallest min_group_size a pooled site may have run with (contract section 5).
SITE_MIN_GROUP_SIZE = 5

#: The keys of a results.json that pooling reads, by section.
_NEEDED = {"outcome": ("n", "favorable"),
           "parameters": ("responder_threshold", "missing_followup", "group_by", "confidence", "min_group_size"),
           "subgroups": ("groups",)}


class PoolingError(KetanbError):
    """The site files cannot be pooled; the message names the files and what is wrong."""


def site_name(path: str | os.PathLike) -> str:
    """The name of a site: the folder holding its file (``"site-b"`` for ``site-b/results.json``), composed
    (``contract.NORMAL_FORM``: a folder unpacked from a Mac's archive may be named with accents apart)."""
    return composed_name(Path(os.path.abspath(resolve(path))).parent.name)


#: The largest count a site may give: more patients than any clinic treats (a count of 2**70 made the pooling
#: divide by zero, and 10**300 gave an interval of width 0).
MAX_COUNT = 10**9


def _is_count(value) -> bool:
    """A whole number from 0 to :data:`MAX_COUNT` (JSON true/false and 3.0 are not counts)."""
    return type(value) is int and 0 <= value <= MAX_COUNT


def _is_number(value) -> bool:
    """A JSON number (not true/false), finite: NaN and Infinity are not numbers here."""
    if isinstance(value, bool):
        return False
    return isinstance(value, int) or (isinstance(value, float) and math.isfinite(value))


#: A refusal lists at most this many problems (sites, pairs of copies), then counts the rest.
MAX_LISTED = 20


def listed(problems: list[str], sep: str) -> str:
    """The first :data:`MAX_LISTED` problems joined by ``sep``, then how many more there are."""
    more = len(problems) - MAX_LISTED
    return sep.join(problems[:MAX_LISTED] + ([f"... and {more} more of the same kind"] if more > 0 else []))


def _name_problem(value) -> str | None:
    """Why ``value`` cannot be a name (site, group, group_by), or None: a non-empty string of at most
    :data:`~ketanb.input.contract.MAX_NAME_LENGTH` characters that all print (:func:`~ketanb.input.contract.prints`,
    the rule validation applies to an extract's free text), without spaces around it (ketanb trims every value:
    ``"neuropathic "`` would be a second group that reads as ``neuropathic``), in Unicode's composed form (NFC), as
    validation reads free text (:func:`ketanb.input.validate.composed`)."""
    text = isinstance(value, str)
    if text and prints(value) and not unicodedata.is_normalized(NORMAL_FORM, value):
        apart = "".join(code_point(c) if unicodedata.combining(c) else c for c in value)   # the accents shown
        return (f"is {apart!r:.60}, not a name in Unicode's composed form (NFC), as ketanb writes every name: an "
                "accent written apart from its letter makes a second group that reads the same; the site runs the "
                "analysis again with this version of ketanb")
    if text and value and value.strip() == value and len(value) <= MAX_NAME_LENGTH and prints(value):
        return None
    return (f"is {visible(value) if text else value!r:.60}, not a name (text of 1 to {MAX_NAME_LENGTH} printable "
            "characters, without spaces around it)")


def _counts_problems(entry, key: str, withheld_ok: bool = False) -> list[str]:
    """Why ``entry`` is not ``{n, favorable}`` with counts 0 <= favorable <= n (favorable null allowed
    when ``withheld_ok``: a population the site withheld for min_group_size)."""
    if not isinstance(entry, dict):
        return [f"key {key} is a JSON {_json_type(entry)}, not an object {{\"n\": ..., \"favorable\": ...}}"]
    missing = [f"key {key} has no {name!r}" for name in ("n", "favorable") if name not in entry]
    if missing:
        return missing
    n, k = entry["n"], entry["favorable"]
    if not _is_count(n):
        return [f"key {key}.n is {n!r:.60}, not a whole number of patients (0 to {MAX_COUNT:,})"]
    if k is None and withheld_ok:
        return []
    if not (_is_count(k) and k <= n):
        return [f"key {key}.favorable is {k!r:.60}, not a whole number from 0 to n = {n}"]
    return []


def _parts_problems(outcome: dict, groups: dict) -> list[str]:
    """Why the groups cannot be parts of the site's analysed patients (``outcome``), or nothing: each group
    holds at most outcome.n patients and outcome.favorable favorable outcomes, and so do all together (the
    groups are patients of the outcome denominator, each in one group; unclassified ones in none).
    Only counts that passed :func:`_counts_problems` are given; a withheld favorable (None) is left out."""
    problems = []
    n, k = outcome["n"], outcome["favorable"]
    for name, entry in groups.items():
        if entry["n"] > n:
            problems.append(f"key subgroups.groups[{name!r}].n is {entry['n']}, more than the {n} patients the "
                            "site analysed (outcome.n): a group is a part of them")
        if k is not None and entry["favorable"] is not None and entry["favorable"] > k:
            problems.append(f"key subgroups.groups[{name!r}].favorable is {entry['favorable']}, more than the "
                            f"site's {k} favorable outcomes in all (outcome.favorable)")
    total = sum(entry["n"] for entry in groups.values())
    if len(groups) > 1 and total > n:
        problems.append(f"the groups of key subgroups.groups hold {total} patients together, more than the {n} "
                        "patients the site analysed (outcome.n): each patient is in one group at most")
    favorable = sum(entry["favorable"] or 0 for entry in groups.values())
    if len(groups) > 1 and k is not None and favorable > k:
        problems.append(f"the groups of key subgroups.groups hold {favorable} favorable outcomes together, more "
                        f"than the site's {k} (outcome.favorable)")
    return problems


def _object(pairs: list[tuple]) -> dict:
    """A JSON object as a dict, refusing a key written twice in it: Python keeps the last, a reader of the
    file may see the first (``"n": 45, ..., "n": 4``), so which one counts would be a guess."""
    seen = set()
    for key, _ in pairs:
        if key in seen:
            raise ValueError(f"key {key!r:.60} appears twice in one object, so which value counts is not clear")
        seen.add(key)
    return dict(pairs)


def _json_type(value) -> str:
    return {dict: "object", list: "array", str: "string", bool: "true/false", type(None): "null",
            int: "number", float: "number"}.get(type(value), type(value).__name__)


def _site_problems(data: dict) -> list[str]:
    """Every field pooling reads checked against the contract's types (the needed keys are present)."""
    outcome, params, subgroups = data["outcome"], data["parameters"], data["subgroups"]
    problems = []
    threshold = params["responder_threshold"]
    if not (_is_number(threshold) and 0 <= threshold <= 100):
        problems.append(f"key parameters.responder_threshold is {threshold!r:.60}, not a number from 0 to 100")
    mode = params["missing_followup"]
    if not (isinstance(mode, str) and mode in MISSING_FOLLOWUP_MODES):
        problems.append(f"key parameters.missing_followup is {mode!r:.60}, not one of "
                        + ", ".join(MISSING_FOLLOWUP_MODES))
    if problem := _name_problem(params["group_by"]):
        problems.append(f"key parameters.group_by {problem}")
    level = params["confidence"]
    if not (_is_number(level) and 0 < level < 1):
        problems.append(f"key parameters.confidence is {level!r:.60}, not a number between 0 and 1")
    size = params["min_group_size"]
    if not _is_count(size):
        problems.append(f"key parameters.min_group_size is {size!r:.60}, not a whole number")
    elif size < SITE_MIN_GROUP_SIZE:
        problems.append(f"key parameters.min_group_size is {size}: a site run with min_group_size below "
                        f"{SITE_MIN_GROUP_SIZE} is refused (its groups may point at single patients); "
                        f"the clinic runs the analysis again with min_group_size {SITE_MIN_GROUP_SIZE} or more")
    # the site's own small-group rule (ketanb.disclosure), checked: a whole this small has counts only
    small_ok = _is_count(size) and _is_count(outcome.get("n")) and not disclose({"outcome": outcome["n"]}, size).whole
    outcome_problems = _counts_problems(outcome, "outcome", withheld_ok=small_ok)
    problems += outcome_problems
    meta = data.get("data", {})
    if not isinstance(meta, dict):
        problems.append(f"key data is a JSON {_json_type(meta)}, not an object")
    elif not isinstance(meta.get("synthetic", False), bool):
        problems.append(f"key data.synthetic is {meta['synthetic']!r:.60}, not true or false")
    merged = subgroups.get("pooled_values", 0)
    if not _is_count(merged):
        problems.append(f"key subgroups.pooled_values is {merged!r:.60}, not a whole number (0 or more)")
    groups = subgroups["groups"]
    if not isinstance(groups, dict):
        problems.append(f"key subgroups.groups is a JSON {_json_type(groups)}, not an object "
                        "{group name: {\"n\": ..., \"favorable\": ...}}")
        groups = {}
    counted = {}                                         # the groups whose counts are counts
    for name, entry in groups.items():
        if problem := _name_problem(name):
            problems.append(f"a group name in key subgroups.groups {problem}")
            continue
        key = f"subgroups.groups[{name!r}]"
        found = _counts_problems(entry, key, withheld_ok=True)
        problems += found
        if not found:
            counted[name] = entry
        if not found and _is_count(size) and entry["n"] > 0 and not disclose({name: entry["n"]}, size).whole:
            problems.append(f"key {key}.n is {entry['n']}, below the site's min_group_size {size}: a group "
                            "this small is never reported on its own (contract section 5)")
    if not outcome_problems:
        problems += _parts_problems(outcome, counted)
    return problems


def read_site(path: str | os.PathLike) -> dict:
    """Read a site's ``results.json`` (only aggregates) and return what pooling needs.

    Every field read is checked against the contract's types: counts are whole
    numbers 0 <= favorable <= n, ``responder_threshold`` a number from 0 to
    100, ``missing_followup`` one of the contract's codes, ``confidence``
    between 0 and 1, ``min_group_size`` a whole number of at least
    :data:`SITE_MIN_GROUP_SIZE`, ``group_by`` and the group names text of at
    most :data:`MAX_NAME_LENGTH` printable characters, no group of fewer than
    min_group_size patients (``favorable`` may be null: a withheld count).

    Returns
    -------
    dict
        ``name``, ``sha256`` (of the file's content, read as JSON), ``n``,
        ``favorable`` (None when the site withheld it), the parameters
        ``responder_threshold``, ``missing_followup``, ``group_by``,
        ``confidence``, ``min_group_size``, then ``synthetic``, ``groups``
        ({group: {n, favorable}}, groups with n = 0 or a withheld favorable
        left out) and ``merged_group`` (``"other"`` when the site merged small
        values into that group, else ``None``).

    Raises
    ------
    PoolingError
        The file cannot be read, is not JSON, is not a results.json of ketanb
        in format :data:`RESULTS_FORMAT`, lacks a needed key or holds a value
        of the wrong type or range. The message names the file, the site and
        every key at fault.
    """
    shown = str(path)
    try:
        raw = resolve(path).read_bytes()
        data = json.loads(raw.decode("utf-8-sig"), object_pairs_hook=_object)
    except OSError as exc:
        raise PoolingError(f"{shown} cannot be read: {exc.strerror or exc}") from None
    except (ValueError, RecursionError) as exc:                 # not UTF-8, or not JSON
        raise PoolingError(f"{shown} is not a JSON file: {str(exc)[:200]}") from None
    name = site_name(path)
    if problem := _name_problem(name):
        raise PoolingError(f"{shown}: the site's folder name {problem}; rename the folder")
    head = f"{shown} (site {name!r}) is not a results.json of ketanb (format {RESULTS_FORMAT})"
    if not isinstance(data, dict):
        raise PoolingError(f"{head}: it holds a JSON {_json_type(data)}, not an object")
    if "ketanb_pooled" in data or data.get("kind") == POOLED_KIND:
        raise PoolingError(f"{head}: it is a pooled.json (the result of a pooling), "
                           "not a site's results.json")
    if "ketanb_results" not in data:
        raise PoolingError(f"{head}: it has no key 'ketanb_results'")
    version = data["ketanb_results"]
    if type(version) is not int or version != RESULTS_FORMAT:
        raise PoolingError(f"{head}: it is in format {version!r:.60} (key 'ketanb_results'); this version "
                           f"of ketanb pools format {RESULTS_FORMAT} only")
    missing = []
    for section, keys in _NEEDED.items():
        if not isinstance(data.get(section), dict):
            missing.append(f"no key {section!r}" if section not in data else
                           f"key {section} is a JSON {_json_type(data[section])}, not an object")
        else:
            missing += [f"no key {key!r} in {section!r}" for key in keys if key not in data[section]]
    if missing:
        raise PoolingError(f"{head}: it has " + ", ".join(missing))
    if problems := _site_problems(data):
        raise PoolingError(f"{shown} (site {name!r}) cannot be pooled: " + listed(problems, "; "))

    outcome, params, subgroups = data["outcome"], data["parameters"], data["subgroups"]
    groups = subgroups["groups"]
    if outcome["n"] == 0:
        raise PoolingError(f"{shown} (site {name!r}): this site analysed no patient ('outcome' has n = 0), "
                           "so it has nothing to pool; leave it out of SITES")
    return {
        "name": name,
        "sha256": hashlib.sha256(json.dumps(data, sort_keys=True).encode("utf-8")).hexdigest(),
        "n": outcome["n"], "favorable": outcome["favorable"],
        **{key: params[key] for key in _NEEDED["parameters"]},
        "synthetic": data.get("data", {}).get("synthetic", False),
        "groups": {g: {"n": e["n"], "favorable": e["favorable"]} for g, e in groups.items()
                   if e["n"] > 0 and e["favorable"] is not None},
        "merged_group": MERGED_GROUP if subgroups.get("pooled_values") and MERGED_GROUP in groups else None,
    }


def _show(value) -> str:
    """50.0 shown as 50."""
    return f"{value:g}" if isinstance(value, float) and value.is_integer() else str(value)


def check_agreement(sites, keys=AGREEMENT_KEYS) -> dict:
    """Check that every site analysed the same way; return {key: the common value}.

    ``sites`` are :func:`read_site` results (a list, or a dict taken by its
    values). Numbers are compared as numbers (50 and 50.0 agree).

    Raises
    ------
    PoolingError
        Naming every site and its value for each key that differs, e.g.
        ``sites disagree on responder_threshold: site-a 50, site-b 30``.
    """
    sites = list(sites.values()) if isinstance(sites, dict) else list(sites)
    problems = [f"sites disagree on {key}: " + ", ".join(f"{s['name']} {_show(s[key])}" for s in sites)
                for key in keys if any(s[key] != sites[0][key] for s in sites)]
    if problems:
        raise PoolingError("; ".join(problems) + ". Pool only sites analysed with the same "
                           "parameters (run the analysis again with a common parameter file).")
    return {key: sites[0][key] for key in keys}


def read_site_list(path: str | os.PathLike) -> list[str]:
    """The sites' files listed in a text file, one path a line (``make pool SITES_FILE=list.txt``).

    Blank lines are skipped and each line is stripped of surrounding spaces, so
    a path may hold spaces inside (``Site A/results.json``). Relative paths are
    taken from the project root, as in ``SITES``.
    """
    try:
        text = resolve(path).read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise PoolingError(f"the list of sites {path} cannot be read: {exc.strerror or exc}") from None
    except ValueError:
        raise PoolingError(f"the list of sites {path} is not UTF-8 text (one results.json path a line)") from None
    return [line.strip() for line in text.splitlines() if line.strip()]
