"""ketanb: analysis package of the ketamine infusion cohort study (AZ Sint-Blasius, 2015-2019).

One module per pipeline stage (:mod:`cleaning`, :mod:`outcomes`,
:mod:`subgroups`, :mod:`side_effects`) and shared ones (:mod:`io`,
:mod:`stats`, :mod:`plots`, :mod:`synthetic`, :mod:`params`, :mod:`pipeline`).
"""
from .errors import InputError, KetanbError, ParameterError, Problem
from .params import DEFAULTS, Params, load_params

__all__ = ["InputError", "KetanbError", "ParameterError", "Problem", "DEFAULTS", "Params",
           "load_params"]
__version__ = "0.1.0"
