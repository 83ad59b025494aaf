"""Writing a file whole, and the list of files a stage wrote: no pandas, so that the steps of
``make all`` that only hash, list and copy files (stamps, publish, the stage runner) start fast.

Which files a stage wrote: the stage runner (:func:`ketanb.compendium.stage.run_stage`)
runs the stage's kernel inside :func:`writes_listed_in`, which names a list file in the
environment variable :data:`WRITTEN_LIST`; the kernel inherits it, and every
:func:`write_bytes` (so every writer of
:mod:`ketanb.output.files`) adds its path to that list. This is
the one mechanism: nothing else sets or reads the variable, and outside a stage run
nothing is listed. The runner deletes what a stage wrote last time and no longer writes.
"""
from __future__ import annotations

import contextlib
import hashlib
import os
from pathlib import Path

__all__ = ["WRITTEN_LIST", "writes_listed_in", "digest", "write_bytes", "write_text"]

#: The environment variable naming the list of files a stage writes (:func:`writes_listed_in`).
WRITTEN_LIST = "KETANB_WRITTEN_LIST"


@contextlib.contextmanager
def writes_listed_in(listing: str | os.PathLike):
    """Within: every file :func:`write_bytes` writes, here or in a process started here (a stage's
    kernel), is added to the text file ``listing``, one path a line (relative paths as given)."""
    os.environ[WRITTEN_LIST] = os.fspath(listing)
    try:
        yield
    finally:
        del os.environ[WRITTEN_LIST]


def digest(path: Path) -> str:
    """sha256 of a file's bytes, ``missing`` if it does not exist."""
    if not path.is_file():
        return "missing"
    h = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def write_bytes(path: str | os.PathLike, data: bytes) -> Path:
    """Write ``data`` to ``path`` unless the file already holds exactly these bytes.

    In a stage run, the path is first added to the stage's list of written files (:func:`writes_listed_in`).
    """
    target = Path(path)
    if listing := os.environ.get(WRITTEN_LIST):
        with open(listing, "a", encoding="utf-8") as written:
            written.write(f"{target.as_posix()}\n")
    if target.is_file() and target.read_bytes() == data:
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.tmp")
    tmp.write_bytes(data)
    os.replace(tmp, target)
    return target


def write_text(path: str | os.PathLike, text: str) -> Path:
    """Write UTF-8 text (see :func:`write_bytes`)."""
    return write_bytes(path, text.encode("utf-8"))
