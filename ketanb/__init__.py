"""ketanb: analysis package of a retrospective cohort study of ketamine infusions in chronic pain.

Read in this order: the stages (:mod:`cleaning`, :mod:`outcomes`,
:mod:`subgroups` with :mod:`baseline`, :mod:`side_effects`), each with one
entry point ``run`` that returns what its notebook shows, writes and draws,
and the statistics they use (:mod:`stats`; :mod:`r_uniroot`, R's root finder,
for R's exact odds-ratio interval); the whole analysis in one call
(:mod:`analysis`); :mod:`params`, which checks every parameter before a stage
starts; :mod:`disclosure`, the small-group rule. Pooling several clinics:
:mod:`sites` reads and checks each clinic's results.json, :mod:`pooling` and
:mod:`meta` pool them. Input (the data contract, reading, validation) is in
:mod:`ketanb.input`, writing files in :mod:`ketanb.output`; what a reader sees (numbers and report text in
``tables``, figures in ``plots``, the synthetic-data notices, the pooled
report's tables and text, the reviewers' index) in :mod:`ketanb.presentation`,
which the stages never import; the compendium's plumbing (running a stage,
content stamps, assembling results.json, provenance, publishing) in
:mod:`ketanb.compendium`.
:mod:`synthetic` makes the shipped synthetic extract, :mod:`bench` measures speed.
"""
from .errors import InputError, KetanbError, ParameterError, Problem
from .params import DEFAULTS, Params, load_params

__all__ = ["InputError", "KetanbError", "ParameterError", "Problem", "DEFAULTS", "Params", "load_params",
           "RESULTS_FORMAT"]
__version__ = "0.1.0"
#: Version of the layout of results.json (``"ketanb_results"``), checked when clinics' results are pooled.
RESULTS_FORMAT = 1
