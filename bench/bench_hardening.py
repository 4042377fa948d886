"""Issue 8 (hardening): the costs of the interruptible and reproducible routes.

- ``svdvals_svd_route[shape]``: ``svdvals(method="svd")`` — since issue 8 dgesdd's own stages
  (panel QR, dgebrd's loop, dbdsqr) called one panel at a time so that Ctrl-C is seen between
  panels — against numpy's dgesdd (``numpy.linalg.svd(x, compute_uv=False)`` on the float64
  copy, numpy's threaded OpenBLAS) and the reference.
- ``gram_one_thread[3000x1500]``: ``gram(x, threads=1)``, whose Gram is now tiled by q only
  (bitwise the same for any thread count), against numpy's ``x.T @ x``.

bench/results/hardening.md has the numbers and the before/after of the two changes.
"""
from __future__ import annotations

import numpy as np
import pytest

import gsa_fast as g
import gsa_fast.reference as ref

SHAPES = [(1024, 2752), (2752, 1024), (1500, 1500)]


@pytest.fixture(params=SHAPES, ids=[f"{m}x{n}" for m, n in SHAPES])
def mat(request, rng):
    return rng.standard_normal(request.param).astype(np.float32)


@pytest.mark.benchmark(group="svdvals_svd_route")
def bench_svdvals_svd_route__gsa(benchmark, mat):
    benchmark.pedantic(lambda: g.svdvals(mat, method="svd", threads=1), rounds=2, iterations=1)


@pytest.mark.benchmark(group="svdvals_svd_route")
def bench_svdvals_svd_route__numpy(benchmark, mat):
    x = mat.astype(np.float64)
    benchmark.pedantic(lambda: np.linalg.svd(x, compute_uv=False), rounds=2, iterations=1)


@pytest.mark.benchmark(group="svdvals_svd_route")
def bench_svdvals_svd_route__reference(benchmark, mat):
    benchmark.pedantic(lambda: ref.svdvals(mat, method="svd"), rounds=1, iterations=1)


@pytest.fixture
def wide(rng):
    return rng.standard_normal((3000, 1500))


@pytest.mark.benchmark(group="gram_one_thread[3000x1500]")
def bench_gram_one_thread__gsa(benchmark, wide):
    benchmark.pedantic(lambda: g.gram(wide, threads=1), rounds=3, iterations=1)


@pytest.mark.benchmark(group="gram_one_thread[3000x1500]")
def bench_gram_one_thread__numpy(benchmark, wide):
    benchmark.pedantic(lambda: wide.T @ wide, rounds=3, iterations=1)
