"""The two-stage eigensolver of svdvals' device route (gsa_fast._two_stage), tested with numpy as
the array namespace (the same code runs on cupy; the `device` fixture's "cuda" side runs it there).

Tolerance: every step of dense_to_band is an orthogonal similarity computed with Householder
reflectors and GEMMs, so the band is exactly similar to G + E with ‖E‖₂ ≤ c·n·u·‖G‖₂
(Higham, *Accuracy and Stability*, §19.3; u = 2⁻⁵³), and by Weyl each eigenvalue moves by at most
‖E‖₂. numpy.linalg.eigvalsh (the oracle) has an error of the same form. The tests take c = 8:
TOL(n) = 8·max(n, 1)·u·‖G‖₂ (measured errors are ≈ 0.1–1·n·u·‖G‖₂ here). The Frobenius norm is
invariant under the same similarities, to the same relative tolerance.
"""
from __future__ import annotations

import numpy as np
import pytest

import gsa_fast as g
from gsa_fast import _two_stage as ts
from gsa_fast import reference

from _helpers import clustered_symmetric, dense_from_band as _dense_from_band

U = 2.0 ** -53


def _tol(n, norm2):
    return 8.0 * max(n, 1) * U * norm2


def _sym(rng, n):
    x = rng.standard_normal((n, n))
    return 0.5 * (x + x.T)


def _check(G, b, xp=np):
    n = G.shape[0]
    want = np.linalg.eigvalsh(G)
    norm2 = float(np.abs(want).max()) if n else 0.0
    band = ts.dense_to_band(xp, xp.asarray(G), b)
    assert isinstance(band, np.ndarray) and band.shape == (b + 1, n) and band.dtype == np.float64
    # entries past the matrix's end are zero
    for r in range(1, b + 1):
        assert not band[r, max(n - r, 0):].any()
    got = ts.band_eigvalsh(band)
    np.testing.assert_allclose(got, want, rtol=0, atol=_tol(n, norm2))
    # stage 1 alone, with numpy as the eigensolver of the band (independent of the host stages)
    np.testing.assert_allclose(np.linalg.eigvalsh(_dense_from_band(band)), want, rtol=0, atol=_tol(n, norm2))
    fro = np.linalg.norm(G)
    assert abs(np.linalg.norm(_dense_from_band(band)) - fro) <= _tol(n, fro)
    return band


@pytest.mark.parametrize("b", [8, 32, 64])
@pytest.mark.parametrize("n", [1, 2, 5, 100, 203])
def test_band_has_the_eigenvalues(rng, n, b):
    _check(_sym(rng, n), b)


@pytest.mark.parametrize("b", [8, 32, 64])
def test_rank_deficient_gram(rng, b):
    # a Gram of rank 7 < b: panels become rank-deficient, most eigenvalues are 0
    x = rng.standard_normal((150, 7))
    _check(x @ x.T, b)


@pytest.mark.parametrize("b", [8, 32, 64])
def test_clustered_spectrum(rng, b):
    _check(clustered_symmetric(rng, 170), b)


@pytest.mark.parametrize("b", [8, 32])
def test_exactly_diagonal(rng, b):
    d = rng.standard_normal(90)
    band = _check(np.diag(d), b)
    # every panel is zero below the band (τ = 0 throughout): the band is G itself, bit for bit
    np.testing.assert_array_equal(band[0], d)
    assert not band[1:].any()
    np.testing.assert_array_equal(ts.band_eigvalsh(band), np.sort(d))


def test_zero_columns_beside_dense_ones(rng):
    # some panel columns exactly zero below the band (τ = 0) and others not, in the same panel
    G = _sym(rng, 60)
    G[:, 2:5] = 0.0
    G[2:5, :] = 0.0
    G[[2, 3, 4], [2, 3, 4]] = [1.0, -2.0, 0.5]
    _check(G, 8)


def test_no_copy_with_overwrite(rng):
    G = _sym(rng, 40)
    keep = G.copy()
    ts.dense_to_band(np, G, 8)
    np.testing.assert_array_equal(G, keep)  # default: G untouched
    ts.dense_to_band(np, G, 8, overwrite=True)
    assert not np.array_equal(G, keep)  # overwrite: reduced in G's memory


@pytest.mark.parametrize("kd", [0, 1, 2, 5, 12])
def test_band_eigvalsh_on_given_bands(rng, kd):
    # the host stages alone, on a random band (kd = 12 ≥ n − 1 is clipped), against numpy
    n = 11
    band = rng.standard_normal((kd + 1, n))
    for r in range(kd + 1):
        band[r, max(n - r, 0):] = 0.0
    B = _dense_from_band(band)
    want = np.linalg.eigvalsh(B)
    np.testing.assert_allclose(ts.band_eigvalsh(band), want, rtol=0, atol=_tol(n, np.abs(want).max()))


@pytest.mark.parametrize("n, kd", [(300, 6), (400, 64), (40, 3)])
def test_band_eigvalsh_bitwise_across_thread_counts(rng, n, kd):
    # sweeps run side by side in LAPACK's order per sweep: every thread count gives the same bits
    band = np.asfortranarray(rng.standard_normal((kd + 1, n)))
    for r in range(kd + 1):
        band[r, n - r:] = 0.0
    one = ts.band_eigvalsh(band, 1)
    for t in (2, 3, 5, 16):
        np.testing.assert_array_equal(ts.band_eigvalsh(band, t), one)
    want = np.linalg.eigvalsh(_dense_from_band(band))
    np.testing.assert_allclose(one, want, rtol=0, atol=_tol(n, np.abs(want).max()))


@pytest.mark.parametrize("count, cores, split", [(1, 16, (1, 16)), (3, 16, (3, 5)), (100, 16, (8, 2)),
                                                 (None, 16, (8, 2)), (1, 1, (1, 2)), (5, 2, (1, 2))])
def test_host_split(monkeypatch, count, cores, split):
    from gsa_fast import _backend

    class Core:
        @staticmethod
        def get_num_threads():
            return cores
    monkeypatch.setattr(_backend, "core", Core)
    assert ts._host_split(count) == split


def test_eigvalsh_stack(rng):
    G = np.stack([_sym(rng, 70) for _ in range(3)])
    got = ts.eigvalsh_stack(np, G, 16)
    want = np.linalg.eigvalsh(G)
    np.testing.assert_allclose(got, want, rtol=0, atol=_tol(70, np.abs(want).max()))


def test_bad_arguments():
    with pytest.raises(ValueError, match=r"dense_to_band\(\): b must be an int >= 1"):
        ts.dense_to_band(np, np.eye(4), 0)
    with pytest.raises(ValueError, match=r"dense_to_band\(\): G must be a square"):
        ts.dense_to_band(np, np.ones((3, 4)), 2)
    with pytest.raises(TypeError, match=r"dense_to_band\(\): G must be a float64"):
        ts.dense_to_band(np, np.eye(4, dtype=np.float32), 2)
    with pytest.raises(TypeError, match=r"band_eigvalsh\(\): band must be a float64"):
        ts.band_eigvalsh(np.ones((2, 4), dtype=np.float32))
    with pytest.raises(ValueError, match=r"band_eigvalsh\(\): band must be an array of shape"):
        ts.band_eigvalsh(np.ones(4))


@pytest.mark.parametrize("b", [8, 64])
def test_dense_to_band_on_device(device, rng, b):
    # the same code with device.xp: numpy here, cupy on a GPU (the band comes back to the host)
    G = _sym(rng, 150)
    _check(G, b, device.xp)


def _svdvals_route(to_dev, to_host, rng, driver):
    # svdvals' Gram route with a two-stage eigensolver, stacked and ragged, against the float64
    # reference within the accuracy contract c·max(m, n)·u·σ_1 (c = 4, u = 2⁻²⁴ for float32 input)
    x = rng.standard_normal((2, 90, 130)).astype(np.float32)
    want = reference.svdvals(x)
    got = to_host(g.svdvals(to_dev(x), _eig_driver=driver))
    assert (np.abs(got - want) <= 4 * 130 * 2.0 ** -24 * want[:, :1]).all()
    parts = [x[0], x[1, :50, :70]]
    rag = g.svdvals([to_dev(a) for a in parts], _eig_driver=driver)
    for k, a in enumerate(parts):
        w = reference.svdvals(a)
        v = to_host(rag.values[rag.offsets[k]:rag.offsets[k + 1]])
        np.testing.assert_allclose(v, w, rtol=0, atol=4 * max(a.shape) * 2.0 ** -24 * float(w[0]))


def test_svdvals_band_route_on_device(device, rng):
    # _eig_driver="band": the CPU band route on "cpu", dense → band on the GPU on "cuda"
    _svdvals_route(device.asarray, device.asnumpy, rng, "band")


@pytest.mark.parametrize("driver", ["band", "band_device", "auto"])
def test_device_route_logic_with_numpy(rng, driver):
    # the cupy route's own code (gsa_fast._gpu_spectra), handed numpy as its namespace: the Gram
    # stack, the two-stage eigensolver with Grams reduced in place, the descending square roots;
    # stacked and ragged (the ragged band path computes each Gram inside a generator)
    from gsa_fast import _gpu_spectra as gs
    x = rng.standard_normal((3, 70, 100)).astype(np.float32)
    want = reference.svdvals(x)
    got = gs._values_stack(np, x, False, "gram", driver)
    assert (np.abs(got - want) <= 4 * 100 * 2.0 ** -24 * want[:, :1]).all()
    parts = [x[0], x[1, :40, :90].T, x[2, :0]]
    for a, v in zip(parts, gs._values_list(np, [(a, False) for a in parts], "gram", driver)):
        w = reference.svdvals(a)
        assert v.shape == w.shape
        assert (np.abs(v - w) <= 4 * max(a.shape) * 2.0 ** -24 * (w[0] if w.size else 0.0)).all()


def test_eigvalsh_stack_with_device_stage2(rng):
    # stage 2 where the Gram lives (_gpu_band: the bulge-chasing executor on numpy), then dsterf
    G = np.stack([_sym(rng, 70) for _ in range(3)])
    want = np.linalg.eigvalsh(G)
    got = ts.eigvalsh_stack(np, G, 16, stage2="device")
    np.testing.assert_allclose(got, want, rtol=0, atol=_tol(70, np.abs(want).max()))
    np.testing.assert_allclose(got, ts.eigvalsh_stack(np, G, 16), rtol=0, atol=_tol(70, np.abs(want).max()))


class _DeviceStandIn:
    """numpy under another name: `xp is not numpy`, so _two_stage takes its device branch."""

    def __getattr__(self, name):
        return getattr(np, name)


def test_device_stage2_keeps_stage_3_on_the_device(rng, monkeypatch):
    # On the device, stage 3 is _gpu_tridiag's solver on the (d, e) the bulge kernel left there:
    # nothing goes to the host pool. A stand-in namespace takes that branch with the CPU twins
    # of both kernels (recorded), and the values must still be the stack's eigenvalues.
    from gsa_fast import _gpu_band, _gpu_tridiag

    xp, calls = _DeviceStandIn(), []
    band_to_tri, tri = _gpu_band.band_to_tridiagonal, _gpu_tridiag.eigvalsh_tridiagonal

    def chase(ns, band, fn):
        assert ns is xp and not isinstance(band, tuple)
        calls.append("bulge")
        return band_to_tri(np, band, fn=fn)

    def solve(ns, d, e, fn):
        assert ns is xp
        calls.append("tridiag")
        return tri(np, d, e, fn=fn)

    def host_dsterf(*args):  # the host stage 3 must not run
        raise AssertionError("dsterf on the host pool")

    monkeypatch.setattr(_gpu_band, "band_to_tridiagonal", chase)
    monkeypatch.setattr(_gpu_tridiag, "eigvalsh_tridiagonal", solve)
    monkeypatch.setattr(_gpu_band, "tridiagonal_eigvalsh", host_dsterf)
    G = np.stack([_sym(rng, 70) for _ in range(3)])
    want = np.linalg.eigvalsh(G)
    got = ts.eigvalsh_stack(xp, G.copy(), 16, stage2="device")
    assert calls == ["bulge", "tridiag"] * 3
    np.testing.assert_allclose(got, want, rtol=0, atol=_tol(70, np.abs(want).max()))
    assert ts.eigvalsh_stack(xp, G[:0], 16, stage2="device").shape == (0, 70)


def test_svdvals_band_device_route_on_the_device(cupy, rng):
    # _eig_driver="band_device" (cupy input only): dense → band and the bulge chasing on the GPU
    _svdvals_route(cupy.asarray, cupy.asnumpy, rng, "band_device")


def test_device_route_refuses_unknown_driver(cupy):
    with pytest.raises(ValueError, match=r"svdvals\(\): _eig_driver must be one of"):
        g.svdvals(cupy.ones((4, 4)), _eig_driver="sytrd")


def test_core_entry_checks_its_layout():
    # contract violations by a caller of _core itself are ValueErrors (require()), never a crash
    from gsa_fast import _backend
    with pytest.raises(ValueError, match="out must have n entries"):
        _backend.core.band_storage_eigvalues(np.zeros((5, 3)), np.empty(4), 1)
    with pytest.raises(ValueError, match=r"band must be \(n, kd \+ 1\)"):
        _backend.core.band_storage_eigvalues(np.zeros(5), np.empty(5), 1)
