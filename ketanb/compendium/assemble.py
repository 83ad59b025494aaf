"""The last step of a build: results/results.json, the reports in HTML, reports/index.html and the manifest.

    python -m ketanb.compendium.assemble BUILD

Each stage writes its sections of results.json as ``results/<section>.json``
in the build folder; :func:`assemble` merges them in a fixed order, marks the
file with the format version (``ketanb_results``, read by the pooling of
several clinics), renders every stage's report to HTML
(:func:`ketanb.compendium.render.render`) and builds the reviewers' index. Last it records
the sha256 of every file to publish (:func:`ketanb.compendium.publish.write_manifest`),
the Makefile's target for this step.
"""
from __future__ import annotations

import sys

from .. import RESULTS_FORMAT
from ..errors import KetanbError
from ..paths import resolve
from ..output.files import read_json, write_json
from ..output.writing import write_text
from ..presentation.index import build_index
from .publish import write_manifest
from .render import render
from .stage import remove_unlisted

__all__ = ["SECTIONS", "assemble"]

#: Files merged into results.json, in order: run.json (data, parameters) from stage 01,
#: then one file per stage section.
SECTIONS = ("run", "cohort", "outcome", "subgroups", "side_effects")


def assemble(build: str) -> dict:
    """Merge ``results/<section>.json`` of ``build`` into ``results/results.json``; write the reports' HTML and
    ``reports/index.html``.

    First the files of results/ and figures/ that no stage listed this time are deleted
    (:func:`ketanb.compendium.stage.remove_unlisted`).

    Then ``build/manifest.sha256`` lists every file of results/, figures/ and reports/ with its sha256.
    """
    folder = resolve(build)
    remove_unlisted(folder, keep={"results/results.json"})      # what no stage makes any more
    missing = [section for section in SECTIONS if not (folder / "results" / f"{section}.json").is_file()]
    if missing:
        raise KetanbError(f"no stage wrote results/{missing[0]}.json, but SECTIONS in ketanb/compendium/assemble.py "
                          f"names {missing[0]!r}: after removing a stage, take its section out of SECTIONS and "
                          "ketanb/analysis.py (docs/adapting.md, 'Removing a stage')")
    merged: dict = {"ketanb_results": RESULTS_FORMAT}
    for section in SECTIONS:
        merged.update(read_json(folder / "results" / f"{section}.json"))
    write_json(folder / "results" / "results.json", merged)
    render(folder)                  # reports/NN-*.html, from the stages' executed notebooks
    write_text(folder / "reports" / "index.html", build_index(folder))
    write_manifest(folder)          # last, with a new date: make sees the build complete only now
    return merged


def main(argv=None) -> int:
    try:
        assemble((argv or sys.argv[1:])[0])
    except KetanbError as exc:
        print(f"make all stopped: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
