"""Pieces of the ESD power-law fit shared by the kernel wrapper (:mod:`gsa_fast.esd`) and its
reference twin (:mod:`gsa_fast.reference.esd`): the result type, option parsing, the WeightWatcher
warning rule. Pure Python/numpy; no math of the fit lives here."""
from __future__ import annotations

import numbers
from typing import NamedTuple

import numpy as np

from ._validate import as_flag, as_threads, describe, type_error, value_error

# Per-spectrum status codes (same values as cpu::EsdStatus in cpp/include/gsa_fast/kernels/esd.hpp).
OK, TOO_FEW, ALL_EQUAL, CLIP_TOO_LARGE, NONFINITE, NEGATIVE = range(6)

#: The ``warning`` text of a spectrum that could not be fitted (alpha and friends are NaN).
FAILED_WARNINGS = {
    TOO_FEW: "failed: fewer than 2 eigenvalues above evals_thresh",
    ALL_EQUAL: "failed: all eigenvalues equal",
    CLIP_TOO_LARGE: "failed: xmax clips more than half of the eigenvalues",
}

# WeightWatcher 0.7.7 (OVER_TRAINED_THRESH, UNDER_TRAINED_THRESH).
OVER_TRAINED_THRESH = 2.0
UNDER_TRAINED_THRESH = 6.0


class ESDFit(NamedTuple):
    """Result of :func:`gsa_fast.esd_powerlaw_fit` (one entry per spectrum; 0-d for one spectrum).

    alpha : float64  power-law exponent of the ESD tail (NaN where the fit failed)
    xmin : float64   start of the fitted tail (an eigenvalue)
    D : float64      Kolmogorov–Smirnov distance of the winning fit
    sigma : float64  (alpha − 1)/sqrt(n), n = tail size at xmin
    num_pl_spikes : int64  number of eigenvalues >= xmin (after an integer xmax clip)
    xmax : float64   largest eigenvalue the fit saw
    num_fit : int64  eigenvalues the fit saw (after clip, evals_thresh and the xmin/xmax limits)
    warning : object array of str  WeightWatcher's text: "over-trained" (alpha < 2),
              "under-trained" (alpha > 6), "" or "failed: …" (NaN alpha)
    """

    alpha: np.ndarray
    xmin: np.ndarray
    D: np.ndarray
    sigma: np.ndarray
    num_pl_spikes: np.ndarray
    xmax: np.ndarray
    num_fit: np.ndarray
    warning: np.ndarray


def warning_text(alpha: float, status: int) -> str:
    if status != OK:
        return FAILED_WARNINGS[status]
    if alpha < OVER_TRAINED_THRESH:
        return "over-trained"
    if alpha > UNDER_TRAINED_THRESH:
        return "under-trained"
    return ""


def parse_run_options(fn: str, from_singular_values, threads) -> tuple:
    """(from_singular_values as a bool, threads as the kernels' count, 0 = the default): checked
    by every route and the twin alike, after :func:`parse_options`."""
    return as_flag(from_singular_values, fn, "from_singular_values"), as_threads(threads, fn)


def parse_options(fn: str, nspec: int, xmin, xmax, evals_thresh):
    """(xmin per spectrum or None, xmax per spectrum or None, clip_top, thresh, apply_thresh).

    xmin: None or a positive float (or one per spectrum): WeightWatcher's fixed-x_min fit (the data
    start at the eigenvalue nearest to it; the threshold is not applied, as in WeightWatcher).
    xmax: None; an int k (WeightWatcher's ``xmax=k``: drop the k largest eigenvalues, |k| used);
    "force" (end at the first occurrence of the largest eigenvalue); or a float (or one per
    spectrum): end at the eigenvalue nearest to it (WWFit's xmax).
    """
    if isinstance(evals_thresh, bool) or not isinstance(evals_thresh, numbers.Real):
        raise type_error(fn, "evals_thresh", "a real number", evals_thresh)
    thresh = float(evals_thresh)
    if not np.isfinite(thresh):
        raise value_error(fn, "evals_thresh", "finite", repr(evals_thresh))

    def per_spectrum(v, arg):
        if isinstance(v, bool):
            raise type_error(fn, arg, "None, a real number or an array of them", v)
        try:
            a = np.asarray(v, dtype=np.float64)
        except (TypeError, ValueError) as exc:
            raise type_error(fn, arg, "None, a real number or an array of them", v) from exc
        if a.ndim == 0:
            a = np.full(nspec, float(a))
        a = a.reshape(-1)
        if a.size != nspec:
            raise value_error(fn, arg, f"a scalar or one value per spectrum ({nspec})", describe(v))
        if not np.all(np.isfinite(a)):
            raise value_error(fn, arg, "finite", "a NaN or Inf")
        return np.ascontiguousarray(a)

    xmin_arr = None if xmin is None else per_spectrum(xmin, "xmin")
    clip_top, xmax_arr = 0, None
    if xmax is None or xmax is False:
        pass
    elif isinstance(xmax, str):
        if xmax != "force":
            raise value_error(fn, "xmax", 'None, an int, a float or "force"', repr(xmax))
        xmax_arr = np.full(nspec, np.inf)  # resolved to the largest eigenvalue below
    elif isinstance(xmax, numbers.Integral) and not isinstance(xmax, bool):
        if int(xmax) == 0:
            raise value_error(fn, "xmax", "a nonzero int (WeightWatcher: xmax can not be 0)", "0")
        clip_top = abs(int(xmax))
        if clip_top > np.iinfo(np.int64).max:  # the kernel's int64 count (2**63 is past it)
            raise value_error(fn, "xmax", "an int k with |k| < 2**63", repr(int(xmax)))
    else:
        xmax_arr = per_spectrum(xmax, "xmax")
    return xmin_arr, xmax_arr, clip_top, thresh, xmin_arr is None
