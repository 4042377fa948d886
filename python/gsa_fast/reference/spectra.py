"""Reference (pure numpy, float64) Gram matrices and singular values, one matrix at a time.

Same names and signatures as :mod:`gsa_fast.spectra`; written for clarity: every matrix is
upcast to float64 and handed to ``numpy.linalg.svd(..., compute_uv=False)``.
"""
from __future__ import annotations

import numpy as np

from .._ragged import RaggedSpectra
from .._results import SpectraInfo, TopK
from .._validate import UNIT_ROUNDOFF

__all__ = ["gram", "svdvals"]

_U = UNIT_ROUNDOFF


def _upcast(a, dtype=None):
    """float64 copy of one matrix; uint16 with dtype='bfloat16' holds raw bfloat16 bits."""
    a = np.asarray(a)
    if dtype is not None or a.dtype.name == "bfloat16":
        bits = a.view(np.uint16) if a.dtype.name == "bfloat16" else a.astype(np.uint16)
        return (bits.astype(np.uint32) << 16).view(np.float32).astype(np.float64), "bfloat16"
    if a.dtype.kind != "f":
        raise TypeError(f"svdvals(): x must be a real floating array; got dtype {a.dtype}")
    return a.astype(np.float64), a.dtype.name


def _matrices(x):
    if isinstance(x, (list, tuple)) and all(isinstance(a, np.ndarray) for a in x):
        return list(x), True, (len(x),)
    a = np.asarray(x)
    if a.ndim < 2:
        raise ValueError(f"svdvals(): x must be an array of shape (..., m, n); got shape {a.shape}")
    nb = int(np.prod(a.shape[:-2], dtype=np.int64))
    flat = a.reshape((nb,) + a.shape[-2:])
    return [flat[i] for i in range(nb)], False, a.shape[:-2]


def _check_finite(a64, i):
    if not np.isfinite(a64).all():
        raise ValueError(f"svdvals(): x[{i}] must be finite (no NaN or Inf); got non-finite values")


def _pow2_scale(a):
    """2^-e bringing max|a| to [0.5, 1), capped at 2^1022 (exact; 1 for an empty or zero array)."""
    mx = float(np.max(np.abs(a))) if a.size else 0.0
    return float(np.ldexp(1.0, min(-int(np.frexp(mx)[1]), 1022))) if mx > 0 else 1.0


def gram(x, *, threads=None, dtype=None):
    """AᵀA (m ≥ n) or AAᵀ (m < n) of every matrix, in float64 (see :func:`gsa_fast.gram`)."""
    mats, ragged, batch_shape = _matrices(x)
    out = []
    for i, a in enumerate(mats):
        a64, _ = _upcast(a, dtype)
        _check_finite(a64, i)
        # exact power-of-two scaling to max|a| in [0.5, 1) (capped at 2^1022 for subnormal
        # input), undone by two divisions: products of huge entries overflow one by one, whose
        # ±inf then sum to NaN or the wrong sign; those of subnormal entries flush to 0
        sc = _pow2_scale(a64)
        b = a64 * sc
        with np.errstate(over="ignore", under="ignore"):  # a Gram beyond 1e308 is ±inf
            out.append((b.T @ b if b.shape[0] >= b.shape[1] else b @ b.T) / sc / sc)
    if ragged:
        return out
    a = np.asarray(x)
    q = min(a.shape[-2:])
    return np.array(out, dtype=np.float64).reshape(batch_shape + (q, q))


def svdvals(x, method="gram", *, k=None, oversample=10, power_iters=2, threads=None, seed=0,
            return_info=False, dtype=None):
    """Singular values, descending, by ``numpy.linalg.svd`` of the float64 upcast (any method).

    ``method="topk"`` returns the exact top ``k`` values, the Frobenius energy and a zero error
    bound (see :func:`gsa_fast.svdvals`).
    """
    if method not in ("gram", "svd", "topk"):
        raise ValueError(f"svdvals(): method must be one of 'gram', 'svd', 'topk'; got {method!r}")
    mats, ragged, batch_shape = _matrices(x)
    spectra, fro, bound = [], [], []
    for i, a in enumerate(mats):
        a64, name = _upcast(a, dtype)
        _check_finite(a64, i)
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
    if ragged:
        values = RaggedSpectra.from_list(spectra)
    else:
        a = np.asarray(x)
        w = min(a.shape[-2:]) if method != "topk" else min(min(a.shape[-2:]), k)
        values = np.array(spectra, dtype=np.float64).reshape(batch_shape + (w,))
        fro = fro.reshape(batch_shape)
    if method == "topk":
        return TopK(values, fro, np.zeros_like(fro))
    if return_info:
        return values, SpectraInfo(fro, np.array(bound).reshape(fro.shape), method)
    return values
