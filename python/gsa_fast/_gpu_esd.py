"""GPU route of :func:`gsa_fast.esd_powerlaw_fit` (cupy in, cupy out). Kernel: cuda/esd.cu.

The spectra are validated with the CPU route's rules and messages, then copied once on the device
into a float64 array sorted ascending per spectrum (squared first for singular values): the CPU
kernel sorts its own copy of each spectrum the same way. One block per spectrum then runs the fit
(math/esd.hpp). :mod:`gsa_fast.esd` raises for NaN/Inf or negative eigenvalues and builds the
ESDFit; the status and alpha come to the host for that (one small copy per call).
"""
from __future__ import annotations

import numpy as np

from . import _backend
from ._esd_common import parse_options
from ._gpu_energy import _from_list, widen
from ._ragged import RaggedSpectra, check_offsets
from ._validate import type_error, value_error

_ARG = "eigenvalues"


def _floats(cp, a, fn, arg):
    """a as float32/float64 (integers converted exactly, float16 widened), or the CPU route's error."""
    a = widen(cp, a)
    if a.dtype not in (cp.float32, cp.float64):
        raise type_error(fn, arg, "a real floating array of spectra", a)
    return a


def _sorted(cp, x, fn, square):
    """(sorted float64 values, starts, lengths, batch shape, ragged) on the device."""
    if isinstance(x, (list, tuple)):
        parts = [_floats(cp, s, fn, _ARG) for s in x]
        if any(s.ndim != 1 for s in parts):
            raise value_error(fn, _ARG, "a list of 1-D spectra", f"shapes {[s.shape for s in parts]}")
        # same length: a dense batch, as on the CPU; else float64 RaggedSpectra (the energy route's rule)
        x = _from_list(cp, parts, fn, _ARG)
        if not isinstance(x, RaggedSpectra):
            return _sorted(cp, x, fn, square)
    if isinstance(x, RaggedSpectra):
        values = x.values
        if values.dtype not in (cp.float32, cp.float64):
            raise type_error(fn, f"{_ARG}.values", "a float32 or float64 array", values)
        if values.ndim != 1:
            raise value_error(fn, f"{_ARG}.values", "1-D", f"shape {values.shape}")
        host = cp.asnumpy(x.offsets) if _backend.is_cupy(x.offsets) else np.asarray(x.offsets)
        offsets = check_offsets(host, values.size, fn, _ARG)  # batch metadata, on the host
        lengths = cp.asarray(np.diff(offsets))
        starts = cp.asarray(offsets[:-1])
        y = values.astype(cp.float64)
        if square:
            y = y * y
        # spectrum of each value (cupy.repeat takes no device repeats): offsets[s] <= k < offsets[s+1]
        seg = cp.searchsorted(cp.asarray(offsets[1:]), cp.arange(values.size, dtype=cp.int64), side="right")
        y = y[cp.lexsort(cp.stack([y, seg.astype(cp.float64)]))]  # by spectrum, then ascending
        return y, starts, lengths, (lengths.size,), True
    a = _floats(cp, x, fn, _ARG)
    if a.ndim == 0:
        raise value_error(fn, _ARG, "at least 1-D (one spectrum per row)", "a scalar")
    shape, w = a.shape[:-1], a.shape[-1]
    n = int(np.prod(shape, dtype=np.int64))
    y = a.reshape(n, w).astype(cp.float64)
    if square:
        y = y * y
    y = cp.sort(y, axis=-1).reshape(-1)
    return y, cp.arange(n, dtype=cp.int64) * w, cp.full(n, w, dtype=cp.int64), shape, False


def _count(x) -> int:
    """The number of spectra in ``x`` from its layout alone (no device work): what ``_sorted``
    will find, or 1 where ``_sorted`` is going to refuse the layout."""
    if isinstance(x, (list, tuple)):
        return len(x)
    if isinstance(x, RaggedSpectra):
        return max(int(x.offsets.size) - 1, 0)
    return int(np.prod(x.shape[:-1], dtype=np.int64)) if x.ndim else 1


def esd_powerlaw_fit(eigenvalues, xmin, xmax, evals_thresh, square, fn="esd_powerlaw_fit"):
    """(batch shape, ragged, (fields, host alpha, host status)) for gsa_fast.esd._result."""
    operands = eigenvalues if isinstance(eigenvalues, (list, tuple)) else (
        eigenvalues.values if isinstance(eigenvalues, RaggedSpectra) else eigenvalues,)
    cp = _backend.namespace(*operands)
    _backend.all_device(*operands)
    cuda = _backend.require_cuda(fn)
    # the options are checked before any device work (the spectrum count is read off the layout)
    xmin_arr, xmax_arr, clip_top, thresh, apply_thresh = parse_options(
        fn, _count(eigenvalues), xmin, xmax, evals_thresh)
    y, starts, lengths, shape, ragged = _sorted(cp, eigenvalues, fn, square)
    n = int(lengths.size)
    alpha, xmn, xmx, D, sigma = (cp.empty(n, dtype=cp.float64) for _ in range(5))
    spikes, num_fit, status = (cp.empty(n, dtype=cp.int64) for _ in range(3))
    if n:
        work = cp.empty(4 * int(y.size) + 2 * n, dtype=cp.float64)
        work_start = 4 * starts + 2 * cp.arange(n, dtype=cp.int64)
        req = [None if r is None else cp.asarray(r) for r in (xmin_arr, xmax_arr)]
        ptr = (lambda a: 0 if a is None else a.data.ptr)
        cuda.esd_powerlaw_fit(y.data.ptr, starts.data.ptr, lengths.data.ptr, n, int(clip_top),
                              bool(apply_thresh), float(thresh), ptr(req[0]), ptr(req[1]),
                              work.data.ptr, work_start.data.ptr, alpha.data.ptr, xmn.data.ptr,
                              xmx.data.ptr, D.data.ptr, sigma.data.ptr, spikes.data.ptr,
                              num_fit.data.ptr, status.data.ptr, cp.cuda.get_current_stream().ptr)
    fields = (alpha, xmn, D, sigma, spikes, xmx, num_fit)
    return shape, ragged, (fields, cp.asnumpy(alpha), cp.asnumpy(status))
