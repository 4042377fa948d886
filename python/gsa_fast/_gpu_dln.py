"""GPU routes of the depth family's spectral and scalar functions (cupy in, cupy out): the DLN
geometry of depth-math §8.3/§8.5 (dln_eigenvalues, dln_operator, dln_metric_norm, dln_log_volume),
the effective rank (§8.6), the separation and depth-scaling diagnostics (§5) and the closed forms
random_lyapunov / gated_rank_law (§2, §3, §6). Kernels: cuda/depth.cu.

* The O(d²)-per-row work (λ_kl, the log-volume pair sums and gradient, the effective rank's pass)
  runs in cuda/depth.cu through the GSA_HD functions of math/dln.hpp and math/depth.hpp that the
  CPU kernels call.
* dln_operator / dln_metric_norm: one cuSOLVER SVD of X and cuBLAS products (cupy), λ from the
  kernel; the frame code is the CPU route's (_depth_common.dln_frame, written against the array
  library of its operands), with the CUDA kernel in place of the compiled CPU one.
* separation_ratios / depth_scaling_fit: elementwise work and small reductions, the CPU route's
  code (_depth_common.separation_from / scaling_fit_from) run on cupy arrays.
* random_lyapunov / gated_rank_law take scalar parameters: "cupy in" is a parameter given as a
  0-d cupy array. The parameters set the output sizes, so they are read to the host (one scalar
  each); the closed forms cost O(n·window) (well under a millisecond for n = 4096) and are
  evaluated there, and the result arrays are uploaded once (cupy out). ``RankLaw.mean`` stays a
  Python float; the result types' methods run in the library of their arrays.

Validation is the CPU route's, with its messages, on the device (``_gpu_orbit.check_real``) and
before any launch; the only host reads are those verdicts (one bool each), the inverse=True rank
test of dln_operator (one bool, after the SVD, as on the CPU) and, for separation_ratios, a cupy
``eps`` (a scalar). A host array beside device operands is a TypeError.
"""
from __future__ import annotations

import numpy as np

from . import _backend
from ._depth_common import (LOG_SPECTRA, RandomLyapunov, RankLaw, _inv_n, _log_spectra, _spectra_rows,
                            array_module, dln_apply, dln_frame, dln_pair, fit_window, metric_norm_from,
                            scaling_fit_from, separation_from, real_scalar, fit_baseline)
from ._gpu_energy import _layout
from ._gpu_margins import to_host
from ._gpu_orbit import check_real
from ._validate import as_flag, as_threads, batch_rows, type_error, value_error

__all__ = ["dln_log_volume", "dln_eigenvalues", "dln_operator", "dln_metric_norm", "effective_rank",
           "separation_ratios", "depth_scaling_fit", "random_lyapunov", "gated_rank_law"]


def device_real(**rule):
    """as_real_array's rule (options ``rule``) for a device operand, as the ``real`` argument of
    the shared checks; a host value beside device operands is the TypeError."""
    def real(x, fn, arg, **more):
        if not _backend.is_cupy(x):
            raise type_error(fn, arg, "a cupy array like the other operands (host and device arrays "
                             "cannot be mixed)", x)
        return check_real(array_module(x), x, fn, arg, **rule, **more)
    return real


def _stream(xp):
    """cupy's current stream (0 for numpy: the CPU test runs these routes with a stand-in for the
    CUDA module, tests/test_depth.py)."""
    return xp.cuda.get_current_stream().ptr if xp is not np else 0


def _ptr(a):
    """The address of an array's data: a device pointer for cupy, a host one for numpy."""
    return a.ctypes.data if isinstance(a, np.ndarray) else a.data.ptr


def lam_rows(cp, cuda):
    """λ rows by the CUDA kernel: the device twin of gsa_fast.depth._lam_rows."""
    def run(sk, sl, inv_n):
        rows, m = sk.shape
        n = sl.shape[1]
        out = cp.empty((rows, m, n), dtype=cp.float64)
        if out.size:
            cuda.dln_lambda_matrix(_ptr(sk), _ptr(sl), rows, m, n, inv_n, _ptr(out), _stream(cp))
        return out
    return run


def dln_eigenvalues(sigma, N=None, *, threads=None):
    fn = "dln_eigenvalues"
    cp = _backend.namespace(sigma)
    cuda = _backend.require_cuda(fn)
    s = _spectra_rows(sigma, fn, real=device_real())
    inv_n = _inv_n(N, fn)
    as_threads(threads, fn)  # checked as on the CPU; no effect on the device
    flat = cp.ascontiguousarray(batch_rows(s))
    return lam_rows(cp, cuda)(flat, flat, inv_n).reshape(s.shape + (s.shape[-1],))


def dln_log_volume(sigma, N=None, *, grad=False, threads=None):
    fn = "dln_log_volume"
    cp = _backend.namespace(sigma)
    cuda = _backend.require_cuda(fn)
    s = _spectra_rows(sigma, fn, real=device_real())
    inv_n = _inv_n(N, fn)
    grad = as_flag(grad, fn, "grad")
    as_threads(threads, fn)
    flat = cp.ascontiguousarray(batch_rows(s))
    rows, d = flat.shape
    S = cp.empty(rows, dtype=cp.float64)
    G = cp.empty_like(flat) if grad else None
    if rows:
        work = cp.empty_like(flat)  # log σ, one row per block
        cuda.dln_log_volume(_ptr(flat), rows, d, inv_n, _ptr(work), _ptr(S), _ptr(G) if grad else 0,
                            _stream(cp))
    S = S.reshape(s.shape[:-1])
    return (S, G.reshape(s.shape)) if grad else S


def _frame(X, Z, N, fn, threads):
    cp = _backend.namespace(X, Z)
    cuda = _backend.require_cuda(fn)
    x, z = dln_pair(X, Z, fn, real=device_real())
    inv_n = _inv_n(N, fn)
    as_threads(threads, fn)
    return dln_frame(x, z, inv_n, lam_rows(cp, cuda))


def dln_operator(X, Z, N=None, *, inverse=False, threads=None):
    inverse = as_flag(inverse, "dln_operator", "inverse")
    return dln_apply(*_frame(X, Z, N, "dln_operator", threads), inverse, "dln_operator")


def dln_metric_norm(X, Z, N=None, *, threads=None):
    _, zt, lam, _ = _frame(X, Z, N, "dln_metric_norm", threads)
    return metric_norm_from(zt, lam)


def effective_rank(spectra, *, threads=None):
    fn = "effective_rank"
    if isinstance(spectra, (list, tuple)):
        operands = tuple(spectra)
    else:
        operands = (getattr(spectra, "values", spectra),)
    cp = _backend.namespace(*operands)
    cuda = _backend.require_cuda(fn)
    as_threads(threads, fn)
    values, starts, lengths, bshape, _ = _layout(cp, spectra, fn)  # the energy routes' rules
    if values.size and not bool((cp.isfinite(values) & (values >= 0)).all()):
        raise value_error(fn, "spectra", "finite singular values >= 0", "NaN, Inf or a negative value")
    n = int(lengths.size)
    out = cp.empty(n, dtype=cp.float64)
    if n:
        cuda.effective_rank(_ptr(values), bool(values.dtype == np.float32), _ptr(starts), _ptr(lengths),
                            n, _ptr(out), _stream(cp))
    return out.reshape(bshape)


def _host_scalar(x):
    """A 0-d device parameter as a host numpy scalar (other values unchanged)."""
    return to_host(x)[()] if _backend.is_cupy(x) and x.ndim == 0 else x


def separation_ratios(log_s, eps=None):
    fn = "separation_ratios"
    a = _log_spectra(log_s, fn, "log_s", real=device_real(allow_inf=True, what=LOG_SPECTRA))
    e = None if eps is None else real_scalar(_host_scalar(eps), fn, "eps", lo=0.0, lo_open=True)
    return separation_from(a, e)


def depth_scaling_fit(y, start=0, stop=None, baseline=None):
    fn = "depth_scaling_fit"
    _backend.namespace(y, baseline)  # a host baseline beside a device y: the TypeError
    a, w, ell = fit_window(y, start, stop, fn, real=device_real(allow_inf=True, what=LOG_SPECTRA))
    base = fit_baseline(baseline, a, fn, real=device_real())
    return scaling_fit_from(a, w, ell, base)


def _host_params(fn, **params):
    """Scalar parameters with 0-d device arrays read to the host (anything else unchanged; a
    device array with axes is the TypeError: these functions take scalars)."""
    out = {}
    for name, x in params.items():
        if _backend.is_cupy(x):
            if x.ndim != 0:
                raise type_error(fn, name, "a scalar (a 0-d cupy array on the device)", x)
            x = to_host(x)[()].item()
        out[name] = x
    return out


def _device_of(*params):
    """The array library of the device parameters (cupy)."""
    return _backend.namespace(*[x for x in params if _backend.is_cupy(x)])


def random_lyapunov(n, p=1.0, sigma=None, r=None):
    from . import depth

    cp = _device_of(n, p, sigma, r)
    res = depth.random_lyapunov(**_host_params("random_lyapunov", n=n, p=p, sigma=sigma, r=r))
    return RandomLyapunov(*(cp.asarray(v) for v in res))


def gated_rank_law(n, L, p, r0=None, model="G"):
    from . import depth

    cp = _device_of(n, L, p, r0)
    res = depth.gated_rank_law(**_host_params("gated_rank_law", n=n, L=L, p=p, r0=r0), model=model)
    return RankLaw(cp.asarray(res.sf), res.mean)
