"""Reference (pure numpy, float64) exponent charts and residuals (spec §6, §5.3, §8.3).

Written for clarity: one spectrum at a time, dense sums over ranks ``k = 1..d``, bisection
root finders written out. Same public names, signatures and conventions as
:mod:`gsa_fast.charts` (argument checks are shared with it; the numerics are independent).
"""
from __future__ import annotations

import numpy as np

from .._chart_args import _alpha_batch, _as_batch, _check_chart_args, _check_window_width, _d_batch, _ChartFit
from .._validate import as_flag

__all__ = ["fit_exponent", "radial_residual", "chart_error", "tail_residual"]

_GRID = 257


def _spectra(spectra, fn, d, window=None):
    """Yield (index, sorted nonzero σ (float64, descending), width d) for every spectrum."""
    b = _as_batch(spectra, fn)
    n = b.starts.size
    dd = _d_batch(d, fn, b.batch_shape, n)
    _check_window_width(fn, window, b)
    out = []
    for i in range(n):
        s = np.asarray(b.values[b.starts[i]:b.starts[i] + b.lengths[i]], dtype=np.float64)
        bad = ~np.isfinite(s) | (s < 0)
        if bad.any():
            k = int(np.argmax(bad))
            idx = np.unravel_index(i, b.batch_shape) if b.batch_shape else ()
            raise ValueError(f"{fn}(): spectra must be finite and >= 0; got {float(s[k])!r} in spectrum "
                             f"{tuple(int(j) for j in idx)} at position {k}")
        s = np.sort(s[s > 0])[::-1]
        q = s.size
        if dd is None:
            di = q
        else:
            di = int(dd[i])
            if di < q:
                idx = np.unravel_index(i, b.batch_shape) if b.batch_shape else ()
                raise ValueError(f"{fn}(): d must be >= the number of nonzero singular values; got "
                                 f"d={di} < {q} in spectrum {tuple(int(j) for j in idx)}")
        out.append((i, s, di))
    return b.batch_shape, n, out


def _g(d, alpha):
    """g_d(α) = Σ_{k=2}^{d} k^{-2α}."""
    k = np.arange(2, d + 1, dtype=np.float64)
    return float(np.sum(k ** (-2.0 * alpha)))


def _bisect(fun, a, b, tol=1e-15):
    """Root of fun on [a, b] with fun(a) > 0 >= fun(b), by plain bisection (up to 2200 halvings:
    enough to go from a bracket of 1e300 down to 1e-15 relative)."""
    for _ in range(2200):
        m = 0.5 * (a + b)
        if m <= a or m >= b or b - a <= tol * max(1.0, abs(m)):
            break
        if fun(m) > 0:
            a = m
        else:
            b = m
    return 0.5 * (a + b)


def _top(s, d, lo, hi):
    if d < 2 or s.size == 0:
        return np.nan
    R = float(np.sum((s[1:] / s[0]) ** 2))
    if R >= _g(d, lo):
        return lo
    if R <= _g(d, hi):
        return hi
    logR = np.log(R)
    with np.errstate(divide="ignore"):  # g_d underflows to 0 far out on a huge J: log → −inf
        return _bisect(lambda a: np.log(_g(d, a)) - logR, lo, hi)


def _root_p(d, alpha):
    """√p_k(α) = k^{-α}/sqrt(H_{d,2α}) for k = 1..d."""
    k = np.arange(1, d + 1, dtype=np.float64)
    w = k ** (-alpha)
    return w / np.sqrt(np.sum(w * w))


def _bures_f(s, d, alpha):
    """f(α) = Σ_k σ_k k^{-α} / sqrt(H_{d,2α}) for σ normalized to σ_1 = 1."""
    k = np.arange(1, s.size + 1, dtype=np.float64)
    kk = np.arange(1, d + 1, dtype=np.float64)
    return float(np.sum(s * k ** (-alpha)) / np.sqrt(np.sum(kk ** (-2.0 * alpha))))


def _bures_F(s, d, alpha):
    """(log f)'(α) = E_{p(α)}[log k] − E_{q(α)}[log k]."""
    u = np.log(np.arange(1, d + 1, dtype=np.float64))
    p = np.exp(-2.0 * alpha * u)
    q = s * np.exp(-alpha * u[: s.size])
    return float(np.sum(p * u) / np.sum(p) - np.sum(q * u[: s.size]) / np.sum(q))


def _bures(s, d, lo, hi):
    if d < 2 or s.size == 0:
        return np.nan
    s = s / s[0]
    grid = np.linspace(lo, hi, _GRID)
    F = np.array([_bures_F(s, d, a) for a in grid])
    cands = []
    if F[0] <= 0:
        cands.append(lo)
    for j in range(_GRID - 1):
        if F[j] > 0 and F[j + 1] <= 0:
            # bisection treats F = 0 as "≤ 0": an exact root stays the limit, and an underflowed
            # F = 0 far out on a huge J pulls the bracket back to representable values
            cands.append(_bisect(lambda a: _bures_F(s, d, a), grid[j], grid[j + 1]))
    if F[-1] >= 0:
        cands.append(hi)
    best, fbest = np.nan, -np.inf
    for a in sorted(cands):  # strictly greater replaces: ties go to the smallest α
        fa = _bures_f(s, d, a)
        if fa > fbest:
            best, fbest = a, fa
    return best


def _lsq(s, d, lo, hi, window):
    k0, k1 = (1, s.size) if window is None else window
    if k1 > s.size or k1 - k0 < 1:
        return np.nan, np.nan
    x = np.log(np.arange(k0, k1 + 1, dtype=np.float64))
    y = np.log(s[k0 - 1:k1])
    xc = x - x.mean()
    slope = -np.sum(xc * (y - y.mean())) / np.sum(xc * xc)
    a = min(max(slope, lo), hi)
    # intercept of the fit on the Frobenius-normalized spectrum ‖σ‖² = d
    # (‖σ‖ = σ_1·‖σ/σ_1‖: the norm itself over- or underflows at 1e±300 scale)
    shift = 0.5 * np.log(d) - np.log(s[0]) - np.log(np.linalg.norm(s / s[0]))
    b = (y.mean() + shift) + a * x.mean()
    return a, b


def fit_exponent(spectra, chart="top", interval=(0, 5), window=None, d=None, full_output=False):
    """Reference for :func:`gsa_fast.fit_exponent` (bisection to 1e-15 relative in α)."""
    fn = "fit_exponent"
    chart, lo, hi, window = _check_chart_args(fn, chart, interval, window, full_output)
    shape, n, items = _spectra(spectra, fn, d, window)
    alpha = np.full(n, np.nan)
    icpt = np.full(n, np.nan)
    for i, s, di in items:
        if chart == "top":
            alpha[i] = _top(s, di, lo, hi)
        elif chart == "bures":
            alpha[i] = _bures(s, di, lo, hi)
        else:
            alpha[i], icpt[i] = _lsq(s, di, lo, hi, window)
    alpha = alpha.reshape(shape)[()]
    if not full_output:
        return alpha
    a = np.nan_to_num(np.asarray(alpha), nan=0.0)
    eps = radial_residual(spectra, a, d=d)
    err = chart_error(spectra, a, d=d)
    nan = np.isnan(np.asarray(alpha))
    eps, err = np.where(nan, np.nan, eps)[()], np.where(nan, np.nan, err)[()]
    return _ChartFit(alpha, icpt.reshape(shape)[()], eps, err)


def radial_residual(spectra, alpha, d=None):
    """Reference for :func:`gsa_fast.radial_residual`: ½[log1p(g_d(α)) − log1p(R(P))]."""
    fn = "radial_residual"
    shape, n, items = _spectra(spectra, fn, d)
    al = _alpha_batch(alpha, fn, shape, n)
    out = np.full(n, np.nan)
    for i, s, di in items:
        if s.size == 0 or np.isnan(al[i]):
            continue
        R = float(np.sum((s[1:] / s[0]) ** 2))
        out[i] = 0.5 * (np.log1p(_g(di, al[i])) - np.log1p(R))
    return out.reshape(shape)[()]


def chart_error(spectra, alpha, normalized=True, d=None):
    """Reference for :func:`gsa_fast.chart_error`: sqrt(2(1 − BC)), or the direct sum of squared
    differences when 1 − BC < 1e-2 (the BC form loses digits as Ē → 0)."""
    fn = "chart_error"
    normalized = as_flag(normalized, fn, "normalized")  # first, as in the fast route
    shape, n, items = _spectra(spectra, fn, d)
    al = _alpha_batch(alpha, fn, shape, n)
    out = np.full(n, np.nan)
    for i, s, di in items:
        if s.size == 0 or np.isnan(al[i]):
            continue
        a = np.zeros(di)
        r = s / s[0]  # (normalized by σ_1 first: ‖σ‖ over- or underflows at 1e±300 scale)
        a[: s.size] = r / np.linalg.norm(r)
        b = _root_p(di, al[i])
        bc = float(np.sum(a * b))
        e = np.sqrt(max(0.0, 2.0 * (1.0 - bc)))
        if 1.0 - bc < 1e-2:
            e = float(np.sqrt(np.sum((a - b) ** 2)))
        e = min(e, np.sqrt(2.0))
        out[i] = e if normalized else np.sqrt(di) * e
    return out.reshape(shape)[()]


def tail_residual(spectra, alpha, d=None):
    """Reference for :func:`gsa_fast.tail_residual`: max_j |T_A(j) − T_α(j)|, suffix sums."""
    fn = "tail_residual"
    shape, n, items = _spectra(spectra, fn, d)
    al = _alpha_batch(alpha, fn, shape, n)
    out = np.full(n, np.nan)
    for i, s, di in items:
        if s.size == 0 or np.isnan(al[i]):
            continue
        e = np.zeros(di)
        e[: s.size] = (s / s[0]) ** 2
        w = np.arange(1, di + 1, dtype=np.float64) ** (-2.0 * al[i])
        # T(j) for j = 0..d: suffix sums, T(0) = 1, T(d) = 0
        TA = np.append(np.cumsum(e[::-1])[::-1], 0.0) / np.sum(e)
        Ta = np.append(np.cumsum(w[::-1])[::-1], 0.0) / np.sum(w)
        out[i] = float(np.max(np.abs(TA - Ta)))
    return out.reshape(shape)[()]
