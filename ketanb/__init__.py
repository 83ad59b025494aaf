"""ketanb: analysis package of the ketamine infusion cohort study (AZ Sint-Blasius, 2015-2019).

One module per pipeline stage (:mod:`cleaning` with :mod:`schema`,
:mod:`outcomes`, :mod:`subgroups` with :mod:`baseline`, :mod:`side_effects`)
and shared ones: :mod:`contract` (the data contract as data), :mod:`io`, :mod:`ids`,
:mod:`params`, :mod:`stats`, :mod:`plots`, :mod:`report`, :mod:`synthetic`;
the plumbing of the notebooks (:mod:`pipeline`, :mod:`stage`,
:mod:`stagedeps`, :mod:`assemble`, :mod:`index`, :mod:`provenance`); the
whole analysis in one call (:mod:`analysis`); and the measurements
(:mod:`bench`, :mod:`overhead`).
"""
from .errors import InputError, KetanbError, ParameterError, Problem
from .params import DEFAULTS, Params, load_params

__all__ = ["InputError", "KetanbError", "ParameterError", "Problem", "DEFAULTS", "Params",
           "load_params"]
__version__ = "0.1.0"
