"""Per-spectrum reductions (truncation_rank, energy, spectrum_tails, spectral_entropy,
radial_functional, rank_count): differential and metamorphic properties (hypothesis) on
adversarial spectra — ties, zeros, a single value, one-ulp neighbours, huge dynamic range
(log-uniform over 2^-1074..2^1023), subnormals, float32 storage, any order, ragged lists and
strided views.

Tolerances (u = 2^-53, q the spectrum length). Both sides normalize by σ_1 before squaring (the
kernel by an exact power of two, the reference by a division: ≤ u), square (≤ u), and sum
nonnegative terms (kernel: Neumaier, ≤ 2u; reference: np.cumsum, ≤ (q − 1)u), then divide by
the total (≤ u). So each tail T(r) and energy ν_k agrees to δ = (q + 8)·u *relative*, except for
squares of ratios below 2^-511 that under- or flush (each side normalizes to a different power:
kernel σ_1·2^-e ∈ [0.5, 1), reference σ_1/σ_1 = 1): ≤ 2^-1074 absolute per term over a total
≥ 1/4, i.e. ATOL = 4·q·2^-1074 absolute.
- Ent = −Σ p log p: a relative perturbation δ of p changes p log p by ≤ p(|log p| + 1)δ, summed
  ≤ (Ent + 1)δ; the logs and the sum add ≤ (q + 2)u·(Ent + 1). Tolerance 2(q + 8)u·(Ent + 1).
- m = ½ log d − ½ log1p(R): R carries δ relative, log1p(R) then ≤ δ·R/(1 + R) ≤ δ absolute,
  each log u: tolerance (q + 8)u·(1 + |m|).
- r_ε: exact integers, but T(r) ≈ ε is a legitimate tie (documented exclusion, not a looser
  test): the kernel's r must satisfy T_ref(r) ≤ ε + tol and, for r > 1, T_ref(r − 1) > ε − tol
  with tol = δ·T + ATOL — i.e. equal to the reference's wherever no tail is within tol of ε.
- rank_count: exact (a count of σ > tol).
Metamorphic (exact, bit for bit): permutation (the kernel sorts, or reads ascending input
backwards), ragged list = each spectrum alone, strided view = contiguous copy, float32 storage =
its float64 conversion, scaling by 2^k when every nonzero stays normal (the kernel's own scale
is the power of two of σ_1, so it sees the same numbers).
"""
from __future__ import annotations

import math

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import gsa_fast as g
from gsa_fast import reference as R
from gsa_fast._ragged import RaggedSpectra

U = 2.0**-53
TINY = 2.0**-1074
PROPS = dict(deadline=None, derandomize=True, database=None,
             suppress_health_check=[HealthCheck.too_slow])

KINDS = ["pareto", "ties", "zeros", "single_nz", "ulp", "wide", "subnormal", "equal", "rank1", "powerlaw"]
SIZES = [0, 1, 2, 3, 7, 8, 9, 63, 64, 65]  # 64: the kernel's sort switches from std::sort to buckets


def _values(kind, n, seed):
    r = np.random.default_rng(seed)
    x = r.pareto(1.5, n) + 0.01
    if kind == "wide":
        x = np.exp2(r.uniform(-1074, 1023, n))
    elif kind == "subnormal":
        x = r.integers(0, 2**30, n) * TINY
    elif kind == "ties":
        x = np.round(x, 0) + 1.0
    elif kind == "equal":
        x = np.full(n, x[0] if n else 1.0)
    elif kind == "rank1" and n:  # nearly rank one: p_1 = 1 − 1e-20
        x = np.full(n, 1e-10 / max(1, n))
        x[0] = 1.0
    elif kind == "powerlaw":
        x = np.arange(1, n + 1.0) ** -r.uniform(0, 4)
    if kind == "ulp" and n > 1:
        x[n // 2:] = np.nextafter(x[: n - n // 2], np.inf)
    if kind in ("zeros", "single_nz") and n:
        x[r.random(n) < (0.95 if kind == "single_nz" else 0.4)] = 0.0
        if kind == "single_nz":
            x[r.integers(n)] = r.pareto(1.0) + 1e-3
    r.shuffle(x)
    order = r.integers(3)
    if order == 1:
        x = np.sort(x)[::-1].copy()
    elif order == 2:
        x = np.sort(x)
    return x


@st.composite
def spectra(draw):
    n = draw(st.one_of(st.sampled_from(SIZES), st.integers(0, 90)))
    x = _values(draw(st.sampled_from(KINDS)), n, draw(st.integers(0, 2**32 - 1)))
    top = x.max(initial=0.0)
    k = draw(st.integers(-1000, 1000))
    if top > 0:
        k = min(k, 1022 - math.frexp(top)[1])
    with np.errstate(under="ignore"):
        return np.ldexp(x, k)


def _tol(T, q):
    return (q + 8) * U * np.abs(T) + 4 * max(q, 1) * TINY


def _check_one(x, eps):
    q = x.size
    T, Tr = g.spectrum_tails(x), R.spectrum_tails(x)
    assert T.shape == Tr.shape == (q + 1,)
    assert np.all(np.abs(T - Tr) <= _tol(Tr, q)), (x.tolist(), T, Tr)
    nu, nur = g.energy(x), R.energy(x)
    assert np.all(np.abs(nu - nur) <= _tol(nur, q)), (x.tolist(), nu, nur)
    nnz = int(np.count_nonzero(x))
    assert g.rank_count(x) == R.rank_count(x) == nnz
    tol_c = float(np.median(x)) if q else 0.0
    assert g.rank_count(x, tol_c) == R.rank_count(x, tol_c)
    h, hr = g.spectral_entropy(x), R.spectral_entropy(x)
    assert abs(h - hr) <= 2 * (q + 8) * U * (hr + 1), (x.tolist(), h, hr)
    m, mr = g.radial_functional(x), R.radial_functional(x)
    if nnz == 0:
        assert np.isnan(m) and np.isnan(mr)
    else:
        assert abs(m - mr) <= (q + 8) * U * (1 + abs(mr)), (x.tolist(), m, mr)
        # bounds the spec gives: Ent ∈ [0, log q_+] (§4.4), m ∈ [0, ½ log q_+] (§4.2)
        assert -1e-15 <= h <= math.log(nnz) * (1 + 1e-15) + 1e-15
        assert -1e-15 <= m <= 0.5 * math.log(nnz) * (1 + 1e-15) + 1e-15
        assert T[0] == 1.0 and T[-1] == 0.0 and np.all(np.diff(T) <= 0)
    r = np.atleast_1d(g.truncation_rank(x, eps))
    tol = _tol(Tr, q)
    for e, re in zip(eps, r):
        if nnz == 0:
            assert re == 0
        elif e == 0:
            assert re == nnz
        else:
            assert 1 <= re <= nnz
            assert Tr[re] <= e + tol[re] or re == nnz, (x.tolist(), e, re)
            assert re == 1 or Tr[re - 1] > e - tol[re - 1], (x.tolist(), e, re)
    return T, nu, h, m, r


@settings(max_examples=1000, **PROPS)
@given(spectra(), st.lists(st.sampled_from([0.0, 1e-300, 1e-20, 1e-12, 0.01, 0.5, 0.999]) | st.floats(0, 0.999),
                           min_size=1, max_size=4), st.integers(0, 2**32 - 1))
def test_against_reference_and_exact_relations(x, eps, seed):
    eps = np.array(eps)
    T, nu, h, m, r = _check_one(x, eps)
    rng = np.random.default_rng(seed)
    # permutation: exact (sorted copy, or read backwards)
    p = rng.permutation(x)
    np.testing.assert_array_equal(g.spectrum_tails(p), T)
    np.testing.assert_array_equal(g.truncation_rank(p, eps), g.truncation_rank(x, eps))
    # energy is returned in descending order whatever the input order
    np.testing.assert_array_equal(g.energy(p), g.energy(np.sort(x)[::-1].copy()))
    # strided view = contiguous copy
    v = np.repeat(x, 2)[::2]
    np.testing.assert_array_equal(g.spectrum_tails(v), T)
    assert np.array_equal(g.radial_functional(v), m, equal_nan=True)
    # power-of-two scaling: exact while every nonzero stays normal on both sides
    nz = x[x > 0]
    if nz.size:
        k = int(rng.integers(-300, 300))
        lo, hi = math.frexp(nz.min())[1], math.frexp(nz.max())[1]
        if lo + k > -1021 and hi + k < 1023 and lo > -1021:
            y = np.ldexp(x, k)
            np.testing.assert_array_equal(g.spectrum_tails(y), T)
            np.testing.assert_array_equal(g.energy(y), g.energy(x))
            assert g.spectral_entropy(y) == g.spectral_entropy(x)
            assert g.radial_functional(y) == m


@settings(max_examples=200, **PROPS)
@given(st.lists(spectra(), min_size=1, max_size=5), st.sampled_from(["f64", "f32", "f16"]))
def test_ragged_and_narrow_storage(xs, storage):
    if storage != "f64":  # narrower storage = its exact float64 conversion
        with np.errstate(over="ignore", under="ignore"):
            xs = [x.astype(np.float32 if storage == "f32" else np.float16) for x in xs]
        xs = [x for x in xs if np.isfinite(x).all()]
        if not xs:
            return
    eps = np.array([0.1, 1e-6])
    vals = np.concatenate(xs) if xs else np.zeros(0)
    off = np.concatenate([[0], np.cumsum([x.size for x in xs])]).astype(np.int64)
    # (RaggedSpectra values are float32/float64 only: float16 spectra go in dense, below, and
    # their exact float32 conversion ragged)
    rag = RaggedSpectra(vals.astype(np.float32) if vals.dtype == np.float16 else vals, off)
    T = g.spectrum_tails(rag)
    E = g.energy(rag)
    H = g.spectral_entropy(rag)
    M = g.radial_functional(rag)
    K = g.truncation_rank(rag, eps)
    for i, x in enumerate(xs):
        x64 = x.astype(np.float64)
        if x.size:  # dense storage of any accepted width = its float64 conversion
            np.testing.assert_array_equal(g.spectrum_tails(x), g.spectrum_tails(x64))
            assert np.array_equal(g.radial_functional(x), g.radial_functional(x64), equal_nan=True)
        # ragged = each alone, and float32 storage = its exact float64 conversion: bit for bit
        np.testing.assert_array_equal(T.values[T.offsets[i]:T.offsets[i + 1]], g.spectrum_tails(x64))
        np.testing.assert_array_equal(E.values[E.offsets[i]:E.offsets[i + 1]], g.energy(x64))
        assert H[i] == g.spectral_entropy(x64)
        assert np.array_equal(M[i], g.radial_functional(x64), equal_nan=True)
        np.testing.assert_array_equal(K[i], g.truncation_rank(x64, eps))
        _check_one(x64, eps)
