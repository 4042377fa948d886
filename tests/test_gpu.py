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
