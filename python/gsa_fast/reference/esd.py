"""Reference (pure numpy, float64, O(N²)) ESD power-law fit: WeightWatcher 0.7.7's WWFit.

Written directly from the definition, one spectrum and one candidate x_min at a time:
``α = 1 + n / Σ log(x/x_min)`` (``n − 1`` and tails of >= 8 values below 20 eigenvalues), ``D``
the one-sided KS distance ``max_k |1 − (x_k/x_min)^{1−α} − k/n|`` with ``(x/x_min)**(1−α)`` as a
numpy power, first minimum of ``D``. Same signature, result type and
conventions as :func:`gsa_fast.esd_powerlaw_fit`.
"""
from __future__ import annotations

import numpy as np

from .._esd_common import (ALL_EQUAL, CLIP_TOO_LARGE, OK, TOO_FEW, ESDFit, parse_options, parse_run_options,
                           warning_text)
from .._ragged import as_spectra
from .._validate import value_error

__all__ = ["esd_powerlaw_fit"]


def _ks(tail, alpha):
    n = tail.size
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        cdf = 1.0 - np.power(tail / tail[0], 1.0 - alpha)
    return float(np.max(np.abs(cdf - np.arange(n) / n)))


def _fit_one(x_all, xmin_req, xmax_req, clip_top, thresh, apply_thresh):
    nan = float("nan")
    failed = lambda st, nf=0, xm=nan: (nan, nan, nan, nan, 0, xm, nf, st)  # noqa: E731
    x_all = np.sort(x_all)
    if clip_top:
        if clip_top > x_all.size / 2:
            return failed(CLIP_TOO_LARGE)
        x_all = x_all[: x_all.size - clip_top]
    data = x_all[x_all > thresh] if apply_thresh else x_all
    if data.size:
        lo = 0 if xmin_req is None else int(np.argmin(np.abs(data - xmin_req)))
        target = None if xmax_req is None else (data.max() if np.isinf(xmax_req) else xmax_req)
        hi = data.size - 1 if target is None else int(np.argmin(np.abs(data - target)))
        data = data[lo:hi + 1]
    N = data.size
    if N < 2:
        return failed(TOO_FEW, N)
    if data[0] == data[-1]:
        return failed(ALL_EQUAL, N, data[-1])
    if not data[0] > 0:
        return failed(TOO_FEW, N, data[-1])
    if N >= 20:
        best = (np.inf, -1, nan)
        for i in range(N - 1):
            tail = data[i:]
            n = tail.size
            s = float(np.sum(np.log(tail / tail[0])))
            alpha = 1.0 + n / s if s > 0 else (np.inf if s == 0 else 1.0 + n / s)
            D = _ks(tail, alpha) if alpha > 1 else 1.0
            if D < best[0]:
                best = (D, i, alpha)
        D, i, alpha = best
        sigma = (alpha - 1.0) / np.sqrt(N - i)
    else:
        # Small-N rule as WeightWatcher 0.7.7 runs it: fit_powerlaw_smallN fills its per-candidate
        # arrays (bias-corrected α for tails of >= 8 values with s > 1e-12, D where α > 1), its
        # J-objective fallback refits slot 0 when no candidate qualified, and WWFit.__init__ then
        # takes the first minimum of D over all slots.
        alphas = np.zeros(N - 1)
        Ds = np.ones(N - 1)
        for i in range(N - 1):
            tail = data[i:]
            n = tail.size
            if n < 8:
                continue
            s = float(np.sum(np.log(tail / tail[0])))
            if s <= 1e-12:
                continue
            alphas[i] = 1.0 + (n - 1) / s
            if alphas[i] > 1:
                Ds[i] = _ks(tail, alphas[i])
        sigmas = (alphas - 1.0) / np.sqrt(N - np.arange(N - 1))
        if not np.any(alphas > 1):
            s = float(np.sum(np.log(data / data[0])))
            if s > 1e-12:
                alphas[0] = 1.0 + (N - 1) / s
                Ds[0] = _ks(data, alphas[0])
        i = int(np.argmin(Ds))
        alpha, D, sigma = float(alphas[i]), float(Ds[i]), float(sigmas[i])
    xmin = float(data[i])
    spikes = int(np.count_nonzero(x_all >= xmin))
    return alpha, xmin, D, sigma, spikes, float(data[-1]), N, OK


def esd_powerlaw_fit(eigenvalues, *, xmin=None, xmax=None, evals_thresh=1e-5, from_singular_values=False,
                     threads=None):
    """Reference twin of :func:`gsa_fast.esd_powerlaw_fit` (O(N²), one candidate at a time)."""
    fn = "esd_powerlaw_fit"
    b = as_spectra(eigenvalues, fn, "eigenvalues")
    n = int(b.lengths.size)
    xmin_arr, xmax_arr, clip_top, thresh, apply_thresh = parse_options(fn, n, xmin, xmax, evals_thresh)
    square, _ = parse_run_options(fn, from_singular_values, threads)  # threads: validated, unused
    rows = []
    for k in range(n):
        v = np.asarray(b.values[b.starts[k]:b.starts[k] + b.lengths[k]], dtype=np.float64)
        if square:
            v = v * v
        if not np.all(np.isfinite(v)):
            raise value_error(fn, "eigenvalues", "finite and nonnegative", f"NaN or Inf in spectrum {k}")
        if v.size and v.min() < -64 * np.finfo(float).eps * np.abs(v).max():
            raise value_error(fn, "eigenvalues", "finite and nonnegative",
                              f"a negative eigenvalue beyond rounding in spectrum {k}")
        rows.append(_fit_one(v, None if xmin_arr is None else xmin_arr[k],
                             None if xmax_arr is None else xmax_arr[k], clip_top, thresh, apply_thresh))
    cols = list(zip(*rows)) if rows else [()] * 8
    alpha, xmn, D, sigma, spikes, xmx, num_fit, status = (np.array(c) for c in cols)
    alpha, xmn, D, sigma, xmx = (np.asarray(a, dtype=np.float64) for a in (alpha, xmn, D, sigma, xmx))
    spikes, num_fit = (np.asarray(a, dtype=np.int64) for a in (spikes, num_fit))
    warning = np.array([warning_text(a, s) for a, s in zip(alpha, status)], dtype=object)
    shape = b.batch_shape
    return ESDFit(*(a.reshape(shape)[()] for a in (alpha, xmn, D, sigma, spikes, xmx, num_fit, warning)))
