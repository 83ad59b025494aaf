"""Plumbing between the stage notebooks, and the assembly of results/results.json.

Each stage writes its section of results.json as ``results/<section>.json``
and hands patient-level frames to the next through ``data/processed/``
(:func:`save_processed`, :func:`load_processed`); :mod:`ketanb.assemble`
merges the sections and writes the reviewers' index, and
:func:`ketanb.analysis.analyse` computes the same in one process.
"""
from __future__ import annotations

import os

import pandas as pd

from .io import read_json
from .params import Params

__all__ = ["load_processed", "save_processed", "start_stage"]


def start_stage(params_file: str | os.PathLike) -> tuple[Params, dict]:
    """What every stage after cleaning starts from: the parameters and results/run.json.

    run.json (written by stage 01) says which extract the run uses and whether
    it is synthetic; stages read the validated cohort from data/processed/
    instead of reading and checking the extract again.
    """
    from .params import load_params

    return load_params(params_file), read_json("results/run.json")


def save_processed(frames: dict[str, pd.DataFrame], folder: str | os.PathLike) -> None:
    """Hand patient-level frames to the next stage (pickles under data/processed/, never committed)."""
    from .paths import resolve

    target = resolve(folder)
    target.mkdir(parents=True, exist_ok=True)
    for name, frame in frames.items():
        frame.to_pickle(target / f"{name}.pkl")


def load_processed(folder: str | os.PathLike, *names: str) -> list[pd.DataFrame]:
    """Read frames written by :func:`save_processed`."""
    from .paths import resolve

    return [pd.read_pickle(resolve(folder) / f"{name}.pkl") for name in names]
