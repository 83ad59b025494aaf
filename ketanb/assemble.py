"""The last step of ``make all``: results/results.json and reports/index.html.

Each stage writes its sections of results.json as ``results/<stage>.json``;
:func:`assemble` merges them in a fixed order and builds the reviewers' index
(:mod:`ketanb.index`) from the result.
"""
from __future__ import annotations

import os

from .index import build_index
from .io import read_json, write_json, write_text
from .paths import ROOT, resolve

__all__ = ["SECTIONS", "assemble"]

#: Files merged into results.json, in order: run.json (data, parameters) from stage 01,
#: then one file per stage section.
SECTIONS = ("run", "cohort", "outcome", "subgroups", "side_effects")


def assemble(results_dir: str | os.PathLike = "results") -> dict:
    """Merge ``results/<section>.json`` into ``results/results.json`` and write ``reports/index.html``.

    Both files are touched even when their bytes do not change, so that make
    sees them newer than the stage reports they were made from.
    """
    merged: dict = {}
    for section in SECTIONS:
        merged.update(read_json(os.path.join(results_dir, f"{section}.json")))
    written = [write_json(os.path.join(results_dir, "results.json"), merged),
               write_text("reports/index.html", build_index(ROOT))]
    for path in written:
        os.utime(resolve(path))
    return merged
