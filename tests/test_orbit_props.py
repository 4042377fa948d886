"""Property tests of the power-law orbit (spec §4, §5.3) at the extremes: α = 0, subnormal, tiny,
near 1/2, large enough that every k ≥ 2 term underflows (2α ≥ 1075), and up to the largest
double (2α = inf, clamped by math::sum_exponent); d = 1, 2, 3, the direct/EM switch of
weighted_sum (319/320), the reference's materialize limit (1e6/1e6+1) and d = 1e9..1e15.

Tolerances. ψ, Var, Ent and the orbit probabilities are ratios/logs of non-negative sums that the
kernel and the reference both evaluate to ~1e-15 relative (test_orbit.py holds them to the spec
§11 default 1e-13); the same 1e-13 relative applies here, plus atol 1e-300 where a result
underflows. radial m = ½ log d − ½ ψ cancels for α → 0 (both terms ≈ ½ log d): either side may
be off by a few ulp of ½ log d, so m gets atol 8u·log d (derived, not fitted).
KL and Bures compare two (α, β); see the per-test notes.
"""
from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import gsa_fast as g
from gsa_fast import reference as ref
from _helpers import assert_rel

PROPS = dict(deadline=None, derandomize=True, database=None,
             suppress_health_check=[HealthCheck.too_slow])
U = 2.0**-53
RTOL = 1e-13
ATOL = 1e-300
AMAX = 1.7976931348623157e308

A_EXTREME = [0.0, 5e-324, 1e-300, 1e-12, 0.5 - 1e-12, 0.5, 0.5 + 1e-12, 1.0, 20.0, 372.0,
             537.0, 800.0, 1e5, 1e300, AMAX]
alpha_any = st.one_of(st.sampled_from(A_EXTREME), st.floats(0.0, 8.0), st.floats(8.0, 600.0))
D_EDGE = [1, 2, 3, 4, 127, 128, 319, 320, 321, 1000, 10**6, 10**6 + 1, 10**9, 10**15]
d_small = st.one_of(st.sampled_from([d for d in D_EDGE if d <= 10**6 + 1]), st.integers(1, 5000))
d_any = st.one_of(st.sampled_from(D_EDGE), st.integers(1, 10**15))


@settings(max_examples=100, **PROPS)
@given(a=alpha_any, d=d_any)
def test_unary_matches_reference(a, d):
    logd = math.log(d)
    assert_rel(g.log_partition(a, d), ref.log_partition(a, d), RTOL, atol=8 * U * (1 + logd), what="psi")
    assert_rel(g.radial(a, d), ref.radial(a, d), RTOL, atol=8 * U * logd, what="m")
    assert_rel(g.radial(a, d, 1), ref.radial(a, d, 1), RTOL, atol=ATOL, what="m'")
    assert_rel(g.orbit_variance(a, d), ref.orbit_variance(a, d), RTOL, atol=ATOL, what="Var")
    # Ent = log H + 2α L/H: two non-negative terms, no cancellation.
    assert_rel(g.orbit_entropy(a, d), ref.orbit_entropy(a, d), RTOL, atol=ATOL, what="Ent")
    assert g.fisher_information(a, d) == 4.0 * g.orbit_variance(a, d)


@settings(max_examples=80, **PROPS)
@given(a=alpha_any, d=d_any)
def test_unary_bounds(a, d):
    logd = math.log(d)
    psi, m, var, ent = g.log_partition(a, d), g.radial(a, d), g.orbit_variance(a, d), g.orbit_entropy(a, d)
    for v in (psi, m, var, ent):
        assert np.isfinite(v), (a, d)
    slack = 8 * U * (1 + logd)
    # 0 ≤ ψ = log H ≤ log d; 0 ≤ m ≤ ½ log d; 0 ≤ Var ≤ (log d)²/4 (Popoviciu, log k ∈ [0, log d]);
    # 0 ≤ Ent ≤ log d; m′ = E log k ∈ [0, log d].
    assert -slack <= psi <= logd + slack
    assert -slack <= m <= 0.5 * logd + slack
    assert 0.0 <= var <= 0.25 * logd**2 * (1 + RTOL)
    assert -slack <= ent <= logd + slack
    assert 0.0 <= g.radial(a, d, 1) <= logd * (1 + RTOL)
    # m = ½ log d − ½ ψ (13)
    assert abs(m - (0.5 * logd - 0.5 * psi)) <= slack


@settings(max_examples=60, **PROPS)
@given(a=alpha_any, b=alpha_any, d=d_any)
def test_monotone_in_alpha(a, b, d):
    lo, hi = min(a, b), max(a, b)
    # ψ decreases, m increases in α (ψ′ = −2 m′ ≤ 0); rounding allowance 8u(1 + log d).
    slack = 8 * U * (1 + math.log(d))
    assert g.log_partition(hi, d) <= g.log_partition(lo, d) + slack
    assert g.radial(hi, d) >= g.radial(lo, d) - slack


@settings(max_examples=60, **PROPS)
@given(a=alpha_any, d=d_small)
def test_probs_match_reference(a, d):
    p = g.orbit_probs(a, d)
    # p_k = k^-2α / H: pow and the reciprocal are ≤ 1 ulp each, H ≤ 1e-15 relative → 1e-13.
    assert_rel(p, ref.orbit_probs(a, d), RTOL, atol=ATOL, what=f"probs a={a} d={d}")
    assert np.all(np.isfinite(p)) and np.all(p >= 0)
    assert np.all(np.diff(p) <= 0)  # non-increasing in k
    assert abs(math.fsum(p) - 1.0) <= 4 * U * d


@settings(max_examples=60, **PROPS)
@given(a=alpha_any, b=alpha_any, d=d_any)
def test_kl_bures_invariants(a, b, d):
    kl = g.orbit_kl(a, b, d)
    bw = g.orbit_bures_distance(a, b, d)
    assert np.isfinite(kl) and kl >= 0.0
    assert np.isfinite(bw) and 0.0 <= bw <= math.sqrt(2.0 * d) * (1 + RTOL)
    assert g.orbit_kl(a, a, d) == 0.0 and g.orbit_bures_distance(a, a, d) == 0.0
    # symmetry of d_BW: 1 − BC is symmetric in (α, β) by (F1); 1e-13 relative as in test_orbit.py.
    assert_rel(bw, g.orbit_bures_distance(b, a, d), RTOL, atol=ATOL)
    # Pinsker: TV ≤ √(KL/2), and d_BW² = 2d(1 − BC) with 1 − BC ≤ TV (BC ≥ 1 − TV).
    assert bw * bw / (2.0 * d) <= math.sqrt(kl / 2.0) * (1 + 1e-12) + 1e-15


@settings(max_examples=40, **PROPS)
@given(a=alpha_any, b=alpha_any, d=d_small)
def test_kl_bures_match_reference(a, b, d):
    # Both routes evaluate the non-negative stable sums when the closed form's error estimate
    # exceeds 1e-14 of the value: the kernel promises 1e-13 relative (test_orbit.py's RTOL);
    # values below ~1e-290 are dominated by subnormal rounding (atol).
    # KL's closed form ψ(β) − ψ(α) + 2(β−α)μ_α holds μ_α only to the subnormal spacing 2^-1074
    # once p_k(α) for k ≥ 2 is subnormal (α ≳ 500): an absolute error of 2|β−α|·2^-1074 (α = 537,
    # β = 1e300, d = 2: 9.9e-24 against the exact 6.85e-24); both routes are exact above that floor
    kl_floor = max(1e-290, (4.0 * 2.0 ** -1074) * abs(b - a))
    kg, kr = g.orbit_kl(a, b, d), ref.orbit_kl(a, b, d)
    if not (np.isinf(kg) and kg == kr):  # a KL beyond the float64 range is +inf on both routes
        assert_rel(kg, kr, RTOL, atol=kl_floor, what="KL")
    # d_BW = √(2d(1 − BC)): 1 − BC cannot be resolved below the smallest subnormal 2^-1074 (α + β
    # beyond ~1075 at d = 2 puts it there: 537 vs 800 is 1 − BC ≈ 2.5e-324), so d_BW has an
    # absolute floor of √(2d·4·2^-1074), about 6e-162·√d, on either route
    assert_rel(g.orbit_bures_distance(a, b, d), ref.orbit_bures_distance(a, b, d), RTOL,
               atol=math.sqrt(2.0 * d * 4.0 * 2.0 ** -1074), what="dBW")


def test_regression_reference_kl_log_h_near_one():
    # The reference's large-KL branch formed log H_α as log(1 + g) with g ≈ 9e-13 (α = 20), which
    # keeps only ~4 digits of g: KL(20 ‖ 372, d = 3) was 4.4290180545e-10. mpmath at 60 digits:
    exact = 4.42901805372405807e-10
    for impl in (g, ref):
        assert_rel(impl.orbit_kl(20.0, 372.0, 3), exact, RTOL, what=impl.__name__)


def test_regression_reference_alpha_max():
    # 2α = inf at α = 1.8e308: the reference formed 0·inf = NaN (k = 1) in Ent and Var and an
    # overflow warning in orbit_probs; the law is e_1, so Ent = Var = 0 and p = (1, 0, 0).
    for impl in (g, ref):
        assert impl.orbit_entropy(AMAX, 3) == 0.0
        assert impl.orbit_variance(AMAX, 10**15) == 0.0
        assert np.all(impl.orbit_probs(AMAX, 3) == [1.0, 0.0, 0.0])


def test_regression_bures_distance_when_the_stable_sums_underflow():
    # α + β ≳ 1075 at d = 2: the stable route's weights k^-(α+β) underflow for k ≥ 2 and it gave
    # d_BW = 0 for distinct points; 1 − BC ≈ ½·2^-744 here (closed form, exact to rounding)
    got = g.orbit_bures_distance(372.0, 800.0, 2)
    assert got == pytest.approx(math.sqrt(2.0 * 2 * 0.5 * 2.0 ** -744), rel=1e-12)
    assert got == ref.orbit_bures_distance(372.0, 800.0, 2)
