"""The scan's GPU route (``scan(device="cuda")``): the one scan module that touches cupy.

Each unit's tensors are read from their file once, straight into a pinned (page-locked) host
staging buffer, and copied to the device once, asynchronously on a copy stream of their own
(:class:`DeviceStager`). The local executor stages unit ``i + 1`` on its reader thread while unit
``i`` is solved, so the disk read and the host-to-device copy of the next unit overlap the solves
of the current one; the solving stream waits for a unit's copies on the device (an event), never
on the host. Two staging buffers alternate; a buffer is refilled only after the copies out of it
have completed. The spectra are solved by :func:`gsa_fast.svdvals`'s CUDA route (cupy in, cupy
out) and come back as float64 numpy arrays; the diagnostics run on the CPU (they cost little
next to the spectra).

The cupy calls sit in one small class (:class:`_CupyCopies`); the staging schedule is plain
Python over it, so tests drive the same schedule on the CPU with a recording stand-in.
"""
from __future__ import annotations

import threading
from typing import NamedTuple

import numpy as np

from . import _gpu_batch

__all__ = ["unavailable_reason", "svdvals_on_device", "DeviceStager", "StagedUnit"]

#: Each tensor starts on a 256-byte boundary of the staging buffer (the alignment of cudaMalloc).
_ALIGN = 256


def unavailable_reason():
    """None when a CUDA build, a GPU and cupy are all present, else what is missing (one line)."""
    import gsa_fast as g

    info = g.build_info()
    try:
        import cupy  # noqa: F401
        have_cupy = True
    except ImportError:
        have_cupy = False
    if have_cupy and info.get("cuda_devices"):
        return None
    return (f"'cuda' with CUDA {info.get('cuda_status')!r}, {info.get('cuda_devices', 0)} devices, "
            f"cupy {'installed' if have_cupy else 'missing'}")


def svdvals_on_device(mats, method, kw, xp=None, solvers=None):
    """Spectra (float64 numpy arrays) of a unit's matrices that are cupy arrays already (staged)
    or numpy arrays (copied here: the Ray executor's workers, which solve one unit at a time).

    The unit is one ragged list for svdvals' device route: with the Gram route its matrices are
    grouped into one float64 Gram stack per Gram size (a model's repeated shapes: one eigensolver
    call each, :func:`gsa_fast._gpu_batch.grouped_values`). ``xp``/``solvers``: the array namespace
    and eigensolver calls (default cupy and cuSOLVER; the tests run the same code on numpy)."""
    from . import _gpu_spectra
    from ._gpu_margins import to_host

    if xp is None:
        import cupy as xp

        from . import _backend

        _backend.require_cuda("scan")
    dtype = kw.get("dtype")
    checked = _gpu_spectra._checked_list(xp, [xp.asarray(a) for a in mats], "svdvals", dtype)
    if method == "gram":
        parts = _gpu_batch.grouped_values(xp, checked, solvers=solvers)
    else:
        parts = _gpu_spectra._values_list(xp, checked, method)
    return [np.asarray(to_host(p), dtype=np.float64) for p in parts]


class _CupyCopies:
    """The cupy calls of the staging schedule: pinned buffers, asynchronous copies on one copy
    stream, and events. Created on first use (cupy is imported only on the device route)."""

    def __init__(self):
        import cupy as cp
        import cupyx

        self._cp, self._cupyx = cp, cupyx
        # the caller's current device: the reader thread, whose own current device is device 0,
        # allocates and copies there too
        self._device = cp.cuda.Device()
        # non-blocking: the copies do not serialize with the legacy default stream the solves use
        self._stream = cp.cuda.Stream(non_blocking=True)

    def pinned(self, nbytes: int) -> np.ndarray:
        return self._cupyx.empty_pinned((nbytes,), dtype=np.uint8)

    def to_device(self, host: np.ndarray):
        """Allocate the device array and enqueue the copy from ``host`` (a view of a pinned
        buffer) on the copy stream; returns at once. The array is allocated with the copy stream
        current: cupy's pool then never hands it a block that the solving stream freed while
        kernels queued on that stream may still use it."""
        with self._device, self._stream:
            d = self._cp.empty(host.shape, dtype=host.dtype)
            d.set(host, stream=self._stream)
        return d

    def record(self):
        with self._device:
            ev = self._cp.cuda.Event(disable_timing=True)
            ev.record(self._stream)
        return ev

    def wait_on_device(self, event) -> None:
        """The calling thread's current stream (the solves) waits for ``event``; the host does not."""
        self._cp.cuda.get_current_stream().wait_event(event)

    def wait_on_host(self, event) -> None:
        event.synchronize()


def _as_dtype(d, dtype):
    """The staged device array ``d`` viewed as ``dtype`` (its bits were copied as another dtype
    of the same width), or ``d`` unchanged where the array library has no such dtype."""
    if d.dtype == dtype:
        return d
    try:
        return d.view(dtype)
    except (TypeError, ValueError):  # cupy < 14: no bfloat16 arrays; the scan passes uint16 bits
        return d                     # to svdvals with dtype="bfloat16" (_scan_exec._svdvals)


class StagedUnit(NamedTuple):
    """A unit's tensors on the device (copies possibly still in flight) and the event that marks
    the end of its copies."""
    arrays: dict
    event: object
    nbytes: int


class DeviceStager:
    """Double-buffered staging of the scan's units: :meth:`stage` (reader thread) reads a unit's
    host tensors into a pinned buffer and enqueues their copies; :meth:`ready` (solving thread)
    makes the solving stream wait for them. ``copies`` is the object that talks to the device
    (:class:`_CupyCopies` by default)."""

    def __init__(self, copies=None, slots: int = 2):
        self._copies = copies if copies is not None else _CupyCopies()
        self._buffers = [None] * slots
        self._events = [None] * slots
        self._next = 0
        self._lock = threading.Lock()  # stage() may run on the reader thread or the caller's

    def stage(self, arrays: dict) -> StagedUnit:
        """Copy ``arrays`` (name -> host array, e.g. memory-mapped tensors) into the next pinned
        buffer — the one read of each tensor — and enqueue each buffer slice's copy to the device.
        bfloat16 tensors (``ml_dtypes.bfloat16``, as gsa_fast.weights loads them) are copied as
        their uint16 bits and viewed as bfloat16 again on the device where cupy has that dtype
        (cupy ≥ 14; svdvals' device route reads either form), else left as the bits."""
        with self._lock:
            slot = self._next
            self._next = (slot + 1) % len(self._buffers)
            if self._events[slot] is not None:  # the copies out of this buffer must be done
                self._copies.wait_on_host(self._events[slot])
                self._events[slot] = None
            sizes = [-(-a.nbytes // _ALIGN) * _ALIGN for a in arrays.values()]
            need = max(sum(sizes), _ALIGN)
            buf = self._buffers[slot]
            if buf is None or buf.size < need:
                self._buffers[slot] = None  # drop the old buffer before taking a larger one
                buf = self._buffers[slot] = self._copies.pinned(need)
            out, off = {}, 0
            for (name, a), size in zip(arrays.items(), sizes):
                dtype = a.dtype
                if dtype.name == "bfloat16":  # ml_dtypes' bfloat16: copied as its raw bits
                    a = a.view(np.uint16)
                view = buf[off:off + a.nbytes].view(a.dtype).reshape(a.shape)
                np.copyto(view, a)
                out[name] = _as_dtype(self._copies.to_device(view), dtype)
                off += size
            ev = self._events[slot] = self._copies.record()
            return StagedUnit(out, ev, int(sum(a.nbytes for a in arrays.values())))

    def ready(self, staged: StagedUnit) -> dict:
        """The unit's device arrays, once the solving stream waits for their copies."""
        self._copies.wait_on_device(staged.event)
        return staged.arrays
