"""Power-law orbit (spec §4, §5.3): oracles (§11.2), mpmath at d = 1e9/1e15, reference, properties,
bad input."""
from __future__ import annotations

import math

import mpmath as mp
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import gsa_fast as g
from gsa_fast import reference as ref
from _helpers import assert_rel

IMPLS = pytest.mark.parametrize("impl", [g, ref], ids=["fast", "reference"])

# spec §11.2 (mpmath-verified), d = 64: α, H, λ_1, m, m′, Var, I, Ent
ORBIT64 = [
    (0.0, 64, 1, 0, 3.205753116916269, 0.8056366027639305, 3.222546411055722, 4.158883083359672),
    (0.5, 4.743890903705769, 13.49103537562496, 1.301012709309008, 1.814494807610931,
     1.788465175340542, 7.153860701362167, 3.371352472352587),
    (1.0, 1.629430501408888, 39.27752668472965, 1.835326257614551, 0.5262243804782358,
     0.6804244246604124, 2.72169769864165, 1.540679329087041),
    (2.0, 1.082321991637302, 59.13212564699238, 2.039887178946355, 0.06366467373942777,
     0.05603324489268334, 0.2241329795707334, 0.3337674204246721),
]
# The table prints 16 significant digits: 1e-13 relative is the spec §11 default for closed forms.
RTOL = 1e-13


@IMPLS
@pytest.mark.parametrize("row", ORBIT64, ids=lambda r: f"alpha={r[0]}")
def test_orbit64_table(impl, row):
    a, H, lam1, m, m1, var, fisher, ent = row
    d = 64
    assert_rel(np.exp(impl.log_partition(a, d)), H, RTOL, what="H")
    assert_rel(d * np.exp(-impl.log_partition(a, d)), lam1, RTOL, what="lambda_1")
    assert_rel(impl.radial(a, d), m, RTOL, atol=1e-16, what="m")
    assert_rel(impl.radial(a, d, derivative=1), m1, RTOL, what="m'")
    assert_rel(impl.radial(a, d, derivative=2), -2 * var, RTOL, what="m''")
    assert_rel(impl.orbit_variance(a, d), var, RTOL, what="Var")
    assert_rel(impl.fisher_information(a, d), fisher, RTOL, what="I")
    assert_rel(impl.orbit_entropy(a, d), ent, RTOL, what="Ent")


@IMPLS
def test_orbit64_vectorized(impl):
    a = np.array([r[0] for r in ORBIT64])
    assert_rel(impl.orbit_variance(a, 64), [r[5] for r in ORBIT64], RTOL)
    assert_rel(impl.orbit_entropy(a, 64), [r[7] for r in ORBIT64], RTOL)


@IMPLS
def test_bures_kl_length_oracles(impl):
    d = 64
    bw = impl.orbit_bures_distance(0.5, 1.0, d)
    assert_rel(bw, 4.381108590854727, RTOL, what="d_BW(0.5,1)")
    ebar = bw / math.sqrt(d)
    assert_rel(ebar, 0.5476385738568408, RTOL, what="normalized E")
    assert_rel(1 - ebar**2 / 2, 0.8500459962120227, RTOL, what="BC")
    assert_rel(impl.orbit_bures_distance(0.0, 1.0, d), 8.278790829051124, RTOL)
    assert_rel(impl.orbit_bures_distance(1.0, 2.0, d), 3.485708944933068, RTOL)
    assert_rel(impl.orbit_kl(0.5, 1.0, d), 0.7458677109998441, RTOL, what="KL(0.5||1)")
    assert_rel(impl.orbit_kl(1.0, 0.5, d), 0.5424027161328511, RTOL, what="KL(1||0.5)")
    # the oracle prints 14 significant digits
    assert_rel(impl.bures_length(0.5, 1.0, d), 4.4945584802005, 1e-13, what="L_BW[0.5,1]")
    assert_rel(impl.bures_length(0.0, 3.0, d), 14.029559369692, 1e-13, what="L_BW[0,3]")


def test_kl_in_fisher_bracket():
    # (23): KL = ½ I(ξ) Δ² for some ξ in J, so KL ∈ [½ min_J I, ½ max_J I]·Δ²
    J = np.linspace(0.5, 1.0, 501)
    fisher = g.fisher_information(J, 64)
    for a, b in ((0.5, 1.0), (1.0, 0.5)):
        kl = g.orbit_kl(a, b, 64)
        assert 0.5 * fisher.min() * 0.25 <= kl <= 0.5 * fisher.max() * 0.25


def test_bures_length_brackets_chord():
    d = 64
    for a0, a1 in ((0.5, 1.0), (0.0, 3.0)):
        L = g.bures_length(a0, a1, d)
        grid = np.linspace(a0, a1, 2001)
        sigma_j = math.sqrt(g.orbit_variance(grid, d).max())
        assert g.orbit_bures_distance(a0, a1, d) <= L
        # σ_J from a 2001-point grid underestimates the max by O(grid²): 1e-6 slack
        assert L <= math.sqrt(d) * sigma_j * abs(a1 - a0) * (1 + 1e-6)
        assert L <= math.sqrt(d) * math.log(d) / 2 * abs(a1 - a0)


@pytest.mark.parametrize("alpha", [0.0, 0.5, 1.0, 3.0])
def test_line_element(alpha):
    # d_BW(P(α), P(α+h))²/h² → d·Var_α(log k); at h = 1e-4 within 2e-4 relative (spec §11.2)
    d, h = 64, 1e-4
    ratio = g.orbit_bures_distance(alpha, alpha + h, d) ** 2 / h**2
    assert_rel(ratio, d * g.orbit_variance(alpha, d), 2e-4)
    # and the exact form is second-order accurate: with Δ taken as the float difference
    for dl in (1e-6, 1e-9, 1e-12):
        b = alpha + dl
        dd = b - alpha
        assert_rel(g.orbit_bures_distance(alpha, b, d) / dd, math.sqrt(d * g.orbit_variance(alpha, d)),
                   3 * dl * math.log(d) ** 1 + 1e-13)


def test_lemma_3_12():
    # J = [0, 2], d = 64: m′_J = m′(2) ≥ 2^-4 log2 / H_{64,4} ≥ 2^-4 log 2 / 64
    d = 64
    mj = g.radial(2.0, d, derivative=1)
    assert_rel(mj, 0.06366467373942777, RTOL)
    b1 = 2.0**-4 * math.log(2) / math.exp(g.log_partition(2.0, d))
    assert_rel(b1, 0.04002662712180585, RTOL)
    b2 = 2.0**-4 * math.log(2) / 64
    assert_rel(b2, 6.769015435155716e-4, RTOL)
    assert mj >= b1 >= b2
    # m′ is decreasing, so m′ ≥ m′_J on J
    assert np.all(g.radial(np.linspace(0, 2, 101), d, derivative=1) >= mj)


@IMPLS
def test_d2(impl):
    assert_rel(impl.radial(1.0, 2), 0.23500181462286782, RTOL)
    assert_rel(impl.radial(1.0, 2, derivative=1), 0.1386294361119891, RTOL)
    assert_rel(impl.fisher_information(1.0, 2), 0.3074899289076489, RTOL)
    assert_rel(impl.orbit_bures_distance(0.0, 1.0, 2), 0.4530638010235918, RTOL)


@IMPLS
def test_d1_is_all_zero(impl):
    a = np.array([0.0, 0.7, 5.0])
    assert_rel(np.exp(impl.log_partition(a, 1)), np.ones(3), 0)
    for f in (impl.radial, impl.orbit_variance, impl.fisher_information, impl.orbit_entropy):
        assert np.all(f(a, 1) == 0.0), f.__name__
    assert np.all(impl.radial(a, 1, derivative=1) == 0.0)
    assert np.all(impl.orbit_kl(a, a[::-1], 1) == 0.0)
    assert np.all(impl.orbit_bures_distance(a, a[::-1], 1) == 0.0)
    assert np.all(impl.bures_length(a, a[::-1], 1) == 0.0)
    assert_rel(impl.orbit_probs(0.7, 1), [1.0], 0)


def test_edge_values():
    d = np.array([2, 64, 10**6, 10**15])
    assert_rel(g.radial(0.0, d), np.zeros(4), 0, atol=1e-15)
    assert_rel(g.orbit_entropy(0.0, d), np.log(d.astype(float)), 1e-15)
    assert_rel(g.radial(0.0, d, derivative=1), [math.lgamma(x + 1) / x for x in d], 1e-14)
    # m_d(α) ↑ ½ log d; the residual form keeps every digit of ψ = log1p(g) ≈ 2^-2α at large α
    assert_rel(g.log_partition(30.0, 64), math.log1p(math.fsum(k**-60.0 for k in range(2, 65))), 1e-14)
    assert g.radial(30.0, 64) == 0.5 * math.log(64)
    assert g.orbit_entropy(400.0, 64) == pytest.approx(0.0, abs=1e-200)
    assert g.orbit_kl(3.0, 3.0, 10**9) == 0.0 and g.orbit_bures_distance(3.0, 3.0, 10**9) == 0.0


# ---------------------------------------------------------------- mpmath at huge d
def _mp_sums(s, d):
    s = mp.mpf(s)
    if s == 1:
        s += mp.mpf(10) ** -40
    H = mp.zeta(s) - mp.zeta(s, d + 1)
    L = -(mp.zeta(s, 1, 1) - mp.zeta(s, d + 1, 1))
    Q = mp.zeta(s, 1, 2) - mp.zeta(s, d + 1, 2)
    return H, L, Q


@pytest.mark.parametrize("d", [10**9, 10**15])
def test_huge_d_against_mpmath(d):
    """KL and d_BW for |β−α| from 2^-40 to 2 and both orders; Var, m, m′, Ent (tolerance: 1e-13,
    the accuracy claimed in the docstrings; measured ≤ 5e-15)."""
    with mp.workdps(60):
        for a in (0.0, 0.3, 1.0, 2.5):
            Ha, La, Qa = _mp_sums(2 * mp.mpf(a), d)
            mu = La / Ha
            assert_rel(g.orbit_variance(a, d), float(Qa / Ha - mu**2), 1e-13, what=f"Var a={a}")
            assert_rel(g.radial(a, d, 1), float(mu), 1e-13)
            assert_rel(g.radial(a, d), float(mp.log(d) / 2 - mp.log(Ha) / 2), 1e-13, atol=1e-15)
            assert_rel(g.orbit_entropy(a, d), float(mp.log(Ha) + 2 * a * mu), 1e-13)
            for dl in (2.0**-40, 1e-3, 0.4, 2.0):
                b = a + dl
                Hb, Lb, _ = _mp_sums(2 * mp.mpf(b), d)
                Hm, _, _ = _mp_sums(mp.mpf(a) + mp.mpf(b), d)
                kl_ab = mp.log(Hb / Ha) + 2 * (mp.mpf(b) - a) * mu
                kl_ba = mp.log(Ha / Hb) + 2 * (mp.mpf(a) - b) * Lb / Hb
                bw = mp.sqrt(2 * d * (1 - Hm / mp.sqrt(Ha * Hb)))
                assert_rel(g.orbit_kl(a, b, d), float(kl_ab), 1e-13, what=f"KL {a}->{b}")
                assert_rel(g.orbit_kl(b, a, d), float(kl_ba), 1e-13, what=f"KL {b}->{a}")
                assert_rel(g.orbit_bures_distance(a, b, d), float(bw), 1e-13, what=f"BW {a},{b}")


def test_bures_length_huge_d():
    # reference: scipy.integrate.quad (adaptive, epsrel 1e-13) of √(d Var) with reference sums
    d = 10**9
    assert_rel(g.bures_length(0.0, 1.0, d), ref.bures_length(0.0, 1.0, d), 1e-12)
    assert_rel(g.bures_length(1.0, 0.0, d), ref.bures_length(0.0, 1.0, d), 1e-12)  # symmetric
    assert_rel(g.bures_length(0.3, 9.0, 10**15), ref.bures_length(0.3, 9.0, 10**15), 1e-12)


# ---------------------------------------------------------------- fast vs reference
def test_fast_matches_reference_random(rng):
    n = 40
    a = rng.uniform(0, 4, n)
    b = np.where(rng.random(n) < 0.5, a + 10.0 ** rng.uniform(-12, -1, n), rng.uniform(0, 4, n))
    d = np.exp(rng.uniform(0, np.log(3e4), n)).astype(np.int64)
    d[:3] = [1, 2, 320]  # d = 1, and both sides of the direct/Euler–Maclaurin switch
    d[3] = 319
    for name in ("log_partition", "orbit_variance", "fisher_information", "orbit_entropy"):
        assert_rel(getattr(g, name)(a, d), getattr(ref, name)(a, d), 1e-12, atol=1e-300, what=name)
    for k in range(3):
        assert_rel(g.radial(a, d, k), ref.radial(a, d, k), 1e-12, atol=1e-15, what=f"radial {k}")
    # relative 1e-12 on KL/d_BW: both sides are cancellation-free for every Δ
    assert_rel(g.orbit_kl(a, b, d), ref.orbit_kl(a, b, d), 1e-12, atol=1e-300, what="KL")
    assert_rel(g.orbit_kl(b, a, d), ref.orbit_kl(b, a, d), 1e-12, atol=1e-300, what="KL rev")
    assert_rel(g.orbit_bures_distance(a, b, d), ref.orbit_bures_distance(a, b, d), 1e-12, what="BW")
    m = 6
    assert_rel(g.bures_length(a[:m], b[:m], d[:m]), ref.bures_length(a[:m], b[:m], d[:m]), 1e-12,
               what="L_BW")


def test_fast_matches_reference_large_d():
    # d = 1e9: the reference sums head k ≤ 2^20 exactly and integrates the rest by adaptive
    # quadrature (midpoint Euler–Maclaurin); the kernel uses head k < 128 + GL panels.
    a = np.array([0.0, 0.35, 1.2])
    b = a + np.array([1e-9, 3e-3, 1e-6])
    d = 10**9
    assert_rel(g.orbit_variance(a, d), ref.orbit_variance(a, d), 1e-12, what="Var")
    assert_rel(g.orbit_kl(a, b, d), ref.orbit_kl(a, b, d), 1e-12, what="KL")
    assert_rel(g.orbit_bures_distance(a, b, d), ref.orbit_bures_distance(a, b, d), 1e-12, what="BW")


def test_orbit_probs(rng):
    a = np.array([[0.0, 0.3], [1.0, 7.5]])
    p = g.orbit_probs(a, 4096)
    assert p.shape == (2, 2, 4096) and p.dtype == np.float64
    assert_rel(p, ref.orbit_probs(a, 4096), 1e-14, atol=1e-300)
    assert_rel(p.sum(-1), np.ones((2, 2)), 1e-14)
    assert np.all(np.diff(p, axis=-1) <= 0)
    s = g.orbit_probs(0.5, 10)
    assert s.shape == (10,)
    assert_rel(s, ref.orbit_probs(0.5, 10), 1e-15)
    # the Gibbs law gives the sum-based quantities back (d = 4096, materialized)
    k = np.arange(1, 4097)
    pk = g.orbit_probs(0.8, 4096)
    mu = pk @ np.log(k)
    assert_rel(g.radial(0.8, 4096, 1), mu, 1e-13)
    assert_rel(g.orbit_variance(0.8, 4096), pk @ (np.log(k) - mu) ** 2, 1e-13)
    assert g.orbit_probs(np.zeros((0,)), 5).shape == (0, 5)


# ---------------------------------------------------------------- properties
@settings(max_examples=60, deadline=None)
@given(a=st.floats(0, 6), delta=st.floats(-3, 3), d=st.integers(1, 10**12))
def test_kl_and_bures_bounds(a, delta, d):
    b = max(0.0, a + delta)
    kl = g.orbit_kl(a, b, d)
    dl = b - a
    assert kl >= 0.0
    # KL ≤ ½ (log d)² Δ² (Popoviciu); rounding slack 1e-13 relative
    assert kl <= 0.5 * math.log(d) ** 2 * dl**2 * (1 + 1e-13) + 1e-300
    bw = g.orbit_bures_distance(a, b, d)
    assert 0.0 <= bw <= math.sqrt(2 * d)
    assert bw == pytest.approx(g.orbit_bures_distance(b, a, d), rel=1e-13, abs=1e-300)


@settings(max_examples=40, deadline=None)
@given(a=st.floats(0, 4), e=st.floats(-12, -5), d=st.integers(2, 10**15))
def test_small_delta_expansions(a, e, d):
    # KL ≈ ½ I Δ² and d_BW ≈ √(d Var) |Δ|, with relative remainder O(|Δ| log d)
    b = a + 10.0**e
    dl = b - a
    if dl == 0:
        return
    fisher = g.fisher_information(a, d)
    rem = 4 * abs(dl) * math.log(d) + 1e-12
    assert_rel(g.orbit_kl(a, b, d), 0.5 * fisher * dl * dl, rem, what="KL≈½IΔ²")
    assert_rel(g.orbit_bures_distance(a, b, d), math.sqrt(d * fisher / 4) * abs(dl), rem,
               what="dBW≈√(dVar)Δ")


@settings(max_examples=15, deadline=None)
@given(a=st.floats(0, 3), delta=st.floats(0.01, 2), d=st.integers(2, 10**9))
def test_bures_chain_of_inequalities(a, delta, d):
    # (30): d_BW ≤ L_BW ≤ √d σ_J |Δ| ≤ (√d log d / 2) |Δ|
    b = a + delta
    L = g.bures_length(a, b, d)
    grid = np.linspace(a, b, 401)
    sigma_j = math.sqrt(g.orbit_variance(grid, d).max())
    assert g.orbit_bures_distance(a, b, d) <= L * (1 + 1e-12)
    assert L <= math.sqrt(d) * sigma_j * delta * (1 + 1e-4)  # 401-point grid for max Var
    assert L <= math.sqrt(d) * math.log(d) / 2 * delta * (1 + 1e-12)


def test_radial_monotone_concave_and_fisher_bound():
    a = np.linspace(0, 6, 301)
    for d in (2, 64, 10**6, 10**15):
        m = g.radial(a, d)
        assert np.all(np.diff(m) > 0) and np.all(m < 0.5 * math.log(d))
        assert np.all(g.radial(a, d, 2) < 0)
        fisher = g.fisher_information(a, d)
        assert np.all(fisher >= 0) and np.all(fisher <= math.log(d) ** 2)
    # ψ′ = −2 m′ and ψ″ = I by central differences
    h = 1e-5
    for d in (64, 10**9):
        for x in (0.2, 1.0):
            dpsi = (g.log_partition(x + h, d) - g.log_partition(x - h, d)) / (2 * h)
            assert_rel(dpsi, -2 * g.radial(x, d, 1), 1e-8)
            dm = (g.radial(x + h, d, 1) - g.radial(x - h, d, 1)) / (2 * h)
            assert_rel(dm, g.radial(x, d, 2), 1e-6)


def test_extreme_exponents_finite():
    # any finite α ≥ 0: no NaN; beyond α ≈ 550 every k ≥ 2 term underflows (the α → ∞ limit)
    A = np.array([0.0, 5e-324, 1e-300, 0.5, 50.0, 400.0, 1e6, 1e300, 1.7e308])
    for d in (1, 2, 319, 320, 10**6, 10**15, 2**53):
        for f in (g.log_partition, g.orbit_variance, g.fisher_information, g.orbit_entropy, g.radial):
            assert np.all(np.isfinite(f(A, d))), (f.__name__, d)
        big = A[:-1]  # β = 1.7e308 makes KL(0‖β) ≈ 2βμ overflow for real
        kl = g.orbit_kl(big[:, None], big[None, :], d)
        assert np.all(np.isfinite(kl)) and np.all(kl >= 0)
        bw = g.orbit_bures_distance(A[:, None], A[None, :], d)
        assert np.all(np.isfinite(bw)) and np.all(bw >= 0)
    assert g.radial(1e300, 64) == 0.5 * math.log(64) and g.orbit_entropy(1e300, 64) == 0.0
    assert_rel(g.orbit_bures_distance(0.0, 1e300, 10**6), math.sqrt(2e6 * (1 - 1e-3)), 1e-14)
    assert g.orbit_kl(0.0, 1.7e308, 10**6) == np.inf
    assert np.isfinite(g.bures_length(0.0, 1e300, 10))


# ---------------------------------------------------------------- shapes, views
def test_broadcast_shapes_scalars_views():
    assert isinstance(g.radial(1.0, 64), np.floating)
    assert isinstance(g.orbit_kl(1.0, 2.0, 64), np.floating)
    out = g.orbit_kl(np.linspace(0, 1, 3)[:, None], np.linspace(0, 2, 4), np.array([[64]]))
    assert out.shape == (3, 4)
    assert g.orbit_entropy(np.zeros((0, 3)), 5).shape == (0, 3)
    a = np.linspace(0, 3, 40)[::3]  # non-contiguous view
    d = np.arange(1, 200, dtype=np.int64)[::15]
    assert_rel(g.orbit_variance(a, d[: a.size]), ref.orbit_variance(a, d[: a.size]), 1e-12)
    assert g.orbit_variance(1.0, 1e9) == g.orbit_variance(1.0, 10**9)  # integral float d
    assert g.orbit_variance(np.float32(1.0), np.uint16(64)) == g.orbit_variance(1.0, 64)


# ---------------------------------------------------------------- bad input
BAD = [
    (lambda: g.radial(-0.1, 64), ValueError, r"radial\(\): alpha must be >= 0.0; got -0.1"),
    (lambda: g.radial(np.nan, 64), ValueError, r"radial\(\): alpha must be free of NaN"),
    (lambda: g.radial(np.inf, 64), ValueError, r"radial\(\): alpha must be finite; got Inf"),
    (lambda: g.radial(1.0, 0), ValueError, r"radial\(\): d must be integers >= 1; got 0"),
    (lambda: g.radial(1.0, 2.5), ValueError, r"d must be integers >= 1; got non-integer 2.5"),
    (lambda: g.radial(1.0, 2**60), ValueError, r"d must be integers <= 2\*\*53"),
    (lambda: g.radial(1.0, 64, derivative=3), ValueError, r"derivative must be one of \[0, 1, 2\]"),
    (lambda: g.radial(1.0, 64, derivative=1.0), TypeError, r"derivative must be an int"),
    (lambda: g.radial("1", 64), TypeError, r"radial\(\): alpha must be a real number"),
    (lambda: g.radial(1.0, "64"), TypeError, r"radial\(\): d must be an integer"),
    (lambda: g.radial(True, 64), TypeError, r"alpha must be .*not bool"),
    (lambda: g.radial(np.array([1 + 1j]), 64), TypeError, r"alpha must be a real number"),
    (lambda: g.radial(None, 64), TypeError, r"alpha must be"),
    (lambda: g.log_partition(-1.0, 64), ValueError, r"log_partition\(\): alpha must be >= 0.0"),
    (lambda: g.orbit_variance(1.0, -3), ValueError, r"orbit_variance\(\): d must be integers >= 1"),
    (lambda: g.fisher_information(np.nan, 3), ValueError, r"fisher_information\(\): alpha must be free of NaN"),
    (lambda: g.orbit_entropy(1.0, np.nan), ValueError, r"orbit_entropy\(\): d must be finite"),
    (lambda: g.orbit_kl(1.0, -2.0, 64), ValueError, r"orbit_kl\(\): beta must be >= 0.0; got -2.0"),
    (lambda: g.orbit_kl(np.inf, 2.0, 64), ValueError, r"orbit_kl\(\): alpha must be finite"),
    (lambda: g.orbit_kl([1.0, 2.0], [1.0, 2.0, 3.0], 64), ValueError, r"broadcast"),
    (lambda: g.orbit_bures_distance(1.0, np.nan, 64), ValueError,
     r"orbit_bures_distance\(\): beta must be free of NaN"),
    (lambda: g.bures_length(1.0, -1.0, 64), ValueError, r"bures_length\(\): alpha1 must be >= 0.0"),
    (lambda: g.bures_length(1.0, 2.0, 0), ValueError, r"bures_length\(\): d must be integers >= 1"),
    (lambda: g.orbit_probs(1.0, 10**8 + 1), ValueError, r"orbit_probs\(\): d must be <= 1e8"),
    (lambda: g.orbit_probs(1.0, [3, 4]), ValueError, r"orbit_probs\(\): d must be a scalar integer"),
    (lambda: g.orbit_probs(np.zeros(1000), 10**6), ValueError, r"alpha.size \* d <= 1e8"),
    (lambda: g.orbit_probs(-1.0, 10), ValueError, r"orbit_probs\(\): alpha must be >= 0.0"),
]


@pytest.mark.parametrize("call,exc,match", BAD, ids=[b[2][:40] for b in BAD])
def test_bad_input(call, exc, match):
    with pytest.raises(exc, match=match):
        call()


# ---- every device (CPU numpy; CUDA cupy in, cupy out where a device exists) --------------------
def test_orbit_on_device_matches_reference(device, rng):
    # Tolerances as test_fast_matches_reference_random (1e-12 relative): the device runs the same
    # float64 header math, differing from the host only by FMA contraction (a few ulp per step)
    n = 40
    a = rng.uniform(0, 4, n)
    b = np.where(rng.random(n) < 0.5, a + 10.0 ** rng.uniform(-12, -1, n), rng.uniform(0, 4, n))
    d = np.exp(rng.uniform(0, np.log(3e4), n)).astype(np.int64)  # the reference's sure range
    d[:4] = [1, 2, 320, 319]  # d = 1, and both sides of the direct/Euler–Maclaurin switch
    ad, bd, dd = device.asarray(a), device.asarray(b), device.asarray(d)
    for name in ("log_partition", "orbit_variance", "fisher_information", "orbit_entropy"):
        out = getattr(g, name)(ad, dd)
        assert device.is_native(out) and out.shape == (n,) and out.dtype == np.float64
        assert_rel(device.asnumpy(out), getattr(ref, name)(a, d), 1e-12, atol=1e-300, what=name)
    for k in range(3):
        out = g.radial(ad, dd, k)
        assert device.is_native(out)
        assert_rel(device.asnumpy(out), ref.radial(a, d, k), 1e-12, atol=1e-15, what=f"radial {k}")
    for name in ("orbit_kl", "orbit_bures_distance"):
        out = getattr(g, name)(ad, bd, dd)
        assert device.is_native(out) and out.shape == (n,)
        assert_rel(device.asnumpy(out), getattr(ref, name)(a, b, d), 1e-12, atol=1e-300, what=name)
    out = g.bures_length(ad[:6], bd[:6], dd[:6])
    assert device.is_native(out)
    assert_rel(device.asnumpy(out), ref.bures_length(a[:6], b[:6], d[:6]), 1e-12, what="L_BW")
    # exactly 0 at α = β and d = 1; broadcasting (column × row) and a Python scalar operand
    assert (device.asnumpy(g.orbit_kl(ad, ad, dd)) == 0).all()
    assert (device.asnumpy(g.orbit_entropy(ad, 1)) == 0).all()
    grid = g.orbit_variance(device.asarray(a[:5, None]), device.asarray(d[None, :7]))
    assert grid.shape == (5, 7)
    assert_rel(device.asnumpy(grid), ref.orbit_variance(a[:5, None], d[None, :7]), 1e-12, atol=1e-300)
    # integral float and unsigned widths read as the integers they hold
    assert_rel(device.asnumpy(g.log_partition(ad, device.asarray(d.astype(np.float64)))),
               ref.log_partition(a, d), 1e-12)


@pytest.mark.parametrize("call,exc,match", [
    (lambda x: g.log_partition(x(np.array([1.0, -1.0])), x(np.array([4]))), ValueError,
     r"log_partition\(\): alpha must be >= 0.0; got -1.0"),
    (lambda x: g.orbit_variance(x(np.array([1.0])), x(np.array([3, 0]))), ValueError,
     r"orbit_variance\(\): d must be integers >= 1; got 0"),
    (lambda x: g.fisher_information(x(np.array([np.nan])), x(np.array([3]))), ValueError,
     r"fisher_information\(\): alpha must be free of NaN"),
    (lambda x: g.orbit_entropy(x(np.array([1.0])), x(np.array([np.inf]))), ValueError,
     r"orbit_entropy\(\): d must be finite"),
    (lambda x: g.radial(x(np.array([1.0])), x(np.array([2.5]))), ValueError,
     r"radial\(\): d must be integers >= 1; got non-integer 2.5"),
    (lambda x: g.radial(x(np.array([1.0])), x(np.array([2**60]))), ValueError,
     r"d must be integers <= 2\*\*53"),
    (lambda x: g.radial(x(np.array([True])), x(np.array([4]))), TypeError, r"alpha must be .*not bool"),
    (lambda x: g.orbit_kl(x(np.array([1.0])), x(np.array([np.inf])), x(np.array([64]))), ValueError,
     r"orbit_kl\(\): beta must be finite"),
    (lambda x: g.bures_length(x(np.array([1.0])), x(np.array([-1.0])), x(np.array([64]))), ValueError,
     r"bures_length\(\): alpha1 must be >= 0.0"),
    (lambda x: g.orbit_kl(x(np.array([1.0, 2.0])), x(np.array([1.0, 2.0, 3.0])), 64), ValueError,
     r"broadcast"),
], ids=["alpha<0", "d=0", "nan", "inf-d", "frac-d", "huge-d", "bool", "beta-inf", "alpha1<0", "shapes"])
def test_orbit_on_device_rejects_bad_input(device, call, exc, match):
    # the CPU route's errors and messages, raised before any launch
    with pytest.raises(exc, match=match):
        call(device.asarray)


def test_orbit_on_device_refuses_mixed_operands(cupy):
    with pytest.raises(TypeError, match="all be numpy arrays or all be cupy arrays"):
        g.orbit_entropy(cupy.asarray(np.array([1.0])), np.array([4]))
    with pytest.raises(TypeError, match="all be numpy arrays or all be cupy arrays"):
        g.orbit_kl(np.array([1.0]), cupy.asarray(np.array([2.0])), 4)


def test_orbit_probs_on_device_matches_reference(device, rng):
    # 1e-14 relative as test_orbit_probs: pow(k, −2α)·(1/H), H from the same harmonic sums
    a = rng.uniform(0, 3, (3, 4))
    a[0, 0] = 0.0  # uniform row
    for d in (1, 7, 300, 20000):  # one tile and several tiles of ranks per row
        out = g.orbit_probs(device.asarray(a), d)
        assert device.is_native(out) and out.shape == (3, 4, d) and out.dtype == np.float64
        assert_rel(device.asnumpy(out), ref.orbit_probs(a, d), 1e-14, atol=1e-300, what=f"d={d}")
    one = g.orbit_probs(device.asarray(np.array(0.5)), device.asarray(np.array(10)))
    assert device.is_native(one) and one.shape == (10,)
    assert_rel(device.asnumpy(one), ref.orbit_probs(0.5, 10), 1e-15)
    assert g.orbit_probs(device.asarray(np.zeros(0)), 5).shape == (0, 5)
    for call, match in [
            (lambda: g.orbit_probs(device.asarray(np.array([1.0, -1.0])), 4), r"alpha must be >= 0.0"),
            (lambda: g.orbit_probs(device.asarray(np.array([1.0])), device.asarray(np.array([3, 4]))),
             r"orbit_probs\(\): d must be a scalar integer"),
            (lambda: g.orbit_probs(device.asarray(np.array([1.0])), 10**8 + 1), r"d must be <= 1e8"),
            (lambda: g.orbit_probs(device.asarray(np.ones(20)), 10**7), r"alpha.size \* d <= 1e8"),
            (lambda: g.orbit_probs(device.asarray(np.array([1.0])), device.asarray(np.array(0))),
             r"d must be integers >= 1")]:
        with pytest.raises(ValueError, match=match):
            call()
