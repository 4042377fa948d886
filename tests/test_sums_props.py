"""Property tests of the generalized harmonic sums (spec §3) at the extremes: d up to 1e15, s from
0 and subnormal through 1 ± 1e-12 to the largest double, powers 0/1/2, ranges whose start sits at
the branch switches of math/harmonic.hpp (em_start: a ≤ 2 → 16, else max(a, ⌈2.9(s+6)⌉); the
direct/EM switch b < m + 4; the 68-entry log table; the AVX2 head's s·log b > 700 cut-off).

Tolerances. The compiled sums promise 1e-13 relative for every d ≤ 1e15, s ≥ 0 (issue #2
contract, tests/test_sums.py); the reference's own EM (three Bernoulli terms from k = 64) is good
to a few ulp, so kernel vs reference is held to 1e-13 relative. Results below the normal range
(k^-s subnormal, s·log k > 708) carry an absolute rounding of 2^-1074 per term, hence atol 1e-300.
All terms are ≥ 0, so a split range a..b = a..c + c+1..b adds two results with relative errors ≤
1e-13 each: the sum is within 1e-13 relative plus one rounding.
"""
from __future__ import annotations

import math
import time

import mpmath as mp
import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import gsa_fast as g
from gsa_fast import reference as ref
from _helpers import assert_rel

PROPS = dict(deadline=None, derandomize=True, database=None,
             suppress_health_check=[HealthCheck.too_slow])
RTOL = 1e-13
ATOL = 1e-300

# s at the extremes: 0, subnormal, tiny, the s = 1 pole of the EM integral ± 1e-12, where the
# AVX2 head hands over (700/log 64), where the EM range underflows (745/log 3), where every
# k ≥ 2 term underflows (1075), em_start ~ 9e15 (1e10, 1e300), and the largest double.
S_EXTREME = [0.0, 5e-324, 1e-300, 1e-12, 1.0 - 1e-12, 1.0, 1.0 + 1e-12, 2.0, 168.3, 678.0,
             1075.0, 1e5, 1e10, 1e300, 1.7976931348623157e308]
s_any = st.one_of(st.sampled_from(S_EXTREME), st.floats(0.0, 40.0), st.floats(40.0, 2000.0))
# d at the rule boundaries: 15/16/19/20 (prefix EM start 16, direct below m + 4 = 20), 63..68
# (log table), 255..257, and huge counts.
D_EDGE = [0, 1, 2, 3, 15, 16, 17, 19, 20, 21, 63, 64, 67, 68, 69, 255, 256, 257,
          10**6, 10**9, 10**12, 10**15 - 1, 10**15]
d_any = st.one_of(st.sampled_from(D_EDGE), st.integers(0, 10**15))


@settings(max_examples=120, **PROPS)
@given(d=d_any, s=s_any)
def test_prefix_matches_reference_at_extremes(d, s):
    for j in range(3):
        v = g.harmonic(d, s, j)
        assert np.isfinite(v), (d, s, j, v)
        assert_rel(v, ref.harmonic(d, s, j), RTOL, atol=ATOL, what=f"d={d} s={s} power={j}")


@settings(max_examples=80, **PROPS)
@given(a=st.one_of(st.sampled_from([1, 2, 3, 4, 16, 17, 64, 68, 10**6, 10**12]),
                   st.integers(1, 10**15)),
       n=st.one_of(st.sampled_from([0, 1, 3, 4, 5, 300]), st.integers(0, 10**7)),
       s=s_any)
def test_range_matches_reference_and_is_fast(a, n, s):
    b = min(a + n, 10**15)
    t0 = time.perf_counter()
    v = [g.harmonic_range(a, b, s, j) for j in range(3)]
    assert time.perf_counter() - t0 < 2.0, (a, b, s)  # O(em_start) work, never O(b − a)
    for j in range(3):
        assert np.isfinite(v[j])
        assert_rel(v[j], ref.harmonic_range(a, b, s, j), RTOL, atol=ATOL, what=f"a={a} b={b} s={s} j={j}")


@settings(max_examples=60, **PROPS)
@given(a=st.integers(1, 10**12), n1=st.integers(0, 10**6), n2=st.integers(0, 10**6), s=s_any)
def test_range_additivity(a, n1, n2, s):
    c, b = a + n1, a + n1 + n2 + 1
    whole = g.harmonic_range(a, b, s)
    parts = g.harmonic_range(a, c, s) + g.harmonic_range(c + 1, b, s)
    assert_rel(parts, whole, 2.5 * RTOL, atol=ATOL, what=f"a={a} c={c} b={b} s={s}")


@settings(max_examples=60, **PROPS)
@given(d=st.integers(1, 10**15), s1=s_any, s2=s_any)
def test_monotone_in_s_and_bounds(d, s1, s2):
    lo, hi = min(s1, s2), max(s1, s2)
    h_lo, h_hi = g.harmonic(d, lo), g.harmonic(d, hi)
    # H decreases in s (∂_s H = −L ≤ 0); 1 ≤ H ≤ d; rounding allowance 1e-13 relative.
    assert h_hi <= h_lo * (1 + RTOL)
    assert 1.0 <= h_hi * (1 + RTOL) and h_lo <= d * (1 + RTOL)
    # L, Q ≥ 0 and Q·H ≥ L² (Cauchy–Schwarz: Var log k ≥ 0), up to 3e-13 relative.
    h, l, q = g.harmonic_sums(d, hi)
    assert l >= 0.0 and q >= 0.0
    assert q * h >= l * l * (1 - 3 * RTOL)


def test_mpmath_large_and_subnormal_s():
    # mpmath at 50 digits for the terms that survive: d = 20 (direct head only) and d = 1e15.
    for s in (5e-324, 700.0, 745.0, 1074.0):
        with mp.workdps(50):
            exact = [mp.fsum(mp.mpf(k) ** -mp.mpf(s) * mp.log(k) ** j for k in range(1, 21))
                     for j in range(3)]
        for j in range(3):
            assert_rel(g.harmonic(20, s, j), float(exact[j]), RTOL, atol=ATOL, what=f"s={s} j={j}")


def test_regression_huge_s_no_nan():
    # s·log 3 overflows to inf for s = 1.7e308: the direct head formed yl = inf and the term as
    # 0 + 0·inf = NaN (CPU and CUDA share math::direct_range). Exact: H = 1, L = Q = 0.
    for d in (3, 20, 10**15):
        h, l, q = g.harmonic_sums(d, 1.7976931348623157e308)
        assert (h, l, q) == (1.0, 0.0, 0.0)
    assert np.all(g.orbit_probs(1.7e308, 3) == [1.0, 0.0, 0.0])


def test_regression_huge_s_range_does_not_loop():
    # em_start(3, 1e300) = 9e15 > b: the whole range went to the direct loop, whose early stop
    # compares against a zero sum, so it visited all 1e15 zero terms (harmonic_range(3, 1e8,
    # 1e300) took 4.6 s; 1e15 would take months).
    t0 = time.perf_counter()
    assert g.harmonic_range(3, 10**15, 1e300) == 0.0
    assert g.harmonic_range(3, 10**15, 1e10, 2) == 0.0
    assert g.harmonic_range(10**14, 10**15, 1e300, 1) == 0.0
    assert time.perf_counter() - t0 < 1.0
    assert math.isclose(g.harmonic_range(2, 10**15, 1073.0), 2.0**-1073, rel_tol=0, abs_tol=5e-324)
