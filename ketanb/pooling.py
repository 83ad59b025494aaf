"""Pooling the results of several clinics: a random-effects meta-analysis of aggregates.

Each clinic shares only its ``results.json`` (counts and parameters, nothing
patient-level). :func:`pool` checks that the sites analysed the same way and
pools the proportion with a favorable outcome; :func:`write_pooled` writes
``pooled.json``. A site is named by the folder holding its file. Relative
paths are taken from the project root. See ``docs/pooling.md``.
"""
from __future__ import annotations

import hashlib
import html
import json
import math
import os
import re
from pathlib import Path

import pandas as pd

from . import RESULTS_FORMAT
from .compendium.files import write_json
from .errors import KetanbError
from .notices import pooled_banner
from .meta import dersimonian_laird
from .params import DEFAULTS
from .paths import resolve
from .outcomes import favorable_rule
from .params import MISSING_FOLLOWUP_MODES
from .stats import proportion
from .tables import ci_label, confidence_text, interval, num, p_is, pct, statistic

__all__ = ["PoolingError", "RESULTS_FORMAT", "POOLED_FORMAT", "POOLED_KIND", "AGREEMENT_KEYS", "MERGED_GROUP",
           "SITE_MIN_GROUP_SIZE", "MAX_NAME_LENGTH", "FOREST_MAX_SITES", "INTERVAL_KEYS", "FEW_SITES",
           "site_name", "read_site", "read_site_list", "check_agreement", "dersimonian_laird", "pool", "write_pooled",
           "site_table", "group_table", "describe", "synthetic_note"]

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
#: Longest site name, group name or group_by a site may give (characters).
MAX_NAME_LENGTH = 100
#: The forest plot draws at most this many sites (the largest); the others are summarised in a line.
FOREST_MAX_SITES = 50

#: The intervals for few sites in ``random_effects`` and in each pooled group: HKSJ, tau², I².
INTERVAL_KEYS = ("hksj_ci_low", "hksj_ci_high", "tau2_ci_low", "tau2_ci_high", "i2_ci_low", "i2_ci_high")
#: Below this many sites the prediction interval and the I² interval are very uncertain (the reports say so).
FEW_SITES = 5
#: The per-site lists of :func:`ketanb.meta.dersimonian_laird`, written per site rather than in random_effects.
_PER_SITE = ("y", "variance", "weights", "site_ci_low", "site_ci_high")

#: The keys of a results.json that pooling reads, by section.
_NEEDED = {"outcome": ("n", "favorable"),
           "parameters": ("responder_threshold", "missing_followup", "group_by", "confidence", "min_group_size"),
           "subgroups": ("groups",)}


class PoolingError(KetanbError):
    """The site files cannot be pooled; the message names the files and what is wrong."""


def site_name(path: str | os.PathLike) -> str:
    """The name of a site: the folder holding its file (``"site-b"`` for ``site-b/results.json``)."""
    return Path(os.path.abspath(resolve(path))).parent.name


def _is_count(value) -> bool:
    """A whole number at least 0 (JSON true/false and 3.0 are not counts)."""
    return type(value) is int and value >= 0


def _is_number(value) -> bool:
    """A JSON number (not true/false), finite: NaN and Infinity are not numbers here."""
    if isinstance(value, bool):
        return False
    return isinstance(value, int) or (isinstance(value, float) and math.isfinite(value))


#: A refusal lists at most this many problems (sites, pairs of copies), then counts the rest.
MAX_LISTED = 20


def _listed(problems: list[str], sep: str) -> str:
    """The first :data:`MAX_LISTED` problems joined by ``sep``, then how many more there are."""
    more = len(problems) - MAX_LISTED
    return sep.join(problems[:MAX_LISTED] + ([f"... and {more} more of the same kind"] if more > 0 else []))


def _name_problem(value) -> str | None:
    """Why ``value`` cannot be a name (site, group, group_by), or None: a name is a non-empty string
    of at most :data:`MAX_NAME_LENGTH` printable characters."""
    if isinstance(value, str) and value.strip() and len(value) <= MAX_NAME_LENGTH and value.isprintable():
        return None
    return f"is {value!r:.60}, not a name (text of 1 to {MAX_NAME_LENGTH} printable characters)"


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
        return [f"key {key}.n is {n!r}, not a whole number of patients (0 or more)"]
    if k is None and withheld_ok:
        return []
    if not (_is_count(k) and k <= n):
        return [f"key {key}.favorable is {k!r}, not a whole number from 0 to n = {n}"]
    return []


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
    small_ok = _is_count(size) and _is_count(outcome.get("n")) and outcome["n"] < size
    problems += _counts_problems(outcome, "outcome", withheld_ok=small_ok)
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
    for name, entry in groups.items():
        if problem := _name_problem(name):
            problems.append(f"a group name in key subgroups.groups {problem}")
            continue
        key = f"subgroups.groups[{name!r}]"
        found = _counts_problems(entry, key, withheld_ok=True)
        problems += found
        if not found and _is_count(size) and 0 < entry["n"] < size:
            problems.append(f"key {key}.n is {entry['n']}, below the site's min_group_size {size}: a group "
                            "this small is never reported on its own (contract section 5)")
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
        data = json.loads(raw.decode("utf-8-sig"))
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
        raise PoolingError(f"{shown} (site {name!r}) cannot be pooled: " + _listed(problems, "; "))

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


def pool(paths, confidence: float | None = None) -> dict:
    """Pool the results of several sites; return the content of ``pooled.json``.

    Parameters
    ----------
    paths : sequence of path-like, or str
        The sites' ``results.json`` files, at least two (a string is split at
        whitespace, as ``make pool SITES="..."`` gives it).
    confidence : float, optional
        Level of every interval; by default the sites' own, or the default
        level (0.95) when they differ (the contract asks sites to agree on
        responder_threshold, missing_followup and group_by only).

    Returns
    -------
    dict
        ``ketanb_pooled`` (:data:`POOLED_FORMAT`), ``kind``, ``confidence``,
        ``responder_threshold``, ``missing_followup``, ``group_by``,
        ``synthetic`` (any site), ``synthetic_sites`` (how many of all the
        sites read, pooled or not, ran on synthetic data), ``sites`` ({name:
        {n, favorable, proportion, ci_low, ci_high, y, variance, weight,
        logit_ci_low, logit_ci_high, synthetic, groups}}, the sites pooled,
        named by folder name only; ``ci_low``, ``ci_high`` the Wilson interval,
        ``logit_ci_low``, ``logit_ci_high`` the interval on the logit scale
        that pooling uses, back-transformed), ``sites_not_pooled`` ({name: {n,
        reason}}: sites of fewer than their min_group_size patients, given by
        their count only), ``n``, ``favorable``, ``random_effects``
        (:func:`ketanb.meta.dersimonian_laird` without the per-site lists:
        with the HKSJ interval and the Q-profile intervals of tau² and I²),
        ``groups`` ({group: {n, favorable, proportion, ci_low, ci_high, sites,
        site_names, tau2, i2, q, q_df, q_p, prediction_low, prediction_high,
        and the :data:`INTERVAL_KEYS`}}, groups two or more sites report) and
        ``groups_not_pooled`` ({group: {site_names, reason}}).

    Raises
    ------
    PoolingError
        Fewer than two sites to pool, two sites with the same folder name,
        two files with the same content, files that :func:`read_site` refuses
        (all named at once), or sites that :func:`check_agreement` finds
        different.

    Notes
    -----
    Every proportion is pooled by :func:`ketanb.meta.dersimonian_laird`: the overall one
    over all sites, each ``group_by`` value over the sites that report it. A
    site's ``other`` group (values merged by ``min_group_size``) differs from
    site to site and is not pooled. A site of fewer than its
    ``min_group_size`` patients gets its count only (contract section 5): it
    is not pooled, since its favorable count could be worked out from the
    pooled numbers. A site's ``ci_low``, ``ci_high`` are its Wilson interval
    (:func:`ketanb.stats.wilson_ci`, as in its own results.json);
    ``logit_ci_low``, ``logit_ci_high`` the interval the pooling sees, which
    the report's table and forest plot show.

    References
    ----------
    DerSimonian R, Laird N. Meta-analysis in clinical trials. Control Clin
    Trials 1986;7:177-188.
    """
    paths = paths.split() if isinstance(paths, str) else [os.fspath(p) for p in paths]
    if len(paths) < 2:
        raise PoolingError(f"pooling needs at least two sites (results.json files), got {len(paths)}: "
                           + (", ".join(paths) or "none"))
    names = {}
    for path in paths:
        names.setdefault(site_name(path), []).append(path)
    clashes = [f"{len(files)} sites have the same name {name!r} ({', '.join(files)})"
               for name, files in names.items() if len(files) > 1]
    if clashes:
        raise PoolingError(_listed(clashes, "; ") + ". A site is named by the folder holding its results.json: "
                           "give each site its own folder (site-a/results.json, site-b/results.json, ...).")
    everyone, problems = [], []
    for path in paths:
        try:
            everyone.append(read_site(path))
        except PoolingError as exc:
            problems.append(str(exc))
    if problems:
        raise PoolingError(_listed(problems, "\n"))
    copies = {}
    for s in everyone:
        copies.setdefault(s["sha256"], []).append(s["name"])
    copies = [names for names in copies.values() if len(names) > 1]
    if copies:
        raise PoolingError(_listed([f"sites {' and '.join(repr(n) for n in names[:MAX_LISTED])}"
                                    + (f" and {len(names) - MAX_LISTED} more" if len(names) > MAX_LISTED else "")
                                    + " hold the same results.json" for names in copies], "; ")
                           + ". A site's patients would be counted twice: give each clinic's file once.")
    sites = [s for s in everyone if s["n"] >= s["min_group_size"]]
    small = {s["name"]: {"n": s["n"], "reason": f"fewer than min_group_size ({s['min_group_size']}) patients: "
                                                "counts only, not pooled"}
             for s in everyone if s["n"] < s["min_group_size"]}
    if len(sites) < 2:
        raise PoolingError(f"pooling needs at least two sites of at least min_group_size patients; "
                           f"{len(sites)} of the {len(everyone)} sites have that many"
                           + (" (" + _listed([f"{name}: {e['n']} patients" for name, e in small.items()], ", ")
                              + " get counts only)" if small else ""))
    agreed = check_agreement(sites)
    if confidence is None:             # the sites' own level; the contract's default when they differ
        levels = {float(s["confidence"]) for s in sites}
        confidence = levels.pop() if len(levels) == 1 else DEFAULTS.confidence
    confidence = float(confidence)

    overall = dersimonian_laird([s["favorable"] for s in sites], [s["n"] for s in sites], confidence)
    site_entries = {}
    for i, s in enumerate(sites):
        site_entries[s["name"]] = {
            **proportion(s["favorable"], s["n"], confidence).block(),
            "y": overall["y"][i], "variance": overall["variance"][i], "weight": overall["weights"][i],
            "logit_ci_low": overall["site_ci_low"][i], "logit_ci_high": overall["site_ci_high"][i],
            "synthetic": s["synthetic"], "groups": s["groups"],
        }

    groups, not_pooled = {}, {}
    for g in dict.fromkeys(g for s in sites for g in s["groups"]):
        reporting = [s for s in sites if g in s["groups"]]
        reporting_names = [s["name"] for s in reporting]
        merged = [s["name"] for s in reporting if s["merged_group"] == g]
        if merged:
            not_pooled[g] = {"site_names": reporting_names,
                             "reason": f"{', '.join(merged)} merged small values into {g!r} "
                                       "(min_group_size), so it holds different values at each site"}
        elif len(reporting) < 2:
            not_pooled[g] = {"site_names": reporting_names,
                             "reason": f"reported by {reporting_names[0]} only"}
        else:
            ks = [s["groups"][g]["favorable"] for s in reporting]
            ns = [s["groups"][g]["n"] for s in reporting]
            fit = dersimonian_laird(ks, ns, confidence)
            groups[g] = {"n": sum(ns), "favorable": sum(ks), "proportion": fit["proportion"],
                         "ci_low": fit["ci_low"], "ci_high": fit["ci_high"],
                         "sites": len(reporting), "site_names": reporting_names,
                         **{key: fit[key] for key in ("tau2", "i2", "q", "q_df", "q_p",
                                                      "prediction_low", "prediction_high", *INTERVAL_KEYS)}}

    return {
        "ketanb_pooled": POOLED_FORMAT, "kind": POOLED_KIND, "confidence": confidence, **agreed,
        "synthetic": any(s["synthetic"] for s in everyone),
        "synthetic_sites": sum(s["synthetic"] for s in everyone),
        "sites": site_entries,
        "sites_not_pooled": small,
        "n": sum(s["n"] for s in sites), "favorable": sum(s["favorable"] for s in sites),
        "random_effects": {"method": "DerSimonian-Laird", "scale": "logit",
                           **{k: v for k, v in overall.items() if k not in _PER_SITE}},
        "groups": groups,
        "groups_not_pooled": not_pooled,
    }


def write_pooled(pooled: dict, folder: str | os.PathLike) -> Path:
    """Write ``folder/pooled.json`` and return its path.

    ``pooled`` is the result of :func:`pool`; ``folder`` is created if needed.
    Written by :func:`ketanb.compendium.files.write_json`: indented, floats to
    12 significant digits, NaN as null, atomically (temporary file and
    ``os.replace``), and a file already holding these bytes is left alone.
    """
    if not isinstance(pooled, dict) or pooled.get("ketanb_pooled") != POOLED_FORMAT:
        raise PoolingError("write_pooled writes the result of ketanb.pooling.pool only "
                           "(no key 'ketanb_pooled')")
    return write_json(resolve(folder) / "pooled.json", pooled)


def _with_ci(entry: dict, low: str = "ci_low", high: str = "ci_high") -> str:
    """``51.1 % (37.0 % to 65.0 %)``; ``-`` without a proportion."""
    p = entry["proportion"]
    return "-" if p is None else f"{pct(p)} ({interval(entry[low], entry[high], pct)})"


def _tau2(x) -> str:
    """tau² on the logit scale: three decimals."""
    return num(x, 3)


def site_table(pooled: dict) -> pd.DataFrame:
    """One row per site and two last rows with the pooled estimate.

    Columns ``site``, ``n``, ``favorable``, ``% (CI)`` and ``weight %``
    (random-effects weight share). A site's interval is the one the pooling
    uses: on the logit scale, back-transformed (``logit_ci_low``,
    ``logit_ci_high``; a site's own report gives its Wilson interval). The
    row ``pooled (random effects)`` has the DerSimonian-Laird interval, the
    row ``pooled, HKSJ interval`` the Hartung-Knapp-Sidik-Jonkman one. Show
    it with :func:`ketanb.tables.show` (no index column).
    """
    ci = f"favorable ({ci_label(pooled['confidence'])})"
    re_ = pooled["random_effects"]
    rows = [{"site": name, "n": s["n"], "favorable": s["favorable"],
             ci: _with_ci(s, "logit_ci_low", "logit_ci_high"), "weight %": round(100 * s["weight"], 1)}
            for name, s in pooled["sites"].items()]
    rows.append({"site": "pooled (random effects)", "n": pooled["n"], "favorable": pooled["favorable"],
                 ci: _with_ci(re_), "weight %": 100.0})
    rows.append({"site": "pooled, HKSJ interval", "n": pooled["n"], "favorable": pooled["favorable"],
                 ci: _with_ci(re_, "hksj_ci_low", "hksj_ci_high"), "weight %": 100.0})
    return pd.DataFrame(rows)


def group_table(pooled: dict) -> pd.DataFrame:
    """One row per pooled group: sites, n, favorable, pooled % with the DerSimonian-Laird and the
    Hartung-Knapp-Sidik-Jonkman intervals, I² % and tau² with their Q-profile intervals."""
    level = ci_label(pooled["confidence"])
    columns = [pooled["group_by"], "sites", "n", "favorable", f"% ({level})", f"% ({level}, HKSJ)",
               f"I² ({level})", f"tau² ({level})"]
    rows = [[name, g["sites"], g["n"], g["favorable"], _with_ci(g), _with_ci(g, "hksj_ci_low", "hksj_ci_high"),
             f"{pct(g['i2'])} ({interval(g['i2_ci_low'], g['i2_ci_high'], pct)})",
             f"{_tau2(g['tau2'])} ({interval(g['tau2_ci_low'], g['tau2_ci_high'], _tau2)})"]
            for name, g in pooled["groups"].items()]
    return pd.DataFrame(rows, columns=columns)


def _md(text) -> str:
    """``text`` as literal Markdown: HTML escaped and Markdown's punctuation backslash-escaped, so that a
    site or group name from a partner's file is shown as written and never read as markup or a link."""
    escaped = html.escape(str(text), quote=True)
    return re.sub(r"([\\`*_\[\]~|])", r"\\\1", escaped)    # the markup that works inside a line


def describe(pooled: dict) -> str:
    """A Markdown paragraph stating the pooled estimate and its heterogeneity, from the numbers.

    It gives the DerSimonian-Laird and the Hartung-Knapp-Sidik-Jonkman
    intervals, I² and tau² with their Q-profile intervals, the prediction
    interval and, with fewer than :data:`FEW_SITES` sites, that the prediction
    interval and the I² interval are very uncertain. Site names are escaped
    (:func:`_md`); more than :data:`FOREST_MAX_SITES` sites are counted, not named.
    """
    re_ = pooled["random_effects"]
    level = ci_label(pooled["confidence"])
    names = list(pooled["sites"])
    listed = f" ({', '.join(_md(name) for name in names)}; " if len(names) <= FOREST_MAX_SITES else " ("
    text = (f"Pooled over {len(names)} sites{listed}{pooled['n']} patients, "
            f"{pooled['favorable']} with a favorable outcome), the random-effects estimate of the "
            f"proportion with a favorable outcome ({favorable_rule(pooled['responder_threshold'], pooled['missing_followup'])}) is "
            f"**{pct(re_['proportion'])}** ({level} {interval(re_['ci_low'], re_['ci_high'], pct)}, "
            f"DerSimonian-Laird). The Hartung-Knapp-Sidik-Jonkman {level}, which allows for the "
            f"uncertainty of tau² and holds its level better with few sites, is "
            f"{interval(re_['hksj_ci_low'], re_['hksj_ci_high'], pct)}. "
            f"Heterogeneity between sites: Q = {statistic(re_['q'])} on {re_['q_df']} degrees of freedom "
            f"({p_is(re_['q_p'])}), I² = {pct(re_['i2'])} ({level} "
            f"{interval(re_['i2_ci_low'], re_['i2_ci_high'], pct)}), tau² = {_tau2(re_['tau2'])} "
            f"({level} {interval(re_['tau2_ci_low'], re_['tau2_ci_high'], _tau2)}; logit scale; "
            "Q-profile intervals). ")
    if re_["prediction_low"] is None:
        text += "With two sites there is no prediction interval (it needs at least three)."
    else:
        text += (f"The true proportion of a new, similar clinic would lie between "
                 f"{pct(re_['prediction_low'])} and {pct(re_['prediction_high'])} "
                 f"({confidence_text(pooled['confidence'])} prediction interval).")
    if len(names) < FEW_SITES:
        which = ("the interval of I² is" if re_["prediction_low"] is None
                 else "the prediction interval and the interval of I² are")
        text += (f" With fewer than {FEW_SITES} sites {which} very uncertain: a few sites say little "
                 "about how much clinics differ.")
    small = pooled.get("sites_not_pooled") or {}
    if small:
        shown = ", ".join(f"{_md(name)} ({e['n']} patients)" for name, e in list(small.items())[:FOREST_MAX_SITES])
        more = f" and {len(small) - FOREST_MAX_SITES} more" if len(small) > FOREST_MAX_SITES else ""
        text += (f" Not pooled, counts only: {shown}{more}; a site of fewer than min_group_size "
                 "patients shows no proportion of its own.")
    return text


def synthetic_note(pooled: dict) -> str:
    """The data banner of the pooled report (Markdown), true to how many sites ran on synthetic data.

    ``All 3 sites ran on synthetic data ...``, ``1 of 3 sites ran on synthetic
    data ...`` (both loud, headed by the synthetic-data headline), or, when
    none did, that the sites used their own extracts. Counts every site read,
    pooled or not (``synthetic_sites`` of all ``sites`` and ``sites_not_pooled``).
    """
    return pooled_banner(pooled["synthetic_sites"], len(pooled["sites"]) + len(pooled.get("sites_not_pooled") or {}))


def _read_sites_from_environment() -> list[str]:
    """The sites ``make pool`` names: ``SITES`` (split at whitespace) and the lines of ``SITES_FILE``."""
    paths = os.environ.get("SITES", "").split()
    if listing := os.environ.get("SITES_FILE", "").strip():
        paths += read_site_list(listing)
    return paths


def main(argv=None) -> int:
    """``python -m ketanb.pooling LIST``: write the sites named by SITES / SITES_FILE to LIST, one a line.

    ``make pool`` passes the sites through the environment, never through the
    shell's text, and the pooling notebook reads LIST; the report then shows
    only LIST's name, not the paths of the sites.
    """
    import argparse
    import sys

    from .compendium.files import write_text

    parser = argparse.ArgumentParser(description=main.__doc__.splitlines()[0])
    parser.add_argument("listing", help="the file to write, relative to the project root")
    args = parser.parse_args(argv)
    try:
        paths = _read_sites_from_environment()
    except PoolingError as exc:
        print(exc, file=sys.stderr)
        return 1
    if not paths:
        print('name the sites: make pool SITES="site-a/results.json site-b/results.json", or '
              "make pool SITES_FILE=sites.txt (one results.json path a line)", file=sys.stderr)
        return 1
    write_text(resolve(args.listing), "".join(f"{path}\n" for path in paths))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
