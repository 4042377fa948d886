"""GPU kernels vs the CPU kernels on the same inputs (skipped without a CUDA device and cupy).

Timings include a device synchronize; inputs are already resident on the device.
"""
from __future__ import annotations

import numpy as np
import pytest

import gsa_fast as g

N = 1_000_000


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

    def run():
        out = g.harmonic(d, s)
        cp.cuda.get_current_stream().synchronize()
        return out

    benchmark(run)


@pytest.mark.benchmark(group="harmonic_gpu")
def bench_harmonic_gpu__cpu(benchmark, params):
    _cupy()
    benchmark.pedantic(g.harmonic, args=params, rounds=3, iterations=1)
