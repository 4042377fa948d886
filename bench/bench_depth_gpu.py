"""The depth family's device routes (cuda/depth.cu, python/gsa_fast/_gpu_dln.py) against the CPU
kernels on the same inputs; skipped without a CUDA device and cupy (never run yet: the first GPU
session measures them, bench/gpu_run.sh). Timings include a device synchronize; inputs already
reside on the device.

Sizes and floors (H100/H200: ~67 TF/s float64 tensor core, ~3.3–4.8 TB/s HBM):
* dln_log_volume with grad, 64 rows of d = 2048: 64·d²/2 pairs (log, 2 expm1, 2 log each, ~60
  flop) + 64·d² gradient terms (~40 flop): ~2·10¹⁰ flop of scalar float64 (not tensor-core)
  arithmetic, ~0.6 ms at the ~34 TF/s float64 FMA rate; memory is negligible (1 MiB).
* dln_eigenvalues, 16 rows of d = 2048: 6.7·10⁷ entries, 512 MiB written: ≥ 0.11 ms at HBM rate.
* effective_rank, 100,000 spectra of width 4096 float32: 1.6 GB read once: ≥ 0.35 ms.
* dln_operator, 64 × (512 × 512) float64: one batched SVD (cuSOLVER gesvdj) dominates.
"""
from __future__ import annotations

import numpy as np
import pytest

import gsa_fast as g


def _cupy():
    if g.build_info()["cuda_devices"] == 0:
        pytest.skip("no CUDA device")
    return pytest.importorskip("cupy")


def _synced(cp, fn, *args, **kw):
    def run():
        out = fn(*args, **kw)
        cp.cuda.get_current_stream().synchronize()
        return out
    return run


def _inputs(name):
    r = np.random.default_rng(0)
    if name == "dln_log_volume":
        return (np.abs(r.standard_normal((64, 2048))) + 1e-3, 4), {"grad": True}
    if name == "dln_eigenvalues":
        return (np.abs(r.standard_normal((16, 2048))), 4), {}
    if name == "effective_rank":
        return (np.abs(r.standard_normal((100_000, 4096), dtype=np.float32)),), {}
    X = r.standard_normal((64, 512, 512))
    return (X, r.standard_normal(X.shape), 4), {}


_NAMES = ["dln_log_volume", "dln_eigenvalues", "effective_rank", "dln_operator"]


@pytest.mark.parametrize("name", _NAMES)
@pytest.mark.benchmark(group="depth_gpu")
def bench_depth_gpu__gsa(benchmark, name):
    cp = _cupy()
    args, kw = _inputs(name)
    dev = tuple(cp.asarray(a) if isinstance(a, np.ndarray) else a for a in args)
    benchmark(_synced(cp, getattr(g, name), *dev, **kw))


@pytest.mark.parametrize("name", _NAMES)
@pytest.mark.benchmark(group="depth_gpu")
def bench_depth_gpu__cpu(benchmark, name):
    _cupy()
    args, kw = _inputs(name)
    benchmark.pedantic(getattr(g, name), args=args, kwargs=kw, rounds=1, iterations=1)
