"""The executed reports of a build rendered to HTML, all in one process.

    python -m ketanb.compendium.render BUILD

Each ``reports/*.ipynb`` of the build folder becomes ``reports/*.html`` next
to it, with the project's nbconvert template ``reviewer`` (offline, code
folded). :mod:`ketanb.compendium.assemble` calls :func:`render` once every
stage has succeeded, and ``make pool`` for the pooled report. Every report
is rendered again each time, so that no HTML is older than its notebook.

Why not in each stage: nbconvert compiles its templates, the Python lexer's
patterns and its HTML selectors once per process, 0.6 s before the first page
and 0.2 s a page after it (2026-12-03). Four stage processes paid it four
times; one process pays it once.
"""
from __future__ import annotations

import os
import sys
from pathlib import Path

from ..output.writing import write_text
from ..paths import resolve

__all__ = ["TEMPLATES", "render"]

#: nbconvert templates of the project (``reviewer``: offline, code folded).
TEMPLATES = Path(__file__).resolve().parent / "templates"


def render(build: str | os.PathLike) -> list[str]:
    """Write ``reports/NAME.html`` for every ``reports/NAME.ipynb`` of the build folder ``build``; returns the names."""
    import nbformat
    from nbconvert import HTMLExporter

    exporter = HTMLExporter(template_name="reviewer", extra_template_basedirs=[str(TEMPLATES)])
    rendered = []
    for notebook in sorted((resolve(build) / "reports").glob("*.ipynb")):
        body, _ = exporter.from_notebook_node(nbformat.read(notebook, as_version=4),
                                              resources={"metadata": {"name": notebook.stem}})
        write_text(notebook.with_suffix(".html"), body)      # through a temporary file: whole or not at all
        rendered.append(notebook.stem)
    return rendered


def main(argv=None) -> int:
    render((argv or sys.argv[1:])[0])
    return 0


if __name__ == "__main__":
    sys.exit(main())
