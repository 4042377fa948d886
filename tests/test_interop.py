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
    from gsa_fast import _backend

    monkeypatch.setattr(_backend, "cuda_available", lambda: False)  # also on a machine with a GPU
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


class FakeTorchCuda:
    """Stands in for a torch CUDA tensor (recognized by its type's module and .device)."""

    __module__ = "torch"
    device = type("Device", (), {"type": "cuda"})()

    def detach(self):
        return self


def _stub_device(monkeypatch):
    """A machine with a usable device and a stand-in cupy whose arrays record what they view."""
    import types

    from gsa_fast import _backend

    class FakeCupyArray:
        __module__ = "cupy"

        def __init__(self, src):
            self.src, self.device = src, types.SimpleNamespace(id=0)

    stub = types.ModuleType("cupy")
    stub.asarray = stub.from_dlpack = FakeCupyArray
    stub.cuda = types.SimpleNamespace(runtime=types.SimpleNamespace(getDevice=lambda: 0))
    monkeypatch.setitem(sys.modules, "cupy", stub)
    monkeypatch.setattr(_backend, "cuda_available", lambda: True)
    monkeypatch.setattr(_backend, "require_cuda", lambda fn: None)
    return FakeCupyArray


def test_device_memory_of_other_libraries_takes_the_cuda_route(monkeypatch):
    # issue 12 §1 and docs/gpu.md: torch CUDA tensors (and __cuda_array_interface__ / CUDA DLPack
    # objects) go to the CUDA route, viewed as cupy without a copy; they used to be refused with
    # the host route's "no CUDA kernel for this function" TypeError
    import gsa_fast as g
    from gsa_fast import _backend, _gpu_depth_matrix, _gpu_energy
    from gsa_fast._ragged import RaggedSpectra

    cupy_array = _stub_device(monkeypatch)
    seen = []
    monkeypatch.setattr(_gpu_energy, "energy", lambda spectra, fn: seen.append(spectra) or "device")
    for obj in (FakeTorchCuda(), FakeCuda(), FakeCudaDLPack()):
        assert g.energy(obj) == "device"
        assert isinstance(seen[-1], cupy_array) and seen[-1].src is obj
    g.energy([FakeTorchCuda(), FakeTorchCuda()])
    assert type(seen[-1]) is list and all(isinstance(e, cupy_array) for e in seen[-1])
    r = RaggedSpectra(FakeCuda(), np.array([0, 3]))
    g.energy(r)
    assert isinstance(seen[-1].values, cupy_array) and seen[-1].offsets is r.offsets
    # routes whose operands must all be on the device: converted together, a host one is the mix
    a, b = _backend.device_operands("bures_distance", FakeTorchCuda(), FakeCuda())
    assert isinstance(a, cupy_array) and isinstance(b, cupy_array)
    with pytest.raises(TypeError, match="all be numpy arrays or all be cupy arrays"):
        _backend.device_operands("bures_distance", FakeTorchCuda(), np.eye(2))
    # jacobian_chain's route takes the torch objects themselves
    got = []
    monkeypatch.setattr(_gpu_depth_matrix, "jacobian_chain", lambda model, inputs, token=0: got.append(inputs))
    t = FakeTorchCuda()
    _backend.cuda_route("jacobian_chain")(None, t)
    assert got == [t]


def test_torch_cuda_tensors_run_on_the_device(cupy):
    torch = pytest.importorskip("torch")
    if not torch.cuda.is_available():
        pytest.skip("torch has no CUDA device here")
    import gsa_fast as g

    rng = np.random.default_rng(0)
    x = -np.sort(-rng.random((4, 30)), axis=-1)
    got = g.energy(torch.as_tensor(x, device="cuda"))
    assert isinstance(got, cupy.ndarray)
    np.testing.assert_allclose(cupy.asnumpy(got), g.energy(x), rtol=1e-13)
    d = g.bures_distance_diag(torch.as_tensor(x, device="cuda"), torch.as_tensor(x[::-1].copy(), device="cuda"))
    np.testing.assert_allclose(cupy.asnumpy(d), g.bures_distance_diag(x, x[::-1]), rtol=1e-13)
    w = rng.standard_normal((40, 30)).astype(np.float32)
    s = g.svdvals(torch.as_tensor(w, device="cuda"))
    np.testing.assert_allclose(cupy.asnumpy(s), g.svdvals(w), rtol=0, atol=4 * 40 * 2.0**-24 * float(s[0]))
    with pytest.raises(TypeError, match="all be numpy arrays or all be cupy arrays"):
        g.bures_distance_diag(torch.as_tensor(x, device="cuda"), x)
