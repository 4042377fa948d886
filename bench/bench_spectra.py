"""Batched singular spectra (issue #3): gsa_fast.svdvals / gsa_fast.gram against their peers.

Peers, in the same run:
- ``scipy``: ``scipy.linalg.svd(W.astype(float), compute_uv=False)`` (what WeightWatcher does);
- ``numpy_f32``: ``numpy.linalg.eigvalsh(W @ W.T)`` (fast but fails the accuracy contract);
- ``numpy``: ``numpy.linalg.svd(stack, compute_uv=False)`` (batched);
- ``floor``: the raw LAPACK/BLAS calls our kernel makes (scipy's dsyrk + dsyevd on data already
  in float64), i.e. what no wrapper can beat;
- ``reference``: gsa_fast.reference (numpy loop), timed on a subset (extra_info["scale"]).
Sizes are the issue's; with --benchmark-disable (CI smoke run) they shrink so that CI stays fast.
Big cases run 2 rounds (pedantic): each takes seconds.
"""
from __future__ import annotations

import numpy as np
import pytest
import scipy.linalg as sl
from scipy.linalg import blas, lapack

import gsa_fast as g
from gsa_fast import reference as ref


@pytest.fixture(scope="module")
def small(request):
    return bool(request.config.getoption("benchmark_disable", False))


def _power_law(rng, m, n, alpha=1.0, dtype=np.float32):
    """A matrix with σ_k = k^-α without an O(n³) construction: random Gaussian factors scaled."""
    q = min(m, n)
    s = np.arange(1, q + 1) ** -alpha
    u = rng.standard_normal((m, q)).astype(np.float32) / np.sqrt(m)
    v = rng.standard_normal((q, n)).astype(np.float32) / np.sqrt(n)
    return ((u * s.astype(np.float32)) @ v).astype(dtype)


@pytest.fixture(scope="module")
def big(small):
    r = np.random.default_rng(1)
    m, n = (256, 688) if small else (4096, 11008)
    return _power_law(r, m, n)


def _floor_gram_eig(W64):
    """The LAPACK calls of the Gram route on float64 data: dsyrk (smaller side) + dsyevd values."""
    m, n = W64.shape
    # W64 C-contiguous m×n = Fortran n×m (its transpose): trans=1 gives the m×m W Wᵀ
    c = blas.dsyrk(1.0, W64.T, trans=1 if m < n else 0, lower=0)
    return lapack.dsyevd(c, compute_v=0, lower=0)[0]


# ---- one big f32 matrix, all singular values ------------------------------------------------------

@pytest.mark.benchmark(group="svdvals_4096x11008_f32")
def bench_svdvals_big__gsa(benchmark, big):
    benchmark.pedantic(g.svdvals, args=(big,), rounds=2, iterations=1)


@pytest.mark.benchmark(group="svdvals_4096x11008_f32")
def bench_svdvals_big__numpy_f32(benchmark, big):
    benchmark.pedantic(lambda: np.linalg.eigvalsh(big @ big.T), rounds=2, iterations=1)


@pytest.mark.benchmark(group="svdvals_4096x11008_f32")
def bench_svdvals_big__scipy(benchmark, big):
    benchmark.pedantic(lambda: sl.svd(big.astype(float), compute_uv=False), rounds=1, iterations=1)


@pytest.mark.benchmark(group="svdvals_4096x11008_f32")
def bench_svdvals_big__floor(benchmark, big):
    W64 = big.astype(np.float64)  # conversion not timed: the floor is the LAPACK calls alone
    benchmark.pedantic(_floor_gram_eig, args=(W64,), rounds=2, iterations=1)


@pytest.mark.benchmark(group="svdvals_4096x11008_f32")
def bench_svdvals_big__gsa_syevd(benchmark, big):
    benchmark.pedantic(lambda: g.svdvals(big, _eig_driver="syevd"), rounds=1, iterations=1)


@pytest.mark.benchmark(group="svdvals_4096x11008_f32")
def bench_svdvals_big__gsa_syevd_2stage(benchmark, big):
    benchmark.pedantic(lambda: g.svdvals(big, _eig_driver="syevd_2stage"), rounds=1, iterations=1)


@pytest.mark.benchmark(group="svdvals_4096x11008_f32")
def bench_svdvals_big__gsa_topk64(benchmark, big):
    benchmark.pedantic(lambda: g.svdvals(big, "topk", k=64), rounds=2, iterations=1)


@pytest.mark.benchmark(group="gram_4096x11008_f32")
def bench_gram_big__gsa(benchmark, big):
    benchmark.pedantic(g.gram, args=(big,), rounds=2, iterations=1)


@pytest.mark.benchmark(group="gram_4096x11008_f32")
def bench_gram_big__numpy(benchmark, big):
    benchmark.pedantic(lambda: (lambda w: w @ w.T)(big.astype(np.float64)), rounds=2, iterations=1)


@pytest.mark.benchmark(group="gram_4096x11008_f32")
def bench_gram_big__floor(benchmark, big):
    W64 = big.astype(np.float64)
    benchmark.pedantic(lambda: blas.dsyrk(1.0, W64.T, trans=1, lower=0), rounds=2, iterations=1)


# ---- many small matrices ---------------------------------------------------------------------------

@pytest.fixture(scope="module", params=[(10000, 32), (2000, 64)], ids=["10000x32x32", "2000x64x64"])
def stack(request, small):
    b, n = request.param
    if small:
        b = 50
    return np.random.default_rng(2).standard_normal((b, n, n))


@pytest.mark.benchmark(group="svdvals_stack")
def bench_svdvals_stack__gsa(benchmark, stack):
    benchmark(g.svdvals, stack)


@pytest.mark.benchmark(group="svdvals_stack")
def bench_svdvals_stack__numpy(benchmark, stack):
    benchmark.pedantic(lambda: np.linalg.svd(stack, compute_uv=False), rounds=3, iterations=1)


@pytest.mark.benchmark(group="svdvals_stack")
def bench_svdvals_stack__reference(benchmark, stack):
    sub = stack[:200]
    benchmark.pedantic(ref.svdvals, args=(sub,), rounds=3, iterations=1)
    benchmark.extra_info["scale"] = stack.shape[0] / sub.shape[0]


# ---- one transformer block (mixed shapes, one call) ------------------------------------------------

@pytest.fixture(scope="module")
def block(small):
    r = np.random.default_rng(3)
    d = 96 if small else 768
    shapes = [(d, d)] * 4 + [(d, 4 * d), (4 * d, d)]
    return [_power_law(r, m, n) for m, n in shapes]


@pytest.mark.benchmark(group="svdvals_block")
def bench_svdvals_block__gsa(benchmark, block):
    benchmark.pedantic(g.svdvals, args=(block,), rounds=3, iterations=1)


@pytest.mark.benchmark(group="svdvals_block")
def bench_svdvals_block__floor(benchmark, block):
    w64 = [w.astype(np.float64) for w in block]
    benchmark.pedantic(lambda: [_floor_gram_eig(w) for w in w64], rounds=3, iterations=1)


@pytest.mark.benchmark(group="svdvals_block")
def bench_svdvals_block__numpy(benchmark, block):
    benchmark.pedantic(lambda: [np.linalg.svd(w.astype(float), compute_uv=False) for w in block],
                       rounds=2, iterations=1)


# ---- method="svd" on tall and wide row-major matrices (issue 7 item 10) ---------------------------
# dgesdd is fast on tall column-major input; a row-major tall matrix is handed to it transposed
# into that layout. Peer: scipy on the tall float64 layout (Fortran order, what LAPACK prefers).

@pytest.fixture(scope="module", params=["tall", "wide"])
def svd_shape(request, small):
    m, n = (2048, 96) if small else (30522, 384)  # the MiniLM word-embedding matrix
    x = np.random.default_rng(3).standard_normal((m, n) if request.param == "tall" else (n, m))
    return request.param, x


@pytest.mark.benchmark(group="svdvals_svd_tall_wide")
def bench_svdvals_svd_shape(benchmark, svd_shape):
    kind, x = svd_shape
    benchmark.extra_info["shape"] = f"{kind} {x.shape}"
    benchmark.pedantic(g.svdvals, args=(x,), kwargs={"method": "svd", "threads": 1}, rounds=2, iterations=1)


@pytest.mark.benchmark(group="svdvals_svd_tall_wide")
def bench_svdvals_svd_shape_scipy(benchmark, svd_shape):
    kind, x = svd_shape
    xf = np.asfortranarray(x if x.shape[0] >= x.shape[1] else x.T)
    benchmark.extra_info["shape"] = f"{kind} {x.shape} (scipy on the tall Fortran layout)"
    benchmark.pedantic(sl.svd, args=(xf,), kwargs={"compute_uv": False, "overwrite_a": False,
                                                   "check_finite": False},
                       rounds=2, iterations=1)
