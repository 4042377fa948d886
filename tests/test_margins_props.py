"""Differential property tests (hypothesis) for the chain margins (docs/margins.md, spec §7.1).

The oracle is the float64 SVD of the formed product (the reference twin) where it is exact to
rounding, and the identities of §7.1 otherwise: ‖XY‖ ≤ ‖X‖‖Y‖, ‖(cX)Y‖ = |c|‖XY‖, invariance under
orthogonal maps, scale invariance of everything computed on Frobenius-normalized factors,
μ = log κ + s, ϑ ∈ (0, 1]. Both routes of product_norm are exercised: the dense one (a side ≤ 16,
n ≤ 32 or mkn ≤ 96³) and the block Krylov one (larger, so a few examples of ~100² factors).
Tolerances are derived next to each test; ``u = 2⁻⁵³``. Derandomized, no example database.
"""
from __future__ import annotations

import math

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

import gsa_fast as g
from gsa_fast import reference as R

U = 2.0 ** -53
PROPS = dict(deadline=None, derandomize=True, database=None)


@st.composite
def _pair(draw, krylov=False):
    """X (m×k), Y (k×n): Gaussian, or with a clustered top (ties of σ₁), rank-deficient, or
    cancelling (XY ≈ 0 relative to ‖X‖‖Y‖); scaled by 2^e each (e in ±900 between them: the
    product's norm spans the float64 range); float32 or float64."""
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    if krylov:
        m, k, n = (draw(st.integers(97, 128)) for _ in range(3))
    else:
        m, k, n = (draw(st.integers(1, 24)) for _ in range(3))
    kind = draw(st.sampled_from(["gauss", "cluster", "lowrank", "cancel"]))
    X = rng.standard_normal((m, k))
    Y = rng.standard_normal((k, n))
    if kind == "cluster":  # top singular values of X tied (exactly 1, 1, 1)
        u, _, vt = np.linalg.svd(X, full_matrices=False)
        s = np.linspace(1.0, 0.1, min(m, k))
        s[: min(3, s.size)] = 1.0
        X = (u * s) @ vt
    elif kind == "lowrank":
        r = draw(st.integers(0, min(m, k, n)))
        X = rng.standard_normal((m, r)) @ rng.standard_normal((r, k))
    elif kind == "cancel" and k >= 2:  # Y's columns nearly in X's null space: ‖XY‖ ≈ 1e-8 ‖X‖‖Y‖
        q = np.linalg.qr(rng.standard_normal((k, k)))[0]
        X = rng.standard_normal((m, k - 1)) @ q[:, : k - 1].T
        Y = np.outer(q[:, -1], rng.standard_normal(n)) + 1e-8 * rng.standard_normal((k, n))
    dt = draw(st.sampled_from([np.float64, np.float32]))
    lim = 100 if dt is np.float32 else 900
    ex, ey = draw(st.integers(-lim, lim)), draw(st.integers(-lim, lim))
    assume_ok = abs(ex + ey) <= (100 if dt is np.float32 else 900)
    X = (X * 2.0 ** ex).astype(dt)
    Y = (Y * 2.0 ** ey).astype(dt)
    return X, Y, ex, ey, assume_ok


def _exact_norm(X, Y, ex, ey):
    """‖XY‖ from the SVD of the formed float64 product of the factors brought back to O(1) by
    the exact powers of two (the reference's own product would over/underflow at the extremes)."""
    Xs = X.astype(np.float64) * 2.0 ** -ex
    Ys = Y.astype(np.float64) * 2.0 ** -ey
    s = np.linalg.svd(Xs @ Ys, compute_uv=False)[0] if Xs.size and Ys.size else 0.0
    return math.ldexp(float(s), ex + ey), Xs, Ys


# Tolerance: rtol (1e-12 by default) on the relative error of ‖XY‖ (Kato–Temple certified on the
# Krylov route, LAPACK-exact on the dense one), plus the rounding of the product itself,
# ~(k + n)·u·‖X‖‖Y‖ absolute (the docs' allowance: 4(k+n)u‖X‖‖Y‖), which dominates when the product
# cancels; both routes and the oracle carry it. float32 factors are exact in float64.
def _tol(Xs, Ys, k, n, rtol=1e-12):
    nx = np.linalg.norm(Xs, 2) if Xs.size else 0.0
    ny = np.linalg.norm(Ys, 2) if Ys.size else 0.0
    return rtol, 4 * (k + n) * U * nx * ny


def _check_pair(X, Y, ex, ey, rtol=1e-12):
    got = g.product_norm(X, Y, rtol=rtol)
    want, Xs, Ys = _exact_norm(X, Y, ex, ey)
    rt, at = _tol(Xs, Ys, X.shape[1], Y.shape[1], rtol)
    assert abs(got - want) <= rt * want + math.ldexp(at, ex + ey), (got, want, ex, ey)
    # ‖XY‖ ≤ ‖X‖‖Y‖ (in the scaled frame, with the same allowance)
    nx, ny = np.linalg.norm(Xs, 2) if Xs.size else 0.0, np.linalg.norm(Ys, 2) if Ys.size else 0.0
    assert math.ldexp(got, -(ex + ey)) <= nx * ny * (1 + 2 * rt) + at


@settings(max_examples=80, **PROPS)
@given(_pair())
def test_product_norm_dense_route(p):
    X, Y, ex, ey, ok = p
    if ok:
        _check_pair(X, Y, ex, ey)


@settings(max_examples=12, **PROPS)
@given(_pair(krylov=True), st.sampled_from([1e-12, 1e-6]))
def test_product_norm_krylov_route(p, rtol):
    X, Y, ex, ey, ok = p
    if ok:
        _check_pair(X, Y, ex, ey, rtol)


@settings(max_examples=15, **PROPS)
@given(st.integers(0, 2**32 - 1), st.integers(1, 6), st.sampled_from([8, 40, 100]),
       st.integers(-3, 3), st.sampled_from([np.float64, np.float32]))
def test_chain_margins_scale_invariant(seed, L, n, e10, dt):
    # normalize=True evaluates everything on Ã = √d·A/‖A‖_F: scaling any factor by any c > 0
    # changes nothing (up to the rounding of the normalization, a few u per norm; the log fields
    # are accurate to ~3·rtol absolute, docs/margins.md). Exact scales 2^(±150 e), |e| ≤ 3, up to
    # 2^±450 ≈ 1e±135 (float32: 2^(±30 e)), so the stored factors are exactly c·A. Documented exclusion: the raw product norm ‖A_{ℓ+1}A_ℓ‖ is
    # handed from the kernel to the normalization as a float64, so factors whose entries reach
    # ~1e±155 (raw products outside the float64 range) are out of scope (docs/margins.md).
    rng = np.random.default_rng(seed)
    fs = [rng.standard_normal((n, n)) for _ in range(L)]
    step = 150 if dt is np.float64 else 30
    scaled = [(f.astype(dt) * 2.0 ** (step * ((e10 + i) % 7 - 3))).astype(dt) for i, f in enumerate(fs)]
    base = g.chain_margins([f.astype(dt) for f in fs])
    got = g.chain_margins(scaled)
    want = R.chain_margins([f.astype(dt) for f in fs])
    for name in ("norm", "product_norm", "theta"):
        a, b, c = (np.asarray(getattr(x, name)) for x in (got, base, want))
        np.testing.assert_allclose(a, b, rtol=4e-12, atol=0, err_msg=name)
        np.testing.assert_allclose(a, c, rtol=4e-12, atol=0, err_msg=name)
    for name in ("log_kappa", "slack", "margin"):
        a, c = np.asarray(getattr(got, name)), np.asarray(getattr(want, name))
        np.testing.assert_allclose(a, c, rtol=0, atol=4e-12, err_msg=name)
    # identities of §7.1
    th = np.asarray(got.theta)
    assert np.all((th > 0) & (th <= 1 + 4e-12))
    np.testing.assert_allclose(got.margin, np.asarray(got.log_kappa) + np.asarray(got.slack), rtol=0, atol=1e-11)
    assert np.all(np.asarray(got.slack) >= 0) and np.all(np.asarray(got.margin) >= -1e-12)


@st.composite
def _ragged_chain(draw):
    """A list of 1..5 factors of widths 1..12 where consecutive shapes chain or (sometimes) do not
    (an undefined interface: NaN fields), one dtype, some factors scaled by 2^±200 (float64)."""
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    L = draw(st.integers(1, 5))
    dt = draw(st.sampled_from([np.float64, np.float32]))
    n_in = draw(st.integers(1, 12))
    fs = []
    for _ in range(L):
        if fs and draw(st.integers(0, 4)) == 0:
            n_in = draw(st.integers(1, 12))  # breaks the chain here
        m = draw(st.integers(1, 12))
        a = rng.standard_normal((m, n_in))
        if dt is np.float64:
            a = a * 2.0 ** draw(st.sampled_from([0, 200, -200]))
        fs.append(a.astype(dt))
        n_in = m
    return fs


@settings(max_examples=60, **PROPS)
@given(_ragged_chain(), st.booleans())
def test_chain_margins_ragged_vs_reference(fs, normalize):
    got = g.chain_margins(fs, normalize=normalize)
    want = R.chain_margins(fs, normalize=normalize)
    defined = np.array([fs[i + 1].shape[1] == fs[i].shape[0] for i in range(len(fs) - 1)], dtype=bool)
    for name in ("product_norm", "log_kappa", "slack", "margin", "theta"):
        a = np.asarray(getattr(got, name))
        assert np.isnan(a[~defined]).all(), name  # undefined interface: NaN, never 0
    # Tolerances: norms and product norms relative 1e-12 (rtol) plus the product's rounding
    # (the factors are O(1) after the exact 2^±200 scale: 4(k+n)u relative to ‖X‖‖Y‖, ≤ 1e-14
    # here unless the product cancels, which Gaussian 12×12 products do not do beyond ~1e3);
    # the log fields absolute 3·rtol (docs/margins.md) with the same slack.
    for name in ("norm", "product_norm", "theta"):
        a, b = np.asarray(getattr(got, name)), np.asarray(getattr(want, name))
        np.testing.assert_allclose(a, b, rtol=4e-12, atol=0, equal_nan=True, err_msg=name)
    for name in ("log_kappa", "slack", "margin"):
        a, b = np.asarray(getattr(got, name)), np.asarray(getattr(want, name))
        np.testing.assert_allclose(a, b, rtol=0, atol=1e-11, equal_nan=True, err_msg=name)
    if normalize:  # ϑ ∈ (0, 1], μ = log κ + s ≥ 0 on defined interfaces
        th = np.asarray(got.theta)[defined]
        assert np.all((th > 0) & (th <= 1 + 4e-12))
        mu = np.asarray(got.margin)[defined]
        np.testing.assert_allclose(mu, np.asarray(got.log_kappa)[defined] + np.asarray(got.slack)[defined],
                                   rtol=0, atol=1e-11)


@settings(max_examples=12, **PROPS)
@given(st.integers(0, 2**32 - 1), st.integers(2, 4), st.integers(3, 12),
       st.sampled_from(["gauss", "equal", "power"]), st.sampled_from(["top", "lsq"]))
def test_margin_report_vs_reference(seed, L, n, kind, chart):
    # Full-rank square chains (Theorem 4.16's setting): Gaussian, all singular values equal (exact
    # ties: every chart degenerates to α = 0) and power-law spectra. Documented exclusion:
    # rank-deficient factors, whose report fields that read log σ of numerically-zero values
    # (V_log, the (56) terms, the σ_min/σ_1 in .reasons) are rounding noise in both routes.
    # Tolerance: the family's 1e-9 relative / 1e-12 absolute (tests/test_margins.py: the report
    # composes spectra, ~1e-13, through charts and sums of ≤ L terms).
    rng = np.random.default_rng(seed)
    fs = []
    for _ in range(L):
        q1 = np.linalg.qr(rng.standard_normal((n, n)))[0]
        q2 = np.linalg.qr(rng.standard_normal((n, n)))[0]
        if kind == "gauss":
            fs.append(rng.standard_normal((n, n)))
            continue
        s = np.ones(n) if kind == "equal" else np.arange(1, n + 1, dtype=float) ** -rng.uniform(0.2, 1.5)
        fs.append((q1 * s) @ q2.T)
    kw = dict(chart=chart, interval=(0.0, 3.0))
    if chart == "lsq":
        kw["window"] = (1, n)
    a, b = g.margin_report(fs, **kw), R.margin_report(fs, **kw)
    # Second documented exclusion: with exact ties (kind 'equal', orthogonal factors) the margins,
    # Δα and their products are 0 in exact arithmetic and ~1e-16 noise in both routes; such
    # entries are compared as "both ≤ 1e-10", and the ratios ρ = lhs/rhs (and ρ♯, the same
    # denominator scale) are not compared where rhs ≤ 1e-10 (a quotient of two noises).
    def close(x, y):
        x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
        ok = np.isclose(x, y, rtol=1e-9, atol=1e-12, equal_nan=True)
        return ok | ((np.abs(x) <= 1e-10) & (np.abs(y) <= 1e-10))
    noise = np.asarray(b.interfaces["rhs"], dtype=float) <= 1e-10
    for fa, fb in ((a.layers, b.layers), (a.interfaces, b.interfaces)):
        assert list(fa.columns) == list(fb.columns)
        for col in fa.columns:
            if fa[col].dtype.kind == "f":
                ok = close(fa[col], fb[col])
                if col in ("rho", "rho_sharp") and fa is a.interfaces:
                    ok |= noise
                assert ok.all(), (col, fa[col].values, fb[col].values)
            else:
                assert list(fa[col]) == list(fb[col]), col
    for k, v in b.totals.items():
        if isinstance(v, float):
            assert close(a.totals[k], v).all(), (k, a.totals[k], v)
    assert a.reasons == b.reasons and a.theorem_applicable == b.theorem_applicable
