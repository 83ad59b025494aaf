"""R's root finder ``uniroot``, step for step: so that odds ratios and their limits are R's to the digit.

R's ``fisher.test`` finds the conditional odds ratio and its exact interval with
``uniroot`` (Brent's zeroin, R's C code) at a tolerance of ``eps ** 0.25``, about
1e-4, on a transformed scale; so its numbers can be a percent off the exact
roots (the tea tasting table's upper limit: R 621.93, exact root 626.24). The
contract asks for R's numbers, so R's steps are taken here one for one.

Why not ``scipy.optimize.brentq``: with ``xtol = R_UNIROOT_TOL`` and ``rtol = 4 * eps``
it is the same method with R's stopping rule (half the bracket within
``2 eps |b| + tol / 2``), and it gives R's roots of ``x^3 - 2`` and ``cos(x) - x``.
But its bookkeeping differs (scipy/optimize/Zeros/brentq.c, Charles Harris's
version): it stops on ``<`` where R has ``<=``; it takes an interpolated step if
shorter than half the step before last, R if shorter than half the last step
(``b - a``); and its inverse quadratic step is written from divided differences,
so it rounds otherwise. With a tolerance of 1e-4 that is
enough to stop at another point: on the odds-ratio limits the two part after the
fifth digit (tea tasting lower limit: brentq 0.2117347, R 0.2117329), and the
tests of ``odds_ratio_exact`` against R 4.2.2 fail with brentq.
"""
from __future__ import annotations

import numpy as np

__all__ = ["R_UNIROOT_TOL", "r_uniroot"]


#: R's ``uniroot`` tolerance (``.Machine$double.eps^0.25``), with which ``fisher.test`` solves its odds ratio.
R_UNIROOT_TOL = np.finfo(float).eps ** 0.25


def r_uniroot(f, lower: float, upper: float, tol: float = R_UNIROOT_TOL, maxiter: int = 1000) -> float:
    """A root of ``f`` in [lower, upper] exactly as R's ``uniroot`` finds it (Brent's zeroin, R's C code).

    ``fisher.test`` solves its odds ratio and interval with it at a tolerance of about
    1e-4 on a transformed scale, so its numbers can be off the exact roots by a percent;
    the contract asks for R's numbers, so R's steps are taken here one for one.
    """
    eps = np.finfo(float).eps
    a, b = lower, upper
    fa, fb = f(a), f(b)
    if fa == 0:
        return a
    if fb == 0:
        return b
    c, fc = a, fa
    for _ in range(maxiter + 1):
        previous = b - a
        if abs(fc) < abs(fb):                       # b: the best approximation so far
            a, b, c = b, c, b
            fa, fb, fc = fb, fc, fb
        tol_act = 2 * eps * abs(b) + tol / 2
        step = (c - b) / 2
        if abs(step) <= tol_act or fb == 0:
            return b
        if abs(previous) >= tol_act and abs(fa) > abs(fb):     # try interpolation
            cb = c - b
            if a == c:                              # two points: secant
                t1 = fb / fa
                p, q = cb * t1, 1.0 - t1
            else:                                   # three points: inverse quadratic
                q, t1, t2 = fa / fc, fb / fc, fb / fa
                p = t2 * (cb * q * (q - t1) - (b - a) * (t1 - 1.0))
                q = (q - 1.0) * (t1 - 1.0) * (t2 - 1.0)
            p, q = (p, -q) if p > 0 else (-p, q)
            if p < 0.75 * cb * q - abs(tol_act * q) / 2 and p < abs(previous * q / 2):
                step = p / q
        if abs(step) < tol_act:
            step = tol_act if step > 0 else -tol_act
        a, fa = b, fb
        b += step
        fb = f(b)
        if (fb > 0 and fc > 0) or (fb < 0 and fc < 0):
            c, fc = a, fa
    return b
