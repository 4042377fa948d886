"""gsa_fast._interop: arrays from torch, DLPack, __array__ and __cuda_array_interface__ producers."""
from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from gsa_fast import _interop


class ArrayLike:
    def __init__(self, a):
        self._a = a

    def __array__(self, dtype=None, copy=None):
        return self._a


class DLPackOnly:
    def __init__(self, a):
        self._a = a

    def __dlpack__(self, **kw):
        return self._a.__dlpack__(**kw)

    def __dlpack_device__(self):
        return self._a.__dlpack_device__()


class FakeCuda:
    __cuda_array_interface__ = {"shape": (3,), "typestr": "<f8", "data": (0, False), "version": 3}


class FakeCudaDLPack:
    def __dlpack__(self, **kw):  # pragma: no cover - never reached: the device check comes first
        raise AssertionError("must not be converted")

    def __dlpack_device__(self):
        return (2, 0)


def test_numpy_and_plain_values_pass_through():
    a = np.arange(6.0).reshape(2, 3)
    assert _interop.as_array(a) is a
    assert _interop.as_array([1.0, 2.0]) == [1.0, 2.0]
    assert _interop.as_array(3.0) == 3.0


def test_array_protocol_and_dlpack_without_copy():
    a = np.arange(12.0).reshape(3, 4)
    b = _interop.as_array(ArrayLike(a))
    assert np.shares_memory(a, b)
    c = _interop.as_array(DLPackOnly(a))
    assert isinstance(c, np.ndarray) and np.shares_memory(a, c)


def test_device_objects_are_refused_by_host_functions():
    for obj in (FakeCuda(), FakeCudaDLPack(), [FakeCuda()]):
        with pytest.raises(TypeError, match=r"fn\(\): x must be a host array"):
            _interop.as_numpy(obj, "fn", "x")


def test_host_functions_refuse_device_memory_before_converting_it(monkeypatch):
    """With cupy importable but no usable device (a driver too old, a machine without a GPU), a
    function without a CUDA route must refuse device memory from the object itself, not by first
    wrapping it in cupy (which needs a device and fails with cupy's own error). The stub cupy
    below fails the test if anything tries to convert."""
    import types

    import gsa_fast as g

    stub = types.ModuleType("cupy")

    def refuse(*a, **k):
        raise AssertionError("device memory was handed to cupy before the device check")

    stub.asarray = stub.from_dlpack = refuse
    monkeypatch.setitem(sys.modules, "cupy", stub)
    for obj in (FakeCuda(), FakeCudaDLPack()):
        with pytest.raises(TypeError, match=r"truncation_rank\(\): spectra must be a numpy array \(no CUDA"):
            g.truncation_rank(obj, 0.1)
        with pytest.raises(TypeError, match=r"must be a host array"):
            _interop.as_numpy(obj, "fn", "x")


def test_torch_cpu_tensors_are_views():
    torch = pytest.importorskip("torch")
    t = torch.arange(12, dtype=torch.float32).reshape(3, 4)
    a = _interop.as_array(t)
    assert isinstance(a, np.ndarray) and a.ctypes.data == t.data_ptr()
    tt = t.T  # strided view: kept strided, not copied
    b = _interop.as_array(tt)
    assert b.ctypes.data == t.data_ptr() and b.shape == (4, 3) and not b.flags.c_contiguous
    g = torch.ones(3, requires_grad=True)
    assert _interop.as_array(g).tolist() == [1.0, 1.0, 1.0]
    bf = torch.tensor([1.0, 2.5, -3.0], dtype=torch.bfloat16)
    c = _interop.as_array(bf)
    assert c.dtype.itemsize == 2 and c.ctypes.data == bf.data_ptr()
    np.testing.assert_array_equal(c.astype(np.float32), [1.0, 2.5, -3.0])
    lst = _interop.as_array([t, t])
    assert all(isinstance(x, np.ndarray) for x in lst)


def test_restore_rule():
    torch = pytest.importorskip("torch")
    import gsa_fast as g

    x = np.linspace(1, 5, 40) ** 3
    r = g.esd_powerlaw_fit(x)
    assert _interop.restore(r, x) is r  # numpy in -> numpy out
    rt = _interop.restore(r, torch.from_numpy(x), output="input")
    assert isinstance(rt.alpha, torch.Tensor) and float(rt.alpha) == float(r.alpha)
    assert isinstance(rt.warning, str)  # text is not converted
    assert _interop.restore(r, torch.from_numpy(x)) is r  # default stays numpy
    with pytest.raises(ValueError, match="output"):
        _interop.restore(r, x, output="torch")


def test_torch_is_not_imported_for_numpy_inputs():
    code = ("import sys, numpy as np, gsa_fast as g\n"
            "from gsa_fast.compat import weightwatcher as cw\n"
            "g.esd_powerlaw_fit(np.linspace(1, 2, 30))\n"
            "cw.analyze({'a.weight': np.random.default_rng(0).standard_normal((30, 20))})\n"
            "print('torch' in sys.modules)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
