"""WeightWatcher's ESD power-law fit, exactly and fast (issue 10; user docs in docs/esd.md).

The empirical spectral density (ESD) of a layer ``W`` is the set of eigenvalues ``λ = σ²`` of
``WᵀW``. :func:`esd_powerlaw_fit` fits a power law ``p(λ) ∝ λ^-α`` to its upper tail exactly as
WeightWatcher 0.7.7's default fit (``WWFit``) does — including its small-N rule below 20
eigenvalues and its ``xmin``/``xmax`` options — in C++ with the GIL released, batched over
spectra (see the kernel's comments in cpp/src/esd.cpp for the exact pruning of the O(N²) scan).

cupy input (an array of spectra, a :class:`gsa_fast.RaggedSpectra` with cupy values, or a list of
1-D cupy arrays) runs on the current device and stream (cuda/esd.cu: one block per spectrum, the
arithmetic of math/esd.hpp that the CPU kernel runs): the fields come back as cupy arrays, except
``warning`` (a numpy object array of str, made from alpha and the status on the host).

This ``alpha`` is *not* the scan's chart exponents ``alpha_top``/``alpha_bures``/``alpha_lsq``
(:func:`gsa_fast.fit_exponent`): those fit the rank-ordered singular values ``σ_k ∝ k^-a``; this
one fits the density of eigenvalues. The two are different quantities.
"""
from __future__ import annotations

import numpy as np

from . import _backend, _interop
from ._esd_common import NEGATIVE, NONFINITE, ESDFit, parse_options, parse_run_options, warning_text
from ._ragged import as_spectra
from ._validate import value_error

__all__ = ["esd_powerlaw_fit"]


def _index_name(batch_shape, ragged, i):
    if ragged or len(batch_shape) <= 1:
        return str(i)
    return str(tuple(int(j) for j in np.unravel_index(i, batch_shape)))


def esd_powerlaw_fit(eigenvalues, *, xmin=None, xmax=None, evals_thresh=1e-5, from_singular_values=False,
                     threads=None):
    """Power-law fit of each spectrum's ESD tail, identical to WeightWatcher 0.7.7's default fit.

    Parameters
    ----------
    eigenvalues : array ``(..., n)``, :class:`gsa_fast.RaggedSpectra` or list of 1-D arrays
        Eigenvalues ``λ = σ²`` of ``WᵀW`` in any order (float64 or float32; float32 spectra are
        upcast, a copy of the spectrum only). Any array library (torch, objects with
        ``__array__``/``__dlpack__``) is read through :func:`gsa_fast._interop.as_numpy`.
    from_singular_values : bool
        The values are singular values ``σ``: fit ``σ²`` (squared inside the kernel, no copy).
    xmin : None, float or one float per spectrum
        None (default): scan every candidate. A value: WeightWatcher's fixed-x_min fit — the data
        start at the eigenvalue nearest to it (no evals_thresh, as in WeightWatcher) and the scan
        runs over the candidates from there on.
    xmax : None, int, "force", float or one float per spectrum
        WeightWatcher's option: an int ``k`` drops the ``|k|`` largest eigenvalues before the fit
        (fails when ``|k|`` exceeds half of them); ``"force"`` ends the data at the first
        occurrence of the largest eigenvalue; a float ends it at the nearest eigenvalue (WWFit).
    evals_thresh : float
        Only eigenvalues ``> evals_thresh`` are fitted (WeightWatcher's ``EVALS_THRESH = 1e-5``).
    threads : int, optional
        Cap on worker threads (default: :func:`gsa_fast.get_num_threads`).

    Returns
    -------
    :class:`ESDFit` ``(alpha, xmin, D, sigma, num_pl_spikes, xmax, num_fit, warning)``, each of the
    batch shape (0-d for one spectrum).

    Definition (N ≥ 20 sorted eigenvalues ``x``): for every candidate ``x_min = x_i``, i < N − 1,
    with tail ``n = N − i``: ``α = 1 + n / Σ_{k≥i} log(x_k/x_i)``; ``D = max_k |1 − (x_{i+k}/x_i)^{1−α}
    − k/n|`` (``D = 1`` where ``α ≤ 1``); the first smallest ``D`` wins; ``σ = (α − 1)/√n``.
    N < 20 (WeightWatcher's small-N rule as 0.7.7 runs it): ``α = 1 + (n − 1)/Σ…`` on tails of ≥ 8
    values with ``Σ > 1e-12``, ``D`` where that ``α > 1``; first smallest ``D`` (its ``D − 0.868/√n``
    objective only picks the fallback refit of the whole data when no candidate qualifies).

    Accuracy: the same winning candidate (``xmin`` bit-identical) as a direct O(N²) evaluation of
    the definition except at ties of ``D`` within ~1e-15; ``α`` from double-double suffix sums of
    ``log(x/x_0)`` (x_0 the smallest fitted value), within a few ulp of ``1 + n/s`` with the exact ``s``; ``D`` within 1e-15 absolute.

    Bad input: NaN/Inf or a negative eigenvalue beyond rounding (``< −64·eps·max|λ|``) raise
    ValueError naming the spectrum. Fewer than 2 eigenvalues above ``evals_thresh``, all equal
    eigenvalues, or an xmax clip of more than half of them give NaN results with a ``warning``
    that starts with ``"failed:"`` (and ``num_pl_spikes = 0``).
    """
    fn = "esd_powerlaw_fit"
    if _backend.device_route(fn, eigenvalues):  # cupy in, cupy out (cuda/esd.cu)
        square, _ = parse_run_options(fn, from_singular_values, threads)
        shape, ragged, outs = _backend.cuda_route(fn)(eigenvalues, xmin, xmax, evals_thresh,
                                                      square, fn)
        return _result(fn, shape, ragged, *outs)
    eigenvalues = _interop.as_numpy(eigenvalues, fn, "eigenvalues")
    b = as_spectra(eigenvalues, fn, "eigenvalues")
    n = int(b.lengths.size)
    xmin_arr, xmax_arr, clip_top, thresh, apply_thresh = parse_options(fn, n, xmin, xmax, evals_thresh)
    square, nthreads = parse_run_options(fn, from_singular_values, threads)
    values = b.values
    if values.dtype != np.float64:
        values = values.astype(np.float64)  # a spectrum, not a matrix: small
    alpha, xmn, xmx, D, sigma = (np.empty(n) for _ in range(5))
    spikes, num_fit, status = (np.empty(n, dtype=np.int64) for _ in range(3))
    _backend.core.esd_powerlaw_fit(
        values, np.ascontiguousarray(b.starts), np.ascontiguousarray(b.lengths), square,
        thresh, apply_thresh, xmin_arr, xmax_arr, clip_top, alpha, xmn, xmx, D, sigma, spikes, num_fit,
        status, nthreads)
    return _result(fn, b.batch_shape, b.ragged, (alpha, xmn, D, sigma, spikes, xmx, num_fit), alpha, status)


def _result(fn, shape, ragged, fields, alpha, status):
    """The ESDFit of both routes: ``fields`` (alpha, xmin, D, sigma, num_pl_spikes, xmax, num_fit:
    numpy or cupy, one entry per spectrum) reshaped to the batch shape, or the error for the
    lowest spectrum whose ``status`` (host int64) says NaN/Inf or a negative eigenvalue; the
    warning text from the host ``alpha`` and ``status``."""
    bad = np.flatnonzero((status == NONFINITE) | (status == NEGATIVE))
    if bad.size:
        i = int(bad[0])
        what = "NaN or Inf" if status[i] == NONFINITE else "a negative eigenvalue beyond rounding"
        raise value_error(fn, "eigenvalues", "finite and nonnegative",
                          f"{what} in spectrum {_index_name(shape, ragged, i)}")
    warning = np.array([warning_text(a, s) for a, s in zip(alpha, status)], dtype=object)
    return ESDFit(*(a.reshape(shape)[()] if a.ndim else a for a in (*fields, warning)))

