"""Reference generalized harmonic sums (spec §3)."""
from __future__ import annotations

import numpy as np

from ._sums_impl import range_sum

__all__ = ["harmonic", "harmonic_sums", "harmonic_range"]


def harmonic_range(a, b, s, power=0):
    a, b, s = np.broadcast_arrays(np.asarray(a, dtype=np.int64), np.asarray(b, dtype=np.int64),
                                  np.asarray(s, dtype=np.float64))
    out = np.empty(s.shape)
    for idx in np.ndindex(s.shape):
        out[idx] = range_sum(int(a[idx]), int(b[idx]), float(s[idx]), int(power))
    return out[()]


def harmonic(d, s, power=0):
    return harmonic_range(1, d, s, power)


def harmonic_sums(d, s):
    return tuple(harmonic(d, s, j) for j in range(3))
