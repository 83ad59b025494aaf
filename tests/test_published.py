"""The default run reproduces the published numbers; committed outputs agree with the code."""
import dataclasses
import pytest

from ketanb import load_params
from ketanb.output.files import read_json, to_jsonable
from ketanb.paths import ROOT
from ketanb.analysis import analyse
from ketanb.synthetic import PUBLISHED_SIZE, SEED, generate_extract, write_extract


def test_default_data_reproduces_published_counts():
    r = analyse("data/raw", load_params("params.yaml"))
    # Published: 74 treated, 45 analysed, 23/45 (51.1 %) favorable, no significant difference by mechanism
    assert r["cohort"]["treated"] == 74 and r["cohort"]["included"] == 45
    assert (r["outcome"]["n"], r["outcome"]["favorable"]) == (45, 23)
    assert round(100 * r["outcome"]["proportion"], 1) == 51.1
    assert r["subgroups"]["fisher_freeman_halton_p"] > 0.05
    assert r["side_effects"]["treated"]["serious"] == 0


def test_results_json_matches_in_process_run():
    path = ROOT / "results" / "results.json"
    if not path.exists():
        pytest.skip("run `make all` first")
    committed = read_json(path)
    fresh = analyse(committed["data"]["source"], load_params(**committed["parameters"], study=committed["study"]))
    assert committed == to_jsonable(fresh)


def test_make_data_rewrites_the_committed_extract_byte_for_byte(tmp_path):
    write_extract(generate_extract(PUBLISHED_SIZE, SEED), tmp_path, n_patients=PUBLISHED_SIZE, seed=SEED)
    committed = ROOT / "data" / "raw"
    written = sorted(p.name for p in tmp_path.iterdir())
    assert written == sorted(p.name for p in committed.iterdir())
    for name in written:
        assert (tmp_path / name).read_bytes() == (committed / name).read_bytes(), name


def test_the_docs_example_extract_gives_what_its_readme_says():
    """docs/example-extract/README.md walks a student through its six invented patients."""
    r = analyse("docs/example-extract", load_params())
    assert (r["cohort"]["treated"], r["cohort"]["included"]) == (6, 4)
    assert (r["outcome"]["favorable"], r["outcome"]["n"]) == (2, 4)
    s = r["sensitivity"]
    assert (s["missing_followup"]["exclude"]["favorable"], s["missing_followup"]["exclude"]["n"]) == (2, 3)
    assert (s["missing_followup"]["favorable"]["favorable"], s["side_effect_stops_unfavorable"]["favorable"]) == (3, 1)
    # all treated (3 of 6) beside the included (2 of 4) would give the 2 excluded patients' outcome
    assert (s["all_treated"]["favorable"], s["all_treated"]["n"]) == (None, 6)
    invented = dataclasses.replace(load_params(), min_group_size=1, i_know_this_is_not_patient_data=True)
    every = analyse("docs/example-extract", invented)["sensitivity"]["all_treated"]
    assert (every["favorable"], every["n"]) == (3, 6)
    assert (r["subgroups"]["unclassified"], r["subgroups"]["pooled_values"], r["subgroups"]["groups"]) == (4, 3, {})
    readme = (ROOT / "docs" / "example-extract" / "README.md").read_text()
    assert "2 of 3" in readme and "3 of 4" in readme and "3 of 6" in readme and "`n` 6" in readme and "`pooled_values` 3" in readme


def test_make_examples_writes_the_committed_example_and_template(tmp_path):
    """docs/make_examples.py (columns and codes from ketanb.input.contract) gives the committed bytes."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("make_examples", ROOT / "docs" / "make_examples.py")
    make_examples = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(make_examples)
    for path in make_examples.write_extract(tmp_path / "example-extract"):
        assert path.read_bytes() == (ROOT / "docs" / "example-extract" / path.name).read_bytes(), path.name
    template = make_examples.write_template(tmp_path / "extract-template.xlsx")
    assert template.read_bytes() == (ROOT / "docs" / "extract-template.xlsx").read_bytes()
