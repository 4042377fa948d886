"""The two-stage eigensolver of svdvals' device route (gsa_fast._two_stage) run with numpy as its
array namespace, on one q = 512 Gram, against numpy's dsyevd-based eigvalsh of the same matrix.

This is the CPU side of code written for cupy: it checks that the numpy path does not rot and
shows what the GEMM-only stage 1 costs where the GEMMs are slow (one shared core). The device
numbers come from bench/bench_gpu.py and bench/two_stage_gpu.py (bench/results/gpu.md).
"""
from __future__ import annotations

import numpy as np
import pytest

from gsa_fast import _two_stage as ts

Q = 512


@pytest.fixture(scope="module")
def gram512():
    x = np.random.default_rng(7).standard_normal((Q, 2 * Q))
    return x @ x.T


@pytest.mark.benchmark(group="two_stage_numpy_xp_q512")
def bench_two_stage_cpu__gsa(benchmark, gram512):
    benchmark.pedantic(lambda: ts.band_eigvalsh(ts.dense_to_band(np, gram512, ts.BAND_WIDTH)),
                       rounds=3, iterations=1)


@pytest.mark.benchmark(group="two_stage_numpy_xp_q512")
def bench_two_stage_cpu__numpy(benchmark, gram512):
    benchmark.pedantic(np.linalg.eigvalsh, args=(gram512,), rounds=3, iterations=1)


@pytest.fixture(scope="module")
def band512():
    r = np.random.default_rng(8)
    band = r.standard_normal((ts.BAND_WIDTH + 1, Q))
    for k in range(ts.BAND_WIDTH + 1):
        band[k, Q - k:] = 0.0
    return np.asfortranarray(band)


# band → tridiagonal + dsterf on one core: the bulge-chasing steps of the device kernel
# (math/bulge.hpp through the CPU executor) against LAPACK's dsb2st kernels (the host route)
@pytest.mark.benchmark(group="band_to_tridiagonal_cpu_q512_b64")
def bench_band_to_tridiagonal_cpu__gsa(benchmark, band512):
    from gsa_fast import _gpu_band as gb
    benchmark.pedantic(lambda: gb.tridiagonal_eigvalsh(*gb.band_to_tridiagonal(np, band512)), rounds=3,
                       iterations=1)


@pytest.mark.benchmark(group="band_to_tridiagonal_cpu_q512_b64")
def bench_band_to_tridiagonal_cpu__lapack(benchmark, band512):
    benchmark.pedantic(ts.band_eigvalsh, args=(band512, 1), rounds=3, iterations=1)

# Stage 3's device algorithm (Sturm multisection, gsa_fast._gpu_tridiag) run by its CPU executor
# on one q = 1024 random tridiagonal, against LAPACK dsterf (implicit QL, what the host route
# uses) and dstebz (LAPACK's own bisection, to full accuracy). The executor is the device code's
# CPU twin and test oracle, not a host route: bisection does ≈ 60·n² divisions against dsterf's
# ≈ 30·n·(few), so dsterf is expected to win on the host by an order of magnitude.
@pytest.fixture(scope="module")
def tridiag1024():
    r = np.random.default_rng(8)
    return r.standard_normal(1024), r.standard_normal(1023)


@pytest.mark.parametrize("points", [1, 8])
@pytest.mark.benchmark(group="tridiag_eigvalues_cpu_q1024")
def bench_tridiag_cpu__gsa(benchmark, tridiag1024, points):
    from gsa_fast._gpu_tridiag import eigvalsh_tridiagonal
    benchmark.pedantic(eigvalsh_tridiagonal, args=(np, *tridiag1024), kwargs={"points": points},
                       rounds=3, iterations=1)


@pytest.mark.benchmark(group="tridiag_eigvalues_cpu_q1024")
def bench_tridiag_cpu__dsterf(benchmark, tridiag1024):
    import scipy.linalg as sl
    benchmark.pedantic(sl.eigvalsh_tridiagonal, args=tridiag1024, kwargs={"lapack_driver": "sterf"},
                       rounds=3, iterations=1)


@pytest.mark.benchmark(group="tridiag_eigvalues_cpu_q1024")
def bench_tridiag_cpu__dstebz(benchmark, tridiag1024):
    import scipy.linalg as sl
    benchmark.pedantic(sl.eigvalsh_tridiagonal, args=tridiag1024,
                       kwargs={"lapack_driver": "stebz", "tol": 2.0 ** -1021}, rounds=3, iterations=1)
