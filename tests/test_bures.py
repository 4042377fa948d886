"""Bures–Wasserstein distances (spec §5, oracles §11.2 and §11.4): fast kernels vs the numpy
reference, oracle values, properties and the bad-input table."""
from __future__ import annotations

import math
import tracemalloc

import mpmath
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import gsa_fast as g
from gsa_fast import reference as ref
from _helpers import assert_rel

BOTH = pytest.mark.parametrize("mod", [g, ref], ids=["fast", "reference"])


def rand_psd(rng, shape, n, rank=None, dtype=np.float64):
    r = n if rank is None else rank
    A = rng.standard_normal(tuple(shape) + (r, n))
    return (np.swapaxes(A, -1, -2) @ A).astype(dtype)


def rand_orth(rng, n):
    Qm, R = np.linalg.qr(rng.standard_normal((n, n)))
    return Qm * np.sign(np.diag(R))


def orbit(d, alpha):
    """P(α) = d·diag(k^-2α)/H_{d,2α} (spec §4.1), as its diagonal."""
    k = np.arange(1, d + 1, dtype=np.float64)
    w = k ** (-2.0 * alpha)
    return d * w / w.sum()


# ---- oracles ------------------------------------------------------------------------------


@BOTH
def test_oracle_2x2_closed_form(mod):
    # §11.4: d = sqrt(8 − 2√14), F = √14; spec tolerance 1e-10 relative (measured ~2e-15).
    P = np.array([[2.0, 1.0], [1.0, 2.0]])
    Q = np.diag([1.0, 3.0])
    assert_rel(mod.bures_distance(P, Q), 0.7188081986539366, 1e-10, what="d_BW 2x2")
    assert_rel(mod.bures_fidelity(P, Q), math.sqrt(14.0), 1e-13, what="fidelity 2x2")
    assert_rel(mod.bures_distance(Q, P), 0.7188081986539366, 1e-10, what="d_BW 2x2 swapped")


@BOTH
def test_oracle_orbit_d64(mod):
    # §11.2: d_BW(P(0.5), P(1)) through the general, diagonal and Cartan routes.
    p05, p1 = orbit(64, 0.5), orbit(64, 1.0)
    want = 4.381108590854727
    # diag / Cartan (route (c), (d)): ~1e-15 relative (spec); 1e-13 allows the oracle's last digit.
    assert_rel(mod.bures_distance_diag(p05, p1), want, 1e-13, what="diag route")
    assert_rel(mod.bures_distance_cartan(p05[::-1], p1), want, 1e-13, what="cartan route")
    # general route on diagonal matrices and on a random common rotation of them: 1e-10 (§11).
    assert_rel(mod.bures_distance(np.diag(p05), np.diag(p1)), want, 1e-10, what="general diag")
    U = rand_orth(np.random.default_rng(7), 64)
    assert_rel(mod.bures_distance(U * p05 @ U.T, U * p1 @ U.T), want, 1e-10, what="general rotated")
    # the other two tabulated distances
    assert_rel(mod.bures_distance_diag(orbit(64, 0), p1), 8.278790829051124, 1e-13)
    assert_rel(mod.bures_distance_diag(p1, orbit(64, 2)), 3.485708944933068, 1e-13)
    assert_rel(mod.bures_distance_diag(orbit(2, 0), orbit(2, 1)), 0.4530638010235918, 1e-13)
    assert mod.bures_distance_diag(orbit(1, 0), orbit(1, 1)) == 0.0


@BOTH
def test_oracle_orbit_closed_form_F1(mod):
    # (25): d² = 2d(1 − H_{d,α+β}/√(H_{d,2α}H_{d,2β})) at d = 1000, checked with mpmath.
    d, a, b = 1000, 0.3, 0.35
    H = lambda s: mpmath.fsum(mpmath.mpf(k) ** -s for k in range(1, d + 1))
    with mpmath.workdps(40):
        want = float(mpmath.sqrt(2 * d * (1 - H(a + b) / mpmath.sqrt(H(2 * a) * H(2 * b)))))
    # d ≪ sqrt(tr): the diag route keeps ~1e-15 relative (difference form per term).
    assert_rel(mod.bures_distance_diag(orbit(d, a), orbit(d, b)), want, 1e-13, what="diag vs (25)")


def test_diag_route_no_overflow_or_underflow():
    # the plain Σt² overflows / underflows here; the scaled second pass must not
    assert_rel(g.bures_distance_diag([1e300, 1e300], [0.0, 0.0]), math.sqrt(2e300), 1e-15)
    assert_rel(g.bures_distance_diag([1e-300, 4e-300], [0.0, 0.0]), math.sqrt(5e-300), 1e-15)
    assert_rel(g.bures_distance_cartan([1e-300, 0.0], [0.0, 4e-300]), 1e-150, 1e-15)


def test_diag_route_relative_accuracy_under_cancellation():
    # √a − √b with a ≈ b: the difference form keeps full relative accuracy (spec (c) "exact").
    a = np.array([1.0, 4.0, 1e300])
    b = a * (1 + 1e-12)
    with mpmath.workdps(50):
        want = float(mpmath.sqrt(mpmath.fsum((mpmath.sqrt(mpmath.mpf(x)) - mpmath.sqrt(mpmath.mpf(y))) ** 2
                                             for x, y in zip(a, b))))
    assert_rel(g.bures_distance_diag(a, b), want, 1e-14, what="diag cancellation")  # measured ~1e-16


def _mp_bures(P, Q, dps=40):
    with mpmath.workdps(dps):
        Pm, Qm = mpmath.matrix(P.tolist()), mpmath.matrix(Q.tolist())
        sP = mpmath.sqrtm(Pm)
        F = sum(mpmath.sqrt(mpmath.re(x)) for x in mpmath.eig(sP * Qm * sP, left=False, right=False))
        tr = sum(Pm[i, i] + Qm[i, i] for i in range(P.shape[0]))
        return float(mpmath.sqrt(tr - 2 * F)), float(F)


def test_general_route_vs_mpmath(rng):
    # full-rank 4×4 pairs with d ~ sqrt(tr): route (a) is ~1e-15 relative (measured ≤ ~2e-15);
    # a nearly equal pair (d ≈ 1e-6·sqrt(tr)) shows the square-root-of-a-difference loss.
    worst = 0.0
    for _ in range(4):
        P, Q = rand_psd(rng, (), 4), rand_psd(rng, (), 4)
        d, F = _mp_bures(P, Q)
        assert_rel(g.bures_fidelity(P, Q), F, 1e-13, what="fidelity vs mpmath")
        worst = max(worst, abs(g.bures_distance(P, Q) - d) / d)
    assert worst < 1e-13, worst
    P = rand_psd(rng, (), 4)
    E = rand_psd(rng, (), 4)
    Q = P + 1e-6 * E  # d ≈ 1e-6·O(1)
    d, _ = _mp_bures(P, Q)
    s = math.sqrt(np.trace(P) + np.trace(Q))
    # spec bound ~1e-8·sqrt(tr) absolute; measured ~4e-11·s (relative to d: ~3e-5)
    assert abs(g.bures_distance(P, Q) - d) <= 1e-7 * s


# ---- route agreement (§11.4) --------------------------------------------------------------


def test_procrustes_equals_nuclear_form(rng):
    # §11.4: Procrustes form == nuclear-norm form to 1e-12 on random full-rank factors.
    A = rng.standard_normal((20, 6, 6))
    B = rng.standard_normal((20, 6, 6))
    P = np.swapaxes(A, -1, -2) @ A
    Q = np.swapaxes(B, -1, -2) @ B
    d_a = g.bures_distance(P, Q)
    d_b = g.bures_distance_factors(A, B)
    assert_rel(d_a, d_b, 1e-12, what="route (a) vs (b)")  # measured ≤ ~1e-14
    assert_rel(d_b, ref.bures_distance_factors(A, B), 1e-13, what="(b) fast vs reference")


def test_cartan_is_a_lower_bound(rng):
    P = rand_psd(rng, (50,), 7)
    Q = rand_psd(rng, (50,), 7)
    general = g.bures_distance(P, Q)
    cart = g.bures_distance_cartan(np.linalg.eigvalsh(P), np.linalg.eigvalsh(Q))
    # von Neumann: d(Λ(P),Λ(Q)) ≤ d(P,Q); slack 1e-12·sqrt(tr) for rounding.
    scale = np.sqrt(np.trace(P, axis1=-2, axis2=-1) + np.trace(Q, axis1=-2, axis2=-1))
    assert np.all(cart <= general + 1e-12 * scale)
    assert np.any(cart < 0.9 * general)  # the bound is not vacuous


def test_rank_deficient_routes_agree(rng):
    # §11.4: A 2×5, B 3×5; route (a) vs (b) agree to ~1e-9, (b) is the reference route.
    worst = 0.0
    for _ in range(20):
        A = rng.standard_normal((2, 5))
        B = rng.standard_normal((3, 5))
        d_b = g.bures_distance_factors(A, B)
        assert_rel(d_b, ref.bures_distance_factors(A, B), 1e-13, what="(b) vs reference")
        d_a = g.bures_distance(A.T @ A, B.T @ B)
        worst = max(worst, abs(d_a - d_b) / d_b)
    # measured worst relative gap over these 20 draws: 7.1e-9 (sqrt(u)-type error of route (a)
    # from square roots of rounding-level eigenvalues); bound 1e-7 leaves room, < 1e-14 would
    # mean route (a) somehow became exact.
    assert worst < 1e-7, worst


def test_rank_deficient_identical_factors():
    # d(P, P) for singular P: route (b) is 0 up to ~sqrt(u·‖A‖²); route (a) likewise.
    A = np.arange(10.0).reshape(2, 5) / 7
    tr = np.sum(A * A)
    assert g.bures_distance_factors(A, A) <= 1e-7 * math.sqrt(tr)
    assert g.bures_distance(A.T @ A, A.T @ A) <= 1e-6 * math.sqrt(tr)


# ---- properties (hypothesis) ----------------------------------------------------------------

seeds = st.integers(0, 2**32 - 1)
sizes = st.integers(1, 9)


def _pd(seed, n, k=3):
    r = np.random.default_rng(seed)
    return [rand_psd(r, (), n, rank=r.integers(1, n + 1)) * r.uniform(0.1, 10) for _ in range(k)]


@settings(max_examples=40, deadline=None)
@given(seeds, sizes)
def test_metric_properties(seed, n):
    P, Q, R = _pd(seed, n)
    tr = np.trace(P) + np.trace(Q) + np.trace(R)
    dPQ, dQP = g.bures_distance(P, Q), g.bures_distance(Q, P)
    assert abs(dPQ - dQP) <= 1e-7 * math.sqrt(tr)  # symmetric up to the √u-type error of (a)
    assert g.bures_distance(P, P) <= 1e-6 * math.sqrt(tr)  # d(P,P)=0 up to √(n·u·tr)
    dPR, dRQ = g.bures_distance(P, R), g.bures_distance(R, Q)
    assert dPQ <= dPR + dRQ + 1e-6 * math.sqrt(tr)  # triangle inequality (it is a metric)


@settings(max_examples=30, deadline=None)
@given(seeds, sizes, st.floats(1e-3, 1e3))
def test_invariances(seed, n, c):
    P, Q = _pd(seed, n, 2)
    r = np.random.default_rng(seed + 1)
    U = rand_orth(r, n)
    d = g.bures_distance(P, Q)
    s = math.sqrt(np.trace(P) + np.trace(Q))
    # unitary invariance, absolute √u-type tolerance (singular inputs allowed)
    assert abs(g.bures_distance(U @ P @ U.T, U @ Q @ U.T) - d) <= 1e-6 * s
    # scaling d(cP, cQ) = √c d(P, Q)
    assert abs(g.bures_distance(c * P, c * Q) - math.sqrt(c) * d) <= 1e-6 * math.sqrt(c) * s
    # route (b) has the same invariances: (AUᵀ)ᵀ(AUᵀ) = U P Uᵀ
    A = r.standard_normal((r.integers(1, 6), n))
    B = r.standard_normal((r.integers(1, 6), n))
    db = g.bures_distance_factors(A, B)
    assert_rel(g.bures_distance_factors(A @ U.T, B @ U.T), db, 1e-9, atol=1e-7 * math.sqrt(np.sum(A*A)+np.sum(B*B)))
    assert_rel(g.bures_distance_factors(math.sqrt(c) * A, math.sqrt(c) * B), math.sqrt(c) * db, 1e-12,
               atol=1e-7 * math.sqrt(c * (np.sum(A*A)+np.sum(B*B))))


@settings(max_examples=40, deadline=None)
@given(seeds, st.integers(0, 12))
def test_diag_equals_general_on_diagonal(seed, n):
    r = np.random.default_rng(seed)
    a, b = r.exponential(size=n), r.exponential(size=n)
    a[r.random(n) < 0.3] = 0.0  # singular diagonals are fine for (c)
    dd = g.bures_distance_diag(a, b)
    s = math.sqrt(a.sum() + b.sum())
    assert abs(g.bures_distance(np.diag(a), np.diag(b)) - dd) <= 1e-7 * s + 1e-300
    assert abs(g.bures_distance_cartan(a, b) - g.bures_distance_diag(np.sort(a), np.sort(b))) <= 1e-15 * s
    assert g.bures_distance_cartan(a, b) <= dd + 1e-14 * s


# ---- fast vs reference on shapes ------------------------------------------------------------


@pytest.mark.parametrize("n", [0, 1, 2, 5, 16])
@pytest.mark.parametrize("pshape,qshape", [((), ()), ((4,), (4,)), ((1,), (5,)), ((3, 1), (1, 2)), ((0,), (0,))])
def test_general_vs_reference(rng, n, pshape, qshape):
    P = rand_psd(rng, pshape, n)
    Q = rand_psd(rng, qshape, n)
    for name in ("bures_distance", "bures_fidelity"):
        got, want = getattr(g, name)(P, Q), getattr(ref, name)(P, Q)
        assert type(got) is type(want) or np.ndim(got) == 0
        assert np.shape(got) == np.broadcast_shapes(pshape, qshape)
        # well-conditioned random PSD: d ~ sqrt(tr), so ~1e-12 relative (measured ~1e-14)
        assert_rel(got, want, 1e-11, atol=1e-12, what=f"{name} n={n}")
    if pshape == () and n:
        assert isinstance(g.bures_distance(P, Q), np.float64)


def test_single_pair_returns_numpy_scalar():
    out = g.bures_distance(np.eye(3), 2 * np.eye(3))
    assert isinstance(out, np.float64) and np.ndim(out) == 0
    assert_rel(out, math.sqrt(3) * (math.sqrt(2) - 1), 1e-14)
    assert g.bures_distance(np.zeros((0, 0)), np.zeros((0, 0))) == 0.0
    assert g.bures_distance_factors(np.zeros((0, 3)), np.ones((2, 3))) == math.sqrt(6.0)


def test_float32_and_noncontiguous(rng):
    P = rand_psd(rng, (6,), 8)
    Q = rand_psd(rng, (6,), 8)
    want = ref.bures_distance(P, Q)
    # float32: the input is rounded (~6e-8 relative), the computation is float64
    P32, Q32 = P.astype(np.float32), Q.astype(np.float32)
    assert_rel(g.bures_distance(P32, Q32), ref.bures_distance(P32, Q32), 1e-11)
    assert_rel(g.bures_distance(P32, Q), want, 1e-5)
    # non-contiguous: every other matrix of a bigger batch, transposed views, Fortran order
    big = np.concatenate([P, Q])[::2]
    # d(P, P) = 0 up to the route's sqrt-of-a-difference error ~sqrt(n·u·tr P) (platform-dependent:
    # exactly 0 with one OpenBLAS build, ~2e-7 with another)
    same = g.bures_distance(big[:3], P[::2].transpose(0, 2, 1))
    assert np.all(same <= np.sqrt(8 * 8 * 2.0**-53 * np.trace(P[::2], axis1=1, axis2=2)))
    assert_rel(g.bures_distance(np.asfortranarray(P), Q), want, 1e-11)
    W = np.zeros((6, 16, 16))
    W[:, ::2, ::2] = P
    assert_rel(g.bures_distance(W[:, ::2, ::2], Q), want, 1e-11)
    # factors and vectors through strided views too
    A = rng.standard_normal((4, 3, 10))
    assert_rel(g.bures_distance_factors(A[:, :, ::2], A[::-1, :2, 1::2]),
               ref.bures_distance_factors(A[:, :, ::2], A[::-1, :2, 1::2]), 1e-12)
    v = rng.exponential(size=(5, 12))
    assert_rel(g.bures_distance_diag(v[:, ::3], v[::-1, 1::3].astype(np.float32)),
               ref.bures_distance_diag(v[:, ::3], v[::-1, 1::3].astype(np.float32)), 1e-14)


def test_broadcast_does_not_copy_the_batch(rng):
    # (1, n, n) against a strided (B, n, n) view: only per-worker workspaces are allocated.
    n, B = 32, 400
    P = rand_psd(rng, (1,), n)
    base = rng.standard_normal((B, n, 2 * n))
    Q = base[:, :, ::2]
    Q = Q @ np.swapaxes(Q, -1, -2)  # contiguous PSD batch
    Qv = np.lib.stride_tricks.as_strided(Q, shape=Q.shape, strides=Q.strides)[:, ::-1, ::-1]
    tracemalloc.start()
    out = g.bures_distance(P, Qv)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert peak < 0.1 * Q.nbytes, (peak, Q.nbytes)  # a batch copy would be Q.nbytes (3.3 MB)
    assert_rel(out[:5], ref.bures_distance(P, Qv[:5]), 1e-11)


def test_factors_vs_reference_shapes(rng):
    for (ab, bb, a, b, n) in [((), (), 2, 3, 5), ((4,), (1,), 6, 6, 6), ((2, 3), (3,), 1, 7, 4),
                               ((), (), 5, 0, 3), ((), (), 3, 3, 0), ((0,), (0,), 2, 2, 2),
                               ((3,), (3,), 40, 25, 6), ((), (), 9, 2, 4)]:  # tall: LQ-reduced
        A = rng.standard_normal(ab + (a, n))
        B = rng.standard_normal(bb + (b, n))
        assert_rel(g.bures_distance_factors(A, B), ref.bures_distance_factors(A, B), 1e-12,
                   atol=1e-12, what=f"factors {ab} {bb} {a} {b} {n}")


def test_tall_factors_match_gram_route(rng):
    # a, b > n: the kernel reduces each factor to its n×n triangular factor first (LQ); the
    # Gram matrices AᵀA, BᵀB are full rank here, so route (a) agrees to ~1e-12 (measured ~1e-14).
    A = rng.standard_normal((5, 50, 7))
    B = rng.standard_normal((5, 30, 7))
    P, Q = np.swapaxes(A, -1, -2) @ A, np.swapaxes(B, -1, -2) @ B
    assert_rel(g.bures_distance_factors(A, B), g.bures_distance(P, Q), 1e-12)


def test_vectors_vs_reference(rng):
    for sa, sb, n in [((), (), 7), ((5,), (1,), 3), ((2, 1), (4,), 6), ((), (), 0), ((3,), (3,), 1)]:
        a = rng.exponential(size=sa + (n,))
        b = rng.exponential(size=sb + (n,))
        for name in ("bures_distance_diag", "bures_distance_cartan"):
            assert_rel(getattr(g, name)(a, b), getattr(ref, name)(a, b), 1e-14, atol=1e-300, what=name)
    # tiny negative eigenvalues (from eigvalsh of a singular matrix) are clipped, not rejected
    lam = np.array([3.0, 1.0, -1e-16])
    assert_rel(g.bures_distance_cartan(lam, [0.0, 1.0, 3.0]), 0.0, 0, atol=1e-15)


def test_large_single_matrix(rng):
    P = rand_psd(rng, (), 200)
    Q = rand_psd(rng, (), 200, rank=150)
    assert_rel(g.bures_distance(P, Q), ref.bures_distance(P, Q), 1e-9)


# ---- bad inputs ----------------------------------------------------------------------------

S = np.eye(3)
NS = np.array([[1.0, 2.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]])
IND = np.diag([1.0, -0.5, 2.0])
NAN_B = np.stack([S, S]); NAN_B[1, 0, 0] = np.nan
INF_B = np.stack([S, S, S]); INF_B[2, 1, 2] = INF_B[2, 2, 1] = np.inf

BAD = [
    # (fn, args, exception, message fragment)
    ("bures_distance", (np.ones((3, 4)), np.ones((3, 4))), ValueError, "P must be square"),
    ("bures_distance", (S, np.eye(4)), ValueError, "P and Q must be matrices of the same size"),
    ("bures_distance", (np.ones(3), S), ValueError, "P must be a matrix or stack of matrices"),
    ("bures_distance", (S, NAN_B), ValueError, "Q must be finite (no NaN or Inf); got non-finite values at batch index (1,)"),
    ("bures_distance", (INF_B, S), ValueError, "P must be finite (no NaN or Inf); got non-finite values at batch index (2,)"),
    ("bures_distance", (NS, S), ValueError, "P must be symmetric"),
    ("bures_distance", (S, IND), ValueError, "Q must be positive semidefinite"),
    ("bures_fidelity", (np.stack([S, IND]), S), ValueError, "P must be positive semidefinite (λ_min >= −3e-08·max|λ|); got a clearly negative eigenvalue at batch index (1,)"),
    ("bures_distance", (np.eye(3, dtype=np.int64), S), TypeError, "P must be a float32 or float64 array"),
    ("bures_distance", (S, S.astype(np.complex128)), TypeError, "Q must be a float32 or float64 array"),
    ("bures_distance", (S.astype(np.float16), S), TypeError, "P must be a float32 or float64 array"),
    ("bures_distance", ("abc", S), TypeError, "P must be a float32 or float64 array"),
    ("bures_distance", (np.ones((2, 3, 3)), np.ones((3, 3, 3))), ValueError, "P and Q must be broadcastable"),
    ("bures_distance_factors", (np.ones((2, 3)), np.ones((2, 4))), ValueError, "A and B must be factors with the same column count"),
    ("bures_distance_factors", (np.ones(3), np.ones((2, 3))), ValueError, "A must be a matrix or stack"),
    ("bures_distance_factors", (np.ones((2, 3)), np.full((2, 3), np.nan)), ValueError, "B must be finite"),
    ("bures_distance_factors", (np.ones((2, 3), dtype=np.int32), np.ones((2, 3))), TypeError, "A must be a float32 or float64 array"),
    ("bures_distance_diag", ([1.0, -1.0], [1.0, 1.0]), ValueError, "a must be nonnegative"),
    ("bures_distance_diag", ([1.0, 2.0], [1.0, np.inf]), ValueError, "b must be finite"),
    ("bures_distance_diag", (np.float64(1.0), [1.0]), ValueError, "a must be a vector or stack of vectors"),
    ("bures_distance_diag", ([1.0, 2.0], [1.0, 2.0, 3.0]), ValueError, "a and b must be vectors of the same length"),
    ("bures_distance_cartan", ([1.0, 2.0], [1j, 2.0]), TypeError, "lam_q must be a float32 or float64 array"),
    ("bures_distance_cartan", (np.array([[1.0, 2.0], [3.0, -3.0]]), [1.0, 2.0]), ValueError, "lam_p must be nonnegative (entries >= −2e-08·max|entry|); got a clearly negative entry at batch index (1,)"),
]


@pytest.mark.parametrize("fn,args,exc,msg", BAD, ids=[f"{b[0]}-{i}" for i, b in enumerate(BAD)])
def test_bad_inputs(fn, args, exc, msg):
    with pytest.raises(exc) as info:
        getattr(g, fn)(*args)
    assert f"{fn}(): {msg}" in str(info.value)
    # the reference rejects the same inputs with the same exception type
    with pytest.raises(exc):
        getattr(ref, fn)(*args)


def test_error_names_own_batch_index_under_broadcast():
    P = np.stack([np.eye(2), np.diag([1.0, -1.0])])[:, None]  # (2, 1, 2, 2)
    Q = np.stack([np.eye(2)] * 3)  # (3, 2, 2)
    with pytest.raises(ValueError, match=r"P must be positive semidefinite .* at batch index \(1, 0\)"):
        g.bures_distance(P, Q)


def test_broadcast_single_operand_shared_decomposition(rng):
    # a single matrix broadcast against a batch is decomposed once and shared: same numbers as
    # the explicit repeat, and its errors still name the operand.
    P = rand_psd(rng, (1,), 6)
    Q = rand_psd(rng, (7,), 6)
    full = g.bures_distance(np.repeat(P, 7, 0), Q)
    assert_rel(g.bures_distance(P, Q), full, 1e-14)
    assert_rel(g.bures_distance(Q, P[0]), full, 1e-12)
    assert_rel(g.bures_fidelity(P, Q), ref.bures_fidelity(P, Q), 1e-12)
    with pytest.raises(ValueError, match=r"bures_distance\(\): P must be positive semidefinite .* at batch index \(0,\)"):
        g.bures_distance(IND[None], np.stack([S] * 3))
    with pytest.raises(ValueError, match=r"bures_distance\(\): Q must be symmetric"):
        g.bures_distance(np.stack([S] * 3), NS)


def test_outputs_are_not_nan_for_valid_edge_cases():
    Z = np.zeros((4, 4))
    assert g.bures_distance(Z, Z) == 0.0
    assert g.bures_fidelity(Z, np.eye(4)) == 0.0
    assert_rel(g.bures_distance(Z, np.eye(4)), 2.0, 1e-15)
    assert g.bures_distance_factors(np.zeros((2, 4)), np.zeros((3, 4))) == 0.0


# ---- every device (CPU numpy; CUDA cupy in, cupy out where a device exists) --------------------


def _on(device, out, shape):
    """The result lives where the input did, float64, with the broadcast batch shape (a numpy
    scalar for one pair on the CPU, a 0-d cupy array on the device)."""
    if device.name == "cpu" and shape == ():
        assert isinstance(out, np.float64)
    else:
        assert device.is_native(out) and out.dtype == np.float64
    assert np.shape(out) == shape
    return np.asarray(device.asnumpy(out))


@pytest.mark.parametrize("pshape,qshape", [((), ()), ((4,), (4,)), ((1,), (5,)), ((3, 1), (1, 2)), ((0,), (0,))])
def test_general_on_device_matches_reference(device, rng, pshape, qshape):
    # The device runs cuSOLVER's eigh/svd where the host runs LAPACK's dsyevd/dgesdd: both
    # backward stable, so test_general_vs_reference's 1e-11 relative (measured ~1e-14) applies.
    shape = np.broadcast_shapes(pshape, qshape)
    for n in (0, 1, 5, 16):
        P, Q = rand_psd(rng, pshape, n), rand_psd(rng, qshape, n)
        for name in ("bures_distance", "bures_fidelity"):
            out = _on(device, getattr(g, name)(device.asarray(P), device.asarray(Q)), shape)
            assert_rel(out, getattr(ref, name)(P, Q), 1e-11, atol=1e-12, what=f"{name} n={n}")


def test_general_on_device_layouts_and_scales(device, rng):
    P, Q = rand_psd(rng, (6,), 8), rand_psd(rng, (6,), 8)
    want = ref.bures_distance(P, Q)
    d = lambda x, y: _on(device, g.bures_distance(device.asarray(x), device.asarray(y)), (6,))
    # float32 operands are rounded (~6e-8), then computed in float64 as on the host
    P32 = P.astype(np.float32)
    assert_rel(d(P32, Q), ref.bures_distance(P32, Q), 1e-11)
    # strided, transposed and reversed views are read in place (any signed strides)
    W = np.zeros((6, 16, 16))
    W[:, ::2, ::2] = P
    Wd = device.asarray(W)
    assert_rel(_on(device, g.bures_distance(Wd[:, ::2, ::2], device.asarray(Q)), (6,)), want, 1e-11)
    Pd = device.asarray(P)
    assert_rel(_on(device, g.bures_distance(Pd[::-1].transpose(0, 2, 1), device.asarray(Q[::-1])), (6,)),
               want[::-1], 1e-11)
    # homogeneity through the power-of-two scaling (max|X| outside [2^-500, 2^500]): tiny and
    # huge matrices keep full precision (unscaled, d² would underflow or overflow)
    for c in (2.0**-1000, 2.0**1000):
        assert_rel(d(P * c, Q * c), want * math.sqrt(c), 1e-11)
    # rank-deficient pairs agree with the factor route (sqrt(u)-type error, as on the host)
    A, B = rng.standard_normal((4, 2, 5)), rng.standard_normal((4, 3, 5))
    Pr, Qr = np.swapaxes(A, -1, -2) @ A, np.swapaxes(B, -1, -2) @ B
    assert_rel(_on(device, g.bures_distance(device.asarray(Pr), device.asarray(Qr)), (4,)),
               ref.bures_distance_factors(A, B), 1e-7)


def test_factors_on_device_match_reference(device, rng):
    for (ab, bb, a, b, n) in [((), (), 2, 3, 5), ((4,), (1,), 6, 6, 6), ((2, 3), (3,), 1, 7, 4),
                               ((), (), 5, 0, 3), ((), (), 3, 3, 0), ((0,), (0,), 2, 2, 2),
                               ((3,), (3,), 40, 25, 6), ((), (), 9, 2, 4)]:  # tall: QR-reduced
        A = rng.standard_normal(ab + (a, n))
        B = rng.standard_normal(bb + (b, n)).astype(np.float32)
        out = _on(device, g.bures_distance_factors(device.asarray(A), device.asarray(B)),
                  np.broadcast_shapes(ab, bb))
        # as test_factors_vs_reference_shapes: ~1e-15·min(a,b) of ‖A‖² + ‖B‖² in d²
        assert_rel(out, ref.bures_distance_factors(A, B), 1e-12, atol=1e-12, what=f"{ab} {bb} {a} {b} {n}")
    A = rng.standard_normal((3, 4, 6))
    Ad = device.asarray(A)
    for c in (2.0**-600, 2.0**600):  # factors outside [2^-250, 2^250]: scaled exactly, d scales by c
        # (pair 1 is A[1] against itself: d = 0 up to ~1e-8·‖A‖_F, the sqrt of a difference)
        assert_rel(_on(device, g.bures_distance_factors(Ad * c, Ad[::-1] * c), (3,)),
                   ref.bures_distance_factors(A, A[::-1]) * c, 1e-12, atol=1e-7 * c)


def test_vectors_on_device_match_reference(device, rng):
    for sa, sb, n in [((), (), 7), ((5,), (1,), 3), ((2, 1), (4,), 6), ((), (), 0), ((3,), (3,), 1),
                      ((2,), (2,), 1000)]:
        a = rng.exponential(size=sa + (n,))
        b = rng.exponential(size=sb + (n,)).astype(np.float32)
        for name in ("bures_distance_diag", "bures_distance_cartan"):
            out = _on(device, getattr(g, name)(device.asarray(a), device.asarray(b)), np.broadcast_shapes(sa, sb))
            # a few ulps per term, summed in another order on the device: 1e-14 relative
            assert_rel(out, getattr(ref, name)(a, b), 1e-14, atol=1e-300, what=f"{name} {sa} {sb} {n}")
    lam = rng.exponential(size=(3, 9))
    srt = -np.sort(-lam, axis=-1)
    want = ref.bures_distance_cartan(lam, lam[::-1])
    for x in (lam, srt, srt[:, ::-1]):  # unsorted (sorted copy), descending, ascending (read backwards)
        assert_rel(_on(device, g.bures_distance_cartan(device.asarray(x), device.asarray(lam[::-1])), (3,)),
                   want, 1e-14)
    # tiny negative entries are clipped; extreme magnitudes take the scaled pass
    assert_rel(_on(device, g.bures_distance_cartan(device.asarray(np.array([3.0, 1.0, -1e-16])),
                                                   device.asarray(np.array([0.0, 1.0, 3.0]))), ()), 0.0, 0, atol=1e-15)
    big = np.array([1e300, 4e300, 1e-300])
    assert_rel(_on(device, g.bures_distance_diag(device.asarray(big), device.asarray(big[::-1])), ()),
               ref.bures_distance_diag(big, big[::-1]), 1e-14)


@pytest.mark.parametrize("fn,args,exc,msg", [b for b in BAD if not isinstance(b[1][0], str)],
                         ids=[f"{b[0]}-{i}" for i, b in enumerate(BAD) if not isinstance(b[1][0], str)])
def test_bad_inputs_on_device(device, fn, args, exc, msg):
    # the CPU route's exceptions and messages (pair and operand named the same way)
    with pytest.raises(exc) as info:
        getattr(g, fn)(*(device.asarray(np.asarray(a)) for a in args))
    assert f"{fn}(): {msg}" in str(info.value)


def test_bures_on_device_error_names_own_batch_index(device):
    P = np.stack([np.eye(2), np.diag([1.0, -1.0])])[:, None]  # (2, 1, 2, 2)
    Q = np.stack([np.eye(2)] * 3)  # (3, 2, 2)
    with pytest.raises(ValueError, match=r"P must be positive semidefinite .* at batch index \(1, 0\)"):
        g.bures_distance(device.asarray(P), device.asarray(Q))
    # the lowest failing pair wins, its first failing operand named: Q of pair 1 before P of pair 2
    P3, Q3 = np.stack([S, S, IND]), np.stack([S, NAN_B[1], S])
    with pytest.raises(ValueError, match=r"Q must be finite .* at batch index \(1,\)"):
        g.bures_fidelity(device.asarray(P3), device.asarray(Q3))
    with pytest.raises(ValueError, match=r"lam_q must be finite .* at batch index \(1,\)"):
        g.bures_distance_cartan(device.asarray(np.array([[2.0, 1.0], [1.0, 2.0], [-1.0, 1.0]])),
                                device.asarray(np.array([[1.0, 0.0], [np.nan, 0.0], [1.0, 0.0]])))


def test_bures_on_device_refuses_mixed_operands(cupy):
    with pytest.raises(TypeError, match="all be numpy arrays or all be cupy arrays"):
        g.bures_distance(cupy.asarray(np.eye(3)), np.eye(3))
    with pytest.raises(TypeError, match="all be numpy arrays or all be cupy arrays"):
        g.bures_distance_factors(np.ones((2, 3)), cupy.ones((2, 3)))
    with pytest.raises(TypeError, match="all be numpy arrays or all be cupy arrays"):
        g.bures_distance_diag([1.0, 2.0], cupy.ones(2))


def test_diag_near_tie_at_tiny_scale_is_not_zero():
    """Regression: one ulp apart at 1e-300, t = √b − √a ≈ 8.3e-167 squares to 0 in float64; the
    plain sum was returned as 0 (two different vectors at distance 0) instead of taking the
    scaled pass. Exact value from mpmath; the AVX2 row sweep (n ≥ 8) had the same test."""
    import mpmath as mp
    mp.mp.dps = 50
    for n in (1, 9):
        a = np.full(n, 1e-300)
        b = np.nextafter(a, 1.0)
        ex = mp.sqrt(n) * (mp.sqrt(mp.mpf(float(b[0]))) - mp.sqrt(mp.mpf(float(a[0]))))
        for f in (g.bures_distance_diag, g.bures_distance_cartan):
            got = f(a, b)
            assert abs(mp.mpf(float(got)) - ex) <= (n + 16) * 2.0**-53 * ex, (f.__name__, n, got)
            assert f(a[:, None] * np.ones(3), b[:, None] * np.ones(3)).shape == (n,)
