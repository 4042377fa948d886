"""The scan's device staging (issue 12, item 3): each tensor read once into a pinned buffer and
copied to the device once, the copy of the next unit overlapping the solves of the current one.

This machine class has no GPU, so the schedule (gsa_fast._gpu_scan.DeviceStager, and the local
executor's use of it) runs here against a recording stand-in for the cupy calls: "device" arrays
are numpy arrays of a marker subclass, copies are logged with the buffer they came from, events
complete when the host waits for them. What the stand-in cannot show (that the copies really run
asynchronously on a GPU) is measured by bench/gpu_run.sh when a device is lent. On a machine with
a GPU and cupy, the last test runs the real route against the CPU scan.

Exactness: the spectra of the staged route are compared bit for bit with the CPU scan's (the
stand-in solves on the CPU with the same call), and on a GPU within twice svdvals' float32
contract (each route is within m²·2^-24·σ₁ of the exact spectrum; tests/test_spectra.py).
"""
from __future__ import annotations

import sys

import numpy as np
import pytest

import gsa_fast as g
import gsa_fast._gpu_scan as gs
from gsa_fast import _gpu_batch as gb
from gsa_fast._gpu_scan import DeviceStager
from scan_helpers import powerlaw, to_bf16_bits, write_safetensors


class Dev(np.ndarray):
    """A 'device' array of the stand-in (slicing and reshaping keep the marker)."""


class Event:
    def __init__(self, n):
        self.n, self.done = n, False


class FakeCopies:
    """Records every call the stager makes; pinned buffers are plain numpy byte arrays."""

    def __init__(self):
        self.log, self.buffers, self.events = [], [], 0

    def pinned(self, nbytes):
        b = np.zeros(nbytes, np.uint8)
        self.buffers.append(b)
        self.log.append(("pinned", nbytes))
        return b

    def to_device(self, host):
        addr = host.__array_interface__["data"][0]  # inside which pinned buffer (empty views too)
        src, off = next((i, addr - b.__array_interface__["data"][0]) for i, b in enumerate(self.buffers)
                        if 0 <= addr - b.__array_interface__["data"][0] <= b.nbytes - host.nbytes)
        self.log.append(("copy", src, off, host.nbytes))
        return np.array(host).view(Dev)

    def record(self):
        self.events += 1
        self.log.append(("record", self.events))
        return Event(self.events)

    def wait_on_device(self, ev):
        self.log.append(("wait_device", ev.n))

    def wait_on_host(self, ev):
        ev.done = True
        self.log.append(("wait_host", ev.n))


def _unit(rng, k):
    return {f"w{k}.{i}": rng.standard_normal((5 + i, 3)).astype(np.float32) for i in range(3)}


def test_stager_reads_each_tensor_once_into_aligned_pinned_slices(rng):
    fc = FakeCopies()
    st = DeviceStager(fc)
    units = [_unit(rng, k) for k in range(5)]
    for arrays in units:
        staged = st.stage(arrays)
        got = st.ready(staged)
        assert list(got) == list(arrays)
        for name, a in arrays.items():
            assert isinstance(got[name], Dev) and got[name].dtype == a.dtype
            np.testing.assert_array_equal(got[name], a)
        assert staged.nbytes == sum(a.nbytes for a in arrays.values())
    copies = [e for e in fc.log if e[0] == "copy"]
    assert len(copies) == sum(len(u) for u in units)  # once per tensor
    assert all(off % 256 == 0 for _, _, off, _ in copies)
    assert len(fc.buffers) == 2  # two alternating buffers, reused (sizes fit)
    assert [c[1] for c in copies] == [k % 2 for k in range(5) for _ in range(3)]


def test_a_buffer_is_refilled_only_after_its_copies_completed(rng):
    fc = FakeCopies()
    st = DeviceStager(fc)
    s0 = st.stage(_unit(rng, 0))
    s1 = st.stage(_unit(rng, 1))
    assert not s0.event.done and not s1.event.done  # nothing waits on the host for the first two
    st.stage(_unit(rng, 2))  # slot 0 again: its previous copies (unit 0) must be complete first
    assert s0.event.done and not s1.event.done
    i_wait = fc.log.index(("wait_host", s0.event.n))
    first_refill = next(i for i, e in enumerate(fc.log) if e[0] == "copy" and i > fc.log.index(("record", 2)))
    assert i_wait < first_refill


def test_stager_grows_a_buffer_and_handles_empty_units(rng):
    fc = FakeCopies()
    st = DeviceStager(fc)
    assert st.ready(st.stage({})) == {}
    big = {"b": rng.standard_normal((64, 64)).astype(np.float64)}
    st.stage({"s": np.ones((2, 2), np.float32)})
    got = st.ready(st.stage(big))  # slot 0 (used by the empty unit) must grow
    np.testing.assert_array_equal(got["b"], big["b"])
    assert [e for e in fc.log if e[0] == "pinned"][-1][1] >= big["b"].nbytes
    z = st.ready(st.stage({"z": np.zeros((0, 4), np.float32), "e": np.ones((3, 3), np.float16)}))
    assert z["z"].shape == (0, 4) and z["e"].dtype == np.float16


def _fake_device_route(monkeypatch):
    """scan(device='cuda') on the stand-in: availability forced, the stager's copies recorded,
    and the solve done by the CPU svdvals on the staged arrays (which must be 'device' arrays
    whose unit the solving stream has waited for)."""
    fc = FakeCopies()
    solved = []

    def solve(mats, method, kw):
        assert all(isinstance(m, Dev) for m in mats)
        # the solving stream waited for this unit's copies before its solve was enqueued
        assert sum(e[0] == "wait_device" for e in fc.log) == len(solved) + 1
        solved.append(len(mats))
        s = g.svdvals([np.asarray(m) for m in mats], method=method, **kw)
        return [np.array(s[i]) for i in range(len(mats))]

    monkeypatch.setattr(gs, "unavailable_reason", lambda: None)
    monkeypatch.setattr(gs, "svdvals_on_device", solve)
    # gsa_fast.scan the attribute is the function; the module is in sys.modules
    monkeypatch.setattr(sys.modules["gsa_fast.scan"], "_device_stager", lambda: DeviceStager(fc))
    return fc, solved


def test_scan_on_the_stand_in_matches_the_cpu_scan(rng, tmp_path, monkeypatch):
    tensors = {f"layers.{b}.w": powerlaw(rng, 48, 32, 0.7) for b in range(6)}
    tensors.update({f"layers.{b}.v": to_bf16_bits(powerlaw(rng, 32, 32, 0.5)) for b in range(3)})
    tensors["experts.w"] = powerlaw(rng, 16, 12, 0.6).reshape(1, 16, 12).repeat(3, axis=0).copy()
    path = tmp_path / "m.safetensors"
    write_safetensors(path, tensors)
    cpu = g.scan(path, progress=False, memory_budget=40_000)
    fc, solved = _fake_device_route(monkeypatch)
    dev = g.scan(path, progress=False, memory_budget=40_000, device="cuda")
    assert len(solved) >= 3  # several units: the reader thread staged each next one
    assert list(dev.layers["name"]) == list(cpu.layers["name"])
    for name, s in cpu.spectra.items():
        np.testing.assert_array_equal(dev.spectra[name], s)
    copies = [e for e in fc.log if e[0] == "copy"]
    assert len(copies) == len(tensors)  # each tensor copied to the device exactly once
    waits = [e for e in fc.log if e[0] == "wait_device"]
    assert len(waits) == len(solved)  # each unit's solves waited for its copies on the device


class _RecordingSolvers(gb.Solvers):
    """numpy stand-ins for the eigensolver calls of the grouped route, logged as (kind, count, q)."""

    def __init__(self, log):
        super().__init__(np)
        self.log = log

    def jacobi(self, G, tol, max_sweeps):
        self.log.append(("jacobi", G.shape[0], G.shape[-1]))
        return super().jacobi(G, tol, max_sweeps)

    def syevd(self, A):
        self.log.append(("syevd", 1, A.shape[-1]))
        return super().syevd(A)

    def stack(self, G):
        self.log.append(("stack", G.shape[0], G.shape[-1]))
        return super().stack(G)


def test_the_device_scan_solves_a_units_repeated_shapes_in_one_stack_each(rng, tmp_path, monkeypatch):
    # a model of repeated block shapes (issue 12 §2): each staged unit goes through the device
    # route's own code (_gpu_scan.svdvals_on_device with numpy as its namespace), which must make
    # one eigensolver call per Gram size of the unit, holding every matrix of that size
    tensors = {}
    for b in range(6):
        tensors[f"layers.{b}.q"] = powerlaw(rng, 32, 32, 0.7)
        tensors[f"layers.{b}.k"] = powerlaw(rng, 8, 32, 0.7)
        tensors[f"layers.{b}.up"] = powerlaw(rng, 96, 40, 0.6)
        tensors[f"layers.{b}.down"] = powerlaw(rng, 40, 96, 0.6)
    tensors["experts.w"] = powerlaw(rng, 16, 40, 0.6).reshape(1, 16, 40).repeat(3, axis=0).copy()
    path = tmp_path / "m.safetensors"
    write_safetensors(path, tensors)
    cpu = g.scan(path, progress=False, memory_budget=70_000)
    real, units = gs.svdvals_on_device, []
    _fake_device_route(monkeypatch)

    def solve(mats, method, kw):
        assert all(isinstance(m, Dev) for m in mats)
        log = []
        out = real(mats, method, kw, xp=np, solvers=_RecordingSolvers(log))
        units.append(([min(m.shape) for m in mats], log))
        return out

    monkeypatch.setattr(gs, "svdvals_on_device", solve)
    dev = g.scan(path, progress=False, memory_budget=70_000, device="cuda")
    assert len(units) >= 2 and sum(len(qs) for qs, _ in units) == len(cpu.spectra)
    for qs, log in units:
        sizes = list(dict.fromkeys(qs))  # in order of first appearance
        assert [(c, q) for _, c, q in log] == [(qs.count(q), q) for q in sizes]
        assert [k for k, _, q in log] == ["jacobi" if q <= gb.JACOBI_MAX_Q else "stack" for q in sizes]
    assert any(c > 1 for _, log in units for _, c, _ in log)  # repeated shapes did share a call
    assert list(dev.layers["name"]) == list(cpu.layers["name"])
    for name, s in cpu.spectra.items():
        # float32 input, the same float64 Gram: both routes within svdvals' contract 4·m·2⁻²⁴·σ₁
        np.testing.assert_allclose(dev.spectra[name], s, rtol=0, atol=4 * 96 * 2.0 ** -24 * s[0])


@pytest.mark.skipif(gs.unavailable_reason() is not None,
                    reason=f"no CUDA device/cupy ({gs.unavailable_reason()})")
def test_scan_on_the_device_matches_the_cpu_scan(rng, tmp_path):  # pragma: no cover - GPU only
    tensors = {f"layers.{b}.w": powerlaw(rng, 96, 64, 0.7) for b in range(6)}
    path = tmp_path / "m.safetensors"
    write_safetensors(path, tensors)
    cpu = g.scan(path, progress=False, memory_budget=100_000)
    dev = g.scan(path, progress=False, memory_budget=100_000, device="cuda")
    for name, s in cpu.spectra.items():
        # float32 inputs: each route within svdvals' contract of the exact spectrum, m²·2^-24·σ₁
        # (the bound tests/test_spectra.py applies to the device route), so within twice that
        np.testing.assert_allclose(dev.spectra[name], s, rtol=0, atol=2 * 96 * 96 * 2.0**-24 * s[0])


def test_bfloat16_tensors_are_staged_as_their_bits_and_solved_by_the_device_route(rng, tmp_path, monkeypatch):
    # gsa_fast.weights loads BF16 tensors as ml_dtypes.bfloat16 arrays. The stager used to put
    # them on the device as bfloat16 arrays (no such cupy dtype before cupy 14), and svdvals'
    # device route refused a bfloat16 array ("a uint16 cupy array of raw bfloat16 bits"), so on a
    # GPU every BF16 layer of a scan came back "failed: TypeError". Here the device route's own
    # code runs on numpy (svdvals_on_device, xp=np) behind the recording copies.
    ml_dtypes = pytest.importorskip("ml_dtypes")
    tensors = {f"layers.{b}.w": to_bf16_bits(powerlaw(rng, 40, 24, 0.6)) for b in range(3)}
    tensors["layers.0.f"] = powerlaw(rng, 24, 16, 0.7)
    path = tmp_path / "m.safetensors"
    write_safetensors(path, tensors)
    cpu = g.scan(path, progress=False, memory_budget=8_000)
    real = gs.svdvals_on_device
    fc, _ = _fake_device_route(monkeypatch)
    monkeypatch.setattr(gs, "svdvals_on_device", lambda mats, method, kw: real(mats, method, kw, xp=np))
    dev = g.scan(path, progress=False, memory_budget=8_000, device="cuda")
    assert list(dev.layers["status"]) == ["ok"] * len(tensors), list(dev.layers["status"])
    for name, s in cpu.spectra.items():
        # the same float64 Gram of the same bits: within svdvals' bfloat16 contract 4·m·2⁻⁸·σ₁
        np.testing.assert_allclose(dev.spectra[name], s, rtol=0, atol=4 * 40 * 2.0 ** -8 * s[0])
    # and the stager on its own: a bfloat16 array is copied as its uint16 bits (cupy before 14
    # has no bfloat16 arrays), then viewed as bfloat16 again where the library has the dtype
    fc = FakeCopies()
    st = DeviceStager(fc)
    a = powerlaw(rng, 6, 5, 0.5).astype(ml_dtypes.bfloat16)
    got = st.ready(st.stage({"a": a}))["a"]
    assert got.dtype == a.dtype and isinstance(got, Dev)
    np.testing.assert_array_equal(got.view(np.uint16), a.view(np.uint16))
    fc.to_device = lambda host: NoBf16(np.array(host))  # a library without bfloat16
    got = st.ready(st.stage({"a": a}))["a"]
    assert got.dtype == np.uint16
    np.testing.assert_array_equal(got, a.view(np.uint16))


class NoBf16(np.ndarray):
    """A 'device' array of a library without bfloat16 (cupy < 14): viewing as it raises."""

    def __new__(cls, a):
        return np.asarray(a).view(cls)

    def view(self, dtype=None, *args):
        if dtype is not None and np.dtype(dtype).name == "bfloat16":
            raise TypeError("Unsupported dtype bfloat16")
        return super().view(dtype, *args)


def test_the_device_spectra_route_takes_bfloat16_arrays_as_their_bits(rng):
    # a bfloat16 array (cupy >= 14: a torch bf16 CUDA tensor through DLPack) on the device
    # route's own code, with numpy standing in for cupy: the same values as the uint16 bits with
    # dtype="bfloat16", and as the CPU route on the ml_dtypes array
    ml_dtypes = pytest.importorskip("ml_dtypes")
    from gsa_fast import _gpu_spectra as gsp

    a = powerlaw(rng, 30, 20, 0.6).astype(ml_dtypes.bfloat16)
    (bits, bf16), = gsp._checked_list(np, [a], "svdvals", None)
    assert bf16 and bits.dtype == np.uint16 and np.shares_memory(bits, a)
    got = gsp._values_list(np, [(bits, bf16)], "gram")[0]
    ref = g.svdvals(a)
    np.testing.assert_allclose(got, ref, rtol=0, atol=4 * 30 * 2.0 ** -8 * ref[0])
    # the CPU route's flags: "bf16" in any case or ml_dtypes' dtype, on uint16 or int16 bits (they
    # were a ValueError / TypeError on the device)
    for flag in ("bf16", "BFloat16", ml_dtypes.bfloat16):
        for raw in (a.view(np.uint16), a.view(np.int16)):
            assert g.svdvals(raw, dtype=flag).tolist() == ref.tolist()
            (b, f), = gsp._checked_list(np, [raw], "svdvals", flag)
            assert f and b.dtype == np.uint16 and np.shares_memory(b, a)
            assert gsp._values_list(np, [(b, f)], "gram")[0].tolist() == got.tolist()
    with pytest.raises(ValueError, match=r"svdvals\(\): dtype must be None or 'bfloat16'; got 'f16'"):
        gsp._checked_list(np, [a.view(np.uint16)], "svdvals", "f16")
    with pytest.raises(TypeError, match="raw bfloat16 bits"):
        gsp._checked_list(np, [a.astype(np.float32)], "svdvals", "bf16")


def test_a_lists_finiteness_is_read_from_the_device_once(rng, monkeypatch):
    # svdvals' device route on a list (the scan's units, ragged lists): the finiteness verdicts
    # of all entries come to the host in one read, not one synchronizing round trip per entry,
    # and every entry's kind and shape is checked before any of that device work
    from gsa_fast import _gpu_spectra as gsp

    reads = []
    real = gsp.to_host
    monkeypatch.setattr(gsp, "to_host", lambda a: reads.append(a.shape) or real(a))
    mats = [rng.standard_normal((6, 4)).astype(np.float32) for _ in range(5)]
    assert len(gsp._checked_list(np, mats, "svdvals", None)) == 5 and reads == [(5,)]
    mats[3] = mats[3].copy()
    mats[3][2, 1] = np.nan
    with pytest.raises(ValueError, match=r"x\[3\] must be finite"):
        gsp._checked_list(np, mats, "svdvals", None)
    assert reads == [(5,), (5,)]
    with pytest.raises(TypeError, match=r"x\[4\]"):
        gsp._checked_list(np, mats[:4] + [mats[4].astype(np.int32)], "svdvals", None)
    assert len(reads) == 2
