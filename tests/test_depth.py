"""Depth spectra, random baselines, alignment and DLN geometry (depth-math spec; issue 13).

Tolerances (where the numbers come from):
- closed forms (§2, §3, §6) against the spec's §10.1 oracles: half a unit in the last printed digit;
  against the reference (full binomial sums, asymptotic digamma): 1e-12 absolute (measured ~1e-14;
  the Ψ recurrence accumulates ~m·u, m ≤ n + 1).
- chain scans in float64 (factors exact, float64 panel): 1e-12·L absolute on cumulative logs
  (each QR step is backward stable to ~n·u; measured ~1e-14·L).
- float32 panel: 2e-5 absolute at L ≤ 30, n ≤ 64: the float32 rounding of M·Q is ~√n·u32 relative per
  step (measured 1.3e-6).
- prefix products: 1e-9 absolute where resolved (rescaled float64 product, error ~ℓ·n·u·s_1/s_i);
  the row-graded form (§4.3b) is relatively accurate: 1e-11 absolute in log s against 250-digit
  products, 1e-8 on 100–200-layer chains whose exact log s reach −1800 (see each test).
- Monte Carlo: fixed seeds, z-score bound 4.5 standard errors plus the stated model slack.
"""
from __future__ import annotations

import math

import mpmath
import numpy as np
import pytest

import gsa_fast as g
from gsa_fast import reference as R
from gsa_fast.depth import psi_half_table

# ------------------------------------------------------------------------------------------
# §2, §3, §6 closed forms


def test_oracle_exponents_p1_n128():
    gam = g.random_lyapunov(128).gamma  # sigma = 1/sqrt(128)
    want = {1: -0.0039164, 2: -0.0078689, 10: -0.040667, 64: -0.346553}
    for i, v in want.items():
        digits = len(str(v).split(".")[1])
        assert abs(gam[i - 1] - v) <= 0.5 * 10.0 ** -digits


def test_oracle_depth_constants_n128():
    d = g.random_lyapunov(128).d
    for i, v in {1: 3.05728, 2: 5.41746, 10: 18.17412}.items():
        assert abs(d[i - 1] - v) <= 0.5e-5


@pytest.mark.parametrize("L,q,mean", [(1, (57, 64, 71), 64.00), (20, (50, 54, 57), 53.46),
                                      (100, (47, 50, 53), 49.87)])
def test_oracle_rank_quantiles(L, q, mean):
    law = g.gated_rank_law(128, L, 0.5)
    assert tuple(law.quantile([0.1, 0.5, 0.9])) == q
    assert abs(law.mean - mean) <= 0.005


@pytest.mark.parametrize("n,p,r", [(1, 1.0, None), (7, 1.0, 3), (60, 0.5, None), (60, 0.5, 20),
                                   (200, 0.3, 50), (150, 0.9, None), (40, 0.05, 1), (400, 0.5, None)])
def test_random_lyapunov_matches_reference(n, p, r):
    a, b = g.random_lyapunov(n, p, r=r), R.random_lyapunov(n, p, r=r)
    fin = np.isfinite(b.gamma)
    assert np.array_equal(np.isfinite(a.gamma), fin)
    assert np.abs(a.gamma[fin] - b.gamma[fin]).max() <= 1e-12
    assert np.abs(a.d - b.d).max() <= 1e-12 * max(1.0, np.abs(b.d).max())
    assert np.abs(a.delta - b.delta).max() <= 1e-12


def test_random_lyapunov_properties():
    n = 300
    base, scaled = g.random_lyapunov(n, 0.5, sigma=1.0, r=100), g.random_lyapunov(n, 0.5, sigma=0.3, r=100)
    fin = np.isfinite(base.gamma)
    assert fin.sum() == 100 and np.isneginf(base.gamma[100:]).all()
    assert np.allclose(scaled.gamma[fin] - base.gamma[fin], math.log(0.3), atol=1e-13)
    assert np.all(np.diff(base.gamma[fin]) < 0)  # strictly decreasing
    d = base.d
    assert d[-1] == 0.0 and np.allclose(d[: n - 1], d[: n - 1][::-1], atol=1e-11)  # d_{n−i} = d_i
    assert (d >= -1e-12).all()
    # conditioning matters only through the mass below r: |γ_1(r=1) − γ_1(r=100)| ≲ P(t < 100)·|ψ|
    low = g.random_lyapunov(n, 0.5, sigma=1.0, r=1)
    below = 1.0 - g.gated_rank_law(n, 1, 0.5).sf[100]
    assert 0 < abs(low.gamma[0] - base.gamma[0]) < 2 * below * 6.0


def test_psi_table_matches_digamma():
    mpmath = pytest.importorskip("mpmath")
    tab = psi_half_table(401)
    for m in (1, 2, 3, 10, 57, 200, 401):
        assert abs(tab[m] - float(mpmath.digamma(m / 2))) <= 1e-13 * max(1, abs(tab[m]))


def test_depth_constant_is_minus_E_log_det_haar_block():
    # §3.1: d_i = −E log|det Ω^{i,i}|, Ω Haar on O(n); Monte Carlo, fixed seed.
    rng = np.random.default_rng(5)
    n, reps = 6, 4000
    Z = rng.standard_normal((reps, n, n))
    Q, Rr = np.linalg.qr(Z)
    Q = Q * np.sign(np.diagonal(Rr, axis1=1, axis2=2))[:, None, :]  # Haar
    d = g.random_lyapunov(n).d
    for i in (1, 2, 3):
        x = -np.log(np.abs(np.linalg.det(Q[:, :i, :i])))
        assert abs(x.mean() - d[i - 1]) < 4.5 * x.std() / math.sqrt(reps)


def test_corrected_sign_by_monte_carlo():
    """§3.3–§3.4: mean of log s_k(J_L) − Σ log|R_kk| → +Δ_k (corrected), not −Δ_k (printed)."""
    rng = np.random.default_rng(20261130)
    n, L, B = 4, 25, 1500
    W = rng.standard_normal((B, L, n, n)) / math.sqrt(n)
    c = g.chain_log_spectrum(W, n)[:, -1, :]  # Σ_ℓ log|R_ℓ[k,k]| with a full frame
    s = g.prefix_log_svdvals(W, depths=[L]).log_s[:, 0, :]
    base = g.random_lyapunov(n)
    for k in (0, 1):  # s_1, s_2 are resolved; L·gap ≈ 5–8 here
        x = s[:, k] - c[:, k]
        se = x.std() / math.sqrt(B)
        assert abs(x.mean() - base.delta[k]) < 4.5 * se + 0.08
        assert abs(x.mean() + base.delta[k]) > 4.5 * se + 0.08  # the printed sign is rejected
    # Benettin sums are unbiased for L·γ_k at every L (§3.4)
    for k in range(n):
        y = c[:, k] / L
        assert abs(y.mean() - base.gamma[k]) < 4.5 * y.std() / math.sqrt(B)
    # the prediction L·γ + Δ for E log s_1
    pred = base.mean_log_svdvals(L)
    assert abs(s[:, 0].mean() - pred[0]) < 4.5 * s[:, 0].std() / math.sqrt(B) + 0.08


def test_gated_benettin_exponents_match_closed_form():
    """§2.1 with (r, p)-gates: the Benettin average over chains matches γ_k in z-score."""
    rng = np.random.default_rng(7)
    n, L, B, p, r = 12, 40, 120, 0.5, 5
    W = rng.standard_normal((B, L, n, n)) / math.sqrt(n)
    gates = rng.random((B, L, n)) < p
    while True:  # rejection: every gate has rank ≥ r
        bad = gates.sum(-1) < r
        if not bad.any():
            break
        gates[bad] = rng.random((int(bad.sum()), n)) < p
    c = g.chain_log_spectrum(W, 3, gates=gates)[:, -1, :] / L
    gam = g.random_lyapunov(n, p, r=r).gamma
    for k in range(3):
        assert abs(c[:, k].mean() - gam[k]) < 4.5 * c[:, k].std() / math.sqrt(B)


def test_rank_law_matches_reference_and_simulation():
    for args in [(30, 5, 0.5), (30, 5, 0.5, 10), (64, 12, 0.8, None, "F"), (10, 1, 1.0)]:
        a, b = g.gated_rank_law(*args), R.gated_rank_law(*args)
        assert np.abs(a.sf - b.sf).max() <= 1e-12 and abs(a.mean - b.mean) <= 1e-10
    # §6: rank of a simulated product = min gate rank, every draw
    rng = np.random.default_rng(3)
    n, L = 10, 4
    for _ in range(20):
        D = rng.random((L, n)) < 0.6
        J = np.eye(n)
        for l in range(L):
            J = (D[l][:, None] * rng.standard_normal((n, n))) @ J
        assert np.linalg.matrix_rank(J) == D.sum(1).min()


# ------------------------------------------------------------------------------------------
# §4 chain scans


@pytest.mark.parametrize("dtype,panel,tol", [(np.float64, "auto", 1e-12), (np.float32, "float64", 1e-12),
                                             (np.float32, "float32", 2e-5)])
def test_chain_scan_matches_reference(rng, dtype, panel, tol):
    n, L, k = 48, 30, 9
    A = (rng.standard_normal((L, n, n)) / math.sqrt(n)).astype(dtype)
    f = g.chain_log_spectrum(A, k, panel=panel)
    r = R.chain_log_spectrum(A, k, panel=panel)
    assert f.shape == (L, k) and f.dtype == np.float64
    assert np.abs(f - r).max() <= tol * L


def test_chain_scan_layouts_and_batches(rng):
    n, L, k = 20, 6, 4
    A = rng.standard_normal((2, 3, L, n, n)).astype(np.float32)
    want = R.chain_log_spectrum(A, k)
    assert np.abs(g.chain_log_spectrum(A, k) - want).max() < 1e-11
    F = np.asfortranarray(A.transpose(3, 4, 0, 1, 2)).transpose(2, 3, 4, 0, 1)  # column-major factors
    assert np.abs(g.chain_log_spectrum(F, k) - want).max() < 1e-11
    assert np.abs(g.chain_log_spectrum(F, k, panel="float32") - want).max() < 2e-5 * L
    big = rng.standard_normal((L, 2 * n, 2 * n))
    strided = big[:, ::2, ::2]  # no unit stride: block conversion path
    assert np.abs(g.chain_log_spectrum(strided, k) - R.chain_log_spectrum(strided, k)).max() < 1e-11
    rect = [rng.standard_normal((30, 20)), rng.standard_normal((12, 30)), rng.standard_normal((40, 12))]
    assert np.abs(g.chain_log_spectrum(rect, 12) - R.chain_log_spectrum(rect, 12)).max() < 1e-12
    one = g.chain_log_spectrum(A[0, 0, :1], n)  # L = 1, k = n: log|det| = Σ log|R_jj|
    assert abs(one[0].sum() - np.linalg.slogdet(A[0, 0, 0].astype(np.float64))[1]) < 1e-10


def test_chain_scan_threads_and_fallback_paths(rng):
    """Threaded BLAS on one chain, parallel chains, and the Householder fallback (ill-conditioned
    panels, where CholeskyQR2 is refused) all agree with the reference."""
    n, L, k = 40, 6, 10
    A = rng.standard_normal((3, L, n, n))
    want = R.chain_log_spectrum(A, k)
    for th in (1, 2):
        assert np.abs(g.chain_log_spectrum(A, k, threads=th) - want).max() < 1e-12 * L
        assert np.abs(g.chain_log_spectrum(A[0], k, threads=th) - want[0]).max() < 1e-12 * L
    U, _, Vt = np.linalg.svd(A[0, 0])
    graded = np.stack([(U * np.geomspace(1.0, 1e-30, n)) @ Vt] * 3)  # R_jj spread 1e-7 over k = 10
    c = g.chain_log_spectrum(graded, k)
    assert np.ptp(c[0]) > 10  # the panel is graded beyond the CholeskyQR2 limit (1e4): fallback
    diff = np.abs(c - R.chain_log_spectrum(graded, k))
    # Householder R_jj carry ~u·‖Y‖/|R_jj| relative error: tight on top columns, looser deep down
    assert diff[:, :5].max() < 1e-12 and diff.max() < 1e-6


def test_chain_scan_never_overflows(rng):
    n, L, k = 16, 400, 5
    A = rng.standard_normal((L, n, n))
    big = A * 1e250
    c, cb = g.chain_log_spectrum(A, k), g.chain_log_spectrum(big, k)
    assert np.isfinite(cb).all()
    assert np.allclose(cb - c, np.arange(1, L + 1)[:, None] * math.log(1e250), rtol=1e-13, atol=1e-9)


def test_chain_scan_rank_masks(rng):
    n, L, k = 12, 8, 6
    A = rng.standard_normal((L, n, n))
    gates = np.ones((L, n), dtype=bool)
    gates[3, 4:] = False  # rank 4 from layer 4 on
    c = g.chain_log_spectrum(A, k, gates=gates)
    assert np.isfinite(c[:3]).all() and np.isfinite(c[3:, :4]).all() and np.isneginf(c[3:, 4:]).all()
    assert np.allclose(c[:, :4], R.chain_log_spectrum(A, k, gates=gates)[:, :4], atol=1e-12)
    # unknown gates: an exactly rank-3 factor is flagged by the tolerance rule and masked
    B_ = A.copy()
    B_[2] = rng.standard_normal((n, 3)) @ rng.standard_normal((3, n))
    c2 = g.chain_log_spectrum(B_, k)
    assert np.isneginf(c2[2:, 3:]).all() and np.isfinite(c2[:, :3]).all()
    # earlier columns are unaffected by the mask (QR of the first j columns)
    assert np.allclose(c2[:, :3], R.chain_log_spectrum(B_, 3), atol=1e-12)


def test_prefix_log_svdvals(rng):
    n, L = 10, 12
    A = rng.standard_normal((L, n, n)) / math.sqrt(n)
    out = g.prefix_log_svdvals(A, depths=[1, 4, 12])
    ref = R.prefix_log_svdvals(A, depths=[1, 4, 12])
    assert out.log_s.shape == (3, n) and np.array_equal(out.depths, [1, 4, 12])
    ok = out.resolved & ref.resolved
    assert ok[:, :5].all()
    assert np.abs(out.log_s - ref.log_s)[ok].max() < 2e-6  # resolved: estimated error ≤ 1e-6
    P = np.eye(n)
    for l in range(4):
        P = A[l] @ P
    exact = np.log(np.linalg.svd(P, compute_uv=False))
    assert np.abs(out.log_s[1] - exact).max() < 1e-9
    # deep chain: exact log s_1 stays finite where the product itself overflows
    deep = g.prefix_log_svdvals(A * 1e200, depths=[L], k=2)
    assert np.allclose(deep.log_s[0], out.log_s[2, :2] + L * math.log(1e200), rtol=1e-12)
    # a zero factor gives −∞; tiny values are flagged as unresolved
    Z = A.copy()
    Z[5] = 0.0
    assert np.isneginf(g.prefix_log_svdvals(Z, depths=[6]).log_s).all()
    steep = [np.diag(np.exp(-np.arange(n) * 3.0))] * 3  # s_i/s_1 = e^{−9 i}; flag below 1e6·3·10·u ≈ e^{−19.5}
    res = g.prefix_log_svdvals(steep, depths=[3], method="rescaled")
    assert res.resolved[0, :3].all() and not res.resolved[0, 3:].any()
    assert np.allclose(res.log_s[0], -9.0 * np.arange(n), atol=1e-12)  # diagonal: exact anyway


def _graded_chain(rng, n, L, step):
    """Factors U_ℓ diag(e^{−step·i}) V_ℓᵀ with Haar U, V: the product's s_k/s_1 falls like e^{−step·k·ℓ}."""
    out = []
    for _ in range(L):
        U = np.linalg.qr(rng.standard_normal((n, n)))[0]
        V = np.linalg.qr(rng.standard_normal((n, n)))[0]
        out.append(U @ np.diag(np.exp(-step * np.arange(n))) @ V.T)
    return np.stack(out)


def test_graded_matches_high_precision_product(rng):
    """§4.3(b) against the exact product in 250-digit arithmetic, where §4.3(a) fails
    (s_4/s_1 ≈ 1e-60 at depth 40). Tolerance 1e-11 absolute in log s: the factors are exact
    float64 numbers, each QR step is backward stable column by column (~n·u relative to each
    graded column), measured ~3e-14."""
    mp = pytest.importorskip("mpmath")
    n, L = 4, 40
    A = _graded_chain(rng, n, L, 1.5)
    depths = [1, 10, 40]
    gr = g.prefix_log_svdvals(A, depths=depths, method="graded")
    rs = g.prefix_log_svdvals(A, depths=depths, method="rescaled")
    rf = R.prefix_log_svdvals(A, depths=depths, method="graded")
    mp.mp.dps = 250
    P = mp.eye(n)
    exact = []
    for l in range(L):
        P = mp.matrix(A[l].tolist()) * P
        if l + 1 in depths:
            exact.append(sorted((float(mp.log(x)) for x in mp.svd_r(P, compute_uv=False)), reverse=True))
    exact = np.array(exact)
    assert gr.graded.all() and gr.resolved.all()
    assert np.abs(gr.log_s - exact).max() < 1e-11
    assert np.abs(rf.log_s - exact).max() < 1e-11  # the reference (numpy QR + Hestenes Jacobi) too
    tiny = exact - exact[:, :1] < math.log(1e-14)
    assert tiny.sum() >= 3 and not rs.resolved[tiny].any()
    assert np.abs(rs.log_s - exact)[tiny].max() > 1.0  # (a) is rounding noise there; (b) is exact
    auto = g.prefix_log_svdvals(A, depths=depths)
    assert auto.graded.all() and np.array_equal(auto.log_s, gr.log_s)


def test_graded_equals_rescaled_while_resolved(rng):
    """(a) == (b) while s_k/s_1 > 1e-12 (§10.2). Tolerance: (a)'s own error estimate
    10·ℓ·n·u·s_1/s_k plus 1e-12."""
    n, L = 8, 12
    A = rng.standard_normal((3, L, n, n)) / math.sqrt(n)
    d = np.arange(1, L + 1)
    a = g.prefix_log_svdvals(A, method="rescaled")
    b = g.prefix_log_svdvals(A, method="graded")
    rel = a.log_s - a.log_s[..., :1]
    keep = rel > math.log(1e-12)
    assert keep.mean() > 0.9
    bound = 10 * d[:, None] * n * 2.0 ** -53 * np.exp(-rel) + 1e-12
    assert (np.abs(a.log_s - b.log_s) <= bound)[keep].all()
    auto = g.prefix_log_svdvals(A)  # (b) exactly for the chains (a) leaves partly unresolved
    need = ~a.resolved.all(axis=(1, 2))
    assert np.array_equal(auto.graded, need)
    assert np.array_equal(auto.log_s[need], b.log_s[need]) and np.array_equal(auto.log_s[~need], a.log_s[~need])
    short = g.prefix_log_svdvals(A[:, :2])
    assert short.resolved.all() and not short.graded.any()
    ref = R.prefix_log_svdvals(A, method="graded")
    assert np.abs(ref.log_s - b.log_s).max() < 1e-10 and np.array_equal(ref.resolved, b.resolved)


def test_graded_flags_ill_conditioned_factors(rng):
    """Forming M_ℓ·Q in float64 perturbs each factor by ~u‖M_ℓ‖, so no float64 route resolves the
    small values better than ~u·Σκ(M_ℓ) relative: factors with κ = e^{21} over 10 layers give an
    estimate 1.4e-6 > 1e-6, so ``resolved`` is False, and the error against 300-digit products
    stays below the estimate (measured ~1e-7)."""
    mp = pytest.importorskip("mpmath")
    n, L = 8, 10
    A = _graded_chain(rng, n, L, 3.0)
    out = g.prefix_log_svdvals(A, depths=[L], method="graded")
    ref = R.prefix_log_svdvals(A, depths=[L], method="graded")
    assert not out.resolved.any() and not ref.resolved.any()
    mp.mp.dps = 300
    P = mp.eye(n)
    for l in range(L):
        P = mp.matrix(A[l].tolist()) * P
    exact = sorted((float(mp.log(x)) for x in mp.svd_r(P, compute_uv=False)), reverse=True)
    est = L * 2.0 ** -53 * math.exp(3.0 * (n - 1))
    assert np.abs(out.log_s[0] - exact).max() < est
    assert g.prefix_log_svdvals(A[:2], depths=[2], method="graded").resolved.all()  # est 2.9e-7

@pytest.mark.parametrize("n,step,L", [(3, 3.0, 200), (20, 0.35, 100)])
def test_graded_beyond_the_float_range(n, step, L):
    """Telescoping factors Q_ℓ diag(e^{−step·i}) Q_{ℓ−1}ᵀ: the product is Q_L diag(e^{−step·i·L}) Q_0ᵀ
    exactly, so log s_i = −step·i·L (s_n/s_1 down to e^{−1800}: far outside float64). (3, 3, 200):
    every index its own block (free cuts, the strong-grading limit); (20, 0.35, 100): one span of
    665 > 600 with neighbours 35 apart, so a forced cut and two Jacobi blocks. Tolerance 1e-8: the
    rounding of each factor moves its i-th singular value by ~u·e^{step·(n−1)} relative, L times."""
    rng = np.random.default_rng(7)
    Qs = [np.linalg.qr(rng.standard_normal((n, n)))[0] for _ in range(L + 1)]
    D = np.diag(np.exp(-step * np.arange(n)))
    A = np.stack([Qs[l + 1] @ D @ Qs[l].T for l in range(L)])
    out = g.prefix_log_svdvals(A, depths=[L // 2, L], method="graded")
    exact = -step * np.arange(n)[None, :] * np.array([L // 2, L])[:, None]
    assert np.abs(out.log_s - exact).max() < 1e-8 and out.resolved.all()
    ref = R.prefix_log_svdvals(A, depths=[L], method="graded")
    assert np.abs(ref.log_s[0] - exact[1]).max() < 1e-8


def test_graded_rank_and_shapes(rng):
    """Rectangular chains (the frame narrows to the smallest width), a rank-2 gate (values past
    the rank are −∞, §4.2), a zero factor (all −∞), batches, k < n_0, and the reference's route."""
    f = [rng.standard_normal((7, 5)), rng.standard_normal((3, 7)), rng.standard_normal((6, 3))]
    out = g.prefix_log_svdvals(f, method="graded", k=3)
    ref = R.prefix_log_svdvals(f, method="graded", k=3)
    exact = [np.linalg.svd(np.linalg.multi_dot(f[:l][::-1]) if l > 1 else f[0], compute_uv=False)[:3]
             for l in (1, 2, 3)]
    assert np.abs(out.log_s - np.log(exact)).max() < 1e-12
    assert np.abs(ref.log_s - out.log_s).max() < 1e-12
    A = rng.standard_normal((5, 6, 6))
    A[2, 2:] = 0.0  # rank 2 from depth 3 on
    o = g.prefix_log_svdvals(A, depths=[2, 3, 5], method="graded")
    assert np.isfinite(o.log_s[0]).all() and np.isneginf(o.log_s[1:, 2:]).all()
    assert np.isfinite(o.log_s[1:, :2]).all()
    P = A[2] @ A[1] @ A[0]
    assert np.abs(o.log_s[1, :2] - np.log(np.linalg.svd(P, compute_uv=False)[:2])).max() < 1e-12
    Z = A.copy()
    Z[1] = 0.0
    assert np.isneginf(g.prefix_log_svdvals(Z, depths=[2, 5], method="graded").log_s).all()
    Bt = rng.standard_normal((2, 3, 4, 4))
    bt = g.prefix_log_svdvals(Bt, method="graded", k=2)
    assert bt.log_s.shape == (2, 3, 2) and bt.graded.shape == (2,)
    assert np.allclose(bt.log_s[1], g.prefix_log_svdvals(Bt[1], method="graded", k=2).log_s, atol=0)
    with pytest.raises(ValueError, match="method must be"):
        g.prefix_log_svdvals(A, method="qr")


# ------------------------------------------------------------------------------------------
# §5 diagnostics


def test_separation_ratios():
    ls = np.array([[0.0, -1.0, -3.0, -np.inf], [2.0, 2.0, 1.0, 0.5]])
    sep = g.separation_ratios(ls, eps=0.5)
    assert np.allclose(sep.ratios[0], [math.exp(-1), math.exp(-2), 0.0])
    assert np.allclose(sep.log_gaps[1], [0.0, 1.0, 0.5])
    assert sep.rank.tolist() == [3, 0]
    ref = R.separation_ratios(ls, eps=0.5)
    assert np.array_equal(sep.rank, ref.rank) and np.allclose(sep.ratios, ref.ratios)
    nan = g.separation_ratios([-np.inf, -np.inf]).ratios
    assert np.isnan(nan).all()


def test_depth_scaling_fit(rng):
    L, k = 50, 3
    ell = np.arange(1, L + 1)[:, None]
    y = ell * np.array([-0.1, -0.5, -1.0]) + np.array([2.0, 0.5, 0.0]) + 1e-3 * rng.standard_normal((L, k))
    fit = g.depth_scaling_fit(y, start=5, baseline=[-0.1, -0.4, -1.0])
    ref = R.depth_scaling_fit(y, start=5)
    assert np.allclose(fit.slope, ref.slope, atol=1e-12) and np.allclose(fit.intercept, ref.intercept, atol=1e-10)
    assert np.allclose(fit.max_resid, ref.max_resid, atol=1e-12)
    assert np.allclose(fit.slope, [-0.1, -0.5, -1.0], atol=1e-3)
    assert np.allclose(fit.excess, [0.0, -0.1, 0.0], atol=1e-3)
    y[20, 1] = -np.inf
    f2 = g.depth_scaling_fit(y)
    assert np.isnan(f2.slope[1]) and np.isfinite(f2.slope[[0, 2]]).all()
    assert np.isnan(g.depth_scaling_fit(y, start=49).slope).all()  # window of one depth
    # on a real random chain: slopes of Benettin sums approach the closed-form exponents
    n = 32
    c = g.chain_log_spectrum(rng.standard_normal((300, n, n)) / math.sqrt(n), 4)
    fit = g.depth_scaling_fit(c, start=20, baseline=g.random_lyapunov(n).gamma[:4])
    assert np.abs(fit.excess).max() < 0.05


# ------------------------------------------------------------------------------------------
# §7 alignment


def _rot(k, angles):
    """U_A = [I_k; 0], U_B with principal angles `angles` against it (2k × k frames)."""
    UA = np.vstack([np.eye(k), np.zeros((k, k))])
    UB = np.vstack([np.diag(np.cos(angles)), np.diag(np.sin(angles))])
    return UA, UB


def test_subspace_alignment_known_angles(rng):
    k = 4
    th = np.array([1e-9, 1e-4, 0.3, 1.2])
    UA, UB = _rot(k, th)
    sv = np.array([8.0, 4.0, 2.0, 1.0])
    A = (UA * sv) @ np.linalg.qr(rng.standard_normal((6, k)))[0].T
    B = (UB * sv * -1) @ np.linalg.qr(rng.standard_normal((5, k)))[0].T  # negative signs
    al = g.subspace_alignment(A, B, k)
    assert np.allclose(al.angles, th, rtol=1e-7, atol=1e-12)  # small angles without arccos loss
    assert (np.diag(al.R) >= 0).all()
    assert np.allclose(al.R, np.diag(np.cos(th)), atol=1e-12)
    assert abs(al.rho - 1.0) < 1e-12
    ref = R.subspace_alignment(A, B, k)
    assert np.allclose(al.R, ref.R, atol=1e-12) and np.allclose(al.angles, ref.angles, atol=1e-9)


def test_subspace_alignment_batched_and_sides(rng):
    W = rng.standard_normal((5, 12, 12)).astype(np.float32)
    al = g.subspace_alignment(W[1:], W[:-1], 3, side_a="right")
    ref = R.subspace_alignment(W[1:], W[:-1], 3, side_a="right")
    assert al.R.shape == (4, 3, 3) and al.angles.shape == (4, 3) and al.rho.shape == (4,)
    assert np.allclose(np.abs(al.R), np.abs(ref.R), atol=1e-9)
    assert np.allclose(al.rho, ref.rho, atol=1e-9, equal_nan=True)
    assert np.allclose(al.angles, ref.angles, atol=1e-7)
    one = g.subspace_alignment(W[0], W, 2)  # broadcast of a single matrix
    assert one.R.shape == (5, 2, 2) and np.allclose(one.angles[0], 0.0, atol=1e-6)


def test_alignment_remark_d2_limit(rng):
    """§7.2: J = A·B with strongly graded A: |R_ij| ~ s_max(i,j)/s_min(i,j) decays off the diagonal."""
    n = 5
    U = np.linalg.qr(rng.standard_normal((n, n)))[0]
    Bm = rng.standard_normal((n, n))
    sv = np.exp(-6.0 * np.arange(n))
    A = (U * sv) @ np.eye(n)
    al = g.subspace_alignment(A @ Bm, A, 3)
    assert np.allclose(np.diag(al.R), 1.0, atol=1e-4)
    assert abs(al.R[1, 0]) < 50 * sv[1] / sv[0] and abs(al.R[2, 1]) < 50 * sv[2] / sv[1]


def test_diag_correlation_oracles():
    # §10.1: ρ(I) = 1, ρ(anti-diagonal) = −1; via the alignment kernel's R on constructed frames
    k = 5
    UA = np.eye(8)[:, :k]
    P = np.eye(k)[::-1]
    al = g.subspace_alignment(UA * np.arange(k, 0, -1), (UA @ P) * np.arange(k, 0, -1), k)
    # the top-k subspaces coincide, so the angles are 0; R is the anti-diagonal permutation
    assert np.allclose(al.angles, 0.0, atol=1e-7)
    assert al.rho == pytest.approx(1.0) or al.rho == pytest.approx(-1.0)


# ------------------------------------------------------------------------------------------
# §8 DLN geometry


def test_relative_imbalance(rng):
    n, L = 6, 4
    Q = [np.linalg.qr(rng.standard_normal((n, n)))[0] for _ in range(L + 1)]
    S = np.diag(rng.random(n) + 0.5)
    balanced = np.stack([Q[p + 1] @ S @ Q[p].T for p in range(L)])
    assert np.abs(g.relative_imbalance(balanced)).max() < 1e-13
    W = rng.standard_normal((L, 200, 200)) / math.sqrt(200)
    iota = g.relative_imbalance(W)
    assert iota.shape == (L - 1,) and np.all(np.abs(iota - 1.0) < 0.1)  # §8.1: ι ≈ 1 at iid init
    assert np.allclose(iota, R.relative_imbalance(W), rtol=1e-12)
    rect = [rng.standard_normal((7, 4)), rng.standard_normal((3, 7))]
    assert np.allclose(g.relative_imbalance(rect), R.relative_imbalance(rect), rtol=1e-12)
    assert np.isnan(g.relative_imbalance([np.zeros((3, 3)), np.eye(3)]))[0]


def _spd(rng, n, cond=10.0):
    Q = np.linalg.qr(rng.standard_normal((n, n)))[0]
    return (Q * np.geomspace(1, 1 / cond, n)) @ Q.T


def test_bures_transport_map(rng):
    A, B = _spd(rng, 5), _spd(rng, 5, 100.0)
    T = g.bures_transport_map(A, B)
    assert np.allclose(T @ A @ T, B, atol=1e-12)
    assert np.allclose(T, T.T) and np.linalg.eigvalsh(T).min() > 0
    assert np.allclose(T, R.bures_transport_map(A, B), atol=1e-10)
    # d² = Tr(P_0² A) with P_0 = T − I equals the existing Bures distance
    P0 = T - np.eye(5)
    assert np.trace(P0 @ P0 @ A) == pytest.approx(float(g.bures_distance(A, B)) ** 2, rel=1e-10)
    stack = g.bures_transport_map(np.stack([A, B]), np.stack([B, A]))
    assert np.allclose(stack[1] @ B @ stack[1], A, atol=1e-12)


def test_bures_geodesic(rng):
    A, B = _spd(rng, 4), _spd(rng, 4, 50.0)
    ts = np.array([0.0, 0.25, 0.5, 1.0])
    X = g.bures_geodesic(A, B, ts)
    assert np.allclose(X[0], A, atol=1e-13) and np.allclose(X[-1], B, atol=1e-12)
    assert np.allclose(X, R.bures_geodesic(A, B, ts), atol=1e-10)
    dAB = float(g.bures_distance(A, B))
    assert float(g.bures_distance(A, X[1])) == pytest.approx(0.25 * dAB, rel=1e-6)
    assert float(g.bures_distance(X[1], X[2])) == pytest.approx(0.25 * dAB, rel=1e-6)
    # singular endpoint: upstairs line, still constant speed, endpoints exact
    Asing = np.diag([1.0, 2.0, 0.0, 0.0])
    Y = g.bures_geodesic(Asing, B, ts)
    assert np.allclose(Y[0], Asing, atol=1e-13) and np.allclose(Y[-1], B, atol=1e-12)
    d2 = float(g.bures_distance(Asing, B))
    assert float(g.bures_distance(Y[2], B)) == pytest.approx(0.5 * d2, rel=1e-5)
    # Hamiltonian form (§8.4): Ẋ = XP + PX with P(t) = (I + tP_0)^{-1}P_0
    T = g.bures_transport_map(A, B)
    P0 = T - np.eye(4)
    t, h = 0.4, 1e-5
    dX = (g.bures_geodesic(A, B, t + h) - g.bures_geodesic(A, B, t - h)) / (2 * h)
    Pt = np.linalg.solve(np.eye(4) + t * P0, P0)
    Xt = g.bures_geodesic(A, B, t)
    assert np.allclose(dX, Xt @ Pt + Pt @ Xt, atol=1e-7)


@pytest.mark.parametrize("N", [None, 1, 2, 3, 7])
def test_dln_log_volume_matches_reference(rng, N):
    s = rng.random((3, 9)) * 4 + 0.01
    S, G = g.dln_log_volume(s, N, grad=True)
    Sr, Gr = R.dln_log_volume(s, N, grad=True)
    assert np.allclose(S, Sr, rtol=1e-12, atol=1e-12)
    assert np.allclose(G, Gr, rtol=1e-9, atol=1e-12)


def test_dln_log_volume_properties(rng):
    d = 6
    s = np.sort(rng.random(d) + 0.1)[::-1]
    # Vandermonde identity for S_∞ (small d)
    van = lambda x: sum(math.log(abs(x[i] - x[j])) for i in range(d) for j in range(i + 1, d))  # noqa: E731
    want = 0.5 * (van(s ** 2) - van(np.log(s ** 2)))
    assert g.dln_log_volume(s) == pytest.approx(want, rel=1e-12)
    # scaling laws
    a = 3.7
    C = d * (d - 1) / 2
    assert g.dln_log_volume(a * s) - g.dln_log_volume(s) == pytest.approx(C * math.log(a), rel=1e-12)
    assert g.dln_log_volume(a * s, 4) - g.dln_log_volume(s, 4) == pytest.approx(C * 0.75 * math.log(a), rel=1e-12)
    # λ/N → Λ at rate O(1/N)
    errs = [abs((g.dln_log_volume(s, N) - 0.5 * C * math.log(N)) - g.dln_log_volume(s)) for N in (100, 1000)]
    assert errs[1] < errs[0] / 5
    # gradient vs central differences
    for N in (None, 3):
        _, G = g.dln_log_volume(s, N, grad=True)
        for i in range(d):
            e = np.zeros(d)
            e[i] = 1e-6
            fd = (g.dln_log_volume(s + e, N) - g.dln_log_volume(s - e, N)) / 2e-6
            assert G[i] == pytest.approx(fd, rel=1e-6, abs=1e-6)
    # ties and near-ties: exact limits, the series and the direct form agree across |u| = 1e-2
    tie = np.full(4, 2.0)
    assert g.dln_log_volume(tie) == pytest.approx(0.5 * 6 * 2 * math.log(2.0), rel=1e-14)
    assert g.dln_log_volume(tie, 3) == pytest.approx(0.5 * 6 * (math.log(3) + (4 / 3) * math.log(2.0)), rel=1e-14)
    _, Gt = g.dln_log_volume(tie, grad=True)
    assert np.allclose(Gt, 3 / (2 * 2.0), rtol=1e-14)  # g(a, a) = 1/(2a)
    mpmath = pytest.importorskip("mpmath")
    mpmath.mp.dps = 40
    for u in (0.99e-2, 1.01e-2, 1e-7, -0.5e-2, 3.0):  # series below |u| = 1e-2, direct form above
        b = math.exp(-u)
        exact = 1 / (1 - mpmath.exp(-2 * mpmath.mpf(u))) - 1 / (2 * mpmath.mpf(u))  # a·g(a, b), a = 1
        got = g.dln_log_volume(np.array([1.0, b]), grad=True)[1][0]
        assert got == pytest.approx(float(exact), rel=1e-13)
    # zeros: S_∞ = −∞ with one zero; S_N = −∞ iff two vanish
    assert g.dln_log_volume([1.0, 0.0, 2.0]) == -np.inf
    assert np.isfinite(g.dln_log_volume([1.0, 0.0, 2.0], 2))
    assert g.dln_log_volume([1.0, 0.0, 0.0], 2) == -np.inf
    # N = 1: λ ≡ 1, so S ≡ 0 and ∂S/∂σ ≡ 0, also at a zero σ (math/depth.hpp log_volume_grad; the
    # per-pair sum there would be 0/0) and with two zeros
    for zs in ([1.0, 0.0, 2.0], [0.0, 0.0, 2.0]):
        S1, G1 = g.dln_log_volume(zs, 1, grad=True)
        assert S1 == 0.0 and np.array_equal(G1, np.zeros(3))
        S1r, G1r = R.dln_log_volume(zs, 1, grad=True)
        assert S1r == 0.0 and np.array_equal(G1r, np.zeros(3))
    # §8.7: the isotropic point σ* = ((d − 1)/(2β))^{1/p} is stationary for E_p − S_∞/β
    beta, p = 2.0, 3.0
    star = np.full(d, ((d - 1) / (2 * beta)) ** (1 / p))
    _, Gs = g.dln_log_volume(star, grad=True)
    assert np.allclose(star ** (p - 1) - Gs / beta, 0.0, atol=1e-13)
    # strict concavity of S_∞: a random chord lies below the function
    t1, t2 = s, s * np.exp(rng.standard_normal(d) * 0.1)
    mid = g.dln_log_volume(0.5 * (t1 + t2))
    assert mid > 0.5 * (g.dln_log_volume(t1) + g.dln_log_volume(t2))


# ------------------------------------------------------------------------------------------
# §8.2 balancedness, §8.3 the DLN metric operator, §8.6 effective rank


def _balanced(rng, sig, N):
    """W_p = Q_{p+1} Σ^{1/N} Q_pᵀ with Haar Q's: a balanced factorisation of X = Q_{N+1} Σ Q_1ᵀ."""
    n = len(sig)
    Qs = [np.linalg.qr(rng.standard_normal((n, n)))[0] for _ in range(N + 1)]
    root = np.diag(np.asarray(sig) ** (1.0 / N))
    return np.stack([Qs[p + 1] @ root @ Qs[p].T for p in range(N)])


def test_balancedness_ratio(rng):
    """β_bal = 1 on balanced factors — also with σ_n/σ_1 = 1e-40 at N = 40, where σ_n^{2/N} = 0.01
    matters and only the §4.3(b) logs resolve it; > 1 on random factors; scale invariant;
    +∞ for X = 0 with W ≠ 0. Tolerance 1e-12: each factor is rounded to ~u, N of them."""
    for sig, N in (([3.0, 1.0, 0.5], 3), ([1.0, 1e-10, 1e-25, 1e-40], 40)):
        W = _balanced(rng, sig, N)
        b = g.balancedness_ratio(W)
        assert abs(b - 1.0) < 1e-12 and abs(R.balancedness_ratio(W) - 1.0) < 1e-12
    # the rescaled logs would give β far from 1 here: σ_4 read as ~1e-16 instead of 1e-40
    ls = g.prefix_log_svdvals(W, depths=[N], method="rescaled").log_s[0]
    wrong = np.exp(2 * np.log(np.linalg.norm(W, axis=(1, 2))).max()) * N / (N * np.exp(2 / N * ls).sum())
    assert abs(wrong - 1.0) > 1e-3
    Wr = rng.standard_normal((2, 4, 5, 5))
    br = g.balancedness_ratio(Wr)
    assert br.shape == (2,) and (br > 1.05).all()
    assert np.allclose(br, R.balancedness_ratio(Wr), rtol=1e-12)
    assert np.allclose(g.balancedness_ratio(Wr * 1e150), br, rtol=1e-12)
    e1, e2 = np.diag([1.0, 0.0]), np.diag([0.0, 1.0])
    assert g.balancedness_ratio([e1, e2]) == np.inf
    assert np.isnan(g.balancedness_ratio(np.zeros((2, 2, 2))))
    f = [rng.standard_normal((6, 4)), rng.standard_normal((3, 6))]
    assert np.allclose(g.balancedness_ratio(f), R.balancedness_ratio(f), rtol=1e-12)


def test_dln_eigenvalues_literal_sum_ties_zeros(rng):
    """Stable λ_kl against the literal N-term sum (reference, 1e-13 relative: ~N roundings of
    positive terms), the tie and zero limits exactly, near-ties against mpmath."""
    mp = pytest.importorskip("mpmath")
    s = np.array([[2.5, 1.0, 1.0, 0.3, 0.0], [1e3, 1e-3, 7.0, 7.0, 2.0]])
    for N in (1, 2, 3, 7, 50, None):
        lam = g.dln_eigenvalues(s, N)
        ref = R.dln_eigenvalues(s, N)
        assert lam.shape == (2, 5, 5) and np.allclose(lam, np.swapaxes(lam, -1, -2), rtol=1e-15, atol=0)
        assert np.allclose(lam, ref, rtol=1e-13, atol=0)
    a = 1.7
    assert g.dln_eigenvalues([a, a], 5)[0, 1] == pytest.approx(5 * a ** 1.6, rel=1e-15)
    assert g.dln_eigenvalues([a, 0.0], 5)[0, 1] == pytest.approx(a ** 1.6, rel=1e-15)
    assert g.dln_eigenvalues([0.0, 0.0], 5)[0, 1] == 0.0 and g.dln_eigenvalues([0.0, 0.0], 1)[0, 1] == 1.0
    assert g.dln_eigenvalues([a, a])[0, 1] == pytest.approx(a * a, rel=1e-15)
    assert g.dln_eigenvalues([a, 0.0])[0, 1] == 0.0
    mp.mp.dps = 50
    # across the kernel's switch between the direct ratio (t^{2/N} ≤ ½) and the expm1 form
    for b in np.r_[np.linspace(0.02, 0.98, 49), 0.5 ** 1.5, 0.5 ** 0.5, 1.0 + 1e-12, 1.0 + 1e-7, 1e-200]:
        for N in (3, None):
            x, y = mp.mpf(1.0), mp.mpf(b)
            if N is None:
                ex = (x ** 2 - y ** 2) / (mp.log(x ** 2) - mp.log(y ** 2))
            else:
                ex = (x ** 2 - y ** 2) / (x ** (mp.mpf(2) / N) - y ** (mp.mpf(2) / N))
            assert g.dln_eigenvalues([1.0, b], N)[0, 1] == pytest.approx(float(ex), rel=1e-14)


def test_dln_eigenvalues_converge_like_one_over_n():
    """λ/N → Λ at rate O(1/N): the error halves when N doubles (ratio within 5% of 2)."""
    s = np.array([3.0, 1.2, 0.4])
    Lam = g.dln_eigenvalues(s)
    errs = [np.abs(g.dln_eigenvalues(s, N) / N - Lam).max() for N in (100, 200, 400)]
    assert errs[0] < 0.1 * Lam.max()
    assert abs(errs[0] / errs[1] - 2.0) < 0.1 and abs(errs[1] / errs[2] - 2.0) < 0.1


def test_dln_operator_and_metric_norm(rng):
    """𝒜 against the explicit sum of matrix powers (reference, 1e-12 relative: eigh powers of
    XXᵀ lose ~κ·u); 𝒜^{-1}(𝒜(Z)) = Z; ‖Z‖² = ⟨Z, 𝒜^{-1}Z⟩; N = 1 is the identity; rank-deficient X:
    +∞ norm and a ValueError for the inverse."""
    X = rng.standard_normal((2, 4, 3))
    Z = rng.standard_normal((2, 4, 3))
    Xs = rng.standard_normal((4, 4))
    for N in (1, 2, 5, None):
        for x, z in ((X, Z), (Xs, Z[0, :, :1] @ np.ones((1, 4)))):
            A = g.dln_operator(x, z, N)
            assert np.allclose(A, R.dln_operator(x, z, N), rtol=0, atol=1e-12 * np.abs(A).max())
            if N is None and x.shape[-1] != x.shape[-2]:
                continue
            back = g.dln_operator(x, A, N, inverse=True)
            assert np.allclose(back, z, atol=1e-10 * np.abs(z).max())
            inv = g.dln_operator(x, z, N, inverse=True)
            assert np.allclose(inv, R.dln_operator(x, z, N, inverse=True), atol=1e-10 * np.abs(inv).max())
            nrm = g.dln_metric_norm(x, z, N)
            assert np.allclose(nrm ** 2, (z * inv).sum(axis=(-2, -1)), rtol=1e-10)
            assert np.allclose(nrm, R.dln_metric_norm(x, z, N), rtol=1e-12)
    assert np.allclose(g.dln_operator(X, Z, 1), Z, atol=1e-14)
    sing = np.diag([2.0, 1.0, 0.0])
    assert g.dln_metric_norm(sing, np.ones((3, 3)), 3) == np.inf
    assert g.dln_metric_norm(sing, np.diag([1.0, 1.0, 0.0]), 3) == pytest.approx(
        math.sqrt(1 / (3 * 2 ** (4 / 3)) + 1 / 3), rel=1e-14)
    with pytest.raises(ValueError, match="full rank"):
        g.dln_operator(sing, np.ones((3, 3)), 3, inverse=True)
    with pytest.raises(ValueError):
        g.dln_operator(X, np.ones((4, 4)), 2)


def test_effective_rank(rng):
    """Roy–Vetterli erank against the direct q log q reference (1e-13 relative), r equal
    nonzero values give r, rank one gives 1, scale invariance over 600 decades, X = 0 → NaN,
    float32, strided and ragged input."""
    S = np.sort(np.abs(rng.standard_normal((3, 4, 20))), axis=-1)[..., ::-1]
    e = g.effective_rank(S)
    assert e.shape == (3, 4) and np.allclose(e, R.effective_rank(S), rtol=1e-13)
    assert ((e >= 1) & (e <= 20)).all()
    assert g.effective_rank([2.0, 2.0, 2.0, 0.0]) == pytest.approx(3.0, rel=1e-15)
    assert g.effective_rank([5.0, 0.0, 0.0]) == 1.0
    assert np.allclose(g.effective_rank(S[0] * 1e300), e[0], rtol=1e-14)
    assert np.allclose(g.effective_rank(S[0] * 1e-300), e[0], rtol=1e-14)
    assert np.isnan(g.effective_rank(np.zeros((2, 5)))).all()
    assert np.allclose(g.effective_rank(S.astype(np.float32)), R.effective_rank(S.astype(np.float32)), rtol=1e-12)
    assert np.allclose(g.effective_rank(S[..., ::2]), R.effective_rank(np.ascontiguousarray(S[..., ::2])), rtol=1e-13)
    rg = g.RaggedSpectra(np.array([3.0, 1.0, 1.0, 2.0, 2.0]), np.array([0, 3, 5]))
    assert np.allclose(g.effective_rank(rg), R.effective_rank(rg), rtol=1e-14)
    assert g.effective_rank(rg)[1] == pytest.approx(2.0, rel=1e-15)
    with pytest.raises(ValueError):
        g.effective_rank([1.0, -1.0])
    with pytest.raises(ValueError):
        g.effective_rank([1.0, np.nan])


# ------------------------------------------------------------------------------------------
# bad input


@pytest.mark.parametrize("call,exc", [
    (lambda: g.chain_log_spectrum(np.ones((3, 4, 4)), 5), ValueError),  # k > width
    (lambda: g.chain_log_spectrum([np.ones((4, 3)), np.ones((4, 5))], 2), ValueError),  # shapes
    (lambda: g.chain_log_spectrum(np.ones((3, 4, 4), dtype=np.int32), 2), TypeError),
    (lambda: g.chain_log_spectrum(np.ones((3, 4, 4)), 2, panel="float32"), ValueError),
    (lambda: g.chain_log_spectrum(np.full((3, 4, 4), np.nan), 2), ValueError),
    (lambda: g.chain_log_spectrum(np.ones((3, 4, 4)), 2, gates=np.ones((3, 5))), ValueError),
    (lambda: g.chain_log_spectrum(np.ones((4, 4)), 2), ValueError),
    (lambda: g.chain_log_spectrum(np.ones((3, 4, 4)), 0), ValueError),
    (lambda: g.prefix_log_svdvals(np.ones((3, 4, 4)), depths=[0]), ValueError),
    (lambda: g.random_lyapunov(10, p=0.0), ValueError),
    (lambda: g.random_lyapunov(10, p=1.5), ValueError),
    (lambda: g.random_lyapunov(10, p="a"), TypeError),
    (lambda: g.random_lyapunov(10, r=11), ValueError),
    (lambda: g.random_lyapunov(10, sigma=-1.0), ValueError),
    (lambda: g.gated_rank_law(10, 3, 0.0), ValueError),
    (lambda: g.gated_rank_law(10, 3, 0.5, model="X"), ValueError),
    (lambda: g.separation_ratios([0.0, np.inf]), ValueError),
    (lambda: g.depth_scaling_fit(np.zeros(5)), ValueError),
    (lambda: g.subspace_alignment(np.ones((4, 3)), np.ones((5, 3)), 2), ValueError),
    (lambda: g.subspace_alignment(np.ones((4, 3)), np.ones((4, 3)), 4), ValueError),
    (lambda: g.subspace_alignment(np.ones((4, 3)), np.ones((4, 3)), 2, side_a="up"), ValueError),
    (lambda: g.bures_transport_map(np.diag([1.0, 0.0]), np.eye(2)), ValueError),  # singular A
    (lambda: g.bures_transport_map(np.array([[1.0, 2.0], [0.0, 1.0]]), np.eye(2)), ValueError),
    (lambda: g.bures_geodesic(np.eye(2), -np.eye(2), 0.5), ValueError),
    (lambda: g.bures_geodesic(np.eye(2), np.eye(2), 1.5), ValueError),
    (lambda: g.dln_log_volume([1.0, -1.0]), ValueError),
    (lambda: g.dln_log_volume([1.0, 2.0], N=0), ValueError),
])
def test_bad_input(call, exc):
    with pytest.raises(exc):
        call()


def test_reference_twins_reject_like_fast():
    for mod in (g, R):
        with pytest.raises(ValueError, match="k must be"):
            mod.chain_log_spectrum(np.ones((3, 4, 4)), 5)
        with pytest.raises(ValueError, match="p must be"):
            mod.random_lyapunov(10, p=0.0)


@pytest.mark.parametrize("call", [
    lambda t: g.chain_log_spectrum(np.ones((2, 3, 3)), 2, threads=t),
    lambda t: g.subspace_alignment(np.eye(3), np.eye(3), 2, threads=t),
    lambda t: g.dln_log_volume([2.0, 1.0], threads=t),
    lambda t: g.esd_powerlaw_fit(np.arange(1.0, 40.0), threads=t),
])
def test_threads_share_the_one_limit(call):
    """threads= goes through _validate.as_threads everywhere: 1..4096, refused before C++."""
    for bad in (0, 2**40):
        with pytest.raises(ValueError, match=r"\(\): threads must be"):
            call(bad)
    call(1)


# ---- chain_log_spectrum on the device (python/gsa_fast/_gpu_depth.py) -------------------------
# Tolerance: both routes run float64 arithmetic on the same float32/float64 factors; their QRs
# (cuSOLVER/numpy Householder against the kernel's CholeskyQR2) give |R_jj| that differ by a few
# ulps per step, so the cumulative logs agree to ~L·k·u·(growth) — 1e-11 absolute here (L ≤ 12).

def _scan_chains(rng, dtype):
    A = [rng.standard_normal((40, 40)).astype(dtype) for _ in range(6)]
    B = [rng.standard_normal((30, 40)), rng.standard_normal((35, 30)), rng.standard_normal((33, 35))]
    low = rng.standard_normal((40, 40))
    low[3:] = 0  # exactly rank 3 (zero rows): |R_jj| = 0 for j ≥ 3, flagged from layer 2 on
    C = [rng.standard_normal((40, 40)), low, rng.standard_normal((40, 40))]
    return A, [b.astype(dtype) for b in B], [c.astype(dtype) for c in C]


def test_chain_log_spectrum_on_device(device, rng):
    A, B, C = _scan_chains(rng, np.float32)
    for chain, k in ((A, 8), (B, 5), (C, 6)):
        got = g.chain_log_spectrum([device.asarray(m) for m in chain], k)
        assert device.is_native(got) and got.shape == (len(chain), k)
        want = g.chain_log_spectrum(chain, k)
        got = device.asnumpy(got)
        np.testing.assert_array_equal(np.isneginf(got), np.isneginf(want))
        ok = np.isfinite(want)
        np.testing.assert_allclose(got[ok], want[ok], rtol=0, atol=1e-11)
    stack = np.stack(A).reshape(2, 3, 40, 40)
    gates = (rng.random((2, 3, 40)) < 0.8).astype(np.uint8)
    got = device.asnumpy(g.chain_log_spectrum(device.asarray(stack), 4, gates=device.asarray(gates)))
    want = g.chain_log_spectrum(stack, 4, gates=gates)
    np.testing.assert_array_equal(np.isneginf(got), np.isneginf(want))
    np.testing.assert_allclose(got[np.isfinite(want)], want[np.isfinite(want)], rtol=0, atol=1e-11)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_device_scan_on_numpy_matches_the_kernel(rng, dtype, monkeypatch):
    # the device route's scan (written against an array namespace) run with numpy; small tiles
    # so that the float32 widening loops over several row tiles
    from gsa_fast import _gpu_depth as gd
    from gsa_fast._depth_common import default_tau

    from gsa_fast import _gpu_margins as gm

    monkeypatch.setattr(gm, "_TILE_BYTES", 8 * 40 * 7)  # the widening shared with _gpu_margins
    A, B, C = _scan_chains(rng, dtype)
    gates = [(rng.random(m.shape[0]) < 0.9).astype(np.uint8) for m in A]
    gates[3][:] = 0  # gate rank 6 < k = 8 (rows scattered): columns 6, 7 are −∞ from layer 4 on
    gates[3][rng.choice(40, 6, replace=False)] = 1
    for chain, k, gl in ((A, 8, None), (B, 5, None), (C, 6, None), (A, 8, gates)):
        tau = default_tau(max([chain[0].shape[1]] + [m.shape[0] for m in chain]), "float64")
        l, got = gd.scan_chain(np, chain, gl, k, tau, "float64")
        assert l == len(chain)
        want = g.chain_log_spectrum(chain, k, gates=gl)
        np.testing.assert_array_equal(np.isneginf(got), np.isneginf(want))
        ok = np.isfinite(want)
        np.testing.assert_allclose(got[ok], want[ok], rtol=0, atol=1e-11)
    # with tau = 0 only the gate rule flags columns 6, 7 (the rounding left in them is ~1e-14)
    _, got0 = gd.scan_chain(np, A, gates, 8, 0.0, "float64")
    assert np.isneginf(got0[3:, 6:]).all() and np.isfinite(got0[3:, :6]).all()
    np.testing.assert_array_equal(np.isneginf(got0), np.isneginf(g.chain_log_spectrum(A, 8, gates=gates, tau=0.0)))
    bad = [m.copy() for m in A]
    bad[2][1, 1] = np.inf
    assert gd.scan_chain(np, bad, None, 8, 1e-12, "float64") == (2, None)
    if dtype == np.float32:  # float32 panel: float32 GEMM, float64 QR, as on the CPU (~1e-5)
        l, got = gd.scan_chain(np, A, None, 8, default_tau(40, "float32"), "float32")
        np.testing.assert_allclose(got, g.chain_log_spectrum(A, 8, panel="float32"), rtol=0, atol=1e-4)


# ---- the depth family's matrix functions on the device (python/gsa_fast/_gpu_depth_matrix.py) --
# The routes are written against an array namespace. Without a GPU they run here whole with numpy
# standing in for cupy (sys.modules["cupy"] = numpy) on "device" operands: ndarray views exposing
# __cuda_array_interface__, which is all the device checks look at. So every line of a route, its
# argument checks included, runs against the compiled CPU route and the reference twin.
# Tolerances:
# - rescaled (§4.3a): the two routes form the same products with different BLAS calls (numpy's
#   matmul vs the kernel's dgemm; widening tiles for float32), so they differ by ~ℓ·n·u·s_1 in
#   s_i: 10·ℓ·n·u·s_1/s_i + 1e-12 absolute in log s_i (the bound of the (a)-vs-(b) test above).
# - graded (§4.3b): both are relatively accurate, with the same QR (LAPACK Householder, here
#   numpy's) and the same compiled block-Jacobi step: 1e-10 absolute in log s (measured ~1e-13);
#   the 250-digit chain of test_graded_matches_high_precision_product again to 1e-11.
# - alignment: the same LAPACK SVDs on float64 copies: 1e-12 on R, angles, ρ (measured ~1e-15).
# - balancedness: log σ to 1e-10 and the numerator to ~u: 1e-12 relative on β.

class _Dev(np.ndarray):
    """A numpy array posing as a device array (what _gpu_margins.device_float checks for)."""

    @property
    def __cuda_array_interface__(self):
        return {}


def _dev(a):
    return a.view(_Dev) if isinstance(a, np.ndarray) else [_dev(m) for m in a]


@pytest.fixture
def numpy_as_cupy(monkeypatch):
    import sys

    from gsa_fast import _gpu_depth_matrix as gm

    monkeypatch.setitem(sys.modules, "cupy", np)
    return gm


def _rescaled_ok(got, want, d, n):
    """(a)'s error bound 10·ℓ·n·u·s_1/s_i + 1e-12 where want is finite; identical −∞ elsewhere."""
    np.testing.assert_array_equal(np.isneginf(got), np.isneginf(want))
    fin = np.isfinite(want)
    with np.errstate(invalid="ignore"):
        rel = np.where(fin, want - want[..., :1], 0.0)
    bound = 10 * np.asarray(d)[:, None] * n * 2.0 ** -53 * np.exp(-rel) + 1e-12
    assert (np.abs(got[fin] - want[fin]) <= bound[fin]).all()


def test_device_prefix_on_numpy_matches_the_kernel(numpy_as_cupy, rng, monkeypatch):
    gm = numpy_as_cupy
    from gsa_fast import _gpu_margins

    n, L = 10, 12
    A = rng.standard_normal((2, L, n, n)) / math.sqrt(n)
    G = _graded_chain(rng, 4, 40, 1.5)  # s_4/s_1 ≈ 1e-60 at depth 40: (a) cannot resolve it
    f = [rng.standard_normal((7, 5)), rng.standard_normal((3, 7)), rng.standard_normal((6, 3))]
    Rk = rng.standard_normal((5, 6, 6))
    Rk[2, 2:] = 0.0  # rank 2 from depth 3 on
    Z = A[0].copy()
    Z[5] = 0.0  # a zero factor
    big = rng.standard_normal((4, 5, 5))
    big[2] = 1e308 * np.sign(big[2])  # the product overflows at depth 3: NaN from there on, and
    # 'graded'/'auto' fall back to the rescaled values (the shared rule, prefix_route)
    cases = [(A, None, None), (A[0] * 1e200, [L], 2), (G, [1, 10, 40], None), (f, None, 3),
             (Rk, [2, 3, 5], None), (Z, [4, 6, 12], None), (big, None, None)]
    assert np.isnan(g.prefix_log_svdvals(big).log_s[2:]).all()
    for chain, depths, k in cases:
        for method in ("rescaled", "graded", "auto"):
            got = gm.prefix_log_svdvals(_dev(chain), depths, k, method=method)
            want = g.prefix_log_svdvals(chain, depths, k, method=method)
            np.testing.assert_array_equal(got.depths, want.depths)
            np.testing.assert_array_equal(got.graded, want.graded)
            np.testing.assert_array_equal(got.resolved, want.resolved)
            np.testing.assert_array_equal(np.isneginf(got.log_s), np.isneginf(want.log_s))
            np.testing.assert_array_equal(np.isnan(got.log_s), np.isnan(want.log_s))
            fin = np.isfinite(want.log_s)
            if want.graded.all():
                assert np.abs(got.log_s[fin] - want.log_s[fin]).max(initial=0.0) < 1e-10
            elif not want.graded.any():
                nmax = max([np.shape(chain[0])[-1]] + [np.shape(m)[-2] for m in chain]) if isinstance(chain, list) \
                    else max(chain.shape[-1], chain.shape[-2])
                _rescaled_ok(got.log_s, want.log_s, want.depths, nmax)
    # float32 factors, widened by row tiles on the "device" (several tiles per factor)
    monkeypatch.setattr(_gpu_margins, "_TILE_BYTES", 8 * 10 * 3)
    A32 = A[1].astype(np.float32)
    for method in ("rescaled", "graded"):
        got = gm.prefix_log_svdvals(_dev(A32), method=method)
        want = g.prefix_log_svdvals(A32, method=method)
        np.testing.assert_array_equal(got.resolved, want.resolved)
        if method == "graded":
            assert np.abs(got.log_s - want.log_s).max() < 1e-10
        else:
            _rescaled_ok(got.log_s, want.log_s, want.depths, n)
    # against the reference twin (numpy QR scan + Hestenes Jacobi) on the graded chain
    ref = R.prefix_log_svdvals(G, depths=[1, 10, 40], method="graded")
    got = gm.prefix_log_svdvals(_dev(G), [1, 10, 40], method="graded")
    assert np.abs(got.log_s - ref.log_s).max() < 1e-10 and np.array_equal(got.resolved, ref.resolved)


def test_device_graded_beyond_the_float_range_and_flags(numpy_as_cupy, rng):
    """The telescoping chain of test_graded_beyond_the_float_range (exact log s_i = −step·i·L, down
    to −1800) and the ill-conditioned chain of test_graded_flags_ill_conditioned_factors (resolved
    must be False: the route's exact κ₁ is at least the kernel's dtrcon estimate)."""
    gm = numpy_as_cupy
    r7 = np.random.default_rng(7)
    n, step, L = 20, 0.35, 100
    Qs = [np.linalg.qr(r7.standard_normal((n, n)))[0] for _ in range(L + 1)]
    D = np.diag(np.exp(-step * np.arange(n)))
    A = np.stack([Qs[l + 1] @ D @ Qs[l].T for l in range(L)])
    out = gm.prefix_log_svdvals(_dev(A), [L // 2, L], method="graded")
    exact = -step * np.arange(n)[None, :] * np.array([L // 2, L])[:, None]
    assert np.abs(out.log_s - exact).max() < 1e-8 and out.resolved.all()
    B = _graded_chain(rng, 8, 10, 3.0)
    assert not gm.prefix_log_svdvals(_dev(B), [10], method="graded").resolved.any()
    assert not g.prefix_log_svdvals(B, [10], method="graded").resolved.any()


def test_prefix_method_rule_falls_back_from_nan_grading():
    """The shared §4.3 rule (prefix_route): 'auto' takes (b) for the chains (a) leaves unresolved,
    and a chain whose (b) came out NaN goes back to (a)."""
    from gsa_fast._gpu_depth_matrix import prefix_route

    calls = []

    def run(idx, graded):
        calls.append((list(idx), graded))
        out = np.full((len(idx), 1, 2), 2.0 if graded else 1.0)
        res = np.ones(out.shape, dtype=bool)
        if not graded:
            res[np.isin(idx, [1, 2])] = False  # chains 1 and 2 unresolved by (a)
        elif 2 in idx:
            out[list(idx).index(2)] = np.nan  # (b) overflows on chain 2
        return out, res

    out, res, use_g = prefix_route(np, run, 4, "auto")
    assert calls == [([0, 1, 2, 3], False), ([1, 2], True), ([2], False)]
    assert use_g.tolist() == [False, True, False, False]
    assert out[:, 0, 0].tolist() == [1.0, 2.0, 1.0, 1.0] and not res[2].any()


def test_device_alignment_on_numpy_matches_the_kernel(numpy_as_cupy, rng):
    gm = numpy_as_cupy
    k = 4
    th = np.array([1e-9, 1e-4, 0.3, 1.2])
    UA, UB = _rot(k, th)
    sv = np.array([8.0, 4.0, 2.0, 1.0])
    A = (UA * sv) @ np.linalg.qr(rng.standard_normal((6, k)))[0].T
    B = (UB * sv * -1) @ np.linalg.qr(rng.standard_normal((5, k)))[0].T
    W = rng.standard_normal((5, 12, 12)).astype(np.float32)
    for a, b, kk, sa in ((A, B, k, "left"), (W[1:], W[:-1], 3, "right"), (W[0], W, 2, "left"),
                         (W[:2], W[:2].astype(np.float64), 1, "left")):
        got = gm.subspace_alignment(_dev(a), _dev(b), kk, side_a=sa)
        want = g.subspace_alignment(a, b, kk, side_a=sa)
        for x, y in zip(got, want):
            assert np.shape(x) == np.shape(y)
            np.testing.assert_allclose(np.abs(x), np.abs(y), rtol=0, atol=1e-12)
        np.testing.assert_array_equal(np.isnan(got.rho), np.isnan(want.rho))  # k = 1: NaN
    assert np.allclose(gm.subspace_alignment(_dev(A), _dev(B), k).angles, th, rtol=1e-7, atol=1e-12)
    # ρ of the vectorized diag_correlation against the raw-moment form of the reference
    from gsa_fast.reference.depth import _rho_raw

    Ms = rng.standard_normal((6, 5, 5))
    Ms[1] = np.eye(5)
    Ms[2] = np.eye(5)[::-1]
    rho = gm.diag_correlation(np, Ms)
    assert np.allclose(rho, [_rho_raw(m) for m in Ms], atol=1e-12)
    assert rho[1] == pytest.approx(1.0) and rho[2] == pytest.approx(-1.0)


def test_device_balancedness_and_imbalance_on_numpy(numpy_as_cupy, rng):
    gm = numpy_as_cupy
    sig, N = [1.0, 1e-10, 1e-25, 1e-40], 40
    Wb = _balanced(rng, sig, N)
    assert abs(float(gm.balancedness_ratio(_dev(Wb))) - 1.0) < 1e-12
    Wr = rng.standard_normal((2, 4, 5, 5))
    np.testing.assert_allclose(gm.balancedness_ratio(_dev(Wr)), g.balancedness_ratio(Wr), rtol=1e-12)
    np.testing.assert_allclose(gm.balancedness_ratio(_dev(Wr * 1e150)), g.balancedness_ratio(Wr), rtol=1e-12)
    e1, e2 = np.diag([1.0, 0.0]), np.diag([0.0, 1.0])
    assert float(gm.balancedness_ratio(_dev([e1, e2]))) == np.inf
    assert np.isnan(gm.balancedness_ratio(_dev(np.zeros((2, 2, 2)))))
    W = (rng.standard_normal((3, 4, 30, 30)) / math.sqrt(30)).astype(np.float32)
    np.testing.assert_allclose(gm.relative_imbalance(_dev(W)), R.relative_imbalance(W), rtol=1e-12)
    rect = [rng.standard_normal((7, 4)), rng.standard_normal((3, 7))]
    np.testing.assert_allclose(gm.relative_imbalance(_dev(rect)), R.relative_imbalance(rect), rtol=1e-12)
    assert np.isnan(gm.relative_imbalance(_dev([np.zeros((3, 3)), np.eye(3)])))[0]


def test_device_bures_maps_on_numpy(numpy_as_cupy, rng):
    """The device routes of the transport map and the geodesic against the reference twin (the
    sqrtm route and the upstairs line), 1e-10 as in the CPU tests above."""
    gm = numpy_as_cupy
    A, B = _spd(rng, 5), _spd(rng, 5, 100.0)
    T = gm.bures_transport_map(_dev(A), _dev(B))
    assert np.allclose(T @ A @ T, B, atol=1e-12) and np.allclose(T, R.bures_transport_map(A, B), atol=1e-10)
    stack = gm.bures_transport_map(_dev(np.stack([A, B])), _dev(np.stack([B, A])))
    assert np.allclose(stack[1] @ B @ stack[1], A, atol=1e-12)
    ts = np.array([0.0, 0.25, 0.5, 1.0])
    Asing = np.diag([1.0, 2.0, 0.0, 0.0, 3.0])
    for a in (A, Asing):
        X = gm.bures_geodesic(_dev(a), _dev(B), _dev(ts))
        assert np.allclose(X, R.bures_geodesic(a, B, ts), atol=1e-10)
        assert np.allclose(gm.bures_geodesic(_dev(a), _dev(B), 0.25), X[1], atol=1e-14)


# Bad input: the device route raises the CPU route's error (same type, same message) before any
# computation. Each case is (function name, args, kwargs) on host operands; the device route gets
# the same operands as "device" arrays.
_BAD = [
    ("prefix_log_svdvals", (np.ones((3, 4, 4)),), dict(depths=[0])),
    ("prefix_log_svdvals", (np.ones((3, 4, 4)),), dict(k=5)),
    ("prefix_log_svdvals", (np.ones((3, 4, 4)),), dict(method="qr")),
    ("prefix_log_svdvals", (np.full((3, 4, 4), np.nan),), {}),
    ("prefix_log_svdvals", (np.ones((3, 4, 4), dtype=np.int32),), {}),
    ("prefix_log_svdvals", ([np.ones((4, 3)), np.ones((4, 5))],), {}),
    ("prefix_log_svdvals", (np.ones((4, 4)),), {}),
    ("prefix_log_svdvals", (np.ones((3, 4, 4)),), dict(threads="x")),  # checked, though unused there
    ("balancedness_ratio", (np.ones((3, 4, 4)),), dict(threads=0.5)),
    ("subspace_alignment", (np.ones((4, 3)), np.ones((4, 3)), 2), dict(threads="x")),
    ("balancedness_ratio", ([np.ones((2, 2)), np.ones((3, 3))],), {}),
    ("balancedness_ratio", ([np.ones((2, 2)), np.full((2, 2), np.inf)],), {}),
    ("relative_imbalance", ([np.ones((2, 2)), np.ones((2, 2), dtype=np.float32)],), {}),
    ("relative_imbalance", (np.full((3, 2, 2), np.nan),), {}),
    ("relative_imbalance", (np.where(np.arange(2 * 3)[:, None, None].reshape(2, 3, 1, 1) == 4, np.nan,
                                     np.ones((2, 3, 2, 2))),), {}),  # chain 1, factor 1
    ("subspace_alignment", (np.ones((4, 3)), np.ones((5, 3)), 2), {}),
    ("subspace_alignment", (np.ones((4, 3)), np.ones((4, 3)), 4), {}),
    ("subspace_alignment", (np.ones((4, 3)), np.ones((4, 3)), 2), dict(side_a="up")),
    ("subspace_alignment", (np.ones((2, 4, 3)), np.ones((3, 4, 3)), 2), {}),
    ("subspace_alignment", (np.ones((4, 3)), np.full((2, 4, 3), np.nan), 2), {}),
    ("subspace_alignment", (np.ones(3), np.ones((4, 3)), 1), {}),
    ("bures_transport_map", (np.diag([1.0, 0.0]), np.eye(2)), {}),
    ("bures_transport_map", (np.array([[1.0, 2.0], [0.0, 1.0]]), np.eye(2)), {}),
    ("bures_transport_map", (np.eye(2), np.eye(3)), {}),
    ("bures_transport_map", (np.eye(2), np.full((2, 2), np.nan)), {}),
    ("bures_transport_map", (np.eye(2), -np.eye(2)), {}),
    ("bures_geodesic", (np.eye(2), -np.eye(2), 0.5), {}),
    ("bures_geodesic", (np.eye(2), np.eye(2), 1.5), {}),
    ("bures_geodesic", (np.eye(2), np.eye(2), np.zeros((2, 2))), {}),
    ("bures_geodesic", (np.ones((2, 3)), np.eye(2), 0.5), {}),
]


@pytest.mark.parametrize("name,args,kwargs", _BAD)
def test_device_routes_raise_the_cpu_errors(numpy_as_cupy, name, args, kwargs):
    gm = numpy_as_cupy
    with pytest.raises((TypeError, ValueError)) as cpu:
        getattr(g, name)(*args, **kwargs)
    dev_args = [_dev(a) if isinstance(a, (np.ndarray, list)) else a for a in args]
    with pytest.raises(type(cpu.value)) as dev:
        getattr(gm, name)(*dev_args, **kwargs)
    assert str(dev.value) == str(cpu.value)


def test_nonfinite_factor_is_named_by_its_place_in_its_chain(numpy_as_cupy):
    """The finiteness verdicts of a batch of chains are read in one transfer on the device
    (_check_finite_chain); the message still names the first bad factor's index in its chain."""
    W = np.ones((3, 4, 2, 2))
    W[1, 2, 0, 0] = np.nan  # chain 1, factor 2 (flat factor 6)
    W[2, 0, 1, 1] = np.inf  # a later chain: not the first
    for fn in (g.relative_imbalance, numpy_as_cupy.relative_imbalance):
        with pytest.raises(ValueError, match="non-finite values in factor 2$"):
            fn(W if fn is g.relative_imbalance else _dev(W))


def test_depth_matrix_functions_on_device(device, rng):
    """cupy in → cupy out for every matrix function of the family, against the CPU route (on the
    cpu side the same calls check that numpy stays numpy). Tolerances as in the section above."""
    n, L = 10, 8
    A = rng.standard_normal((2, L, n, n)) / math.sqrt(n)
    G = _graded_chain(rng, 4, 40, 1.5)
    for chain, method in ((A, "rescaled"), (G, "graded"), (G, "auto"), (A.astype(np.float32), "auto")):
        got = g.prefix_log_svdvals(device.asarray(chain), method=method)
        want = g.prefix_log_svdvals(chain, method=method)
        assert device.is_native(got.log_s) and device.is_native(got.resolved) and device.is_native(got.graded)
        ls = device.asnumpy(got.log_s)
        np.testing.assert_array_equal(device.asnumpy(got.resolved), want.resolved)
        np.testing.assert_array_equal(device.asnumpy(got.graded), want.graded)
        if want.graded.all():
            assert np.abs(ls - want.log_s).max() < 1e-10
        else:
            _rescaled_ok(ls, want.log_s, want.depths, n)
    b = g.balancedness_ratio(device.asarray(A))
    assert device.is_native(b)
    np.testing.assert_allclose(device.asnumpy(b), g.balancedness_ratio(A), rtol=1e-12)
    W = rng.standard_normal((5, 12, 12)).astype(np.float32)
    al = g.subspace_alignment(device.asarray(W[1:]), device.asarray(W[:-1]), 3, side_a="right")
    want = g.subspace_alignment(W[1:], W[:-1], 3, side_a="right")
    for x, y in zip(al, want):
        assert device.is_native(x)
        np.testing.assert_allclose(np.abs(device.asnumpy(x)), np.abs(y), rtol=0, atol=1e-12)
    iota = g.relative_imbalance(device.asarray(W))
    assert device.is_native(iota)
    np.testing.assert_allclose(device.asnumpy(iota), R.relative_imbalance(W), rtol=1e-12)
    P, Q = _spd(rng, 5), _spd(rng, 5, 100.0)
    T = g.bures_transport_map(device.asarray(P), device.asarray(Q))
    assert device.is_native(T)
    np.testing.assert_allclose(device.asnumpy(T), R.bures_transport_map(P, Q), rtol=0, atol=1e-10)
    ts = np.array([0.0, 0.5, 1.0])
    X = g.bures_geodesic(device.asarray(P), device.asarray(Q), device.asarray(ts))
    assert device.is_native(X)
    np.testing.assert_allclose(device.asnumpy(X), R.bures_geodesic(P, Q, ts), rtol=0, atol=1e-10)
    if device.name == "cuda":  # host and device operands mixed: the one TypeError
        with pytest.raises(TypeError, match="cannot be mixed|all be numpy arrays or all be cupy"):
            g.bures_transport_map(device.asarray(P), Q)
        with pytest.raises(TypeError):
            g.subspace_alignment(device.asarray(W[0]), W[0], 2)
        with pytest.raises(TypeError):
            g.relative_imbalance([device.asarray(W[0]), W[1]])


# ---- the DLN geometry, effective rank, diagnostics and closed forms on the device ----------------
# (python/gsa_fast/_gpu_dln.py, cuda/depth.cu). Tolerances against the reference twins: the same as
# the CPU tests above (1e-12 for the log-volume and λ, 1e-9 for the gradient — the reference sums
# the series in another order —, 1e-13 for the effective rank, 1e-12 for the SVD-based operator
# and norm: X's SVD is backward stable, so U(λ∘UᵀZV)Vᵀ moves by ~n·u·‖X‖·‖Z‖). The device's
# log/exp/expm1 are within an ulp of the host's and its block sums run in another order (merged
# compensated sums): the same bounds hold there.

def _dln_inputs(rng):
    s = rng.random((3, 9)) * 4 + 0.01
    s[1, 2] = s[1, 5]  # a tie (λ's limit)
    s[2, 0] = 0.0  # a zero σ (+∞ gradient)
    X = rng.standard_normal((2, 5, 4))
    Z = rng.standard_normal((2, 5, 4))
    return s, X, Z


@pytest.mark.parametrize("N", [None, 1, 3])
def test_dln_geometry_on_device(device, rng, N):
    s, X, Z = _dln_inputs(rng)
    S, G = g.dln_log_volume(device.asarray(s), N, grad=True)
    assert device.is_native(S) and device.is_native(G)
    Sr, Gr = R.dln_log_volume(s, N, grad=True)
    np.testing.assert_allclose(device.asnumpy(S), Sr, rtol=1e-12, atol=1e-12)
    G, Gr = device.asnumpy(G), Gr
    np.testing.assert_array_equal(np.isinf(G), np.isinf(Gr))
    np.testing.assert_allclose(G[np.isfinite(Gr)], Gr[np.isfinite(Gr)], rtol=1e-9, atol=1e-12)
    assert device.is_native(g.dln_log_volume(device.asarray(s[0]), N))
    lam = g.dln_eigenvalues(device.asarray(s), N)
    assert device.is_native(lam) and lam.shape == (3, 9, 9)
    np.testing.assert_allclose(device.asnumpy(lam), R.dln_eigenvalues(s, N), rtol=1e-12, atol=0)
    for inverse in ((False,) if N is None else (False, True)):  # N = ∞: Λ = 0 where σ = 0 (5 × 4)
        got = g.dln_operator(device.asarray(X), device.asarray(Z), N, inverse=inverse)
        assert device.is_native(got)
        np.testing.assert_allclose(device.asnumpy(got), R.dln_operator(X, Z, N, inverse=inverse),
                                   rtol=0, atol=1e-12 * max(1.0, float(np.abs(R.dln_operator(X, Z, N, inverse=inverse)).max())))
    nrm = g.dln_metric_norm(device.asarray(X), device.asarray(Z), N)
    assert device.is_native(nrm) and nrm.shape == (2,)
    np.testing.assert_allclose(device.asnumpy(nrm), R.dln_metric_norm(X, Z, N), rtol=1e-12)


def test_effective_rank_on_device(device, rng):
    S = np.sort(np.abs(rng.standard_normal((3, 4, 300))), axis=-1)[..., ::-1]  # > one block's threads
    S[0, 1] = 0.0  # X = 0: NaN
    for x in (S, S.astype(np.float32), S[..., :37]):
        got = g.effective_rank(device.asarray(x))
        assert device.is_native(got) and got.shape == (3, 4)
        np.testing.assert_allclose(device.asnumpy(got), R.effective_rank(np.ascontiguousarray(x)), rtol=1e-13)
    rg = g.RaggedSpectra(device.asarray(np.array([3.0, 1.0, 1.0, 2.0, 2.0])), device.asarray(np.array([0, 3, 5])))
    got = g.effective_rank(rg)
    assert device.is_native(got)
    np.testing.assert_allclose(device.asnumpy(got), [R.effective_rank(np.array([3.0, 1.0, 1.0])), 2.0], rtol=1e-14)
    for bad in ([1.0, -1.0], [1.0, np.nan]):
        with pytest.raises(ValueError, match="finite singular values >= 0"):
            g.effective_rank(device.asarray(np.array(bad)))


def test_depth_diagnostics_on_device(device, rng):
    y = np.cumsum(rng.standard_normal((2, 6, 3)), axis=1)
    y[1, 4, 2] = -np.inf
    sep = g.separation_ratios(device.asarray(y), eps=0.9)
    want = R.separation_ratios(y, eps=0.9)
    for a, b in zip(sep, want):
        assert device.is_native(a)
        np.testing.assert_allclose(device.asnumpy(a), b, rtol=1e-15)
    base = rng.standard_normal(3)
    fit = g.depth_scaling_fit(device.asarray(y), 1, 5, baseline=device.asarray(base))
    for a, b in zip(fit, R.depth_scaling_fit(y, 1, 5, baseline=base)):
        assert device.is_native(a)
        np.testing.assert_allclose(device.asnumpy(a), b, rtol=1e-13, atol=1e-13)
    with pytest.raises(ValueError, match="free of \\+Inf"):
        g.separation_ratios(device.asarray(np.array([0.0, np.inf])))


def test_closed_forms_on_device(device):
    # the parameters as 0-d device arrays: the results' arrays live on the device
    lyap = g.random_lyapunov(device.asarray(np.array(64)), device.asarray(np.array(0.5)), r=40)
    want = R.random_lyapunov(64, 0.5, r=40)
    for a, b in zip(lyap, want):
        assert device.is_native(a)
        np.testing.assert_allclose(device.asnumpy(a), b, rtol=0, atol=1e-12)
    assert device.is_native(lyap.mean_log_svdvals(device.asarray(np.array([10.0]))))
    law = g.gated_rank_law(device.asarray(np.array(32)), 5, device.asarray(np.array(0.7)))
    want = R.gated_rank_law(32, 5, 0.7)
    assert device.is_native(law.sf)
    np.testing.assert_allclose(device.asnumpy(law.sf), want.sf, rtol=0, atol=1e-12)
    assert law.mean == pytest.approx(want.mean, abs=1e-12)
    np.testing.assert_array_equal(device.asnumpy(law.quantile(device.asarray(np.array([0.1, 0.5])))),
                                  want.quantile([0.1, 0.5]))


def test_device_checks_on_numpy_match_the_host_rules():
    # the device routes validate with _gpu_orbit.check_real (allow_inf, what) and refuse host
    # operands beside device ones; run here on numpy against the host rule's messages
    from gsa_fast import _gpu_dln
    from gsa_fast._depth_common import LOG_SPECTRA
    from gsa_fast._gpu_orbit import check_real
    from gsa_fast._validate import as_real_array

    for bad in (np.array([1.0, np.nan]), np.array([True]), np.array(["a"]), np.array([1.0, np.inf])):
        for kw in ({"allow_inf": True, "what": LOG_SPECTRA}, {"lo": 0.0}):
            try:
                as_real_array(bad, "f", "x", **kw)
                want = None
            except (TypeError, ValueError) as exc:
                want = (type(exc), str(exc))
            try:
                check_real(np, bad, "f", "x", **kw)
                got = None
            except (TypeError, ValueError) as exc:
                got = (type(exc), str(exc))
            assert got == want, (bad, kw)
    with pytest.raises(TypeError, match="host and device arrays cannot be mixed"):
        _gpu_dln.device_real()(np.ones(3), "dln_eigenvalues", "sigma")


@pytest.mark.gpu
def test_depth_device_routes_refuse_mixed_operands(cupy):
    X = cupy.ones((3, 3))
    with pytest.raises(TypeError, match="mix|mixed"):
        g.dln_operator(X, np.ones((3, 3)), 2)
    with pytest.raises(TypeError, match="mix|mixed"):
        g.depth_scaling_fit(cupy.zeros((4, 2)), baseline=np.zeros(2))
    with pytest.raises(TypeError, match="scalar"):
        g.random_lyapunov(cupy.asarray([8, 9]))


def _host_view(ptr, shape, dtype=np.float64):
    """The numpy array at a host address (the stand-in launchers below read and write through it)."""
    import ctypes

    nbytes = int(np.prod(shape, dtype=np.int64)) * np.dtype(dtype).itemsize
    return np.frombuffer((ctypes.c_char * nbytes).from_address(ptr), dtype=dtype).reshape(shape)


class _HostLaunchers:
    """The launchers of the CUDA module (same names and arguments as gsa_fast._cuda's, checked
    below) over host pointers, computing with the CPU kernels: the device routes' glue
    (validation, layout, allocation, the launch arguments, the reshapes) runs on numpy."""

    def dln_lambda_matrix(self, sk, sl, rows, m, n, inv_n, out, stream):
        lam = np.empty((rows, m, n))
        g._backend.core.dln_lambda_matrix(_host_view(sk, (rows, m)).copy(), _host_view(sl, (rows, n)).copy(),
                                          inv_n, lam, 1)
        _host_view(out, (rows, m, n))[...] = lam

    def dln_log_volume(self, sigma, rows, d, inv_n, work, out_s, out_grad, stream):
        S, G = np.empty(rows), (np.empty((rows, d)) if out_grad else None)
        g._backend.core.dln_log_volume(_host_view(sigma, (rows, d)).copy(), inv_n, S, G, 1)
        _host_view(out_s, (rows,))[...] = S
        if out_grad:
            _host_view(out_grad, (rows, d))[...] = G

    def effective_rank(self, values, f32, starts, lengths, n, out, stream):
        st, ln = _host_view(starts, (n,), np.int64).copy(), _host_view(lengths, (n,), np.int64).copy()
        v = _host_view(values, (int((st + ln).max()),), np.float32 if f32 else np.float64).copy()
        res = np.empty(n)
        g._backend.core.effective_rank(v, st, ln, res, 1)
        _host_view(out, (n,))[...] = res


def test_device_routes_on_numpy_with_host_launchers(monkeypatch, rng):
    """The public functions reach _gpu_dln (the table's cuda entries) with float numpy arrays
    posing as device arrays and the launchers above; the results equal the CPU route's bitwise
    where the same kernels run, and the mixing and parameter rules hold."""
    import inspect

    from gsa_fast import _backend, _gpu_dln

    if _backend._cuda is not None:  # the stand-ins take the real launchers' arguments, in order
        for name in ("dln_lambda_matrix", "dln_log_volume", "effective_rank"):
            doc = getattr(_backend._cuda, name).__doc__.split("(", 1)[1].split(")", 1)[0]
            names = [p.split(":")[0].strip() for p in doc.split(",")]
            assert names == list(inspect.signature(getattr(_HostLaunchers, name)).parameters)[1:], name
    s, X, Z = _dln_inputs(rng)
    S = np.sort(np.abs(rng.standard_normal((2, 3, 40))), axis=-1)[..., ::-1]
    rg = g.RaggedSpectra(np.array([3.0, 1.0, 1.0, 2.0, 2.0]), np.array([0, 3, 5]))
    y = np.cumsum(rng.standard_normal((2, 6, 3)), axis=1)
    calls = {
        "dln_log_volume": lambda: g.dln_log_volume(s, 3, grad=True),
        "dln_log_volume_row": lambda: g.dln_log_volume(s[0], None),
        "dln_eigenvalues": lambda: g.dln_eigenvalues(s, 2),
        "dln_operator": lambda: g.dln_operator(X, Z, 3, inverse=True),
        "dln_metric_norm": lambda: g.dln_metric_norm(X, Z, None),
        "effective_rank": lambda: g.effective_rank(S[..., :33].astype(np.float32)),
        "effective_rank_ragged": lambda: g.effective_rank(rg),
        "separation_ratios": lambda: g.separation_ratios(y, eps=0.9),
        "depth_scaling_fit": lambda: g.depth_scaling_fit(y, 1, 5, baseline=y[0, 0]),
    }
    want = {k: f() for k, f in calls.items()}
    device_like = (lambda x: isinstance(x, np.ndarray) and x.dtype.kind == "f")
    monkeypatch.setattr(_backend, "is_cupy", device_like)
    monkeypatch.setattr(_backend, "device_route", lambda fn, *ops: any(
        device_like(getattr(o, "values", o)) and _backend.ROUTES[fn].cuda is not None for o in ops))
    monkeypatch.setattr(_backend, "namespace", lambda *a: np)
    monkeypatch.setattr(_backend, "require_cuda", lambda fn: _HostLaunchers())
    seen = []
    monkeypatch.setattr(_backend, "cuda_route", lambda fn: seen.append(fn) or getattr(_gpu_dln, fn))
    for k, f in calls.items():
        got = f()
        for a, b in zip(*((x,) if isinstance(x, np.ndarray) else x for x in (got, want[k]))):
            np.testing.assert_array_equal(a, b, err_msg=k)
    assert set(seen) == {k.split("_row")[0].split("_ragged")[0] for k in calls}
    with pytest.raises(TypeError, match="host and device arrays cannot be mixed"):
        g.dln_operator(X, [[1.0] * 4] * 5, 2)
    with pytest.raises(TypeError, match="host and device arrays cannot be mixed"):
        g.depth_scaling_fit(y, baseline=[0.0, 0.0, 0.0])
    with pytest.raises(ValueError, match="finite singular values >= 0"):
        g.effective_rank(np.array([1.0, -1.0]))
    with pytest.raises(ValueError, match=r"dln_eigenvalues\(\): sigma must be >= 0.0"):
        g.dln_eigenvalues(np.array([1.0, -1.0]))
    with pytest.raises(ValueError, match="threads must be"):
        g.dln_log_volume(s, threads=0)
    # closed forms: a 0-d "device" parameter makes the results device arrays (numpy here)
    lyap = g.random_lyapunov(40, np.array(0.5), r=30)
    np.testing.assert_array_equal(lyap.gamma, g.random_lyapunov(40, 0.5, r=30).gamma)
    with pytest.raises(TypeError, match="a scalar"):
        g.random_lyapunov(40, np.array([0.5, 0.6]))
    law = g.gated_rank_law(32, 5, np.array(0.7))
    np.testing.assert_array_equal(law.sf, g.gated_rank_law(32, 5, 0.7).sf)


_DEVICE_ORDER_CPP = r"""
// cuda/depth.cu's summation order on the host: per-"thread" partial sums (i ≡ t mod 256) and the
// block_reduce tree (cuda/block_reduce.cuh), through the same GSA_HD functions.
#include <cstdio>
#include <vector>
#include "gsa_fast/math/compensated.hpp"
#include "gsa_fast/math/depth.hpp"
#include "gsa_fast/math/dln.hpp"
using namespace gsa::math;
constexpr int T = 256;
int main(int argc, char** argv) {
  long rows, d;
  double inv_n;
  FILE* f = std::fopen(argv[1], "rb");
  if (std::fread(&rows, 8, 1, f) != 1 || std::fread(&d, 8, 1, f) != 1 || std::fread(&inv_n, 8, 1, f) != 1) return 2;
  std::vector<double> s(rows * d), lg(d);
  if ((long)std::fread(s.data(), 8, rows * d, f) != rows * d) return 2;
  for (long r = 0; r < rows; ++r) {
    const double* x = s.data() + r * d;
    for (long i = 0; i < d; ++i) lg[i] = log(x[i]);
    LogVolumeSum red[T];
    KahanSum es[T], ex[T];
    double mx = 0.0;
    for (long j = 0; j < d; ++j) mx = fmax(mx, x[j]);
    for (int t = 0; t < T; ++t) {
      red[t] = LogVolumeSum{0.0, 0.0};
      for (long i = t; i < d; i += T) log_volume_pairs(lg.data(), d, i, inv_n, red[t]);
      if (mx > 0.0) for (long j = t; j < d; j += T) erank_add(x[j], mx, es[t], ex[t]);
    }
    for (int off = T / 2; off > 0; off >>= 1)
      for (int t = 0; t < off; ++t) {
        red[t] = log_volume_merge(red[t], red[t + off]);
        es[t].add(es[t + off]);
        ex[t].add(ex[t + off]);
      }
    std::printf("%a %a\n", 0.5 * red[0].sum, erank_finish(es[0].s + es[0].c, ex[0].s + ex[0].c));
  }
  return 0;
}
"""


def test_device_summation_order_matches_the_cpu_kernels(rng, tmp_path):
    """The device kernels' partial sums and block merges (log_volume_merge, KahanSum::add), run on
    the host through the shared headers, agree with the CPU kernels' serial sums: 1e-14 relative
    (compensated sums of ≤ d² terms), −∞ where the CPU gives −∞."""
    import pathlib
    import shutil
    import subprocess

    cxx = shutil.which("c++") or shutil.which("g++")
    if cxx is None:
        pytest.skip("no C++ compiler")
    root = pathlib.Path(__file__).resolve().parents[1]
    src, exe, data = tmp_path / "order.cpp", tmp_path / "order", tmp_path / "in.bin"
    src.write_text(_DEVICE_ORDER_CPP)
    subprocess.run([cxx, "-std=c++17", "-O1", f"-I{root / 'cpp' / 'include'}", str(src), "-o", str(exe)],
                   check=True)
    s = rng.random((4, 700)) * 3 + 1e-3  # d > 256: several rows of pairs per "thread"
    s[1, :300] = s[1, 300:600]  # ties
    s[2, 5] = s[2, 9] = 0.0  # two zeros: S = −∞ for every N
    s[3] = np.sort(s[3])[::-1] * np.exp(-np.arange(700) / 20.0)  # a decaying spectrum
    for N in (None, 1, 4):
        inv_n = 0.0 if N is None else 1.0 / N
        data.write_bytes(np.array([4, 700], np.int64).tobytes() + np.float64(inv_n).tobytes() + s.tobytes())
        out = subprocess.run([str(exe), str(data)], check=True, capture_output=True, text=True).stdout
        got = np.array([[float.fromhex(v) for v in line.split()] for line in out.split("\n") if line])
        want_s, want_e = g.dln_log_volume(s, N), g.effective_rank(s)
        np.testing.assert_array_equal(np.isneginf(got[:, 0]), np.isneginf(want_s))
        ok = np.isfinite(want_s)
        np.testing.assert_allclose(got[ok, 0], want_s[ok], rtol=1e-14, atol=1e-14)
        np.testing.assert_allclose(got[:, 1], want_e, rtol=1e-14)


@pytest.mark.parametrize("shape", [(0,), (5, 0), (0, 0, 0), (0, 4)])
def test_dln_spectral_functions_of_empty_batches(shape):
    """Empty batches and zero-width spectra give empty results of the documented shapes (the
    reshape(-1, 0) of an empty batch was ambiguous); a zero-width log volume is the empty sum, 0."""
    s = np.empty(shape)
    for m in (g, R):
        lam = m.dln_eigenvalues(s, 3)
        assert lam.shape == shape + (shape[-1],)
        vol = m.dln_log_volume(s, 3)
        assert np.shape(vol) == shape[:-1]
        if shape[-1] == 0:
            assert np.all(np.asarray(vol) == 0.0)


def test_rank_law_and_lyapunov_refuse_widths_beyond_2_pow_53():
    for m in (g, R):
        with pytest.raises(ValueError, match=r"gated_rank_law\(\): n must be an integer <= 2\*\*53"):
            m.gated_rank_law(2**63, 5, 0.5)
        with pytest.raises(ValueError, match=r"random_lyapunov\(\): n must be an integer <= 2\*\*53"):
            m.random_lyapunov(2**53 + 1)


def test_random_lyapunov_at_the_ends_of_sigma():
    """γ_i shifts by ln σ exactly (§2: ½ ln(2σ²)); σ² under- or overflows at σ = 1e-320 and
    1e308, where ln(2σ²) gave a math domain error and +inf: the constant is ½ ln 2 + ln σ."""
    base = g.random_lyapunov(6, 0.5, 1.0).gamma
    for s in (1e-320, 1e308):
        for f in (g.random_lyapunov, R.random_lyapunov):
            got = f(6, 0.5, s).gamma
            assert np.isfinite(got).all()
            np.testing.assert_allclose(got - base, math.log(s), rtol=1e-13)


def test_options_refused_with_one_message():
    """Keyword options of the wrong kind or shape: our error, the twin's the same (an array option
    met `in`/`if`, an array tau/eps met float(), a baseline of the wrong shape met numpy's
    broadcasting)."""
    y = np.cumsum(np.log(np.linspace(2.0, 1.0, 12).reshape(4, 3)), axis=0)
    cases = [
        (lambda m: m.depth_scaling_fit(y, baseline=np.zeros(2)), ValueError,
         r"depth_scaling_fit\(\): baseline must be broadcastable to the fit's shape \(3,\); got shape \(2,\)"),
        (lambda m: m.separation_ratios(y, eps=[0.5]), ValueError, r"separation_ratios\(\): eps must be a real number \(a scalar\)"),
        (lambda m: m.chain_log_spectrum(np.ones((2, 3, 3)), 1, tau=[0.1]), ValueError, r"tau must be a real number \(a scalar\)"),
        (lambda m: m.chain_log_spectrum(np.ones((2, 3, 3)), 1, panel=np.array(["auto"])), TypeError, r"panel must be a str"),
        (lambda m: m.dln_log_volume(np.ones(3), grad=1), TypeError, r"dln_log_volume\(\): grad must be a bool; got int 1"),
        (lambda m: m.dln_operator(np.eye(2), np.eye(2), inverse=np.ones(2)), TypeError, r"inverse must be a bool"),
        (lambda m: m.effective_rank(np.ones(3), threads=0), ValueError, r"effective_rank\(\): threads must be >= 1"),
        (lambda m: m.prefix_log_svdvals(np.ones((2, 3, 3)), depths=[[1], [1, 2]]), TypeError, r"depths must be"),
    ]
    for call, exc, msg in cases:
        with pytest.raises(exc, match=msg) as fast:
            call(g)
        with pytest.raises(exc) as ref:
            call(R)
        assert str(ref.value) == str(fast.value)


# ------------------------------------------------------------------------------------------
# regressions found by tests/test_depth_props.py (hypothesis)

def test_log_volume_grad_next_to_a_zero_singular_value():
    # shrunk from test_dln_log_volume_with_zeros: σ = (0, ½), N = 3. λ(½, 0) = (½)^{4/3}, so
    # ∂S/∂σ_2 = ½·(4/3)/σ_2 = 4/3; the kernel (and the reference) took the u = +∞ limit of
    # σ_i ∂S/∂σ_i as 1 instead of 1 − 1/N and returned 2.
    for N, want in ((3, 4.0 / 3.0), (2, 1.0), (5, 1.6), (None, 2.0)):
        for fn in (g.dln_log_volume, R.dln_log_volume):
            G = fn(np.array([0.0, 0.5]), N, grad=True)[1]
            assert abs(G[1] - want) <= 1e-15 * want, (fn, N, G)


def test_log_volume_grad_at_a_zero_singular_value_n2():
    # shrunk from test_dln_log_volume_with_zeros: σ = (0, ½), N = 2. λ(a, b) = a + b, so
    # ∂S_2/∂σ_1 = 1/(2(σ_1 + σ_2)) = 1 at σ_1 = 0; the kernel and the reference returned +∞ (the
    # N ≥ 3 limit). With a second zero, λ(0, 0) = 0 and the gradient at a zero is +∞.
    for fn in (g.dln_log_volume, R.dln_log_volume):
        G = fn(np.array([0.0, 0.5, 0.25]), 2, grad=True)[1]
        assert abs(G[0] - 3.0) <= 1e-15 * 3.0, (fn, G)
        assert fn(np.array([0.0, 0.0, 0.5]), 2, grad=True)[1][0] == np.inf
        assert fn(np.array([0.0, 0.5]), 3, grad=True)[1][0] == np.inf


def test_separation_ratios_single_value_with_eps():
    # shrunk from test_separation_ratios_vs_reference: log_s = [−∞] (any single value) with eps
    # raised numpy's "argmin of an empty sequence"; one value has no ratio, so r_sep = 0.
    for x in ([-np.inf], [1.5], np.zeros((3, 1))):
        got, want = g.separation_ratios(np.asarray(x), 0.5), R.separation_ratios(np.asarray(x), 0.5)
        assert got.ratios.shape[-1] == 0
        np.testing.assert_array_equal(got.rank, want.rank)
        assert (np.asarray(got.rank) == 0).all()


def test_gated_rank_law_is_a_probability():
    # shrunk from test_gated_rank_law_vs_mpmath: n = 1, L = 3, p = 0.75 gave sf[0] = P(rank ≥ 0)
    # = 1.0000000000000002 (the log-sum-exp of the rounded pmf is ~u above 0, cubed by G = 3), so
    # cdf(0) < 0. sf is a survival function: sf[0] = 1 exactly and 0 ≤ sf ≤ 1, also conditioned.
    for n, L, p, r0 in ((1, 3, 0.75, None), (7, 40, 0.3, None), (20, 5, 0.9, 4), (5, 9, 0.123, 1)):
        sf = g.gated_rank_law(n, L, p, r0).sf
        assert sf[0] == 1.0 and np.all(sf <= 1.0) and np.all(np.diff(sf) <= 0.0), (n, L, p, sf)


def test_reference_log_mean_at_near_ties():
    # shrunk from test_dln_operator_vs_reference_and_inverse: the reference's N = ∞ eigenvalue
    # (a² − b²)/(log a² − log b²) divided by zero when a ≠ b differ by an ulp (log a² == log b²)
    # and lost every digit just above (its dln_operator was 1% off at σ = (0.1, 0.1·(1 + u))).
    # It now uses (a − b)(a + b)/(2 log1p((a − b)/b)); the kernel's expm1 form was right.
    for a in (0.1, 1.0, 3e5):
        for ulps in (1, 2, 1000, 2**30):
            b = a * (1.0 + ulps * 2.0 ** -52)
            with mpmath.workdps(50):
                want = float((mpmath.mpf(b) ** 2 - mpmath.mpf(a) ** 2) / (2 * mpmath.log(mpmath.mpf(b) / mpmath.mpf(a))))
            for fn in (g.dln_eigenvalues, R.dln_eigenvalues):
                lam = fn(np.array([a, b]))
                # the kernel's exponent rounding: ≲ 2u(6|log a| + 8) relative (test_depth_props._lam_tol)
                assert abs(lam[0, 1] - want) <= 2.0 ** -52 * (6 * abs(math.log(a)) + 8) * want, (fn, a, ulps)
