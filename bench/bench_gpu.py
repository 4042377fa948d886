"""GPU kernels vs the CPU kernels on the same inputs (skipped without a CUDA device and cupy).

Timings include a device synchronize; inputs are already resident on the device.
"""
from __future__ import annotations

import numpy as np
import pytest

import gsa_fast as g

N = 1_000_000


def _synced(cp, fn, *args, **kw):
    """fn(*args) followed by a device synchronize, so the benchmark times the kernels."""
    def run():
        out = fn(*args, **kw)
        cp.cuda.get_current_stream().synchronize()
        return out
    return run


def _cupy():
    if g.build_info()["cuda_devices"] == 0:
        pytest.skip("no CUDA device")
    return pytest.importorskip("cupy")


@pytest.fixture(scope="module")
def params():
    r = np.random.default_rng(0)
    d = np.exp(r.uniform(0, np.log(1e12), N)).astype(np.int64)
    s = r.uniform(0.0, 4.0, N)
    return d, s


@pytest.mark.benchmark(group="harmonic_gpu")
def bench_harmonic_gpu__gsa(benchmark, params):
    cp = _cupy()
    d, s = (cp.asarray(a) for a in params)
    benchmark(_synced(cp, g.harmonic, d, s))


@pytest.mark.benchmark(group="harmonic_gpu")
def bench_harmonic_gpu__cpu(benchmark, params):
    _cupy()
    benchmark.pedantic(g.harmonic, args=params, rounds=3, iterations=1)


# orbit functions, one thread per parameter pair: (α, d) from `params` (α = s/2); the binary ones
# on the first 100,000 (bures_length, ~16 variances per panel, on the first 10,000) with β = α + Δ
_ORBIT = {"log_partition": (g.log_partition, N), "radial": (g.radial, N),
          "orbit_variance": (g.orbit_variance, N), "fisher_information": (g.fisher_information, N),
          "orbit_entropy": (g.orbit_entropy, N), "orbit_kl": (g.orbit_kl, 100_000),
          "orbit_bures_distance": (g.orbit_bures_distance, 100_000),
          "bures_length": (g.bures_length, 10_000)}


def _orbit_args(params, name):
    d, s = params
    fn, n = _ORBIT[name]
    a = 0.5 * s[:n]
    if name in ("orbit_kl", "orbit_bures_distance", "bures_length"):
        return fn, (a, a + 10.0 ** np.linspace(-9, 0, n), d[:n])
    return fn, (a, d[:n])


@pytest.mark.parametrize("name", sorted(_ORBIT))
@pytest.mark.benchmark(group="orbit_gpu")
def bench_orbit_gpu__gsa(benchmark, params, name):
    cp = _cupy()
    fn, args = _orbit_args(params, name)
    benchmark(_synced(cp, fn, *(cp.asarray(x) for x in args)))


@pytest.mark.parametrize("name", sorted(_ORBIT))
@pytest.mark.benchmark(group="orbit_gpu")
def bench_orbit_gpu__cpu(benchmark, params, name):
    _cupy()
    fn, args = _orbit_args(params, name)
    benchmark.pedantic(fn, args=args, rounds=3, iterations=1)


@pytest.fixture(scope="module")
def spectra_10k():
    r = np.random.default_rng(1)
    k = np.arange(1, 4097, dtype=np.float64)
    alpha = r.uniform(0.3, 1.5, size=(10_000, 1))
    return np.ascontiguousarray((k ** -alpha) * (1 + 0.01 * r.random((10_000, 4096))), dtype=np.float32)


@pytest.mark.benchmark(group="truncation_rank_gpu_10k_x_4096_f32")
def bench_truncation_rank_gpu__gsa(benchmark, spectra_10k):
    cp = _cupy()
    benchmark(_synced(cp, g.truncation_rank, cp.asarray(spectra_10k), [0.1, 0.01]))


@pytest.mark.benchmark(group="truncation_rank_gpu_10k_x_4096_f32")
def bench_truncation_rank_gpu__cpu(benchmark, spectra_10k):
    _cupy()
    benchmark.pedantic(g.truncation_rank, args=(spectra_10k, [0.1, 0.01]), rounds=3, iterations=1)


_STATS = {"rank_count": lambda x: g.rank_count(x, 1e-3), "spectral_entropy": g.spectral_entropy,
          "radial_functional": g.radial_functional, "energy": g.energy,
          "spectrum_tails": g.spectrum_tails}


@pytest.mark.parametrize("name", sorted(_STATS))
@pytest.mark.benchmark(group="energy_family_gpu_10k_x_4096_f32")
def bench_energy_family_gpu__gsa(benchmark, spectra_10k, name):
    cp = _cupy()
    benchmark(_synced(cp, _STATS[name], cp.asarray(spectra_10k)))


@pytest.mark.parametrize("name", sorted(_STATS))
@pytest.mark.benchmark(group="energy_family_gpu_10k_x_4096_f32")
def bench_energy_family_gpu__cpu(benchmark, spectra_10k, name):
    _cupy()
    benchmark.pedantic(_STATS[name], args=(spectra_10k,), rounds=3, iterations=1)


@pytest.fixture(scope="module")
def big_f32():
    r = np.random.default_rng(2)
    return r.standard_normal((4096, 11008), dtype=np.float32)


@pytest.mark.benchmark(group="svdvals_gpu_4096x11008_f32")
def bench_svdvals_big_gpu__gsa(benchmark, big_f32):
    cp = _cupy()
    benchmark.pedantic(_synced(cp, g.svdvals, cp.asarray(big_f32)), rounds=3, iterations=1, warmup_rounds=1)


@pytest.mark.benchmark(group="svdvals_gpu_4096x11008_f32")
def bench_svdvals_big_gpu__gsa_two_stage(benchmark, big_f32):
    # the two-stage route (dense → band by float64 GEMMs on the device, band → tridiagonal →
    # dsterf on the host); its "peer / gsa_fast" column reads two_stage / syevd (< 1: faster)
    cp = _cupy()
    benchmark.pedantic(_synced(cp, g.svdvals, cp.asarray(big_f32), _eig_driver="band"),
                       rounds=3, iterations=1, warmup_rounds=1)


@pytest.mark.benchmark(group="svdvals_gpu_4096x11008_f32")
def bench_svdvals_big_gpu__cpu(benchmark, big_f32):
    _cupy()
    benchmark.pedantic(g.svdvals, args=(big_f32,), rounds=1, iterations=1)


@pytest.mark.benchmark(group="svdvals_gpu_4096x11008_f32")
def bench_svdvals_big_gpu__cupy_f32_eigvalsh(benchmark, big_f32):
    # the f32 route a GPU user would write (fails the accuracy contract, like numpy's f32 route)
    cp = _cupy()
    x = cp.asarray(big_f32)
    benchmark.pedantic(_synced(cp, lambda: cp.sqrt(cp.clip(cp.linalg.eigvalsh(x @ x.T)[::-1], 0, None))),
                       rounds=3, iterations=1, warmup_rounds=1)


@pytest.fixture(scope="module")
def stack64():
    return np.random.default_rng(3).standard_normal((2000, 64, 64))


@pytest.mark.benchmark(group="svdvals_gpu_2000x64x64_f64")
def bench_svdvals_stack_gpu__gsa(benchmark, stack64):
    cp = _cupy()
    benchmark.pedantic(_synced(cp, g.svdvals, cp.asarray(stack64)), rounds=5, iterations=1, warmup_rounds=1)


@pytest.mark.benchmark(group="svdvals_gpu_2000x64x64_f64")
def bench_svdvals_stack_gpu__cpu(benchmark, stack64):
    _cupy()
    benchmark.pedantic(g.svdvals, args=(stack64,), rounds=3, iterations=1)
