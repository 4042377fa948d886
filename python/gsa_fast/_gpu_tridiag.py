"""Eigenvalues of symmetric tridiagonal matrices on the device (cupy) or the host (numpy), the
third stage of the two-stage eigensolver (issue 12 §2; docs/gpu.md).

:func:`eigvalsh_tridiagonal` takes ``T = tridiag(e, d, e)`` (``d`` of length n, ``e`` of length
n − 1, or stacks ``(count, n)`` / ``(count, n − 1)``) and returns its eigenvalues ascending, by
Sturm-count multisection (cpp/include/gsa_fast/math/tridiag.hpp): the CUDA kernel
(cuda/tridiag.cu) for cupy input, the C++ executor (cpp/src/linalg/tridiag_bisect.cpp, threads
over eigenvalues) for numpy input. Both run the same header arithmetic, so with the same
``points`` they give the same bits. The absolute error is ≲ 12·u·max|T_ij| (u = 2⁻⁵³),
independent of n (derivation in the header) — tighter than LAPACK dsterf's, which is what the
host route of _two_stage uses.

Device route: cupy in, cupy out, on the current device and stream; the only host round trip is
the one boolean of the finiteness check (before any launch). The input is read in place
(C-contiguous rows required; device views are never copied); 2·count·n + 6·count doubles of
workspace are allocated on the device.
"""
from __future__ import annotations

import numpy as np

from . import _backend
from ._validate import as_threads, type_error, value_error

# Multisection points per eigenvalue. Device: up to 16 lanes (half a warp) per eigenvalue, from
# the floor estimate in docs/gpu.md: for one matrix the chain of dependent divisions, not the
# arithmetic, bounds one thread per eigenvalue, so more lanes per eigenvalue (fewer, wider steps)
# pay; once count·n·points threads fill the device (DEVICE_THREADS, ≈ 2 waves of an H100/H200's
# 132 SMs × 2048 threads) extra lanes only add arithmetic, and :func:`device_points` lowers
# points to 1 (fewest flops). TODO(measure on device): bench/bench_gpu.py sweeps 1..32. Host: 8
# interleaved counts per core were fastest in one run on the development machine (n = 4096).
POINTS_DEVICE = 16
POINTS_HOST = 8
DEVICE_THREADS = 1 << 19
_POINTS = (1, 2, 4, 8, 16, 32)


def device_points(count, n):
    """The default points of a (count, n) stack on the device: the largest power of two ≤
    POINTS_DEVICE with count·n·points ≤ DEVICE_THREADS, at least 1."""
    k = POINTS_DEVICE
    while k > 1 and count * n * k > DEVICE_THREADS:
        k //= 2
    return k


def _operands(xp, d, e, fn):
    """(d, e, batch shape) as arrays of namespace xp with d (count, n), e (count, n − 1)."""
    if _backend.namespace(d, e) is not xp:
        raise TypeError(f"{fn}(): d and e must be {xp.__name__} arrays (host and device arrays cannot be "
                        f"mixed); got {type(d).__name__} and {type(e).__name__}")
    for name, a in (("d", d), ("e", e)):
        if not hasattr(a, "dtype") or a.dtype != np.float64:
            raise type_error(fn, name, "a float64 array", a)
    if d.ndim not in (1, 2):
        raise value_error(fn, "d", "1-D (n,) or a 2-D stack (count, n)", f"shape {tuple(d.shape)}")
    n = int(d.shape[-1])
    want = (*d.shape[:-1], max(n - 1, 0))
    if tuple(e.shape) != want:
        raise value_error(fn, "e", f"shape {want} (n - 1 off-diagonal entries per diagonal of d)",
                          f"shape {tuple(e.shape)}")
    return d, e, tuple(d.shape[:-1])


def _points(points, default, fn):
    if points is None:
        return default
    if isinstance(points, bool) or not isinstance(points, (int, np.integer)) or int(points) not in _POINTS:
        raise value_error(fn, "points", f"one of {_POINTS}", repr(points))
    return int(points)


def eigvalsh_tridiagonal(xp, d, e, *, points=None, threads=None, fn="eigvalsh_tridiagonal"):
    """Eigenvalues, ascending, of the symmetric tridiagonal ``tridiag(e, d, e)`` (or of each in a
    stack): an ``xp`` float64 array of d's shape. ``points``: multisection points per eigenvalue
    and step (1, 2, 4, 8, 16 or 32; 1 is bisection; default :func:`device_points` on the device,
    POINTS_HOST on the host);
    ``threads``: host threads (numpy input only; None: the library default)."""
    d, e, batch = _operands(xp, d, e, fn)
    n = int(d.shape[-1])
    count = int(np.prod(batch, dtype=np.int64))
    k = _points(points, POINTS_HOST if xp is np else device_points(count, n), fn)
    nthreads = as_threads(threads, fn)
    if n == 0 or count == 0:
        return xp.empty(d.shape, dtype=np.float64)
    if not bool(xp.isfinite(d).all() & xp.isfinite(e).all()):  # one host read for both
        raise value_error(fn, "d and e", "finite", "NaN or Inf")
    if xp is np:
        d2 = np.ascontiguousarray(d).reshape(count, n)  # copies only a strided view: O(n) against O(n²) work
        e2 = np.ascontiguousarray(e).reshape(count, n - 1)
        w = np.empty((count, n), dtype=np.float64)
        _backend.core.tridiag_eigvalues(d2, e2, w, k, nthreads)
        return w.reshape(d.shape)
    cuda = _backend.require_cuda(fn)
    for name, a in (("d", d), ("e", e)):
        if not a.flags.c_contiguous:
            raise value_error(fn, name, "C-contiguous (device views are never copied)", f"strides {a.strides}")
    w = xp.empty((count, n), dtype=np.float64)
    work = xp.empty(2 * count * n, dtype=np.float64)
    params = xp.empty(6 * count, dtype=np.float64)
    cuda.tridiag_eigvalues(d.data.ptr, e.data.ptr if e.size else 0, count, n, k, work.data.ptr,
                           params.data.ptr, w.data.ptr, xp.cuda.get_current_stream().ptr)
    return w.reshape(d.shape)
