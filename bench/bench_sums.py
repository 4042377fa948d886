"""Harmonic sums: compiled kernel vs the numpy reference and scipy's Hurwitz-zeta route.

Peers: ``gsa_fast.reference.harmonic`` (the float64 reference) and
``scipy.special.zeta(s) − zeta(s, d+1)`` (fast but loses all digits near s = 1, §3.3).
"""
from __future__ import annotations

import numpy as np
import pytest
import scipy.special as sp

import gsa_fast as g
from gsa_fast import reference as ref

N = 2000


@pytest.fixture(scope="module")
def params():
    r = np.random.default_rng(0)
    d = np.exp(r.uniform(0, np.log(1e12), N)).astype(np.int64)
    s = r.uniform(1.05, 4.0, N)  # scipy's route needs s > 1
    return d, s


@pytest.mark.benchmark(group="harmonic")
def bench_harmonic__gsa(benchmark, params):
    d, s = params
    benchmark(g.harmonic, d, s)


@pytest.mark.benchmark(group="harmonic")
def bench_harmonic__scipy(benchmark, params):
    d, s = params
    benchmark(lambda: sp.zeta(s) - sp.zeta(s, d + 1.0))


@pytest.mark.benchmark(group="harmonic")
def bench_harmonic__reference(benchmark, params):
    d, s = params
    benchmark.pedantic(ref.harmonic, args=(d[:200], s[:200]), rounds=3, iterations=1)
    benchmark.extra_info["scale"] = N / 200  # report.py scales the time to the full batch


@pytest.mark.benchmark(group="harmonic_sums")
def bench_harmonic_sums__gsa(benchmark, params):
    d, s = params
    benchmark(g.harmonic_sums, d, s)


@pytest.mark.benchmark(group="harmonic_sums")
def bench_harmonic_sums__scipy(benchmark, params):
    # scipy has H only (no L, Q): the same one-liner as for harmonic, for the ratio issue 15 asks
    d, s = params
    benchmark(lambda: sp.zeta(s) - sp.zeta(s, d + 1.0))


@pytest.mark.benchmark(group="harmonic_range")
def bench_harmonic_range__gsa(benchmark, params):
    d, s = params
    benchmark(g.harmonic_range, d // 2 + 1, d, s)


@pytest.mark.benchmark(group="harmonic_range")
def bench_harmonic_range__scipy(benchmark, params):
    d, s = params
    benchmark(lambda: sp.zeta(s, d // 2 + 1.0) - sp.zeta(s, d + 1.0))


@pytest.mark.benchmark(group="harmonic_range")
def bench_harmonic_range__reference(benchmark, params):
    d, s = params
    benchmark.pedantic(ref.harmonic_range, args=(d[:200] // 2 + 1, d[:200], s[:200]), rounds=3, iterations=1)
    benchmark.extra_info["scale"] = N / 200
