"""GPU route of the harmonic sums (cupy in, cupy out): cuda/sums.cu, same header math as the CPU.

The parameters get the CPU route's rules and messages (``_scalar_args.sum_params``) before the
launch: a cupy operand is checked on the device (``_gpu_orbit.check_count`` / ``check_real``), a
Python scalar or list on the host. :func:`sum_checks` is written against the array namespace, so
tests/test_sums.py runs it on numpy and compares it with the CPU validation."""
from __future__ import annotations

import numpy as np

from . import _backend
from ._gpu_orbit import check_count, check_real
from ._validate import MAX_WIDTH, as_count_array, as_real_array, broadcast_args


def _is_array(x) -> bool:
    """A cupy array (or, in the CPU tests, a numpy array): checked in its namespace."""
    return _backend.is_cupy(x) or isinstance(x, np.ndarray)


def sum_checks(xp, fn, a, b, s):
    """sum_params on namespace ``xp``: (a, b, s) broadcast, int64/int64/float64 arrays of ``xp``;
    a >= 1 for harmonic_range (d >= 0 otherwise), b <= 2**53, finite s >= 0."""
    range_ = fn == "harmonic_range"
    counts = (("a" if range_ else "d", 1 if range_ else 0, a), ("b" if range_ else "d", 0, b))
    a, b = (check_count(xp, x, fn, arg, minimum=lo) if _is_array(x)
            else xp.asarray(as_count_array(x, fn, arg, minimum=lo)) for arg, lo, x in counts)
    s = check_real(xp, s, fn, "s", lo=0.0) if _is_array(s) else xp.asarray(as_real_array(s, fn, "s", lo=0.0))
    if b.size and int(b.max()) > MAX_WIDTH:
        raise ValueError(f"{fn}(): d must be <= 2**53; got {int(b.max())}")
    names = ("a", "b", "s") if range_ else (None, "d", "s")  # a = 1: not the caller's
    return tuple(broadcast_args(fn, names, a, b, s, xp=xp))


def harmonic_range(fn, a, b, s, want):
    """Σ_{k=a}^{b} k^-s (log k)^j for j in want, on the device (cupy in, cupy out)."""
    cp = _backend.namespace(a if hasattr(a, "shape") else None, b if hasattr(b, "shape") else None,
                            s if hasattr(s, "shape") else None)
    cuda = _backend.require_cuda(fn)
    a, b, s = sum_checks(cp, fn, a, b, s)
    shape = s.shape
    a = cp.ascontiguousarray(a, dtype=cp.int64).reshape(-1)
    b = cp.ascontiguousarray(b, dtype=cp.int64).reshape(-1)
    s = cp.ascontiguousarray(s, dtype=cp.float64).reshape(-1)
    outs = [cp.empty(s.size) if j in want else None for j in range(3)]
    ptr = [0 if o is None else o.data.ptr for o in outs]
    stream = cp.cuda.get_current_stream().ptr
    cuda.harmonic_range(a.data.ptr, b.data.ptr, s.data.ptr, s.size, ptr[0], ptr[1], ptr[2], stream)
    return [outs[j].reshape(shape) for j in want]
