"""Energy measure, tails, truncation ranks, entropy, radial functional (spec §8.1, §4.2, §4.4).

Oracles from spec §11.2, §11.3, §11.6; fast vs numpy reference on random dense/ragged batches
(float32/float64, any order, zeros, ties, strided views); exact-arithmetic accuracy of tails;
hypothesis properties; bad-input table.
"""
from __future__ import annotations

import re
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import gsa_fast as g
from gsa_fast import reference as ref
from gsa_fast._ragged import RaggedSpectra
from _helpers import UNIT_ROUNDOFF, assert_rel

U = UNIT_ROUNDOFF["float64"]
IMPLS = pytest.mark.parametrize("impl", [g, ref], ids=["fast", "reference"])


def orbit(alpha, d):
    """σ_k = k^-α, k = 1..d (an exact power law, spec §4.1)."""
    return np.arange(1, d + 1, dtype=np.float64) ** -alpha


# ------------------------------------------------------------------------------------------------
# spec oracles

# §11.6 "Explicit spectrum": σ = (3,2,2,1,0.5,0.1,0), ‖σ‖² = 18.26
EXPLICIT = np.array([3, 2, 2, 1, 0.5, 0.1, 0])
EXPLICIT_T = [1, 0.5071193866, 0.2880613363, 0.0690032859, 0.0142387733, 0.000547645126, 0, 0]
EXPLICIT_R = {0.5: 2, 0.3: 2, 0.1: 3, 0.05: 4, 0.01: 5, 1e-4: 6, 0: 6}


@IMPLS
def test_explicit_spectrum_tails_and_ranks(impl):
    T = impl.spectrum_tails(EXPLICIT)
    assert T.shape == (8,)
    assert_rel(T, EXPLICIT_T, 0, atol=5.1e-11, what="T")  # the spec rounds to 10 decimals (6e-12 for T(5))
    # exact values: T(r) = Σ_{k>r} σ_k² / 18.26 (σ_k² in float64 are the decimal squares to 1 ulp)
    exact = [sum(Fraction(float(s)) ** 2 for s in EXPLICIT[r:]) / sum(Fraction(float(s)) ** 2 for s in EXPLICIT)
             for r in range(8)]
    assert_rel(T, [float(e) for e in exact], 4 * U, what="T exact")
    eps = list(EXPLICIT_R)
    r = impl.truncation_rank(EXPLICIT, eps)
    assert r.dtype == np.int64 and r.shape == (len(eps),)
    assert r.tolist() == list(EXPLICIT_R.values())
    for e, want in EXPLICIT_R.items():
        got = impl.truncation_rank(EXPLICIT, e)
        assert isinstance(got, np.int64) and got == want
    assert impl.rank_count(EXPLICIT) == 6
    # any order gives the same answers
    shuffled = EXPLICIT[[6, 3, 0, 5, 2, 4, 1]]
    assert impl.truncation_rank(shuffled, eps).tolist() == list(EXPLICIT_R.values())
    np.testing.assert_array_equal(impl.spectrum_tails(shuffled), T)


@IMPLS
def test_worked_spectrum_radial(impl):
    # §11.3: σ = (3,2,2,1,0.5,0.1,0.05), d = 7: R(P) = 1.0291666666666663, m(P) = 0.6191424746573575
    s = np.array([3, 2, 2, 1, 0.5, 0.1, 0.05])
    for d in (7, None):  # default d = q_+ = 7
        assert_rel(impl.radial_functional(s, d), 0.6191424746573575, 1e-15, what="m")  # measured 1 ulp
    T1 = impl.spectrum_tails(s)[1]
    nu1 = impl.energy(s)[0]
    assert_rel(T1 / nu1, 1.0291666666666663, 4 * U, what="R = T(1)/ν_1")
    # scale invariance (m is scale-free, §4.2), also where σ² overflows or underflows in float64
    for c in (1e-200, 3.7, 1e200):
        assert_rel(impl.radial_functional(c * s), 0.6191424746573575, 1e-15, what=f"m at scale {c}")


# §11.6 orbit truncation ranks (σ_k = k^-α)
ORBIT_RANKS = [(1, 1000, 0.1, 6), (1, 1000, 0.01, 57), (0.5, 1000, 0.1, 473), (0.25, 1000, 0.1, 815),
               (0.75, 4096, 0.05, 156), (2, 64, 0.01, 3)]


@IMPLS
@pytest.mark.parametrize("alpha,d,eps,want", ORBIT_RANKS)
def test_orbit_truncation_ranks(impl, alpha, d, eps, want):
    s = orbit(alpha, d)
    assert impl.truncation_rank(s, eps) == want
    assert impl.truncation_rank(s[::-1].copy(), eps) == want  # ascending input


def test_orbit_tail_values_and_margin():
    # §11.6: α=1, d=1000, ε=0.1: T(5) = 0.109690166035, T(6) = 0.092793035005, γ = 0.0072069649945989
    T = g.spectrum_tails(orbit(1, 1000))
    assert_rel(T[5:7], [0.109690166035, 0.092793035005], 5e-12, what="T(r-1), T(r)")  # 12 digits printed
    gamma = min(0.1 - T[6], T[5] - 0.1)
    assert_rel(gamma, 0.0072069649945989, 1e-13, what="γ")  # ε − T(6): cancellation ~ T/γ·u ≈ 14u


def test_orbit_large_width():
    # §11.6: α = 1, d = 1e6, ε = 0.01 → 61 (one long spectrum, float64 and float32)
    s = orbit(1, 10**6)
    assert g.truncation_rank(s, [0.01, 0.1]).tolist() == [61, 6]
    assert g.truncation_rank(s.astype(np.float32), 0.01) == 61


def test_eps_shapes_and_empty_eps():
    x = np.ones((3, 4))
    assert g.truncation_rank(x, []).shape == (3, 0)
    assert g.truncation_rank(x, np.array(0.5)).shape == (3,)
    assert g.truncation_rank(x[0], [0.5]).shape == (1,)
    with pytest.raises(ValueError, match="spectrum 1"):  # spectra are still validated
        g.truncation_rank(np.array([[1.0], [np.nan]]), [])
    # a batch that repeats one row through a zero stride is read in place
    b = np.broadcast_to(orbit(1, 1000), (5, 1000))
    assert g.truncation_rank(b, 0.1).tolist() == [6] * 5


def test_entropy_nearly_rank_one():
    # Ent = −p1 log p1 − p2 log p2 with p2 = 1e-12/(1+1e-12): log p1 must come from log1p (§4.4)
    import mpmath as mp
    with mp.workdps(50):
        p2 = mp.mpf(1e-12) / (1 + mp.mpf(1e-12))
        want = float(-(1 - p2) * mp.log(1 - p2) - p2 * mp.log(p2))
    for impl in (g, ref):
        assert_rel(impl.spectral_entropy([1.0, 1e-6]), want, 1e-14, what="Ent")  # measured ~1e-16


def test_alpha_zero_tie():
    # §8.1: α = 0, d = 1000, ε = 0.1 is exactly 900, float64 may give 901: accept both
    s = np.ones(1000)
    for impl in (g, ref):
        assert int(impl.truncation_rank(s, 0.1)) in {900, 901}


@IMPLS
@pytest.mark.parametrize("alpha,m,ent", [
    (0, 0.0, 4.158883083359672),
    (0.5, 1.301012709309008, 3.371352472352587),
    (1, 1.835326257614551, 1.540679329087041),
    (2, 2.039887178946355, 0.3337674204246721),
])
def test_orbit_entropy_and_radial_d64(impl, alpha, m, ent):
    # §11.2 (d = 64): m_d(α) and Ent(α) of the exact orbit
    s = orbit(alpha, 64)
    assert_rel(impl.radial_functional(s), m, 1e-14, atol=1e-15, what="m")  # spec: 16 digits
    assert_rel(impl.radial_functional(s, 64), m, 1e-14, atol=1e-15, what="m, explicit d")
    assert_rel(impl.spectral_entropy(s), ent, 1e-14, what="Ent")


@IMPLS
def test_d_equal_one_and_degenerate(impl):
    # §11.2 d = 1: m = Ent = 0; all-zero / empty spectra: documented conventions
    assert impl.radial_functional([2.5]) == 0.0 and impl.spectral_entropy([2.5]) == 0.0
    assert impl.truncation_rank([2.5], [0, 0.5]).tolist() == [1, 1]
    z = np.zeros((2, 4))
    assert impl.truncation_rank(z, [0, 0.1]).tolist() == [[0, 0], [0, 0]]
    np.testing.assert_array_equal(impl.spectrum_tails(z), np.zeros((2, 5)))
    np.testing.assert_array_equal(impl.energy(z), np.zeros((2, 4)))
    np.testing.assert_array_equal(impl.spectral_entropy(z), [0, 0])
    assert np.isnan(impl.radial_functional(z)).all()
    np.testing.assert_array_equal(impl.rank_count(z), [0, 0])
    e = np.zeros((3, 0))
    assert impl.truncation_rank(e, 0.1).tolist() == [0, 0, 0]
    assert impl.spectrum_tails(e).shape == (3, 1) and impl.energy(e).shape == (3, 0)
    assert impl.truncation_rank(np.zeros((0, 5)), [0.1, 0.2]).shape == (0, 2)
    assert impl.spectrum_tails(np.zeros((0, 5))).shape == (0, 6)


# ------------------------------------------------------------------------------------------------
# fast vs reference


def random_batch(rng, shape, dtype, order):
    """Spectra with exact zeros and exact ties, in the requested order."""
    x = rng.lognormal(0, 2, shape)
    x[rng.random(shape) < 0.1] = 0.0
    x[..., 1::7] = x[..., 0:-1:7][..., : x[..., 1::7].shape[-1]]  # exact ties
    if order == "desc":
        x = -np.sort(-x, axis=-1)
    elif order == "asc":
        x = np.sort(x, axis=-1)
    return x.astype(dtype)


def compare(x, rng, q):
    """All six functions, fast vs reference; q = widest spectrum (for the summation bound)."""
    tol_T = (q + 8) * U  # reference: plain np.cumsum, error ≤ (q−1)u relative per suffix + scaling
    eps = np.concatenate([[0.0], rng.uniform(0, 1, 5), 10.0 ** rng.uniform(-12, -1, 4)])
    np.testing.assert_array_equal(g.truncation_rank(x, eps), ref.truncation_rank(x, eps))
    np.testing.assert_array_equal(g.rank_count(x), ref.rank_count(x))
    np.testing.assert_array_equal(g.rank_count(x, 0.5), ref.rank_count(x, 0.5))
    # ν = σ²/total: the reference's total is a plain cumsum too (the fast one is checked against
    # exact arithmetic in test_sort_paths / test_tiny_tails_relative_accuracy)
    for name, rtol, atol in [("energy", tol_T, 0), ("spectrum_tails", tol_T, 0),
                             ("spectral_entropy", 1e-13, 1e-15), ("radial_functional", 0, 1e-14)]:
        a, b = getattr(g, name)(x), getattr(ref, name)(x)
        if isinstance(a, RaggedSpectra):
            np.testing.assert_array_equal(a.offsets, b.offsets)
            a, b = a.values, b.values
        assert a.dtype == np.float64
        nan = np.isnan(b)
        np.testing.assert_array_equal(np.isnan(a), nan)
        assert_rel(np.where(nan, 0, a), np.where(nan, 0, b), rtol, atol, what=name)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("order", ["desc", "asc", "any"])
@pytest.mark.parametrize("width", [1, 7, 300])  # 300: the radix-sort path (≥ 256)
def test_fast_vs_reference_dense(rng, dtype, order, width):
    x = random_batch(rng, (24, width), dtype, order)
    compare(x, rng, width)


def test_fast_vs_reference_views_and_batch_shapes(rng):
    x = random_batch(rng, (20, 300), np.float64, "any")
    compare(x[:, ::1][::2], rng, 300)  # row stride 2·width
    compare(x[:, :37], rng, 37)  # rows longer than the spectra
    compare(x[3:9, 5:290], rng, 285)
    compare(x.reshape(4, 5, 300)[:, 1:4], rng, 300)  # 2-D batch shape
    compare(x[7], rng, 300)  # one spectrum: numpy scalars out
    f = random_batch(rng, (10, 600), np.float32, "any")
    compare(f[::3, 100:], rng, 500)
    # batch shapes of the results
    assert g.truncation_rank(x.reshape(4, 5, 300), [0.1, 0.2]).shape == (4, 5, 2)
    assert g.truncation_rank(x.reshape(4, 5, 300), 0.1).shape == (4, 5)
    assert g.spectrum_tails(x.reshape(4, 5, 300)).shape == (4, 5, 301)


def test_fast_vs_reference_ragged(rng):
    lens = [0, 1, 5, 300, 0, 17, 256, 2, 1000]
    parts = [random_batch(rng, (n,), np.float64, ["desc", "asc", "any"][i % 3]) for i, n in enumerate(lens)]
    parts[5][:] = 0.0  # an all-zero spectrum
    r = RaggedSpectra.from_list(parts)
    compare(r, rng, 1000)
    T = g.spectrum_tails(r)
    assert isinstance(T, RaggedSpectra) and np.diff(T.offsets).tolist() == [n + 1 for n in lens]
    E = g.energy(r)
    np.testing.assert_array_equal(E.offsets, r.offsets)
    rf = RaggedSpectra(r.values.astype(np.float32), r.offsets)
    compare(rf, rng, 1000)
    # a list of unequal spectra is ragged too
    assert g.truncation_rank([[3, 1], [1, 1, 1]], 0.3).tolist() == [1, 3]


def test_sort_paths(rng):
    # unsorted spectra are sorted in the workspace: short (< 64, std::sort), bucket + one insertion
    # pass (spread keys), per-bucket sorts (clustered keys: one huge outlier, few distinct values)
    spread = rng.random((4, 1000))
    clustered = 1 + rng.random((4, 1000)) * 1e-9
    clustered[:, 17] = 1e250
    few = rng.integers(0, 4, (4, 1000)).astype(np.float64)
    short = rng.random((4, 63))
    clustered32 = (1 + rng.random((4, 1000)) * 1e-5).astype(np.float32)
    clustered32[:, 17] = 1e30
    for x in (spread, clustered, few, short, spread.astype(np.float32), clustered32):
        compare(x, rng, x.shape[-1])
        x64 = x.astype(np.float64)
        x64 = x64 / 2.0 ** np.floor(np.log2(x64.max(axis=1, keepdims=True)))  # exact, no overflow
        want = -np.sort(-x64 ** 2, axis=1) / np.array([[float(sum(map(Fraction, row ** 2)))] for row in x64])
        assert_rel(g.energy(x), want, 4 * U, what="ν sorted")  # order exact, values to a few ulp


def test_negative_zero_and_extreme_magnitudes(rng):
    x = random_batch(rng, (6, 400), np.float64, "any")
    x[:, ::5] = -0.0
    compare(x, rng, 400)
    np.testing.assert_array_equal(g.truncation_rank(x, 0.01), g.truncation_rank(np.abs(x), 0.01))
    for c in (2.0**-1000, 2.0**900):  # σ² under/overflows: the power-of-two scaling is exact
        np.testing.assert_array_equal(g.spectrum_tails(c * x), g.spectrum_tails(x))
        np.testing.assert_array_equal(g.energy(c * x), g.energy(x))
    big = np.array([1e300, 1e299, 5e-300, 4.9e-324])
    assert g.rank_count(big) == 4 and g.truncation_rank(big, [0, 1e-3, 0.05]).tolist() == [4, 2, 1]


def test_threads_agree(rng):
    x = random_batch(rng, (200, 300), np.float64, "any")
    n0 = g.get_num_threads()
    try:
        g.set_num_threads(1)
        one = g.spectrum_tails(x), g.truncation_rank(x, [0.1, 0.01])
    finally:
        g.set_num_threads(n0)
    np.testing.assert_array_equal(g.spectrum_tails(x), one[0])
    np.testing.assert_array_equal(g.truncation_rank(x, [0.1, 0.01]), one[1])


def test_kernel_all_outputs_in_one_call(rng):
    # the kernel computes any combination in one pass (ordered path for entropy/m/rank too):
    # it must agree with the one-output calls the public functions make (unordered path)
    from gsa_fast._ragged import as_spectra
    for dtype in (np.float64, np.float32):
        x = random_batch(rng, (30, 300), dtype, "any")
        b = as_spectra(x, "t")
        n, w = x.shape
        eps = np.array([0.0, 0.1, 0.01])
        r = np.empty((n, 3), dtype=np.int64)
        T, E = np.empty((n, w + 1)), np.empty((n, w))
        ent, m, rk = np.empty(n), np.empty(n), np.empty(n, dtype=np.int64)
        status = g._core.energy_stats(b.values, b.starts, b.lengths, eps=eps, out_ranks_eps=r, out_tails=T.reshape(-1),
                                   tails_start=np.arange(n) * (w + 1), out_energy=E.reshape(-1),
                                   energy_start=np.arange(n) * w, out_entropy=ent, out_radial=m, out_rank=rk, tol=0.5)
        assert tuple(status) == (0, -1, -1, 0)  # Status(code ok, no index, no position, info 0)
        np.testing.assert_array_equal(r, g.truncation_rank(x, eps))
        np.testing.assert_array_equal(T, g.spectrum_tails(x))
        np.testing.assert_array_equal(E, g.energy(x))
        np.testing.assert_array_equal(rk, g.rank_count(x, 0.5))
        assert_rel(ent, g.spectral_entropy(x), 1e-14, what="entropy, ordered vs unordered sum")
        assert_rel(m, g.radial_functional(x), 0, atol=1e-15, what="m, ordered vs unordered sum")


def test_kernel_reports_what_and_where():
    # the one status channel: the kernel names the spectrum, the position and what it found
    x = np.ones((4, 6))
    x[2, 3] = -1.0
    x[3, 1] = np.nan
    b = (x.reshape(-1), np.arange(4) * 6, np.full(4, 6))
    code, index, position, _ = g._core.energy_stats(*b, out_rank=np.empty(4, dtype=np.int64))
    assert (int(code), index, position) == (int(g._core.StatusCode.negative), 2, 3)
    x[2, 3] = np.inf
    code, index, position, _ = g._core.energy_stats(*b, out_entropy=np.empty(4))
    assert (int(code), index, position) == (int(g._core.StatusCode.inf), 2, 3)
    with pytest.raises(ValueError, match=r"energy\(\): spectra must be finite nonnegative singular values; "
                                         r"got Inf at position 3 of spectrum 2"):
        g.energy(x)


def test_kernel_rechecks_layout():
    # the C++ safety net behind the Python validation: no out-of-bounds access, no silent copies
    v = np.ones(10)
    k = g._core.energy_stats
    with pytest.raises(ValueError, match="spectrum out of bounds"):
        k(v, np.array([8]), np.array([5]), out_rank=np.empty(1, dtype=np.int64))
    with pytest.raises(ValueError, match="out_tails: region out of bounds"):
        k(v, np.array([0]), np.array([10]), out_tails=np.empty(10), tails_start=np.array([0]))
    with pytest.raises(ValueError, match="out_ranks_eps has the wrong size"):
        k(v, np.array([0]), np.array([10]), eps=np.array([0.1, 0.2]), out_ranks_eps=np.empty(1, dtype=np.int64))
    with pytest.raises(TypeError):  # int values are not converted behind the caller's back
        k(np.ones(10, dtype=np.int64), np.array([0]), np.array([10]))
    with pytest.raises(ValueError, match="C-contiguous array of the kernel's dtype"):
        k(v, np.array([0]), np.array([10]), out_entropy=np.empty(1, dtype=np.float32))


# ------------------------------------------------------------------------------------------------
# accuracy against exact rational arithmetic


def exact_tails(s):
    sq = sorted((Fraction(float(v)) ** 2 for v in s), reverse=True)
    tot = sum(sq)
    out, acc = [], Fraction(0)
    for v in reversed(sq):
        out.append(acc)
        acc += v
    out.append(acc)
    return [float(t / tot) for t in reversed(out)]


def test_tiny_tails_relative_accuracy(rng):
    # T(r) far below u: 1 − prefix would give 0 (or garbage); suffix sums keep every digit
    s = np.array([1.0, 3e-9, 1e-9, 1e-20, 7e-25])
    T = g.spectrum_tails(s)
    assert_rel(T, exact_tails(s), 4 * U, what="tiny tails")  # Neumaier sum ≤ 2u, squares/division 2u
    assert T[3] < 1e-39 and T[3] > 0
    assert g.truncation_rank(s, [5e-18, 1e-30, 1e-45]).tolist() == [2, 3, 4]
    # random spectra spanning 30 orders of magnitude, both dtypes
    for dtype in (np.float64, np.float32):
        for _ in range(5):
            x = (10.0 ** rng.uniform(-15, 15, 60)).astype(dtype)
            assert_rel(g.spectrum_tails(x), exact_tails(x), 4 * U, what=f"random {dtype.__name__}")


# ------------------------------------------------------------------------------------------------
# properties (hypothesis)

spectra_st = st.lists(st.one_of(st.just(0.0), st.floats(1e-6, 1e6), st.sampled_from([1.0, 2.0])),
                      min_size=0, max_size=40)


@settings(max_examples=150, deadline=None)
@given(spectra_st, st.lists(st.floats(0, 0.999), min_size=1, max_size=6), st.randoms(use_true_random=False))
def test_properties(s, eps, rnd):
    s = np.array(s, dtype=np.float64)
    eps = np.sort(np.array(eps))
    r = g.truncation_rank(s, eps)
    rank = g.rank_count(s)
    assert rank == np.count_nonzero(s)
    assert np.all(np.diff(r) <= 0)  # r_ε nonincreasing in ε
    assert np.all(r <= rank) and np.all((r >= 1) | (rank == 0))
    assert g.truncation_rank(s, 0.0) == rank
    T = g.spectrum_tails(s)
    assert np.all(np.diff(T) <= 0)  # T nonincreasing in r (exactly)
    if rank:
        assert T[0] == 1.0 and T[-1] == 0.0
        # r_ε is the first r ≥ 1 with T(r) ≤ ε, read off the tails themselves
        for e, re in zip(eps, r):
            if e > 0:
                assert T[re] <= e and (re == 1 or T[re - 1] > e)
        nu = g.energy(s)
        assert abs(nu.sum() - 1) < 1e-13 and np.all(np.diff(nu) <= 0)
        ent = g.spectral_entropy(s)
        assert -1e-15 <= ent <= np.log(rank) + 1e-13  # Ent ∈ [0, log q_+] (§4.4)
        m = g.radial_functional(s)
        assert -1e-15 <= m <= 0.5 * np.log(rank) + 1e-15  # m ∈ [0, ½ log d] (§4.2)
    # permutation invariance (exact: every quantity depends only on the sorted multiset, §2.3)
    p = s.copy()
    rnd.shuffle(p)
    np.testing.assert_array_equal(g.truncation_rank(p, eps), r)
    np.testing.assert_array_equal(g.spectrum_tails(p), T)
    np.testing.assert_array_equal(g.spectral_entropy(p), g.spectral_entropy(s))
    # scale invariance by a power of two (exact)
    np.testing.assert_array_equal(g.spectrum_tails(s * 2.0**40), T)


@settings(max_examples=40, deadline=None)
@given(st.floats(0, 4), st.integers(2, 300), st.floats(0.001, 0.9))
def test_orbit_rank_monotone_in_alpha(alpha, d, eps):
    # Prop 5.7: r_ε(α) is nonincreasing in α (guard exact ties T(r) = ε, §8.1)
    ranks = g.truncation_rank(np.stack([orbit(alpha, d), orbit(alpha + 0.25, d)]), eps)
    assert ranks[1] <= ranks[0] + 1


# ------------------------------------------------------------------------------------------------
# radial_functional / rank_count parameters


def test_radial_explicit_d_and_rank_tol(rng):
    x = random_batch(rng, (3, 4, 10), np.float64, "any")
    q = g.rank_count(x)
    m = g.radial_functional(x, 50)
    assert_rel(m - g.radial_functional(x), 0.5 * np.log(50 / q), 1e-13, atol=1e-14, what="½ log(d/q_+)")
    dd = np.arange(10, 14)  # broadcast against batch shape (3, 4)
    assert_rel(g.radial_functional(x, dd), ref.radial_functional(x, dd), 0, atol=1e-14, what="d array")
    with pytest.raises(ValueError, match=r"radial_functional\(\): d must be at least the number of nonzero"):
        g.radial_functional(x, 3)
    with pytest.raises(ValueError, match=r"radial_functional\(\): d must be broadcastable"):
        g.radial_functional(x, [1, 2, 3])
    s = np.array([5.0, 1.0, 1e-3, 0.0])
    assert [int(g.rank_count(s, t)) for t in (0, 1e-4, 1e-3, 1.0, 5.0)] == [3, 3, 2, 1, 0]


def test_integer_spectra_are_converted_exactly():
    # _ragged.as_spectra accepts integer spectra (exact in float64) for every spectrum function
    assert g.truncation_rank([3, 2, 2, 1], 0.1) == g.truncation_rank([3.0, 2.0, 2.0, 1.0], 0.1)
    np.testing.assert_array_equal(g.spectrum_tails(np.array([3, 2, 2, 1])), g.spectrum_tails([3.0, 2, 2, 1]))


# ---- every device (CPU numpy; CUDA cupy in, cupy out where a device exists) --------------------

def test_truncation_rank_on_device_matches_reference(device, rng):
    eps = np.array([0.0, 1e-6, 1e-3, 0.01, 0.1, 0.5, 0.9])
    for dtype in (np.float64, np.float32):
        x = np.sort(rng.pareto(1.5, size=(60, 777)), axis=-1)[:, ::-1].astype(dtype)
        x[5, 300:] = 0.0  # trailing zeros: ε = 0 gives the rank
        x[7] = 0.0  # zero spectrum gives 0
        x = np.ascontiguousarray(x)
        want = ref.truncation_rank(x, eps)
        out = g.truncation_rank(device.asarray(x), eps)
        assert device.is_native(out) and out.shape == want.shape
        # equal except at float ties (|T(r) − ε| ≲ 1e-13): allow ±1 on at most a handful
        diff = np.abs(device.asnumpy(out) - want)
        assert diff.max() <= 1 and np.count_nonzero(diff) <= 3
        assert want[5, 0] == 300 and (want[7] == 0).all()
    # ascending, unsorted and ragged inputs give the reference's ranks
    y = rng.random((50, 64))
    for variant in (y[:, ::-1].copy(), y, np.sort(y, axis=-1)):
        np.testing.assert_array_equal(device.asnumpy(g.truncation_rank(device.asarray(variant), 0.1)),
                                      ref.truncation_rank(variant, 0.1))
    r = g.RaggedSpectra.from_list([y[0, :10], y[1, :0], y[2]])
    rd = g.RaggedSpectra(device.asarray(r.values), r.offsets)
    np.testing.assert_array_equal(device.asnumpy(g.truncation_rank(rd, [0.1, 0.01])),
                                  ref.truncation_rank(r, [0.1, 0.01]))
    with pytest.raises(ValueError, match="spectrum 3"):
        bad = y.copy()
        bad[3, 5] = np.nan
        g.truncation_rank(device.asarray(bad), 0.1)


def test_truncation_rank_eps0_counts_nonzeros_whose_squares_underflow(device):
    # ε = 0 is the rank (spec §8.1): a σ_k > 0 whose scaled square (σ_k/σ_1)² underflows to 0
    # still counts. The device kernel once counted S(r) > 0 (suffix sums of those squares) and
    # gave 1 here; every ε > 0 sees T(r) = 0 past σ_1 and gives 1 on both routes.
    x = np.array([[1.0, 1e-200, 1e-250, 0.0], [0.0, 1e-250, 1e-200, 1.0]])  # descending, ascending
    want = ref.truncation_rank(x, [0.0, 1e-6])
    np.testing.assert_array_equal(want, [[3, 1], [3, 1]])
    np.testing.assert_array_equal(device.asnumpy(g.truncation_rank(device.asarray(x), [0.0, 1e-6])), want)


def _stats_inputs(rng):
    """Batches for the order-free reductions: unsorted rows with repeated maxima, zero rows,
    trailing zeros, float32, a 3-D batch and a strided row view."""
    x = rng.pareto(1.5, size=(60, 777))
    x[3, :5] = x[3].max()  # the largest value repeated: exactly one σ_1 is left out of R
    x[5, 300:] = 0.0
    x[7] = 0.0  # all-zero spectrum: entropy 0, rank 0, m = NaN
    x[9, 1:] = 1e-9 * x[9, 1:]  # nearly rank one: entropy ~1e-15, kept to full relative accuracy
    yield x
    yield x.astype(np.float32)
    yield np.sort(x, axis=-1)  # ascending
    yield rng.random((2, 3, 50))
    yield x[::2]  # rows with a stride


def test_order_free_reductions_on_device_match_reference(device, rng):
    # Tolerances: float64 sums of nonnegative terms, compensated per thread and tree-added
    # (≤ ~log2(256)·u extra, u = 1.1e-16), so entropy to 1e-13 relative plus 1e-15 absolute and
    # m to 1e-14 absolute; ranks and counts are exact.
    for x in _stats_inputs(rng):
        xd = device.asarray(x)
        for tol in (0.0, 0.5, 2.0):
            out = g.rank_count(xd, tol)
            assert device.is_native(out) and out.dtype == np.int64
            np.testing.assert_array_equal(device.asnumpy(out), ref.rank_count(x, tol))
        h = g.spectral_entropy(xd)
        assert device.is_native(h) and h.shape == x.shape[:-1]
        np.testing.assert_allclose(device.asnumpy(h), ref.spectral_entropy(x), rtol=1e-13, atol=1e-15)
        m = g.radial_functional(xd)
        assert device.is_native(m) and m.shape == x.shape[:-1]
        np.testing.assert_allclose(device.asnumpy(m), ref.radial_functional(x), rtol=0, atol=1e-14)
        d = x.shape[-1] + 3
        np.testing.assert_allclose(device.asnumpy(g.radial_functional(xd, d)),
                                   ref.radial_functional(x, d), rtol=0, atol=1e-14)
    x = next(_stats_inputs(rng))
    h = device.asnumpy(g.spectral_entropy(device.asarray(x)))
    assert h[7] == 0.0 and 0 < h[9] < 1e-12
    assert_rel(h[9], ref.spectral_entropy(x[9]), 1e-12)
    assert np.isnan(device.asnumpy(g.radial_functional(device.asarray(x)))[7])
    # ragged, with an empty spectrum
    r = g.RaggedSpectra.from_list([x[0, :10], x[1, :0], x[2], x[7, :4]])
    rd = g.RaggedSpectra(device.asarray(r.values), r.offsets)
    np.testing.assert_array_equal(device.asnumpy(g.rank_count(rd, 0.5)), ref.rank_count(r, 0.5))
    np.testing.assert_allclose(device.asnumpy(g.spectral_entropy(rd)), ref.spectral_entropy(r),
                               rtol=1e-13, atol=1e-15)
    np.testing.assert_allclose(device.asnumpy(g.radial_functional(rd)), ref.radial_functional(r),
                               rtol=0, atol=1e-14)
    # the CPU route's errors
    bad = x.copy()
    bad[3, 5] = np.nan
    for f in (g.rank_count, g.spectral_entropy, g.radial_functional):
        with pytest.raises(ValueError, match="spectrum 3"):
            f(device.asarray(bad))
    with pytest.raises(ValueError, match=r"d=4 for spectrum 0 with 10"):
        g.radial_functional(device.asarray(x[:, :10]), 4)
    with pytest.raises(ValueError, match="broadcastable"):
        g.radial_functional(device.asarray(x), np.full(3, 800))
    with pytest.raises(ValueError, match="tol"):
        g.rank_count(device.asarray(x), -1.0)


def test_energy_and_tails_on_device_match_reference(device, rng):
    # Tolerances: float64 suffix sums of nonnegative terms (tiles of 256 tree-added, compensated
    # carry between tiles: ≤ ~12u relative on each S(r), u = 1.1e-16), so 1e-13 relative on every
    # ν_k and every T(r), tiny tails included; T(0) = 1, T(q) = 0 and the order are exact.
    x = np.sort(rng.pareto(1.5, size=(40, 777)), axis=-1)[:, ::-1].copy()
    x[5, 300:] = 0.0
    x[7] = 0.0  # all-zero spectrum: zeros
    x[9, 1:] = 1e-20 * x[9, 1:]  # tails near 1e-40: relative accuracy, never 1 − prefix
    y = rng.random((2, 3, 50))
    for v in (x, x.astype(np.float32), x[:, ::-1].copy(), rng.permuted(x, axis=-1), y, x[::2]):
        vd = device.asarray(v)
        e = g.energy(vd)
        assert device.is_native(e) and e.shape == v.shape and e.dtype == np.float64
        np.testing.assert_allclose(device.asnumpy(e), ref.energy(v), rtol=1e-13, atol=0)
        t = g.spectrum_tails(vd)
        assert device.is_native(t) and t.shape == v.shape[:-1] + (v.shape[-1] + 1,)
        tn = device.asnumpy(t)
        np.testing.assert_allclose(tn, ref.spectrum_tails(v), rtol=1e-13, atol=0)
        assert (np.diff(tn, axis=-1) <= 0).all() and (tn[..., -1] == 0).all()
    tn = device.asnumpy(g.spectrum_tails(device.asarray(x)))
    assert (tn[7] == 0).all() and (np.delete(tn, 7, axis=0)[:, 0] == 1).all()
    assert 0 < tn[9, 1] < 1e-35
    # ragged (an empty spectrum, an unsorted one): RaggedSpectra out, offsets from 0
    r = g.RaggedSpectra.from_list([x[0, :10], x[1, :0], rng.permuted(x[2]), x[7, :4]])
    rd = g.RaggedSpectra(device.asarray(r.values), r.offsets)
    for f in (g.energy, g.spectrum_tails):
        out, want = f(rd), getattr(ref, f.__name__)(r)
        assert isinstance(out, g.RaggedSpectra) and device.is_native(out.values)
        np.testing.assert_array_equal(np.asarray(out.offsets), want.offsets)
        np.testing.assert_allclose(device.asnumpy(out.values), want.values, rtol=1e-13, atol=0)
    # ragged offsets are checked before any launch, as on the CPU
    bad_offsets = g.RaggedSpectra(device.asarray(r.values), np.array([0, 5, 3, r.values.size]))
    for f in (g.energy, g.spectrum_tails, g.truncation_rank, g.spectral_entropy, g.rank_count,
              g.radial_functional):
        with pytest.raises(ValueError, match="offsets must be nondecreasing"):
            f(bad_offsets, *([0.1] if f is g.truncation_rank else []))
    bad = x.copy()
    bad[3, 5] = -1.0
    for f in (g.energy, g.spectrum_tails):
        with pytest.raises(ValueError, match="spectrum 3"):
            f(device.asarray(bad))


class _CupyLikeNumpy:
    """numpy, except that repeat refuses an array of counts, as cupy before v14 does."""

    def __getattr__(self, name):
        return getattr(np, name)

    @staticmethod
    def repeat(a, repeats, axis=None):
        if isinstance(repeats, np.ndarray):
            raise ValueError("cupy.ndarray cannot be specified as `repeats` argument.")
        return np.repeat(a, repeats, axis)


def test_device_sorted_copy_needs_no_array_repeat():
    # the device route's sorted retry (gsa_fast._gpu_energy._sorted_copy), run on numpy with
    # cupy's restriction: each segment comes back sorted descending, empty segments kept
    from gsa_fast._gpu_energy import _sorted_copy

    values = np.array([9.0, 1.0, 3.0, 2.0, 7.0, 5.0, 4.0, 8.0, 6.0])
    starts = np.array([5, 0, 3, 3], dtype=np.int64)
    lengths = np.array([3, 3, 0, 2], dtype=np.int64)
    flat, new_starts = _sorted_copy(_CupyLikeNumpy(), values, starts, lengths)
    np.testing.assert_array_equal(new_starts, [0, 3, 6, 6])
    np.testing.assert_array_equal(flat, [8.0, 5.0, 4.0, 9.0, 3.0, 1.0, 7.0, 2.0])


def test_energy_of_a_list_of_spectra_on_device(device, rng):
    # a list of device spectra reads like the CPU's list: equal lengths stack, ragged concatenate
    s = [np.sort(rng.random(n))[::-1].copy() for n in (5, 9, 3)]
    got = g.energy([device.asarray(x) for x in s])
    want = g.energy(s)
    for a, b in zip(got, want):
        np.testing.assert_allclose(device.asnumpy(a), b, rtol=1e-14)
    eq = [np.sort(rng.random(6))[::-1].copy() for _ in range(3)]
    np.testing.assert_allclose(device.asnumpy(g.spectral_entropy([device.asarray(x) for x in eq])),
                               g.spectral_entropy(np.stack(eq)), rtol=1e-14)


class _DeviceOnly:
    """Stands in for a cupy array in a RaggedSpectra: np.asarray (an implicit host copy) raises."""

    __module__ = "cupy"

    def __init__(self, a):
        self.a = np.asarray(a)
        self.size, self.shape = self.a.size, self.a.shape

    def __array__(self, *args, **kwargs):
        raise TypeError("Implicit conversion to a NumPy array is not allowed.")

    def __getitem__(self, i):
        return _DeviceOnly(self.a[i])

    def __sub__(self, other):
        return _DeviceOnly(self.a - other.a)


def test_ragged_spectra_of_device_arrays_print_and_give_lengths():
    # a device route's RaggedSpectra (cupy values, and cupy offsets when they came in as cupy)
    # used to crash in repr() (np.asarray of the values) and in .lengths (np.diff of the offsets)
    values, offsets = _DeviceOnly(np.arange(7.0)), _DeviceOnly([0, 3, 3, 7])
    with pytest.raises(TypeError):
        np.asarray(values)
    r = g.RaggedSpectra(values, offsets)
    assert repr(r) == "RaggedSpectra(<3 spectra, 7 values>)"
    np.testing.assert_array_equal(r.lengths.a, [3, 0, 4])
    assert repr(g.RaggedSpectra([1.0, 2.0], np.array([0, 2]))) == "RaggedSpectra(<1 spectra, 2 values>)"


class _Dev(np.ndarray):
    """A numpy array the device routes take for a cupy one (their namespace is numpy here)."""


_Dev.__module__ = "cupy"


def _cpu_error(f, x):
    with pytest.raises((TypeError, ValueError)) as info:
        f(x)
    return info.type, str(info.value)


def test_device_layout_reads_spectra_as_the_cpu_route(rng):
    # gsa_fast._gpu_energy._layout (the energy, charts and effective_rank device routes), run on
    # numpy. A list holding a 2-D array used to be flattened into one spectrum (the CPU route
    # raises ValueError), and integer or float16 spectra were refused (the CPU converts them).
    from gsa_fast._gpu_energy import _layout

    dev = lambda a: np.asarray(a).view(_Dev)  # noqa: E731
    for bad in ([np.ones(3), np.ones((2, 2))], [np.ones((2, 2)), np.ones((2, 2))],
                [np.ones(3), np.array(["a", "b"])], [np.ones(2), np.array([True, False])]):
        want = _cpu_error(g.energy, bad)
        with pytest.raises(want[0]) as info:
            _layout(np, [dev(b) for b in bad], "energy")
        # the same message, the array named by its own library
        assert re.sub(r"cupy\.\w+", "numpy.ndarray", str(info.value)) == want[1]
    ints = np.array([[3, 2, 1], [4, 0, 0]])
    values, starts, lengths, bshape, ragged = _layout(np, dev(ints), "energy")
    assert values.dtype == np.float64 and bshape == (2,) and not ragged
    np.testing.assert_array_equal(values.reshape(2, 3), ints)
    half = rng.random((4, 5)).astype(np.float16)
    assert _layout(np, dev(half), "energy")[0].dtype == np.float32
    values, starts, lengths, bshape, ragged = _layout(np, [dev(np.array([3, 1])), dev(np.array([5, 4, 2]))],
                                                      "energy")
    assert ragged and values.dtype == np.float64 and list(lengths) == [2, 3]
    np.testing.assert_array_equal(values, [3, 1, 5, 4, 2])


def test_device_energy_of_a_ragged_list_gets_host_offsets():
    # energy/spectrum_tails on the device for a list of spectra of different lengths (converted
    # to RaggedSpectra inside the route) read the list's .offsets for the result: AttributeError.
    # The result's offsets, as the CPU route's: on the device only when they came in on it.
    from gsa_fast._gpu_energy import _ragged_result

    class Host(np.ndarray):
        """What the stand-in's asnumpy returns: a copy to the host."""

    class NumpyAsCupy:  # numpy standing in for cupy, with cupy's asnumpy
        def __getattr__(self, name):
            return getattr(np, name)

        @staticmethod
        def asnumpy(a):
            return np.array(a).view(Host)

    cp = NumpyAsCupy()
    out, lengths = np.arange(9.0), np.array([2, 0, 4])
    for spectra in ([np.ones(2).view(_Dev), np.ones(0).view(_Dev), np.ones(4).view(_Dev)],
                    RaggedSpectra(np.ones(6).view(_Dev), np.array([0, 2, 2, 6]))):
        r = _ragged_result(cp, spectra, out, lengths, 1)
        assert isinstance(r.offsets, Host) and r.offsets.tolist() == [0, 3, 4, 9]
        assert r.values is out
    r = _ragged_result(cp, RaggedSpectra(np.ones(6).view(_Dev), np.array([0, 2, 2, 6]).view(_Dev)),
                       out, lengths, 1)
    assert not isinstance(r.offsets, Host) and r.offsets.tolist() == [0, 3, 4, 9]
