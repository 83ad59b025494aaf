"""ketanb: analysis package of a retrospective cohort study of ketamine infusions in chronic pain.

Read in this order: the stages (:mod:`cleaning`, :mod:`outcomes`,
:mod:`subgroups` with :mod:`baseline`, :mod:`side_effects`) and the
statistics they use (:mod:`stats`); the whole analysis in one call
(:mod:`analysis`); pooling several clinics (:mod:`pooling`); :mod:`params`.
Input (the data contract, reading, validation) is in :mod:`ketanb.input`;
figures in :mod:`plots`, report formatting in :mod:`tables`; the
compendium's plumbing (running a stage, content stamps, assembling
results.json, the index, provenance, publishing) in :mod:`ketanb.compendium`.
:mod:`synthetic` makes the shipped synthetic extract, :mod:`bench` measures speed.
"""
from .errors import InputError, KetanbError, ParameterError, Problem
from .params import DEFAULTS, Params, load_params

__all__ = ["InputError", "KetanbError", "ParameterError", "Problem", "DEFAULTS", "Params", "load_params",
           "RESULTS_FORMAT"]
__version__ = "0.1.0"
#: Version of the layout of results.json (``"ketanb_results"``), checked when clinics' results are pooled.
RESULTS_FORMAT = 1
