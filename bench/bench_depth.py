"""Depth spectra (issue 13): compiled kernels vs the numpy loops users write and the reference.

Peers:
* ``numpy`` — for the chain scan, the float64 loop ``Q, R = np.linalg.qr(A @ Q)`` (A converted to
  float64 one layer at a time); for ``random_lyapunov``, the O(n²) double loop over (i, t) with the
  full binomial law; for the rest, gsa_fast.reference (pure numpy).
Sizes are small by default so that CI's ``--benchmark-disable`` run stays fast; set
``GSA_BENCH_DEPTH_FULL=1`` for the issue's sizes (256 layers of 1024×1024 float32, k = 64;
about 1 GB of factors). Full numbers: bench/results/depth.md (bench/depth_scan.py).
"""
from __future__ import annotations

import math
import os

import numpy as np
import pytest

import gsa_fast as g
from gsa_fast import reference as ref

FULL = os.environ.get("GSA_BENCH_DEPTH_FULL", "") not in ("", "0")
L_, N_, K_ = (256, 1024, 64) if FULL else (16, 256, 32)


@pytest.fixture(scope="module")
def chain():
    r = np.random.default_rng(0)
    return r.standard_normal((L_, N_, N_), dtype=np.float32) / np.float32(math.sqrt(N_))


def numpy_qr_loop(A, k):
    """The float64 numpy loop tools use: Q, R = np.linalg.qr(A @ Q), cumulative log|R_jj|."""
    Q = np.eye(A.shape[-1])[:, :k]
    out = np.empty((len(A), k))
    c = np.zeros(k)
    for l, M in enumerate(A):
        Q, R = np.linalg.qr(M.astype(np.float64) @ Q)
        c += np.log(np.abs(np.diagonal(R)))
        out[l] = c
    return out


@pytest.mark.benchmark(group="chain_log_spectrum")
def bench_chain_scan__gsa(benchmark, chain):
    out = benchmark(g.chain_log_spectrum, chain, K_)
    assert out.shape == (L_, K_)


@pytest.mark.benchmark(group="chain_log_spectrum")
def bench_chain_scan__gsa_f32panel(benchmark, chain):
    benchmark(g.chain_log_spectrum, chain, K_, panel="float32")


@pytest.mark.benchmark(group="chain_log_spectrum")
def bench_chain_scan__numpy(benchmark, chain):
    out = benchmark(numpy_qr_loop, chain, K_)
    assert np.abs(out - g.chain_log_spectrum(chain, K_)).max() < 1e-10 * L_


@pytest.mark.benchmark(group="chain_log_spectrum")
def bench_chain_scan__gsa_1thread(benchmark, chain):
    """One worker: the team route's split costs nothing here, bitwise the same result."""
    out = benchmark(g.chain_log_spectrum, chain, K_, threads=1)
    assert np.array_equal(out, g.chain_log_spectrum(chain, K_))


@pytest.mark.benchmark(group="chain_log_spectrum")
def bench_chain_scan__numpy_gemm_floor(benchmark, chain):
    """The floor of the numpy loop: its float64 GEMMs alone, on factors converted beforehand."""
    A64 = chain.astype(np.float64)
    Q = np.linalg.qr(np.random.default_rng(1).standard_normal((N_, K_)))[0]
    benchmark(lambda: [M @ Q for M in A64])


def numpy_double_loop(n, p, r):
    """O(n²): the (i, t) matrix of ψ((t − i + 1)/2) against the full conditioned binomial law."""
    t = np.arange(r, n + 1)
    lg = np.array([math.lgamma(x + 1.0) for x in range(n + 1)])
    lw = lg[n] - lg[t] - lg[n - t] + t * math.log(p) + (n - t) * math.log1p(-p)
    pi = np.exp(lw - lw.max())
    pi /= pi.sum()
    i = np.arange(1, r + 1)
    from gsa_fast.depth import psi_half_table
    psi = psi_half_table(n + 1)
    M = psi[np.clip(t[None, :] - i[:, None] + 1, 1, None)]
    return 0.5 * math.log(2.0 / n) + 0.5 * (M @ pi)


@pytest.mark.benchmark(group="random_lyapunov")
def bench_random_lyapunov__gsa(benchmark):
    out = benchmark(g.random_lyapunov, 4096, 0.5, None, 1800)
    assert np.isfinite(out.gamma[:1800]).all()


@pytest.mark.benchmark(group="random_lyapunov")
def bench_random_lyapunov__numpy(benchmark):
    out = benchmark(numpy_double_loop, 4096, 0.5, 1800)
    assert np.abs(out - g.random_lyapunov(4096, 0.5, None, 1800).gamma[:1800]).max() < 1e-10


@pytest.fixture(scope="module")
def pairs():
    r = np.random.default_rng(1)
    return r.standard_normal((16, 96, 96)), r.standard_normal((16, 96, 96))


@pytest.mark.benchmark(group="subspace_alignment")
def bench_alignment__gsa(benchmark, pairs):
    benchmark(g.subspace_alignment, *pairs, 16)


@pytest.mark.benchmark(group="subspace_alignment")
def bench_alignment__reference(benchmark, pairs):
    benchmark(ref.subspace_alignment, *pairs, 16)


@pytest.fixture(scope="module")
def spectra():
    return np.sort(np.random.default_rng(2).random((4, 96)), axis=-1)[:, ::-1] + 1e-3


@pytest.mark.benchmark(group="dln_log_volume")
def bench_dln_log_volume__gsa(benchmark, spectra):
    benchmark(g.dln_log_volume, spectra, 4, grad=True)


@pytest.mark.benchmark(group="dln_log_volume")
def bench_dln_log_volume__reference(benchmark, spectra):
    benchmark.pedantic(ref.dln_log_volume, (spectra, 4), {"grad": True}, rounds=1, iterations=1)


@pytest.fixture(scope="module")
def small_chain():
    r = np.random.default_rng(3)
    return r.standard_normal((24, 48, 48)) / math.sqrt(48)


@pytest.mark.benchmark(group="prefix_log_svdvals")
def bench_prefix__gsa(benchmark, small_chain):
    benchmark(g.prefix_log_svdvals, small_chain, [6, 12, 24])


@pytest.mark.benchmark(group="prefix_log_svdvals")
def bench_prefix__reference(benchmark, small_chain):
    benchmark(ref.prefix_log_svdvals, small_chain, [6, 12, 24])


# The Python-side helpers: fast route vs the reference twin, one small case each.
HELPERS = {
    "gated_rank_law": lambda m: m.gated_rank_law(512, 50, 0.5),
    "separation_ratios": lambda m: m.separation_ratios(np.cumsum(-np.ones((64, 64)), axis=1), eps=0.5),
    "depth_scaling_fit": lambda m: m.depth_scaling_fit(np.cumsum(-np.ones((200, 16)), axis=0), start=10),
    "relative_imbalance": lambda m: m.relative_imbalance(np.ones((8, 64, 64))),
    "bures_transport_map": lambda m: m.bures_transport_map(np.eye(64) * 2.0, np.eye(64) + 0.1),
    "bures_geodesic": lambda m: m.bures_geodesic(np.eye(64) * 2.0, np.eye(64) + 0.1, [0.25, 0.5]),
}


@pytest.mark.parametrize("name", list(HELPERS))
@pytest.mark.parametrize("impl", ["gsa", "reference"])
def bench_helpers(benchmark, name, impl):
    benchmark.group = f"depth_{name}"
    benchmark(HELPERS[name], g if impl == "gsa" else ref)


# ---- §4.3(b), §8.2, §8.3, §8.6 (bench/results/depth.md, "Graded prefix spectra, DLN operator,
# effective rank"). Peers: the rescaled route, the reference twins and the numpy one-liners users write.

@pytest.fixture(scope="module")
def graded_chain():
    """24 layers 48×48 with singular values e^{−0.25 i}: s_48/s_1 ≈ e^{−282} at depth 24, so
    'auto' takes the graded route."""
    r = np.random.default_rng(4)
    n = 48
    D = np.diag(np.exp(-0.25 * np.arange(n)))
    return np.stack([np.linalg.qr(r.standard_normal((n, n)))[0] @ D @ np.linalg.qr(r.standard_normal((n, n)))[0]
                     for _ in range(24)])


@pytest.mark.benchmark(group="prefix_log_svdvals_graded")
def bench_prefix_graded__gsa(benchmark, graded_chain):
    out = benchmark(g.prefix_log_svdvals, graded_chain, [6, 12, 24], method="graded")
    assert out.resolved.all()


@pytest.mark.benchmark(group="prefix_log_svdvals_graded")
def bench_prefix_graded__gsa_rescaled(benchmark, graded_chain):
    out = benchmark(g.prefix_log_svdvals, graded_chain, [6, 12, 24], method="rescaled")
    assert not out.resolved.all()  # the cheaper route is rounding noise here


@pytest.mark.benchmark(group="prefix_log_svdvals_graded")
def bench_prefix_graded__reference(benchmark, graded_chain):
    out = benchmark.pedantic(ref.prefix_log_svdvals, (graded_chain, [6, 12, 24]), {"method": "graded"},
                             rounds=1, iterations=1)
    assert np.abs(out.log_s - g.prefix_log_svdvals(graded_chain, [6, 12, 24], method="graded").log_s).max() < 1e-9


@pytest.mark.benchmark(group="balancedness_ratio")
def bench_balancedness__gsa(benchmark, small_chain):
    benchmark(g.balancedness_ratio, small_chain)


@pytest.mark.benchmark(group="balancedness_ratio")
def bench_balancedness__reference(benchmark, small_chain):
    benchmark.pedantic(ref.balancedness_ratio, (small_chain,), rounds=1, iterations=1)


def numpy_lambda(s, N):
    """The direct formula users write: (a² − b²)/(a^{2/N} − b^{2/N}), ties patched afterwards."""
    a, b = s[..., :, None], s[..., None, :]
    with np.errstate(divide="ignore", invalid="ignore"):
        lam = (a * a - b * b) / (a ** (2.0 / N) - b ** (2.0 / N))
    return np.where(a == b, N * a ** (2.0 - 2.0 / N), lam)


@pytest.mark.benchmark(group="dln_eigenvalues")
def bench_dln_eigenvalues__gsa(benchmark, spectra):
    benchmark(g.dln_eigenvalues, spectra, 4)


@pytest.mark.benchmark(group="dln_eigenvalues")
def bench_dln_eigenvalues__numpy(benchmark, spectra):
    out = benchmark(numpy_lambda, spectra, 4)
    assert np.allclose(out, g.dln_eigenvalues(spectra, 4), rtol=1e-10)


@pytest.mark.benchmark(group="dln_eigenvalues")
def bench_dln_eigenvalues__reference(benchmark, spectra):
    benchmark.pedantic(ref.dln_eigenvalues, (spectra, 4), rounds=1, iterations=1)


@pytest.fixture(scope="module")
def xz():
    r = np.random.default_rng(6)
    return r.standard_normal((24, 24)), r.standard_normal((24, 24))


@pytest.mark.benchmark(group="dln_operator")
def bench_dln_operator__gsa(benchmark, xz):
    benchmark(g.dln_operator, *xz, 4)


@pytest.mark.benchmark(group="dln_operator")
def bench_dln_operator__gsa_metric_norm(benchmark, xz):
    benchmark(g.dln_metric_norm, *xz, 4)


def numpy_operator(X, Z, N):
    """The literal sum Σ_p (XXᵀ)^{(N−p)/N} Z (XᵀX)^{(p−1)/N} with eigh matrix powers."""
    def power(G, t):
        w, v = np.linalg.eigh(G)
        return (v * np.clip(w, 0, None) ** t) @ v.T
    A, B = X @ X.T, X.T @ X
    return sum(power(A, (N - p) / N) @ Z @ power(B, (p - 1) / N) for p in range(1, N + 1))


@pytest.mark.benchmark(group="dln_operator")
def bench_dln_operator__numpy(benchmark, xz):
    out = benchmark(numpy_operator, *xz, 4)
    assert np.allclose(out, g.dln_operator(*xz, 4), rtol=1e-8, atol=1e-8 * np.abs(out).max())


@pytest.mark.benchmark(group="dln_operator")
def bench_dln_operator__reference(benchmark, xz):
    benchmark.pedantic(ref.dln_operator, (*xz, 4), rounds=1, iterations=1)


@pytest.mark.benchmark(group="dln_operator")
def bench_dln_metric_norm__reference(benchmark, xz):
    benchmark.pedantic(ref.dln_metric_norm, (*xz, 4), rounds=1, iterations=1)


@pytest.fixture(scope="module")
def many_spectra():
    return np.sort(np.random.default_rng(7).random((4000, 256)), axis=-1)[:, ::-1]


def numpy_erank(s):
    q = s / s.sum(axis=-1, keepdims=True)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.exp(-np.where(q > 0, q * np.log(q), 0.0).sum(axis=-1))


@pytest.mark.benchmark(group="effective_rank")
def bench_effective_rank__gsa(benchmark, many_spectra):
    benchmark(g.effective_rank, many_spectra)


@pytest.mark.benchmark(group="effective_rank")
def bench_effective_rank__numpy(benchmark, many_spectra):
    out = benchmark(numpy_erank, many_spectra)
    assert np.allclose(out, g.effective_rank(many_spectra), rtol=1e-12)


@pytest.mark.benchmark(group="effective_rank")
def bench_effective_rank__reference(benchmark, many_spectra):
    benchmark.pedantic(ref.effective_rank, (many_spectra,), rounds=1, iterations=1)
