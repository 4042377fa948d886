"""Two numerical tools the references need, in plain numpy (the reference must not need scipy):
adaptive Gauss–Legendre quadrature and bisection to the last bit."""
from __future__ import annotations

import numpy as np

_X, _W = np.polynomial.legendre.leggauss(20)


def _gl(f, a: float, b: float) -> float:
    h = 0.5 * (b - a)
    c = 0.5 * (a + b)
    return h * sum(w * f(c + h * x) for x, w in zip(_X, _W))


def integrate(f, a: float, b: float, rtol: float = 1e-14, depth: int = 16) -> float:
    """∫_a^b f by adaptive 20-point Gauss–Legendre: a panel is split until its two halves agree
    with it to rtol of the whole integral (a global tolerance, so rounding cannot force endless
    splitting), at most `depth` levels deep."""
    whole = _gl(f, a, b)
    tol = max(rtol, 4 * np.finfo(float).eps) * abs(whole) + 1e-300

    def rec(lo, hi, est, level):
        mid = 0.5 * (lo + hi)
        left, right = _gl(f, lo, mid), _gl(f, mid, hi)
        if level >= depth or abs(left + right - est) <= tol * (hi - lo) / (b - a):
            return left + right
        return rec(lo, mid, left, level + 1) + rec(mid, hi, right, level + 1)

    return rec(a, b, whole, 0)


def bisect_root(f, lo: float, hi: float) -> float:
    """A root of f on [lo, hi] (f(lo) and f(hi) of opposite signs), bisected until the bracket
    cannot shrink in float64."""
    flo = f(lo)
    for _ in range(2200):
        mid = 0.5 * (lo + hi)
        if mid <= lo or mid >= hi:
            break
        fm = f(mid)
        if fm == 0.0:
            return mid
        if (fm > 0) == (flo > 0):
            lo, flo = mid, fm
        else:
            hi = mid
    return lo if abs(f(lo)) <= abs(f(hi)) else hi
