"""The run's bookkeeping without make: publishing (journal, manifests, the check for machine paths),
the checks made before make compares dates, and the paths notebooks are given."""
import pathlib
import shutil
from pathlib import Path

import pytest

from ketanb.compendium import publish as pub
from ketanb.compendium.stamps import argument, check_inputs, run_base
from ketanb.errors import KetanbError
from ketanb.paths import ROOT


def make_build(folder: Path, tag: str) -> Path:
    """A finished build: one file in each of results/, figures/, reports/ holding ``tag``, and its manifest."""
    for name in pub.OUTPUT_FOLDERS:
        (folder / name).mkdir(parents=True)
        (folder / name / f"{name}.txt").write_text(f"{tag} {name}\n")
    (folder / "reports" / "01-cleaning.ipynb").write_text(f"{tag} notebook\n")
    pub.write_manifest(folder)
    return folder


@pytest.fixture
def run(tmp_path):
    """OUT published from an old build, and a new build ready to publish."""
    out = tmp_path / "out"
    old = make_build(tmp_path / "old-build", "old")
    pub.publish(str(old), str(out))
    build = make_build(out / ".build", "new")
    return build, out


def contents(out):
    return {name: (out / name / f"{name}.txt").read_text() for name in pub.OUTPUT_FOLDERS}


def leftovers(out):
    return sorted(p.name for p in out.iterdir() if p.name.endswith((".new", ".old")))


def test_publish_replaces_the_three_folders_and_records_them(run):
    build, out = run
    assert contents(out) == {name: f"old {name}\n" for name in pub.OUTPUT_FOLDERS}
    pub.publish(str(build), str(out))
    assert contents(out) == {name: f"new {name}\n" for name in pub.OUTPUT_FOLDERS}
    assert pub.read_manifest(build / pub.PUBLISHED) == pub.read_manifest(build / pub.MANIFEST)
    assert len(pub.read_manifest(build / pub.PUBLISHED)) == 4
    assert leftovers(out) == [] and not (build / pub.JOURNAL).exists()


class Killed(BaseException):
    """Stands for SIGKILL: nothing after it runs."""


def kill_at(monkeypatch, module_function, call):
    """Make the ``call``-th call of ``module_function`` (e.g. ``(pathlib.Path, "rename")``) never return."""
    owner, name = module_function
    real = getattr(owner, name)
    count = {"n": 0}

    def killed(*args, **kwargs):
        count["n"] += 1
        if count["n"] == call:
            raise Killed
        return real(*args, **kwargs)
    monkeypatch.setattr(owner, name, killed)


@pytest.mark.parametrize("call", range(1, 7))
def test_a_publish_killed_while_renaming_is_finished_by_the_next_run(run, monkeypatch, call):
    """Three folders, two renames each: killed before any of the six, the journal is already written."""
    build, out = run
    kill_at(monkeypatch, (pathlib.Path, "rename"), call)
    with pytest.raises(Killed):
        pub.publish(str(build), str(out))
    monkeypatch.undo()
    assert (build / pub.JOURNAL).is_file()
    pub.finish(build, out)                                     # what the next make all does first
    assert contents(out) == {name: f"new {name}\n" for name in pub.OUTPUT_FOLDERS}
    assert leftovers(out) == [] and not (build / pub.JOURNAL).exists()
    assert pub.differences(out, pub.read_manifest(build / pub.PUBLISHED)) == []


@pytest.mark.parametrize("call", range(1, 5))
def test_a_publish_killed_while_copying_leaves_the_old_outputs(run, monkeypatch, call):
    build, out = run
    kill_at(monkeypatch, (shutil, "copy"), call)
    with pytest.raises(Killed):
        pub.publish(str(build), str(out))
    monkeypatch.undo()
    assert not (build / pub.JOURNAL).exists()
    pub.finish(build, out)
    assert contents(out) == {name: f"old {name}\n" for name in pub.OUTPUT_FOLDERS}
    assert leftovers(out) == []
    assert not (build / pub.PUBLISHED).exists()                # so make publishes it again


def test_a_build_file_changed_after_the_manifest_is_not_published(run):
    build, out = run
    (build / "results" / "results.txt").write_text("CORRUPTED\n")
    with pytest.raises(KetanbError, match=r"results/results.txt \(changed\).*Run make all again"):
        pub.publish(str(build), str(out))
    assert contents(out) == {name: f"old {name}\n" for name in pub.OUTPUT_FOLDERS}
    assert leftovers(out) == []


@pytest.mark.parametrize("path", ["project", "build", "home"])
def test_an_output_naming_a_folder_of_the_machine_is_not_published(run, path, capsys):
    build, out = run
    named = {"project": f"{ROOT}/ketanb/plots.py", "build": f"{build}/figures/x.png",
             "home": f"{Path.home()}/fonts"}[path]
    (build / "reports" / "02-outcomes.html").write_text(f"<pre>UserWarning in {named}: glyph missing</pre>\n")
    pub.write_manifest(build)
    assert pub.main([str(build), str(out)]) == 1                  # as make runs it: a message, no traceback
    what = {"project": "the project folder", "build": "the build folder", "home": "the home folder"}[path]
    message = capsys.readouterr().err
    assert message.startswith("Not published: outputs must not name folders of this machine")
    assert f"reports/02-outcomes.html holds " in message and f"({what})" in message
    assert contents(out) == {name: f"old {name}\n" for name in pub.OUTPUT_FOLDERS}
    assert not (out / "reports" / "02-outcomes.html").exists()


def test_check_has_changed_outputs_published_again_and_a_changed_build_rebuilt(run, capsys):
    build, out = run
    pub.publish(str(build), str(out))
    (out / "reports" / ".screenshots").mkdir()                 # hidden: not an output
    (out / "reports" / ".screenshots" / "index.png").write_bytes(b"png")
    pub.check(build, out)
    assert (build / pub.PUBLISHED).is_file() and (build / pub.MANIFEST).is_file()
    (out / "figures" / "figures.txt").unlink()
    pub.check(build, out)
    assert not (build / pub.PUBLISHED).exists() and (build / pub.MANIFEST).is_file()
    assert "figures/figures.txt (missing)" in capsys.readouterr().err
    (build / "results" / "results.txt").write_text("CORRUPTED\n")
    pub.check(build, out)
    assert not (build / pub.MANIFEST).exists() and not (build / "reports" / "01-cleaning.ipynb").exists()
    assert "results/results.txt (changed)" in capsys.readouterr().err


def test_a_file_added_to_a_published_folder_counts_as_a_difference(run):
    """The three folders hold one run's files and nothing else (hidden files aside)."""
    build, out = run
    pub.publish(str(build), str(out))
    (out / "figures" / "old-run.png").write_bytes(b"png")
    assert pub.differences(out, pub.read_manifest(build / pub.PUBLISHED)) == ["figures/old-run.png (not published)"]


def test_notebook_paths_never_absolute(tmp_path):
    """Inside the project: as given, or a link under the build folder; OUT outside: relative to OUT."""
    inside = ROOT / "runs" / "t30" / ".build"
    assert run_base(inside) == ROOT
    assert argument(inside, "data/raw", "data") == "data/raw"
    assert argument(inside, str(ROOT / "data" / "raw"), "data") == "runs/t30/.build/extract"
    assert argument(inside, "../elsewhere/book.XLSX", "data") == "runs/t30/.build/extract.xlsx"
    assert argument(inside, "", "params") == ""
    assert argument(inside, "~/t30.yaml", "params") == "runs/t30/.build/params.yaml"
    outside = tmp_path / "out" / ".build"
    assert run_base(outside) == tmp_path / "out"
    assert argument(outside, "data/raw", "data") == ".build/extract"
    assert argument(outside, "/x/t30.yaml", "params") == ".build/params.yaml"


def test_inputs_inside_what_a_run_replaces_are_refused(tmp_path):
    extract = tmp_path / "runs" / "d" / "results" / "extract"
    extract.mkdir(parents=True)
    out = str(tmp_path / "runs" / "d")
    with pytest.raises(KetanbError, match=r"DATA=.*/results/extract lies inside .*runs/d/results/, which a run "
                                          r"with OUT=.* replaces or deletes"):
        check_inputs(out, str(extract), "params.yaml")
    (tmp_path / "runs" / "d" / ".build").mkdir()
    (tmp_path / "runs" / "d" / ".build" / "p.yaml").write_text("")
    with pytest.raises(KetanbError, match=r"PARAMS=.*p.yaml lies inside .*d/.build/"):
        check_inputs(out, "data/raw", str(tmp_path / "runs" / "d" / ".build" / "p.yaml"))
    with pytest.raises(KetanbError, match=r"DATA=.*lies inside .*d/figures/"):
        (tmp_path / "runs" / "d" / "figures").mkdir()
        check_inputs(out, str(tmp_path / "runs" / "d" / "figures"), "params.yaml")
    check_inputs(out, str(tmp_path / "runs" / "d"), "params.yaml")            # OUT itself: only its folders go


def test_a_missing_input_is_named_as_given(tmp_path):
    given = str(tmp_path / "clinic" / "t30.yaml")
    with pytest.raises(KetanbError, match=f"PARAMS={given}: there is no such file or folder"):
        check_inputs(".", "data/raw", given)
    with pytest.raises(KetanbError, match=r"DATA=\.\./x`touch \.\./pwned`y: there is no such file or folder"):
        check_inputs(".", "../x`touch ../pwned`y", "params.yaml")


def test_a_stage_takes_the_paths_from_the_environment(monkeypatch, tmp_path):
    """make passes DATA and PARAMS as KETANB_DATA and KETANB_PARAMS, never as shell text."""
    from ketanb.compendium import stage

    given = {}
    monkeypatch.setattr(stage, "run_stage", lambda notebook, out, parameters: given.update(parameters) or 0)
    monkeypatch.setenv("KETANB_DATA", str(tmp_path / "a;b $(x) `y`"))
    monkeypatch.setenv("KETANB_PARAMS", "params.yaml")
    monkeypatch.setenv("SITES", "x/results.json y/results.json")
    assert stage.main(["notebooks/01-cleaning.ipynb", ".build", "--inputs", "-e", "sites", "SITES"]) == 0
    assert given == {"data": ".build/extract", "params_file": "params.yaml", "sites": "x/results.json y/results.json"}


def test_the_index_writes_a_withheld_favorable_count_as_the_reports_do():
    """Issue 25: "k/n (p %)" has one home, ketanb.presentation.tables.count_text (a withheld count is "n = 45")."""
    import json

    from ketanb.presentation.index import comparison

    r = json.loads((ROOT / "results" / "results.json").read_text(encoding="utf-8"))
    rows = {row["label"]: row for row in comparison(r)}
    assert rows["Favorable outcome"]["published"] == "23/45 (51.1 %)"
    assert rows["Favorable outcome"]["reproduced"] == "23/45 (51.1 %)"
    r["outcome"] = {**r["outcome"], "favorable": None, "proportion": None}
    assert {row["label"]: row for row in comparison(r)}["Favorable outcome"]["reproduced"] == "n = 45"


def test_a_write_is_listed_only_inside_writes_listed_in(tmp_path, monkeypatch):
    """Issue 25: the list of what a stage writes has one mechanism, owned by the writer module."""
    import os

    from ketanb.output.writing import WRITTEN_LIST, write_text, writes_listed_in

    monkeypatch.chdir(tmp_path)
    listing = tmp_path / "written.txt"
    write_text("results/before.txt", "x")
    with writes_listed_in(listing):
        write_text("results/a.txt", "a")
        write_text("results/a.txt", "a")                # unchanged bytes: left alone, but listed again
    write_text("results/after.txt", "x")
    assert listing.read_text() == "results/a.txt\nresults/a.txt\n"
    assert WRITTEN_LIST not in os.environ


def test_the_steps_that_hash_list_and_copy_load_no_pandas():
    """Issue 25: make all from nothing at most 12 s. The content stamps, the stage runner and publishing
    only hash, list and copy files (ketanb.output.writing); pandas, numpy and nbformat cost each of
    these processes 0.5 s or more, five to seven times a run (nbformat is imported when a stage runs)."""
    import subprocess
    import sys

    code = ("import sys, ketanb.compendium.stamps, ketanb.compendium.publish, ketanb.compendium.stage; "
            "print(sorted(m for m in ('pandas', 'numpy', 'scipy', 'nbformat', 'papermill') if m in sys.modules))")
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
    assert loaded.stdout.strip() == "[]"


def _imports(path: Path) -> set[str]:
    """The ketanb modules a file of the package imports, at its top or inside a function (read, not run)."""
    import ast

    module = ".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = package.rsplit(".", node.level - 1)[0] if node.level else ""
            name = ".".join(part for part in (base, node.module) if part)
            found |= {name} | {f"{name}.{alias.name}" for alias in node.names}
    return {name for name in found if name.startswith("ketanb")}


def test_stages_import_no_presentation_and_the_index_no_stage():
    """Issue 25: presentation (ketanb.presentation: tables, plots, notices, pooled_report, index) sits above
    the stages: no stage, statistic, input or output module imports it. The compendium's plumbing sits on top
    (assemble has the index written) and no other module of ketanb imports it; writing files is
    ketanb.output's, below all. The index reads results.json and needs no stage either, so assembling it
    loads no scipy (0.85 s of every make all). Read from the code's import lines, lazy ones too."""
    graph = {".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__"): _imports(path)
             for path in (ROOT / "ketanb").rglob("*.py")}
    tools = {"ketanb.synthetic", "ketanb.bench", "ketanb.__main__"}          # above everything, like the notebooks
    for module, imported in graph.items():
        if module.startswith("ketanb.compendium"):
            continue
        assert not {name for name in imported if name.startswith("ketanb.compendium")}, module
        if not module.startswith("ketanb.presentation") and module not in tools:
            assert not {name for name in imported if name.startswith("ketanb.presentation")}, module

    def reached(start):
        seen, todo = set(), [start]
        while todo:
            for name in graph.get(todo.pop(), ()):
                if name in graph and name not in seen:
                    seen.add(name)
                    todo.append(name)
        return seen

    assembling = reached("ketanb.compendium.assemble")
    assert "ketanb.presentation.index" in assembling
    stages = {"ketanb.cleaning", "ketanb.outcomes", "ketanb.subgroups", "ketanb.baseline", "ketanb.side_effects",
              "ketanb.stats", "ketanb.analysis", "ketanb.pooling"}
    assert assembling & stages == set()


def test_a_removed_stage_leaves_nothing_to_publish(tmp_path):
    """A student adds notebooks/05-duration.ipynb, runs make all, then deletes the notebook: its report, its
    figure and its place on the index must go, not be published again from the build folder."""
    from ketanb.compendium.stage import remove_unlisted
    from ketanb.compendium.stamps import forget_removed_stages

    build = tmp_path / ".build"
    for name, stage in (("figures/duration.png", "05-duration"), ("figures/flow.png", "01-cleaning"),
                        ("results/cohort.json", "01-cleaning")):
        (build / name).parent.mkdir(parents=True, exist_ok=True)
        (build / name).write_text("x")
        (build / "written").mkdir(exist_ok=True)
        with open(build / "written" / f"{stage}.txt", "a") as listing:
            listing.write(f"{name}\n")
    (build / "reports").mkdir()
    (build / "stamps" / "notebooks").mkdir(parents=True)
    for stage in ("01-cleaning", "05-duration"):
        for end in ("ipynb", "html"):
            (build / "reports" / f"{stage}.{end}").write_text("x")
        (build / "stamps" / "notebooks" / f"{stage}.ipynb").write_text("x")
    (build / "manifest.sha256").write_text("x")

    assert forget_removed_stages(build) == ["05-duration"]
    assert sorted(p.name for p in (build / "reports").iterdir()) == ["01-cleaning.html", "01-cleaning.ipynb"]
    assert sorted(p.name for p in (build / "written").iterdir()) == ["01-cleaning.txt"]
    assert not (build / "stamps" / "notebooks" / "05-duration.ipynb").exists()
    assert not (build / "manifest.sha256").exists()                     # make assembles and publishes again
    assert remove_unlisted(build) == ["figures/duration.png"]             # what assemble does first
    assert forget_removed_stages(build) == []                             # the existing stages stay
    assert (build / "figures" / "flow.png").exists()


def test_assemble_names_a_section_no_stage_wrote(tmp_path, capsys):
    """A student removed a stage but not its section in SECTIONS: make all stops with what to do, not with a
    FileNotFoundError traceback from assemble."""
    from ketanb.compendium import assemble

    build = tmp_path / ".build"
    (build / "results").mkdir(parents=True)
    (build / "written").mkdir()
    for section in assemble.SECTIONS[:-1]:
        (build / "results" / f"{section}.json").write_text("{}")
        with open(build / "written" / "01-cleaning.txt", "a") as listing:      # as the stages list them
            listing.write(f"results/{section}.json\n")
    assert assemble.main([str(build)]) == 1
    message = capsys.readouterr().err
    assert f"no stage wrote results/{assemble.SECTIONS[-1]}.json" in message and "Removing a stage" in message
    assert not (build / "results" / "results.json").exists()


def test_render_writes_each_reports_html_again_from_its_notebook(tmp_path):
    """An HTML older than its notebook is rendered again: no stale page beside a report that changed."""
    import nbformat

    from ketanb.compendium.render import render

    (tmp_path / "reports").mkdir()
    for text in ("first run's result", "second run's result"):
        notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell(f"# Report\n\n{text}")])
        nbformat.write(notebook, tmp_path / "reports" / "01-x.ipynb")
        assert render(tmp_path) == ["01-x"]
        page = (tmp_path / "reports" / "01-x.html").read_text(encoding="utf-8")
        assert text in page and page.count("run's result") == 1
    assert sorted(p.name for p in (tmp_path / "reports").iterdir()) == ["01-x.html", "01-x.ipynb"]   # no temporary file left
