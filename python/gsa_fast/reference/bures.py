"""Reference (pure numpy, float64) Bures–Wasserstein distances, spec §5.1–§5.2.

Written for clarity: one pair at a time with ``numpy.linalg.eigh`` / ``numpy.linalg.svd``. Same
names, signatures and tolerances as :mod:`gsa_fast.bures`.
"""
from __future__ import annotations

import numpy as np

from .._validate import native

__all__ = [
    "bures_distance",
    "bures_fidelity",
    "bures_distance_factors",
    "bures_distance_diag",
    "bures_distance_cartan",
]

_SYM_RTOL = {np.dtype(np.float64): 1e-10, np.dtype(np.float32): 1e-5}
_PSD_RTOL = {np.dtype(np.float64): 1e-8, np.dtype(np.float32): 1e-5}


def _float_array(x, name, min_ndim):
    a = native(np.asarray(x))
    if a.dtype.kind in "iu" and not isinstance(x, np.ndarray):
        a = a.astype(np.float64)
    if a.dtype not in (np.float32, np.float64):
        raise TypeError(f"{name} must be a float32 or float64 array; got dtype {a.dtype}")
    if a.ndim < min_ndim:
        raise ValueError(f"{name} must have at least {min_ndim} dimensions; got shape {a.shape}")
    if not np.all(np.isfinite(a)):
        raise ValueError(f"{name} must be finite (no NaN or Inf)")
    return a


def _pairs(x, y, trailing):
    """Broadcast the leading dimensions; yield (index, x_i, y_i) as float64."""
    batch = np.broadcast_shapes(x.shape[: x.ndim - trailing], y.shape[: y.ndim - trailing])
    xb = np.broadcast_to(x, batch + x.shape[x.ndim - trailing:])
    yb = np.broadcast_to(y, batch + y.shape[y.ndim - trailing:])
    for idx in np.ndindex(*batch):
        yield batch, idx, xb[idx].astype(np.float64), yb[idx].astype(np.float64)


def _sqrt_psd(X, dtype, name):
    """Symmetric square root of a PSD matrix by eigh with clipped eigenvalues."""
    n = X.shape[0]
    if np.max(np.abs(X - X.T), initial=0.0) > _SYM_RTOL[dtype] * np.max(np.abs(X), initial=0.0):
        raise ValueError(f"{name} must be symmetric")
    X = 0.5 * (X + X.T)
    w, V = np.linalg.eigh(X)
    if n and w[0] < -_PSD_RTOL[dtype] * n * max(abs(w[0]), abs(w[-1])):
        raise ValueError(f"{name} must be positive semidefinite")
    w = np.clip(w, 0.0, None)
    return (V * np.sqrt(w)) @ V.T


def _pow2_exponent(*arrays, even=False):
    """k with 2^k bringing the largest |entry| near 1 (even k: 2^k = 4^(k/2), whose square root
    is exact too), capped at 1022. Bures quantities are homogeneous (d(cP, cQ) = √c·d(P, Q),
    F(cP, cQ) = c·F, d(cA, cB) = c·d for factors), so the scaled problem has the same answer up to
    exact powers of two, without subnormal or overflowing intermediates."""
    mx = max((float(np.max(np.abs(a))) if a.size else 0.0) for a in arrays)
    if not mx > 0.0:
        return 0
    k = min(-int(np.frexp(mx)[1]), 1022)
    return k - (k % 2) if even else k


def _general(P, Q, want):
    P = _float_array(P, "P", 2)
    Q = _float_array(Q, "Q", 2)
    if P.shape[-1] != P.shape[-2] or Q.shape[-1] != Q.shape[-2] or P.shape[-1] != Q.shape[-1]:
        raise ValueError(f"P and Q must be square matrices of the same size; got {P.shape}, {Q.shape}")
    batch = np.broadcast_shapes(P.shape[:-2], Q.shape[:-2])
    out = np.empty(batch)
    for _, idx, p, q in _pairs(P, Q, 2):
        n = p.shape[0]
        if n == 0:
            out[idx] = 0.0
            continue
        k = _pow2_exponent(p, q, even=True)
        h = np.ldexp(1.0, -k // 2)  # undoes the scaling: 2^(−k/2) per square root
        p, q = np.ldexp(p, k), np.ldexp(q, k)
        sp = _sqrt_psd(p, P.dtype, "P")
        sq = _sqrt_psd(q, Q.dtype, "Q")
        F = np.linalg.svd(sp @ sq, compute_uv=False).sum()  # ‖P^{1/2}Q^{1/2}‖_*
        if want == "fid":
            out[idx] = F * h * h
        else:
            out[idx] = np.sqrt(max(0.0, np.trace(p) + np.trace(q) - 2.0 * F)) * h
    return out[()] if out.ndim == 0 else out


def bures_distance(P, Q):
    """d_BW(P, Q) = sqrt(max(0, trP + trQ − 2‖P^{1/2}Q^{1/2}‖_*)) (spec §5.2 route (a))."""
    return _general(P, Q, "dist")


def bures_fidelity(P, Q):
    """F(P, Q) = tr (P^{1/2} Q P^{1/2})^{1/2} = ‖P^{1/2}Q^{1/2}‖_* (spec §5.1)."""
    return _general(P, Q, "fid")


def bures_distance_factors(A, B):
    """d_BW(AᵀA, BᵀB)² = ‖A‖_F² + ‖B‖_F² − 2‖BAᵀ‖_* (spec §5.2 route (b))."""
    A = _float_array(A, "A", 2)
    B = _float_array(B, "B", 2)
    if A.shape[-1] != B.shape[-1]:
        raise ValueError(f"A and B must have the same column count; got {A.shape}, {B.shape}")
    batch = np.broadcast_shapes(A.shape[:-2], B.shape[:-2])
    out = np.empty(batch)
    for _, idx, a, b in _pairs(A, B, 2):
        k = _pow2_exponent(a, b)
        a, b = np.ldexp(a, k), np.ldexp(b, k)
        nuc = np.linalg.svd(b @ a.T, compute_uv=False).sum() if b.size and a.size else 0.0
        out[idx] = np.ldexp(np.sqrt(max(0.0, np.sum(a * a) + np.sum(b * b) - 2.0 * nuc)), -k)
    return out[()] if out.ndim == 0 else out


def _vectors(a, b, sort, names):
    a = _float_array(a, names[0], 1)
    b = _float_array(b, names[1], 1)
    if a.shape[-1] != b.shape[-1]:
        raise ValueError(f"{names[0]} and {names[1]} must have the same length; got {a.shape}, {b.shape}")
    batch = np.broadcast_shapes(a.shape[:-1], b.shape[:-1])
    out = np.empty(batch)
    for _, idx, x, y in _pairs(a, b, 1):
        n = x.shape[0]
        for v, name, dt in ((x, names[0], a.dtype), (y, names[1], b.dtype)):
            if n and v.min() < -_PSD_RTOL[dt] * n * np.abs(v).max():
                raise ValueError(f"{name} must be nonnegative")
        x = np.clip(x, 0.0, None)
        y = np.clip(y, 0.0, None)
        if sort:
            x = np.sort(x)[::-1]
            y = np.sort(y)[::-1]
        k = _pow2_exponent(x, y, even=True)
        x, y = np.ldexp(x, k), np.ldexp(y, k)
        out[idx] = np.ldexp(np.sqrt(np.sum((np.sqrt(x) - np.sqrt(y)) ** 2)), -(k // 2))
    return out[()] if out.ndim == 0 else out


def bures_distance_diag(a, b):
    """d_BW(diag a, diag b) = ‖√a − √b‖₂ over the last axis (spec §5.2 route (c))."""
    return _vectors(a, b, False, ("a", "b"))


def bures_distance_cartan(lam_p, lam_q):
    """d_BW(Λ(P), Λ(Q)): both eigenvalue vectors sorted descending, then route (c) (spec §5.2 (d))."""
    return _vectors(lam_p, lam_q, True, ("lam_p", "lam_q"))
