"""The default run reproduces the published numbers; results.json agrees with an in-process run."""
import pytest

from ketanb import load_params
from ketanb.io import read_json
from ketanb.paths import ROOT
from ketanb.pipeline import analyse
from ketanb.synthetic import generate_extract


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
    fresh = analyse(committed["data"]["source"], load_params(**{k: v for k, v in committed["parameters"].items()}))
    assert read_json(path) == __import__("json").loads(__import__("json").dumps(
        __import__("ketanb.io", fromlist=["to_jsonable"]).to_jsonable(fresh)))


def test_committed_synthetic_extract_is_what_the_generator_makes():
    frames = generate_extract()
    for name, frame in frames.items():
        text = (ROOT / "data" / "raw" / f"{name}.csv").read_text(encoding="utf-8")
        assert text == frame.to_csv(index=False, lineterminator="\n")
