"""environment.yml pins the same versions as requirements.lock; params.yaml holds the defaults."""
import re
from dataclasses import replace

from ketanb import DEFAULTS, load_params
from ketanb.paths import ROOT


def _lock():
    pins = {}
    for line in (ROOT / "requirements.lock").read_text().splitlines():
        if "==" in line and not line.startswith("#"):
            name, version = line.split("==")
            pins[name.lower().replace("_", "-")] = version.strip()
    return pins


def test_environment_yml_agrees_with_lock():
    lock = _lock()
    conda = re.findall(r"^  - ([A-Za-z0-9_.-]+)=([^=\s]+)$", (ROOT / "environment.yml").read_text(), re.M)
    conda = {name.lower(): version for name, version in conda if name != "python"}
    direct = [l.strip().lower() for l in (ROOT / "requirements.in").read_text().splitlines()
              if l.strip() and not l.startswith("#")]
    assert sorted(conda) == sorted(direct)
    assert {name: lock[name] for name in conda} == conda


def test_params_yaml_holds_the_contract_defaults():
    """Every parameter of the analysis is the contract's default; the study block only describes the shipped
    study (it is no parameter of the analysis, not in results.json's parameters, ignored by pooling)."""
    shipped = load_params("params.yaml")
    assert replace(shipped, study=DEFAULTS.study) == DEFAULTS
    assert shipped.to_dict() == DEFAULTS.to_dict()
    assert (shipped.study.authors, shipped.study.centre, shipped.study.period) == (
        "Vallé et al.", "AZ Sint-Blasius, Dendermonde, Belgium", "2015-2019")
    assert shipped.study.published == {"treated": 74, "included": 45, "favorable": 23, "n": 45,
                                       "subgroup_difference": "not significant", "serious_complications": 0,
                                       "responder_threshold": 50, "missing_followup": "nonresponder",
                                       "group_by": "pain_mechanism"}


def test_pyproject_lists_every_package_and_its_templates():
    """`pip install .` ships what `make all` uses: every folder of ketanb with an __init__.py is a package
    in pyproject.toml, and a package's templates are its package data (ketanb.presentation's index
    template was left out when the package was made)."""
    import tomllib

    setup = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["setuptools"]
    found = {".".join(init.parent.relative_to(ROOT).parts) for init in (ROOT / "ketanb").rglob("__init__.py")}
    assert set(setup["packages"]) == found
    with_templates = {".".join(folder.parent.relative_to(ROOT).parts) for folder in (ROOT / "ketanb").rglob("templates")}
    assert with_templates == {name for name, data in setup["package-data"].items() if "templates/*/*" in data}
