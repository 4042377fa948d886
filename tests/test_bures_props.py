"""Bures–Wasserstein distances: differential and metamorphic properties (hypothesis) at the
extremes — scale 2^±1000, near-ties one ulp apart, zeros, ties, single entries, float32
storage, strided views, rank-deficient factors, near-singular PSD matrices.

Oracles and tolerances (u = 2^-53):
- Routes (c)/(d) (``bures_distance_diag``/``_cartan``) against mpmath at 50 digits, not the
  reference twin: the twin forms √x − √y, which loses every digit at a near-tie (one ulp apart
  at 1e-300 it is 60 % off), the kernel (a − b)/(√a + √b). Per term t = (a − b)/(√a + √b):
  a − b ≤ u relative (exact under Sterbenz), each √ u/2, their sum u, the quotient u: ≤ 4u;
  t is never subnormal (|a − b| ≥ ulp(max(a, b)) ⇒ |t| ≥ √max·u/2 ≥ 1e-170), so t² ≤ 9u; a sum
  of n nonnegative terms in any order (lanes or the scaled dlassq pass, ≤ 3u more per term)
  adds ≤ (n − 1)u; the square root halves it. Bound used: (n + 16)·u relative.
- Exact identities of (c)/(d): d(a, a) = 0, d(a, b) = d(b, a) bit for bit (sqrt_diff is odd),
  and d(a, b) > 0 whenever the clipped vectors differ.
- Route (a) at scale 4^k: the kernel scales a matrix outside [2^-500, 2^500] by an exact even
  power of two and undoes it by homogeneity, so for P, Q with max|entry| in [0.5, 1) and
  |k| ≥ 251 it sees the very same matrices: d(4^k P, 4^k Q) = 2^k·d(P, Q) and
  F(4^k P, 4^k Q) = 4^k·F(P, Q) bit for bit. Inside that range LAPACK (dsyevd) applies its own
  safe scaling, not a power of two, beyond ~1e±146: the √u-type tolerance there. Against the reference: the √u-type error of trP + trQ − 2F (as tests/test_bures.py).
- Route (b) likewise: factors scaled by 2^k with max|entry| in [0.5, 1) give exactly 2^k·d
  where the kernel scales (entries outside [2^-250, 2^250]).
"""
from __future__ import annotations

import math

import mpmath as mp
import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import gsa_fast as g
from gsa_fast import reference as R

U = 2.0**-53
# Reproducible in CI: examples derived from the test's name, no example database.
PROPS = dict(deadline=None, derandomize=True, database=None,
             suppress_health_check=[HealthCheck.too_slow])

KINDS = ["random", "ulp", "ties", "zeros", "single", "wide", "subnormal", "equal"]


def _pair(kind, n, seed):
    """Two nonnegative float64 vectors of length n of the given kind."""
    r = np.random.default_rng(seed)
    a = r.exponential(size=n)
    if kind == "wide":  # log-uniform over the whole float64 range
        a = np.exp2(r.uniform(-1070, 1020, n))
    elif kind == "subnormal":
        a = r.integers(0, 2**20, n) * 5e-324
    elif kind == "ties":
        a = np.round(a, 1)
    b = r.exponential(size=n) if kind in ("random", "wide") else a.copy()
    if kind == "wide":
        b = np.exp2(r.uniform(-1070, 1020, n))
    if kind in ("ulp", "ties", "subnormal"):  # neighbours one ulp apart (and some equal)
        m = r.random(n) < 0.7
        b[m] = np.nextafter(a[m], np.inf)
    if kind in ("zeros", "ties") and n:
        a[r.random(n) < 0.3] = 0.0
        b[r.random(n) < 0.3] = 0.0
    return a, b


@st.composite
def pairs(draw):
    n = draw(st.one_of(st.sampled_from([1, 2, 3, 4, 7, 8, 9, 16, 17]), st.integers(1, 40)))
    kind = draw(st.sampled_from(KINDS))
    a, b = _pair(kind, n, draw(st.integers(0, 2**32 - 1)))
    # an exact power of four (keeps every value finite and, unless subnormal, exact)
    k = draw(st.integers(-500, 500))
    top = max(a.max(initial=0.0), b.max(initial=0.0))
    if top > 0:
        k = min(k, 1020 - math.frexp(top)[1])
    with np.errstate(under="ignore"):
        sa, sb = np.ldexp(a, 2 * (k // 2)), np.ldexp(b, 2 * (k // 2))
    return sa, sb


def _mp_diag(a, b, sort=False):
    if sort:
        a, b = np.sort(a)[::-1], np.sort(b)[::-1]
    return mp.sqrt(mp.fsum((mp.sqrt(mp.mpf(float(x))) - mp.sqrt(mp.mpf(float(y)))) ** 2
                           for x, y in zip(a, b)))


def _close_to(got, exact, n):
    tol = (n + 16) * U
    if exact == 0:
        return got == 0.0
    return abs(mp.mpf(float(got)) - exact) <= tol * exact


@settings(max_examples=1000, **PROPS)
@given(pairs(), st.sampled_from(["contig", "strided", "f32"]))
def test_diag_and_cartan_against_mpmath(ab, layout):
    mp.mp.dps = 50
    a, b = ab
    n = a.size
    if layout == "f32":  # float32 storage: the oracle sees the stored (rounded) values
        with np.errstate(over="ignore", under="ignore"):
            a, b = a.astype(np.float32), b.astype(np.float32)
        if not (np.isfinite(a).all() and np.isfinite(b).all()):
            return
    elif layout == "strided":
        a = np.repeat(a, 2)[::2]
        b = np.repeat(b, 2)[::2]
    da = g.bures_distance_diag(a, b)
    dc = g.bures_distance_cartan(a, b)
    a64, b64 = a.astype(np.float64), b.astype(np.float64)
    ex = _mp_diag(a64, b64)
    assert _close_to(da, ex, n), (a64.tolist(), b64.tolist(), float(da), float(ex))
    exc = _mp_diag(a64, b64, sort=True)
    assert _close_to(dc, exc, n), (a64.tolist(), b64.tolist(), float(dc), float(exc))
    # exact identities of route (c)/(d)
    assert g.bures_distance_diag(b, a) == da
    assert g.bures_distance_diag(a, a) == 0.0 and g.bures_distance_cartan(b, b) == 0.0
    assert (da > 0) == bool(np.any(a64 != b64))
    assert dc <= da * (1 + (n + 16) * U)  # von Neumann: the Cartan distance is a lower bound


def _psd(r, n, rank, kind):
    A = r.standard_normal((rank, n))
    P = A.T @ A
    if kind == "near_singular":  # one eigenvalue at ~1e-17 of the largest
        w, V = np.linalg.eigh(P)
        w[0] = w[-1] * 1e-17
        P = (V * w) @ V.T
        P = 0.5 * (P + P.T)
    return P / 2.0 ** math.frexp(np.abs(P).max())[1]  # max|entry| in [0.5, 1)


@settings(max_examples=200, **PROPS)
@given(st.integers(1, 7), st.integers(0, 2**32 - 1), st.sampled_from(["full", "deficient", "near_singular", "same"]),
       st.integers(-510, 511))  # (4^-511·[0.5, 1) is subnormal: the input itself would round)
def test_general_route_scale_homogeneity_and_reference(n, seed, kind, k):
    r = np.random.default_rng(seed)
    rank = n if kind != "deficient" else int(r.integers(1, n + 1))
    P = _psd(r, n, rank, kind)
    Q = P.copy() if kind == "same" else _psd(r, n, n if kind != "deficient" else int(r.integers(1, n + 1)), kind)
    d, F = g.bures_distance(P, Q), g.bures_fidelity(P, Q)
    c = 4.0**k
    dk, Fk = g.bures_distance(P * c, Q * c), g.bures_fidelity(P * c, Q * c)
    tr = np.trace(P) + np.trace(Q)
    # F: dsyevd is backward stable, so a zero eigenvalue comes out as ≤ n·u·‖P‖ in size; its
    # square root, ≤ √(n·u·tr), enters F through n² products with √λ_Q ≤ √tr
    tol_f = n * n * math.sqrt(n * U) * tr
    exact_in = np.array_equal((P * c) / c, P) and np.array_equal((Q * c) / c, Q)  # no subnormal
    if abs(k) >= 251 and exact_in:  # max|entry| outside [2^-500, 2^500]: the kernel's exact scaling
        assert dk == math.ldexp(d, k) and Fk == math.ldexp(F, 2 * k)
    else:  # LAPACK's own (not power-of-two) safe scaling, or subnormal (rounded) input entries
        assert abs(dk - math.ldexp(d, k)) <= 1e-6 * math.sqrt(tr) * 2.0**k
        assert abs(Fk - math.ldexp(F, 2 * k)) <= 2 * tol_f * 4.0**k
    # √u-type: d² = trP + trQ − 2F carries ~n·u·tr absolute; √ of it near d = 0
    assert abs(d - R.bures_distance(P, Q)) <= 1e-6 * math.sqrt(tr)
    assert abs(F - R.bures_fidelity(P, Q)) <= 2 * tol_f
    assert F <= math.sqrt(np.trace(P) * np.trace(Q)) + tol_f  # Cauchy–Schwarz
    if kind == "same":
        assert d <= 1e-6 * math.sqrt(tr)
    # the extreme-scale pair against the reference (which scales the pair the same way)
    assert abs(dk - R.bures_distance(P * c, Q * c)) <= 1e-6 * math.sqrt(tr) * 2.0**k


@settings(max_examples=200, **PROPS)
@given(st.integers(1, 6), st.integers(0, 6), st.integers(0, 6), st.integers(0, 2**32 - 1), st.integers(-1000, 1000))
def test_factor_route_exact_homogeneity(n, ra, rb, seed, k):
    r = np.random.default_rng(seed)
    A, B = r.standard_normal((ra, n)), r.standard_normal((rb, n))
    if ra and rb and r.random() < 0.3:
        B = A.copy()  # identical factors
    mx = max(np.abs(A).max(initial=0.0), np.abs(B).max(initial=0.0))
    if mx == 0:
        return
    e = math.frexp(mx)[1]
    A, B = np.ldexp(A, -e), np.ldexp(B, -e)  # max|entry| in [0.5, 1)
    k = min(k, 1020)
    d = g.bures_distance_factors(A, B)
    dk = g.bures_distance_factors(np.ldexp(A, k), np.ldexp(B, k))
    s = math.sqrt(np.sum(A * A) + np.sum(B * B))
    exact_in = all(np.array_equal(np.ldexp(np.ldexp(X, k), -k), X) for X in (A, B))  # no subnormal
    if (k >= 252 or k <= -250) and exact_in:  # outside [2^-250, 2^250]: the kernel's exact scaling
        assert dk == math.ldexp(d, k)
    else:  # LAPACK's own safe scaling (dgesdd beyond ~1e±139) is not a power of two; or
        # subnormal inputs rounded (≤ 2^-1075 each: negligible beside the √u-type bound)
        assert abs(dk - math.ldexp(d, k)) <= 1e-7 * s * 2.0**k
    assert abs(d - R.bures_distance_factors(A, B)) <= 1e-7 * s
    if ra and rb:  # the general route on the Gram matrices: the same distance
        assert abs(d - g.bures_distance(A.T @ A, B.T @ B)) <= 1e-6 * s
