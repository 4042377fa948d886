"""Orbit tails, truncation ranks, margins and plateaux (spec §8.2–§8.4): oracles (§11.6), mpmath,
reference, properties, bad input."""
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

# spec §11.6: α, d, ε, r_ε(α)
RANKS = [
    (1.0, 1000, 0.1, 6),
    (1.0, 1000, 0.01, 57),
    (1.0, 10**6, 0.01, 61),
    (1.0, 10**9, 0.01, 61),
    (1.0, 10**9, 0.1, 6),
    (1.0, 10**9, 0.001, 608),
    (0.5, 1000, 0.1, 473),
    (0.25, 1000, 0.1, 815),
    (0.75, 4096, 0.05, 156),
    (2.0, 64, 0.01, 3),
]


@IMPLS
@pytest.mark.parametrize("a,d,eps,r", RANKS, ids=[f"a={x[0]},d={x[1]},eps={x[2]}" for x in RANKS])
def test_rank_table(impl, a, d, eps, r):
    got = impl.orbit_truncation_rank(a, eps, d)
    assert got == r
    assert isinstance(got, np.integer)


@IMPLS
def test_rank_table_vectorized_and_tie(impl):
    a, d, eps, r = (np.array(c) for c in zip(*RANKS))
    got = impl.orbit_truncation_rank(a, eps, d)
    assert got.dtype == np.int64
    np.testing.assert_array_equal(got, r)
    # the α = 0 tie: T(900) = 0.1 exactly; spec §8.1 accepts {900, 901}
    assert impl.orbit_truncation_rank(0.0, 0.1, 1000) in (900, 901)


@IMPLS
def test_tail_values(impl):
    # printed to 12 significant digits
    assert_rel(impl.orbit_tail(1.0, np.array([5, 6]), 1000), [0.109690166035, 0.092793035005], 5e-12)
    assert_rel(impl.orbit_tail(1.0, np.array([60, 61]), 10**9), [0.0100481524962, 0.00988477515081],
               5e-12)
    assert impl.orbit_tail(0.7, 0, 50) == 1.0 and impl.orbit_tail(0.7, 50, 50) == 0.0


def _bracket(a, d, eps):
    """Theorem 5.5 (81)/(82) from Lemma 5.4, written out in the test."""
    s = 2 * a
    H = float(g.harmonic(d, s))
    F = (lambda x: math.log(x)) if s == 1 else (lambda x: x ** (1 - s) / (1 - s))
    Finv = (lambda y: math.exp(y)) if s == 1 else (lambda y: ((1 - s) * y) ** (1 / (1 - s)))

    def inv(y):
        try:
            return Finv(y)
        except (ValueError, ZeroDivisionError, OverflowError):
            return math.inf

    up = min(d, max(1, math.ceil(inv(F(d) - eps * H))))
    lo = max(1, math.ceil(inv(F(d + 1) - eps * H)) - 1)
    return lo, up


def test_bracket_and_asymptote():
    assert _bracket(1.0, 1000, 0.1) == (6, 7)
    assert _bracket(1.0, 1000, 0.01) == (57, 58)
    # the spec's [57, 61] uses the simpler upper bound from (80): ⌈((2α−1) ε H)^(−1/(2α−1))⌉
    H = float(g.harmonic(1000, 2.0))
    assert math.ceil(1 / (0.01 * H)) == 61 and math.ceil(1 / (0.1 * H)) == 7
    # {83}: ((2α−1) ε ζ(2α))^(−1/(2α−1)) = 6.0793 at α = 1, ε = 0.1 bounds the d → ∞ rank; the
    # kernel's rank at d = 1e12 is the exact 6 (T(6) = (ζ(2) − H_{6,2})/ζ(2) = 0.0933 ≤ 0.1 < T(5))
    r_inf = int(g.orbit_truncation_rank(1.0, 0.1, 10**12))
    assert r_inf == 6 and r_inf <= math.ceil((0.1 * math.pi**2 / 6) ** -1)


@settings(max_examples=80, deadline=None)
@given(a=st.floats(0.01, 4), d=st.integers(2, 3000), eps=st.floats(0.001, 0.9))
def test_rank_in_bracket_and_definition(a, d, eps):
    r = int(g.orbit_truncation_rank(a, eps, d))
    lo, hi = _bracket(a, d, eps)
    assert lo <= r <= hi
    assert g.orbit_tail(a, r, d) <= eps < g.orbit_tail(a, r - 1, d)
    # (79): ∫_{r+1}^{d+1} x^-2α dx / H ≤ T_α(r) ≤ ∫_r^d x^-2α dx / H   (1 ≤ r < d)
    s = 2 * a
    H = float(g.harmonic(d, s))
    rr = np.arange(1, d)
    T = g.orbit_tail(a, rr, d)
    I = (lambda u, v: np.log(v / u)) if s == 1 else (lambda u, v: (v ** (1 - s) - u ** (1 - s)) / (1 - s))
    assert np.all(I(rr + 1.0, d + 1.0) / H <= T * (1 + 1e-12))
    assert np.all(T <= I(rr * 1.0, float(d)) / H * (1 + 1e-12))
    if a > 0.5:  # (80)
        assert np.all(T <= rr ** (1 - s) / ((s - 1) * H) * (1 + 1e-12))


@IMPLS
def test_derived_asymptotics_1e6(impl):
    d = 10**6
    assert impl.orbit_truncation_rank(0.25, 0.1, d) == 810132  # prediction d(1−ε)^{1/(1−2α)} = 810000
    assert d * 0.9**2 == pytest.approx(810000)
    assert impl.orbit_truncation_rank(0.5, 0.1, d) == 237100
    assert d**0.9 * math.exp(-0.1 * float(mp.euler)) == pytest.approx(237100.16, abs=0.01)


def _mp_tail(a, r, d):
    s = mp.mpf(2 * a)
    if s == 1:
        return (mp.digamma(d + 1) - mp.digamma(r + 1)) / (mp.digamma(d + 1) + mp.euler)
    return (mp.zeta(s, r + 1) - mp.zeta(s, d + 1)) / (mp.zeta(s) - mp.zeta(s, d + 1))


@pytest.mark.parametrize("a,eps,d", [
    (1.0, 1e-3, 10**15), (0.3, 0.1, 10**15), (0.1, 1e-6, 10**12), (0.5, 0.2, 10**13),
    (0.05, 1e-7, 10**15), (3.0, 1e-12, 10**15),
])
def test_huge_d_ranks_against_mpmath(a, eps, d):
    """r_ε at d up to 1e15, including ranks r ≈ d(1 − ε) whose tails are short suffixes far out."""
    r = int(g.orbit_truncation_rank(a, eps, d))
    with mp.workdps(40):
        t_r, t_prev = _mp_tail(a, r, d), _mp_tail(a, r - 1, d)
    assert t_r <= eps < t_prev
    assert_rel(g.orbit_tail(a, np.array([r - 1, r]), d), [float(t_prev), float(t_r)], 1e-13)


@IMPLS
def test_tail_margin_oracle(impl):
    gam = impl.tail_margin(1.0, 0.1, 1000)
    assert_rel(gam, 0.0072069649945989, 1e-13)
    # certified radii γ/L_T (printed to 5 digits)
    assert_rel(gam / impl.tail_lipschitz(1000), 5.2166e-4, 1e-4)
    assert_rel(gam / impl.tail_lipschitz(1000, lip="sharp"), 2.0866e-3, 1e-4)


A_D50 = [1.82445069706, 1.32569402408, 1.15431390834, 1.06071637674, 0.998406119678,
         0.952153730343, 0.915389729031]


@IMPLS
def test_plateau_thresholds_oracle(impl):
    a = impl.plateau_thresholds(0.1, 50, 7)
    assert a.shape == (7,)
    assert_rel(a, A_D50, 1e-11)  # printed to 12 significant digits


def test_plateau_grid_check():
    d, eps = 50, 0.1
    a = g.plateau_thresholds(eps, d, rmax=d)
    assert a.shape == (d,)
    assert np.all(np.diff(a) <= 0) and a[-1] == 0.0
    # a_r = 0 exactly where 1 − r/d ≤ ε, i.e. r ≥ 45
    assert np.all(a[44:] == 0.0) and a[43] > 0.0
    edges = np.concatenate([[np.inf], a])  # edges[r] = a_r, a_0 = +inf
    grid = np.linspace(0, 3, 3001)
    grid = grid[np.min(np.abs(grid[:, None] - a[None, :]), axis=1) > 1e-9]  # stay off the thresholds
    r = g.orbit_truncation_rank(grid, eps, d)
    assert np.all(edges[r] <= grid) and np.all(grid < edges[r - 1])
    # and each threshold really is a root: T_{a_r}(r) = ε
    live = np.nonzero(a > 0)[0] + 1
    assert_rel(g.orbit_tail(a[live - 1], live, d), np.full(live.size, eps), 1e-13)


def test_plateau_shapes():
    out = g.plateau_thresholds(np.array([0.05, 0.1, 0.2]), np.array([[10], [1000]]), rmax=5)
    assert out.shape == (2, 3, 5)
    assert_rel(out, ref.plateau_thresholds(np.array([0.05, 0.1, 0.2]), np.array([[10], [1000]]), rmax=5),
               1e-13)
    assert g.plateau_thresholds(0.1, 8).shape == (8,)  # default rmax = min(d, 64)
    assert g.plateau_thresholds(0.1, 10**6).shape == (64,)
    assert g.plateau_thresholds(0.1, 1, rmax=3).tolist() == [0.0, 0.0, 0.0]
    a = g.plateau_thresholds(1e-3, 10**12, rmax=4)  # huge d: still roots of T = ε
    assert_rel(g.orbit_tail(a, np.arange(1, 5), 10**12), np.full(4, 1e-3), 1e-13)


# ---------------------------------------------------------------- fast vs reference
def test_fast_matches_reference_random(rng):
    n = 60
    a = rng.uniform(0, 3, n)
    d = np.exp(rng.uniform(0, np.log(2e4), n)).astype(np.int64)
    r = (rng.random(n) * (d + 1)).astype(np.int64)
    eps = 10.0 ** rng.uniform(-6, -0.05, n)
    d[:2] = 1
    r[:2] = [0, 1]
    assert_rel(g.orbit_tail(a, r, d), ref.orbit_tail(a, r, d), 1e-13, atol=1e-300, what="T")
    got, want = g.orbit_truncation_rank(a, eps, d), ref.orbit_truncation_rank(a, eps, d)
    np.testing.assert_array_equal(got, want)
    assert_rel(g.tail_margin(a, eps, d), ref.tail_margin(a, eps, d), 1e-12, atol=1e-16, what="gamma")
    assert_rel(g.plateau_thresholds(eps[:5], d[:5], 4), ref.plateau_thresholds(eps[:5], d[:5], 4), 1e-13)
    # int64 widths go through a vectorized fdlibm log (< 1 ulp), numpy's may round the other way
    assert_rel(g.tail_lipschitz(d), ref.tail_lipschitz(d), 2.0**-52)
    assert_rel(g.tail_lipschitz(d, "sharp"), ref.tail_lipschitz(d, "sharp"), 2.0**-52)


def test_fast_matches_reference_large_d():
    a = np.array([0.2, 0.5, 1.0, 1.7])
    d = 10**9
    r = np.array([10**8, 12345, 61, 3])
    assert_rel(g.orbit_tail(a, r, d), ref.orbit_tail(a, r, d), 1e-13)
    np.testing.assert_array_equal(g.orbit_truncation_rank(a, 0.01, d), ref.orbit_truncation_rank(a, 0.01, d))


def test_fast_matches_reference_far_suffixes():
    # tails that are short segments far out (r ≈ d(1 − ε)); the reference sums them by the
    # midpoint rule with a log1p width, the kernel by a head + trapezoid Euler–Maclaurin
    d = 10**15
    a = np.array([0.0, 0.05, 0.2, 0.45, 1.0])
    r = d - np.array([10**7, 10**9, 3 * 10**11, 2 * 10**6, 10**13])
    assert_rel(g.orbit_tail(a, r, d), ref.orbit_tail(a, r, d), 1e-13)
    e = np.array([1e-7, 1e-6, 1e-5, 1e-4, 1e-8])
    np.testing.assert_array_equal(g.orbit_truncation_rank(a, e, d), ref.orbit_truncation_rank(a, e, d))


def test_rank_edge_eps():
    # ε = 0 gives the rank d (spec §8.1); ε ≥ 1 is outside the domain (as for truncation_rank)
    for bad in (1.0, 2.5, -1e-3):
        with pytest.raises(ValueError, match=r"orbit_truncation_rank\(\): eps must be"):
            g.orbit_truncation_rank(0.7, bad, 100)
    assert g.orbit_truncation_rank(0.7, 1 - 2**-53, 100) == 1
    assert g.orbit_truncation_rank(0.7, 0.0, 100) == 100
    assert g.orbit_truncation_rank(40.0, 0.0, 10**15) == 10**15
    assert g.orbit_truncation_rank(0.7, 0.5, 1) == 1
    assert g.orbit_truncation_rank(np.zeros((2, 0)), 0.1, 5).shape == (2, 0)
    # huge α: all energy on k = 1
    assert g.orbit_truncation_rank(600.0, 1e-300, 10**15) == 1
    assert g.orbit_truncation_rank(1.7e308, 1e-300, 2**53) == 1
    assert g.orbit_tail(1e300, np.array([0, 1, 5]), 10**15).tolist() == [1.0, 0.0, 0.0]
    assert g.tail_margin(1e300, 0.5, 10**15) == 0.5
    # smallest subnormal ε: thresholds stay finite roots (T underflows only at the root)
    a = g.plateau_thresholds(5e-324, 2, 1)
    assert_rel(a, [1074 * math.log(2) / (2 * math.log(2))], 1e-3)  # 2^-2a = 2^-1074


# ---------------------------------------------------------------- properties
def test_tail_nonincreasing_in_alpha():
    alphas = np.linspace(0, 5, 501)
    for d in (2, 50, 1000, 10**9):
        rr = np.unique(np.linspace(0, d, 40).astype(np.int64))
        T = g.orbit_tail(alphas[:, None], rr[None, :], d)
        assert np.max(np.diff(T, axis=0)) <= 2e-15  # spec §11.6: max float increase ≤ 2e-15


def test_tail_lipschitz_sharp_constant():
    # max |∂_α T| ≤ ½ log d; at d = 2, α = 0 the value is ½ log 2 = 0.3465735
    h = 1e-6
    dT = (g.orbit_tail(h, 1, 2) - g.orbit_tail(0.0, 1, 2)) / h
    assert_rel(-dT, 0.5 * math.log(2), 1e-5)
    alphas = np.linspace(0, 4, 201)
    for d in (2, 3, 10, 64, 1000, 10**6):
        rr = np.unique(np.linspace(1, d - 1, 25).astype(np.int64))
        T0 = g.orbit_tail(alphas[:, None], rr[None, :], d)
        T1 = g.orbit_tail(alphas[:, None] + h, rr[None, :], d)
        slope = np.abs(T1 - T0) / h
        assert slope.max() <= 0.5 * math.log(d) * (1 + 1e-4)  # finite-difference slack
    assert g.tail_lipschitz(2, lip="sharp") == pytest.approx(0.3465735, abs=1e-7)


def test_prop_5_10_sharp_constant(rng):
    # if L_T♯ |α − β| < γ_ε(α) then r_ε(β) = r_ε(α): no violations in 3000 draws
    n = 3000
    d = np.exp(rng.uniform(np.log(2), np.log(1e6), n)).astype(np.int64)
    a = rng.uniform(0, 3, n)
    eps = rng.uniform(0.01, 0.5, n)
    gam = g.tail_margin(a, eps, d)
    lip = g.tail_lipschitz(d, lip="sharp")
    b = np.maximum(0.0, a + rng.uniform(-1, 1, n) * gam / np.maximum(lip, 1e-300) * 0.999)
    ok = lip * np.abs(b - a) < gam
    assert ok.sum() > 2500
    np.testing.assert_array_equal(g.orbit_truncation_rank(b[ok], eps[ok], d[ok]),
                                  g.orbit_truncation_rank(a[ok], eps[ok], d[ok]))
    assert np.all(gam >= 0)


def test_prop_5_10_can_fail_beyond_margin():
    # at |Δα| just past the threshold a_r the rank changes: the margin is not vacuous
    d, eps = 50, 0.1
    a = g.plateau_thresholds(eps, d, 3)
    x = a[1] + 1e-6  # rank 2 plateau, 1e-6 from its lower edge
    assert g.orbit_truncation_rank(x, eps, d) == 2
    assert g.tail_margin(x, eps, d) < 0.5 * math.log(d) * 2e-6
    assert g.orbit_truncation_rank(x - 2e-6, eps, d) == 3


@settings(max_examples=60, deadline=None)
@given(a=st.floats(0, 5), eps=st.floats(1e-9, 0.999), d=st.integers(1, 10**15))
def test_rank_definition_any_d(a, eps, d):
    r = int(g.orbit_truncation_rank(a, eps, d))
    assert 1 <= r <= d
    T = g.orbit_tail(a, np.array([r - 1, r]), d)
    assert T[1] <= eps
    assert r == 1 or T[0] > eps
    gam = g.tail_margin(a, eps, d)
    assert_rel(gam, max(0.0, min(eps - T[1], T[0] - eps)), 0, atol=1e-15)


# ---------------------------------------------------------------- bad input
BAD = [
    (lambda: g.orbit_tail(-1.0, 1, 10), ValueError, r"orbit_tail\(\): alpha must be >= 0.0; got -1.0"),
    (lambda: g.orbit_tail(np.nan, 1, 10), ValueError, r"orbit_tail\(\): alpha must be free of NaN"),
    (lambda: g.orbit_tail(1.0, 11, 10), ValueError, r"orbit_tail\(\): r must be <= d; got r = 11 with d = 10"),
    (lambda: g.orbit_tail(1.0, -1, 10), ValueError, r"orbit_tail\(\): r must be integers >= 0; got -1"),
    (lambda: g.orbit_tail(1.0, 1.5, 10), ValueError, r"r must be integers >= 0; got non-integer 1.5"),
    (lambda: g.orbit_tail(1.0, 1, 0), ValueError, r"orbit_tail\(\): d must be integers >= 1; got 0"),
    (lambda: g.orbit_tail(1.0, "1", 10), TypeError, r"orbit_tail\(\): r must be an integer"),
    (lambda: g.orbit_tail([1.0, 2.0], [1, 2, 3], 10), ValueError, r"broadcast"),
    (lambda: g.orbit_truncation_rank(1.0, -0.1, 10), ValueError,
     r"orbit_truncation_rank\(\): eps must be >= 0.0; got -0.1"),
    (lambda: g.orbit_truncation_rank(1.0, np.nan, 10), ValueError, r"eps must be free of NaN"),
    (lambda: g.orbit_truncation_rank(1.0, np.inf, 10), ValueError, r"eps must be finite"),
    (lambda: g.orbit_truncation_rank(np.inf, 0.1, 10), ValueError, r"alpha must be finite"),
    (lambda: g.orbit_truncation_rank(1.0, 0.1, 2**60), ValueError, r"d must be integers <= 2\*\*53"),
    (lambda: g.orbit_truncation_rank(True, 0.1, 10), TypeError, r"not bool"),
    (lambda: g.tail_margin(1.0, 0.0, 10), ValueError, r"tail_margin\(\): eps must be > 0.0; got 0.0"),
    (lambda: g.tail_margin(1.0, 1.0, 10), ValueError, r"tail_margin\(\): eps must be < 1.0; got 1.0"),
    (lambda: g.tail_margin(-2.0, 0.5, 10), ValueError, r"tail_margin\(\): alpha must be >= 0.0"),
    (lambda: g.plateau_thresholds(1.5, 10), ValueError, r"plateau_thresholds\(\): eps must be < 1.0"),
    (lambda: g.plateau_thresholds(0.1, 0), ValueError, r"plateau_thresholds\(\): d must be integers >= 1"),
    (lambda: g.plateau_thresholds(0.1, 10, rmax=-1), ValueError, r"rmax must be >= 0; got -1"),
    (lambda: g.plateau_thresholds(0.1, 10, rmax=2.0), TypeError, r"rmax must be an int"),
    (lambda: g.tail_lipschitz(10, lip="tight"), ValueError,
     r"tail_lipschitz\(\): lip must be \"paper\" or \"sharp\"; got 'tight'"),
    (lambda: g.tail_lipschitz(10, lip=2), TypeError, r"tail_lipschitz\(\): lip must be a str"),
    (lambda: g.tail_lipschitz(0), ValueError, r"tail_lipschitz\(\): d must be integers >= 1; got 0"),
    (lambda: g.tail_lipschitz(None), TypeError, r"tail_lipschitz\(\): d must be"),
]


@pytest.mark.parametrize("call,exc,match", BAD, ids=[b[2][:40] for b in BAD])
def test_bad_input(call, exc, match):
    with pytest.raises(exc, match=match):
        call()


def test_lipschitz_values():
    assert g.tail_lipschitz(1) == 0.0
    assert_rel(g.tail_lipschitz(np.array([2, 1000])), 2 * np.log([2, 1000]), 1e-15)
    assert_rel(g.tail_lipschitz(1000, "sharp"), 0.5 * math.log(1000), 1e-15)
    assert isinstance(g.tail_lipschitz(10), np.floating)


# ---------------------------------------------------------------- device route (cuda/tails.cu)

def test_tails_family_on_device(device):
    # the §11.6 rank table and random tuples on each device: the device runs the CPU kernel's
    # arithmetic (math/tails.hpp), so the values agree to a few ulps (1e-14 relative; ranks exactly)
    a = np.array([x[0] for x in RANKS])
    d = np.array([x[1] for x in RANKS], dtype=np.int64)
    eps = np.array([x[2] for x in RANKS])
    r = g.orbit_truncation_rank(device.asarray(a), device.asarray(eps), device.asarray(d))
    assert device.is_native(r) and r.dtype == np.int64
    np.testing.assert_array_equal(device.asnumpy(r), [x[3] for x in RANKS])
    rr = np.minimum(np.array([x[3] for x in RANKS]), d)
    t = g.orbit_tail(device.asarray(a), device.asarray(rr), device.asarray(d))
    assert device.is_native(t)
    assert_rel(device.asnumpy(t), g.orbit_tail(a, rr, d), 1e-14)
    m = g.tail_margin(device.asarray(a), device.asarray(eps), device.asarray(d))
    assert_rel(device.asnumpy(m), g.tail_margin(a, eps, d), 1e-14, atol=1e-15)
    p = g.plateau_thresholds(device.asarray(np.array([0.1, 0.01])), device.asarray(np.array([1000, 64])), rmax=5)
    assert device.is_native(p) and p.shape == (2, 5)
    assert_rel(device.asnumpy(p), g.plateau_thresholds(np.array([0.1, 0.01]), np.array([1000, 64]), rmax=5), 1e-13)
    lt = g.tail_lipschitz(device.asarray(d), lip="sharp")
    assert_rel(device.asnumpy(lt), g.tail_lipschitz(d, lip="sharp"), 2**-52)
    with pytest.raises(ValueError, match=r"orbit_tail\(\): r must be <= d; got r = 11 with d = 10"):
        g.orbit_tail(device.asarray(np.array([1.0])), device.asarray(np.array([11])), 10)
    with pytest.raises(ValueError, match=r"tail_margin\(\): eps must be > 0.0; got 0.0"):
        g.tail_margin(1.0, device.asarray(np.array([0.5, 0.0])), 10)


# The device routes' parameter checks (gsa_fast._gpu_orbit, shared by the orbit, tails and charts
# routes) are written against the array namespace: run on numpy
# arrays they must raise exactly what the CPU validators raise (same type, same message).
CHECKS = [
    ("real", dict(lo=0.0), [np.array([1.0, -1.0]), np.array([np.nan]), np.array([np.inf]),
                            np.array([True]), np.array(["a"]), np.array([0.0, 2.0])]),
    ("real", dict(lo=0.0, hi=1.0, lo_open=True, hi_open=True),
     [np.array([0.5, 0.0]), np.array([1.0]), np.array([-3.0]), np.array([0.2, 0.3])]),
    ("real", dict(lo=0.0, hi=1.0, hi_open=True), [np.array([0.0, 1.0]), np.array([0.99])]),
    ("width", {}, [np.array([1, 0]), np.array([2.0**53 + 2]), np.array([2**60]), np.array([3.5]),
                   np.array([5, 7]), np.array([np.inf])]),
    ("count", dict(minimum=0), [np.array([1, -1]), np.array([1.5]), np.array([np.nan]),
                                np.array([2.0**60]), np.array([3.0, 4.0]), np.array([7], np.uint64),
                                np.array([2**63], np.uint64), np.array([False])]),
]


@pytest.mark.parametrize("kind,kw,cases", CHECKS, ids=[f"{c[0]}-{i}" for i, c in enumerate(CHECKS)])
def test_device_checks_match_the_cpu_validators(kind, kw, cases):
    from gsa_fast import _gpu_orbit as go
    from gsa_fast._validate import as_count_array, as_real_array, as_width

    host = {"real": lambda a: as_real_array(a, "f", "x", **kw),
            "count": lambda a: as_count_array(a, "f", "x", **kw),
            "width": lambda a: as_width(a, "f", "x")}[kind]
    dev = {"real": lambda a: go.check_real(np, a, "f", "x", **kw),
           "count": lambda a: go.check_count(np, a, "f", "x", **kw),
           "width": lambda a: go.check_width(np, a, "f", "x")}[kind]
    for a in cases:
        try:
            want = host(a)
        except (TypeError, ValueError) as exc:
            with pytest.raises(type(exc)) as got:
                dev(a)
            assert str(got.value) == str(exc), (a, str(got.value), str(exc))
        else:
            out = dev(a)
            assert out.dtype == want.dtype
            np.testing.assert_array_equal(out, want)


def test_device_plateau_thresholds_keep_the_cpu_size_limit():
    # the device route allocated whatever e.size·rmax asked for (up to the device's memory, then a
    # kernel over it) where the CPU route refuses more than 2**28 values with a ValueError naming
    # rmax; the route's own code runs here on numpy and must stop before allocating
    from gsa_fast import _gpu_tails

    eps, d, rmax = np.array([0.1, 0.2]), np.array([10**6]), 2**27 + 1
    with pytest.raises(ValueError) as cpu:
        g.plateau_thresholds(eps, d, rmax=rmax)
    with pytest.raises(ValueError) as dev:
        _gpu_tails.plateau_thresholds(eps, d, rmax)
    assert str(dev.value) == str(cpu.value) and "rmax" in str(dev.value)


def test_regression_tail_near_alpha_zero_exp_argument():
    # power_range formed A^{1−s} as exp(t·log A) from a rounded t·log A: T_{1e-9}(254070) at
    # d = 1e6 was 10 ulp off and tail_margin 1.1e-15 from the truth (over its 1e-15 contract).
    # Exact values by mpmath (30 digits, fsum of the (log k)^j moments).
    a, d = 1e-9, 10**6
    assert abs(g.orbit_tail(a, 254070, d) - 0.745929999303784591503) <= 6e-16
    assert abs(g.tail_margin(a, 0.7459302523930595, d) - 2.53089274953709664e-07) <= 1e-15 * 0.75
