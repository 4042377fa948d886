"""Argument parsing of the scalar-parameter families (sums, orbit, tails), shared by the compiled
routes (gsa_fast.sums/orbit/tails) and their twins in gsa_fast.reference, so that both refuse a
bad argument with the same exception and the same message by construction.

Each function takes the raw arguments (host values: the device routes dispatch before these
run), checks them in the order the public function documents, and returns the validated
arrays broadcast and flattened (``broadcast_flat``) with the result shape. Imports only
_validate (the reference may import this module; tests/test_imports.py).
"""
from __future__ import annotations

import numpy as np

from ._validate import (MAX_LAPACK_INT, MAX_WIDTH, as_count_array, as_int, as_real_array, as_width,
                        broadcast_args, broadcast_flat, empty_result, type_error, value_error)

MAX_PROBS = 10**8  # orbit_probs: d and alpha.size * d (the materialized law)


# ---- sums ----------------------------------------------------------------------------------------

def power_arg(power, fn: str) -> int:
    """harmonic/harmonic_range's power: 0 (H), 1 (L) or 2 (Q)."""
    return as_int(power, fn, "power", choices={0, 1, 2})


def sum_params(fn: str, a, b, s):
    """(a, b, s) of Σ_{k=a}^{b} k^-s (log k)^j, broadcast: counts (a >= 1 for harmonic_range,
    d >= 0 otherwise; b <= 2**53) and finite s >= 0."""
    a = as_count_array(a, fn, "a" if fn == "harmonic_range" else "d", minimum=0 if fn != "harmonic_range" else 1)
    b = as_count_array(b, fn, "b" if fn == "harmonic_range" else "d", minimum=0)
    s = as_real_array(s, fn, "s", lo=0.0)
    if b.size and b.max() > MAX_WIDTH:
        raise ValueError(f"{fn}(): d must be <= 2**53; got {int(b.max())}")
    names = ("a", "b", "s") if fn == "harmonic_range" else (None, "d", "s")  # a = 1: not the caller's
    return tuple(broadcast_args(fn, names, a, b, s))


# ---- orbit ---------------------------------------------------------------------------------------

def alpha_arg(x, fn: str, arg: str = "alpha") -> np.ndarray:
    """An orbit exponent: finite reals >= 0 as float64."""
    return as_real_array(x, fn, arg, lo=0.0)


def derivative_arg(derivative, fn: str = "radial") -> int:
    """radial's derivative: 0, 1 or 2."""
    return as_int(derivative, fn, "derivative", choices={0, 1, 2})


def unary_params(fn: str, alpha, d):
    """(shape, [alpha, d]) of a unary orbit function: float64 alpha >= 0, int64 widths."""
    a = alpha_arg(alpha, fn)
    w = as_width(d, fn)
    return broadcast_flat(a.astype(np.float64, copy=False), w.astype(np.int64, copy=False), fn=fn,
                          names=("alpha", "d"))


def binary_params(fn: str, a, b, d, names=("alpha", "beta")):
    """(shape, [a, b, d]) of a binary orbit function (orbit_kl, orbit_bures_distance, bures_length)."""
    a = alpha_arg(a, fn, names[0])
    b = alpha_arg(b, fn, names[1])
    w = as_width(d, fn)
    return broadcast_flat(a, b, w, fn=fn, names=(names[0], names[1], "d"))


def probs_width(fn: str, w, size) -> int:
    """orbit_probs' d (checked by as_width; numpy or cupy) as an int, within the size limits."""
    if w.ndim != 0:
        raise value_error(fn, "d", "a scalar integer", f"an array of shape {w.shape}")
    d = int(w)
    if d > MAX_PROBS:
        raise value_error(fn, "d", "<= 1e8 (orbit_probs materializes p; use the sum-based "
                          "functions for larger d)", repr(d))
    if size * d > MAX_PROBS:
        raise value_error(fn, "alpha", "small enough that alpha.size * d <= 1e8", f"alpha.size = {size}")
    return d


def probs_params(fn: str, alpha, d):
    """(alpha as float64 of its own shape, d as an int) of orbit_probs."""
    a = alpha_arg(alpha, fn)
    return a, probs_width(fn, as_width(d, fn), a.size)


# ---- tails ---------------------------------------------------------------------------------------

def eps_open_arg(x, fn: str) -> np.ndarray:
    """A tail level in the open interval (0, 1)."""
    return as_real_array(x, fn, "eps", lo=0.0, hi=1.0, lo_open=True, hi_open=True)


def tail_params(fn: str, alpha, r, d):
    """(shape, [alpha, r, d]) of orbit_tail: alpha >= 0, 0 <= r <= d, widths."""
    a = alpha_arg(alpha, fn)
    rr = as_count_array(r, fn, "r", minimum=0)
    w = as_width(d, fn)
    shape, (a, rr, w) = broadcast_flat(a, rr, w, fn=fn, names=("alpha", "r", "d"))
    if rr.size and np.any(rr > w):
        i = int(np.argmax(rr > w))
        raise value_error(fn, "r", "<= d", f"r = {int(rr[i])} with d = {int(w[i])}")
    return shape, (a, rr, w)


def rank_params(fn: str, alpha, eps, d):
    """(shape, [alpha, eps, d]) of orbit_truncation_rank: eps in [0, 1)."""
    a = alpha_arg(alpha, fn)
    e = as_real_array(eps, fn, "eps", lo=0.0, hi=1.0, hi_open=True)
    w = as_width(d, fn)
    return broadcast_flat(a, e, w, fn=fn, names=("alpha", "eps", "d"))


def margin_params(fn: str, alpha, eps, d):
    """(shape, [alpha, eps, d]) of tail_margin: eps in (0, 1)."""
    a = alpha_arg(alpha, fn)
    e = eps_open_arg(eps, fn)
    w = as_width(d, fn)
    return broadcast_flat(a, e, w, fn=fn, names=("alpha", "eps", "d"))


def plateau_params(fn: str, eps, d, rmax):
    """(shape, [eps, d], rmax, out) of plateau_thresholds; rmax defaults to min(max(d), 64), taken
    from d before broadcasting; out is the flat float64 result buffer (empty_result's size limit)."""
    e = eps_open_arg(eps, fn)
    w = as_width(d, fn)
    if rmax is None:
        rmax = int(min(int(w.max()), 64)) if w.size else 0
    else:
        rmax = as_int(rmax, fn, "rmax", minimum=0, maximum=MAX_LAPACK_INT)
    shape, (e, w) = broadcast_flat(e, w, fn=fn, names=("eps", "d"))
    out = empty_result(e.size * rmax, fn, "rmax", repr(rmax))
    return shape, (e, w), rmax, out


def lip_constant(lip, fn: str = "tail_lipschitz") -> float:
    """tail_lipschitz's constant c of c·log d: "paper" 2, "sharp" 1/2."""
    if not isinstance(lip, str):
        raise type_error(fn, "lip", 'a str ("paper" or "sharp")', lip)
    if lip not in ("paper", "sharp"):
        raise value_error(fn, "lip", '"paper" or "sharp"', repr(lip))
    return 2.0 if lip == "paper" else 0.5
