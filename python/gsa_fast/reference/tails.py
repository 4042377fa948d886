"""Reference (pure numpy, float64) orbit tails and ranks (spec §8.2–§8.4): clear, not fast.

``T_α(r)`` is ``fsum`` of the materialized suffix ``k^-2α, k > r`` over ``fsum`` of all terms
when the terms fit in memory (suffix ≤ 1e6 terms, ``d ≤ 1e6`` for ``H``), and the reference
harmonic sums otherwise. Ranks search ``r`` by bisection on that tail; thresholds are roots
found by bisection to the last bit (``_numerics.bisect_root``).
"""
from __future__ import annotations

import math

import numpy as np

from .._scalar_args import lip_constant, margin_params, plateau_params, rank_params, tail_params
from .._validate import as_width
from ._numerics import bisect_root

from .sums import range_sums

__all__ = [
    "orbit_tail",
    "orbit_truncation_rank",
    "tail_margin",
    "plateau_thresholds",
    "tail_lipschitz",
]

MATERIALIZE = 10**6


def _far_suffix(a: int, b: int, s: float) -> float:
    """Σ_{k=a}^{b} k^-s for a ≥ 1e6 by the midpoint rule
    ∫_{a−½}^{b+½} x^-s dx − [f′]/24 + 7[f‴]/5760 (remainder ~ s⁵ a^{-s-5}), with the integral as
    (a−½)^{1−s} expm1((1−s) log1p((b−a+1)/(a−½)))/(1−s), which does not cancel for b ≈ a."""
    lo, hi = a - 0.5, b + 0.5
    D = math.log1p((b - a + 1) / lo)
    t = 1.0 - s
    integral = lo**t * (D if t == 0.0 else math.expm1(t * D) / t)
    f1 = lambda x: -s * x ** (-s - 1)  # noqa: E731
    f3 = lambda x: -s * (s + 1) * (s + 2) * x ** (-s - 3)  # noqa: E731
    return integral - (f1(hi) - f1(lo)) / 24.0 + 7.0 * (f3(hi) - f3(lo)) / 5760.0


def _power_sum(a: int, b: int, s: float) -> float:
    """Σ_{k=a}^{b} k^-s."""
    if b < a:
        return 0.0
    if s == 0.0:
        return float(b - a + 1)
    if b - a < MATERIALIZE:
        k = np.arange(a, b + 1, dtype=np.float64)
        return math.fsum(k ** (-s))
    if b < 2 * a:  # far-out segment: reference.harmonic_range forms log(b/a) as log b − log a
        return _far_suffix(a, b, s)
    return float(range_sums(a, b, s))


def _tail(alpha: float, r: int, d: int) -> float:
    if r <= 0:
        return 1.0
    if r >= d:
        return 0.0
    # k ≥ 2 terms underflow from s ≈ 1075: min(2α, 1500) changes no sum and keeps s·x from
    # overflowing (α = 1e300, d = 1e12: the midpoint-rule suffix was NaN).
    s = min(2.0 * alpha, 1500.0)
    if s == 0.0:
        return (d - r) / d
    return _power_sum(r + 1, d, s) / (_power_sum(1, d, s) if d <= MATERIALIZE else float(range_sums(1, d, s)))


def _map(one, shape, flat, dtype=np.float64):
    """one(*scalars) over the flat validated parameter arrays, reshaped to the broadcast shape."""
    out = np.empty(flat[0].size, dtype=dtype)
    for i in range(out.size):
        out[i] = one(*[a[i].item() for a in flat])
    return out.reshape(shape)[()]


def orbit_tail(alpha, r, d):
    return _map(lambda a, rr, n: _tail(a, int(rr), int(n)), *tail_params("orbit_tail", alpha, r, d))


def _rank(alpha: float, eps: float, d: int) -> int:
    if eps >= 1.0 or d == 1:
        return 1
    if eps == 0.0:
        return d
    if d <= MATERIALIZE and alpha > 0.0:
        # locate r on a cumulative-sum table, then settle it with exact (fsum) tails
        w = np.arange(1, d + 1, dtype=np.float64) ** (-2.0 * alpha)
        suffix = np.cumsum(w[::-1])[::-1]  # suffix[j] = Σ_{k > j} w_k (0-based j = r)
        r = int(np.argmax(np.append(suffix[1:], 0.0) <= eps * suffix[0])) + 1
        while r < d and _tail(alpha, r, d) > eps:
            r += 1
        while r > 1 and _tail(alpha, r - 1, d) <= eps:
            r -= 1
        return r
    lo, hi = 1, d  # T(d) = 0 ≤ eps
    while lo < hi:
        mid = (lo + hi) // 2
        if _tail(alpha, mid, d) <= eps:
            hi = mid
        else:
            lo = mid + 1
    return hi


def orbit_truncation_rank(alpha, eps, d):
    return _map(lambda a, e, n: _rank(a, e, int(n)), *rank_params("orbit_truncation_rank", alpha, eps, d),
                dtype=np.int64)


def tail_margin(alpha, eps, d):
    def one(a, e, n):
        n = int(n)
        r = _rank(a, e, n)
        return max(0.0, min(e - _tail(a, r, n), _tail(a, r - 1, n) - e))

    return _map(one, *margin_params("tail_margin", alpha, eps, d))


def _threshold(eps: float, d: int, r: int) -> float:
    if r >= d or 1.0 - r / d <= eps:
        return 0.0
    hi = 1.0
    while _tail(hi, r, d) > eps:
        hi *= 2.0
    return bisect_root(lambda a: _tail(a, r, d) - eps, 0.0, hi)


def plateau_thresholds(eps, d, rmax=None):
    # rmax defaults to min(max(d), 64) from d as given, before broadcasting (eps=[] gives (0, 64))
    shape, (eps, d), rmax, out = plateau_params("plateau_thresholds", eps, d, rmax)
    out = out.reshape(eps.size, rmax)
    for i in range(eps.size):
        for r in range(1, rmax + 1):
            out[i, r - 1] = _threshold(float(eps[i]), int(d[i]), r)
    return out.reshape(shape + (rmax,))


def tail_lipschitz(d, lip="paper"):
    fn = "tail_lipschitz"
    c = lip_constant(lip, fn)
    return (c * np.log(as_width(d, fn).astype(np.float64)))[()]
