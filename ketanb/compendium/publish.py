"""The last step of a run: results/, figures/ and reports/ replaced by the build's, all together.

    python -m ketanb.compendium.publish BUILD OUT [NAME ...]

(``make pool`` publishes ``pooled.json``, the forest plot and the report the same way.)

Called by the Makefile only when every stage and the assembly succeeded, so
a refused, failed or killed run never changes the published outputs. Each
folder is copied next to its place and swapped in by renames: a reader sees
the old folder or the new one, never half of either.
"""
from __future__ import annotations

import shutil
import sys

from ..paths import resolve

__all__ = ["OUTPUT_FOLDERS", "publish"]

OUTPUT_FOLDERS = ("results", "figures", "reports")


def _remove(path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    elif path.exists() or path.is_symlink():
        path.unlink()


def publish(build: str, out: str, names=OUTPUT_FOLDERS) -> None:
    """Replace the folders or files ``names`` of ``out`` by the build folder's (paths relative to the project)."""
    source, target = resolve(build), resolve(out)
    for name in names:
        new, old = target / f".{name}.new", target / f".{name}.old"
        _remove(new)
        _remove(old)
        if (source / name).is_dir():
            shutil.copytree(source / name, new, copy_function=shutil.copy)    # new dates: newer than the build
        else:
            shutil.copy(source / name, new)
        if (target / name).exists():
            (target / name).rename(old)
        new.rename(target / name)
        _remove(old)


if __name__ == "__main__":
    publish(sys.argv[1], sys.argv[2], sys.argv[3:] or OUTPUT_FOLDERS)
