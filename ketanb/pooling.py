"""Pooling the results of several clinics: a random-effects meta-analysis of aggregates.

Each clinic shares only its ``results.json`` (counts and parameters, nothing
patient-level), read and checked by :mod:`ketanb.sites`. :func:`pool` pools the
proportion with a favorable outcome (:func:`ketanb.meta.dersimonian_laird`), overall
and by group; :func:`write_pooled` writes ``pooled.json``; the report's tables and text
are :mod:`ketanb.presentation.pooled_report`'s. See ``docs/pooling.md``.
"""
from __future__ import annotations

import os
from pathlib import Path

from .disclosure import disclose
from .output.files import write_json
from .meta import dersimonian_laird
from .params import DEFAULTS
from .paths import resolve
from .sites import (MAX_LISTED, POOLED_FORMAT, POOLED_KIND, PoolingError, check_agreement, listed, read_site,
                    read_site_list, site_name)
from .stats import proportion

__all__ = ["PoolingError", "INTERVAL_KEYS", "dersimonian_laird", "pool", "write_pooled", "read_site", "read_site_list",
           "check_agreement", "site_name"]

#: The intervals for few sites in ``random_effects`` and in each pooled group: HKSJ, tau², I².
INTERVAL_KEYS = ("hksj_ci_low", "hksj_ci_high", "tau2_ci_low", "tau2_ci_high", "i2_ci_low", "i2_ci_high")
#: The per-site lists of :func:`ketanb.meta.dersimonian_laird`, written per site rather than in random_effects.
_PER_SITE = ("y", "variance", "weights", "site_ci_low", "site_ci_high")


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
        raise PoolingError(listed(clashes, "; ") + ". A site is named by the folder holding its results.json: "
                           "give each site its own folder (site-a/results.json, site-b/results.json, ...).")
    everyone, problems = [], []
    for path in paths:
        try:
            everyone.append(read_site(path))
        except PoolingError as exc:
            problems.append(str(exc))
    if problems:
        raise PoolingError(listed(problems, "\n"))
    copies = {}
    for s in everyone:
        copies.setdefault(s["sha256"], []).append(s["name"])
    copies = [names for names in copies.values() if len(names) > 1]
    if copies:
        raise PoolingError(listed([f"sites {' and '.join(repr(n) for n in names[:MAX_LISTED])}"
                                    + (f" and {len(names) - MAX_LISTED} more" if len(names) > MAX_LISTED else "")
                                    + " hold the same results.json" for names in copies], "; ")
                           + ". A site's patients would be counted twice: give each clinic's file once.")
    # a site of fewer than its min_group_size patients: a population that small gets counts only
    shown = [disclose({s["name"]: s["n"]}, s["min_group_size"]).whole for s in everyone]
    sites = [s for s, whole in zip(everyone, shown) if whole]
    small = {s["name"]: {"n": s["n"], "reason": f"fewer than min_group_size ({s['min_group_size']}) patients: "
                                                "counts only, not pooled"}
             for s, whole in zip(everyone, shown) if not whole}
    if len(sites) < 2:
        raise PoolingError(f"pooling needs at least two sites of at least min_group_size patients; "
                           f"{len(sites)} of the {len(everyone)} sites have that many"
                           + (" (" + listed([f"{name}: {e['n']} patients" for name, e in small.items()], ", ")
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
    Written by :func:`ketanb.output.files.write_json`: indented, floats to
    12 significant digits, NaN as null, atomically (temporary file and
    ``os.replace``), and a file already holding these bytes is left alone.
    """
    if not isinstance(pooled, dict) or pooled.get("ketanb_pooled") != POOLED_FORMAT:
        raise PoolingError("write_pooled writes the result of ketanb.pooling.pool only "
                           "(no key 'ketanb_pooled')")
    return write_json(resolve(folder) / "pooled.json", pooled)


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

    from .output.writing import write_text

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
