"""Reference (pure numpy, float64) Bures–Wasserstein distances (spec §5): clear, not fast."""
from __future__ import annotations

import numpy as np

__all__ = ["bures_distance", "bures_fidelity", "bures_distance_factors", "bures_distance_diag",
           "bures_distance_cartan"]


def _psd_sqrt(P):
    P = 0.5 * (P + np.swapaxes(P, -1, -2))
    w, V = np.linalg.eigh(P)
    return (V * np.sqrt(np.clip(w, 0.0, None))[..., None, :]) @ np.swapaxes(V, -1, -2)


def bures_fidelity(P, Q):
    P = np.asarray(P, dtype=np.float64)
    Q = np.asarray(Q, dtype=np.float64)
    P, Q = np.broadcast_arrays(P, Q)
    if P.shape[-1] == 0:
        return np.zeros(P.shape[:-2])[()]
    s = np.linalg.svd(_psd_sqrt(P) @ _psd_sqrt(Q), compute_uv=False)
    return s.sum(axis=-1)[()]


def bures_distance(P, Q):
    P = np.asarray(P, dtype=np.float64)
    Q = np.asarray(Q, dtype=np.float64)
    tr = np.trace(P, axis1=-2, axis2=-1) + np.trace(Q, axis1=-2, axis2=-1)
    return np.sqrt(np.maximum(0.0, tr - 2.0 * bures_fidelity(P, Q)))[()]


def bures_distance_factors(A, B):
    A = np.asarray(A, dtype=np.float64)
    B = np.asarray(B, dtype=np.float64)
    na = (A * A).sum(axis=(-2, -1))
    nb = (B * B).sum(axis=(-2, -1))
    C = B @ np.swapaxes(A, -1, -2)
    nuc = np.linalg.svd(C, compute_uv=False).sum(axis=-1) if C.size else np.zeros(C.shape[:-2])
    return np.sqrt(np.maximum(0.0, na + nb - 2.0 * nuc))[()]


def bures_distance_diag(a, b):
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    return np.linalg.norm(np.sqrt(a) - np.sqrt(b), axis=-1)[()]


def bures_distance_cartan(lam_p, lam_q):
    a = -np.sort(-np.asarray(lam_p, dtype=np.float64), axis=-1)
    b = -np.sort(-np.asarray(lam_q, dtype=np.float64), axis=-1)
    return bures_distance_diag(a, b)
