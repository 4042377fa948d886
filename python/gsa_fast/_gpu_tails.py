"""GPU route of the orbit tails family (cupy in, cupy out): orbit_tail, orbit_truncation_rank,
tail_margin and plateau_thresholds run one thread per parameter tuple over the math of
cpp/include/gsa_fast/math/tails.hpp (kernels: cuda/tails.cu); tail_lipschitz is ``c·log d`` in
cupy.

Parameters are checked where they live, with the CPU route's rules and messages, before any
launch: the checks below are written against the array namespace, so tests/test_tails.py runs
them on numpy arrays and compares their messages with the CPU validators'. A Python scalar
operand is validated on the host and broadcast. Results are cupy arrays of the broadcast shape
(0-d for all-scalar cupy input)."""
from __future__ import annotations

import numpy as np

from . import _backend
from ._gpu_orbit import _flat, _width, check_count, check_real
from ._validate import (MAX_LAPACK_INT, as_count_array, as_int, as_real_array, check_result_size, type_error,
                        value_error)


def _real(cp, x, fn, arg, **kw):
    if not _backend.is_cupy(x):
        return cp.asarray(as_real_array(x, fn, arg, **kw))
    return check_real(cp, x, fn, arg, **kw)


def _count(cp, x, fn, arg):
    if not _backend.is_cupy(x):
        return cp.asarray(as_count_array(x, fn, arg, minimum=0))
    return check_count(cp, x, fn, arg, minimum=0)


def _launch(cp, fn, kernel, args, n, out):
    cuda = _backend.require_cuda(fn)
    getattr(cuda, kernel)(*(a.data.ptr for a in args), n, out.data.ptr, cp.cuda.get_current_stream().ptr)


def orbit_tail(alpha, r, d):
    fn = "orbit_tail"
    cp = _backend.namespace(alpha, r, d)
    a = _real(cp, alpha, fn, "alpha", lo=0.0)
    rr = _count(cp, r, fn, "r")
    w = _width(cp, d, fn)
    shape, (a, rr, w) = _flat(cp, a, rr, w, fn=fn, names=("alpha", "r", "d"))
    over = rr > w
    if rr.size and bool(over.any()):
        i = int(cp.argmax(over))
        raise value_error(fn, "r", "<= d", f"r = {int(rr[i])} with d = {int(w[i])}")
    out = cp.empty(a.size, dtype=cp.float64)
    _launch(cp, fn, "orbit_tail", (a, rr, w), a.size, out)
    return out.reshape(shape)


def _alpha_eps_d(fn, alpha, eps, d, eps_rule, out_dtype):
    """One thread per (α, ε, d): the two kernels that take an energy level."""
    cp = _backend.namespace(alpha, eps, d)
    a = _real(cp, alpha, fn, "alpha", lo=0.0)
    e = _real(cp, eps, fn, "eps", lo=0.0, hi=1.0, hi_open=True, **eps_rule)
    w = _width(cp, d, fn)
    shape, (a, e, w) = _flat(cp, a, e, w, fn=fn, names=("alpha", "eps", "d"))
    out = cp.empty(a.size, dtype=out_dtype)
    _launch(cp, fn, fn, (a, e, w), a.size, out)
    return out.reshape(shape)


def orbit_truncation_rank(alpha, eps, d):
    return _alpha_eps_d("orbit_truncation_rank", alpha, eps, d, {}, np.int64)  # ε ∈ [0, 1)


def tail_margin(alpha, eps, d):
    return _alpha_eps_d("tail_margin", alpha, eps, d, {"lo_open": True}, np.float64)  # ε ∈ (0, 1)


def plateau_thresholds(eps, d, rmax=None):
    fn = "plateau_thresholds"
    cp = _backend.namespace(eps, d)
    e = _real(cp, eps, fn, "eps", lo=0.0, hi=1.0, lo_open=True, hi_open=True)
    w = _width(cp, d, fn)
    if rmax is None:
        rmax = int(min(int(w.max()), 64)) if w.size else 0
    else:
        rmax = as_int(rmax, fn, "rmax", minimum=0, maximum=MAX_LAPACK_INT)
    shape, (e, w) = _flat(cp, e, w, fn=fn, names=("eps", "d"))
    check_result_size(e.size * rmax, fn, "rmax", repr(rmax))  # the CPU route's limit, before allocating
    try:
        out = cp.empty(e.size * rmax, dtype=cp.float64)
    except cp.cuda.memory.OutOfMemoryError as exc:
        free, _ = cp.cuda.runtime.memGetInfo()
        raise MemoryError(f"{fn}(): rmax = {rmax} needs {8 * e.size * rmax} bytes on the device; "
                          f"{free} free") from exc
    cuda = _backend.require_cuda(fn)
    cuda.plateau_thresholds(e.data.ptr, w.data.ptr, e.size, rmax, out.data.ptr,
                            cp.cuda.get_current_stream().ptr)
    return out.reshape(shape + (rmax,))


def tail_lipschitz(d, lip="paper"):
    fn = "tail_lipschitz"
    cp = _backend.namespace(d)
    if not isinstance(lip, str):
        raise type_error(fn, "lip", 'a str ("paper" or "sharp")', lip)
    if lip not in ("paper", "sharp"):
        raise value_error(fn, "lip", '"paper" or "sharp"', repr(lip))
    w = _width(cp, d, fn)
    return (2.0 if lip == "paper" else 0.5) * cp.log(w.astype(cp.float64))
