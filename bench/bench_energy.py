"""Energy family: truncation ranks, tails, energy, entropy, radial functional, rank counts.

Peers: the vectorized numpy one-liner a user would write over the whole batch (sort, square,
cumsum, compare — the ``1 − prefix`` form, less accurate for small ε), scipy.stats.entropy, and
``gsa_fast.reference`` (per-spectrum numpy loop, timed on a subset and scaled).
Inputs are sorted descending, as svdvals returns them, unless the group says ``unsorted``.
"""
from __future__ import annotations

import numpy as np
import pytest
import scipy.stats

import gsa_fast as g
from gsa_fast import reference as ref

B, W = 10_000, 4096  # truncation_rank: the batch
EPS = np.array([0.1, 0.01])
B2, W2 = 2_000, 1024  # other quantities (their outputs are as large as the input)
SUB = 100  # spectra timed for the reference


@pytest.fixture(scope="module")
def unsorted64():
    return np.random.default_rng(0).lognormal(0, 1, (B, W))


@pytest.fixture(scope="module")
def sorted64(unsorted64):
    return -np.sort(-unsorted64, axis=1)


@pytest.fixture(scope="module")
def sorted32(sorted64):
    return sorted64.astype(np.float32)


@pytest.fixture(scope="module")
def small(sorted64):
    return np.ascontiguousarray(sorted64[:B2, ::4])


def numpy_truncation_rank(x, eps):
    c = np.cumsum(np.sort(x, axis=1)[:, ::-1].astype(np.float64) ** 2, axis=1)
    return (c[:, :, None] < (1 - eps) * c[:, -1:, None]).sum(axis=1) + 1


def _check(x, eps):
    # the peer answers the same question (away from ties)
    assert np.array_equal(numpy_truncation_rank(x[:50], eps), g.truncation_rank(x[:50], eps))


@pytest.mark.benchmark(group="truncation_rank_f64")
def bench_truncation_rank_f64__gsa(benchmark, sorted64):
    _check(sorted64, EPS)
    benchmark(g.truncation_rank, sorted64, EPS)


@pytest.mark.benchmark(group="truncation_rank_f64")
def bench_truncation_rank_f64__numpy(benchmark, sorted64):
    benchmark.pedantic(numpy_truncation_rank, args=(sorted64, EPS), rounds=2, iterations=1)


@pytest.mark.benchmark(group="truncation_rank_f64")
def bench_truncation_rank_f64__reference(benchmark, sorted64):
    benchmark.pedantic(ref.truncation_rank, args=(sorted64[:SUB], EPS), rounds=2, iterations=1)
    benchmark.extra_info["scale"] = B / SUB


@pytest.mark.benchmark(group="truncation_rank_f32")
def bench_truncation_rank_f32__gsa(benchmark, sorted32):
    _check(sorted32, EPS)
    benchmark(g.truncation_rank, sorted32, EPS)


@pytest.mark.benchmark(group="truncation_rank_f32")
def bench_truncation_rank_f32__numpy(benchmark, sorted32):
    benchmark.pedantic(numpy_truncation_rank, args=(sorted32, EPS), rounds=2, iterations=1)


@pytest.mark.benchmark(group="truncation_rank_f64_unsorted")
def bench_truncation_rank_f64_unsorted__gsa(benchmark, unsorted64):
    benchmark.pedantic(g.truncation_rank, args=(unsorted64, EPS), rounds=3, iterations=1)


@pytest.mark.benchmark(group="truncation_rank_f64_unsorted")
def bench_truncation_rank_f64_unsorted__numpy(benchmark, unsorted64):
    benchmark.pedantic(numpy_truncation_rank, args=(unsorted64, EPS), rounds=2, iterations=1)


@pytest.mark.benchmark(group="spectrum_tails")
def bench_spectrum_tails__gsa(benchmark, small):
    benchmark(g.spectrum_tails, small)


@pytest.mark.benchmark(group="spectrum_tails")
def bench_spectrum_tails__numpy(benchmark, small):
    def tails(x):
        c = np.cumsum(np.sort(x, axis=1) ** 2, axis=1)[:, ::-1]  # suffix sums of the descending σ²
        return np.concatenate([c, np.zeros((x.shape[0], 1))], axis=1) / c[:, :1]
    benchmark(tails, small)


@pytest.mark.benchmark(group="spectrum_tails")
def bench_spectrum_tails__reference(benchmark, small):
    benchmark.pedantic(ref.spectrum_tails, args=(small[:SUB],), rounds=3, iterations=1)
    benchmark.extra_info["scale"] = B2 / SUB


@pytest.mark.benchmark(group="energy")
def bench_energy__gsa(benchmark, small):
    benchmark(g.energy, small)


@pytest.mark.benchmark(group="energy")
def bench_energy__numpy(benchmark, small):
    def nu(x):
        s2 = np.sort(x, axis=1)[:, ::-1] ** 2
        return s2 / s2.sum(axis=1, keepdims=True)
    benchmark(nu, small)


@pytest.mark.benchmark(group="spectral_entropy")
def bench_spectral_entropy__gsa(benchmark, small):
    benchmark(g.spectral_entropy, small)


@pytest.mark.benchmark(group="spectral_entropy")
def bench_spectral_entropy__scipy(benchmark, small):
    benchmark(lambda x: scipy.stats.entropy(x * x, axis=1), small)


@pytest.mark.benchmark(group="spectral_entropy")
def bench_spectral_entropy__numpy(benchmark, small):
    def ent(x):
        p = x * x / (x * x).sum(axis=1, keepdims=True)
        return -(p * np.log(np.where(p > 0, p, 1.0))).sum(axis=1)
    benchmark(ent, small)


@pytest.mark.benchmark(group="radial_functional")
def bench_radial_functional__gsa(benchmark, small):
    benchmark(g.radial_functional, small)


@pytest.mark.benchmark(group="radial_functional")
def bench_radial_functional__numpy(benchmark, small):
    def m(x):
        s2 = x * x
        top = s2.max(axis=1)
        return 0.5 * np.log(np.count_nonzero(x, axis=1)) - 0.5 * np.log1p((s2.sum(axis=1) - top) / top)
    benchmark(m, small)


@pytest.mark.benchmark(group="radial_functional")
def bench_radial_functional__reference(benchmark, small):
    benchmark.pedantic(ref.radial_functional, args=(small[:SUB],), rounds=3, iterations=1)
    benchmark.extra_info["scale"] = B2 / SUB


@pytest.mark.benchmark(group="rank_count")
def bench_rank_count__gsa(benchmark, small):
    benchmark(g.rank_count, small, 0.5)


@pytest.mark.benchmark(group="rank_count")
def bench_rank_count__numpy(benchmark, small):
    benchmark(lambda x: np.count_nonzero(x > 0.5, axis=1), small)


@pytest.fixture(scope="module")
def batch256(sorted64):
    return np.ascontiguousarray(sorted64[:B2, ::16])  # issue 15's 2,000 × 256 batch


@pytest.mark.benchmark(group="rank_count_2000x256")
def bench_rank_count_2000x256__gsa(benchmark, batch256):
    benchmark(g.rank_count, batch256, 0.5)


@pytest.mark.benchmark(group="rank_count_2000x256")
def bench_rank_count_2000x256__numpy(benchmark, batch256):
    benchmark(lambda x: (x > 0.5).sum(axis=1), batch256)
