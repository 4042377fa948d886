"""Shared fixtures: seeded generators, devices, and the per-dtype tolerances of the project.

Tolerances (where the numbers come from):
- float64 closed forms and direct sums: 1e-13 relative (spec §11 default; measured ~1e-16).
- Euler–Maclaurin sums: 1e-13 relative (issue: "≤ 1e-13 against mpmath for d ≤ 1e15").
- spectra: the accuracy contract of gsa_fast.svdvals, c·max(m,n)·u·σ_1 with u the input's unit
  roundoff (2^-8 bf16, 2^-11 f16, 2^-24 f32, 2^-53 f64).
"""
from __future__ import annotations

import numpy as np
import pytest

import gsa_fast

@pytest.fixture
def rng():
    return np.random.default_rng(20261124)


def _cupy_or_none():
    if gsa_fast.build_info()["cuda_devices"] == 0:
        return None
    try:
        import cupy
    except ImportError:
        return None
    return cupy


@pytest.fixture
def cupy():
    cp = _cupy_or_none()
    if cp is None:
        info = gsa_fast.build_info()
        pytest.skip(f"no CUDA device/cupy (cuda: {info['cuda_status']}, devices: {info['cuda_devices']})")
    return cp


class Device:
    """Where a family test runs its kernel: "cpu" (numpy in/out) or "cuda" (cupy in/out)."""

    def __init__(self, name, xp):
        self.name, self.xp = name, xp

    def asarray(self, x):
        return x if self.name == "cpu" else self.xp.asarray(x)

    def asnumpy(self, x):
        return x if self.name == "cpu" else self.xp.asnumpy(x)

    def is_native(self, x):
        """The result lives where the input did (numpy on cpu, cupy on cuda)."""
        return isinstance(x, self.xp.ndarray)


@pytest.fixture(params=["cpu", pytest.param("cuda", marks=pytest.mark.gpu)])
def device(request):
    """Family tests of kernels with a CUDA route run once per device; "cuda" skips without one."""
    if request.param == "cpu":
        return Device("cpu", np)
    cp = _cupy_or_none()
    if cp is None:
        info = gsa_fast.build_info()
        pytest.skip(f"no CUDA device/cupy (cuda: {info['cuda_status']}, devices: {info['cuda_devices']})")
    return Device("cuda", cp)



def pytest_collection_modifyitems(config, items):
    """Every test that needs a device carries the `gpu` mark, so that `pytest -m gpu` (what
    bench/gpu_run.sh runs first on a lent GPU) selects all of them: the `cuda` side of the
    `device` fixture is marked where it is declared; tests that take the `cupy` fixture, or whose
    name says they run on the device, are marked here."""
    for item in items:
        names = getattr(item, "fixturenames", ())
        if "cupy" in names or "on_the_device" in item.name or "_gpu" in item.name:
            item.add_marker(pytest.mark.gpu)
