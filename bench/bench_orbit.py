"""Orbit (spec §4, §5.3): compiled kernels vs the numpy reference and materialized numpy/scipy.

Batches: N = 10,000 random (α, β, d) with α, β ~ U(0, 3) and d log-uniform in [2, 1e9]; the pure
Python reference is timed on a subset and scaled (extra_info["scale"]). The ``*_d4096`` groups
compare with the one-liner a user would write on a materialized Gibbs law
``p = k**-2α / Σ k**-2α`` at d = 4096 (1,000 exponents), which cannot reach large d at all.
"""
from __future__ import annotations

import numpy as np
import pytest
import scipy.special as sp
import scipy.stats as ss

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
    b = r.uniform(0, 3, N)
    d = np.exp(r.uniform(np.log(2), np.log(1e9), N)).astype(np.int64)
    return a, b, d


@pytest.fixture(scope="module")
def mat():
    r = np.random.default_rng(1)
    a = r.uniform(0, 3, N_MAT)
    b = r.uniform(0, 3, N_MAT)
    return a, b


def _materialize(a):
    k = np.arange(1, D_MAT + 1, dtype=np.float64)
    w = k[None, :] ** (-2.0 * a[:, None])
    return w / w.sum(1, keepdims=True), np.log(k)


def _ref(benchmark, fn, *args, sub=SUB, n=N):
    benchmark.pedantic(fn, args=tuple(x[:sub] for x in args), rounds=3, iterations=1)
    benchmark.extra_info["scale"] = n / sub


# ------------------------------------------------------------------ unary, batch of 10,000
@pytest.mark.benchmark(group="log_partition")
def bench_log_partition__gsa(benchmark, batch):
    benchmark(g.log_partition, batch[0], batch[2])


@pytest.mark.benchmark(group="log_partition")
def bench_log_partition__reference(benchmark, batch):
    _ref(benchmark, ref.log_partition, batch[0], batch[2])


@pytest.mark.benchmark(group="radial")
def bench_radial__gsa(benchmark, batch):
    benchmark(g.radial, batch[0], batch[2])


@pytest.mark.benchmark(group="radial")
def bench_radial__reference(benchmark, batch):
    _ref(benchmark, ref.radial, batch[0], batch[2])


@pytest.mark.benchmark(group="orbit_variance")
def bench_orbit_variance__gsa(benchmark, batch):
    benchmark(g.orbit_variance, batch[0], batch[2])


@pytest.mark.benchmark(group="orbit_variance")
def bench_orbit_variance__reference(benchmark, batch):
    _ref(benchmark, ref.orbit_variance, batch[0], batch[2])


@pytest.mark.benchmark(group="fisher_information")
def bench_fisher_information__gsa(benchmark, batch):
    benchmark(g.fisher_information, batch[0], batch[2])


@pytest.mark.benchmark(group="fisher_information")
def bench_fisher_information__reference(benchmark, batch):
    _ref(benchmark, ref.fisher_information, batch[0], batch[2])


@pytest.mark.benchmark(group="orbit_entropy")
def bench_orbit_entropy__gsa(benchmark, batch):
    benchmark(g.orbit_entropy, batch[0], batch[2])


@pytest.mark.benchmark(group="orbit_entropy")
def bench_orbit_entropy__reference(benchmark, batch):
    _ref(benchmark, ref.orbit_entropy, batch[0], batch[2])


# ------------------------------------------------------------------ binary, batch of 10,000
@pytest.mark.benchmark(group="orbit_kl")
def bench_orbit_kl__gsa(benchmark, batch):
    benchmark(g.orbit_kl, *batch)


@pytest.mark.benchmark(group="orbit_kl")
def bench_orbit_kl__reference(benchmark, batch):
    _ref(benchmark, ref.orbit_kl, *batch)


@pytest.mark.benchmark(group="orbit_kl_small_delta")
def bench_orbit_kl_small_delta__gsa(benchmark, batch):
    a, _, d = batch  # |β − α| = 1e-6: the stable φ-sum route for every pair
    benchmark(g.orbit_kl, a, a + 1e-6, d)


@pytest.mark.benchmark(group="orbit_kl_small_delta")
def bench_orbit_kl_small_delta__reference(benchmark, batch):
    a, _, d = batch
    _ref(benchmark, ref.orbit_kl, a, a + 1e-6, d)


@pytest.mark.benchmark(group="orbit_bures_distance")
def bench_orbit_bures_distance__gsa(benchmark, batch):
    benchmark(g.orbit_bures_distance, *batch)


@pytest.mark.benchmark(group="orbit_bures_distance")
def bench_orbit_bures_distance__reference(benchmark, batch):
    _ref(benchmark, ref.orbit_bures_distance, *batch)


@pytest.mark.benchmark(group="bures_length")
def bench_bures_length__gsa(benchmark, batch):
    a, b, d = (x[:1000] for x in batch)
    benchmark(g.bures_length, a, b, d)
    benchmark.extra_info["scale"] = N / 1000


@pytest.mark.benchmark(group="bures_length")
def bench_bures_length__reference(benchmark, batch):
    _ref(benchmark, ref.bures_length, *batch, sub=3)


# ------------------------------------------------------------------ materialized peers, d = 4096
@pytest.mark.benchmark(group="orbit_probs_d4096")
def bench_orbit_probs_d4096__gsa(benchmark, mat):
    benchmark(g.orbit_probs, mat[0], D_MAT)


@pytest.mark.benchmark(group="orbit_probs_d4096")
def bench_orbit_probs_d4096__numpy(benchmark, mat):
    benchmark(lambda: _materialize(mat[0])[0])


@pytest.mark.benchmark(group="orbit_probs_d4096")
def bench_orbit_probs_d4096__reference(benchmark, mat):
    benchmark.pedantic(ref.orbit_probs, args=(mat[0][:100], D_MAT), rounds=3, iterations=1)
    benchmark.extra_info["scale"] = N_MAT / 100


@pytest.mark.benchmark(group="orbit_variance_d4096")
def bench_orbit_variance_d4096__gsa(benchmark, mat):
    benchmark(g.orbit_variance, mat[0], D_MAT)


@pytest.mark.benchmark(group="orbit_variance_d4096")
def bench_orbit_variance_d4096__numpy(benchmark, mat):
    def run():
        p, lk = _materialize(mat[0])
        mu = p @ lk
        return (p * (lk[None, :] - mu[:, None]) ** 2).sum(1)

    benchmark(run)


@pytest.mark.benchmark(group="orbit_entropy_d4096")
def bench_orbit_entropy_d4096__gsa(benchmark, mat):
    benchmark(g.orbit_entropy, mat[0], D_MAT)


@pytest.mark.benchmark(group="orbit_entropy_d4096")
def bench_orbit_entropy_d4096__scipy(benchmark, mat):
    benchmark(lambda: ss.entropy(_materialize(mat[0])[0], axis=1))


@pytest.mark.benchmark(group="orbit_kl_d4096")
def bench_orbit_kl_d4096__gsa(benchmark, mat):
    benchmark(g.orbit_kl, mat[0], mat[1], D_MAT)


@pytest.mark.benchmark(group="orbit_kl_d4096")
def bench_orbit_kl_d4096__scipy(benchmark, mat):
    benchmark(lambda: sp.rel_entr(_materialize(mat[0])[0], _materialize(mat[1])[0]).sum(1))


@pytest.mark.benchmark(group="orbit_bures_distance_d4096")
def bench_orbit_bures_distance_d4096__gsa(benchmark, mat):
    benchmark(g.orbit_bures_distance, mat[0], mat[1], D_MAT)


@pytest.mark.benchmark(group="orbit_bures_distance_d4096")
def bench_orbit_bures_distance_d4096__numpy(benchmark, mat):
    benchmark(lambda: np.sqrt(D_MAT) * np.linalg.norm(
        np.sqrt(_materialize(mat[0])[0]) - np.sqrt(_materialize(mat[1])[0]), axis=1))
