"""Reference (pure numpy, float64) Gram matrices and singular values, one matrix at a time.

Same names and signatures as :mod:`gsa_fast.spectra`; written for clarity: every matrix is
upcast to float64 and handed to ``numpy.linalg.svd(..., compute_uv=False)``.
"""
from __future__ import annotations

import numpy as np

from .. import _spectra_args as _args
from .._ragged import RaggedSpectra
from .._results import SpectraInfo, TopK
from .._validate import UNIT_ROUNDOFF, as_flag, as_threads

__all__ = ["gram", "svdvals"]

_U = UNIT_ROUNDOFF


def _matrices(x, fn, dtype, order_free=False):
    """(float64 matrices, storage names, batch) after the fast route's checks (_spectra_args),
    then the check its kernels make (NaN/Inf: the first such matrix)."""
    b = _args.matrix_batch(x, fn, dtype, order_free)
    _args.check_dims(b, fn)
    mats = _args.matrices(b)
    for i, a in enumerate(mats):
        if not np.isfinite(a).all():
            raise _args.nonfinite(fn, b, i)
    return mats, [_args.STORAGE[c] for c in b.codes], b


def _pow2_scale(a):
    """2^-e bringing max|a| to [0.5, 1), capped at 2^1022 (exact; 1 for an empty or zero array)."""
    mx = float(np.max(np.abs(a))) if a.size else 0.0
    return float(np.ldexp(1.0, min(-int(np.frexp(mx)[1]), 1022))) if mx > 0 else 1.0


def gram(x, *, threads=None, dtype=None):
    """AᵀA (m ≥ n) or AAᵀ (m < n) of every matrix, in float64 (see :func:`gsa_fast.gram`)."""
    fn = "gram"
    as_threads(threads, fn)
    mats, _, b = _matrices(x, fn, dtype)
    out = []
    for a64 in mats:
        # exact power-of-two scaling to max|a| in [0.5, 1) (capped at 2^1022 for subnormal
        # input), undone by two divisions: products of huge entries overflow one by one, whose
        # ±inf then sum to NaN or the wrong sign; those of subnormal entries flush to 0
        sc = _pow2_scale(a64)
        c = a64 * sc
        with np.errstate(over="ignore", under="ignore"):  # a Gram beyond 1e308 is ±inf
            out.append((c.T @ c if c.shape[0] >= c.shape[1] else c @ c.T) / sc / sc)
    if b.ragged:
        return out
    q = b.width
    return np.array(out, dtype=np.float64).reshape(b.batch_shape + (q, q))


def svdvals(x, method="gram", *, k=None, oversample=10, power_iters=2, threads=None, seed=0,
            return_info=False, dtype=None):
    """Singular values, descending, by ``numpy.linalg.svd`` of the float64 upcast (any method).

    ``method="topk"`` returns the exact top ``k`` values, the Frobenius energy and a zero error
    bound (see :func:`gsa_fast.svdvals`).
    """
    fn = "svdvals"
    _args.check_method(method, fn)
    return_info = as_flag(return_info, fn, "return_info")
    as_threads(threads, fn)
    k, oversample, power_iters, seed = _args.topk_params(method, k, oversample, power_iters, seed, fn)
    mats, names, b = _matrices(x, fn, dtype, order_free=True)
    spectra, fro, bound = [], [], []
    for a64, name in zip(mats, names):
        s = np.linalg.svd(a64, compute_uv=False) if a64.size else np.zeros(0)
        # ‖A‖_F² through an exact power-of-two scaling: ±inf beyond 1e308, 0 below 1e-308
        sc = _pow2_scale(a64)
        with np.errstate(over="ignore", under="ignore"):
            fro.append(float(np.sum((a64 * sc) ** 2)) / sc / sc)
        s1 = s[0] if s.size else 0.0
        u = _U[name]
        mx = max(a64.shape)
        bound.append(4.0 * mx * u * s1 if not (name == "float64" and method == "gram")
                     else np.sqrt(4.0 * mx * u) * s1)
        spectra.append(s[:k] if method == "topk" else s)
    fro = np.array(fro)
    if b.ragged:
        values = RaggedSpectra.from_list(spectra)
    else:
        w = b.width if method != "topk" else min(b.width, k)
        values = np.array(spectra, dtype=np.float64).reshape(b.batch_shape + (w,))
        fro = fro.reshape(b.batch_shape)
    if method == "topk":
        return TopK(values, fro, np.zeros_like(fro))
    if return_info:
        return values, SpectraInfo(fro, np.array(bound).reshape(fro.shape), method)
    return values
