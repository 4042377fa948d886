"""Tridiagonal eigenvalues by Sturm-count multisection (math/tridiag.hpp; the CPU executor
cpp/src/linalg/tridiag_bisect.cpp and the CUDA kernel cuda/tridiag.cu through
gsa_fast._gpu_tridiag.eigvalsh_tridiagonal).

Tolerances (derived in cpp/include/gsa_fast/math/tridiag.hpp; u = 2⁻⁵³, M = max|T_ij|):
- against exact eigenvalues (mpmath at 40 digits, closed forms): ``OURS = 12·u·M`` — the
  bisection's final half-width (≤ u·tnorm + 2u·|λ|) plus the Sturm count's backward error
  (5u·max|e|) and the midpoint's rounding; n does not enter.
- against LAPACK dstebz run to full accuracy (abstol = 2·safmin, itself a Sturm bisection with the
  same kind of backward error): ``2·OURS``.
- against LAPACK dsterf (implicit QL; error O(n·u·‖T‖), measured 159·u·M at n = 4096):
  ``OURS + n·u·M``, the accuracy contract's c·n·u·‖T‖ with c = 1.
"""
from __future__ import annotations

import mpmath
import numpy as np
import pytest
import scipy.linalg as sl

from gsa_fast import _backend, _gpu_tridiag
from gsa_fast._gpu_tridiag import eigvalsh_tridiagonal

U = 2.0 ** -53
SAFMIN = 2.0 ** -1022


def _m(d, e):
    return max(float(np.abs(d).max(initial=0.0)), float(np.abs(e).max(initial=0.0)))


def _exact(d, e, dps=40):
    """Eigenvalues of tridiag(e, d, e) in mpmath at `dps` digits, rounded to float64."""
    n = len(d)
    with mpmath.workdps(dps):
        A = mpmath.matrix(n, n)
        for i in range(n):
            A[i, i] = mpmath.mpf(float(d[i]))
            if i + 1 < n:
                A[i, i + 1] = A[i + 1, i] = mpmath.mpf(float(e[i]))
        return np.sort(np.array([float(x) for x in mpmath.eigsy(A, eigvals_only=True)]))


def _stebz(d, e):
    return sl.eigvalsh_tridiagonal(d, e, lapack_driver="stebz", tol=2 * SAFMIN)


def _sterf(d, e):
    return sl.eigvalsh_tridiagonal(d, e, lapack_driver="sterf")


def _wilkinson(m=10):
    """W_{2m+1}^+: d = |m − i|, e = 1 (pairs of eigenvalues agreeing to ~1e-14 for m = 10)."""
    return np.abs(np.arange(2 * m + 1) - m).astype(np.float64), np.ones(2 * m)


def _check_ascending(w):
    assert np.all(np.diff(w, axis=-1) >= 0), "eigenvalues not ascending"


@pytest.mark.parametrize("points", [1, 8, _gpu_tridiag.POINTS_DEVICE, 32])
@pytest.mark.parametrize("n", [1, 2, 3, 17])
def test_small_random_against_mpmath(rng, n, points):
    d, e = rng.standard_normal(n), rng.standard_normal(n - 1)
    w = eigvalsh_tridiagonal(np, d, e, points=points)
    _check_ascending(w)
    np.testing.assert_allclose(w, _exact(d, e), rtol=0, atol=12 * U * _m(d, e))


@pytest.mark.parametrize("points", [1, 8, _gpu_tridiag.POINTS_DEVICE])
def test_wilkinson_w21_against_mpmath(points):
    d, e = _wilkinson()
    w = eigvalsh_tridiagonal(np, d, e, points=points)
    _check_ascending(w)
    np.testing.assert_allclose(w, _exact(d, e), rtol=0, atol=12 * U * _m(d, e))


def test_random_1000_against_stebz_and_sterf(rng):
    d, e = rng.standard_normal(1000), rng.standard_normal(999)
    w = eigvalsh_tridiagonal(np, d, e)
    _check_ascending(w)
    M = _m(d, e)
    np.testing.assert_allclose(w, _stebz(d, e), rtol=0, atol=24 * U * M)
    np.testing.assert_allclose(w, _sterf(d, e), rtol=0, atol=12 * U * M + 1000 * U * M)


def test_glued_wilkinson_against_stebz():
    """Five W21+ glued by off-diagonal 1e-10: clusters of five nearly equal eigenvalues."""
    d0, e0 = _wilkinson()
    d = np.tile(d0, 5)
    e = np.concatenate([np.concatenate([e0, [1e-10]]) for _ in range(5)])[:-1]
    w = eigvalsh_tridiagonal(np, d, e, points=_gpu_tridiag.POINTS_DEVICE)
    _check_ascending(w)
    np.testing.assert_allclose(w, _stebz(d, e), rtol=0, atol=24 * U * _m(d, e))
    np.testing.assert_allclose(w, _sterf(d, e), rtol=0, atol=12 * U * _m(d, e) + len(d) * U * _m(d, e))


def test_split_matrix_is_the_union_of_its_blocks(rng):
    """Zeros on the off-diagonal split T into blocks; no explicit splitting is done, the counts
    simply add up. Blocks of 1 (a diagonal entry on its own), 2, 5 and 12."""
    sizes = [1, 2, 5, 1, 12, 3]
    blocks = [(rng.standard_normal(s), rng.standard_normal(s - 1)) for s in sizes]
    d = np.concatenate([b[0] for b in blocks])
    e = np.concatenate([np.concatenate([b[1], [0.0]]) for b in blocks])[:-1]
    want = np.sort(np.concatenate([_exact(*b) for b in blocks]))
    w = eigvalsh_tridiagonal(np, d, e)
    np.testing.assert_allclose(w, want, rtol=0, atol=12 * U * _m(d, e))


def test_diagonal_matrix_gives_the_sorted_diagonal(rng):
    d = rng.standard_normal(200)
    w = eigvalsh_tridiagonal(np, d, np.zeros(199))
    np.testing.assert_allclose(w, np.sort(d), rtol=0, atol=12 * U * _m(d, 0.0))


def test_clustered_eigenvalues(rng):
    """All 300 eigenvalues within ~1e-12 of 1 (d = 1 + 1e-12·N(0,1), e = 1e-13·N(0,1))."""
    d = 1.0 + 1e-12 * rng.standard_normal(300)
    e = 1e-13 * rng.standard_normal(299)
    w = eigvalsh_tridiagonal(np, d, e)
    _check_ascending(w)
    np.testing.assert_allclose(w, _stebz(d, e), rtol=0, atol=24 * U * _m(d, e))


@pytest.mark.parametrize("c", [0.0, 3.0, -1e5])
def test_constant_diagonal_toeplitz_closed_form(c):
    """d = c, e = 1: λ_k = c + 2·cos(kπ/(n + 1)); the closed form in float64 adds ≤ 4u·(|c| + 2)."""
    n = 1000
    w = eigvalsh_tridiagonal(np, np.full(n, c), np.ones(n - 1))
    k = np.arange(n, 0, -1)
    want = c + 2.0 * np.cos(k * np.pi / (n + 1))
    M = max(abs(c), 1.0)
    np.testing.assert_allclose(w, want, rtol=0, atol=12 * U * M + 4 * U * (abs(c) + 2))


def test_all_equal_diagonal_and_zero_matrix_are_exact():
    np.testing.assert_array_equal(eigvalsh_tridiagonal(np, np.full(7, 2.5), np.zeros(6)), np.full(7, 2.5))
    np.testing.assert_array_equal(eigvalsh_tridiagonal(np, np.zeros(5), np.zeros(4)), np.zeros(5))
    np.testing.assert_array_equal(eigvalsh_tridiagonal(np, np.array([-3.25]), np.zeros(0)), [-3.25])


@pytest.mark.parametrize("scale", [1e150, 1e-150])
def test_huge_and_tiny_scales(rng, scale):
    """e² would overflow at 1e150·e, 1e300 (or underflow at 1e-300) without the scaling step."""
    d, e = scale * rng.standard_normal(60), scale * rng.standard_normal(59)
    w = eigvalsh_tridiagonal(np, d, e)
    np.testing.assert_allclose(w, _stebz(d, e), rtol=0, atol=24 * U * _m(d, e))
    np.testing.assert_allclose(w / scale, _exact(d / scale, e / scale), rtol=0, atol=13 * U * _m(d, e) / scale)


@pytest.mark.parametrize("k", [-1000, -900, 900, 1020])
def test_power_of_two_scaling_is_exact(rng, k):
    """The scaling is to a power of two, so T·2^k has exactly the eigenvalues of T times 2^k, also
    where e² would over- or underflow in float64 without it."""
    d, e = rng.standard_normal(40), rng.standard_normal(39)
    w = eigvalsh_tridiagonal(np, d, e)
    ws = eigvalsh_tridiagonal(np, np.ldexp(d, k), np.ldexp(e, k))
    np.testing.assert_array_equal(ws, np.ldexp(w, k))


def test_random_4096_against_sterf(rng):
    n = 4096
    d, e = rng.standard_normal(n), rng.standard_normal(n - 1)
    w = eigvalsh_tridiagonal(np, d, e)
    _check_ascending(w)
    M = _m(d, e)
    np.testing.assert_allclose(w, _sterf(d, e), rtol=0, atol=12 * U * M + n * U * M)


def test_bitwise_independent_of_threads_and_stacking(rng):
    d, e = rng.standard_normal((3, 150)), rng.standard_normal((3, 149))
    e[1, ::7] = 0.0
    base = eigvalsh_tridiagonal(np, d, e, threads=1)
    for t in (2, 3, 5):
        np.testing.assert_array_equal(eigvalsh_tridiagonal(np, d, e, threads=t), base)
    for k in range(3):  # a stack gives each row's own result
        np.testing.assert_array_equal(eigvalsh_tridiagonal(np, d[k], e[k], threads=2), base[k])
    _check_ascending(base)


@pytest.mark.parametrize("points", [1, 2, 4, 8, 16, 32])
def test_every_point_schedule_meets_the_bound(rng, points):
    d, e = rng.standard_normal(64), rng.standard_normal(63)
    w = eigvalsh_tridiagonal(np, d, e, points=points)
    _check_ascending(w)
    np.testing.assert_allclose(w, _stebz(d, e), rtol=0, atol=24 * U * _m(d, e))


def test_device_points_fill_the_device_then_fall_to_bisection():
    f = _gpu_tridiag.device_points
    assert f(1, 4096) == _gpu_tridiag.POINTS_DEVICE  # one matrix: latency bound, widest schedule
    assert f(1, 1) == _gpu_tridiag.POINTS_DEVICE
    assert f(16, 4096) == 8 and f(32, 4096) == 4
    assert f(1000, 4096) == 1  # the device is full: fewest flops
    for count, n in [(1, 10), (7, 333), (50, 4096), (1, 10 ** 6)]:
        k = f(count, n)
        assert k in (1, 2, 4, 8, 16) and (k == 1 or count * n * k <= _gpu_tridiag.DEVICE_THREADS)


def test_empty_inputs():
    assert eigvalsh_tridiagonal(np, np.zeros(0), np.zeros(0)).shape == (0,)
    assert eigvalsh_tridiagonal(np, np.zeros((0, 4)), np.zeros((0, 3))).shape == (0, 4)


def test_errors():
    f = eigvalsh_tridiagonal
    with pytest.raises(TypeError, match=r"eigvalsh_tridiagonal\(\): d must be a float64 array"):
        f(np, np.zeros(3, np.float32), np.zeros(2))
    with pytest.raises(TypeError, match="e must be a float64"):
        f(np, np.zeros(3), [0.0, 0.0])
    with pytest.raises(ValueError, match=r"e must be shape \(2,\)"):
        f(np, np.zeros(3), np.zeros(3))
    with pytest.raises(ValueError, match=r"e must be shape \(2, 2\)"):
        f(np, np.zeros((2, 3)), np.zeros(2))
    with pytest.raises(ValueError, match="d must be 1-D"):
        f(np, np.zeros((1, 2, 3)), np.zeros((1, 2, 2)))
    with pytest.raises(ValueError, match="must be finite; got NaN or Inf"):
        f(np, np.array([1.0, np.nan]), np.zeros(1))
    with pytest.raises(ValueError, match="must be finite"):
        f(np, np.zeros(2), np.array([np.inf]))
    for bad in (3, 0, 64, True, 2.0):
        with pytest.raises(ValueError, match="points must be one of"):
            f(np, np.zeros(3), np.zeros(2), points=bad)
    with pytest.raises(ValueError, match="threads"):
        f(np, np.zeros(3), np.zeros(2), threads=0)


def test_core_binding_checks_shapes():
    with pytest.raises(ValueError, match="e must be"):
        _backend.core.tridiag_eigvalues(np.zeros((1, 3)), np.zeros((1, 3)), np.empty((1, 3)), 1, 1)
    with pytest.raises(ValueError, match="points"):
        _backend.core.tridiag_eigvalues(np.zeros((1, 3)), np.zeros((1, 2)), np.empty((1, 3)), 33, 1)


def test_after_the_band_stage_on_numpy():
    """Stage 2 → stage 3 as the device route will chain them, on numpy: the (d, e) of
    _gpu_band.band_to_tridiagonal (the device bulge chasing's CPU executor) into
    eigvalsh_tridiagonal with the device's default schedule, against numpy on the dense band
    (the chase's backward error, 8·n·u·‖B‖₂ as in tests/test_bulge.py, plus ours)."""
    from _helpers import dense_from_band
    from gsa_fast import _gpu_band

    rng = np.random.default_rng(11)
    n, b = 300, 16
    band = rng.standard_normal((b + 1, n))
    for r in range(b + 1):
        band[r, n - r:] = 0.0
    want = np.linalg.eigvalsh(dense_from_band(band))
    d, e = _gpu_band.band_to_tridiagonal(np, band)
    w = eigvalsh_tridiagonal(np, d, e, points=_gpu_tridiag.device_points(1, n))
    norm2 = float(np.abs(want).max())
    np.testing.assert_allclose(w, want, rtol=0, atol=8 * n * U * norm2 + 12 * U * _m(d, e))


# ---- device --------------------------------------------------------------------------------------

@pytest.mark.gpu
@pytest.mark.parametrize("points", [1, 4, _gpu_tridiag.POINTS_DEVICE, 32])
def test_device_matches_the_cpu_executor_bitwise(cupy, rng, points):
    """Same header arithmetic, same schedule: the same bits (random stack with a split row,
    Wilkinson, a 1×1 and the zero matrix in one batch each)."""
    d, e = rng.standard_normal((4, 333)), rng.standard_normal((4, 332))
    e[2, ::9] = 0.0
    d[3] = 0.0
    e[3] = 0.0
    cases = [(d, e), _wilkinson(), (np.array([1.5]), np.zeros(0)), (1e200 * d[:2], 1e200 * e[:2])]
    for dd, ee in cases:
        host = eigvalsh_tridiagonal(np, dd, ee, points=points)
        dev = eigvalsh_tridiagonal(cupy, cupy.asarray(dd), cupy.asarray(ee), points=points)
        assert isinstance(dev, cupy.ndarray) and dev.shape == host.shape
        np.testing.assert_array_equal(cupy.asnumpy(dev), host)


@pytest.mark.gpu
def test_device_errors_before_launch(cupy):
    f = eigvalsh_tridiagonal
    with pytest.raises(TypeError, match="mix"):
        f(cupy, cupy.zeros(3), np.zeros(2))
    with pytest.raises(ValueError, match="must be finite"):
        f(cupy, cupy.asarray([1.0, np.nan]), cupy.zeros(1))
    with pytest.raises(ValueError, match="C-contiguous"):
        f(cupy, cupy.zeros((3, 4))[:, 0], cupy.zeros((3, 4))[:2, 1])


def test_mixing_host_and_device_is_a_type_error_without_cupy():
    """A numpy namespace with a non-numpy operand kind is refused before any work."""
    class Fake:
        shape, dtype, ndim = (3,), np.dtype(np.float64), 1
    Fake.__module__ = "cupy"
    with pytest.raises(TypeError, match="mix"):
        eigvalsh_tridiagonal(np, np.zeros(3), Fake())


@pytest.mark.gpu
def test_after_the_band_stage_on_device(cupy):
    """(d, e) stay on the device from the bulge chasing to the eigenvalues: the device chain gives
    the CPU chain's bits (both stages are bitwise twins of their CPU executors)."""
    from gsa_fast import _gpu_band

    rng = np.random.default_rng(12)
    n, b = 500, 32
    band = rng.standard_normal((b + 1, n))
    for r in range(b + 1):
        band[r, n - r:] = 0.0
    d, e = _gpu_band.band_to_tridiagonal(cupy, cupy.asarray(band))
    w = eigvalsh_tridiagonal(cupy, d, e)
    assert isinstance(w, cupy.ndarray)
    dh, eh = _gpu_band.band_to_tridiagonal(np, band)
    np.testing.assert_array_equal(cupy.asnumpy(w), eigvalsh_tridiagonal(np, dh, eh, points=_gpu_tridiag.device_points(1, n)))
