"""GPU route of the orbit functions (cupy in, cupy out): one thread per (α, d) pair or
(α, β, d) triple, the math of cpp/include/gsa_fast/math/orbit.hpp; orbit_probs one block per
(α, tile of ranks), into a (..., d) cupy array allocated here. Kernels: cuda/orbit.cu.

The parameters are checked on the device with the CPU route's rules and messages
(``_validate.as_real_array`` / ``as_width``) before any launch; a Python scalar operand is
validated on the host and broadcast. The result is a float64 cupy array of the broadcast shape
(0-d for all-scalar cupy input)."""
from __future__ import annotations

import numpy as np

from . import _backend
from ._validate import MAX_EXACT_INT, MAX_WIDTH, as_real_array, as_width, broadcast_args, type_error, value_error


def _kind_check(a, fn, arg, expected):
    if a.dtype.kind == "b":
        raise type_error(fn, arg, expected + " (not bool)", a)
    if a.dtype.kind not in "iuf":
        raise type_error(fn, arg, expected, a)


def _real(cp, x, fn, arg):
    """alpha/beta: finite reals >= 0 as a float64 cupy array (as_real_array(lo=0) on the device)."""
    if not _backend.is_cupy(x):
        return cp.asarray(as_real_array(x, fn, arg, lo=0.0))
    return check_real(cp, x, fn, arg, lo=0.0)


def _width(cp, x, fn, arg="d"):
    """d: integers in [1, 2**53] as an int64 cupy array (as_width on the device)."""
    if not _backend.is_cupy(x):
        return cp.asarray(as_width(x, fn, arg))
    return check_width(cp, x, fn, arg)


def check_width(xp, a, fn, arg="d"):
    """as_width's rules on an array of namespace ``xp``: integers in [1, 2**53], int64 result."""
    a = check_count(xp, a, fn, arg, minimum=1)
    if a.size and int(a.max()) > MAX_WIDTH:
        raise value_error(fn, arg, "integers <= 2**53", repr(int(a.max())))
    return a


def check_real(xp, a, fn, arg, *, lo=None, hi=None, lo_open=False, hi_open=False, allow_inf=False,
               what="a real number (or array of reals)"):
    """as_real_array's rules on an array of namespace ``xp``; float64 result."""
    _kind_check(a, fn, arg, what)
    a = a.astype(np.float64, copy=False)
    if a.size:
        if bool(xp.isnan(a).any()):
            raise value_error(fn, arg, "free of NaN", "NaN")
        if not allow_inf and bool(xp.isinf(a).any()):
            raise value_error(fn, arg, "finite", "Inf")
        if lo is not None:
            bad = (a <= lo) if lo_open else (a < lo)
            if bool(bad.any()):
                raise value_error(fn, arg, f"{'>' if lo_open else '>='} {lo}", repr(float(a[bad].ravel()[0].item())))
        if hi is not None:
            bad = (a >= hi) if hi_open else (a > hi)
            if bool(bad.any()):
                raise value_error(fn, arg, f"{'<' if hi_open else '<='} {hi}", repr(float(a[bad].ravel()[0].item())))
    return a


def check_count(xp, a, fn, arg, *, minimum=0):
    """as_count_array's rules on an array of namespace ``xp``; int64 result."""
    _kind_check(a, fn, arg, f"an integer (or array of integers) >= {minimum}")
    if a.dtype.kind == "f":
        if a.size and not bool(xp.isfinite(a).all()):
            raise value_error(fn, arg, f"finite integers >= {minimum}", "NaN or Inf")
        frac = a != xp.floor(a)
        if bool(frac.any()):
            raise value_error(fn, arg, f"integers >= {minimum}", f"non-integer {a[frac].ravel()[0].item()!r}")
        if a.size and bool((xp.abs(a) > MAX_EXACT_INT).any()):
            raise value_error(fn, arg, "integers <= 2**53", f"{a.max().item()!r}")
        a = a.astype(np.int64)
    elif a.dtype.kind == "u":
        if a.size and int(a.max()) > np.iinfo(np.int64).max:
            raise value_error(fn, arg, "integers that fit in int64", f"{a.max().item()!r}")
        a = a.astype(np.int64)
    else:
        a = a.astype(np.int64, copy=False)
    if a.size and int(a.min()) < minimum:
        raise value_error(fn, arg, f"integers >= {minimum}", f"{a.min().item()!r}")
    return a


def _flat(cp, *arrays, fn=None, names=None):
    b = broadcast_args(fn, names, *arrays, xp=cp) if fn is not None else cp.broadcast_arrays(*arrays)
    return b[0].shape, [cp.ascontiguousarray(x).reshape(-1) for x in b]


def orbit_unary(fn, op, alpha, d):
    cp = _backend.namespace(alpha, d)
    cuda = _backend.require_cuda(fn)
    a = _real(cp, alpha, fn, "alpha")
    w = _width(cp, d, fn)
    shape, (a, w) = _flat(cp, a, w, fn=fn, names=("alpha", "d"))
    out = cp.empty(a.size, dtype=cp.float64)
    cuda.orbit_unary(op, a.data.ptr, w.data.ptr, a.size, out.data.ptr,
                     cp.cuda.get_current_stream().ptr)
    return out.reshape(shape)


def orbit_binary(fn, op, a, b, d, names=("alpha", "beta")):
    cp = _backend.namespace(a, b, d)
    cuda = _backend.require_cuda(fn)
    a = _real(cp, a, fn, names[0])
    b = _real(cp, b, fn, names[1])
    w = _width(cp, d, fn)
    shape, (a, b, w) = _flat(cp, a, b, w, fn=fn, names=(names[0], names[1], "d"))
    out = cp.empty(a.size, dtype=cp.float64)
    cuda.orbit_binary(op, a.data.ptr, b.data.ptr, w.data.ptr, a.size, out.data.ptr,
                      cp.cuda.get_current_stream().ptr)
    return out.reshape(shape)


def orbit_probs(fn, alpha, d, probs_width):
    """p_k(α), k = 1..d, as a float64 cupy array alpha.shape + (d,); ``probs_width`` is the CPU
    route's check of d (gsa_fast._scalar_args.probs_width)."""
    cp = _backend.namespace(alpha, d)
    cuda = _backend.require_cuda(fn)
    a = _real(cp, alpha, fn, "alpha")
    w = probs_width(fn, _width(cp, d, fn), a.size)
    flat = cp.ascontiguousarray(a).reshape(-1)
    out = cp.empty(a.shape + (w,), dtype=cp.float64)
    cuda.orbit_probs(flat.data.ptr, flat.size, w, out.data.ptr, cp.cuda.get_current_stream().ptr)
    return out
