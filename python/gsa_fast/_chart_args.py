"""Argument checks and result types of the exponent charts (gsa_fast.charts), shared with the
reference twin (gsa_fast.reference.charts): pure numpy, no compiled code."""
from __future__ import annotations

import numbers
from typing import NamedTuple

import numpy as np

from ._ragged import RaggedSpectra, as_spectra
from ._validate import as_flag, as_width, host_array, type_error, value_error

CHART_NAMES = ("top", "bures", "lsq")


class ChartFit(NamedTuple):
    """``fit_exponent(..., full_output=True)``: the exponent and its residuals."""

    alpha: object      # the chart's exponent
    intercept: object  # LS intercept b̂ on the normalized spectrum (NaN for top/bures)
    residual: object   # signed radial residual ε(P, α) (§6.1)
    error: object      # normalized chart error Ē(P, α) (§5.3)


_ChartFit = ChartFit  # (not in __all__: __all__ lists kernels only)


def _real(x, fn, arg, what):
    if isinstance(x, (bool, np.bool_)) or not isinstance(x, (numbers.Real, np.floating, np.integer)):
        raise type_error(fn, arg, what, x)
    return float(x)


def _is_pair(x) -> bool:
    """A sized non-string of length 2 (a 0-d array has ``__len__`` but no length)."""
    if isinstance(x, (str, bytes)) or not hasattr(x, "__len__"):
        return False
    try:
        return len(x) == 2
    except TypeError:
        return False


def _check_chart_args(fn, chart, interval, window, full_output=False):
    """Parse chart, interval J and window; returns (chart, lo, hi, window or None)."""
    as_flag(full_output, fn, "full_output")
    if not isinstance(chart, str):
        raise type_error(fn, "chart", "one of 'top', 'bures', 'lsq'", chart)
    if chart not in CHART_NAMES:
        raise value_error(fn, "chart", "one of 'top', 'bures', 'lsq'", repr(chart))
    if not _is_pair(interval):
        raise type_error(fn, "interval", "a pair (alpha_min, alpha_max)", interval)
    lo = _real(interval[0], fn, "interval[0]", "a real number")
    hi = _real(interval[1], fn, "interval[1]", "a real number")
    if not (np.isfinite(lo) and np.isfinite(hi) and 0.0 <= lo < hi):
        raise value_error(fn, "interval", "(alpha_min, alpha_max) with 0 <= alpha_min < alpha_max < inf",
                          f"({lo!r}, {hi!r})")
    if window is not None:
        if chart != "lsq":
            raise value_error(fn, "window", "None unless chart='lsq'", repr(window))
        if not _is_pair(window):
            raise type_error(fn, "window", "a pair of 1-based ranks (k0, k1)", window)
        ks = []
        for j, k in enumerate(window):
            if isinstance(k, (bool, np.bool_)) or not isinstance(k, (numbers.Integral, np.integer)):
                raise type_error(fn, f"window[{j}]", "an int", k)
            ks.append(int(k))
        k0, k1 = ks
        if not 1 <= k0 < k1:
            raise value_error(fn, "window", "1-based ranks (k0, k1) with 1 <= k0 < k1", f"({k0}, {k1})")
        window = (k0, k1)
    return chart, lo, hi, window


def _per_spectrum(xp, a, fn, arg, what, batch_shape, n, dtype):
    """One value per spectrum: ``a`` broadcast to the batch shape, as a contiguous array of n
    (numpy or cupy, ``xp``; the CPU and the CUDA routes share the check and its message)."""
    try:
        a = xp.broadcast_to(a, batch_shape)
    except ValueError:
        raise value_error(fn, arg, f"{what} broadcastable to {batch_shape}",
                          f"shape {a.shape}") from None
    return xp.ascontiguousarray(a, dtype=dtype).reshape(n)


def _d_batch(d, fn, batch_shape, n):
    """None, or the width of every spectrum as a contiguous int64 array of n."""
    if d is None:
        return None
    return _per_spectrum(np, as_width(d, fn), fn, "d", "an int or an array", batch_shape, n,
                         np.int64)


ALPHA_EXPECTED = "a real number or array of exponents"


def _alpha_values(xp, a, fn, batch_shape, n):
    """Exponents of a real dtype (numpy or cupy, ``xp``), checked: finite or NaN (NaN passes
    through to a NaN result), ≥ 0; one per spectrum as a contiguous float64 array of n."""
    a = a.astype(xp.float64, copy=False)
    if xp.isinf(a).any():
        raise value_error(fn, "alpha", "finite", "Inf")
    if (a < 0).any():
        raise value_error(fn, "alpha", ">= 0 (the orbit leaves the Weyl chamber for alpha < 0)",
                          repr(float(a[a < 0].ravel()[0])))
    return _per_spectrum(xp, a, fn, "alpha", "a scalar or an array", batch_shape, n, xp.float64)


def _alpha_batch(alpha, fn, batch_shape, n):
    """Exponents ≥ 0 (NaN passes through to a NaN result) as a contiguous float64 array of n."""
    if isinstance(alpha, (str, bytes)) or alpha is None or isinstance(alpha, (bool, np.bool_)):
        raise type_error(fn, "alpha", ALPHA_EXPECTED, alpha)
    a = host_array(alpha, fn, "alpha", ALPHA_EXPECTED)
    if a.dtype == object or a.dtype.kind not in "iuf":
        raise type_error(fn, "alpha", ALPHA_EXPECTED, alpha)
    return _alpha_values(np, a, fn, batch_shape, n)


def _where(batch_shape, i):
    """Spectrum i of the batch as the error messages name it: a tuple of indices."""
    idx = np.unravel_index(int(i), batch_shape) if batch_shape else ()
    return tuple(int(j) for j in idx)


def invalid_value_error(fn, value, batch_shape, i, k):
    """The first NaN/Inf/negative value of the lowest such spectrum i, at position k."""
    return ValueError(f"{fn}(): spectra must be finite and >= 0; got {float(value)!r} in spectrum "
                      f"{_where(batch_shape, i)} at position {k}")


def width_error(fn, batch_shape, i, d_i, q_i):
    """d_i < q_+ for spectrum i (the lowest such)."""
    return ValueError(f"{fn}(): d must be >= the number of nonzero singular values; got "
                      f"d={int(d_i)} < {int(q_i)} in spectrum {_where(batch_shape, i)}")


def _as_batch(spectra, fn):
    """as_spectra, working around its rejection of empty inputs: numpy gives empty arrays zero
    strides (``np.zeros((0, w)).strides == (0, 0)``, ``np.zeros(0).strides == (0,)``), which
    fail its unit-stride checks. Empty data has nothing to copy, so a unit-stride empty stand-in
    of the same dtype and batch shape is passed instead."""
    if isinstance(spectra, np.ndarray) and spectra.ndim >= 2 and spectra.size == 0 \
            and spectra.shape[-1] > 0:
        spectra = np.zeros(spectra.shape[:-1] + (0,), dtype=spectra.dtype)
    elif isinstance(spectra, RaggedSpectra) and isinstance(spectra.values, np.ndarray) \
            and spectra.values.ndim == 1 and spectra.values.size == 0:
        v = spectra.values
        spectra = RaggedSpectra(np.lib.stride_tricks.as_strided(v, (0,), (v.itemsize,)),
                                spectra.offsets)
    return as_spectra(spectra, fn)


def _check_window_width(fn, window, b):
    if window is None:
        return
    width = int(b.lengths.max()) if b.lengths.size else 0
    if window[1] > width:
        raise value_error(fn, "window", f"ranks with k1 <= the spectrum width {width}",
                          f"({window[0]}, {window[1]})")
