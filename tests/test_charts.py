"""Exponent charts and residuals (spec §6, §5.3, §8.3): oracles (§11.3), fast vs reference,
theorem bounds and invariances (hypothesis), and the bad-input table."""
from __future__ import annotations

import types

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import gsa_fast as g
from gsa_fast._ragged import RaggedSpectra  # not re-exported by gsa_fast yet
from gsa_fast import reference as ref
from _helpers import assert_rel

IMPLS = pytest.mark.parametrize("impl", [g, ref], ids=["fast", "reference"])
CHARTS = ("top", "bures", "lsq")

# spec §11 default: 1e-12 in α for root-refined charts (measured here: ≤ 1e-15 for the fast
# kernel vs the §11.3 oracles, ≤ 8e-16 for the bisection reference).
ATOL_ALPHA = 1e-12
RTOL = 1e-13  # closed forms / direct sums (spec §11 default)

WORKED = np.array([3, 2, 2, 1, 0.5, 0.1, 0.05])  # spec §11.3 worked spectrum, d = 7


def m_d(d, alpha):
    """m_d(α) = ½ log d − ½ log H_{d,2α} (§4.2), straight from the definition."""
    k = np.arange(1, d + 1, dtype=np.float64)
    return 0.5 * np.log(d) - 0.5 * np.log(np.sum(k ** (-2.0 * alpha)))


def power_law_noise(rng, n, w, alpha_range=(0.2, 2.0), noise=0.3):
    """Rows σ_k = c k^{-α} e^{noise·N(0,1)}: power law plus multiplicative noise (unsorted
    afterwards, in general)."""
    a = rng.uniform(*alpha_range, size=(n, 1))
    k = np.arange(1, w + 1, dtype=np.float64)
    c = np.exp(rng.uniform(-3, 3, size=(n, 1)))
    return c * k ** (-a) * np.exp(noise * rng.standard_normal((n, w)))


# ----------------------------------------------------------------------------- oracles §11.3

@IMPLS
def test_worked_spectrum(impl):
    s = WORKED
    # m(P) = ε(P, 0) because m_d(0) = 0 (§4.2); spec value 0.6191424746573575
    assert_rel(impl.radial_residual(s, 0.0), 0.6191424746573575, RTOL, what="m(P)")
    top = impl.fit_exponent(s, "top")
    lsq = impl.fit_exponent(s, "lsq")
    bw = impl.fit_exponent(s, "bures", interval=(0, 5))
    assert_rel(top, 0.6829352203865927, 0, ATOL_ALPHA, what="Φ_top")
    assert_rel(lsq, 1.975288742279839, 0, ATOL_ALPHA, what="LS slope")
    assert_rel(bw, 0.8993916338242502, 0, ATOL_ALPHA, what="Φ_BW")
    # chart errors: 1e-13 relative (measured ≤ 3e-15; the reference uses the BC form)
    assert_rel(impl.chart_error(s, top, normalized=False), 0.830634991311181, RTOL, what="E_BW top")
    assert_rel(impl.chart_error(s, lsq, normalized=False), 1.4018257942261731, RTOL, what="E_BW lsq")
    assert_rel(impl.chart_error(s, bw, normalized=False), 0.7373736902465963, RTOL, what="E_BW bw")
    assert_rel(impl.chart_error(s, bw), 0.2787010582449239, RTOL, what="Ē bw")
    # the top chart is interior, so its radial residual vanishes exactly ([S] §6.2a)
    assert abs(impl.radial_residual(s, top)) <= 1e-15
    assert isinstance(top, np.float64)


@IMPLS
@pytest.mark.parametrize("chart", ["top", "bures"])
@pytest.mark.parametrize("alpha", [0.1, 0.7, 1.3])
def test_round_trip(impl, chart, alpha):
    k = np.arange(1, 65, dtype=np.float64)
    a = impl.fit_exponent(k ** -alpha, chart)
    assert abs(a - alpha) <= 1e-14, (a, alpha)  # spec §11.3: 1e-14


@IMPLS
@pytest.mark.parametrize("alpha,intercept", [(0.3, 0.86776690786329), (1.0, 1.83532625761455),
                                             (2.2, 2.05064610866483)])
def test_lsq_on_orbit(impl, alpha, intercept):
    # The spec's intercepts are m_64(α): d = 64 (m_64(1) = 1.835326257614551 in §11.2 too).
    d = 64
    k = np.arange(1, d + 1, dtype=np.float64)
    s = 5.0 * k ** -alpha
    fit = impl.fit_exponent(s, "lsq", full_output=True)
    other = impl.fit_exponent(s, "top", full_output=True)
    assert np.isnan(other.intercept) and abs(other.alpha - alpha) <= 1e-14
    assert abs(fit.alpha - alpha) <= 1e-14  # exact orbit: slope α to rounding
    assert_rel(fit.intercept, intercept, 1e-13, what="intercept")  # spec gives 14 digits
    assert_rel(fit.intercept, m_d(d, alpha), 1e-14, what="intercept = m_d(α)")
    assert abs(fit.residual) <= 1e-15 and abs(fit.error) <= 1e-15
    sn = s * np.sqrt(d) / np.linalg.norm(s)  # normalized σ: log σ_1 = b̂
    assert_rel(np.log(sn[0]), fit.intercept, 1e-14)


def test_tail_residual_explicit_spectrum():
    # §11.6: σ = (3,2,2,1,0.5,0.1,0), tails T_A given to 10 digits; against the α = 0 orbit of
    # width q_+ = 6, T_0(j) = (6 − j)/6, so τ = max_j |T_A(j) − (6 − j)/6|.
    TA = np.array([1, 0.5071193866, 0.2880613363, 0.0690032859, 0.0142387733, 0.000547645126, 0])
    want = np.max(np.abs(TA - (6 - np.arange(7)) / 6))
    s = np.array([3, 2, 2, 1, 0.5, 0.1, 0])
    for impl in (g, ref):
        assert_rel(impl.tail_residual(s, 0.0), want, 0, 1e-10, what="τ")


# ----------------------------------------------------------------------------- edge cases

@IMPLS
def test_clamping(impl):
    k = np.arange(1, 33, dtype=np.float64)
    flat = k ** -0.2
    # R ≥ g_d(α_min) → α_min, for top; the other charts clamp too
    for chart in CHARTS:
        assert impl.fit_exponent(flat, chart, interval=(0.5, 3.0)) == 0.5
        assert impl.fit_exponent(k ** -4.0, chart, interval=(0.5, 3.0)) == 3.0
    # rank 1 (R = 0) → α_max for top and bures; the LS chart has one point: NaN
    rank1 = np.zeros(10)
    rank1[3] = 2.0
    assert impl.fit_exponent(rank1, "top", d=10, interval=(0, 7)) == 7.0
    assert impl.fit_exponent(rank1, "bures", d=10, interval=(0, 7)) == 7.0
    assert np.isnan(impl.fit_exponent(rank1, "lsq", d=10))


@IMPLS
@pytest.mark.parametrize("interval", [(0, 1e3), (0, 1e6), (0.5, 1e6)])
def test_huge_interval(impl, interval):
    # far out on J every k ≥ 2 term underflows (F = 0, g_d = 0): the grid's first cell holds
    # the maximum and the solvers must not stop at the underflowed zero
    assert abs(impl.fit_exponent(WORKED, "bures", interval=interval) - 0.8993916338242502) <= 1e-14
    assert abs(impl.fit_exponent(WORKED, "top", interval=interval) - 0.6829352203865927) <= 1e-14


@IMPLS
def test_unidentifiable(impl):
    for chart in CHARTS:
        assert np.isnan(impl.fit_exponent([2.5], chart))  # d = 1
        assert np.isnan(impl.fit_exponent([2.5, 0, 0], chart))  # q_+ = 1 → d = 1
        assert np.isnan(impl.fit_exponent([0.0, 0.0], chart))  # all zero
        assert np.isnan(impl.fit_exponent(np.zeros(0), chart))  # empty spectrum
    # d = 1: m = m_d = 0, the orbit is the point P = (1)
    assert impl.radial_residual([2.5], 1.3) == 0
    assert impl.chart_error([2.5], 1.3) == 0
    assert impl.tail_residual([2.5], 1.3) == 0
    for f in (impl.radial_residual, impl.chart_error, impl.tail_residual):
        assert np.isnan(f([0.0, 0.0], 1.0))
        assert np.isnan(f([1.0, 0.5], np.nan))  # NaN α (an unidentifiable chart) → NaN


@IMPLS
def test_window_and_zero_inside(impl):
    k = np.arange(1, 21, dtype=np.float64)
    s = k ** -1.1 * (1 + 0.3 * np.sin(k))
    x, y = np.log(k[4:15]), np.log(np.sort(s)[::-1][4:15])
    want = -np.polyfit(x, y, 1)[0]
    assert abs(impl.fit_exponent(s, "lsq", window=(5, 15)) - want) <= 1e-12  # polyfit ~1e-14
    s2 = s.copy()
    s2[-3:] = 0  # q_+ = 17: a window up to 18 contains a zero → NaN
    assert np.isnan(impl.fit_exponent(s2, "lsq", window=(5, 18)))
    assert not np.isnan(impl.fit_exponent(s2, "lsq", window=(5, 17)))


def test_empty_batch_and_shapes():
    for f in (lambda x: g.fit_exponent(x, "bures"), lambda x: g.tail_residual(x, 1.0)):
        out = f(np.zeros((0, 5)))
        assert out.shape == (0,) and out.dtype == np.float64
        out = f(np.ones((2, 3, 4)))
        assert out.shape == (2, 3)
    r = g.fit_exponent(RaggedSpectra.from_list([[1.0, 0.5], [1.0, 0.3, 0.1]]))
    assert r.shape == (2,)
    for impl in (g, ref):  # empty ragged batches, and batches of empty spectra
        assert impl.fit_exponent(RaggedSpectra(np.zeros(0), np.zeros(1, np.int64)), "lsq").shape == (0,)
        assert np.isnan(impl.chart_error(RaggedSpectra(np.zeros(0), np.zeros(3, np.int64)), 1.0)).all()


# ----------------------------------------------------------------------------- fast vs reference

def _compare(spectra, rtol_a=ATOL_ALPHA, d=None, **kw):
    for chart in CHARTS:
        a = g.fit_exponent(spectra, chart, d=d, **kw)
        assert_rel(a, ref.fit_exponent(spectra, chart, d=d, **kw), 0, rtol_a, what=chart)
    a = np.nan_to_num(g.fit_exponent(spectra, "top", d=d, **kw), nan=1.0)
    # residuals: 1e-12 absolute (sums of ≤ 1e3 terms in a different order, ~1e-15 measured)
    for name in ("radial_residual", "chart_error", "tail_residual"):
        assert_rel(getattr(g, name)(spectra, a, d=d), getattr(ref, name)(spectra, a, d=d), 0, 1e-12,
                   what=name)
    assert_rel(g.chart_error(spectra, a, normalized=False, d=d),
               ref.chart_error(spectra, a, normalized=False, d=d), 0, 1e-11, what="E_BW")


def test_fast_vs_reference_dense(rng):
    x = power_law_noise(rng, 24, 60)
    _compare(x)
    _compare(x.astype(np.float32))  # the reference reads the same float32 values exactly
    _compare(x[:, :37])  # row stride ≠ width (non-contiguous view)
    _compare(x[::3])
    _compare(x.reshape(4, 6, 60))
    _compare(x, interval=(0.4, 1.5))


def test_fast_vs_reference_unsorted_ragged_padded(rng):
    x = power_law_noise(rng, 12, 40)
    perm = rng.permuted(x, axis=1)
    _compare(perm)
    assert_rel(g.fit_exponent(perm, "bures"), g.fit_exponent(np.ascontiguousarray(np.sort(x, axis=1)[:, ::-1]), "bures"),
               0, 1e-14)
    parts = [np.abs(power_law_noise(rng, 1, int(w))[0]) for w in rng.integers(1, 80, 15)]
    parts[3][5:9] = 0.0
    rag = RaggedSpectra.from_list(parts)
    _compare(rag)
    _compare(x, d=np.arange(40, 52))  # explicit d > q_+: zero padding up to d
    assert_rel(g.fit_exponent(x, "lsq", window=(3, 30)), ref.fit_exponent(x, "lsq", window=(3, 30)),
               0, 1e-13, what="lsq window")  # closed form, ~1e-15 measured


def test_fast_vs_reference_large_d(rng):
    d = 20000
    k = np.arange(1, d + 1, dtype=np.float64)
    s = k ** -0.8 * np.exp(0.05 * rng.standard_normal(d))
    _compare(s[None, :])
    assert abs(g.fit_exponent(k ** -0.55, "top") - 0.55) <= 1e-14


# ----------------------------------------------------------------------------- properties

spectra_st = st.integers(2, 60).flatmap(lambda w: st.tuples(
    st.floats(0.0, 3.0), st.floats(0.0, 1.0), st.integers(0, 2**32 - 1), st.just(w)))


def _make(params):
    alpha, noise, seed, w = params
    r = np.random.default_rng(seed)
    k = np.arange(1, w + 1, dtype=np.float64)
    return k ** -alpha * np.exp(noise * r.uniform(-1, 1, w)), alpha, noise


@settings(max_examples=60, deadline=None)
@given(spectra_st, st.floats(0.0, 4.0))
def test_chart_error_range_and_bures_optimality(params, alpha):
    s, _, _ = _make(params)
    e = g.chart_error(s, alpha)
    assert 0.0 <= e <= np.sqrt(2.0)
    # Φ_BW minimizes Ē over J (the grid of a brute-force search, and the other two charts)
    bw = g.fit_exponent(s, "bures", interval=(0, 4))
    ebw = g.chart_error(s, bw)
    grid = np.linspace(0, 4, 101)
    assert ebw <= np.min(g.chart_error(np.broadcast_to(s, (101, s.size)), grid)) + 1e-12
    for chart in ("top", "lsq"):
        assert ebw <= g.chart_error(s, g.fit_exponent(s, chart, interval=(0, 4))) + 1e-12


@settings(max_examples=60, deadline=None)
@given(spectra_st, st.sampled_from([1e-120, 0.37, 5.0, 1e150]), st.integers(1, 5))
def test_scale_and_zero_padding_invariance(params, c, nz):
    s, _, _ = _make(params)
    a = g.fit_exponent(s, "top")
    padded = np.concatenate([s, np.zeros(nz)])
    for chart in CHARTS:
        base = g.fit_exponent(s, chart)
        assert abs(g.fit_exponent(c * s, chart) - base) <= 1e-13  # scale-free charts
        assert abs(g.fit_exponent(padded, chart) - base) <= 1e-15  # zeros dropped: d = q_+
    for name in ("radial_residual", "chart_error", "tail_residual"):
        f = getattr(g, name)
        assert abs(f(c * s, a) - f(s, a)) <= 1e-13
        assert f(padded, a) == f(s, a)


@settings(max_examples=60, deadline=None)
@given(spectra_st, st.floats(0.0, 3.0))
def test_lemma_4_11(params, alpha):
    """|log σ_k − (m_d(α) − α log k)| ≤ η on a window containing 1, ‖σ‖² = d ⇒ |ε(P,α)| ≤ η."""
    s, _, _ = _make(params)
    d = s.size
    s = np.sort(s)[::-1]
    s = s * np.sqrt(d) / np.linalg.norm(s)
    k = np.arange(1, d + 1)
    eta = np.max(np.abs(np.log(s) - (m_d(d, alpha) - alpha * np.log(k))))
    assert abs(g.radial_residual(s, alpha)) <= eta + 1e-14


@settings(max_examples=60, deadline=None)
@given(spectra_st)
def test_lemma_4_15_eta_power_law(params):
    """σ_k = c k^{-α} e^{δ_k}, |δ_k| ≤ η ⇒ |ε| ≤ 2η (40) and Ē ≤ e^{2η} − 1 (42)."""
    s, alpha, eta = _make(params)
    assert abs(g.radial_residual(s, alpha)) <= 2 * eta + 1e-14
    assert g.chart_error(s, alpha) <= np.expm1(2 * eta) + 1e-14
    assert g.tail_residual(s, alpha) <= 1.0


@settings(max_examples=40, deadline=None)
@given(st.integers(2, 200), st.floats(0.0, 4.0))
def test_exact_orbit_has_zero_residuals(d, alpha):
    k = np.arange(1, d + 1, dtype=np.float64)
    s = k ** -alpha
    assert abs(g.radial_residual(s, alpha)) <= 1e-15
    assert g.chart_error(s, alpha) <= 1e-15  # direct sum: no √u floor of the BC form
    assert g.tail_residual(s, alpha) <= 1e-15
    assert abs(g.fit_exponent(s, "top", interval=(0, 5)) - alpha) <= 1e-14
    # LS: y_k = log(k^-α) carries ~α·log d·u absolute rounding → slope error ∝ α
    assert abs(g.fit_exponent(s, "lsq") - alpha) <= 1e-14 * max(1.0, alpha)


def test_chart_error_tiny_is_accurate():
    # Ē for a perturbation of size t is ~t·‖·‖: the BC form would give ~1e-8 noise here.
    d = 50
    k = np.arange(1, d + 1, dtype=np.float64)
    s = k ** -1.0
    t = 1e-10
    s2 = s * (1 + t * np.cos(k))
    e = g.chart_error(s2, 1.0)
    a = s2 / np.linalg.norm(s2)
    b = s / np.linalg.norm(s)
    want = np.sqrt(np.sum((a - b) ** 2))
    assert_rel(e, want, 1e-5)  # want itself is accurate to ~u/t ≈ 1e-6 relative


# ----------------------------------------------------------------------------- bad input

BAD = [
    (lambda: g.fit_exponent(WORKED, "foo"), ValueError, "chart must be one of 'top', 'bures', 'lsq'; got 'foo'"),
    (lambda: g.fit_exponent(WORKED, 1), TypeError, "chart must be one of"),
    (lambda: g.fit_exponent(WORKED, interval=(2, 1)), ValueError, "interval must be (alpha_min, alpha_max) with 0 <= alpha_min < alpha_max < inf; got (2.0, 1.0)"),
    (lambda: g.fit_exponent(WORKED, interval=(-1, 1)), ValueError, "got (-1.0, 1.0)"),
    (lambda: g.fit_exponent(WORKED, interval=(0, np.inf)), ValueError, "got (0.0, inf)"),
    (lambda: g.fit_exponent(WORKED, interval=(0, np.nan)), ValueError, "interval must be"),
    (lambda: g.fit_exponent(WORKED, interval=5), TypeError, "interval must be a pair"),
    (lambda: g.fit_exponent(WORKED, interval=("a", 1)), TypeError, "interval[0] must be a real number"),
    (lambda: g.fit_exponent(WORKED, "lsq", window=(0, 3)), ValueError, "window must be 1-based ranks (k0, k1) with 1 <= k0 < k1; got (0, 3)"),
    (lambda: g.fit_exponent(WORKED, "lsq", window=(3, 3)), ValueError, "got (3, 3)"),
    (lambda: g.fit_exponent(WORKED, "lsq", window=(4, 2)), ValueError, "got (4, 2)"),
    (lambda: g.fit_exponent(WORKED, "lsq", window=(1, 8)), ValueError, "window must be ranks with k1 <= the spectrum width 7; got (1, 8)"),
    (lambda: g.fit_exponent(WORKED, "lsq", window=(1.5, 3)), TypeError, "window[0] must be an int"),
    (lambda: g.fit_exponent(WORKED, "lsq", window=3), TypeError, "window must be a pair"),
    (lambda: g.fit_exponent(WORKED, "top", window=(1, 3)), ValueError, "window must be None unless chart='lsq'"),
    (lambda: g.fit_exponent(WORKED, full_output=1), TypeError, "full_output must be a bool"),
    (lambda: g.fit_exponent(np.array([[1.0, 0.5, 0.2], [1.0, 0.5, np.nan]])), ValueError,
     "spectra must be finite and >= 0; got nan in spectrum (1,) at position 2"),
    (lambda: g.fit_exponent(np.array([1.0, np.inf])), ValueError, "got inf in spectrum () at position 1"),
    (lambda: g.tail_residual(RaggedSpectra.from_list([[1.0], [1.0, -0.5]]), 1.0), ValueError,
     "spectra must be finite and >= 0; got -0.5 in spectrum (1,) at position 1"),
    (lambda: g.fit_exponent(WORKED.astype(complex)), TypeError, "spectra must be a real floating array"),
    (lambda: g.fit_exponent("abc"), TypeError, "spectra must be an array of spectra"),
    (lambda: g.fit_exponent(np.array([True, False])), TypeError, "spectra must be a real floating array"),
    (lambda: g.fit_exponent(np.float64(2.0)), ValueError, "spectra must be at least 1-D"),
    (lambda: g.fit_exponent(WORKED, d=0), ValueError, "d must be integers >= 1; got 0"),
    (lambda: g.fit_exponent(WORKED, d=5), ValueError, "d must be >= the number of nonzero singular values; got d=5 < 7 in spectrum ()"),
    (lambda: g.fit_exponent(WORKED, d=7.5), ValueError, "d must be integers >= 1; got non-integer 7.5"),
    (lambda: g.fit_exponent(WORKED, d="7"), TypeError, "d must be an integer"),
    (lambda: g.fit_exponent(np.ones((2, 3)), d=[3, 3, 3]), ValueError, "d must be an int or an array broadcastable to (2,)"),
    (lambda: g.radial_residual(WORKED, -0.5), ValueError, "alpha must be >= 0 (the orbit leaves the Weyl chamber for alpha < 0); got -0.5"),
    (lambda: g.radial_residual(WORKED, np.inf), ValueError, "alpha must be finite; got Inf"),
    (lambda: g.chart_error(WORKED, "1"), TypeError, "alpha must be a real number or array of exponents"),
    (lambda: g.chart_error(WORKED, None), TypeError, "alpha must be a real number"),
    (lambda: g.tail_residual(np.ones((2, 3)), [1.0, 2.0, 3.0]), ValueError, "alpha must be a scalar or an array broadcastable to (2,)"),
    (lambda: g.chart_error(WORKED, 1.0, normalized="yes"), TypeError, "normalized must be a bool"),
]


@pytest.mark.parametrize("call,exc,msg", BAD, ids=[f"bad{i}" for i in range(len(BAD))])
def test_bad_input(call, exc, msg):
    with pytest.raises(exc) as info:
        call()
    assert msg in str(info.value), str(info.value)
    assert str(info.value).split("(")[0] in {"fit_exponent", "radial_residual", "chart_error",
                                              "tail_residual"}


@pytest.mark.parametrize("call,exc,msg", BAD[:20], ids=[f"ref{i}" for i in range(20)])
def test_bad_input_reference(call, exc, msg):
    # the reference shares the argument checks and reports bad values the same way
    f = types.FunctionType(call.__code__, {"g": ref, "np": np, "WORKED": WORKED,
                                           "RaggedSpectra": RaggedSpectra})
    with pytest.raises(exc) as info:
        f()
    assert msg in str(info.value), str(info.value)


@pytest.mark.parametrize("log_eps", [-3.3, -3.2, -3.15, -3.0, -2.7])
def test_bures_two_local_maxima(log_eps):
    # σ = (1, ε, …, ε), d = 401: f has two local maxima (near 0.4 and near 4.1) and the global
    # one switches between them near log ε ≈ −3.17 — the grid + refinement must pick it.
    s = np.concatenate([[1.0], np.full(400, np.exp(log_eps))])
    a = g.fit_exponent(s, "bures")
    assert abs(a - ref.fit_exponent(s, "bures")) <= ATOL_ALPHA
    fine = np.linspace(0, 5, 4001)
    e = g.chart_error(np.broadcast_to(s, (fine.size, s.size)), fine)
    assert abs(a - fine[np.argmin(e)]) <= 2 * (fine[1] - fine[0])  # brute force, to its grid
    assert g.chart_error(s, a) <= e.min() + 1e-15


def test_huge_width_against_harmonic_sums():
    # d = 1e9 (zero padding): ε = ½[log H_{d,2α} − log1p(R)] with H from gsa_fast.harmonic (§3)
    s = np.array([2.0, 1.0, 0.5])
    d, alpha = 10**9, 0.8
    R = (1.0 + 0.25) / 4.0
    want = 0.5 * (np.log(g.harmonic(d, 2 * alpha)) - np.log1p(R))
    assert_rel(g.radial_residual(s, alpha, d=d), want, 1e-14)
    # the top chart inverts it: ε(P, Φ_top) = 0 and Φ_top solves g_d(α) = R
    a = g.fit_exponent(s, "top", d=d)
    assert_rel(g.harmonic(d, 2 * a) - 1.0, R, 1e-13)
    # Ē, τ stay in range; Φ_BW minimizes Ē over a grid
    bw = g.fit_exponent(s, "bures", d=d)
    grid = np.linspace(0, 5, 201)
    assert g.chart_error(s, bw, d=d) <= g.chart_error(np.broadcast_to(s, (201, 3)), grid, d=d).min() + 1e-14
    assert 0 <= g.tail_residual(s, bw, d=d) <= 1


# ---- every device (CPU numpy; CUDA cupy in, cupy out where a device exists) --------------------

def _device_inputs(rng):
    """Descending rows (read in place on the device), unsorted rows (the sorted retry), float32,
    a row-strided view, a 3-D batch, and a ragged batch with an empty spectrum and zeros inside."""
    x = power_law_noise(rng, 24, 60)
    yield np.ascontiguousarray(-np.sort(-x, axis=1))
    yield x
    yield x.astype(np.float32)
    yield x[::3, :37]
    yield x.reshape(4, 6, 60)
    parts = [np.abs(power_law_noise(rng, 1, int(w))[0]) for w in rng.integers(1, 80, 9)]
    parts[3][5:9] = 0.0
    parts[5] = parts[5][:0]
    yield RaggedSpectra.from_list(parts)


def test_charts_on_device_match_reference(device, rng):
    # Tolerances as _compare: 1e-12 in α (root-refined charts; the LS closed form) and 1e-12
    # absolute in ε, Ē, τ (1e-11 in E_BW = √d·Ē). The device calls the same float64 functions
    # of math/charts.hpp; it sums R per thread and then over the block and reads log k from its
    # own table (a few ulp from the CPU's), far inside these bounds.
    for v in _device_inputs(rng):
        if isinstance(v, RaggedSpectra):
            vd, shape = RaggedSpectra(device.asarray(v.values), v.offsets), (len(v),)
        else:
            vd, shape = device.asarray(v), v.shape[:-1]
        for chart in CHARTS:
            a = g.fit_exponent(vd, chart)
            assert device.is_native(a) and a.shape == shape and a.dtype == np.float64
            want = ref.fit_exponent(v, chart)
            assert_rel(device.asnumpy(a)[~np.isnan(want)], want[~np.isnan(want)], 0, ATOL_ALPHA,
                       what=chart)
            assert (np.isnan(device.asnumpy(a)) == np.isnan(want)).all()
        a = np.nan_to_num(ref.fit_exponent(v, "top"), nan=1.0)
        for name in ("radial_residual", "chart_error", "tail_residual"):
            out = getattr(g, name)(vd, device.asarray(a))
            assert device.is_native(out) and out.shape == shape
            want = getattr(ref, name)(v, a)
            ok = ~np.isnan(want)
            assert_rel(device.asnumpy(out)[ok], want[ok], 0, 1e-12, what=name)
            assert np.isnan(device.asnumpy(out)[~ok]).all()
        want = ref.chart_error(v, a, normalized=False)
        out = device.asnumpy(g.chart_error(vd, device.asarray(a), normalized=False))
        assert_rel(out[~np.isnan(want)], want[~np.isnan(want)], 0, 1e-11, what="E_BW")
    x = next(_device_inputs(rng))
    xd = device.asarray(x)
    # full output, explicit d (a device array), an LS window, a scalar α, one spectrum
    for chart in CHARTS:
        f = g.fit_exponent(xd, chart, d=device.asarray(np.arange(60, 84)), full_output=True)
        w = ref.fit_exponent(x, chart, d=np.arange(60, 84), full_output=True)
        for got, want, tol in zip(f, w, (ATOL_ALPHA, 1e-12, 1e-12, 1e-12)):
            assert device.is_native(got)
            assert_rel(np.nan_to_num(device.asnumpy(got)), np.nan_to_num(want), 0, tol, what=chart)
    assert_rel(device.asnumpy(g.fit_exponent(xd, "lsq", window=(3, 30))),
               ref.fit_exponent(x, "lsq", window=(3, 30)), 0, 1e-13, what="lsq window")
    assert_rel(device.asnumpy(g.tail_residual(xd, 0.7, d=70)), ref.tail_residual(x, 0.7, d=70), 0,
               1e-12)
    one = g.fit_exponent(device.asarray(WORKED), "bures")
    assert np.shape(one) == () and (device.name == "cpu" or device.is_native(one))  # numpy: a scalar
    assert abs(float(device.asnumpy(one)) - ref.fit_exponent(WORKED, "bures")) <= ATOL_ALPHA
    # an exact orbit: zero residuals; NaN α passes through
    k = np.arange(1, 301, dtype=np.float64)
    orbit = device.asarray(k ** -0.9)
    assert abs(float(device.asnumpy(g.fit_exponent(orbit, "top"))) - 0.9) <= 1e-13
    assert abs(float(device.asnumpy(g.chart_error(orbit, 0.9)))) <= 1e-14
    assert np.isnan(device.asnumpy(g.radial_residual(orbit, np.nan)))


BAD_ON_DEVICE = [
    (lambda x: g.fit_exponent(x(np.array([[1.0, 0.5, 0.2], [1.0, 0.5, np.nan]])), "bures"),
     ValueError, "spectra must be finite and >= 0; got nan in spectrum (1,) at position 2"),
    (lambda x: g.fit_exponent(x(np.array([1.0, np.inf]))), ValueError,
     "got inf in spectrum () at position 1"),
    (lambda x: g.tail_residual(RaggedSpectra(x(np.array([1.0, 1.0, -0.5, -1.0])), np.array([0, 1, 4])), 1.0),
     ValueError, "spectra must be finite and >= 0; got -0.5 in spectrum (1,) at position 1"),
    (lambda x: g.fit_exponent(x(WORKED), d=5), ValueError,
     "d must be >= the number of nonzero singular values; got d=5 < 7 in spectrum ()"),
    (lambda x: g.fit_exponent(x(WORKED), d=x(np.array(0))), ValueError, "d must be integers >= 1; got 0"),
    (lambda x: g.fit_exponent(x(np.ones((2, 3))), d=x(np.array([3, 3, 3]))), ValueError,
     "d must be an int or an array broadcastable to (2,)"),
    (lambda x: g.fit_exponent(x(WORKED), "lsq", window=(1, 8)), ValueError,
     "window must be ranks with k1 <= the spectrum width 7; got (1, 8)"),
    (lambda x: g.fit_exponent(x(WORKED), "foo"), ValueError, "chart must be one of"),
    (lambda x: g.radial_residual(x(WORKED), x(np.array([-0.5]))), ValueError,
     "alpha must be >= 0 (the orbit leaves the Weyl chamber for alpha < 0); got -0.5"),
    (lambda x: g.radial_residual(x(WORKED), x(np.array(np.inf))), ValueError, "alpha must be finite; got Inf"),
    (lambda x: g.chart_error(x(WORKED), x(np.array([True]))), TypeError,
     "alpha must be a real number or array of exponents"),
    (lambda x: g.tail_residual(x(np.ones((2, 3))), x(np.array([1.0, 2.0, 3.0]))), ValueError,
     "alpha must be a scalar or an array broadcastable to (2,)"),
    (lambda x: g.chart_error(x(WORKED), 1.0, normalized="yes"), TypeError, "normalized must be a bool"),
    (lambda x: g.fit_exponent(x(WORKED.astype(np.complex128))), TypeError, "spectra must be"),
]


@pytest.mark.parametrize("call,exc,msg", BAD_ON_DEVICE, ids=[f"bad{i}" for i in range(len(BAD_ON_DEVICE))])
def test_charts_on_device_reject_bad_input(device, call, exc, msg):
    # the CPU route's errors and messages, raised before any result is returned
    with pytest.raises(exc) as info:
        call(device.asarray)
    assert msg in str(info.value), str(info.value)


def test_charts_on_device_refuse_mixed_operands(cupy):
    x = cupy.asarray(WORKED)
    with pytest.raises(TypeError, match="all be numpy arrays or all be cupy arrays"):
        g.chart_error(x, np.array([1.0]))
    with pytest.raises(TypeError, match="all be numpy arrays or all be cupy arrays"):
        g.radial_residual(WORKED, cupy.asarray(np.array([1.0])))
    with pytest.raises(TypeError, match="all be numpy arrays or all be cupy arrays"):
        g.fit_exponent(x, d=np.array(7))


def test_lsq_at_the_full_float64_spread():
    """Regression: a spectrum from 1.7e308 down to 5e-324 (spread 2^2098). The lsq chart shifted
    σ_1 to [2^1020, 2^1021), which flushed 5e-324·2^-3 to 0: log 0 = −inf and a NaN exponent,
    intercept and residuals. The reference takes log σ_k directly: α clipped at 50, intercept
    −677.986…; the kernel now shifts σ_1 to [2^1023, 2^1024) (a shift ≥ 1: nothing flushes)."""
    s = np.array([1.7e308, 1e100, 1e-100, 5e-324])
    for x in (s, s[::-1].copy()):
        got = g.fit_exponent(x, chart="lsq", interval=(0, 50), full_output=True)
        want = ref.fit_exponent(x, chart="lsq", interval=(0, 50), full_output=True)
        assert got.alpha == want.alpha == 50.0
        # intercept: ȳ over logs of magnitude ≤ 745, ~4·745·u absolute on each side
        assert abs(got.intercept - want.intercept) <= 1e-12 * abs(want.intercept)
        k = np.arange(1, 5.0)
        free = g.fit_exponent(x, chart="lsq", interval=(0, 1e4))  # the unclipped slope
        y, xx = np.log(s), np.log(k)
        slope = -np.sum((xx - xx.mean()) * (y - y.mean())) / np.sum((xx - xx.mean()) ** 2)
        assert abs(free - slope) <= 1e-12 * slope


def test_bures_chart_on_a_huge_interval():
    """Regression: on J = (0, 1e300) every grid point past the first has F = F' = 0 (k^-α
    underflows), so the crossing's bracket is [0, 3.9e297] and only bisection can shrink it; the
    solver stopped after 200 steps at 1e300·2^-200 and returned α = 1.2e237 for a k^-1.3
    spectrum. It now bisects to the end (as the reference does) and finds 1.3."""
    k = np.arange(1, 9.0)
    for J in ((0.0, 1e300), (0.0, 1e6)):
        got = g.fit_exponent(k ** -1.3, "bures", interval=J)
        assert abs(got - 1.3) <= 1e-13, (J, got)
        assert abs(got - ref.fit_exponent(k ** -1.3, "bures", interval=J)) <= 1e-13
    two = np.array([1.0, 1e-300])  # f's maximizer on (0, 1e300): 537.5 (reference)
    assert abs(g.fit_exponent(two, "bures", interval=(0.0, 1e300)) - 537.5) <= 1e-12 * 537.5


def test_top_chart_on_a_huge_interval():
    """Regression (found by tests/test_charts_props.py): J = (0, 1e300), d = 257. The Halley
    iteration's bisection fallback (g_d underflows past α ~ 540, φ = −inf) had a 200-step cap and
    returned 9.96e240 for a root at 0.7028 (reference: bisection to the end)."""
    x = np.array([1.0, 0.9011836213008132, 1.0000000000000002])
    got = g.fit_exponent(x, "top", interval=(0.0, 1e300), d=257)
    want = ref.fit_exponent(x, "top", interval=(0.0, 1e300), d=257)
    assert abs(want - 0.702776033136905) <= 1e-13
    assert abs(got - want) <= 1e-13
