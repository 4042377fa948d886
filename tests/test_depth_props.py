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
from hypothesis import assume, given, settings
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



# ---- chain_log_spectrum (§4.1–§4.2) ----------------------------------------------------------------

@st.composite
def _chains(draw, square=False, max_n=8, max_L=6):
    """A chain M_L ⋯ M_1 of small factors: Gaussian entries scaled by an exact power of two per
    factor (2^-400..2^400: huge dynamic range without changing the rounding), optionally with exact
    zero rows (rank loss), stored float64 or float32, contiguous or as a transposed (F-order) view."""
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    L = draw(st.integers(1, max_L))
    widths = [draw(st.integers(1, max_n))]
    for _ in range(L):
        widths.append(widths[0] if square else draw(st.integers(1, max_n)))
    dt = draw(st.sampled_from([np.float64, np.float32]))
    zero_rows = draw(st.booleans())
    fs = []
    for l in range(L):
        m = rng.standard_normal((widths[l + 1], widths[l]))
        if zero_rows and widths[l + 1] > 1 and rng.random() < 0.5:
            m[rng.integers(widths[l + 1])] = 0.0
        e = int(draw(st.integers(-400, 400))) if dt is np.float64 else int(draw(st.integers(-40, 40)))
        m = (m * 2.0 ** e).astype(dt)
        if draw(st.booleans()):
            m = np.asfortranarray(m)  # a different stride pattern, same values
        fs.append(m)
    return fs


# Tolerance (absolute, on cumulative logs): a QR step of an n×k panel is backward stable, so each
# log|R_jj| is off by ≲ c·n·u·κ(panel); the factors here are Gaussian (κ of a k ≤ 8 panel rarely
# above 1e3) scaled by powers of two (exact), so 1e-12 per layer (the family's documented figure,
# measured ~1e-14·L). Columns masked as −∞ must agree exactly; a masking decision taken within a
# factor 10 of the threshold τ·‖Y‖_F may legitimately differ between the CholeskyQR kernel and the
# Householder reference (documented exclusion: those examples are discarded, see below).
@settings(max_examples=60, **PROPS)
@given(_chains(), st.data())
def test_chain_log_spectrum_vs_reference(fs, data):
    k = data.draw(st.integers(1, min(fs[0].shape[1], min(m.shape[0] for m in fs))))
    gates = None
    if data.draw(st.booleans()):  # 0/1 row gates D_ℓ (§4.2: columns above the smallest gate rank → −∞)
        gates = [np.array(data.draw(st.lists(st.sampled_from([0.0, 1.0]), min_size=m.shape[0], max_size=m.shape[0])))
                 for m in fs]
    got = g.chain_log_spectrum(fs, k, gates=gates)
    want = R.chain_log_spectrum(fs, k, gates=gates)
    # exclusion: a column whose |R_jj| is near the rank threshold (exact zero rows make it ~u·‖Y‖)
    Q = np.eye(fs[0].shape[1])[:, :k]
    n_max = max([fs[0].shape[1]] + [m.shape[0] for m in fs])
    tau = 10 * n_max * U
    for l, m in enumerate(fs):
        Y = m.astype(np.float64) @ Q
        if gates is not None:
            Y[gates[l] == 0] = 0.0
        Q, Rr = np.linalg.qr(Y)
        ratio = np.abs(np.diag(Rr)) / max(np.linalg.norm(Y), 1e-300)
        assume(not np.any((ratio > tau / 100) & (ratio < tau * 100)))
    np.testing.assert_array_equal(np.isneginf(got), np.isneginf(want))
    fin = np.isfinite(want)
    L = len(fs)
    assert np.all(np.abs(got[fin] - want[fin]) <= 1e-12 * L * (1 + np.abs(want[fin]) * 1e-3)), \
        np.abs(got - want)[fin].max()


@settings(max_examples=40, **PROPS)
@given(_chains(square=True), st.integers(-300, 300))
def test_chain_log_spectrum_full_frame_is_log_det(fs, e2):
    # k = n: Σ_j out[ℓ, j] = log|det M_{1:ℓ}| = Σ_{m≤ℓ} log|det M_m| (slogdet, LU: independent of
    # both the kernel's CholeskyQR and the reference's Householder QR), and scaling every factor by
    # 2^e shifts out[ℓ, j] by exactly ℓ·e·log 2 up to rounding of the cumulative sum.
    n = fs[0].shape[1]
    fs = [f.astype(np.float64) for f in fs]  # the scale below is for float64 storage
    got = g.chain_log_spectrum(fs, n)
    sld = np.array([np.linalg.slogdet(m) for m in fs])
    # a singular factor (zero row) is masked: no det identity
    assume(not (np.any(sld[:, 0] == 0) or np.isneginf(got).any()))
    want = np.cumsum(sld[:, 1])
    # error: n columns, each ≲ c·n·u·κ per layer (κ of a Gaussian n ≤ 8 factor ≲ 1e3): 1e-12·n per layer
    L = len(fs)
    ells = np.arange(1, L + 1)
    assert np.all(np.abs(got.sum(axis=1) - want) <= 1e-12 * n * ells)
    scaled = g.chain_log_spectrum([m * 2.0 ** e2 for m in fs], n)
    shift = ells[:, None] * e2 * math.log(2.0)
    assert np.all(np.abs(scaled - got - shift) <= 1e-12 * ells[:, None] + 4 * U * np.abs(shift))


@settings(max_examples=25, **PROPS)
@given(st.integers(0, 2**32 - 1), st.integers(8, 40), st.integers(2, 12), st.integers(1, 8))
def test_chain_log_spectrum_threads_bitwise(seed, n, L, k):
    # documented: bitwise the same result for every thread count (fixed chunking, ordered sums)
    rng = np.random.default_rng(seed)
    fs = rng.standard_normal((L, n, n)).astype(np.float32)
    k = min(k, n)
    a = g.chain_log_spectrum(fs, k, threads=1)
    b = g.chain_log_spectrum(fs, k, threads=2)
    np.testing.assert_array_equal(a, b)


# ---- prefix_log_svdvals (§4.3) -------------------------------------------------------------------

@st.composite
def _graded_chains(draw):
    """Square chains whose factors have singular values spread over 10^±g (g up to 12), with
    random orthogonal frames, so that prefix products reach s_n/s_1 far below float64's 1e-16
    (the rescaled route cannot resolve them; the graded route must, or say it does not)."""
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    n = draw(st.integers(1, 4))
    L = draw(st.integers(1, 5))
    gexp = draw(st.sampled_from([0.0, 1.0, 4.0, 12.0]))
    fs = []
    for _ in range(L):
        q1 = np.linalg.qr(rng.standard_normal((n, n)))[0]
        q2 = np.linalg.qr(rng.standard_normal((n, n)))[0] if draw(st.booleans()) else np.eye(n)
        s = 10.0 ** np.sort(rng.uniform(-gexp, gexp, n))[::-1]
        fs.append((q1 * s) @ q2.T)
    return fs


def _exact_log_svdvals(fs, depths):
    """log s_i of M_ℓ ⋯ M_1 for the float64 factors taken exactly, at 60 + (range) digits."""
    span = sum(abs(math.log10(np.linalg.cond(m))) if np.isfinite(np.linalg.cond(m)) else 300 for m in fs)
    out = []
    with mpmath.workdps(int(60 + 2 * span)):
        P = mpmath.eye(fs[0].shape[1])
        for l, m in enumerate(fs, start=1):
            P = mpmath.matrix(m.tolist()) * P
            if l in depths:
                s = mpmath.svd_r(P, compute_uv=False)
                vals = sorted((float(mpmath.log(v)) if v > 0 else -math.inf for v in s), reverse=True)
                out.append(vals)
    return np.array(out)


@settings(max_examples=30, **PROPS)
@given(_graded_chains(), st.sampled_from(["auto", "rescaled", "graded"]))
def test_prefix_log_svdvals_resolved_means_exact(fs, method):
    # the documented contract: resolved values are within 1e-6 of the exact log singular values
    res = g.prefix_log_svdvals(fs, method=method)
    L = len(fs)
    exact = _exact_log_svdvals(fs, set(range(1, L + 1)))
    ok = res.resolved
    err = np.abs(res.log_s - exact)
    assert np.all(err[ok] <= 1e-6), (method, err[ok].max())
    if method == "graded":
        # the graded route is relatively accurate: with factors of κ ≤ 1e24 over ≤ 5 layers the
        # error budget Σ u·κ(M_ℓ) is the flag; where it is ≤ 1e-6 every value must be resolved
        kappa = sum(np.linalg.cond(m) for m in fs) * U
        if kappa <= 1e-7:
            assert ok.all(), kappa


@settings(max_examples=30, **PROPS)
@given(_graded_chains(), st.integers(-200, 200), st.sampled_from(["rescaled", "graded"]))
def test_prefix_log_svdvals_vs_reference_and_scaling(fs, e2, method):
    res = g.prefix_log_svdvals(fs, method=method)
    ref = R.prefix_log_svdvals(fs, method=method)
    both = res.resolved & ref.resolved
    # both contracts are 1e-6 to the exact values where resolved; in practice both are ~1e-12
    # (rescaled: ℓ·n·u·s_1/s_i ≤ 1e-6 by the flag; graded: Σ u·κ ≤ 1e-6): compare at 2e-6
    # −∞ (past the graded frame's numerical rank, documented as resolved) must agree exactly;
    # comparing it by subtraction gave −∞ − (−∞) = NaN (a RuntimeWarning under this suite's
    # filterwarnings=error; hypothesis 6.170 drew such a chain, 6.155 did not)
    a, b = res.log_s[both], ref.log_s[both]
    np.testing.assert_array_equal(np.isneginf(a), np.isneginf(b))
    fin = np.isfinite(a)
    assert np.all(np.abs(a[fin] - b[fin]) <= 2e-6)
    # exact scaling by powers of two: log s shifts by ℓ·e·log 2 (the route may not change: the
    # rescaled flag depends on s_i/s_1 only, the graded one on κ only)
    sc = g.prefix_log_svdvals([m * 2.0 ** e2 for m in fs], method=method)
    np.testing.assert_array_equal(sc.resolved, res.resolved)
    shift = (np.arange(1, len(fs) + 1)[:, None] * e2 * math.log(2.0) + np.zeros_like(res.log_s))
    ok = res.resolved
    np.testing.assert_array_equal(np.isneginf(sc.log_s[ok]), np.isneginf(res.log_s[ok]))
    ok &= np.isfinite(res.log_s)
    assert np.all(np.abs(sc.log_s[ok] - res.log_s[ok] - shift[ok]) <= 1e-9 + 4 * U * np.abs(shift).max())


# ---- closed forms: random_lyapunov (§2, §3), gated_rank_law (§6) -------------------------------------

_P = st.one_of(st.sampled_from([1e-300, 1e-12, 0.5, 1.0 - 2.0 ** -52, 1.0]), st.floats(1e-6, 1.0))


def _binom_mp(n, p):
    p = mpmath.mpf(p)
    return [mpmath.binomial(n, t) * p ** t * (1 - p) ** (n - t) for t in range(n + 1)]


@settings(max_examples=40, **PROPS)
@given(st.integers(1, 40), _P, st.data())
def test_random_lyapunov_vs_mpmath(n, p, data):
    sigma = data.draw(st.sampled_from([None, 1e-300, 1e-3, 1.0, 1e300]))
    r = data.draw(st.one_of(st.none(), st.integers(1, n))) if p < 1.0 else None
    lyap = g.random_lyapunov(n, p, sigma, r)
    with mpmath.workdps(40):
        s = mpmath.mpf(1) / mpmath.sqrt(n) if sigma is None else mpmath.mpf(sigma)
        c0 = mpmath.log(2 * s * s) / 2
        pmf = _binom_mp(n, p)
        for i in range(1, n + 1):
            lo = i if (r is None or p == 1.0) else r
            if r is not None and i > r:
                assert lyap.gamma[i - 1] == -math.inf
                continue
            w = pmf[lo:]
            tot = mpmath.fsum(w)
            if tot == 0:  # the conditioning event underflows even at 40 digits: skip this index
                continue
            want = c0 + mpmath.fsum(wt * mpmath.digamma(mpmath.mpf(t - i + 1) / 2) for wt, t in zip(w, range(lo, n + 1))) / (2 * tot)
            # Tolerance: ψ(m/2) from a recurrence table (~m·u absolute, m ≤ n + 1), the mixture
            # weights normalised in float64 (~n·u relative, |ψ| ≤ ~40 here), truncation below e^-40
            # of the maximum weight: 1e-12 absolute plus 4u of the size of c0 (|c0| ≤ 700).
            assert abs(lyap.gamma[i - 1] - float(want)) <= 1e-12 + 4 * U * abs(float(c0)), (i, lyap.gamma[i - 1], want)
            d_want = mpmath.fsum(mpmath.digamma(mpmath.mpf(n - kk + 1) / 2) - mpmath.digamma(mpmath.mpf(i - kk + 1) / 2)
                                 for kk in range(1, i + 1)) / 2
            assert abs(lyap.d[i - 1] - float(d_want)) <= 1e-12
    np.testing.assert_allclose(lyap.delta, np.diff(np.concatenate(([0.0], lyap.d))), rtol=0, atol=1e-13)


@settings(max_examples=60, **PROPS)
@given(st.integers(1, 60), st.integers(0, 50), _P, st.data())
def test_gated_rank_law_vs_mpmath(n, L, p, data):
    model = data.draw(st.sampled_from(["G", "F"]))
    r0 = data.draw(st.one_of(st.none(), st.integers(0, n)))
    G = L if model == "G" else max(L - 1, 0)
    try:
        law = g.gated_rank_law(n, L, p, r0, model)
    except ValueError:
        # documented refusals (L = 0 for model F, conditioning on an event of probability 0);
        # the reference must refuse the same input
        with pytest.raises(ValueError):
            R.gated_rank_law(n, L, p, r0, model)
        return
    sf = law.sf
    assert sf[0] == 1.0 and np.all(np.diff(sf) <= 0) and np.all((sf >= 0) & (sf <= 1))
    assert abs(law.mean - sf[1:].sum()) <= 4 * U * n
    with mpmath.workdps(60):
        pmf = _binom_mp(n, p)
        S = [mpmath.fsum(pmf[r:]) for r in range(n + 1)]
        if r0 is not None:
            S = [mpmath.mpf(1) if r <= r0 else S[r] / S[r0] for r in range(n + 1)]
        for r in range(n + 1):
            want = S[r] ** G
            # Tolerance (relative): log S(r) by log-sum-exp over ≤ n + 1 terms (~(n + 4)u
            # absolute), times G in the exponent, plus exp's ulp; where the exact value lies
            # below the float64 range, 0 or a denormal is right.
            if want < mpmath.mpf("1e-300"):
                assert sf[r] <= 1e-290
                continue
            tol = 8 * U * (n + 4) * max(G, 1) + 4 * U
            assert abs(sf[r] - float(want)) <= tol * float(want), (r, sf[r], want)


# ---- separation_ratios, depth_scaling_fit (§5) -----------------------------------------------------

_LOGS = st.one_of(st.sampled_from([-math.inf, -700.0, 0.0, 1e-300, 1.5, 700.0]), st.floats(-1e3, 1e3))


@settings(max_examples=80, **PROPS)
@given(st.lists(_LOGS, min_size=1, max_size=8).map(lambda xs: sorted(xs, reverse=True)),
       st.one_of(st.none(), st.sampled_from([1e-300, 0.5, 1.0, 2.0]), st.floats(1e-12, 1.0)))
def test_separation_ratios_vs_reference(log_s, eps):
    # element-wise: ratios exp(lo − hi) are one subtraction and one exp (≤ 2u relative against the
    # reference's identical formula evaluated in a loop); −∞ rules and r_sep's strict '<' exactly
    x = np.asarray(log_s)
    got = g.separation_ratios(x, eps)
    want = R.separation_ratios(x, eps)
    np.testing.assert_allclose(got.ratios, want.ratios, rtol=4 * U, atol=0, equal_nan=True)
    np.testing.assert_array_equal(got.log_gaps, want.log_gaps)
    if eps is not None:
        assert int(got.rank) == int(want.rank)
    # independent: r_sep counts the leading q_j < ε
    if eps is not None:
        q = want.ratios
        r = 0
        while r < q.size and q[r] < eps:
            r += 1
        assert int(got.rank) == r


@settings(max_examples=60, **PROPS)
@given(st.integers(0, 2**32 - 1), st.integers(1, 12), st.integers(1, 4), st.floats(-1e3, 1e3),
       st.sampled_from([0.0, 1e-12, 1.0]), st.data())
def test_depth_scaling_fit_vs_reference(seed, L, k, slope, noise, data):
    rng = np.random.default_rng(seed)
    ell = np.arange(1, L + 1, dtype=np.float64)[:, None]
    y = slope * ell + rng.uniform(-5, 5, k) + noise * rng.standard_normal((L, k))
    if data.draw(st.booleans()):
        y[rng.integers(L), rng.integers(k)] = -math.inf
    start = data.draw(st.integers(0, L))
    stop = data.draw(st.one_of(st.none(), st.integers(start, L)))
    got = g.depth_scaling_fit(y, start, stop)
    want = R.depth_scaling_fit(y, start, stop)
    np.testing.assert_array_equal(np.isnan(got.slope), np.isnan(want.slope))
    ok = ~np.isnan(want.slope)
    # Tolerance: a least-squares line over ≤ 12 abscissae (κ of the [1, ℓ] design ≲ 50) on data of
    # size ≤ |slope|·L + 5: both routes are backward stable, so ≲ 50·L·u·(|slope|·L + 5) on the
    # intercept and residual, and /L on the slope.
    scale = 50 * L * U * (abs(slope) * L + 6)
    assert np.all(np.abs(got.slope - want.slope)[ok] <= scale)
    assert np.all(np.abs(got.intercept - want.intercept)[ok] <= scale * L)
    assert np.all(np.abs(got.max_resid - want.max_resid)[ok] <= scale * L)
    if noise == 0.0:  # an exact line: the slope is recovered to rounding
        assert np.all(np.abs(got.slope[ok] - slope) <= scale + 4 * U * abs(slope))


# ---- DLN operator and metric (§8.3), balancedness (§8.2), imbalance (§8.1), alignment (§7) --------

@st.composite
def _dln_xz(draw, square=None):
    """X = U diag(σ) Vᵀ with σ ∈ [0.1, 10] (ties allowed: repeated σ), Z Gaussian; m, n ≤ 4."""
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    m = draw(st.integers(1, 4))
    n = m if square else draw(st.integers(1, 4))
    q = min(m, n)
    pool = [0.1, 0.5, 1.0, 1.0 + 2.0 ** -30, 3.0, 10.0]
    s = np.array(sorted((draw(st.sampled_from(pool)) for _ in range(q)), reverse=True))
    U = np.linalg.qr(rng.standard_normal((m, m)))[0]
    V = np.linalg.qr(rng.standard_normal((n, n)))[0]
    X = U[:, :q] @ np.diag(s) @ V[:, :q].T
    Z = rng.standard_normal((m, n))
    return X, Z, s


@settings(max_examples=40, **PROPS)
@given(_dln_xz(), st.sampled_from([None, 1, 2, 3, 5]))
def test_dln_operator_vs_reference_and_inverse(xz, N):
    X, Z, s = xz
    got = g.dln_operator(X, Z, N)
    want = R.dln_operator(X, Z, N)  # the explicit sum of matrix powers (a Kronecker matrix)
    lam = g.dln_eigenvalues(np.concatenate([s, np.zeros(max(X.shape) - s.size)]), N)
    lmax = float(lam.max())
    # Tolerance: both are backward stable maps of Z through orthogonal frames and λ (relative
    # error ≲ 16u·(|log σ| + 1) each, _lam_tol), so ‖error‖ ≲ c·(m + n)·u·λ_max·‖Z‖: 1e-13·λ_max·‖Z‖.
    assert np.abs(got - want).max() <= 1e-13 * lmax * np.linalg.norm(Z) + 1e-300
    square = X.shape[0] == X.shape[1]
    if square or N is not None:  # λ > 0 everywhere: full rank (σ ≥ 0.1), and square for N = ∞
        back = g.dln_operator(X, got, N, inverse=True)
        lmin = float(lam[: X.shape[0], : X.shape[1]].min()) if square else None
        if lmin is not None and lmin > 0:
            # 𝒜^{-1}(𝒜(Z)) = Z to ≲ u·(m+n)·κ(λ)·‖Z‖ (κ(λ) = λ_max/λ_min ≤ 1e4 here)
            assert np.abs(back - Z).max() <= 1e-13 * (lmax / lmin) * np.linalg.norm(Z)
            # ‖Z‖²_g = ⟨Z, 𝒜^{-1}(Z)⟩ (thesis eq (2.18)), an identity between two public functions
            nrm = g.dln_metric_norm(X, Z, N)
            inner = float(np.sum(Z * g.dln_operator(X, Z, N, inverse=True)))
            assert abs(nrm ** 2 - inner) <= 1e-12 * (lmax / lmin) * nrm ** 2


@settings(max_examples=40, **PROPS)
@given(_dln_xz(square=True), st.sampled_from([None, 2, 3, 5]), st.integers(-150, 150))
def test_dln_metric_norm_homogeneous(xz, N, e2):
    # λ(cσ) = c^{2−2/N} λ(σ), so ‖cZ‖ at cX is c^{1/N}‖Z‖ at X (c^0 = 1 for N = ∞): an exact scale
    # c = 2^e keeps every quantity in range for |e| ≤ 150 (σ ∈ [0.1, 10], λ ≥ 1e-2·2^-300).
    X, Z, _ = xz
    c = 2.0 ** e2
    base = g.dln_metric_norm(X, Z, N)
    got = g.dln_metric_norm(X * c, Z * c, N)
    want = base * (1.0 if N is None else c ** (1.0 / N))
    # λ's own relative error grows with |log σ| (exponent rounding, _lam_tol): ≲ 16u·(6·|e| + 8)
    assert abs(got - want) <= 16 * U * (6 * abs(e2) + 50) * want


@settings(max_examples=30, **PROPS)
@given(st.integers(0, 2**32 - 1), st.integers(1, 6), st.integers(1, 5), st.integers(-100, 100), st.booleans())
def test_balancedness_ratio_bounds_and_balanced_chains(seed, N, n, e2, balanced):
    # β_bal ≥ 1 (AM–GM), = 1 exactly for W_p = Q_{p+1} Σ^{1/N} Q_pᵀ, invariant under W → cW
    rng = np.random.default_rng(seed)
    if balanced:
        s = np.sort(10.0 ** rng.uniform(-6, 6, n))[::-1]
        Qs = [np.linalg.qr(rng.standard_normal((n, n)))[0] for _ in range(N + 1)]
        W = [Qs[p + 1] @ np.diag(s ** (1.0 / N)) @ Qs[p].T for p in range(N)]
    else:
        W = [rng.standard_normal((n, n)) for _ in range(N)]
    beta = float(g.balancedness_ratio(W))
    ref = float(R.balancedness_ratio(W))
    # log σ_i(X) from the prefix routes (≤ 1e-6 absolute where resolved, ~1e-12 here: κ ≤ 1e12 /
    # N per factor); β depends on them through exp((2/N) log σ): relative 2/N·1e-9 covers both
    assert abs(beta - ref) <= 1e-9 * ref
    assert beta >= 1.0 - 1e-9
    if balanced:
        assert abs(beta - 1.0) <= 1e-9
    c = 2.0 ** e2
    assert abs(float(g.balancedness_ratio([w * c for w in W])) - beta) <= 1e-9 * beta


@settings(max_examples=40, **PROPS)
@given(st.integers(0, 2**32 - 1), st.integers(2, 5), st.integers(1, 6), st.integers(-300, 300), st.booleans())
def test_relative_imbalance_vs_reference(seed, L, n, e2, zero):
    rng = np.random.default_rng(seed)
    W = [rng.standard_normal((n, n)) * 2.0 ** e2 for _ in range(L)]
    if zero:
        W[rng.integers(L)][:] = 0.0
    got = g.relative_imbalance(W)
    want = R.relative_imbalance(W)
    np.testing.assert_array_equal(np.isnan(got), np.isnan(want))
    ok = ~np.isnan(want)
    # ι is a ratio of Frobenius norms of float64 Grams (errors ~n·u relative to ‖W‖² each):
    # absolute 1e-13·(1 + ι). Exact 2^e scaling (|e| ≤ 300: the Grams stay in range only while
    # 4·|e| < 1000, so the reference itself is the oracle only up to there)
    assert np.all(np.abs(got[ok] - want[ok]) <= 1e-13 * (1 + want[ok]))
    for p in range(L - 1):  # ι_p = NaN exactly where W_p = 0
        assert np.isnan(got[p]) == (not W[p].any())


@pytest.mark.parametrize("e2", [-266, 259, -600, 600])
def test_relative_imbalance_is_scale_free_at_extreme_magnitudes(e2):
    # ι is a ratio of norms of Grams, invariant under a common scaling; ‖W Wᵀ‖_F squares the
    # entries twice, so at 2^-266 it underflowed to 0 (ι = NaN for a nonzero W) and at 2^259 numpy's
    # norm overflowed (found by hypothesis 6.170 in CI). Each pair is now scaled by a power of two.
    rng = np.random.default_rng(0)
    W = [rng.standard_normal((3, 3)) for _ in range(3)]
    for f in (g.relative_imbalance, R.relative_imbalance):  # exact scaling: the same bits
        np.testing.assert_array_equal(f([w * 2.0 ** e2 for w in W]), f(W))


@settings(max_examples=40, **PROPS)
@given(st.integers(0, 2**32 - 1), st.integers(2, 8), st.integers(1, 8), st.sampled_from([np.float64, np.float32]))
def test_subspace_alignment_self_and_reference(seed, m, k, dt):
    rng = np.random.default_rng(seed)
    n = m + 2
    k = min(k, m)
    # well-separated singular values, so the top-k subspace and its vectors are well defined
    U = np.linalg.qr(rng.standard_normal((m, m)))[0]
    V = np.linalg.qr(rng.standard_normal((n, n)))[0]
    s = 2.0 ** -np.arange(m, dtype=float)
    A = ((U * s) @ V[:, :m].T).astype(dt)
    B = (A + 1e-3 * rng.standard_normal(A.shape)).astype(dt)
    self_ = g.subspace_alignment(A, A, k)
    np.testing.assert_allclose(self_.R, np.eye(k), rtol=0, atol=1e-12)
    assert np.all(np.abs(self_.angles) <= 1e-7)  # atan2 form: exact-ish small angles
    got = g.subspace_alignment(A, B, k)
    want = R.subspace_alignment(A, B, k)
    ang = np.asarray(got.angles)
    assert np.all((ang >= 0) & (ang <= np.pi / 2 + 1e-15)) and np.all(np.diff(ang) >= -1e-15)
    # Tolerance: the gap between s_k and s_{k+1} is a factor 2, so the subspaces are perturbed by
    # ≲ u·κ·‖A‖/gap; both compute from float64 SVDs of the same float64 data: 1e-10 on R, angles
    np.testing.assert_allclose(got.R, want.R, rtol=0, atol=1e-10)
    np.testing.assert_allclose(got.angles, want.angles, rtol=0, atol=1e-10)
