"""environment.yml pins the same versions as requirements.lock; params.yaml holds the defaults."""
import re

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
    assert load_params("params.yaml") == DEFAULTS
