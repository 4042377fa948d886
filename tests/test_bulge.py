"""Band → tridiagonal by bulge chasing (cpp/include/gsa_fast/math/bulge.hpp): the CPU executor
(_core.bulge_chase, through gsa_fast._gpu_band with numpy) runs the same step functions as the
CUDA kernel cuda/bulge.cu, so these tests cover the device arithmetic; the `device` fixture's
"cuda" side runs the kernel itself.

Tolerance: every step is an orthogonal similarity by one Householder reflector of length ≤ b
applied to a b×b window, and each entry of the band is touched by O(n) such steps over the
chase, so the tridiagonal T is exactly similar to B + E with ‖E‖₂ ≤ c·n·u·‖B‖₂ (Higham, *Accuracy
and Stability*, §19.3, for a sequence of Householder similarities; u = 2⁻⁵³); dsterf and the
numpy.linalg.eigvalsh oracle add errors of the same form and Weyl bounds the eigenvalue change by
‖E‖₂. The tests take c = 8: TOL(n) = 8·max(n, 1)·u·‖B‖₂ (measured: ≈ 0.1·n·u·‖B‖₂).
"""
from __future__ import annotations

import numpy as np
import pytest

from gsa_fast import _backend, _gpu_band as gb, _two_stage as ts

from _helpers import clustered_symmetric, dense_from_band as _dense

U = 2.0 ** -53


def _tol(n, norm2):
    return 8.0 * max(n, 1) * U * norm2


def _random_band(rng, n, b):
    band = rng.standard_normal((b + 1, n))
    for r in range(b + 1):
        band[r, max(n - r, 0):] = 0.0
    return band


def _check(band, device=None):
    """(d, e) of band_to_tridiagonal; their eigenvalues (dsterf) against numpy on the dense band,
    and against LAPACK's own band → tridiagonal route (dsb2st kernels + dsterf)."""
    n = band.shape[1]
    want = np.linalg.eigvalsh(_dense(band))
    norm2 = float(np.abs(want).max()) if n else 0.0
    if device is None or device.name == "cpu":
        d, e = gb.band_to_tridiagonal(np, band)
    else:
        d, e = gb.band_to_tridiagonal(device.xp, device.xp.asarray(band))
        assert device.is_native(d) and device.is_native(e)
        d, e = device.asnumpy(d), device.asnumpy(e)
    assert d.shape == (n,) and e.shape == (max(n - 1, 0),)
    got = gb.tridiagonal_eigvalsh(d, e)
    np.testing.assert_allclose(got, want, rtol=0, atol=_tol(n, norm2))
    np.testing.assert_allclose(got, ts.band_eigvalsh(np.asfortranarray(band)), rtol=0, atol=_tol(n, norm2))
    # trace and Frobenius norm are similarity invariants
    assert abs(d.sum() - np.trace(_dense(band))) <= _tol(n, n * norm2)
    assert abs(np.sqrt((d ** 2).sum() + 2 * (e ** 2).sum()) - np.linalg.norm(_dense(band))) <= _tol(n, np.sqrt(n) * norm2)
    return d, e


@pytest.mark.parametrize("b", [1, 2, 8, 32, 64])
@pytest.mark.parametrize("n", [0, 1, 2, 3, 37, 203])
def test_tridiagonal_has_the_band_eigenvalues(rng, n, b):
    # 37 and 203 are multiples of none of the widths; n ≤ b + 1 (the whole matrix is the band) too
    _check(_random_band(rng, n, b))


@pytest.mark.parametrize("b", [2, 8, 32, 64])
def test_whole_matrix_inside_the_band(rng, b):
    for n in (b, b + 1, b + 2):
        _check(_random_band(rng, n, b))


def test_b1_is_returned_as_is(rng):
    band = _random_band(rng, 30, 1)
    d, e = gb.band_to_tridiagonal(np, band)
    np.testing.assert_array_equal(d, band[0])
    np.testing.assert_array_equal(e, band[1, :29])


@pytest.mark.parametrize("b", [2, 8, 32])
def test_zero_subdiagonal_blocks(rng, b):
    # block-diagonal band (zero couplings between blocks of 17) and a diagonal band: many
    # reflectors with τ = 0; the diagonal case must come back bit for bit
    n = 100
    band = _random_band(rng, n, b)
    for j in range(n):
        for r in range(1, b + 1):
            if j + r < n and (j // 17) != ((j + r) // 17):
                band[r, j] = 0.0
    _check(band)
    diag = np.zeros((b + 1, n))
    diag[0] = rng.standard_normal(n)
    d, e = _check(diag)
    np.testing.assert_array_equal(d, diag[0])
    assert not e.any()


@pytest.mark.parametrize("b", [2, 8, 64])
def test_clustered_and_rank_deficient_spectra(rng, b):
    n = 150
    _check(ts.dense_to_band(np, clustered_symmetric(rng, n), b))
    x = rng.standard_normal((n, 5))  # rank 5 < b for b = 8, 64: most eigenvalues are 0
    _check(ts.dense_to_band(np, x @ x.T, b))


def _chase(band, order, threads, shift, team=1):
    W, b = gb.work_storage(np, band)
    n = band.shape[1]
    d, e = np.empty(n), np.empty(max(n - 1, 0))
    _backend.core.bulge_chase(W, b, d, e, order, threads, shift, team)
    return d, e, W


def test_chase_leaves_exact_zeros_below_the_tridiagonal(rng):
    band = _random_band(rng, 90, 8)
    d, e, W = _chase(band, 0, 1, 3)
    assert not W[:, 2:].any()  # offsets ≥ 2, band and bulge rows, are stored zeros
    np.testing.assert_array_equal(W[:, 0], d)
    np.testing.assert_array_equal(W[:-1, 1], e)


@pytest.mark.parametrize("n, b", [(200, 8), (150, 3), (90, 64), (300, 2), (65, 32)])
def test_wavefront_orders_are_bitwise_serial(rng, n, b):
    # the schedule is what makes the device kernel correct: any order of one wavefront's tasks,
    # and running them at once, must give the serial bits
    band = _random_band(rng, n, b)
    d0, e0, _ = _chase(band, 0, 1, 3)
    for threads, shift in [(1, 3), (2, 3), (3, 3), (1, 4), (2, 5)]:
        d, e, _ = _chase(band, 1, threads, shift)
        np.testing.assert_array_equal(d, d0)
        np.testing.assert_array_equal(e, e0)
    # a spacing of 2 puts (s, j) and (s − 1, j + 2), which share an entry, in one wavefront: run
    # in descending sweep order that changes the result (the check above can fail)
    d, e, _ = _chase(band, 1, 1, 2)
    assert not (np.array_equal(d, d0) and np.array_equal(e, e0))


@pytest.mark.parametrize("n, b", [(120, 8), (70, 3), (66, 64), (41, 2)])
def test_kernel_protocols_are_bitwise_serial(rng, n, b):
    # what cuda/bulge.cu does, on CPU threads: (1) each step on a team of threads sharing its
    # scratch, with the header's sync() points as barriers (a missing sync is a race that changes
    # the bits or the result); (2) the persistent kernel's per-sweep progress counters, sweep s on
    # worker s mod workers, waiting for min(j + 3, steps(s − 1)) finished steps of sweep s − 1
    band = _random_band(rng, n, b)
    d0, e0, _ = _chase(band, 0, 1, 3)
    for team in (2, 3, 5):
        d, e, _ = _chase(band, 0, 1, 3, team)
        np.testing.assert_array_equal(d, d0)
        np.testing.assert_array_equal(e, e0)
    for workers in (1, 2, 3, 7):
        d, e, _ = _chase(band, 2, workers, 3)
        np.testing.assert_array_equal(d, d0)
        np.testing.assert_array_equal(e, e0)


def _touched(task):
    """Entries (r, c), r ≥ c, that a task reads or writes, from its geometry."""
    _, _, _, kind, r0, rows, c0, cols = (int(v) for v in task)
    return {(r0 + a, c0 + c) for a in range(rows) for c in range(cols) if r0 + a >= c0 + c}


def _blocks(n, b, s, j):
    """Independent geometry from the algorithm's definition (block k = rows s+1+k·b ..)."""
    R = lambda k: list(range(s + 1 + k * b, min(s + 1 + (k + 1) * b, n)))
    if j == 0:
        return {(r, s) for r in R(0)} | {(r, c) for r in R(0) for c in R(0) if r >= c}
    k = (j - 1) // 2
    if j % 2 == 1:
        return {(r, c) for r in R(k + 1) for c in R(k)}
    return {(r, c) for r in R(k + 1) for c in R(k + 1) if r >= c}


@pytest.mark.parametrize("n, b", [(40, 4), (23, 5), (12, 2), (9, 8), (31, 3)])
def test_schedule(n, b):
    rows = _backend.core.bulge_schedule(n, b, 3)
    S = n - 2 if (b >= 2 and n >= 3) else 0
    steps = {s: 1 + 2 * ((n - 2 - s) // b) for s in range(S)}
    # every step of every sweep exactly once, at t = j + 3·s, with the geometry of its definition
    assert sorted((int(s), int(j)) for s, j in rows[:, 1:3]) == [(s, j) for s in range(S) for j in range(steps[s])]
    assert (rows[:, 0] == rows[:, 2] + 3 * rows[:, 1]).all()
    for task in rows:
        assert _touched(task) == _blocks(n, b, int(task[1]), int(task[2]))
    when = {(int(s), int(j)): int(t) for t, s, j in rows[:, :3]}
    sets = {(int(s), int(j)): _touched(task) for task, s, j in zip(rows, rows[:, 1], rows[:, 2])}
    # the tasks of one wavefront touch disjoint entries; tasks of different sweeps that share an
    # entry run in the serial order (lower sweep first)
    keys = list(sets)
    for i, a in enumerate(keys):
        for c in keys[i + 1:]:
            if a[0] != c[0] and sets[a] & sets[c]:
                lo, hi = (a, c) if a[0] < c[0] else (c, a)
                assert when[lo] < when[hi], (lo, hi)
    # the dependency is tight: with spacing 2, some wavefront holds two tasks that share an entry
    tight = _backend.core.bulge_schedule(n, b, 2)
    by_t = {}
    for task in tight:
        by_t.setdefault(int(task[0]), []).append(_touched(task))
    clash = any(x & y for group in by_t.values() for i, x in enumerate(group) for y in group[i + 1:])
    assert clash == (S >= 2 and max(steps.values()) >= 3)


def test_bad_arguments():
    with pytest.raises(TypeError, match=r"band_to_tridiagonal\(\): band must be a float64"):
        gb.band_to_tridiagonal(np, np.ones((2, 4), dtype=np.float32))
    with pytest.raises(ValueError, match=r"band_to_tridiagonal\(\): band must be an array of shape"):
        gb.band_to_tridiagonal(np, np.ones(4))
    with pytest.raises(ValueError, match="bulge_chase: work must have at least 2b columns"):
        _backend.core.bulge_chase(np.zeros((10, 3)), 2, np.empty(10), np.empty(9), 0, 1, 3)
    with pytest.raises(ValueError, match="bulge_chase: shift must be >= 2"):
        _backend.core.bulge_chase(np.zeros((10, 4)), 2, np.empty(10), np.empty(9), 1, 1, 1)
    with pytest.raises(ValueError, match="bulge_chase: team must be 1..64"):
        _backend.core.bulge_chase(np.zeros((10, 4)), 2, np.empty(10), np.empty(9), 1, 1, 3, 2)
    with pytest.raises(ValueError, match="bulge_chase: d must have n entries"):
        _backend.core.bulge_chase(np.zeros((10, 4)), 2, np.empty(9), np.empty(9), 0, 1, 3)


def test_host_band_with_device_namespace(cupy):
    with pytest.raises(TypeError, match=r"band_to_tridiagonal\(\): band must be a cupy array"):
        gb.band_to_tridiagonal(cupy, np.ones((3, 5)))
    with pytest.raises(ValueError, match=r"half-bandwidth <= 128 on the device"):
        gb.band_to_tridiagonal(cupy, cupy.zeros((130, 300)))


@pytest.mark.parametrize("b", [2, 8, 64, 128])
@pytest.mark.parametrize("n", [3, 70, 301])
def test_band_to_tridiagonal_on_device(device, rng, n, b):
    # the kernel (cuda side) against numpy and LAPACK, to the same tolerance; the input is kept
    band = _random_band(rng, n, b)
    keep = band.copy()
    _check(band, device)
    np.testing.assert_array_equal(band, keep)


def test_kernel_matches_the_cpu_executor_on_device(cupy, rng):
    # the same steps on both sides: d and e agree to rounding (the device contracts a·b + c into
    # FMAs, so not bitwise), at a size with many sweeps in flight at once
    n, b = 1500, 64
    band = ts.dense_to_band(np, (lambda x: 0.5 * (x + x.T))(rng.standard_normal((n, n))), b)
    d0, e0 = gb.band_to_tridiagonal(np, band)
    d, e = gb.band_to_tridiagonal(cupy, cupy.asarray(band))
    w0, w = gb.tridiagonal_eigvalsh(d0, e0), gb.tridiagonal_eigvalsh(d, e)
    np.testing.assert_allclose(w, w0, rtol=0, atol=_tol(n, np.abs(w0).max()))
