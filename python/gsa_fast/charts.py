"""Exponent charts and residuals on batches of spectra (spec §6, with §4.2, §5.3, §8.3).

A *spectrum* is a vector of singular values ``σ`` (any order: it is sorted descending
internally, in a per-worker workspace; the batch is never copied). Batches are dense
``(..., width)`` float32/float64 arrays (one spectrum per row) or :class:`RaggedSpectra`.

Width convention (spec §2.3): zeros are dropped and ``d = q_+``, the number of nonzero
``σ``, unless ``d=`` is given (then ``d ≥ q_+`` and ranks ``q_+ + 1..d`` are zero padding).
Every quantity here is scale-free except the unnormalized Bures chart error, which is defined
after Frobenius normalization ``‖σ‖² = d`` (spec §1). Results are float64.

cupy operands (spectra as a cupy array or a RaggedSpectra of cupy values; ``alpha`` and ``d`` cupy
arrays or Python numbers) run on the current device and stream and return float64 cupy arrays of
the batch shape (0-d for one spectrum): one block per spectrum calling the same float64 functions
of math/charts.hpp as the CPU kernel (cuda/charts.cu), with the same argument checks and errors;
the Bures and LS charts, the chart error and the tail residual read sorted spectra in place and
sort a temporary copy of unsorted ones. Mixing numpy arrays and cupy arrays is a ``TypeError``.

Unidentifiable spectra (spec §4.4): for ``d = 1``, for an all-zero spectrum, and for the LS chart
with a window of fewer than two nonzero values, the exponent is NaN (flag ``UNIDENTIFIABLE``).
"""
from __future__ import annotations

import numpy as np

from . import _backend
from ._chart_args import (ChartFit, _alpha_batch, _as_batch, _check_chart_args,
                          _check_window_width, _ChartFit, _d_batch, invalid_value_error,
                          width_error)
from ._status import raise_status
from ._validate import as_flag

__all__ = ["fit_exponent", "radial_residual", "chart_error", "tail_residual"]
RESULT_TYPES = (ChartFit,)  # gsa_fast.charts.ChartFit stays importable (defined in _chart_args)

# codes of gsa::cpu::ChartKind / ResidualKind, exported by the extension
_CHARTS = {name: int(v) for name, v in _backend.core.ChartKind.__members__.items()}
_KINDS = {name: int(v) for name, v in _backend.core.ResidualKind.__members__.items()}


def _raise_bad(fn, b, qplus, status, d):
    """The kernel's one Status (index = spectrum, position = its first invalid value) through
    _status.raise_status, in the charts wording; then d < q_+ from the qplus output."""
    def describe(code, i, k, info):
        # the one value the kernel pointed at (no re-scan)
        return invalid_value_error(fn, b.values[b.starts[i] + k], b.batch_shape, i, k)

    raise_status(fn, status, describe=describe)
    if d is not None and (d < qplus).any():
        i = int(np.argmax(d < qplus))
        raise width_error(fn, b.batch_shape, i, d[i], qplus[i])


def _prepare(spectra, fn, d):
    b = _as_batch(spectra, fn)
    n = int(b.starts.size)
    dd = _d_batch(d, fn, b.batch_shape, n)
    darg = np.zeros(0, dtype=np.int64) if dd is None else dd
    return b, n, dd, darg


# ----------------------------------------------------------------------------- public API

def fit_exponent(spectra, chart="top", interval=(0, 5), window=None, d=None, full_output=False):
    """Exponent chart ``α = Φ(P)`` of each spectrum on ``J = interval`` (spec §6.2).

    Parameters
    ----------
    spectra : array (..., width) of float32/float64, or RaggedSpectra
        Singular values ``σ ≥ 0`` (finite), any order; zeros are dropped (``q_+`` nonzeros).
    chart : {"top", "bures", "lsq"}
        ``"top"``: top-radial chart ``Π_J(m_d^{-1}(m(P)))``, the solution of
        ``g_d(α) = R(P) = Σ_{k≥2} σ_k²/σ_1²`` by safeguarded Newton in log space; ``α_min`` if
        ``R ≥ g_d(α_min)``, ``α_max`` if ``R ≤ g_d(α_max)`` (rank 1 included).
        ``"bures"``: Bures projection ``argmax_{α∈J} Σ σ_k k^{-α}/sqrt(H_{d,2α})``: signs of
        ``(log f)'`` on a 257-point grid, each local maximum refined by Newton on the
        stationarity equation ``E_{p(α)}[log k] = E_{q(α)}[log k]``, compared with the
        endpoints; ties go to the smallest α.
        ``"lsq"``: least-squares slope of ``log σ_k`` on ``−log k`` over ``window``, closed
        form, clamped to ``J``.
    interval : (alpha_min, alpha_max)
        ``0 ≤ alpha_min < alpha_max < ∞``.
    window : (k0, k1), optional
        1-based inclusive ranks for ``chart="lsq"`` (``1 ≤ k0 < k1 ≤ width``); default
        ``1..q_+``. A window reaching past ``q_+`` (a zero inside it) gives NaN.
    d : int or int array (batch shape), optional
        Orbit width, ``d ≥ q_+``; default ``q_+``.
    full_output : bool
        Also return the LS intercept (on the Frobenius-normalized spectrum ``‖σ‖² = d``, NaN
        for the other charts), the radial residual ε and the normalized chart error Ē at α.

    Returns
    -------
    float64 array of the batch shape (numpy scalar for one 1-D spectrum), or a ``ChartFit``
    ``(alpha, intercept, residual, error)`` with ``full_output=True``. NaN when the exponent is
    not identifiable: ``d = 1``, an all-zero spectrum, or fewer than two LS points.

    Accuracy
    --------
    ``"top"`` and ``"bures"``: ≤ 1e-14 absolute in α (Newton stopped after a step
    ≤ 1e-13·max(1, α), which in the quadratic regime leaves an error ~1e-25; measured ≤ 3e-15
    against the bisection reference and ≤ 1e-16 on the §11.3 oracles). ``"lsq"``: the closed
    form, ~1e-15·max(1, α) (the rounding of log σ_k). An ill-conditioned Bures problem (a degenerate or a near-tied maximum) is
    only determined to ~sqrt(u) — the spec's "uniqueness is not guaranteed".
    """
    fn = "fit_exponent"
    chart, lo, hi, window = _check_chart_args(fn, chart, interval, window, full_output)
    if _backend.device_route(fn, spectra, d):  # cupy in, cupy out (cuda/charts.cu)
        return _backend.cuda_route(fn)(spectra, _CHARTS[chart], lo, hi, window, d, full_output, fn)
    b, n, dd, darg = _prepare(spectra, fn, d)
    k0, k1 = (0, 0) if window is None else window
    _check_window_width(fn, window, b)
    alpha = np.empty(n)
    icpt = np.empty(n) if full_output else None
    qplus = np.empty(n, dtype=np.int64)
    status = _backend.core.charts_fit(b.values, b.starts, b.lengths, darg, _CHARTS[chart], lo, hi, k0, k1,
                                      alpha, icpt, qplus)
    _raise_bad(fn, b, qplus, status, dd)
    out = alpha.reshape(b.batch_shape)[()]
    if not full_output:
        return out
    eps = _residual("radial_residual", b, n, dd, darg, alpha)  # NaN α → NaN
    err = _residual("chart_error", b, n, dd, darg, alpha)
    shape = b.batch_shape
    return _ChartFit(out, icpt.reshape(shape)[()], eps.reshape(shape)[()], err.reshape(shape)[()])


def _residual(kind, b, n, dd, darg, alpha, with_qplus=False):
    out = np.empty(n)
    qplus = np.empty(n, dtype=np.int64)
    status = _backend.core.charts_residual(b.values, b.starts, b.lengths, darg, alpha, _KINDS[kind], out,
                                           qplus)
    _raise_bad(kind, b, qplus, status, dd)
    return (out, qplus) if with_qplus else out


def _residual_api(fn, spectra, alpha, d):
    """(batch, residuals) on the host, or (None, residuals of the batch shape) on the device."""
    if _backend.device_route(fn, spectra, alpha, d):  # cupy in, cupy out (cuda/charts.cu)
        return None, _backend.cuda_route(fn)(spectra, alpha, d, _KINDS[fn], fn)
    b, n, dd, darg = _prepare(spectra, fn, d)
    al = _alpha_batch(alpha, fn, b.batch_shape, n)
    return b, _residual(fn, b, n, dd, darg, al)


def _residual_out(b, out):
    return out if b is None else out.reshape(b.batch_shape)[()]


def radial_residual(spectra, alpha, d=None):
    """Signed radial residual ``ε(P, α) = m(P) − m_d(α)`` (spec §6.1).

    Evaluated as ``½[log1p(g_d(α)) − log1p(R(P))]`` with ``R = Σ_{k≥2} σ_k²/σ_1²`` (summed
    without the largest term, so nothing cancels) and ``g_d(α) = Σ_{k=2}^{d} k^{-2α}``.

    Parameters
    ----------
    spectra : array (..., width) or RaggedSpectra
        Singular values ``σ ≥ 0``; zeros dropped, ``d = q_+`` unless given.
    alpha : float or array broadcastable to the batch shape
        Exponents ``α ≥ 0`` (finite; NaN gives NaN, e.g. an unidentifiable chart).
    d : int or int array, optional
        Orbit width ``d ≥ q_+``.

    Returns
    -------
    float64 of the batch shape; NaN for an all-zero spectrum. ``d = 1`` gives 0.

    Accuracy: ≤ 1e-15 absolute (a few ulp of ``½ log d``), scale-free.
    """
    return _residual_out(*_residual_api("radial_residual", spectra, alpha, d))


def chart_error(spectra, alpha, normalized=True, d=None):
    """Chart error ``Ē(P, α) = ‖√p(P) − √p(α)‖₂`` or ``E_BW = √d·Ē`` (spec §5.3).

    ``p_k(P) = σ_k²/‖σ‖²`` (sorted descending, zero-padded to ``d``) and
    ``p_k(α) = k^{-2α}/H_{d,2α}``. ``Ē = sqrt(2(1 − BC))`` is computed as the direct sum of
    squared differences, which keeps full relative accuracy as ``Ē → 0`` (the BC form loses
    all digits there). ``normalized=False`` gives the unnormalized Bures distance on the
    trace-``d`` slice, ``E_BW = d_BW(Λ(P), P(α)) = √d·Ē`` (Frobenius normalization
    ``‖σ‖² = d``).

    Returns float64 of the batch shape in ``[0, √2]`` (normalized); NaN for an all-zero
    spectrum or NaN α. Accuracy: a few ulp absolute (measured ≤ 3e-15 against the reference), with
    no cancellation floor as Ē → 0 (an exact orbit gives ≤ 1e-15, not the ~1e-8 of the BC form).
    """
    fn = "chart_error"
    normalized = as_flag(normalized, fn, "normalized")
    if _backend.device_route(fn, spectra, alpha, d):  # cupy in, cupy out (cuda/charts.cu)
        return _backend.cuda_route(fn)(spectra, alpha, d, _KINDS[fn], fn, normalized)
    b, n, dd, darg = _prepare(spectra, fn, d)
    al = _alpha_batch(alpha, fn, b.batch_shape, n)
    out, qplus = _residual(fn, b, n, dd, darg, al, with_qplus=True)
    if not normalized:
        out = out * np.sqrt(qplus if dd is None else dd)
    return out.reshape(b.batch_shape)[()]


def tail_residual(spectra, alpha, d=None):
    """Tail residual ``τ(A, α) = max_{0≤j≤d} |T_A(j) − T_α(j)|`` (spec §8.3).

    The Kolmogorov distance between the energy measure ``ν_A`` (``T_A(j) = Σ_{k>j}σ_k²/‖σ‖²``)
    and the orbit law ``ν_α`` (``T_α(j) = Σ_{k>j}^{d} k^{-2α}/H_{d,2α}``), both tails by
    suffix sums (small to large), ``σ`` sorted descending and zero-padded to ``d``.

    Returns float64 of the batch shape in ``[0, 1]``; NaN for an all-zero spectrum or NaN α.
    Accuracy: a few ulp absolute (measured ≤ 4e-16 against the reference).
    """
    return _residual_out(*_residual_api("tail_residual", spectra, alpha, d))
