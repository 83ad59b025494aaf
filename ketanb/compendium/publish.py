"""The last step of a run: results/, figures/ and reports/ replaced by the build's, all together.

    python -m ketanb.compendium.publish BUILD OUT [NAME ...]

(``make pool`` publishes ``pooled.json``, the forest plot and the report the same way.)

Called by the Makefile only when every stage and the assembly succeeded, so
a refused, failed or killed run never changes the published outputs. Three
files in the build folder keep the published outputs tied to one run:

- ``manifest.sha256``: the sha256 of every file to publish, written by
  :mod:`ketanb.compendium.assemble` when the build is complete
  (:func:`write_manifest`). A build file that no longer matches it is not
  published: :func:`check` has the run rebuilt.
- ``publishing.json``: the journal of a publish under way. The new folders
  are first copied next to their places (``OUT/.results.new``, ...); once all
  are complete the journal is written, and from then on the publish is
  finished by renames, by this run or, if it is killed, by the next
  (:func:`finish`). So OUT's folders always come from one run.
- ``published.sha256``: what was published; the Makefile's target for this
  step. When OUT's folders no longer match it (a figure deleted, a report
  edited), :func:`check` deletes it and the next ``make all`` publishes again.

Nothing is published that names an absolute path of the machine (the
project, the build folder, OUT or the user's home): :func:`publish` refuses.
"""
from __future__ import annotations

import json
import os
import shutil
import sys
from pathlib import Path

from ..errors import KetanbError
from ..paths import ROOT, resolve
from ..output.writing import digest

__all__ = ["OUTPUT_FOLDERS", "MANIFEST", "PUBLISHED", "JOURNAL", "digests", "write_manifest", "read_manifest",
           "differences", "machine_paths", "finish", "check", "publish"]

OUTPUT_FOLDERS = ("results", "figures", "reports")
#: Files of the build folder: what to publish, the journal of a publish under way, what was published.
MANIFEST, JOURNAL, PUBLISHED = "manifest.sha256", "publishing.json", "published.sha256"


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    elif path.exists() or path.is_symlink():
        path.unlink()


def _write(path: Path, text: str) -> None:
    """Write ``text`` through a temporary file and a rename; the file gets a new date."""
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def digests(folder: Path, names=OUTPUT_FOLDERS) -> dict[str, str]:
    """sha256 of every file under ``folder/NAME`` for each name, keyed by its path relative to ``folder``.

    Hidden files and folders (``.x.tmp``, ``reports/.screenshots``) are left out.
    """
    found = {}
    for name in names:
        top = folder / name
        paths = sorted(top.rglob("*")) if top.is_dir() else [top] if top.is_file() else []
        for path in paths:
            relative = path.relative_to(folder)
            if path.is_file() and not any(part.startswith(".") for part in relative.parts):
                found[relative.as_posix()] = digest(path)
    return found


def _manifest_text(files: dict[str, str]) -> str:
    return "".join(f"{sha}  {name}\n" for name, sha in sorted(files.items()))


def write_manifest(build: Path, names=OUTPUT_FOLDERS) -> Path:
    """Record the sha256 of every file to publish in ``build/manifest.sha256`` (new date even if unchanged)."""
    target = Path(build) / MANIFEST
    _write(target, _manifest_text(digests(Path(build), names)))
    return target


def read_manifest(path: Path) -> dict[str, str] | None:
    """The files and sha256 a manifest lists, ``None`` if there is none."""
    if not path.is_file():
        return None
    return {name: sha for sha, name in (line.split("  ", 1) for line in path.read_text(encoding="utf-8").splitlines())}


def differences(folder: Path, recorded: dict[str, str], names=OUTPUT_FOLDERS, extra: bool = True) -> list[str]:
    """What differs between the files under ``folder`` and ``recorded``: ``path (missing|changed|not published)``."""
    now = digests(folder, names)
    found = [f"{name} (missing)" if name not in now else f"{name} (changed)"
             for name, sha in recorded.items() if now.get(name) != sha]
    if extra:
        found += [f"{name} (not published)" for name in now if name not in recorded]
    return sorted(found)


def machine_paths(build: Path, out: Path) -> dict[str, str]:
    """Absolute paths no output may hold: the project, the build folder, OUT, the user's home."""
    paths = {}
    for what, path in (("the project folder", ROOT), ("the build folder", build), ("the output folder", out),
                       ("the home folder", Path.home())):
        for form in {str(Path(os.path.abspath(path))), str(Path(path).resolve())}:
            if len(Path(form).parts) > 1:       # never "/"
                paths.setdefault(form if what != "the home folder" else form + "/", what)
    return paths


def _leaks(build: Path, out: Path, files: dict[str, str]) -> list[str]:
    paths = machine_paths(build, out)
    found = []
    for name in files:
        content = (build / name).read_bytes()
        found += [f"{name} holds {path} ({what})" for path, what in paths.items() if path.encode() in content]
    return found


def finish(build: Path, out: Path, names=OUTPUT_FOLDERS) -> None:
    """Finish a publish whose journal is written; without one, remove what an unfinished copy left.

    Every step can be done again: a run killed while finishing is finished by the next.
    """
    journal = build / JOURNAL
    if not journal.is_file():
        for name in names:
            _remove(out / f".{name}.new")
            _remove(out / f".{name}.old")
        return
    record = json.loads(journal.read_text(encoding="utf-8"))
    for name in record["names"]:
        new, old, place = out / f".{name}.new", out / f".{name}.old", out / name
        if new.exists():
            if place.exists() or place.is_symlink():        # not yet swapped: place holds the previous run's
                _remove(old)
                place.rename(old)
            new.rename(place)
    _write(build / PUBLISHED, _manifest_text(record["files"]))
    for name in record["names"]:
        _remove(out / f".{name}.old")
    journal.unlink()


def check(build: Path, out: Path) -> None:
    """Have make redo what no longer matches its record (run before make compares dates).

    A build whose files differ from its manifest (a file changed or deleted
    after its stage wrote it) loses its stage reports and manifest: every
    stage runs again. Published folders that differ from what was published
    lose the record: they are published again.
    """
    manifest = read_manifest(build / MANIFEST)
    if manifest is not None and (changed := differences(build, manifest, extra=False)):
        print(f"The build folder differs from what its stages recorded ({', '.join(changed[:3])}): "
              "running every stage again.", file=sys.stderr)
        for target in [build / MANIFEST, *sorted((build / "reports").glob("*.ipynb"))]:
            target.unlink()
    published = read_manifest(build / PUBLISHED)
    if published is not None and (changed := differences(out, published)):
        print(f"The published outputs differ from what was published ({', '.join(changed[:3])}): "
              "publishing them again.", file=sys.stderr)
        (build / PUBLISHED).unlink()


def publish(build: str, out: str, names=OUTPUT_FOLDERS) -> None:
    """Replace the folders or files ``names`` of ``out`` by the build folder's (paths relative to the project).

    With the default names, what is published is the build's manifest, which
    every file must still match; with other names (pooling) the files as they are.

    Raises
    ------
    KetanbError
        When a build file differs from the manifest, or an output holds an
        absolute path of the machine: nothing is published.
    """
    source, target = Path(os.path.abspath(resolve(build))), Path(os.path.abspath(resolve(out)))
    finish(source, target, names)
    if tuple(names) == OUTPUT_FOLDERS:
        files = read_manifest(source / MANIFEST)
        if files is None:
            raise KetanbError(f"{build}/{MANIFEST} is missing: the build is not complete. Run make all.")
        if changed := differences(source, files, names, extra=False):
            raise KetanbError(f"Not published: build files differ from what their stages recorded "
                              f"({', '.join(changed)}). Run make all again: it runs the stages again.")
    else:
        files = digests(source, names)
    if leaks := _leaks(source, target, files):
        raise KetanbError("Not published: outputs must not name folders of this machine, and\n  "
                          + "\n  ".join(leaks) + "\nFind what wrote the path (a warning shown in a report?), "
                          "remove it and run the step again.")
    if missing := [name for name in names if not (source / name).exists()]:
        raise KetanbError(f"Not published: {', '.join(missing)} missing in {build}; nothing was changed.")
    target.mkdir(parents=True, exist_ok=True)
    for name in names:
        new = target / f".{name}.new"
        if (source / name).is_dir():
            new.mkdir()
    for name in files:
        top, _, rest = name.partition("/")
        copy = target / f".{top}.new" / rest if rest else target / f".{top}.new"
        copy.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(source / name, copy)                                  # new dates: newer than the build
    _write(source / JOURNAL, json.dumps({"names": list(names), "files": files}, indent=1))
    finish(source, target, names)


def main(argv=None) -> int:
    args = sys.argv[1:] if argv is None else argv
    try:
        publish(args[0], args[1], tuple(args[2:]) or OUTPUT_FOLDERS)
    except KetanbError as exc:
        print(exc, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
