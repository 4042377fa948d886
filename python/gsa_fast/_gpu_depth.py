"""GPU route of chain_log_spectrum (cupy in, cupy out): the Benettin/QR chain scan of
depth-math §4.1–§4.2 on the device.

Each step forms ``Y = D_ℓ M_ℓ Q_{ℓ−1}`` in float64 (cuBLAS; float32 factors widened a 64 MiB row
tile at a time, never copied whole; ``panel="float32"``: float32 GEMM into a float32 panel, as on
the CPU), takes ``Y = Q_ℓ R_ℓ`` by cuSOLVER's Householder QR, and accumulates ``log|R_jj|`` with
the CPU kernel's §4.2 masks: columns from the smallest gate rank so far, and from the first
``|R_jj| ≤ τ·‖Y‖_F`` on, are ``−∞`` from that layer on. The scan is written once against an array
namespace, so the CPU tests run it with numpy and compare it with the C++ kernel (whose
CholeskyQR gives the same ``|R_jj|`` to rounding). Host transfers per step: ``k`` diagonal
entries and ``‖Y‖_F`` (for the masks). Chains of a batch run one after another.
"""
from __future__ import annotations

import numpy as np

from ._depth_common import scan_args
from ._gpu_margins import device_float, matmul_f64, to_host
from ._validate import as_threads, value_error

__all__ = ["chain_log_spectrum"]

def _product(xp, M, Q, panel):
    """``M @ Q`` as a float64 panel: float64 arithmetic (``M`` widened by row tiles), or the
    float32 GEMM of ``panel="float32"``."""
    if panel == "float32":
        return (M @ Q.astype(np.float32)).astype(np.float64)
    return matmul_f64(xp, M, Q)


def scan_chain(xp, chain, gates, k, tau, panel):
    """(L, k) cumulative log stretches of one chain (host float64), or (l, None) when factor l
    is the first whose product is not finite."""
    L = len(chain)
    out = np.empty((L, k))
    Q = xp.eye(chain[0].shape[1], k, dtype=np.float64)
    c = np.zeros(k)
    rank = k
    for l, M in enumerate(chain):
        Y = _product(xp, M, Q, panel)
        if gates is not None:
            g = gates[l]
            rank = min(rank, int(np.count_nonzero(g)))
            Y = Y * xp.asarray(g.astype(np.float64))[:, None]
        fro = float(xp.linalg.norm(Y))
        if not np.isfinite(fro):
            return l, None
        Q, R = xp.linalg.qr(Y)
        rd = np.abs(to_host(xp.diagonal(R)))
        for j in range(rank):
            if not rd[j] > tau * fro:
                rank = j
                break
            c[j] += np.log(rd[j])
        c[rank:] = -np.inf
        out[l] = c
    return L, out


def chain_log_spectrum(factors, k, *, gates=None, panel="auto", tau=None, threads=None):
    """CUDA route of :func:`gsa_fast.chain_log_spectrum` (``threads`` has no effect here)."""
    import cupy as cp

    fn = "chain_log_spectrum"
    if gates is not None:  # 0/1 row masks: small, checked and used on the host
        gates = ([to_host(g) for g in gates] if isinstance(gates, (list, tuple)) else to_host(gates))
    chains, bshape, k, panel, tau, glist = scan_args(
        factors, k, gates, panel, tau, fn, matrix=lambda x, f, a: device_float(cp, x, f, a))
    as_threads(threads, fn)  # checked as on the CPU; no effect on the device
    L = len(chains[0])
    out = np.empty((len(chains), L, k))
    for b, chain in enumerate(chains):
        g = None if glist is None else glist[b * L:(b + 1) * L]
        l, vals = scan_chain(cp, chain, g, k, tau, panel)
        if vals is None:
            raise value_error(fn, "factors", "finite (no NaN or Inf)",
                              f"non-finite values reaching factor {l} of chain {b}")
        out[b] = vals
    return cp.asarray(out.reshape(bshape + (L, k)))
