"""The small-matrix route of svdvals (q ≤ 64): chunked Householder tridiagonals and the four-lane
interleaved root-free QL (cpp/src/linalg/sterf_lanes.cpp) that replaced LAPACK's dsterf there.

Tolerances:
- eigenvalues of a symmetric tridiagonal T: both our QL and the yardsticks (numpy's eigvalsh,
  LAPACK's dsterf through scipy) are backward stable, so each eigenvalue is within
  c·n·u·‖T‖ of the exact one (u = 2⁻⁵³). We use |λ̂ − λ| ≤ 4·n·u·‖T‖₁ per eigenvalue (measured
  worst case: 0 on unscaled families, where the arithmetic is dsterf's step for step; 0.33 of it
  on the 1e±200 families, where blocks are rescaled).
- svdvals on stacks of small matrices: the accuracy contract of gsa_fast.svdvals (test_spectra's
  C·max(m, n)·u·σ₁ with C = 4; sqrt of it for float64 on the Gram route).
"""
from __future__ import annotations

import numpy as np
import pytest

import gsa_fast as g
from gsa_fast import _backend

from _helpers import contract_bound, with_spectrum

U = 2.0**-53


def _run(ds, es):
    """Eigenvalues of the tridiagonals (d_k, e_k) through the lanes kernel, in one call."""
    n = [len(d) for d in ds]
    off = np.concatenate([[0], np.cumsum(n)]).astype(np.int64)
    d = np.concatenate([np.asarray(x, float) for x in ds] + [np.zeros(0)])
    e = np.zeros_like(d)
    for k, x in enumerate(es):
        e[off[k]:off[k] + len(x)] = x
    info = _backend.core.sterf_lanes(d, e, off)
    return [d[off[k]:off[k + 1]] for k in range(len(n))], info


def _dense(d, e):
    return np.diag(d) + np.diag(e, 1) + np.diag(e, -1)


def _family(rng, kind, n):
    if n == 0:
        return np.zeros(0), np.zeros(0)
    x, y = rng.standard_normal(n), rng.standard_normal(n - 1)
    i = np.arange(n)
    if kind == "random":
        return x, y
    if kind == "graded_down":
        return x * 10.0 ** (-0.5 * i), y * 10.0 ** (-0.5 * i[:-1] - 0.25)
    if kind == "graded_up":
        return x * 10.0 ** (-0.5 * (n - i)), y * 10.0 ** (-0.5 * (n - i[1:]) - 0.25)
    if kind == "splits":  # Toeplitz (2, 1) with random zero off-diagonals
        return np.full(n, 2.0), np.where(rng.random(n - 1) < 0.2, 0.0, 1.0)
    if kind == "zero_diagonal":
        return np.zeros(n), np.where(i[:-1] % 3 == 0, 0.0, y)
    if kind == "tiny":  # dsterf scales blocks below sqrt(safmin)/eps²
        return 1e-200 * x, 1e-200 * y
    if kind == "huge":  # ... and above sqrt(safmax)/3
        return 1e200 * x, 1e200 * y
    if kind == "identity":
        return np.ones(n), np.zeros(n - 1)
    if kind == "wilkinson":  # W⁺: pairs of nearly equal eigenvalues
        return np.abs(i - (n - 1) / 2.0), np.ones(n - 1)
    if kind == "clustered":
        return 1.0 + 1e-14 * x, 1e-15 * y
    raise AssertionError(kind)


KINDS = ["random", "graded_down", "graded_up", "splits", "zero_diagonal", "tiny", "huge",
         "identity", "wilkinson", "clustered"]


@pytest.mark.parametrize("kind", KINDS)
def test_matches_eigvalsh_and_dsterf(rng, kind):
    from scipy.linalg import lapack

    sizes = [0, 1, 2, 3, 5, 17, 32, 63, 64, 65, 70] * 3  # mixed sizes: lanes refill out of step
    cases = [_family(rng, kind, n) for n in sizes]
    got, info = _run([c[0] for c in cases], [c[1] for c in cases])
    assert not info.any()
    for (d, e), lam in zip(cases, got):
        n = len(d)
        if n == 0:
            assert lam.size == 0
            continue
        assert np.all(np.diff(lam) >= 0), "ascending"
        norm1 = np.abs(_dense(d, e)).sum(axis=0).max()
        tol = 4 * n * U * norm1
        want = np.linalg.eigvalsh(_dense(d, e))
        refs = [want]
        if n > 1:  # (scipy's wrapper wants a non-empty e)
            lapack_d, lapack_info = lapack.dsterf(d.copy(), e.copy())
            assert lapack_info == 0
            refs.append(np.sort(lapack_d))
        for ref in refs:
            err = np.abs(lam - ref).max()
            assert err <= tol, f"{kind} n={n}: {err:.3g} > {tol:.3g}"


def test_lanes_are_independent(rng):
    """A problem's eigenvalues do not depend on which others share the call (bitwise)."""
    cases = [_family(rng, k, n) for k in KINDS for n in (7, 40, 64)]
    together, _ = _run([c[0] for c in cases], [c[1] for c in cases])
    for (d, e), lam in zip(cases, together):
        alone, _ = _run([d], [e])
        assert np.array_equal(alone[0], lam)


def test_hook_rejects_bad_layout():
    with pytest.raises(ValueError, match="bad offsets"):
        _backend.core.sterf_lanes(np.zeros(4), np.zeros(4), np.array([0, 3], np.int64))
    with pytest.raises(TypeError):
        _backend.core.sterf_lanes(np.zeros(4, np.float32), np.zeros(4), np.array([0, 4], np.int64))


# ---- the route through svdvals ------------------------------------------------------------------

@pytest.mark.parametrize("name", ["float64", "float32"])
@pytest.mark.parametrize("n", [8, 33, 64])
def test_small_stack_contract(rng, name, n):
    """Power-law (α = 0.5, 1, 2), rank-deficient, repeated and zero matrices in one stack of
    more than one chunk, against the float64 SVD, within the contract bound."""
    k = np.arange(1, n + 1, dtype=float)
    spectra = [k**-0.5, k**-1.0, k**-2.0, np.where(k <= n // 2, 1.0, 0.0), np.repeat([3.0, 1.0], [n // 2, n - n // 2]),
               np.zeros(n)]
    mats = np.stack([with_spectrum(rng, n, n, spectra[i % len(spectra)]) for i in range(75)]).astype(name)
    got = g.svdvals(mats)
    want = np.linalg.svd(mats.astype(np.float64), compute_uv=False)
    for i in range(len(mats)):
        bound = contract_bound(name, n, n, want[i, 0])
        err = np.abs(got[i] - want[i]).max()
        assert err <= bound, f"x[{i}]: {err:.3g} > {bound:.3g}"
        assert np.all(np.diff(got[i]) <= 0)


def test_small_and_large_in_one_ragged_call(rng):
    mats = [rng.standard_normal((s, t)) for s, t in [(70, 90), (10, 12), (64, 64), (65, 64), (3, 200), (200, 66)]]
    r = g.svdvals(mats, threads=2)
    for i, a in enumerate(mats):
        want = np.linalg.svd(a, compute_uv=False)
        assert np.abs(r[i] - want).max() <= contract_bound("float64", *a.shape, want[0])


def test_first_bad_matrix_is_named_across_chunks(rng):
    x = rng.standard_normal((200, 16, 16))
    x[150, 3, 3] = np.inf
    x[70, 0, 1] = np.nan  # another chunk, maybe another worker: the smaller index wins
    for t in (1, 2, 4):
        with pytest.raises(ValueError, match=r"x\[70\] must be finite"):
            g.svdvals(x, threads=t)


def test_first_bad_matrix_is_named_across_routes(rng):
    """Small (q ≤ 64) and larger matrices run in separate passes; the error still names the
    first non-finite matrix of the user's list."""
    small, big = rng.standard_normal((10, 12)), rng.standard_normal((100, 80))
    bad_small, bad_big = small.copy(), big.copy()
    bad_small[1, 1] = np.nan
    bad_big[5, 5] = np.inf
    with pytest.raises(ValueError, match=r"x\[1\] must be finite"):
        g.svdvals([small, bad_big, bad_small])
    with pytest.raises(ValueError, match=r"x\[1\] must be finite"):
        g.svdvals([big, bad_small, bad_big])
