"""Differential property tests (hypothesis) for the depth family (docs/depth.md, depth-math spec).

Every property compares the compiled kernel with an oracle that is independent of both the kernel
and the float64 reference where the reference itself would be the weak side (mpmath at 40–60
digits), or with an identity the mathematics gives (scaling, permutation, Euler's relation for
homogeneous functions, det = product of R diagonals). Tolerances are derived next to each test
from the input precision and the algorithm; ``u = 2⁻⁵³``.

Reproducible in CI: every test is ``derandomize=True`` (examples are a function of the test's
source) with no example database.
"""
from __future__ import annotations

import math

import mpmath
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import gsa_fast as g
from gsa_fast import reference as R

U = 2.0 ** -53
PROPS = dict(deadline=None, derandomize=True, database=None)

# ---- strategies --------------------------------------------------------------------------------
# Singular values: exact zeros, denormals, both ends of the float64 range, exact ties (a value
# drawn from a small pool is repeated), near-ties (1 ± k·2⁻⁴⁰), and plain random magnitudes.
_SPECIAL = [0.0, 5e-324, 2.2250738585072014e-308, 1e-300, 1e-150, 0.5, 1.0, 3.0, 1e150, 1e300, 1.7e308]


def _sigma_list(lo_exp=-300, hi_exp=300, special=_SPECIAL, max_size=10):
    mag = st.builds(lambda e, f: f * 10.0 ** e, st.integers(lo_exp, hi_exp), st.floats(1.0, 9.99))
    near = st.builds(lambda k: 1.0 + k * 2.0 ** -40, st.integers(-4, 4))
    elem = st.one_of(st.sampled_from(special), mag, near)
    return st.lists(elem, min_size=1, max_size=max_size).flatmap(
        lambda xs: st.lists(st.sampled_from(xs), min_size=1, max_size=max_size))  # repeats = ties


# ---- effective_rank (§8.6) ---------------------------------------------------------------------

def _erank_mp(vals):
    with mpmath.workdps(40):
        v = [mpmath.mpf(float(x)) for x in vals]
        tot = mpmath.fsum(v)
        if tot == 0:
            return math.nan
        h = -mpmath.fsum(q * mpmath.log(q) for q in (x / tot for x in v) if q > 0)
        return float(mpmath.exp(h))


# Tolerance (relative): the kernel forms σ̂ = σ/σ_max (one rounding), the Neumaier sums of σ̂ and
# σ̂ log σ̂ (each term to ~2u; |σ̂ log σ̂| ≤ 1/e and Σσ̂ ≥ 1, so the quotient is off by ≲ 2n·u/e
# absolute), then log and exp (a few u): |Δ log erank| ≲ (n + 4)·u, times 4 for the compensated
# sums' own rounding and exp's ulp. float32 input is exact in float64, so u stays 2⁻⁵³.
def _erank_tol(n):
    return 4.0 * (n + 4) * U


@settings(max_examples=120, **PROPS)
@given(_sigma_list(max_size=12), st.sampled_from([np.float64, np.float32]))
def test_effective_rank_vs_mpmath(vals, dt):
    x = np.asarray(vals, dtype=np.float64)
    if dt is np.float32:
        with np.errstate(over="ignore", under="ignore"):
            x = x.astype(np.float32)
        if not np.isfinite(x).all():  # 1e300 overflows float32 storage: not a float32 spectrum
            x = np.where(np.isfinite(x), x, np.float32(3e38)).astype(np.float32)
    got = float(g.effective_rank(x))
    want = _erank_mp(x)
    if math.isnan(want):
        assert math.isnan(got)
        return
    assert abs(got - want) <= _erank_tol(x.size) * want, (got, want)
    # bounds: 1 ≤ erank ≤ number of nonzero values (rounding allowed at the ends)
    nnz = int((x > 0).sum())
    assert 1.0 - _erank_tol(x.size) <= got <= nnz * (1.0 + _erank_tol(x.size))


@settings(max_examples=60, **PROPS)
@given(_sigma_list(lo_exp=-150, hi_exp=150, max_size=10), st.integers(-900, 900), st.randoms(use_true_random=False))
def test_effective_rank_scale_permutation_invariance(vals, e2, rnd):
    x = np.asarray(vals, dtype=np.float64)
    x = x[(x == 0) | (x > 1e-30)]  # keep the scaled values normal (no denormal rounding at 2^±900)
    if not (x > 0).any():
        return
    c = 2.0 ** e2
    with np.errstate(over="ignore", under="ignore"):
        y = x * c
    if not (np.isfinite(y).all() and ((y == 0) == (x == 0)).all() and (y[y > 0] >= 2.2250738585072014e-308).all()):
        return
    perm = list(range(x.size))
    rnd.shuffle(perm)
    base = float(g.effective_rank(x))
    # power-of-two scaling is exact, so σ̂ = σ/σ_max is bit-identical: erank must be too
    assert float(g.effective_rank(y)) == base
    # a permutation reorders the compensated sums: the tolerance of the mpmath comparison, twice
    assert abs(float(g.effective_rank(y[perm])) - base) <= 2 * _erank_tol(x.size) * base


@settings(max_examples=40, **PROPS)
@given(st.integers(1, 64), st.floats(1e-300, 1e300), st.integers(0, 5))
def test_effective_rank_equal_values(r, v, zeros):
    # r equal nonzero values (plus exact zeros, which carry no mass) have erank exactly r
    x = np.concatenate([np.full(r, v), np.zeros(zeros)])
    got = float(g.effective_rank(x))
    assert abs(got - r) <= _erank_tol(x.size) * r


@settings(max_examples=40, **PROPS)
@given(st.lists(_sigma_list(lo_exp=-30, hi_exp=30, special=[0.0, 1e-30, 0.5, 1.0, 3.0, 1e30], max_size=8),
                min_size=1, max_size=5),
       st.sampled_from([np.float64, np.float32]))
def test_effective_rank_ragged_and_strided(rows, dt):
    # a ragged list is the same as its rows one by one; a non-contiguous view as its copy
    parts = [np.asarray(r, dtype=dt) for r in rows]
    got = g.effective_rank(parts)
    each = np.array([float(g.effective_rank(p)) for p in parts])
    np.testing.assert_array_equal(got, each)
    ref = R.effective_rank(parts)
    ok = ~np.isnan(each)
    assert (np.isnan(ref) == ~ok).all()
    # the reference forms q = σ/Σσ directly; the range here (1e-30..1e31) keeps it exact to ~n·u
    assert np.all(np.abs(each[ok] - ref[ok]) <= _erank_tol(8) * ref[ok])
    w = max(p.size for p in parts)
    dense = np.zeros((len(parts), 2 * w), dtype=dt)
    for i, p in enumerate(parts):
        dense[i, : 2 * p.size : 2] = p
    view = dense[:, ::2]  # strided rows; the padding zeros change nothing
    assert view.strides[-1] == 2 * dense.itemsize
    np.testing.assert_allclose(g.effective_rank(view), each, rtol=2 * _erank_tol(2 * w), atol=0, equal_nan=True)


# ---- dln_eigenvalues (§8.3) ---------------------------------------------------------------------

def _lam_mp(a, b, N):
    """λ_kl exactly: the literal N-term sum (finite N, with 0⁰ = 1) or the log-mean (N = None)."""
    a, b = mpmath.mpf(float(a)), mpmath.mpf(float(b))
    if N is None:
        if a == b:
            return a * a
        if a == 0 or b == 0:
            return mpmath.mpf(0)
        return (a * a - b * b) / (2 * mpmath.log(a) - 2 * mpmath.log(b))
    tot = mpmath.mpf(0)
    for p in range(1, N + 1):
        ea, eb = mpmath.mpf(2 * (N - p)) / N, mpmath.mpf(2 * (p - 1)) / N
        tot += (1 if ea == 0 else a ** ea) * (1 if eb == 0 else b ** eb)
    return tot


# Tolerance (relative) for one λ: the kernel evaluates M^{2−2/N} as exp((2−2/N)·log M); log M is
# off by u·|log M| absolute and 2−2/N by u relative, so the power is off by ≲ 2u(|log M| + 1); the
# ratio (−expm1(−x))/(−expm1(−x/N)) has |d log f/dx| ≤ 1 and x = 2(log M − log m) is off by
# 2u(|log M| + |log m|); the divisions and expm1 add a few u. Sum ≲ u(4|log M| + 2|log m| + 8),
# times 2 for slack. (The exponent's rounding is inherent: pow(M, 2−2/N) has the same error.)
def _lam_tol(a, b):
    la = [abs(math.log(v)) for v in (a, b) if v > 0] or [0.0]
    return 2 * U * (6 * max(la) + 8)


_DLN_SPECIAL = [0.0, 5e-324, 1e-300, 1e-150, 0.5, 1.0, 3.0, 1e150]


@settings(max_examples=80, **PROPS)
@given(_sigma_list(lo_exp=-150, hi_exp=150, special=_DLN_SPECIAL, max_size=6),
       st.sampled_from([None, 1, 2, 3, 4, 7, 50]))
def test_dln_eigenvalues_vs_mpmath(vals, N):
    s = np.asarray(vals, dtype=np.float64)
    lam = g.dln_eigenvalues(s, N)
    np.testing.assert_array_equal(lam, lam.T)  # symmetric by construction
    with mpmath.workdps(50):
        for k in range(s.size):
            for l in range(s.size):
                want = float(_lam_mp(s[k], s[l], N))
                assert abs(lam[k, l] - want) <= _lam_tol(s[k], s[l]) * want, (s[k], s[l], N, lam[k, l], want)


@settings(max_examples=60, **PROPS)
@given(_sigma_list(lo_exp=-100, hi_exp=100, special=_DLN_SPECIAL[:-1], max_size=6),
       st.sampled_from([None, 2, 3, 8]), st.integers(-60, 60), st.randoms(use_true_random=False))
def test_dln_eigenvalues_homogeneous_and_equivariant(vals, N, e2, rnd):
    # λ(cσ) = c^{2−2/N} λ(σ) (c² for N = ∞) and a permutation of σ permutes rows and columns
    s = np.asarray(vals, dtype=np.float64)
    s = s[(s == 0) | (s > 1e-200)]
    if s.size == 0:
        return
    c = 2.0 ** e2
    deg = 2.0 if N is None else 2.0 - 2.0 / N
    lam = g.dln_eigenvalues(s, N)
    scaled = g.dln_eigenvalues(s * c, N)
    tol = np.array([[2 * _lam_tol(a * c, b * c) + _lam_tol(a, b) for b in s] for a in s])
    want = lam * 2.0 ** (deg * e2)
    assert np.all(np.abs(scaled - want) <= tol * want)
    perm = list(range(s.size))
    rnd.shuffle(perm)
    np.testing.assert_array_equal(g.dln_eigenvalues(s[perm], N), lam[np.ix_(perm, perm)])


# ---- dln_log_volume (§8.5) and its gradient -------------------------------------------------------

def _grad_mp(s, i, N):
    """∂S/∂σ_i exactly (mpmath, 60 digits): Σ_{j≠i} ∂/∂a ½ log λ(a, σ_j) by the direct formulas,
    which are exact at this precision away from ties; ties take the limit (1 − 1/N)/(2a)."""
    a = mpmath.mpf(float(s[i]))
    tot = mpmath.mpf(0)
    for j, bj in enumerate(s):
        if j == i:
            continue
        b = mpmath.mpf(float(bj))
        if N == 1:
            continue
        if a == b:
            tot += (1 - (0 if N is None else mpmath.mpf(1) / N)) / (2 * a)
        elif N is None:
            tot += a / (a * a - b * b) - 1 / (a * (2 * mpmath.log(a) - 2 * mpmath.log(b)))
        else:  # d/da ½ log Σ_p a^{2(N−p)/N} b^{2(p−1)/N}, literally
            lam = _lam_mp(a, b, N)
            dl = mpmath.mpf(0)
            for p in range(1, N):
                ea, eb = mpmath.mpf(2 * (N - p)) / N, mpmath.mpf(2 * (p - 1)) / N
                dl += ea * a ** (ea - 1) * (1 if eb == 0 else b ** eb)
            tot += dl / (2 * lam)
    return tot


@settings(max_examples=60, **PROPS)
@given(_sigma_list(lo_exp=-100, hi_exp=100, special=[0.5, 1.0, 3.0, 1e-100, 1e100], max_size=6),
       st.sampled_from([None, 1, 2, 3, 5]))
def test_dln_log_volume_vs_mpmath(vals, N):
    s = np.asarray(vals, dtype=np.float64)
    S, G = g.dln_log_volume(s, N, grad=True)
    d = s.size
    with mpmath.workdps(60):
        terms = [mpmath.log(_lam_mp(s[j], s[k], N)) for j in range(d) for k in range(j + 1, d)]
        want = float(mpmath.fsum(terms) / 2)
        # S: each ½ log λ is off by ½·_lam_tol (relative error of λ = absolute error of log λ), the
        # compensated sum adds ~u·Σ|½ log λ|
        tol = sum(0.5 * _lam_tol(s[j], s[k]) for j in range(d) for k in range(j + 1, d))
        tol += 4 * U * float(mpmath.fsum(abs(t) for t in terms))
        assert abs(float(S) - want) <= tol + 1e-300, (S, want)
        # gradient: σ_i ∂S/∂σ_i is a sum of d − 1 terms T(u) ∈ [0, 1]; each is off by ≲ 200u
        # absolute (the direct form's two reciprocals, each ≤ 1/(2·1e-2), cancel at the series
        # switch |u| = 1e-2; u = log σ_i − log σ_j is off by 2u·max|log σ|, |T'| ≤ 1/2)
        for i in range(d):
            wi = _grad_mp(s, i, N)
            lg = max(abs(math.log(v)) for v in s)
            gtol = (d - 1) * U * (200 + 2 * lg)
            assert abs(float(G[i]) * s[i] - float(wi * s[i])) <= gtol, (i, G[i], wi)


@settings(max_examples=60, **PROPS)
@given(_sigma_list(lo_exp=-100, hi_exp=100, special=[0.5, 1.0, 3.0, 1e-100, 1e100], max_size=8),
       st.sampled_from([None, 2, 3, 8, 1000]), st.integers(-100, 100), st.randoms(use_true_random=False))
def test_dln_log_volume_scaling_euler_permutation(vals, N, e2, rnd):
    # S is homogeneous in log σ: S(cσ) = S(σ) + C(d,2)(1 − 1/N) log c (spec §8.5 "Scaling"), and
    # Euler's relation Σ σ_i ∂S/∂σ_i = C(d,2)(1 − 1/N) follows: an identity between the value and
    # the gradient that neither implementation uses.
    s = np.asarray(vals, dtype=np.float64)
    d = s.size
    pairs = d * (d - 1) // 2
    deg = pairs * (1.0 if N is None else 1.0 - 1.0 / N)
    S, G = g.dln_log_volume(s, N, grad=True)
    lg = max(abs(math.log(v)) for v in s)
    # per pair, log λ is off by _lam_tol ≲ 2u(6·lg + 8); the shift is exact (c a power of two, log c
    # rounded once)
    c = 2.0 ** e2
    Sc = g.dln_log_volume(s * c, N)
    stol = pairs * 2 * U * (6 * (lg + 70) + 8) + 4 * U * abs(deg * e2 * math.log(2))
    assert abs(Sc - (S + deg * e2 * math.log(2.0))) <= stol + 4 * U * (abs(S) + abs(Sc))
    # Euler: each σ_i g_i is a sum of d − 1 terms in [0, 1], each off by ≲ (200 + 2·lg)u
    assert abs(float(np.dot(s, G)) - deg) <= d * (d - 1) * U * (200 + 2 * lg) + 4 * U * deg
    perm = list(range(d))
    rnd.shuffle(perm)
    Sp, Gp = g.dln_log_volume(s[perm], N, grad=True)
    assert abs(Sp - S) <= 2 * stol + 1e-300
    np.testing.assert_allclose(Gp, G[perm], rtol=(d - 1) * U * (200 + 2 * lg) * 4 + 1e-15)


@settings(max_examples=60, **PROPS)
@given(st.lists(st.sampled_from([0.5, 1.0, 3.0, 1e-100, 1e100, 7.25]), min_size=1, max_size=5),
       st.integers(1, 3), st.sampled_from([None, 1, 2, 3, 5]))
def test_dln_log_volume_with_zeros(vals, zeros, N):
    # Zeros (spec §8.5): S_∞ = −∞ with any zero; S_N = −∞ iff two vanish (N ≥ 2); N = 1: λ ≡ 1.
    # The gradient at σ_i = 0 is the limit of the exact derivative: for N ≥ 3 and N = ∞ it is +∞
    # (a^{2/N−1} → ∞, resp. Λ → 0); for N = 2, λ(a, b) = a + b, so ∂/∂a ½ log λ = 1/(2(a + b)) is
    # finite (1/(2σ_j)) unless another σ_j is zero too; for N = 1 it is 0.
    s = np.asarray([0.0] * zeros + list(vals), dtype=np.float64)
    d = s.size
    S, G = g.dln_log_volume(s, N, grad=True)
    with mpmath.workdps(60):
        lams = [_lam_mp(s[j], s[k], N) for j in range(d) for k in range(j + 1, d)]
        want = -math.inf if min(lams) == 0 else float(mpmath.fsum(mpmath.log(v) for v in lams) / 2)
    if N == 1:
        assert S == 0.0 and (G == 0).all()
        return
    if math.isinf(want):
        assert S == want
    else:
        tol = sum(0.5 * _lam_tol(s[j], s[k]) for j in range(d) for k in range(j + 1, d)) + 4 * U * abs(want)
        assert abs(S - want) <= tol
    for i in range(d):
        if s[i] == 0:
            if N == 2 and zeros == 1:
                want_g = sum(1.0 / (2.0 * s[j]) for j in range(d) if j != i)
                assert abs(G[i] - want_g) <= 4 * d * U * want_g, (i, G[i], want_g)
            else:
                assert G[i] == math.inf
        elif not (N is None or zeros >= 2):
            with mpmath.workdps(60):
                wi = float(_grad_mp(s, i, N))
            assert abs(G[i] - wi) <= (d - 1) * U * 500 * abs(wi) + 1e-300, (i, G[i], wi)

