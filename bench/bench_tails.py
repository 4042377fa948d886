"""Orbit tails and ranks (spec §8.2–§8.4): compiled kernels vs the numpy reference and numpy
one-liners on a materialized spectrum.

Batches: N = 10,000 random (α, ε, d, r) with α ~ U(0, 3), ε log-uniform in [1e-6, 0.5], d
log-uniform in [2, 1e9], r ~ U{0..d}; the pure Python reference is timed on a subset and
scaled (extra_info["scale"]). The ``*_d4096`` groups compare with what a user writes on a
materialized Gibbs law at d = 4096 (1,000 exponents): a reverse cumulative sum for the tail and
``argmax(tail <= ε)`` for the rank.
"""
from __future__ import annotations

import numpy as np
import pytest

import gsa_fast as g
from gsa_fast import reference as ref

N = 10_000
SUB = 20
D_MAT = 4096
N_MAT = 1000


@pytest.fixture(scope="module")
def batch():
    r = np.random.default_rng(0)
    a = r.uniform(0, 3, N)
    eps = np.exp(r.uniform(np.log(1e-6), np.log(0.5), N))
    d = np.exp(r.uniform(np.log(2), np.log(1e9), N)).astype(np.int64)
    rr = (r.random(N) * (d + 1)).astype(np.int64)
    return a, eps, d, rr


@pytest.fixture(scope="module")
def mat():
    r = np.random.default_rng(1)
    return r.uniform(0, 3, N_MAT), r.uniform(0.001, 0.5, N_MAT), r.integers(0, D_MAT + 1, N_MAT)


def _tails_np(a):
    k = np.arange(1, D_MAT + 1, dtype=np.float64)
    w = k[None, :] ** (-2.0 * a[:, None])
    suffix = np.cumsum(w[:, ::-1], axis=1)[:, ::-1]  # suffix[:, j] = Σ_{k > j}
    return np.concatenate([suffix[:, 1:], np.zeros((len(a), 1))], axis=1) / suffix[:, :1]


def _ref(benchmark, fn, *args, sub=SUB, n=N, **kw):
    benchmark.pedantic(lambda: fn(*(x[:sub] for x in args), **kw), rounds=3, iterations=1)
    benchmark.extra_info["scale"] = n / sub


@pytest.mark.benchmark(group="orbit_tail")
def bench_orbit_tail__gsa(benchmark, batch):
    a, _, d, r = batch
    benchmark(g.orbit_tail, a, r, d)


@pytest.mark.benchmark(group="orbit_tail")
def bench_orbit_tail__reference(benchmark, batch):
    a, _, d, r = batch
    _ref(benchmark, ref.orbit_tail, a, r, d)


@pytest.mark.benchmark(group="orbit_truncation_rank")
def bench_orbit_truncation_rank__gsa(benchmark, batch):
    a, e, d, _ = batch
    benchmark(g.orbit_truncation_rank, a, e, d)


@pytest.mark.benchmark(group="orbit_truncation_rank")
def bench_orbit_truncation_rank__reference(benchmark, batch):
    a, e, d, _ = batch
    _ref(benchmark, ref.orbit_truncation_rank, a, e, d)


@pytest.mark.benchmark(group="tail_margin")
def bench_tail_margin__gsa(benchmark, batch):
    a, e, d, _ = batch
    benchmark(g.tail_margin, a, e, d)


@pytest.mark.benchmark(group="tail_margin")
def bench_tail_margin__reference(benchmark, batch):
    a, e, d, _ = batch
    _ref(benchmark, ref.tail_margin, a, e, d)


@pytest.mark.benchmark(group="plateau_thresholds")
def bench_plateau_thresholds__gsa(benchmark, batch):
    _, e, d, _ = batch
    benchmark(g.plateau_thresholds, e[:1000], d[:1000], 16)
    benchmark.extra_info["scale"] = N / 1000


@pytest.mark.benchmark(group="plateau_thresholds")
def bench_plateau_thresholds__reference(benchmark, batch):
    _, e, d, _ = batch
    _ref(benchmark, ref.plateau_thresholds, e, d, sub=2, rmax=16)


@pytest.mark.benchmark(group="tail_lipschitz")
def bench_tail_lipschitz__gsa(benchmark, batch):
    benchmark(g.tail_lipschitz, batch[2])


@pytest.mark.benchmark(group="tail_lipschitz")
def bench_tail_lipschitz__numpy(benchmark, batch):
    benchmark(lambda: 2.0 * np.log(batch[2].astype(np.float64)))


# ------------------------------------------------------------------ materialized peers, d = 4096
@pytest.mark.benchmark(group="orbit_tail_d4096")
def bench_orbit_tail_d4096__gsa(benchmark, mat):
    a, _, r = mat
    benchmark(g.orbit_tail, a, r, D_MAT)


@pytest.mark.benchmark(group="orbit_tail_d4096")
def bench_orbit_tail_d4096__numpy(benchmark, mat):
    a, _, r = mat
    benchmark(lambda: np.concatenate([np.ones((N_MAT, 1)), _tails_np(a)], 1)[np.arange(N_MAT), r])


@pytest.mark.benchmark(group="orbit_truncation_rank_d4096")
def bench_orbit_truncation_rank_d4096__gsa(benchmark, mat):
    a, e, _ = mat
    benchmark(g.orbit_truncation_rank, a, e, D_MAT)


@pytest.mark.benchmark(group="orbit_truncation_rank_d4096")
def bench_orbit_truncation_rank_d4096__numpy(benchmark, mat):
    a, e, _ = mat
    benchmark(lambda: np.argmax(_tails_np(a) <= e[:, None], axis=1) + 1)
