"""Property tests of the orbit tails (spec §8.2–§8.4) at the extremes: α from 0 and subnormal to
the largest double, r at 0, 1, d − 1, d, d up to 1e15, ε from subnormal-adjacent (1e-300) to
1 − 2^-53.

Tolerances. T_α(r) is a ratio of two non-negative sums, each a few ulp (power_range, reference
fsum/EM): 1e-13 relative, atol 1e-300 for underflowing suffixes. tail_margin differences tails
≤ 1 with that error: absolute 1e-15 (its docstring's contract). Plateau thresholds are roots of
log T_α(r) = log ε; log T's derivative in α is 2(E log k − E[log k | k > r]), of size ≥ 2 log
((r+1)/r)-ish, so a few-ulp error of log T moves the root by ≲ 1e-13 relative to α ≥ 1.

Exclusions (documented, not loosened):
* ranks at near-ties: where ε lies within 1e-13 relative of T_α(r) for some r the two routes
  may legitimately round onto different sides; the rank comparison is skipped when the margin
  is < 1e-13·ε (the invariants T(r) ≤ ε < T(r − 1) are still checked with that slack).
* ε below the normal range (< 2.2e-308) for plateau thresholds: T_α(r) = ε then lives in
  subnormals with ≤ 52 bits, so log T is coarse on both routes (ε = 5e-324, d = 10, r = 4:
  kernel 231.273, reference 231.25); the strategy draws ε ≥ 1e-300.
"""
from __future__ import annotations

import math

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import gsa_fast as g
from gsa_fast import reference as ref
from _helpers import assert_rel

PROPS = dict(deadline=None, derandomize=True, database=None,
             suppress_health_check=[HealthCheck.too_slow])
RTOL = 1e-13
AMAX = 1.7976931348623157e308

alpha_any = st.one_of(st.sampled_from([0.0, 5e-324, 1e-300, 1e-9, 0.5, 1.0, 20.0, 537.0, 1e5, 1e300, AMAX]),
                      st.floats(0.0, 6.0))
eps_any = st.one_of(st.sampled_from([1e-300, 1e-12, 0.5, 1 - 1e-12, 1 - 2.0**-53]),
                    st.floats(1e-300, 1 - 2.0**-53))
d_any = st.one_of(st.sampled_from([1, 2, 3, 255, 256, 257, 10**6, 10**6 + 1, 10**12, 10**15]),
                  st.integers(1, 10**15))
d_small = st.one_of(st.sampled_from([1, 2, 3, 4, 255, 256, 257]), st.integers(1, 3000))


@settings(max_examples=80, **PROPS)
@given(a=alpha_any, d=d_any, u=st.floats(0.0, 1.0))
def test_tail_matches_reference_and_bounds(a, d, u):
    r = min(d, int(u * d))
    for rr in sorted({0, min(1, d), r, max(d - 1, 0), d}):
        t = g.orbit_tail(a, rr, d)
        assert 0.0 <= t <= 1.0
        assert_rel(t, ref.orbit_tail(a, rr, d), RTOL, atol=1e-300, what=f"T a={a} r={rr} d={d}")
    assert g.orbit_tail(a, 0, d) == 1.0 and g.orbit_tail(a, d, d) == 0.0
    rs = np.unique(np.clip(np.array([0, 1, r - 1, r, r + 1, d - 1, d]), 0, d))
    assert np.all(np.diff(g.orbit_tail(a, rs, d)) <= 0.0)  # non-increasing in r


@settings(max_examples=80, **PROPS)
@given(a=alpha_any, e=eps_any, d=d_any)
def test_rank_definition_and_reference(a, e, d):
    r = int(g.orbit_truncation_rank(a, e, d))
    assert 1 <= r <= d
    tr, tp = g.orbit_tail(a, r, d), g.orbit_tail(a, r - 1, d)
    slack = RTOL * e
    assert tr <= e + slack and (r == 1 or tp > e - slack), (r, tr, tp)
    gam = g.tail_margin(a, e, d)
    assert gam >= 0.0
    if d <= 10**6 + 1 or a > 1e-9:  # the reference's huge-d suffixes are EM sums: still fast
        if gam >= slack:  # near-tie exclusion (module docstring)
            assert int(ref.orbit_truncation_rank(a, e, d)) == r
        assert abs(gam - ref.tail_margin(a, e, d)) <= 1e-15


@settings(max_examples=60, **PROPS)
@given(a=alpha_any, e1=eps_any, e2=eps_any, d=d_any)
def test_rank_monotone_in_eps(a, e1, e2, d):
    lo, hi = min(e1, e2), max(e1, e2)
    assert g.orbit_truncation_rank(a, hi, d) <= g.orbit_truncation_rank(a, lo, d)


@settings(max_examples=60, **PROPS)
@given(a=st.floats(0.0, 6.0), b=st.floats(0.0, 6.0), d=d_any, u=st.floats(0.0, 1.0))
def test_lipschitz_in_alpha(a, b, d, u):
    # Lemma 5.8 (84) with the sharp constant ½ log d; rounding of two tails ≤ 1: 4e-16.
    r = min(d, int(u * d))
    lip = g.tail_lipschitz(d, "sharp")
    assert abs(g.orbit_tail(a, r, d) - g.orbit_tail(b, r, d)) <= lip * abs(a - b) * (1 + 1e-12) + 4e-16


@settings(max_examples=25, **PROPS)
@given(e=eps_any, d=d_small)
def test_plateau_thresholds(e, d):
    # rmax ≤ 64 (the default cap): the reference's bisection costs ~0.1 s per threshold at d ~ 3000.
    rmax = min(d, 64)
    a = np.asarray(g.plateau_thresholds(e, d, rmax))
    assert a.shape == (rmax,)
    assert np.all(np.isfinite(a)) and np.all(a >= 0.0)
    assert np.all(np.diff(a) <= 0.0)  # a_1 ≥ a_2 ≥ …
    assert_rel(a, ref.plateau_thresholds(e, d, rmax), 1e-12, atol=1e-15, what=f"eps={e} d={d}")
    # At the root T_{a_r}(r) = ε (a_r > 0): relative error of T ~ |∂ log T/∂α|·δα ≤ 2 log d·1e-12·a_r.
    for r in np.unique(np.linspace(1, rmax, 5).astype(int)):
        ar = a[r - 1]
        if ar > 0.0:
            assert_rel(g.orbit_tail(ar, r, d), e, 2 * math.log(d) * 1e-12 * max(ar, 1.0) + 1e-13,
                       what=f"T(a_r) r={r}")


def test_regression_reference_huge_alpha_far_suffix():
    # 2α = 2e300: the reference's midpoint-rule suffix (d > 1e6, b < 2a) formed x^(−s−1) with
    # s·x overflowing and returned NaN; the exact tail is 0 (every k ≥ 2 term underflows).
    assert ref.orbit_tail(1e300, 5 * 10**11, 10**12) == 0.0 == g.orbit_tail(1e300, 5 * 10**11, 10**12)
