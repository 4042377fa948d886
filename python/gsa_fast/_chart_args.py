"""Argument checks and result types of the exponent charts (gsa_fast.charts), shared with the
reference twin (gsa_fast.reference.charts): pure numpy, no compiled code."""
from __future__ import annotations

import numbers
from typing import NamedTuple

import numpy as np

from ._ragged import RaggedSpectra, as_spectra
from ._validate import as_width, host_array, type_error, value_error

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


def _check_chart_args(fn, chart, interval, window, full_output=False):
    """Parse chart, interval J and window; returns (chart, lo, hi, window or None)."""
    if not isinstance(full_output, (bool, np.bool_)):
        raise type_error(fn, "full_output", "a bool", full_output)
    if not isinstance(chart, str):
        raise type_error(fn, "chart", "one of 'top', 'bures', 'lsq'", chart)
    if chart not in CHART_NAMES:
        raise value_error(fn, "chart", "one of 'top', 'bures', 'lsq'", repr(chart))
    if isinstance(interval, (str, bytes)) or not hasattr(interval, "__len__") or len(interval) != 2:
        raise type_error(fn, "interval", "a pair (alpha_min, alpha_max)", interval)
    lo = _real(interval[0], fn, "interval[0]", "a real number")
    hi = _real(interval[1], fn, "interval[1]", "a real number")
    if not (np.isfinite(lo) and np.isfinite(hi) and 0.0 <= lo < hi):
        raise value_error(fn, "interval", "(alpha_min, alpha_max) with 0 <= alpha_min < alpha_max < inf",
                          f"({lo!r}, {hi!r})")
    if window is not None:
        if chart != "lsq":
            raise value_error(fn, "window", "None unless chart='lsq'", repr(window))
        if isinstance(window, (str, bytes)) or not hasattr(window, "__len__") or len(window) != 2:
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


def _d_batch(d, fn, batch_shape, n):
    """None, or the width of every spectrum as a contiguous int64 array of n."""
    if d is None:
        return None
    a = as_width(d, fn)
    try:
        a = np.broadcast_to(a, batch_shape)
    except ValueError:
        raise value_error(fn, "d", f"an int or an array broadcastable to {batch_shape}",
                          f"shape {a.shape}") from None
    return np.ascontiguousarray(a, dtype=np.int64).reshape(n)


def _alpha_batch(alpha, fn, batch_shape, n):
    """Exponents ≥ 0 (NaN passes through to a NaN result) as a contiguous float64 array of n."""
    if isinstance(alpha, (str, bytes)) or alpha is None or isinstance(alpha, (bool, np.bool_)):
        raise type_error(fn, "alpha", "a real number or array of exponents", alpha)
    a = host_array(alpha, fn, "alpha", "a real number or array of exponents")
    if a.dtype == object or a.dtype.kind not in "iuf":
        raise type_error(fn, "alpha", "a real number or array of exponents", alpha)
    a = a.astype(np.float64, copy=False)
    if np.isinf(a).any():
        raise value_error(fn, "alpha", "finite", "Inf")
    if (a < 0).any():
        raise value_error(fn, "alpha", ">= 0 (the orbit leaves the Weyl chamber for alpha < 0)",
                          repr(float(a[a < 0].ravel()[0])))
    try:
        a = np.broadcast_to(a, batch_shape)
    except ValueError:
        raise value_error(fn, "alpha", f"a scalar or an array broadcastable to {batch_shape}",
                          f"shape {a.shape}") from None
    return np.ascontiguousarray(a).reshape(n)


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
