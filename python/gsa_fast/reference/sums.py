"""Reference generalized harmonic sums (spec §3)."""
from __future__ import annotations

import numpy as np

from .._scalar_args import power_arg, sum_params
from ._sums_impl import range_sum

__all__ = ["harmonic", "harmonic_sums", "harmonic_range"]


def range_sums(a, b, s, power=0):
    """Σ_{k=a}^{b} k^-s (log k)^power, broadcast, without argument checks: for the orbit and tails
    twins, whose arguments are already validated (their s = 2α may be +inf, which the public
    functions refuse)."""
    a, b, s = np.broadcast_arrays(np.asarray(a, dtype=np.int64), np.asarray(b, dtype=np.int64),
                                  np.asarray(s, dtype=np.float64))
    return _loop(a, b, s, power)


def _sums(fn, a, b, s, power):
    """Σ_{k=a}^{b} k^-s (log k)^power on the arguments as the compiled route validates them."""
    return _loop(*sum_params(fn, a, b, s), power)


def _loop(a, b, s, power):
    out = np.empty(s.shape)
    for idx in np.ndindex(s.shape):
        out[idx] = range_sum(int(a[idx]), int(b[idx]), float(s[idx]), power)
    return out[()]


def harmonic_range(a, b, s, power=0):
    return _sums("harmonic_range", a, b, s, power_arg(power, "harmonic_range"))


def harmonic(d, s, power=0):
    return _sums("harmonic", 1, d, s, power_arg(power, "harmonic"))


def harmonic_sums(d, s):
    return tuple(_sums("harmonic_sums", 1, d, s, j) for j in range(3))
