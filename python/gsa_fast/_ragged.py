"""Batches of spectra: dense ``(..., width)`` arrays or ragged ``RaggedSpectra(values, offsets)``.

Every spectrum kernel sees one layout, without copying the caller's data:
``values`` (1-D, float32 or float64, unit stride), and per spectrum ``starts`` and ``lengths``
(int64) into it. A dense ``(b, w)`` array with unit stride along its last axis maps to
``starts = arange(b)·row_stride``, ``lengths = w`` over a 1-D view of its buffer; a ragged batch
maps to ``starts = offsets[:-1]``, ``lengths = diff(offsets)``.
"""
from __future__ import annotations

from typing import NamedTuple

import numpy as np

from ._validate import (as_width, describe, first_invalid, host_array, invalid_value_error, type_error, unit_stride,
                        value_error)

__all__ = ["RaggedSpectra"]


class RaggedSpectra:
    """Spectra of different lengths: spectrum ``i`` is ``values[offsets[i]:offsets[i+1]]``.

    This is what :func:`gsa_fast.svdvals` returns for a list of matrices of different shapes, and
    what every spectrum function accepts besides a dense ``(batch, width)`` array. ``len()`` and
    indexing count spectra.
    """

    __slots__ = ("values", "offsets")

    def __init__(self, values, offsets):
        self.values = values
        self.offsets = offsets

    def __repr__(self) -> str:
        # .size first: the values of a device result are a cupy array, which np.asarray refuses
        size = self.values.size if hasattr(self.values, "size") else np.asarray(self.values).size
        return f"RaggedSpectra(<{len(self)} spectra, {size} values>)"

    @classmethod
    def from_list(cls, spectra) -> "RaggedSpectra":
        """Concatenate a list of 1-D arrays (copies: use for small or test inputs)."""
        parts = [np.asarray(s, dtype=np.float64) for s in spectra]
        for i, p in enumerate(parts):
            if p.ndim != 1:
                raise value_error("RaggedSpectra.from_list", "spectra", "a list of 1-D arrays",
                                  f"element {i} of shape {p.shape}")
        offsets = np.zeros(len(parts) + 1, dtype=np.int64)
        offsets[1:] = np.cumsum([p.size for p in parts])
        values = np.concatenate(parts) if parts else np.zeros(0)
        return cls(values, offsets)

    def __len__(self) -> int:  # number of spectra, not NamedTuple fields
        return int(self.offsets.shape[0]) - 1

    def __getitem__(self, i):
        if isinstance(i, int) and not isinstance(i, bool):
            n = len(self)
            if i < 0:
                i += n
            if not 0 <= i < n:
                raise IndexError(f"spectrum index {i} out of range for {n} spectra")
            return self.values[self.offsets[i]:self.offsets[i + 1]]
        raise TypeError(f"RaggedSpectra indices must be integers; got {describe(i)}")

    def __iter__(self):
        for i in range(len(self)):
            yield self[i]

    @property
    def lengths(self) -> np.ndarray:
        o = self.offsets
        if type(o).__module__.split(".")[0] == "cupy":  # device offsets: lengths on the device
            return o[1:] - o[:-1]
        return np.diff(o)

    def to_list(self):
        return [self[i] for i in range(len(self))]


class SpectraBatch(NamedTuple):
    """Internal kernel view of a batch (see module docstring)."""

    values: np.ndarray  # 1-D, float32 or float64, unit stride
    starts: np.ndarray  # int64 (n,)
    lengths: np.ndarray  # int64 (n,)
    batch_shape: tuple  # shape of per-spectrum outputs
    ragged: bool


def _flat_view(x: np.ndarray) -> np.ndarray:
    """A 1-D view covering every element of x (unit stride on the last axis, positive strides)."""
    if x.size == 0:
        return np.zeros(0, dtype=x.dtype)
    item = x.itemsize
    span = 1 + sum((n - 1) * (st // item) for n, st in zip(x.shape, x.strides))
    return np.lib.stride_tricks.as_strided(x, shape=(span,), strides=(item,), writeable=False)


def check_offsets(offsets: np.ndarray, nvalues: int, fn: str, arg: str = "spectra") -> np.ndarray:
    """The offsets of a RaggedSpectra (host array) as int64, or the error: 1-D integers,
    nondecreasing from 0 to the number of values (shared by the CPU and CUDA routes)."""
    if offsets.dtype.kind not in "iu" or offsets.ndim != 1 or offsets.size < 1:
        raise value_error(fn, f"{arg}.offsets", "a 1-D integer array of length batch+1",
                          describe(offsets))
    offsets = offsets.astype(np.int64, copy=False)
    if offsets[0] != 0 or offsets[-1] != nvalues or np.any(np.diff(offsets) < 0):
        raise value_error(fn, f"{arg}.offsets", "nondecreasing from 0 to len(values)",
                          f"[{offsets[0]}, …, {offsets[-1]}] for {nvalues} values")
    return offsets


def as_spectra(x, fn: str, arg: str = "spectra", *, dtypes=(np.float32, np.float64)) -> SpectraBatch:
    """Validate a batch of spectra without copying it (beyond small lists)."""
    if isinstance(x, RaggedSpectra):
        values = host_array(x.values, fn, f"{arg}.values", "a float32 or float64 array")
        offsets = host_array(x.offsets, fn, f"{arg}.offsets", "a 1-D integer array")
        if values.dtype.kind != "f" or values.dtype.type not in dtypes:
            raise type_error(fn, f"{arg}.values", "a float32 or float64 array", values)
        if values.ndim != 1:
            raise value_error(fn, f"{arg}.values", "1-D", f"shape {values.shape}")
        offsets = check_offsets(offsets, values.size, fn, arg)
        values = unit_stride(values)  # a strided or reversed view: one same-dtype copy
        return SpectraBatch(values, offsets[:-1], np.diff(offsets), (offsets.size - 1,), True)
    if isinstance(x, (list, tuple)) and x and all(hasattr(s, "__len__") for s in x):
        # a list of spectra: each one 1-D and real (a 2-D element is an error, not flattened)
        parts = [host_array(s, fn, f"{arg}[{i}]", "a 1-D array of singular values") for i, s in enumerate(x)]
        for i, p in enumerate(parts):
            if p.dtype == object or p.dtype.kind not in "iuf":
                raise type_error(fn, f"{arg}[{i}]", "a real 1-D array of singular values", x[i])
            if p.ndim != 1:
                raise value_error(fn, arg, "a list of 1-D spectra", f"element {i} of shape {p.shape}")
        if len({p.shape for p in parts}) > 1:
            return as_spectra(RaggedSpectra.from_list(parts), fn, arg, dtypes=dtypes)
    a = host_array(x, fn, arg, "an array of spectra or RaggedSpectra")
    if a.dtype.kind in "iub" or a.dtype == object or a.dtype.kind not in "f":
        if a.dtype.kind in "iu":  # integer spectra are exact: convert (small inputs in practice)
            a = a.astype(np.float64)
        else:
            raise type_error(fn, arg, "a real floating array of spectra", x)
    if a.dtype.type not in dtypes:
        if a.dtype == np.float16:
            a = a.astype(np.float32)
        else:
            raise type_error(fn, arg, "float32 or float64 spectra", x)
    if a.ndim == 0:
        raise value_error(fn, arg, "at least 1-D (one spectrum per row)", "a scalar")
    a = unit_stride(a)  # strided, reversed, transposed spectra: one copy of the spectra, own dtype
    batch_shape = a.shape[:-1]
    n = int(np.prod(batch_shape, dtype=np.int64))
    w = a.shape[-1]
    if a.ndim == 1:
        starts = np.zeros(1, dtype=np.int64)
    else:
        # element offset of each row in the flat view
        idx = np.indices(batch_shape, dtype=np.int64).reshape(len(batch_shape), -1)
        st = np.array([s // a.itemsize for s in a.strides[:-1]], dtype=np.int64)
        starts = (idx * st[:, None]).sum(axis=0) if n else np.zeros(0, dtype=np.int64)
    return SpectraBatch(_flat_view(a), starts.astype(np.int64), np.full(max(n, 0), w, dtype=np.int64),
                        batch_shape, False)


def _empty_strides_fixed(x):
    """numpy ≥ 2 gives empty arrays zero strides, which as_spectra reads as a non-unit last-axis
    stride; give an empty array C strides (no memory is touched)."""
    if isinstance(x, np.ndarray) and x.size == 0 and x.ndim >= 1:
        c = np.empty(0, dtype=x.dtype).itemsize
        strides = tuple(int(np.prod(x.shape[k + 1:], dtype=np.int64)) * c for k in range(x.ndim))
        return np.lib.stride_tricks.as_strided(x, shape=x.shape, strides=strides, writeable=False)
    return x


def spectra_batch(spectra, fn: str, arg: str = "spectra") -> SpectraBatch:
    """:func:`as_spectra` of the energy functions' ``spectra`` argument (empty arrays of any
    strides accepted); shared by gsa_fast.energy and its reference twin."""
    return as_spectra(_empty_strides_fixed(spectra), fn, arg)


def spectrum_name(b: SpectraBatch, i: int) -> str:
    """How errors name spectrum ``i`` of a batch: "spectrum 3", or "spectrum (1, 2)" for an
    N-D dense batch."""
    if b.ragged or len(b.batch_shape) <= 1:
        return f"spectrum {i}"
    return f"spectrum {tuple(int(j) for j in np.unravel_index(i, b.batch_shape))}"


def spectra_values(b: SpectraBatch, fn: str, arg: str = "spectra") -> list:
    """The spectra of a validated batch as float64 arrays, or the error the kernels' Status gives
    for the first NaN, ±Inf or negative value (lowest spectrum, then lowest position): the
    reference twins' side of the check the C++ kernels make while they compute."""
    out = []
    for i in range(b.lengths.size):
        s = b.values[b.starts[i]:b.starts[i] + b.lengths[i]]
        bad = first_invalid(s)
        if bad is not None:
            raise invalid_value_error(fn, arg, bad[0], bad[1], spectrum_name(b, i))
        out.append(np.asarray(s, dtype=np.float64))
    return out


def batch_widths(d, b: SpectraBatch, fn: str, arg: str = "d") -> np.ndarray:
    """A width argument ``d`` (validated by :func:`_validate.as_width`) broadcast to the batch
    shape of ``b``, flat int64 (one per spectrum)."""
    dd = as_width(d, fn, arg)
    try:
        dd = np.broadcast_to(dd, b.batch_shape)
    except ValueError:
        raise value_error(fn, arg, f"broadcastable to the batch shape {b.batch_shape}",
                          f"shape {dd.shape}") from None
    return np.ascontiguousarray(dd.reshape(-1), dtype=np.int64)
