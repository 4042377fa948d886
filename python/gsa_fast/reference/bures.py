"""Reference (pure numpy, float64) Bures–Wasserstein distances, spec §5.1–§5.2.

Written for clarity: one pair at a time with ``numpy.linalg.eigh`` / ``numpy.linalg.svd``. Same
names, signatures and tolerances as :mod:`gsa_fast.bures`.
"""
from __future__ import annotations

import numpy as np

from .._bures_args import (ASYMMETRIC, NEGATIVE, NONFINITE, factors_args, general_args, pair_error,
                           vectors_args)

__all__ = [
    "bures_distance",
    "bures_fidelity",
    "bures_distance_factors",
    "bures_distance_diag",
    "bures_distance_cartan",
]

def _found(X, trailing, sym, psd):
    """What the kernel's check of one operand finds (None: valid), in its order: finite, then
    (matrices) symmetric within ``sym`` and positive semidefinite within ``psd``, (vectors)
    entries >= −psd·max|entry|. ``sym`` None: factors, finiteness only."""
    if not np.isfinite(X).all():
        return NONFINITE
    if sym is None or X.size == 0:
        return None
    X = np.ldexp(X, _pow2_exponent(X, even=True))  # exact; the kernel scales extreme matrices too
    if trailing == 1:
        return NEGATIVE if X.min() < -psd * np.abs(X).max() else None
    if np.max(np.abs(X - X.T)) > sym * np.max(np.abs(X)):
        return ASYMMETRIC
    w = np.linalg.eigvalsh(0.5 * (X + X.T))
    return NEGATIVE if w[0] < -psd * max(abs(w[0]), abs(w[-1])) else None


def _pairs(fn, x, y, trailing, batch, names, sym=(None, None), psd=(None, None)):
    """[(index, x_i, y_i)] over the broadcast batch as float64, after the kernel's checks of
    every pair (the lowest failing pair, its first operand first: _bures_args.pair_error)."""
    xb = np.broadcast_to(x, batch + x.shape[x.ndim - trailing:])
    yb = np.broadcast_to(y, batch + y.shape[y.ndim - trailing:])
    out = []
    for i, idx in enumerate(np.ndindex(*batch)):
        pair = (xb[idx].astype(np.float64), yb[idx].astype(np.float64))
        for which in (0, 1):
            found = _found(pair[which], trailing, sym[which], psd[which])
            if found is not None:
                raise pair_error(fn, found, i, which, batch, names, (x, y), trailing, sym, psd)
        out.append((idx,) + pair)
    return out


def _sqrt_psd(X):
    """Symmetric square root of a (checked) PSD matrix by eigh with clipped eigenvalues."""
    X = 0.5 * (X + X.T)
    w, V = np.linalg.eigh(X)
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


def _general(fn, P, Q, want):
    P, Q, n, batch, sym, psd = general_args(fn, P, Q)
    out = np.empty(batch)
    if n == 0:  # nothing to check or compute: d = F = 0
        out[...] = 0.0
        return out[()] if out.ndim == 0 else out
    for idx, p, q in _pairs(fn, P, Q, 2, batch, ("P", "Q"), sym, psd):
        k = _pow2_exponent(p, q, even=True)
        h = np.ldexp(1.0, -k // 2)  # undoes the scaling: 2^(−k/2) per square root
        p, q = np.ldexp(p, k), np.ldexp(q, k)
        sp = _sqrt_psd(p)
        sq = _sqrt_psd(q)
        F = np.linalg.svd(sp @ sq, compute_uv=False).sum()  # ‖P^{1/2}Q^{1/2}‖_*
        if want == "fid":
            out[idx] = F * h * h
        else:
            out[idx] = np.sqrt(max(0.0, np.trace(p) + np.trace(q) - 2.0 * F)) * h
    return out[()] if out.ndim == 0 else out


def bures_distance(P, Q):
    """d_BW(P, Q) = sqrt(max(0, trP + trQ − 2‖P^{1/2}Q^{1/2}‖_*)) (spec §5.2 route (a))."""
    return _general("bures_distance", P, Q, "dist")


def bures_fidelity(P, Q):
    """F(P, Q) = tr (P^{1/2} Q P^{1/2})^{1/2} = ‖P^{1/2}Q^{1/2}‖_* (spec §5.1)."""
    return _general("bures_fidelity", P, Q, "fid")


def bures_distance_factors(A, B):
    """d_BW(AᵀA, BᵀB)² = ‖A‖_F² + ‖B‖_F² − 2‖BAᵀ‖_* (spec §5.2 route (b))."""
    fn = "bures_distance_factors"
    A, B, batch = factors_args(fn, A, B)
    out = np.empty(batch)
    for idx, a, b in _pairs(fn, A, B, 2, batch, ("A", "B")):
        k = _pow2_exponent(a, b)
        a, b = np.ldexp(a, k), np.ldexp(b, k)
        nuc = np.linalg.svd(b @ a.T, compute_uv=False).sum() if b.size and a.size else 0.0
        out[idx] = np.ldexp(np.sqrt(max(0.0, np.sum(a * a) + np.sum(b * b) - 2.0 * nuc)), -k)
    return out[()] if out.ndim == 0 else out


def _vectors(fn, a, b, sort):
    a, b, names, n, batch, neg = vectors_args(fn, a, b, sort)
    out = np.empty(batch)
    for idx, x, y in _pairs(fn, a, b, 1, batch, names, (0.0, 0.0), neg):
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
    return _vectors("bures_distance_diag", a, b, False)


def bures_distance_cartan(lam_p, lam_q):
    """d_BW(Λ(P), Λ(Q)): both eigenvalue vectors sorted descending, then route (c) (spec §5.2 (d))."""
    return _vectors("bures_distance_cartan", lam_p, lam_q, True)
