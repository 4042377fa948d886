"""chain_log_spectrum with one chain split over several workers (issue 13, speed).

A chain whose steps are big enough (2·m·n·k ≥ 4 Mi flop) runs on a team: the rows of every
product are cut into chunks fixed by the shapes, any worker computes any chunk, and the Gram of
the CholeskyQR is summed in chunk order. So the result must not change by one bit with the
number of threads, and it must agree with the float64 Householder reference (gsa_fast.reference).

Tolerances: both routes do a float64 GEMM and a QR of a (512 × 16) panel per layer, so each
cumulative log carries ~1e-15–1e-14 of rounding per layer; 1e-12·L leaves a wide margin while
still failing on any real error (a wrong chunk, a stale panel or a missed triangular solve moves
the logs by 1e-3 or more). The float32 panel rounds M·Q to float32: ~1e-6 per layer, 2e-5·L.
"""
from __future__ import annotations

import math

import numpy as np
import pytest

import gsa_fast as g
from gsa_fast import reference as R

N, K = 512, 16  # 2·512·512·16 = 8.4 Mi flop per step: a team of 2; four chunks of 128 rows


def gauss_chain(rng, L, dtype=np.float64):
    return (rng.standard_normal((L, N, N)) / math.sqrt(N)).astype(dtype)


def kappa_bound(Rm):
    Ri = np.linalg.inv(Rm)
    norms = [np.abs(X).sum(axis=ax).max() for X in (Rm, Ri) for ax in (0, 1)]
    return math.sqrt(math.prod(norms))


def same_bits_for_all_thread_counts(A, k, **kw):
    one = g.chain_log_spectrum(A, k, threads=1, **kw)
    for th in (2, 3, 2, 5):  # 2 twice: a race between the workers would show as a flaky mismatch
        assert np.array_equal(g.chain_log_spectrum(A, k, threads=th, **kw), one), th
    return one


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_team_scan_bitwise_and_matches_reference(rng, dtype):
    A = gauss_chain(rng, 6, dtype)
    one = same_bits_for_all_thread_counts(A, K)
    assert np.abs(one - R.chain_log_spectrum(A, K)).max() < 1e-12 * len(A)
    # a batch runs one chain per worker (no team): the same bits again
    batch = g.chain_log_spectrum(np.stack([A, A[::-1]]), K, threads=2)
    assert np.array_equal(batch[0], one)


def test_team_scan_layouts(rng):
    A = gauss_chain(rng, 4, np.float32)
    want = g.chain_log_spectrum(A, K, threads=1)
    F = np.asfortranarray(A.transpose(1, 2, 0)).transpose(2, 0, 1)  # column-major factors
    assert np.array_equal(same_bits_for_all_thread_counts(F, K), want)
    big = np.zeros((4, N, 2 * N), dtype=np.float32)
    big[:, :, ::2] = A
    strided = big[:, :, ::2]  # no unit stride: the element-wise conversion path
    assert np.abs(same_bits_for_all_thread_counts(strided, K) - want).max() < 1e-12 * 4
    f32 = same_bits_for_all_thread_counts(A, K, panel="float32")
    assert np.abs(f32 - R.chain_log_spectrum(A, K)).max() < 2e-5 * 4


def test_team_scan_rectangular_chain(rng):
    shapes = [(600, 512), (512, 600), (704, 512), (520, 704)]  # last: 520 rows, a partial chunk
    chain = [rng.standard_normal(s) / math.sqrt(s[1]) for s in shapes]
    out = same_bits_for_all_thread_counts(chain, K)
    assert np.abs(out - R.chain_log_spectrum(chain, K)).max() < 1e-12 * len(chain)


def test_team_scan_gates(rng):
    A = gauss_chain(rng, 6)
    gates = rng.random((6, N)) < 0.7
    gates[2, :10], gates[2, 10:] = True, False  # 10 ones: columns 10.. are −∞ from layer 3 on
    out = same_bits_for_all_thread_counts(A, K, gates=gates)
    want = R.chain_log_spectrum(A, K, gates=gates)
    assert np.isneginf(out[2:, 10:]).all() and np.isfinite(out[:, :10]).all()
    assert np.array_equal(np.isneginf(out), np.isneginf(want))
    assert np.abs(out[:, :10] - want[:, :10]).max() < 1e-12 * len(A)


def test_team_scan_two_pass_panels(rng):
    """Panels with κ₂(R) far above 16 take the second CholeskyQR pass (the reference's R of the
    first panel shows the bound is exceeded); the result still matches Householder."""
    s = np.concatenate([np.geomspace(1.0, 0.1, K), np.full(N - K, 0.01)])
    A = []
    for _ in range(5):
        U = np.linalg.qr(rng.standard_normal((N, N)))[0]
        V = np.linalg.qr(rng.standard_normal((N, N)))[0]
        A.append((U * s) @ V.T)
    A = np.stack(A)
    Y = A[0][:, :K]
    assert kappa_bound(np.linalg.qr(Y)[1]) > 32  # the one-pass bound (16) is exceeded
    out = same_bits_for_all_thread_counts(A, K)
    assert np.abs(out - R.chain_log_spectrum(A, K)).max() < 1e-12 * len(A)


def test_team_scan_householder_fallback(rng):
    """R_jj spread beyond 1e4 within k columns: CholeskyQR is refused and worker 0 runs
    Householder on the whole panel between two barriers."""
    U, _, Vt = np.linalg.svd(rng.standard_normal((N, N)))
    graded = np.stack([(U * np.geomspace(1.0, 1e-300, N)) @ Vt] * 3)
    out = same_bits_for_all_thread_counts(graded, K)
    assert np.ptp(out[0]) > 12  # R_jj spread e^12 ≫ 1e4 (the CholeskyQR limit): the fallback ran
    diff = np.abs(out - R.chain_log_spectrum(graded, K))
    # Householder R_jj carry ~u·‖Y‖/|R_jj| relative error: tight on top columns, looser deep down
    assert diff[:, :4].max() < 1e-12 and np.isfinite(out).all()


def test_team_scan_non_finite_factor(rng):
    A = gauss_chain(rng, 5, np.float32)
    A[3, 200, 7] = np.nan
    for th in (1, 2):
        with pytest.raises(ValueError, match=r"chain_log_spectrum\(\): factors must be finite.*factor 3"):
            g.chain_log_spectrum(A, K, threads=th)


def longdouble_scan(A, k):
    """Benettin sums in long double: Gram–Schmidt applied twice (re-orthogonalized) per layer."""
    Q = np.eye(A.shape[-1], dtype=np.longdouble)[:, :k]
    c, out = np.zeros(k, dtype=np.longdouble), []
    for M in A:
        Y = M.astype(np.longdouble) @ Q
        d = np.ones(k, dtype=np.longdouble)
        for _ in range(2):
            for j in range(k):
                Y[:, j] -= Y[:, :j] @ (Y[:, :j].T @ Y[:, j])
                nrm = np.sqrt(Y[:, j] @ Y[:, j])
                d[j] *= nrm
                Y[:, j] /= nrm
        c = c + np.log(d)
        out.append(c.copy())
        Q = Y
    return np.array(out, dtype=np.float64)


def test_team_scan_as_accurate_as_householder(rng):
    """One CholeskyQR pass (Gaussian panels, κ ≈ 2) and two passes (graded panels) against a
    long-double reference: the kernel's error must be of the order of the float64 Householder
    loop's own (both ~1e-15 per entry here; 20·u·L bounds either with room to spare)."""
    s = np.concatenate([np.geomspace(1.0, 0.1, K), np.full(N - K, 0.01)])
    U = np.linalg.qr(rng.standard_normal((N, N)))[0]
    graded = np.stack([(U * s) @ np.linalg.qr(rng.standard_normal((N, N)))[0] for _ in range(3)])
    for A in (gauss_chain(rng, 6), graded):
        exact = longdouble_scan(A, K)
        err = np.abs(g.chain_log_spectrum(A, K, threads=2) - exact).max()
        hh = np.abs(R.chain_log_spectrum(A, K) - exact).max()
        assert err < 20 * 2.2e-16 * len(A) and err < 4 * hh + 1e-15, (err, hh)


def test_fused_f32_gemm_edge_tiles(rng):
    """float32 factors go through the fused float32 × float64 GEMM (cpp/src/depth_gemm.inl):
    k = 29 (a partial micro-panel of 8 or 16 columns; 2·523·517·29 flop per step: a team of
    three), 523 and 517 rows (a partial 8-row strip and a partial chunk), 300 and 523 columns
    (partial blocks of the 256-deep inner dimension and of its 8-wide transposes). Every output
    is summed in an order fixed by the shapes, so row-major, column-major and strided factors
    give the same bits on any number of workers; against the float64 Householder reference the
    tolerance is the team tests' 1e-12·L."""
    shapes = [(523, 300), (517, 523), (523, 517)]
    chain = [(rng.standard_normal(s) / math.sqrt(s[1])).astype(np.float32) for s in shapes]
    k = 29
    one = same_bits_for_all_thread_counts(chain, k)
    assert np.abs(one - R.chain_log_spectrum(chain, k)).max() < 1e-12 * len(chain)
    cm = [np.asfortranarray(M) for M in chain]
    assert np.array_equal(same_bits_for_all_thread_counts(cm, k), one)
    wide = [np.zeros((M.shape[0], 3 * M.shape[1]), np.float32) for M in chain]
    for W, M in zip(wide, chain):
        W[:, ::3] = M
    assert np.array_equal(same_bits_for_all_thread_counts([W[:, ::3] for W in wide], k), one)
    # the same chain widened to float64 by the caller takes dgemm: another sum order, same values
    f64 = g.chain_log_spectrum([M.astype(np.float64) for M in chain], k, threads=1)
    assert np.abs(f64 - one).max() < 1e-12 * len(chain)
    # gates zero rows of the product before the deferred R⁻¹ is multiplied in
    gates = [rng.random(M.shape[0]) < 0.8 for M in chain]
    gated = same_bits_for_all_thread_counts(chain, k, gates=gates)
    want = R.chain_log_spectrum(chain, k, gates=gates)
    assert np.abs(gated - want).max() < 1e-12 * len(chain)


def test_fused_f32_gemm_as_accurate_as_householder(rng):
    """The float32 × float64 GEMM route (float32 factors; the deferred R⁻¹ multiplied in as the
    explicit inverse, dtrmm) against the long-double reference of the same float32 values, at
    the issue's k = 64: one CholeskyQR pass (Gaussian) and two (graded). Same bounds as the
    float64 test above (measured on 4 graded layers: 1e-15 and 1e-14, numpy's Householder loop
    9e-16 and 7e-15)."""
    n, k = 512, 64
    s = np.concatenate([np.geomspace(1.0, 0.1, k), np.full(n - k, 0.01)])
    U = np.linalg.qr(rng.standard_normal((n, n)))[0]
    graded = np.stack([(U * s) @ np.linalg.qr(rng.standard_normal((n, n)))[0] for _ in range(3)])
    gauss = rng.standard_normal((6, n, n)) / math.sqrt(n)
    for A in (gauss.astype(np.float32), graded.astype(np.float32)):
        exact = longdouble_scan(A, k)
        err = np.abs(g.chain_log_spectrum(A, k, threads=2) - exact).max()
        hh = np.abs(R.chain_log_spectrum(A, k) - exact).max()
        assert err < 20 * 2.2e-16 * len(A) and err < 4 * hh + 1e-15, (err, hh)
