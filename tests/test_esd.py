"""esd_powerlaw_fit: the C++ kernel against the independent O(N²) reference (gsa_fast.reference),
on every MiniLM layer and on random heavy-tailed spectra with ties; options; bad input.

Tolerances. Both sides pick the candidate x_min by the first minimum of D; the kernel's D uses
exp((1−α)·(log x − log x_min)) with a ≤ 2-ulp exp where the reference uses numpy's power of
x/x_min, so the two D differ by a few ulp of quantities ≤ 1 (≤ 1e-15): D is compared to 1e-12
and x_min must be the same eigenvalue (bitwise). α = 1 + n/s: the kernel's s comes from
double-double suffix sums of log x, the reference's from np.sum(log(x/x_min)); both are within
~n·u·|log x|max/s ≲ 1e-13 relative of the exact s for these spectra, so α and σ are compared to
1e-12 relative.
"""
from __future__ import annotations

import numpy as np
import pytest

import gsa_fast as g
from gsa_fast import reference as R

RTOL = 1e-12
DTOL = 1e-12


def _same(a, b):
    a_alpha, b_alpha = np.asarray(a.alpha, float), np.asarray(b.alpha, float)
    assert np.array_equal(np.isnan(a_alpha), np.isnan(b_alpha))
    np.testing.assert_array_equal(a.xmin, b.xmin)
    np.testing.assert_allclose(a.alpha, b.alpha, rtol=RTOL)
    np.testing.assert_allclose(a.sigma, b.sigma, rtol=RTOL, atol=1e-300)
    np.testing.assert_allclose(a.D, b.D, rtol=0, atol=DTOL)
    np.testing.assert_array_equal(a.num_pl_spikes, b.num_pl_spikes)
    np.testing.assert_array_equal(a.num_fit, b.num_fit)
    np.testing.assert_array_equal(a.xmax, b.xmax)
    assert list(np.asarray(a.warning).reshape(-1)) == list(np.asarray(b.warning).reshape(-1))


def _heavy(rng, n, shape, ties=False, dup=False):
    x = rng.pareto(shape, n) + 0.01
    if ties:
        x = np.round(x, 1) + 0.1
    if dup:
        x = np.concatenate([x, x[: n // 3]])
    rng.shuffle(x)
    return x


@pytest.fixture(scope="module")
def minilm_evals():
    from gsa_fast.weights import bundled_model_path, layer_matrices, read_safetensors

    mats = list(layer_matrices(read_safetensors(bundled_model_path()), min_side=8).values())
    S = g.svdvals(mats)
    return [np.asarray(s) ** 2 for s in S]


def test_every_minilm_layer_matches_reference(minilm_evals):
    assert len(minilm_evals) >= 39
    batch = g.RaggedSpectra.from_list(minilm_evals)
    fast = g.esd_powerlaw_fit(batch)
    ref = R.esd_powerlaw_fit(batch)
    _same(fast, ref)
    assert np.all(np.isfinite(fast.alpha)) and np.all(fast.alpha > 1)


def test_singular_value_input_is_squared(minilm_evals):
    sv = [np.sqrt(e) for e in minilm_evals[:6]]
    a = g.esd_powerlaw_fit(g.RaggedSpectra.from_list(sv), from_singular_values=True)
    b = R.esd_powerlaw_fit(g.RaggedSpectra.from_list([s * s for s in sv]))
    np.testing.assert_array_equal(a.num_pl_spikes, b.num_pl_spikes)
    np.testing.assert_allclose(a.alpha, b.alpha, rtol=1e-12)


@pytest.mark.parametrize("n", [2, 5, 8, 9, 12, 19, 20, 21, 64, 300, 1500])
@pytest.mark.parametrize("kind", ["plain", "ties", "dup"])
def test_random_heavy_tailed_spectra(n, kind):
    rng = np.random.default_rng(1000 * n + len(kind))
    for shape in (0.8, 1.5, 3.0):
        x = _heavy(rng, n, shape, ties=kind == "ties", dup=kind == "dup")
        _same(g.esd_powerlaw_fit(x), R.esd_powerlaw_fit(x))


def test_batches_dense_ragged_threads_agree():
    rng = np.random.default_rng(7)
    X = np.stack([_heavy(rng, 200, 1.0 + 0.3 * k) for k in range(6)]).reshape(2, 3, 200)
    fast = g.esd_powerlaw_fit(X)
    assert fast.alpha.shape == (2, 3)
    _same(fast, R.esd_powerlaw_fit(X))
    one = [g.esd_powerlaw_fit(X[i, j]) for i in range(2) for j in range(3)]
    np.testing.assert_array_equal(fast.alpha.reshape(-1), [o.alpha for o in one])
    for t in (1, 2, 3):
        np.testing.assert_array_equal(g.esd_powerlaw_fit(X, threads=t).D, fast.D)
    # one big spectrum: candidates shared by the workers, same bits for every worker count
    big = _heavy(rng, 4000, 1.2, ties=True)
    r1 = g.esd_powerlaw_fit(big, threads=1)
    for t in (2, 4):
        rt = g.esd_powerlaw_fit(big, threads=t)
        assert (rt.alpha, rt.xmin, rt.D) == (r1.alpha, r1.xmin, r1.D)
    f32 = g.esd_powerlaw_fit(X.astype(np.float32))
    _same(f32, R.esd_powerlaw_fit(X.astype(np.float32).astype(np.float64)))


def test_pruned_scan_equals_full_scan_near_ties():
    # Two regions with nearly equal KS distance: the pruning must never drop the first minimum.
    rng = np.random.default_rng(11)
    for _ in range(20):
        x = np.concatenate([_heavy(rng, 150, 1.3), _heavy(rng, 150, 1.3) * 30])
        _same(g.esd_powerlaw_fit(x), R.esd_powerlaw_fit(x))


def test_hand_checked_small_example():
    # N = 25 >= 20: standard rule. For x_k = e^{k/25}·c the candidate D values are analytic; here
    # we check the formulas on the winner directly.
    x = np.exp(np.arange(25) / 5.0)
    r = g.esd_powerlaw_fit(x)
    i = int(np.flatnonzero(x == r.xmin)[0])
    tail = x[i:]
    n = tail.size
    alpha = 1 + n / np.sum(np.log(tail / tail[0]))
    D = np.max(np.abs(1 - (tail / tail[0]) ** (1 - alpha) - np.arange(n) / n))
    assert r.alpha == pytest.approx(alpha, rel=1e-13)
    assert r.D == pytest.approx(D, abs=1e-14)
    assert r.sigma == pytest.approx((alpha - 1) / np.sqrt(n), rel=1e-13)
    assert r.num_pl_spikes == n
    # every other candidate has a larger (or equal, later) D
    for j in range(24):
        t = x[j:]
        a = 1 + t.size / np.sum(np.log(t / t[0]))
        d = np.max(np.abs(1 - (t / t[0]) ** (1 - a) - np.arange(t.size) / t.size))
        assert d >= r.D - 1e-14 and (d > r.D + 1e-14 or j >= i)


@pytest.mark.parametrize("c", [1.0, 2.0**900, 2.0**-900])
def test_alpha_is_a_few_ulp_at_any_scale(c):
    # Regression (found by tests/test_esd_props.py's scale property, checked with mpmath): the
    # kernel took logs of the eigenvalues themselves, whose rounding (2u·|log x| ≈ 1.5e-13 at
    # x ~ 1e±271) made α ~1000 ulp off the exact 1 + n/s at 2^±900 while the fit is scale-free;
    # it now takes log(x/x_0) and α is within a few ulp of the mpmath value at every scale.
    mpmath = pytest.importorskip("mpmath")
    rng = np.random.default_rng(5)
    for _ in range(5):
        x = (rng.pareto(2.0, 60) + 1.0) * c
        f = g.esd_powerlaw_fit(x, evals_thresh=0.0)
        d = np.sort(x)
        tail = d[int(np.flatnonzero(d == f.xmin)[0]):]
        with mpmath.workdps(40):
            s = mpmath.fsum(mpmath.log(mpmath.mpf(float(v)) / mpmath.mpf(float(tail[0]))) for v in tail)
            exact = float(1 + tail.size / s)
        assert abs(f.alpha - exact) <= 8 * 2.0**-53 * exact
        # and the same fit as at scale 1 (c is a power of two: the data scale exactly)
        one = g.esd_powerlaw_fit(x / c, evals_thresh=0.0)
        assert f.xmin == one.xmin * c and abs(f.alpha - one.alpha) <= 8 * 2.0**-53 * one.alpha


@pytest.mark.parametrize("opts", [dict(xmax=3), dict(xmax=-5), dict(xmax="force"), dict(xmax=7.5),
                                  dict(xmin=2.0), dict(xmin=2.0, xmax=3), dict(evals_thresh=0.5)])
def test_options_match_reference(opts):
    rng = np.random.default_rng(3)
    for n in (15, 60, 400):
        x = _heavy(rng, n, 1.4, ties=True)
        x = np.concatenate([x, [x.max()]])  # a duplicated maximum: "force" stops at its first copy
        _same(g.esd_powerlaw_fit(x, **opts), R.esd_powerlaw_fit(x, **opts))


def test_xmax_int_drops_top_eigenvalues():
    rng = np.random.default_rng(5)
    x = _heavy(rng, 300, 1.5)
    a = g.esd_powerlaw_fit(x, xmax=4)
    b = g.esd_powerlaw_fit(np.sort(x)[:-4])
    assert (a.alpha, a.xmin, a.D, a.xmax) == (b.alpha, b.xmin, b.D, b.xmax)


def test_warnings_follow_weightwatcher():
    rng = np.random.default_rng(9)
    fits = g.esd_powerlaw_fit(g.RaggedSpectra.from_list([_heavy(rng, 500, s) for s in (0.5, 2.0, 8.0)]))
    for a, w in zip(fits.alpha, fits.warning):
        assert w == ("over-trained" if a < 2 else "under-trained" if a > 6 else "")


# ------------------------------------------------------------------------------------------------
# bad input


def test_degenerate_spectra_give_nan_and_warning():
    cases = [np.array([]), np.array([3.0]), np.array([1e-9, 2.0]), np.full(30, 2.5), np.full(10, 1.0),
             np.array([0.0, 0.0, 0.0])]
    fits = g.esd_powerlaw_fit(g.RaggedSpectra.from_list(cases))
    assert np.all(np.isnan(fits.alpha)) and np.all(np.isnan(fits.D))
    assert [w.split(":")[0] for w in fits.warning] == ["failed"] * len(cases)
    assert "equal" in fits.warning[3] and "fewer than 2" in fits.warning[1]
    ref = R.esd_powerlaw_fit(g.RaggedSpectra.from_list(cases))
    assert list(ref.warning) == list(fits.warning)
    clip = g.esd_powerlaw_fit(np.arange(1.0, 11.0), xmax=6)
    assert np.isnan(clip.alpha) and "xmax" in clip.warning


def test_bad_values_raise_naming_the_spectrum():
    good = np.linspace(1, 2, 30)
    with pytest.raises(ValueError, match=r"esd_powerlaw_fit\(\): eigenvalues must be .*NaN or Inf in spectrum 1"):
        g.esd_powerlaw_fit(g.RaggedSpectra.from_list([good, np.array([1.0, np.nan, 2.0])]))
    with pytest.raises(ValueError, match=r"negative eigenvalue beyond rounding in spectrum \(1, 0\)"):
        X = np.ones((2, 2, 30))
        X[1, 0, 3] = -1e-3
        g.esd_powerlaw_fit(X)
    with pytest.raises(ValueError, match="NaN or Inf"):
        g.esd_powerlaw_fit(np.array([1.0, np.inf]))
    with pytest.raises(ValueError, match="spectrum 0"):
        R.esd_powerlaw_fit(np.array([1.0, np.inf]))
    # a negative value at rounding level is not an error: it is below evals_thresh
    x = np.concatenate([[-1e-18], np.linspace(1, 5, 40)])
    _same(g.esd_powerlaw_fit(x), R.esd_powerlaw_fit(x))


def test_bad_arguments():
    x = np.linspace(1, 2, 30)
    with pytest.raises(TypeError, match=r"esd_powerlaw_fit\(\): eigenvalues must be"):
        g.esd_powerlaw_fit("abc")
    with pytest.raises(TypeError):
        g.esd_powerlaw_fit(np.array([1, 2, 3], dtype=complex))
    with pytest.raises(ValueError, match="xmax can not be 0"):
        g.esd_powerlaw_fit(x, xmax=0)
    with pytest.raises(ValueError, match="xmax must be"):
        g.esd_powerlaw_fit(x, xmax="auto")
    with pytest.raises(ValueError, match="xmin must be"):
        g.esd_powerlaw_fit(np.ones((3, 30)), xmin=[1.0, 2.0])
    with pytest.raises(TypeError, match="evals_thresh"):
        g.esd_powerlaw_fit(x, evals_thresh="1e-5")
    with pytest.raises(ValueError, match="threads"):
        g.esd_powerlaw_fit(x, threads=0)
    with pytest.raises(ValueError, match="at least 1-D"):
        g.esd_powerlaw_fit(3.0)


def test_torch_tensor_input():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(2)
    x = _heavy(rng, 100, 1.5)
    r = g.esd_powerlaw_fit(torch.from_numpy(x))
    assert r.alpha == g.esd_powerlaw_fit(x).alpha


# ------------------------------------------------------------------------------------------------
# every device (CPU numpy; CUDA cupy in, cupy out where a device exists)


def _fit_on(device, x, **opts):
    """The fit of device-resident input, checked to live on the device (warning: numpy), as numpy."""
    fit = g.esd_powerlaw_fit(x, **opts)
    fields = []
    for name, f in zip(fit._fields, fit):
        if name != "warning" and np.ndim(f):
            assert device.is_native(f), name
        fields.append(f if name == "warning" else np.asarray(device.asnumpy(f)))
    return type(fit)(*fields)


@pytest.mark.parametrize("n", [5, 19, 20, 64, 1500])
def test_esd_on_device_matches_reference(device, n):
    # The device runs the same math/esd.hpp steps; its log/exp may differ from the host libm by an
    # ulp, well inside the module's tolerances (D 1e-12 absolute, α and σ 1e-12 relative, the same
    # x_min eigenvalue).
    rng = np.random.default_rng(100 + n)
    X = np.stack([_heavy(rng, n, s, ties=k == 1) for k, s in enumerate((0.8, 1.5, 3.0))])
    _same(_fit_on(device, device.asarray(X)), R.esd_powerlaw_fit(X))
    _same(_fit_on(device, device.asarray(X.astype(np.float32))), R.esd_powerlaw_fit(X.astype(np.float32).astype(np.float64)))
    _same(_fit_on(device, device.asarray(np.sqrt(X)), from_singular_values=True),
          R.esd_powerlaw_fit(np.sqrt(X) ** 2))
    parts = [X[0], X[1, : n // 2 + 2], X[2]]
    ragged = g.RaggedSpectra(device.asarray(np.concatenate(parts)), np.cumsum([0] + [p.size for p in parts]))
    _same(_fit_on(device, ragged), R.esd_powerlaw_fit(g.RaggedSpectra.from_list(parts)))
    _same(_fit_on(device, [device.asarray(p) for p in parts]), R.esd_powerlaw_fit(g.RaggedSpectra.from_list(parts)))
    for opts in (dict(xmax=3), dict(xmax="force"), dict(xmin=2.0), dict(xmax=7.5), dict(evals_thresh=0.5)):
        _same(_fit_on(device, device.asarray(X), **opts), R.esd_powerlaw_fit(X, **opts))


def test_esd_on_device_degenerate_and_bad_values(device):
    cases = [np.array([]), np.array([3.0]), np.array([1e-9, 2.0]), np.full(30, 2.5), np.full(10, 1.0),
             np.array([0.0, 0.0, 0.0])]
    flat = device.asarray(np.concatenate(cases))
    offsets = np.cumsum([0] + [c.size for c in cases])
    fits = _fit_on(device, g.RaggedSpectra(flat, offsets))
    assert np.all(np.isnan(fits.alpha)) and np.all(np.isnan(fits.D))
    assert list(fits.warning) == list(R.esd_powerlaw_fit(g.RaggedSpectra.from_list(cases)).warning)
    clip = _fit_on(device, device.asarray(np.arange(1.0, 11.0)), xmax=6)
    assert np.isnan(clip.alpha) and "xmax" in clip.warning
    good = np.linspace(1, 2, 30)
    with pytest.raises(ValueError, match=r"esd_powerlaw_fit\(\): eigenvalues must be .*NaN or Inf in spectrum 1"):
        g.esd_powerlaw_fit(device.asarray(np.stack([good, np.r_[good[:-1], np.nan]])))
    X = np.ones((2, 2, 30))
    X[1, 0, 3] = -1e-3
    with pytest.raises(ValueError, match=r"negative eigenvalue beyond rounding in spectrum \(1, 0\)"):
        g.esd_powerlaw_fit(device.asarray(X))
    with pytest.raises(ValueError, match="xmin must be"):
        g.esd_powerlaw_fit(device.asarray(np.ones((3, 30))), xmin=[1.0, 2.0])
    with pytest.raises(TypeError, match=r"esd_powerlaw_fit\(\): eigenvalues must be"):
        g.esd_powerlaw_fit(device.asarray(np.array([1, 2, 3], dtype=complex)))
    with pytest.raises(ValueError, match="threads"):
        g.esd_powerlaw_fit(device.asarray(good), threads=0)


def test_esd_on_device_refuses_mixed_operands(cupy):
    x = np.linspace(1, 2, 30)
    with pytest.raises(TypeError, match="all be numpy arrays or all be cupy arrays"):
        g.esd_powerlaw_fit([cupy.asarray(x), x])


@pytest.mark.parametrize("layout", ["dense", "stack", "ragged", "empty"])
def test_device_route_counts_spectra_before_any_device_work(rng, layout):
    """The device route checks xmin/xmax (one value per spectrum) before it sorts on the device,
    so it counts the spectra from the layout alone; that count must be what the sort finds. Run
    with numpy standing in for cupy (the layout logic is the same; a list is one spectrum per
    entry, and its route refuses numpy entries, so lists are left to the device tests)."""
    from gsa_fast import _gpu_esd
    from gsa_fast._ragged import RaggedSpectra

    x = {"dense": lambda: rng.random(30),
         "stack": lambda: rng.random((2, 3, 25)),
         "ragged": lambda: RaggedSpectra(rng.random(40), np.array([0, 10, 10, 40])),
         "empty": lambda: rng.random((0, 12))}[layout]()
    y, starts, lengths, shape, ragged = _gpu_esd._sorted(np, x, "esd_powerlaw_fit", False)
    assert _gpu_esd._count(x) == lengths.size
