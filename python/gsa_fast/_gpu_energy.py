"""GPU route of the per-spectrum reductions (cupy in, cupy out): truncation_rank; energy and
spectrum_tails (one ordered kernel); the order-free rank_count, spectral_entropy and
radial_functional (one kernel). Kernels: cuda/energy.cu."""
from __future__ import annotations

import numpy as np

from . import _backend
from ._ragged import RaggedSpectra, check_offsets
from ._status import NONFINITE, raise_status
from ._validate import type_error, value_error

_MAX_EPS = 32  # levels per kernel launch (cuda/energy.cu)


def is_gpu_spectra(x) -> bool:
    return _backend.is_cupy(x) or (isinstance(x, RaggedSpectra) and _backend.is_cupy(x.values))


def widen(cp, a):
    """The CPU route's conversions of device spectra: integers to float64 (exact), float16 to
    float32; anything else unchanged (the caller refuses what is still not float32/float64)."""
    if a.dtype.kind in "iu":
        return a.astype(cp.float64, order="C")
    if a.dtype == cp.float16:
        return a.astype(cp.float32, order="C")
    return a


def _from_list(cp, x, fn, arg="spectra"):
    """A list of device spectra as the CPU route reads a list (``_ragged.as_spectra``): each one
    1-D and real, equal-length arrays stack into rows, anything else is concatenated into float64
    RaggedSpectra (copies, as on the CPU)."""
    for i, s in enumerate(x):
        if not _backend.is_cupy(s):
            raise type_error(fn, f"{arg}[{i}]", "a cupy array like the other spectra (host and "
                             "device arrays cannot be mixed)", s)
        if s.dtype.kind not in "iuf":
            raise type_error(fn, f"{arg}[{i}]", "a real 1-D array of singular values", s)
        if s.ndim != 1:
            raise value_error(fn, arg, "a list of 1-D spectra", f"element {i} of shape {s.shape}")
    if len({s.shape for s in x}) == 1 and x[0].ndim == 1:
        return cp.stack(x)
    parts = [s.reshape(-1).astype(cp.float64) for s in x]
    offsets = np.zeros(len(parts) + 1, dtype=np.int64)
    offsets[1:] = np.cumsum([p.size for p in parts])
    return RaggedSpectra(cp.concatenate(parts) if parts else cp.zeros(0), cp.asarray(offsets))


def _layout(cp, x, fn):
    """(values, starts, lengths, batch_shape, ragged) on the device, without copying values."""
    if isinstance(x, (list, tuple)) and x:
        x = _from_list(cp, list(x), fn)
    if isinstance(x, RaggedSpectra):
        values = x.values
        if values.ndim != 1 or values.dtype not in (cp.float32, cp.float64):
            raise type_error(fn, "spectra.values", "a 1-D float32 or float64 cupy array", values)
        if values.size and values.strides[0] != values.itemsize:
            raise value_error(fn, "spectra.values", "unit stride", f"stride {values.strides[0]}")
        # offsets are batch metadata: checked on the host as the CPU route does, before any launch
        host = cp.asnumpy(x.offsets) if _backend.is_cupy(x.offsets) else np.asarray(x.offsets)
        offsets = cp.asarray(check_offsets(host, values.size, fn))
        return values, offsets[:-1].copy(), cp.diff(offsets), (offsets.size - 1,), True
    a = widen(cp, x)
    if a.dtype not in (cp.float32, cp.float64):
        raise type_error(fn, "spectra", "a float32 or float64 cupy array", a)
    if a.ndim == 0:
        raise value_error(fn, "spectra", "at least 1-D (one spectrum per row)", "a scalar")
    if a.size and (a.strides[-1] != a.itemsize or any(s < 0 for s in a.strides)):
        raise value_error(fn, "spectra", "unit stride along the last axis and non-negative strides",
                          f"strides {a.strides}")
    bshape = a.shape[:-1]
    n = int(np.prod(bshape, dtype=np.int64))  # 1 for one spectrum (bshape ())
    if len(bshape) == 1:  # the common (batch, width) case: the row starts made on the device
        starts = cp.arange(n, dtype=cp.int64) * (a.strides[0] // a.itemsize)
    elif bshape:  # element offset of each row, from the strides (host metadata, one upload)
        idx = np.indices(bshape, dtype=np.int64).reshape(len(bshape), -1)
        st = np.array([s // a.itemsize for s in a.strides[:-1]], dtype=np.int64)
        starts = cp.asarray((idx * st[:, None]).sum(axis=0))
    else:
        starts = cp.zeros(1, dtype=cp.int64)
    return a, starts, cp.full(n, a.shape[-1], dtype=cp.int64), bshape, False


def _sorted_copy(cp, values, starts, lengths):
    """Each spectrum sorted descending, in a compact temporary copy (unsorted input only)."""
    # segment of each output position by a search over the segment ends: cupy.repeat refuses a
    # device array of counts (before cupy 14), and numpy's accepts it, so a CPU test would not see it
    ends = cp.cumsum(lengths)
    idx = cp.arange(int(ends[-1]) if lengths.size else 0, dtype=cp.int64)
    seg = cp.searchsorted(ends, idx, side="right")
    pos = idx - (ends - lengths)[seg]
    flat = values[starts[seg] + pos].astype(values.dtype)
    order = cp.lexsort(cp.stack([-flat.astype(cp.float64), seg.astype(cp.float64)]))
    new_starts = cp.cumsum(lengths) - lengths
    return cp.ascontiguousarray(flat[order]), new_starts


def _sorted_for_retry(cp, values, starts, lengths, ragged):
    """(values, starts) of every spectrum sorted descending, in a temporary copy: the retry of the
    ordered kernels when the status says some spectrum was neither descending nor ascending."""
    if ragged:  # flat values, segments by starts/lengths
        return _sorted_copy(cp, values, starts, lengths)
    # dense rows (any row strides): sort along the last axis
    svals = cp.ascontiguousarray(-cp.sort(-values, axis=-1))
    return svals, cp.arange(int(lengths.size), dtype=cp.int64) * values.shape[-1]


def _raise_invalid(fn: str, first_bad: int, bshape) -> None:
    """The one Status of the device status word (INT64_MAX: all spectra valid): code, index =
    spectrum, position unknown, info."""
    if first_bad == np.iinfo(np.int64).max:
        return
    name = _spectrum_name(first_bad, bshape)

    def describe(code, i, position, info):
        return value_error(fn, "spectra", "finite and nonnegative",
                           f"NaN, Inf or a negative value in spectrum {name}")

    raise_status(fn, (NONFINITE, first_bad, -1, 0), describe=describe)


def truncation_rank(spectra, eps: np.ndarray, fn: str = "truncation_rank"):
    cp = _backend.namespace(spectra if not isinstance(spectra, RaggedSpectra) else spectra.values)
    cuda = _backend.require_cuda(fn)
    values, starts, lengths, bshape, ragged = _layout(cp, spectra, fn)
    e1 = np.ascontiguousarray(eps.reshape(-1), dtype=np.float64)
    nspec = int(lengths.size)
    out = cp.zeros((nspec, e1.size), dtype=cp.int64)
    # {lowest invalid spectrum (INT64_MAX: none), any unsorted} (cuda/energy.cuh)
    status = cp.asarray(np.array([np.iinfo(np.int64).max, 0], dtype=np.int64))
    stream = cp.cuda.get_current_stream().ptr

    def run(vals, st):
        for c0 in range(0, e1.size, _MAX_EPS):
            chunk = cp.asarray(e1[c0:c0 + _MAX_EPS])
            part = cp.empty((nspec, chunk.size), dtype=cp.int64)
            cuda.truncation_rank(vals.data.ptr, vals.dtype == cp.float32, st.data.ptr, lengths.data.ptr,
                                 nspec, chunk.data.ptr, chunk.size, part.data.ptr, status.data.ptr, stream)
            out[:, c0:c0 + chunk.size] = part

    if nspec and e1.size:
        run(values, starts)
        first_bad, unsorted = (int(v) for v in cp.asnumpy(status))
        _raise_invalid(fn, first_bad, bshape)
        if unsorted:  # unsorted: sort a temporary copy, as the CPU kernel does per worker
            run(*_sorted_for_retry(cp, values, starts, lengths, ragged))
    shape = bshape if eps.ndim == 0 else bshape + (e1.size,)
    return out.reshape(shape)


def _spectrum_name(i: int, bshape) -> str:
    """Spectrum i as the CPU route names it: a flat index, or a tuple for a 2-D+ batch."""
    if len(bshape) <= 1:
        return str(i)
    return str(tuple(int(j) for j in np.unravel_index(i, bshape)))


def _spectrum_stats(spectra, fn, *, tol=0.0, rank=False, entropy=False, radial=False, d=None):
    """Run cuda spectrum_stats; returns (bshape, {"rank", "entropy", "radial"} device outputs).

    ``d``: None, or a host int64 array already validated by the caller (as_width), broadcast here
    against the batch shape."""
    cp = _backend.namespace(spectra if not isinstance(spectra, RaggedSpectra) else spectra.values)
    cuda = _backend.require_cuda(fn)
    values, starts, lengths, bshape, _ = _layout(cp, spectra, fn)
    nspec = int(lengths.size)
    dd = None
    if d is not None:
        try:
            dh = np.broadcast_to(d, bshape)
        except ValueError:
            raise value_error(fn, "d", f"broadcastable to the batch shape {bshape}",
                              f"shape {np.shape(d)}") from None
        dd = cp.asarray(np.ascontiguousarray(dh.reshape(-1), dtype=np.int64))
        rank = True  # needed for the d ≥ q_+ check below
    outs = {"rank": cp.empty(nspec, dtype=cp.int64) if rank else None,
            "entropy": cp.empty(nspec, dtype=cp.float64) if entropy else None,
            "radial": cp.empty(nspec, dtype=cp.float64) if radial else None}
    if nspec:
        status = cp.asarray(np.array([np.iinfo(np.int64).max], dtype=np.int64))
        ptr = (lambda a: 0 if a is None else a.data.ptr)
        cuda.spectrum_stats(values.data.ptr, values.dtype == cp.float32, starts.data.ptr,
                            lengths.data.ptr, nspec, float(tol), ptr(dd), ptr(outs["rank"]),
                            ptr(outs["entropy"]), ptr(outs["radial"]), status.data.ptr,
                            cp.cuda.get_current_stream().ptr)
        _raise_invalid(fn, int(cp.asnumpy(status)[0]), bshape)
        if dd is not None:
            small = cp.flatnonzero(dd < outs["rank"])
            if small.size:  # the CPU route's check and message (energy.radial_functional)
                i = int(small[0])
                raise value_error(fn, "d", "at least the number of nonzero singular values",
                                  f"d={int(dd[i])} for spectrum {_spectrum_name(i, bshape)} with {int(outs['rank'][i])}")
    return bshape, outs


def rank_count(spectra, tol: float, fn: str = "rank_count"):
    bshape, outs = _spectrum_stats(spectra, fn, tol=tol, rank=True)
    return outs["rank"].reshape(bshape)


def spectral_entropy(spectra, fn: str = "spectral_entropy"):
    bshape, outs = _spectrum_stats(spectra, fn, entropy=True)
    return outs["entropy"].reshape(bshape)


def radial_functional(spectra, d=None, fn: str = "radial_functional"):
    bshape, outs = _spectrum_stats(spectra, fn, radial=True, d=d)
    return outs["radial"].reshape(bshape)


def _per_spectrum_values(spectra, fn: str, extra: int, kind: str):
    """energy (extra 0) or spectrum_tails (extra 1): q_i + extra float64 values per spectrum, in
    the input's layout (dense in, dense out; RaggedSpectra in, RaggedSpectra out)."""
    cp = _backend.namespace(spectra if not isinstance(spectra, RaggedSpectra) else spectra.values)
    cuda = _backend.require_cuda(fn)
    values, starts, lengths, bshape, ragged = _layout(cp, spectra, fn)
    nspec = int(lengths.size)
    if ragged:
        ostarts = cp.cumsum(lengths + extra) - (lengths + extra)
        out = cp.empty(int((lengths + extra).sum()) if nspec else 0, dtype=cp.float64)
    else:
        width = values.shape[-1] + extra
        ostarts = cp.arange(nspec, dtype=cp.int64) * width
        out = cp.empty(bshape + (width,), dtype=cp.float64)
    # {lowest invalid spectrum (INT64_MAX: none), any unsorted} (cuda/energy.cuh)
    status = cp.asarray(np.array([np.iinfo(np.int64).max, 0], dtype=np.int64))
    stream = cp.cuda.get_current_stream().ptr

    def run(vals, st):
        ptrs = {"tails": (out.data.ptr, ostarts.data.ptr, 0, 0),
                "energy": (0, 0, out.data.ptr, ostarts.data.ptr)}[kind]
        cuda.tails_energy(vals.data.ptr, vals.dtype == cp.float32, st.data.ptr, lengths.data.ptr,
                          nspec, *ptrs, status.data.ptr, stream)

    if nspec:
        run(values, starts)
        first_bad, unsorted = (int(v) for v in cp.asnumpy(status))
        _raise_invalid(fn, first_bad, bshape)
        if unsorted:  # sort a temporary copy, as truncation_rank does
            run(*_sorted_for_retry(cp, values, starts, lengths, ragged))
    return _ragged_result(cp, spectra, out, lengths, extra) if ragged else out


def _ragged_result(cp, spectra, out, lengths, extra):
    """RaggedSpectra of ``out`` with fresh offsets from 0, as the CPU route: device offsets when
    the input's offsets were on the device, else host offsets (also for a list of spectra of
    different lengths, which has no offsets of its own: the CPU route returns host offsets)."""
    offsets = cp.concatenate([cp.zeros(1, dtype=cp.int64), cp.cumsum(lengths + extra)])
    on_device = isinstance(spectra, RaggedSpectra) and _backend.is_cupy(spectra.offsets)
    return RaggedSpectra(out, offsets if on_device else cp.asnumpy(offsets))


def energy(spectra, fn: str = "energy"):
    return _per_spectrum_values(spectra, fn, 0, "energy")


def spectrum_tails(spectra, fn: str = "spectrum_tails"):
    return _per_spectrum_values(spectra, fn, 1, "tails")
