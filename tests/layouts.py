"""Input layouts a numpy user passes, and one call recipe per public kernel (issue 8 item 1).

Shared by tests/test_layouts.py (the sweep) and scripts/inputs_table.py (docs/inputs.md).
Each layout turns a C-contiguous array ``A`` into ``(V, T)``: ``V`` the value a user hands in
(a view or other layout with the same values), ``T`` the C-contiguous, native-order array with
the same values that the reference twin gets.
"""
from __future__ import annotations

import os
import tempfile

import numpy as np


def _reversed(A):
    buf = np.ascontiguousarray(A[::-1])
    return buf[::-1], A


def _reversed_last(A):
    buf = np.ascontiguousarray(A[..., ::-1])
    return buf[..., ::-1], A


def _stepped(A):
    buf = np.zeros(A.shape[:-1] + (2 * A.shape[-1],), dtype=A.dtype)
    buf[..., ::2] = A
    return buf[..., ::2], A


def _transposed(A):
    buf = np.ascontiguousarray(A.T)
    return buf.T, A


def _fortran(A):
    return np.asfortranarray(A), A


def _broadcast(A):
    V = np.broadcast_to(A[:1], A.shape)
    return V, np.ascontiguousarray(V)


def _readonly(A):
    V = A.copy()
    V.flags.writeable = False
    return V, A


def _memmap(A):
    fd, path = tempfile.mkstemp(suffix=".npy")
    os.close(fd)
    mm = np.lib.format.open_memmap(path, mode="w+", dtype=A.dtype, shape=A.shape)
    mm[...] = A
    mm.flush()
    del mm
    V = np.load(path, mmap_mode="r")
    os.unlink(path)  # the mapping stays valid (POSIX)
    return V, A


def _bigendian(A):
    return A.astype(A.dtype.newbyteorder(">")), A


def _zero_d(A):
    V = np.asarray(A.flat[0])
    return V, V.copy()


def _as_list(A):
    return A.tolist(), A


LAYOUTS = {
    "reversed": _reversed,
    "reversed-last-axis": _reversed_last,
    "stepped": _stepped,
    "transposed": _transposed,
    "fortran": _fortran,
    "broadcast": _broadcast,
    "read-only": _readonly,
    "memmap": _memmap,
    "big-endian": _bigendian,
    "0-d": _zero_d,
    "list": _as_list,
}


# ---- one recipe per kernel: (the base array A, call(f, x) with x in A's place) ---------------------

def _spectra_base(rng):
    k = np.arange(1, 9, dtype=np.float64)
    return np.stack([k ** -a for a in (0.5, 0.8, 1.0, 1.3, 2.0)]) * rng.uniform(0.5, 2.0, (5, 1))


def _alpha_base(rng):
    return rng.uniform(0.2, 2.0, (3, 4))


def _psd_base(rng):
    X = rng.standard_normal((3, 4, 6))
    return X @ X.transpose(0, 2, 1) + 0.1 * np.eye(4)


def recipes(rng):
    """name → (A, call). Tolerances live in TOL (relative to the largest reference value)."""
    S = _spectra_base(rng)
    al = _alpha_base(rng)
    P = _psd_base(rng)
    Q = P[0] + np.eye(4)
    M = rng.standard_normal((3, 7, 5))
    B = rng.standard_normal((5, 6))
    C = 0.5 * rng.standard_normal((4, 6, 6))
    return {
        "harmonic": (rng.uniform(0.0, 3.0, (3, 4)), lambda f, x: f(1000, x)),
        "harmonic_sums": (rng.uniform(0.0, 3.0, (3, 4)), lambda f, x: f(1000, x)),
        "harmonic_range": (rng.uniform(0.0, 3.0, (3, 4)), lambda f, x: f(10, 1000, x)),
        "orbit_probs": (al, lambda f, x: f(x, 16)),
        "log_partition": (al, lambda f, x: f(x, 64)),
        "radial": (al, lambda f, x: f(x, 64)),
        "orbit_variance": (al, lambda f, x: f(x, 64)),
        "fisher_information": (al, lambda f, x: f(x, 64)),
        "orbit_entropy": (al, lambda f, x: f(x, 64)),
        "orbit_kl": (al, lambda f, x: f(x, 1.0, 64)),
        "orbit_bures_distance": (al, lambda f, x: f(x, 1.0, 64)),
        "bures_length": (al, lambda f, x: f(x, 1.5, 64)),
        "orbit_tail": (al, lambda f, x: f(x, 3, 50)),
        "orbit_truncation_rank": (al, lambda f, x: f(x, 0.1, 100)),
        "tail_margin": (al, lambda f, x: f(x, 0.1, 100)),
        "plateau_thresholds": (rng.uniform(0.05, 0.5, (3, 4)), lambda f, x: f(x, 50, 8)),
        "tail_lipschitz": (rng.integers(2, 1000, (3, 4)), lambda f, x: f(x)),
        "truncation_rank": (S, lambda f, x: f(x, [0.1, 0.01])),
        "energy": (S, lambda f, x: f(x)),
        "spectrum_tails": (S, lambda f, x: f(x)),
        "spectral_entropy": (S, lambda f, x: f(x)),
        "radial_functional": (S, lambda f, x: f(x)),
        "rank_count": (S, lambda f, x: f(x, 0.2)),
        "fit_exponent": (S, lambda f, x: f(x, chart="top")),
        "radial_residual": (S, lambda f, x: f(x, 1.0)),
        "chart_error": (S, lambda f, x: f(x, 1.0)),
        "tail_residual": (S, lambda f, x: f(x, 1.0)),
        "bures_distance": (P, lambda f, x: f(x, Q)),
        "bures_fidelity": (P, lambda f, x: f(x, Q)),
        "bures_distance_factors": (rng.standard_normal((3, 4, 6)), lambda f, x: f(x, B)),
        "bures_distance_diag": (rng.uniform(0.1, 2.0, (3, 5)), lambda f, x: f(x, np.linspace(0.5, 1.5, 5))),
        "bures_distance_cartan": (rng.uniform(0.1, 2.0, (3, 5)), lambda f, x: f(x, np.linspace(0.5, 1.5, 5))),
        "gram": (M, lambda f, x: f(x)),
        "svdvals": (M, lambda f, x: f(x)),
        "esd_powerlaw_fit": (S ** 2, lambda f, x: f(x).alpha),
        # depth (issue 13): chains, closed forms, alignment, DLN geometry
        "chain_log_spectrum": (C, lambda f, x: f(x, 3)),
        "prefix_log_svdvals": (C, lambda f, x: f(x)),
        "random_lyapunov": (np.full((2, 2), 0.5), lambda f, x: f(16, x)),
        "gated_rank_law": (np.full((2, 2), 0.5), lambda f, x: f(8, 3, x)),
        "separation_ratios": (np.log(S), lambda f, x: f(x)),
        "depth_scaling_fit": (np.cumsum(rng.standard_normal((2, 6, 3)), axis=1), lambda f, x: f(x)),
        "subspace_alignment": (C, lambda f, x: f(x, C[::-1].copy(), 2)),
        "relative_imbalance": (C, lambda f, x: f(x)),
        "bures_transport_map": (P[1], lambda f, x: f(x, Q)),
        "bures_geodesic": (P[1], lambda f, x: f(x, Q, 0.3)),
        "dln_log_volume": (S, lambda f, x: f(x)),
        "balancedness_ratio": (C, lambda f, x: f(x)),
        "dln_eigenvalues": (S, lambda f, x: f(x, 3)),
        "dln_operator": (M, lambda f, x: f(x, M[::-1].copy(), 2)),
        "dln_metric_norm": (M, lambda f, x: f(x, M[::-1].copy(), 2)),
        "effective_rank": (S, lambda f, x: f(x)),
        # chain margins (issue 11): factors in application order
        "product_norm": (C, lambda f, x: f(x, C[::-1].copy())),
        "chain_margins": (C, lambda f, x: f(x).margin),
        "margin_report": (C, lambda f, x: [f(x).totals[k] for k in ("sum_mu", "TV_alpha", "V_BW")]),
        "jacobian_chain": (np.arange(8).reshape(2, 4), lambda f, x: f(None, {"input_ids": x})),
    }


# Tolerances, relative to the largest |reference value| of the call, from each kernel's contract
# on float64 input: closed forms and sums ~1e-13 (spec §11); Newton roots (charts, thresholds,
# orbit ranks) 1e-12; Bures general/factors ~1e-8·scale for small distances (their docstrings);
# svdvals' Gram route sqrt(4·max(m,n)·2^-53)·σ_1 ≈ 1e-7 at m = 7.
TOL = {"default": 1e-12, "bures_distance": 1e-8, "bures_fidelity": 1e-8,
       "bures_distance_factors": 1e-8, "svdvals": 1e-7}
