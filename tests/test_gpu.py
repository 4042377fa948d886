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


def test_svdvals_cuda_matches_cpu(cupy, rng):
    # stacked f32 and f64, bf16 bits, and a ragged list: the GPU route meets the same contract
    k = np.arange(1, 49, dtype=np.float64)
    u, _ = np.linalg.qr(rng.standard_normal((6, 64, 48)))
    v, _ = np.linalg.qr(rng.standard_normal((6, 48, 48)))
    a = (u * k ** -1.0) @ v.transpose(0, 2, 1)
    for dtype, unit in ((np.float64, 2.0**-53), (np.float32, 2.0**-24)):
        x = a.astype(dtype)
        ref = np.linalg.svd(x.astype(np.float64), compute_uv=False)
        for method in ("gram", "svd"):
            dev = g.svdvals(cupy.asarray(x), method=method)
            assert isinstance(dev, cupy.ndarray) and dev.shape == (6, 48)
            tol = (np.sqrt(64 * 64 * unit) if (dtype == np.float64 and method == "gram") else 64 * 64 * unit) * ref[:, :1]
            assert (np.abs(cupy.asnumpy(dev) - ref) <= tol).all(), (dtype, method)
        gd = cupy.asnumpy(g.gram(cupy.asarray(x)))
        assert_rel(gd, g.gram(x), 1e-12, atol=1e-12 * np.abs(gd).max(), what="gram")
    bits = (a.astype(np.float32).view(np.uint32) >> 16).astype(np.uint16)
    host = g.svdvals(bits, dtype="bfloat16")
    dev = g.svdvals(cupy.asarray(bits), dtype="bfloat16")
    assert_rel(cupy.asnumpy(dev), host, 1e-9, atol=1e-9 * host.max())
    mats = [a[0], a[1, :20], a[2, :, :7].copy()]
    r = g.svdvals([cupy.asarray(m) for m in mats])
    rh = g.svdvals(mats)
    np.testing.assert_array_equal(r.offsets, rh.offsets)
    assert_rel(cupy.asnumpy(r.values), rh.values, 1e-9, atol=1e-12)
    with pytest.raises(ValueError, match=r"x\[1\] must be finite"):
        bad = a.copy()
        bad[1, 3, 3] = np.inf
        g.svdvals(cupy.asarray(bad))
