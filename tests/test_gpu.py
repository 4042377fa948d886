"""CUDA kernels against the CPU kernels (skipped cleanly without a device and cupy)."""
from __future__ import annotations

import numpy as np
import pytest

import gsa_fast as g
from _helpers import assert_rel


def test_harmonic_cuda_matches_cpu(cupy):
    d = np.array([0, 1, 2, 255, 256, 257, 1000, 10**6, 10**9, 10**12, 10**15])
    s = np.array([0.0, 0.5, 0.9999, 1.0, 1.0001, 2.0, 3.0, 30.0])
    D, S = np.meshgrid(d, s)
    for j in range(3):
        host = g.harmonic(D, S, power=j)
        dev = g.harmonic(cupy.asarray(D), cupy.asarray(S), power=j)
        assert isinstance(dev, cupy.ndarray)
        # Same header math on both sides; only libm vs CUDA libdevice rounding differs.
        assert_rel(cupy.asnumpy(dev), host, 1e-14, atol=1e-300, what=f"power={j}")


def test_harmonic_cuda_rejects_bad_input(cupy):
    with pytest.raises(ValueError, match="s must be"):
        g.harmonic(cupy.asarray([10]), cupy.asarray([-1.0]))


def test_truncation_rank_cuda_matches_cpu(cupy, rng):
    eps = np.array([0.0, 1e-6, 1e-3, 0.01, 0.1, 0.5, 0.9])
    for dtype in (np.float64, np.float32):
        x = np.sort(rng.pareto(1.5, size=(300, 777)), axis=-1)[:, ::-1].astype(dtype)
        x[5, 300:] = 0.0  # trailing zeros: ε = 0 gives the rank
        x[7] = 0.0  # zero spectrum gives 0
        x = np.ascontiguousarray(x)
        host = g.truncation_rank(x, eps)
        dev = g.truncation_rank(cupy.asarray(x), eps)
        assert isinstance(dev, cupy.ndarray) and dev.shape == host.shape
        # equal except at float ties (|T(r) − ε| ≲ 1e-13): allow ±1 on at most a handful
        diff = np.abs(cupy.asnumpy(dev) - host)
        assert diff.max() <= 1 and np.count_nonzero(diff) <= 3
        assert host[5, 0] == 300 and (host[7] == 0).all()
    # ascending, unsorted and ragged inputs give the same ranks as on the CPU
    y = rng.random((50, 64))
    for variant in (y[:, ::-1].copy(), y, np.sort(y, axis=-1)):
        np.testing.assert_array_equal(cupy.asnumpy(g.truncation_rank(cupy.asarray(variant), 0.1)),
                                      g.truncation_rank(variant, 0.1))
    r = g.RaggedSpectra.from_list([y[0, :10], y[1, :0], y[2]])
    rg = g.RaggedSpectra(cupy.asarray(r.values), r.offsets)
    np.testing.assert_array_equal(cupy.asnumpy(g.truncation_rank(rg, [0.1, 0.01])), g.truncation_rank(r, [0.1, 0.01]))
    with pytest.raises(ValueError, match="spectrum 3"):
        bad = y.copy()
        bad[3, 5] = np.nan
        g.truncation_rank(cupy.asarray(bad), 0.1)
