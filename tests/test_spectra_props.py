"""svdvals / gram on adversarial matrices (hypothesis): the accuracy contract and the invariants.

Matrices: sides at the route boundaries (1, 2, 3, 4; the inline small route up to min(m, n) = 64
and dsytrd + lanes from 65), graded singular values σ_k = 10^(−g·k/q) with g up to 20 (most of
them far below the contract's absolute bound), exact rank deficiency, repeated values, scales 2^e
from 2^−1070 (subnormal entries) to 2^1000, float64/float32/float16/bfloat16 storage, both
methods, C- and F-order and strided views, stacks and ragged lists with mixed dtypes.

Oracle: the reference twin (numpy.linalg.svd of the float64 upcast of the *stored* values, which
is the contract's yardstick) and the contract itself, documented in svdvals' docstring and
tests/_helpers.py: |σ̂_k − σ_k| ≤ C·max(m, n)·u·σ_1 with u the storage's unit roundoff, and
sqrt(C·max(m, n)·2⁻⁵³)·σ_1 for float64 on the Gram route (C = CONTRACT_C = 4). numpy's own SVD
error (≲ max(m, n)·2⁻⁵³·σ_1, dgesdd) is inside that bound for every storage, so no extra slack.
Invariants (each side of the comparison within its own contract bound, so twice the bound):
transpose, exact 2^k scaling (the stored values scale exactly while they stay normal), row/column
permutation (exact, entries only move), sign flips; σ descending and ≥ 0; Σσ² = ‖A‖_F² within the
Gram's rounding; layouts and batching against the single contiguous call.
gram: each entry within max(m, n)·2⁻⁵³·‖a_i‖‖a_j‖ of the exact Gram of the stored values (its
docstring), and exactly symmetric.
"""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import gsa_fast as g
from gsa_fast import reference as R

from _helpers import UNIT_ROUNDOFF, contract_bound, orth

ml_dtypes = pytest.importorskip("ml_dtypes")

PROPS = dict(deadline=None, derandomize=True, database=None,
             suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
SIDES = st.one_of(st.sampled_from([1, 2, 3, 4, 5, 8, 63, 64, 65, 66]), st.integers(1, 40))
DTYPES = ["float64", "float32", "float16", "bfloat16"]
# largest power of two the storage holds with room for the spectrum's σ_1 ≤ 1 matrix entries
# (|entry| ≤ σ_1): float16 max 65504, bfloat16/float32 ~3.4e38; smallest: the normal minimum
# (below it the stored values lose bits: a fine input, but not for the exact-scaling invariants)
EXP_RANGE = {"float64": (-1020, 1000), "float32": (-120, 120), "float16": (-12, 14), "bfloat16": (-120, 120)}


def _cast(a, name):
    return a.astype(ml_dtypes.bfloat16) if name == "bfloat16" else a.astype(name)


def _stored(a):
    return np.asarray(a).astype(np.float64)


@st.composite
def matrices(draw, dtypes=DTYPES, subnormal=True):
    m, n = draw(SIDES), draw(SIDES)
    name = draw(st.sampled_from(dtypes))
    seed = draw(st.integers(0, 2**32 - 1))
    kind = draw(st.sampled_from(["graded", "rank", "repeated", "gaussian", "zero-cols"]))
    r = np.random.default_rng(seed)
    q = min(m, n)
    if kind == "gaussian":
        a = r.standard_normal((m, n)) / np.sqrt(max(m, n))
    else:
        gexp = draw(st.sampled_from([0.0, 2.0, 8.0, 20.0]))
        s = 10.0 ** (-gexp * np.arange(q) / max(q, 1))
        if kind == "rank":
            s[draw(st.integers(0, q)):] = 0.0
        elif kind == "repeated":
            s = np.repeat(s[: max(1, q // 3)], 3)[:q]
            s = np.concatenate([s, np.full(q - s.size, s[-1])])
        a = (orth(r, m)[:, :q] * s) @ orth(r, n)[:, :q].T
        if kind == "zero-cols":
            a[:, r.random(n) < 0.3] = 0.0
    lo, hi = EXP_RANGE[name]
    if name == "float64" and subnormal:
        lo = -1070
    e = draw(st.integers(lo, hi))
    a = _cast(a * 2.0**e, name)
    assert np.all(np.isfinite(_stored(a)))
    return a, name, e


def _contract(a, name, method):
    m, n = a.shape
    e = np.linalg.svd(_stored(a), compute_uv=False) if a.size else np.zeros(0)
    return e, contract_bound(name, m, n, e[0] if e.size else 0.0, method)


# ---- the contract --------------------------------------------------------------------------------


@settings(max_examples=150, **PROPS)
@given(matrices(), st.sampled_from(["gram", "svd"]))
def test_contract_against_the_reference(case, method):
    a, name, _ = case
    s = g.svdvals(a, method)
    e, bound = _contract(a, name, method)
    assert s.shape == (min(a.shape),)
    assert np.all(s >= 0) and np.all(np.diff(s) <= 0), "descending, nonnegative"
    err = np.abs(s - e)
    assert np.all(err <= bound), f"{name} {method} {a.shape}: max err {err.max()!r} > {bound!r}"
    # the reference twin is that yardstick
    assert np.array_equal(R.svdvals(a, method), e)
    # energy: Σσ̂² against ‖A‖_F² (each σ̂_k² off by ≤ 2σ_1·bound + bound²)
    fro = float(np.sum(_stored(a * 1) ** 2)) if e.size and e[0] > 1e-150 and e[0] < 1e150 else None
    if fro is not None and fro > 0:
        assert abs(np.sum(s**2) - fro) <= s.size * (2 * e[0] * bound + bound**2) + 8 * max(a.shape) * 2.0**-53 * fro


@settings(max_examples=80, **PROPS)
@given(matrices(subnormal=False), st.sampled_from(["gram", "svd"]), st.integers(-60, 60), st.integers(0, 2**32 - 1))
def test_invariances(case, method, k, seed):
    a, name, e = case
    lo, hi = EXP_RANGE[name]
    s = g.svdvals(a, method)
    _, bound = _contract(a, name, method)
    r = np.random.default_rng(seed)
    # transpose (a view: read in place) and its contiguous copy
    for t in (a.T, np.ascontiguousarray(a.T)):
        assert np.all(np.abs(g.svdvals(t, method) - s) <= 2 * bound), "transpose"
    # permutations of rows and columns and sign flips change no stored value's magnitude
    p = a[r.permutation(a.shape[0])][:, r.permutation(a.shape[1])]
    signs = np.where(r.random(a.shape[1]) < 0.5, -1, 1).astype(np.float64)
    p = _cast(_stored(p) * signs, name)
    assert np.all(np.abs(g.svdvals(p, method) - s) <= 2 * bound), "permutation/sign"
    # 2^k scaling is exact in storage while the entries stay normal
    if lo <= e + k <= hi:
        b = _cast(_stored(a) * 2.0**k, name)
        if np.array_equal(_stored(b), _stored(a) * 2.0**k):
            sb = g.svdvals(b, method)
            assert np.all(np.abs(sb - s * 2.0**k) <= 2 * bound * 2.0**k), "2^k scaling"


# ---- layouts and batches -------------------------------------------------------------------------


@settings(max_examples=40, **PROPS)
@given(st.lists(matrices(subnormal=False), min_size=1, max_size=5), st.sampled_from(["gram", "svd"]),
       st.integers(1, 3))
def test_ragged_batch_matches_single_calls(cases, method, threads):
    # empty matrices (a zero side) anywhere in the list give empty spectra
    cases = [(np.zeros((0, 3)), "float64", 0)] + cases[:2] + [(np.zeros((4, 0), np.float32), "float32", 0)] + cases[2:]
    mats = [c[0] for c in cases]
    out = g.svdvals(mats, method, threads=threads)
    assert len(out) == len(mats)
    for a, (_, name, _), s in zip(mats, cases, out):
        e, bound = _contract(a, name, method)
        assert np.asarray(s).shape == (min(a.shape),)
        assert np.all(np.abs(np.asarray(s) - e) <= bound)


@settings(max_examples=40, **PROPS)
@given(st.integers(1, 6), SIDES, SIDES, st.sampled_from(DTYPES), st.sampled_from(["gram", "svd"]),
       st.integers(0, 2**32 - 1), st.integers(1, 3))
def test_stacks_and_strided_views(b, m, n, name, method, seed, threads):
    r = np.random.default_rng(seed)
    big = _cast(r.standard_normal((2 * b, m + 2, n + 3)), name)
    views = {
        "every other matrix": big[::2, 1:m + 1, 2:n + 2],
        "reversed": big[::-1, :m, :n],
        "swapped axes": np.swapaxes(big[:b, :m, :n], 1, 2),
    }
    for what, v in views.items():
        s = g.svdvals(v, method, threads=threads)
        assert s.shape == v.shape[:-2] + (min(v.shape[-2:]),), what
        for i in range(v.shape[0]):
            e, bound = _contract(v[i], name, method)
            assert np.all(np.abs(s[i] - e) <= bound), what


@settings(max_examples=40, **PROPS)
@given(matrices(dtypes=["bfloat16"], subnormal=False))
def test_bfloat16_bits_equal_bfloat16_arrays(case):
    a, _, _ = case
    bits = a.view(np.uint16)
    assert np.array_equal(g.svdvals(bits, dtype="bfloat16"), g.svdvals(a))
    assert np.array_equal(g.gram(bits, dtype="bfloat16"), g.gram(a))


# ---- gram ----------------------------------------------------------------------------------------


@settings(max_examples=80, **PROPS)
@given(matrices(), st.integers(1, 3))
def test_gram_entries_and_symmetry(case, threads):
    a, name, _ = case
    G = g.gram(a, threads=threads)
    x = _stored(a)
    c = x if x.shape[0] >= x.shape[1] else x.T  # the Gram of the smaller side: cᵀc
    q = c.shape[1]
    assert G.shape == (q, q)
    assert np.array_equal(G, G.T), "exactly symmetric"
    Gr = R.gram(a)
    # |Ĝ_ij − G_ij| ≤ max(m, n)·2⁻⁵³·‖c_i‖‖c_j‖ (gram's docstring; the reference is within the same
    # bound of the exact Gram, hence twice it), plus the underflow of entries below 2^-1074. Column
    # norms through an exact power-of-two scaling; a Gram entry beyond 1e308 is ±inf on both sides.
    mx = float(np.max(np.abs(c), initial=0.0))
    sc = 2.0 ** -int(np.frexp(mx)[1]) if mx > 0 else 1.0
    norms = np.sqrt(np.sum((c * sc) ** 2, axis=0))
    with np.errstate(over="ignore", under="ignore", invalid="ignore"):
        bound = 2 * max(a.shape) * 2.0**-53 * np.outer(norms, norms) / sc / sc + 2 * max(a.shape) * 2.0**-1074
        err = np.abs(G - Gr)
    inf = ~np.isfinite(Gr)
    assert np.array_equal(G[inf], Gr[inf])
    assert np.all(err[~inf] <= bound[~inf])
    assert np.all(np.diag(G) >= 0)


@st.composite
def boundary_matrices(draw):
    """Shapes on both sides of the eigensolver routes (inline ≤ 64 < dsytrd + lanes < 256 ≤
    dsyevd on a single threaded matrix), with the adversarial spectra of ``matrices``."""
    m, n = draw(st.sampled_from([(64, 64), (65, 65), (64, 200), (200, 65), (66, 130), (129, 128),
                                 (255, 256), (256, 257), (300, 256)]))
    name = draw(st.sampled_from(DTYPES))
    seed = draw(st.integers(0, 2**32 - 1))
    r = np.random.default_rng(seed)
    q = min(m, n)
    s = 10.0 ** (-draw(st.sampled_from([0.0, 4.0, 20.0])) * np.arange(q) / q)
    s[draw(st.integers(0, q)):] = 0.0
    if draw(st.booleans()):
        s = np.sort(np.repeat(s[: max(1, q // 4)], 4)[:q])[::-1].copy()
        s.resize(q)
    lo, hi = EXP_RANGE[name]
    e = draw(st.integers(lo, hi))
    a = _cast(((orth(r, m)[:, :q] * s) @ orth(r, n)[:, :q].T) * 2.0**e, name)
    return a, name, e


@settings(max_examples=24, **PROPS)
@given(boundary_matrices(), st.sampled_from(["gram", "svd"]), st.integers(1, 2))
def test_contract_at_route_boundaries(case, method, threads):
    a, name, _ = case
    s = g.svdvals(a, method, threads=threads)
    e, bound = _contract(a, name, method)
    assert np.all(s >= 0) and np.all(np.diff(s) <= 0)
    err = np.abs(s - e)
    assert np.all(err <= bound), f"{name} {method} {a.shape}: max err {err.max()!r} > {bound!r}"
    # a stack of two (the batch route) meets the same contract
    st2 = g.svdvals(np.stack([a, a]), method, threads=threads)
    assert np.all(np.abs(st2 - e) <= bound)


@settings(max_examples=25, **PROPS)
@given(st.lists(matrices(dtypes=["float64", "float32"], subnormal=False), min_size=1, max_size=4))
def test_spectra_feed_the_esd_fit(cases):
    # the documented pipeline: esd_powerlaw_fit(svdvals(list), from_singular_values=True) is the
    # fit of each spectrum's squares, bitwise (the kernel squares σ in float64 as numpy does)
    S = g.svdvals([c[0] for c in cases])
    with np.errstate(over="ignore"):
        overflow = not np.all(np.isfinite(np.asarray(S.values) ** 2))
    if overflow:  # σ² beyond the float64 range: the documented ValueError
        with pytest.raises(ValueError, match="finite and nonnegative; got NaN or Inf in spectrum"):
            g.esd_powerlaw_fit(S, from_singular_values=True)
        return
    batch = g.esd_powerlaw_fit(S, from_singular_values=True)
    for k, s in enumerate(S):
        one = g.esd_powerlaw_fit(np.asarray(s) ** 2)
        for f in ("alpha", "xmin", "D", "sigma", "xmax"):
            assert np.array_equal(np.asarray(getattr(batch, f))[k], getattr(one, f), equal_nan=True), f
        assert np.asarray(batch.num_fit)[k] == one.num_fit
