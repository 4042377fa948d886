"""Exponent charts (fit_exponent top/bures/lsq) and residuals (radial_residual, chart_error,
tail_residual): differential and metamorphic properties (hypothesis) on adversarial spectra —
ties, zeros, a single nonzero, one-ulp neighbours, nearly rank one, spreads up to the whole
float64 range, subnormals, float32 storage, any order — with explicit widths d at the switch of
the top chart's sums (direct for d ≤ 257, a head plus Euler–Maclaurin beyond) and intervals J
from narrow to huge.

Tolerances (u = 2^-53; q = q_+, d the width). R = Σ_{k≥2} σ_k²/σ_1² carries δ_R = (q + 8)u
relative on either side (division by σ_1, squares, compensated vs plain sums); g_d(α) (the
reference sums d terms plainly) (d + 8)u.
- top: φ(α) = log g_d(α) − log R has |φ'| = 2E[log k] ≥ 2 log 2, so Δα ≤ (δ_R + (d + 8)u)/(2 log 2)
  plus both solvers' stopping tolerances (kernel 1e-14 absolute, reference bisection
  1e-15·max(1, α)): 2e-14·max(1, α).
- lsq: y_k = log σ_k carries ≤ 2u·(|log σ_k| + 1) on each side (the kernel logs σ_k·2^e, the
  reference σ_k; |log| ≤ 745 either way); the slope −Σ(x − x̄)y/Σ(x − x̄)² then moves by
  ≤ max Δy·Σ|x − x̄|/Sxx, and the sums add ≤ 2m·u·Σ|(x − x̄)(y − ȳ)|/Sxx.
- bures: two local maxima of f can be nearly equal (a legitimate disagreement in α), so the
  property is on the objective: f(α_kernel) ≥ f(α_reference)·(1 − 1e-12) and vice versa, with f
  from its definition here (§6.2b).
- radial_residual: ½|Δlog1p(g)| + ½|Δlog1p(R)| ≤ (q + d + 16)u/2 + u|ε|.
- chart_error: the reference uses 2(1 − BC) where 1 − BC ≥ 1e-2 (Ē ≥ 0.14, error ≤ (d + 4)u/Ē),
  the direct sum below (each difference ≤ 4u of its terms): 16(q + d + 8)u.
- tail_residual: suffix sums of q and d nonnegative terms over their totals: 4(q + d + 8)u.
Metamorphic (exact): scaling by 2^k while every nonzero stays normal (each route divides by σ_1 or
shifts by a power of two), any permutation for the routes that sort (bures, lsq, chart_error,
tail_residual), float32 storage = its float64 conversion, strided view = copy.
"""
from __future__ import annotations

import math

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import gsa_fast as g
from gsa_fast import reference as R

U = 2.0**-53
PROPS = dict(deadline=None, derandomize=True, database=None,
             suppress_health_check=[HealthCheck.too_slow])

KINDS = ["powerlaw", "noisy", "ties", "zeros", "single", "ulp", "rank1", "wide", "subnormal", "equal"]
INTERVALS = [(0.0, 5.0), (0.0, 50.0), (0.5, 3.0), (0.0, 400.0), (1.0, 1.0 + 2**-20), (0.0, 1e300)]


def _values(kind, n, seed):
    r = np.random.default_rng(seed)
    k = np.arange(1, n + 1.0)
    a = r.uniform(0, 3)
    x = k ** -a
    if kind == "noisy":
        x = x * np.exp(r.uniform(-1, 1, n))
    elif kind == "ties":
        x = np.round(x * 4) / 4 + 0.25
    elif kind == "wide":
        x = np.exp2(r.uniform(-1074, 1023, n))
    elif kind == "subnormal":
        x = r.integers(1, 2**30, n) * 2.0**-1074
    elif kind == "equal":
        x = np.ones(n)
    elif kind == "rank1":
        x = np.full(n, 1e-12)
        x[0] = 1.0
    if kind == "ulp" and n > 1:
        x[1::2] = np.nextafter(x[0:n - 1:2], np.inf)
    if kind in ("zeros", "single"):
        x[r.random(n) < (0.9 if kind == "single" else 0.3)] = 0.0
        x[0] = 1.0
    r.shuffle(x)
    return x


@st.composite
def spectra(draw, max_n=40):
    n = draw(st.one_of(st.sampled_from([1, 2, 3, 4, 8]), st.integers(1, max_n)))
    x = _values(draw(st.sampled_from(KINDS)), n, draw(st.integers(0, 2**32 - 1)))
    k = draw(st.integers(-1000, 1000))
    top = x.max()
    k = min(k, 1022 - math.frexp(top)[1])
    with np.errstate(under="ignore"):
        x = np.ldexp(x, k)
    return x if x.any() else np.ldexp(x + 1.0, 0)


def _width(draw_d, q):
    return max(q, draw_d) if draw_d else q


def _lsq_tol(s, alpha):
    s = np.sort(s[s > 0])[::-1]
    m = s.size
    x = np.log(np.arange(1, m + 1.0))
    y = np.log(s)
    xc = x - x.mean()
    sxx = np.sum(xc * xc)
    dy = 2 * U * (np.max(np.abs(y)) + 1) * 2
    return dy * np.sum(np.abs(xc)) / sxx + 4 * m * U * np.sum(np.abs(xc * (y - y.mean()))) / sxx + 1e-15 * max(1.0, abs(alpha))


def _bures_f(s, d, alpha):
    s = np.sort(s[s > 0])[::-1]
    s = s / s[0]
    k = np.arange(1, s.size + 1.0)
    kk = np.arange(1, d + 1.0)
    return float(np.sum(s * k ** -alpha) / np.sqrt(np.sum(kk ** (-2.0 * alpha))))


def _exact_scalings(x, rng):
    """x·2^k for a k keeping every nonzero normal (or None)."""
    nz = x[x > 0]
    lo, hi = math.frexp(nz.min())[1], math.frexp(nz.max())[1]
    k = int(rng.integers(-600, 600))
    if lo > -1021 and lo + k > -1021 and hi + k < 1023:
        return np.ldexp(x, k)
    return None


@settings(max_examples=500, **PROPS)
@given(spectra(), st.sampled_from([0, 0, 2, 256, 257, 258, 259, 300]), st.sampled_from(INTERVALS),
       st.integers(0, 2**32 - 1))
def test_top_and_lsq_against_reference(x, dd, J, seed):
    q = int(np.count_nonzero(x))
    d = _width(dd, q)
    rng = np.random.default_rng(seed)
    top = g.fit_exponent(x, "top", interval=J, d=d)
    top_r = R.fit_exponent(x, "top", interval=J, d=d)
    if d < 2:
        assert np.isnan(top) and np.isnan(top_r)
    else:
        tol = ((q + 8) * U + (d + 8) * U) / (2 * math.log(2)) + 2e-14 * max(1.0, top_r)
        assert J[0] <= top <= J[1]
        assert abs(top - top_r) <= tol, (x.tolist(), d, J, top, top_r)
    lsq = g.fit_exponent(x, "lsq", interval=J, d=d)
    lsq_r = R.fit_exponent(x, "lsq", interval=J, d=d)
    if q < 2:
        assert np.isnan(lsq) and np.isnan(lsq_r)
    else:
        assert J[0] <= lsq <= J[1]
        assert abs(lsq - lsq_r) <= _lsq_tol(x, lsq_r), (x.tolist(), J, lsq, lsq_r)
    # exact relations
    y = _exact_scalings(x, rng)
    if y is not None:
        assert np.array_equal(g.fit_exponent(y, "top", interval=J, d=d), top, equal_nan=True)
        assert np.array_equal(g.fit_exponent(y, "lsq", interval=J, d=d), lsq, equal_nan=True)
    p = rng.permutation(x)
    assert np.array_equal(g.fit_exponent(p, "lsq", interval=J, d=d), lsq, equal_nan=True)
    v = np.repeat(x, 2)[::2]
    assert np.array_equal(g.fit_exponent(v, "top", interval=J, d=d), top, equal_nan=True)


@settings(max_examples=500, **PROPS)
@given(spectra(), st.sampled_from([0, 0, 2, 257, 258, 300]), st.floats(0.0, 6.0), st.integers(0, 2**32 - 1))
def test_residuals_against_reference(x, dd, alpha, seed):
    q = int(np.count_nonzero(x))
    d = _width(dd, q)
    rr, rr_r = g.radial_residual(x, alpha, d=d), R.radial_residual(x, alpha, d=d)
    assert abs(rr - rr_r) <= (q + d + 16) * U / 2 + U * abs(rr_r) + 1e-300, (x.tolist(), d, alpha, rr, rr_r)
    ce, ce_r = g.chart_error(x, alpha, d=d), R.chart_error(x, alpha, d=d)
    assert 0.0 <= ce <= math.sqrt(2.0)
    assert abs(ce - ce_r) <= 16 * (q + d + 8) * U, (x.tolist(), d, alpha, ce, ce_r)
    tr, tr_r = g.tail_residual(x, alpha, d=d), R.tail_residual(x, alpha, d=d)
    assert 0.0 <= tr <= 1.0
    assert abs(tr - tr_r) <= 4 * (q + d + 8) * U, (x.tolist(), d, alpha, tr, tr_r)
    rng = np.random.default_rng(seed)
    p = rng.permutation(x)
    assert g.chart_error(p, alpha, d=d) == ce and g.tail_residual(p, alpha, d=d) == tr
    y = _exact_scalings(x, rng)
    if y is not None:
        assert g.radial_residual(y, alpha, d=d) == rr
        assert g.chart_error(y, alpha, d=d) == ce and g.tail_residual(y, alpha, d=d) == tr
    with np.errstate(over="ignore", under="ignore"):
        x32 = x.astype(np.float32)
    if np.isfinite(x32).all() and np.count_nonzero(x32) == q:
        x64 = x32.astype(np.float64)
        assert g.chart_error(x32, alpha, d=d) == g.chart_error(x64, alpha, d=d)
        assert g.tail_residual(x32, alpha, d=d) == g.tail_residual(x64, alpha, d=d)
        assert g.radial_residual(x32, alpha, d=d) == g.radial_residual(x64, alpha, d=d)


@settings(max_examples=100, **PROPS)
@given(spectra(max_n=20), st.sampled_from([0, 0, 2, 40]), st.sampled_from(INTERVALS[:3] + INTERVALS[4:]),
       st.integers(0, 2**32 - 1))
def test_bures_chart_objective_against_reference(x, dd, J, seed):
    q = int(np.count_nonzero(x))
    d = _width(dd, q)
    a = g.fit_exponent(x, "bures", interval=J, d=d)
    ar = R.fit_exponent(x, "bures", interval=J, d=d)
    if d < 2:
        assert np.isnan(a) and np.isnan(ar)
        return
    assert J[0] <= a <= J[1]
    fa, fr = _bures_f(x, d, a), _bures_f(x, d, ar)
    assert fa >= fr * (1 - 1e-12) and fr >= fa * (1 - 1e-12), (x.tolist(), d, J, a, ar, fa, fr)
    rng = np.random.default_rng(seed)
    assert g.fit_exponent(rng.permutation(x), "bures", interval=J, d=d) == a
    y = _exact_scalings(x, rng)
    if y is not None:
        assert g.fit_exponent(y, "bures", interval=J, d=d) == a
