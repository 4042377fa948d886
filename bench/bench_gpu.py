"""GPU kernels vs the CPU kernels on the same inputs (skipped without a CUDA device and cupy).

Timings include a device synchronize; inputs are already resident on the device.
"""
from __future__ import annotations

import numpy as np
import pytest

import gsa_fast as g

N = 1_000_000


def _synced(cp, fn, *args, **kw):
    """fn(*args) followed by a device synchronize, so the benchmark times the kernels."""
    def run():
        out = fn(*args, **kw)
        cp.cuda.get_current_stream().synchronize()
        return out
    return run


def _cupy():
    if g.build_info()["cuda_devices"] == 0:
        pytest.skip("no CUDA device")
    return pytest.importorskip("cupy")


@pytest.fixture(scope="module")
def params():
    r = np.random.default_rng(0)
    d = np.exp(r.uniform(0, np.log(1e12), N)).astype(np.int64)
    s = r.uniform(0.0, 4.0, N)
    return d, s


@pytest.mark.benchmark(group="harmonic_gpu")
def bench_harmonic_gpu__gsa(benchmark, params):
    cp = _cupy()
    d, s = (cp.asarray(a) for a in params)
    benchmark(_synced(cp, g.harmonic, d, s))


@pytest.mark.benchmark(group="harmonic_gpu")
def bench_harmonic_gpu__cpu(benchmark, params):
    _cupy()
    benchmark.pedantic(g.harmonic, args=params, rounds=3, iterations=1)


# orbit functions, one thread per parameter pair: (α, d) from `params` (α = s/2); the binary ones
# on the first 100,000 (bures_length, ~16 variances per panel, on the first 10,000) with β = α + Δ
_ORBIT = {"log_partition": (g.log_partition, N), "radial": (g.radial, N),
          "orbit_variance": (g.orbit_variance, N), "fisher_information": (g.fisher_information, N),
          "orbit_entropy": (g.orbit_entropy, N), "orbit_kl": (g.orbit_kl, 100_000),
          "orbit_bures_distance": (g.orbit_bures_distance, 100_000),
          "bures_length": (g.bures_length, 10_000)}


def _orbit_args(params, name):
    d, s = params
    fn, n = _ORBIT[name]
    a = 0.5 * s[:n]
    if name in ("orbit_kl", "orbit_bures_distance", "bures_length"):
        return fn, (a, a + 10.0 ** np.linspace(-9, 0, n), d[:n])
    return fn, (a, d[:n])


@pytest.mark.parametrize("name", sorted(_ORBIT))
@pytest.mark.benchmark(group="orbit_gpu")
def bench_orbit_gpu__gsa(benchmark, params, name):
    cp = _cupy()
    fn, args = _orbit_args(params, name)
    benchmark(_synced(cp, fn, *(cp.asarray(x) for x in args)))


@pytest.mark.parametrize("name", sorted(_ORBIT))
@pytest.mark.benchmark(group="orbit_gpu")
def bench_orbit_gpu__cpu(benchmark, params, name):
    _cupy()
    fn, args = _orbit_args(params, name)
    benchmark.pedantic(fn, args=args, rounds=3, iterations=1)


# the tails family, one thread per tuple: (α, ε, d) on the first 100,000 pairs of `params`
# (ranks and margins are O(log d) suffix sums each), plateau thresholds on 10,000 (ε, d) × 16 ranks
_TAILS = {"orbit_truncation_rank": lambda a, e, d: g.orbit_truncation_rank(a, e, d),
          "tail_margin": lambda a, e, d: g.tail_margin(a, e, d),
          "orbit_tail": lambda a, e, d: g.orbit_tail(a, d // 2, d),
          "plateau_thresholds": lambda a, e, d: g.plateau_thresholds(e[:10_000], d[:10_000], rmax=16)}


def _tails_args(params, xp):
    d, s = params
    n = 100_000
    return [xp.asarray(x) for x in (0.5 * s[:n], np.linspace(0.001, 0.5, n), d[:n])]


@pytest.mark.parametrize("name", sorted(_TAILS))
@pytest.mark.benchmark(group="tails_gpu")
def bench_tails_gpu__gsa(benchmark, params, name):
    cp = _cupy()
    benchmark(_synced(cp, _TAILS[name], *_tails_args(params, cp)))


@pytest.mark.parametrize("name", sorted(_TAILS))
@pytest.mark.benchmark(group="tails_gpu")
def bench_tails_gpu__cpu(benchmark, params, name):
    _cupy()
    benchmark.pedantic(_TAILS[name], args=_tails_args(params, np), rounds=3, iterations=1)


@pytest.fixture(scope="module")
def spectra_10k():
    r = np.random.default_rng(1)
    k = np.arange(1, 4097, dtype=np.float64)
    alpha = r.uniform(0.3, 1.5, size=(10_000, 1))
    return np.ascontiguousarray((k ** -alpha) * (1 + 0.01 * r.random((10_000, 4096))), dtype=np.float32)


@pytest.mark.benchmark(group="truncation_rank_gpu_10k_x_4096_f32")
def bench_truncation_rank_gpu__gsa(benchmark, spectra_10k):
    cp = _cupy()
    benchmark(_synced(cp, g.truncation_rank, cp.asarray(spectra_10k), [0.1, 0.01]))


@pytest.mark.benchmark(group="truncation_rank_gpu_10k_x_4096_f32")
def bench_truncation_rank_gpu__cpu(benchmark, spectra_10k):
    _cupy()
    benchmark.pedantic(g.truncation_rank, args=(spectra_10k, [0.1, 0.01]), rounds=3, iterations=1)


_STATS = {"rank_count": lambda x: g.rank_count(x, 1e-3), "spectral_entropy": g.spectral_entropy,
          "radial_functional": g.radial_functional, "energy": g.energy,
          "spectrum_tails": g.spectrum_tails}


@pytest.mark.parametrize("name", sorted(_STATS))
@pytest.mark.benchmark(group="energy_family_gpu_10k_x_4096_f32")
def bench_energy_family_gpu__gsa(benchmark, spectra_10k, name):
    cp = _cupy()
    benchmark(_synced(cp, _STATS[name], cp.asarray(spectra_10k)))


@pytest.mark.parametrize("name", sorted(_STATS))
@pytest.mark.benchmark(group="energy_family_gpu_10k_x_4096_f32")
def bench_energy_family_gpu__cpu(benchmark, spectra_10k, name):
    _cupy()
    benchmark.pedantic(_STATS[name], args=(spectra_10k,), rounds=3, iterations=1)


# Bures–Wasserstein: 2000 pairs of 32×32 PSD matrices (general and factor routes: cupy's batched
# eigh/svd between the cuda/bures.cu kernels) and 20,000 pairs of length-512 vectors (diagonal and
# Cartan routes, one block per pair). Built only where a device exists (skips first).
@pytest.fixture(scope="module")
def bures_inputs():
    _cupy()
    r = np.random.default_rng(4)
    A = r.standard_normal((2000, 32, 32))
    B = r.standard_normal((2000, 24, 32))
    P, Q = np.swapaxes(A, -1, -2) @ A, np.swapaxes(B, -1, -2) @ B
    a, b = r.exponential(size=(20_000, 512)), r.exponential(size=(20_000, 512))
    return {"bures_distance": (g.bures_distance, P, Q), "bures_fidelity": (g.bures_fidelity, P, Q),
            "bures_distance_factors": (g.bures_distance_factors, A, B),
            "bures_distance_diag": (g.bures_distance_diag, a, b),
            "bures_distance_cartan": (g.bures_distance_cartan, np.sort(a, axis=-1), b)}


_BURES = ["bures_distance", "bures_fidelity", "bures_distance_factors", "bures_distance_diag",
          "bures_distance_cartan"]


@pytest.mark.parametrize("name", _BURES)
@pytest.mark.benchmark(group="bures_gpu")
def bench_bures_gpu__gsa(benchmark, bures_inputs, name):
    cp = _cupy()
    fn, x, y = bures_inputs[name]
    benchmark.pedantic(_synced(cp, fn, cp.asarray(x), cp.asarray(y)), rounds=5, iterations=1,
                       warmup_rounds=1)


@pytest.mark.parametrize("name", _BURES)
@pytest.mark.benchmark(group="bures_gpu")
def bench_bures_gpu__cpu(benchmark, bures_inputs, name):
    _cupy()
    fn, x, y = bures_inputs[name]
    benchmark.pedantic(fn, args=(x, y), rounds=3, iterations=1)


# ESD power-law fit (WeightWatcher's alpha): 400 heavy-tailed spectra of 4096 eigenvalues, one
# block per spectrum on the device vs the CPU kernel (one spectrum per worker)
@pytest.fixture(scope="module")
def esd_spectra():
    _cupy()
    r = np.random.default_rng(5)
    return r.pareto(r.uniform(0.8, 3.0, size=(400, 1)), size=(400, 4096)) + 0.01


@pytest.mark.benchmark(group="esd_gpu_400_x_4096")
def bench_esd_gpu__gsa(benchmark, esd_spectra):
    cp = _cupy()
    benchmark.pedantic(_synced(cp, g.esd_powerlaw_fit, cp.asarray(esd_spectra)), rounds=3,
                       iterations=1, warmup_rounds=1)


@pytest.mark.benchmark(group="esd_gpu_400_x_4096")
def bench_esd_gpu__cpu(benchmark, esd_spectra):
    _cupy()
    benchmark.pedantic(g.esd_powerlaw_fit, args=(esd_spectra,), rounds=3, iterations=1)


# exponent charts and residuals, one block per spectrum: 2000 of the spectra above, sorted
# descending as svdvals returns them (unsorted rows would add the sorted copy of the retry)
_CHARTS = {"fit_exponent_top": lambda x: g.fit_exponent(x, "top"),
           "fit_exponent_bures": lambda x: g.fit_exponent(x, "bures"),
           "fit_exponent_lsq": lambda x: g.fit_exponent(x, "lsq"),
           "radial_residual": lambda x: g.radial_residual(x, 0.8),
           "chart_error": lambda x: g.chart_error(x, 0.8),
           "tail_residual": lambda x: g.tail_residual(x, 0.8)}


@pytest.fixture(scope="module")
def spectra_2k_sorted(spectra_10k):
    return np.ascontiguousarray(-np.sort(-spectra_10k[:2000], axis=-1))


@pytest.mark.parametrize("name", sorted(_CHARTS))
@pytest.mark.benchmark(group="charts_gpu_2000_x_4096_f32")
def bench_charts_gpu__gsa(benchmark, spectra_2k_sorted, name):
    cp = _cupy()
    benchmark.pedantic(_synced(cp, _CHARTS[name], cp.asarray(spectra_2k_sorted)), rounds=5,
                       iterations=1, warmup_rounds=1)


@pytest.mark.parametrize("name", sorted(_CHARTS))
@pytest.mark.benchmark(group="charts_gpu_2000_x_4096_f32")
def bench_charts_gpu__cpu(benchmark, spectra_2k_sorted, name):
    _cupy()
    benchmark.pedantic(_CHARTS[name], args=(spectra_2k_sorted,), rounds=3, iterations=1)


# orbit_probs: 100 exponents × d = 100,000 (10^7 float64 written)
_PROBS_ALPHA = np.linspace(0.0, 2.0, 100)


@pytest.mark.benchmark(group="orbit_probs_gpu_100_x_1e5")
def bench_orbit_probs_gpu__gsa(benchmark):
    cp = _cupy()
    benchmark(_synced(cp, g.orbit_probs, cp.asarray(_PROBS_ALPHA), 100_000))


@pytest.mark.benchmark(group="orbit_probs_gpu_100_x_1e5")
def bench_orbit_probs_gpu__cpu(benchmark):
    _cupy()
    benchmark.pedantic(g.orbit_probs, args=(_PROBS_ALPHA, 100_000), rounds=3, iterations=1)


@pytest.fixture(scope="module")
def big_f32():
    r = np.random.default_rng(2)
    return r.standard_normal((4096, 11008), dtype=np.float32)


@pytest.mark.benchmark(group="svdvals_gpu_4096x11008_f32")
def bench_svdvals_big_gpu__gsa(benchmark, big_f32):
    cp = _cupy()
    benchmark.pedantic(_synced(cp, g.svdvals, cp.asarray(big_f32)), rounds=3, iterations=1, warmup_rounds=1)


@pytest.mark.benchmark(group="svdvals_gpu_4096x11008_f32")
def bench_svdvals_big_gpu__gsa_two_stage(benchmark, big_f32):
    # the two-stage route (dense → band by float64 GEMMs on the device, band → tridiagonal →
    # dsterf on the host); its "peer / gsa_fast" column reads two_stage / syevd (< 1: faster)
    cp = _cupy()
    benchmark.pedantic(_synced(cp, g.svdvals, cp.asarray(big_f32), _eig_driver="band"),
                       rounds=3, iterations=1, warmup_rounds=1)


@pytest.mark.benchmark(group="svdvals_gpu_4096x11008_f32")
def bench_svdvals_big_gpu__gsa_syevd(benchmark, big_f32):
    # cuSOLVER syevd proper (cupy's 2-D eigvalsh); the default ("auto") hands cupy a stack of one
    # Gram, which cupy solves by syevjBatched (Jacobi), not syevd: this row measures the difference
    cp = _cupy()
    benchmark.pedantic(_synced(cp, g.svdvals, cp.asarray(big_f32), _eig_driver="syevd"),
                       rounds=3, iterations=1, warmup_rounds=1)


def bench_svdvals_big_gpu__gsa_band_device(benchmark, big_f32):
    # the two-stage route with the bulge chasing (cuda/bulge.cu) and the tridiagonal eigenvalues
    # (cuda/tridiag.cu) on the device too
    cp = _cupy()
    benchmark.pedantic(_synced(cp, g.svdvals, cp.asarray(big_f32), _eig_driver="band_device"),
                       rounds=3, iterations=1, warmup_rounds=1)


@pytest.fixture(scope="module")
def band4096():
    """A random symmetric band, q = 4096, b = 64, LAPACK lower band storage."""
    r = np.random.default_rng(3)
    band = r.standard_normal((65, 4096))
    for k in range(65):
        band[k, 4096 - k:] = 0.0
    return np.asfortranarray(band)


@pytest.mark.benchmark(group="band_to_tridiagonal_gpu_q4096_b64")
def bench_band_to_tridiagonal_gpu__gsa(benchmark, band4096):
    # stage 2 on the device (cuda/bulge.cu): the band already there, (d, e) left there
    cp = _cupy()
    from gsa_fast import _gpu_band
    band = cp.asarray(band4096)
    benchmark.pedantic(_synced(cp, _gpu_band.band_to_tridiagonal, cp, band), rounds=3, iterations=1,
                       warmup_rounds=1)


@pytest.mark.benchmark(group="band_to_tridiagonal_gpu_q4096_b64")
def bench_band_to_tridiagonal_gpu__host_lapack(benchmark, band4096):
    # the host stage of _eig_driver="band" without dsterf: LAPACK's dsb2st kernels on the host's
    # cores (_core.bulge_chase's CPU twin would be the same steps on one core)
    _cupy()
    from gsa_fast import _two_stage as ts
    benchmark.pedantic(ts.band_eigvalsh, args=(band4096, ts._host_split(1)[1]), rounds=3, iterations=1)


@pytest.mark.benchmark(group="svdvals_gpu_4096x11008_f32")
def bench_svdvals_big_gpu__cpu(benchmark, big_f32):
    _cupy()
    benchmark.pedantic(g.svdvals, args=(big_f32,), rounds=1, iterations=1)


@pytest.mark.benchmark(group="svdvals_gpu_4096x11008_f32")
def bench_svdvals_big_gpu__cupy_f32_eigvalsh(benchmark, big_f32):
    # the f32 route a GPU user would write (fails the accuracy contract, like numpy's f32 route)
    cp = _cupy()
    x = cp.asarray(big_f32)
    benchmark.pedantic(_synced(cp, lambda: cp.sqrt(cp.clip(cp.linalg.eigvalsh(x @ x.T)[::-1], 0, None))),
                       rounds=3, iterations=1, warmup_rounds=1)


@pytest.fixture(scope="module")
def stack64():
    return np.random.default_rng(3).standard_normal((2000, 64, 64))


@pytest.mark.benchmark(group="svdvals_gpu_2000x64x64_f64")
def bench_svdvals_stack_gpu__gsa(benchmark, stack64):
    cp = _cupy()
    benchmark.pedantic(_synced(cp, g.svdvals, cp.asarray(stack64)), rounds=5, iterations=1, warmup_rounds=1)


def _stack_driver(benchmark, stack64, driver):
    # q = 64, just above the Jacobi class of "auto": looped syevd and the checked syevjBatched
    # against cupy's stacked eigvalsh (the "gsa" row) decide where JACOBI_MAX_Q belongs
    cp = _cupy()
    benchmark.pedantic(_synced(cp, g.svdvals, cp.asarray(stack64), _eig_driver=driver),
                       rounds=3, iterations=1, warmup_rounds=1)


@pytest.mark.benchmark(group="svdvals_gpu_2000x64x64_f64")
def bench_svdvals_stack_gpu__syevd(benchmark, stack64):
    _stack_driver(benchmark, stack64, "syevd")


@pytest.mark.benchmark(group="svdvals_gpu_2000x64x64_f64")
def bench_svdvals_stack_gpu__jacobi(benchmark, stack64):
    _stack_driver(benchmark, stack64, "jacobi")


@pytest.mark.benchmark(group="svdvals_gpu_2000x64x64_f64")
def bench_svdvals_stack_gpu__cpu(benchmark, stack64):
    _cupy()
    benchmark.pedantic(g.svdvals, args=(stack64,), rounds=3, iterations=1)


# ---- grouped Gram stacks (issue 12 §2, batching): a Llama-3-70B block's six shapes scaled down by
# 32 (256², 32×256 ×2, 896×256 ×2, 256×896: Gram sizes 256 and 32), 400 float32 matrices. The
# grouped route solves one stack per Gram size (q = 32: checked syevjBatched, q = 256: cupy's
# stacked eigvalsh); the peers solve the same list one matrix at a time, or grouped with other
# eigensolvers ("syevd": one cuSOLVER syevd per matrix; "jacobi": checked syevjBatched for both).

_LLAMA32 = [(256, 256), (32, 256), (32, 256), (896, 256), (896, 256), (256, 896)]


@pytest.fixture(scope="module")
def llama400():
    r = np.random.default_rng(4)
    shapes = (_LLAMA32 * 67)[:400]
    return [r.standard_normal(s, dtype=np.float32) for s in shapes]


def _grouped_gpu(benchmark, mats, **kw):
    cp = _cupy()
    d = [cp.asarray(m) for m in mats]
    benchmark.pedantic(_synced(cp, g.svdvals, d, **kw), rounds=3, iterations=1, warmup_rounds=1)


@pytest.mark.benchmark(group="svdvals_gpu_llama_400_scaled32")
def bench_svdvals_grouped_gpu__gsa(benchmark, llama400):
    _grouped_gpu(benchmark, llama400)


@pytest.mark.benchmark(group="svdvals_gpu_llama_400_scaled32")
def bench_svdvals_grouped_gpu__one_at_a_time(benchmark, llama400):
    cp = _cupy()
    d = [cp.asarray(m) for m in llama400]
    benchmark.pedantic(_synced(cp, lambda: [g.svdvals(x) for x in d]), rounds=3, iterations=1, warmup_rounds=1)


@pytest.mark.benchmark(group="svdvals_gpu_llama_400_scaled32")
def bench_svdvals_grouped_gpu__syevd(benchmark, llama400):
    _grouped_gpu(benchmark, llama400, _eig_driver="syevd")


@pytest.mark.benchmark(group="svdvals_gpu_llama_400_scaled32")
def bench_svdvals_grouped_gpu__jacobi(benchmark, llama400):
    _grouped_gpu(benchmark, llama400, _eig_driver="jacobi")


@pytest.mark.benchmark(group="svdvals_gpu_llama_400_scaled32")
def bench_svdvals_grouped_gpu__cpu(benchmark, llama400):
    _cupy()
    benchmark.pedantic(g.svdvals, args=(llama400,), rounds=1, iterations=1)


# ---- the scan on the device (issue 12, item 3): the bundled MiniLM checkpoint, whole scan ----------

@pytest.fixture(scope="module")
def minilm():
    import gsa_fast.weights as w

    return w.bundled_model_path()


@pytest.mark.benchmark(group="scan_minilm_gpu")
def bench_scan_minilm_gpu__gsa(benchmark, minilm):
    # pinned staging + copy stream (gsa_fast._gpu_scan.DeviceStager), cuda svdvals, CPU diagnostics
    _cupy()
    benchmark.pedantic(g.scan, args=(minilm,), kwargs={"device": "cuda", "progress": False},
                       rounds=3, iterations=1, warmup_rounds=1)


@pytest.mark.benchmark(group="scan_minilm_gpu")
def bench_scan_minilm_gpu__cpu(benchmark, minilm):
    _cupy()
    benchmark.pedantic(g.scan, args=(minilm,), kwargs={"progress": False}, rounds=3, iterations=1)


# ---- product norms and chain margins on the device (python/gsa_fast/_gpu_margins.py) -------------

@pytest.fixture(scope="module")
def pair4096():
    _cupy()
    r = np.random.default_rng(4)
    return (r.standard_normal((4096, 4096), dtype=np.float32), r.standard_normal((4096, 4096), dtype=np.float32))


@pytest.mark.benchmark(group="product_norm_gpu_4096_f32")
def bench_product_norm_gpu__gsa(benchmark, pair4096):
    cp = _cupy()
    X, Y = (cp.asarray(a) for a in pair4096)
    benchmark.pedantic(_synced(cp, g.product_norm, X, Y), rounds=3, iterations=1, warmup_rounds=1)


@pytest.mark.benchmark(group="product_norm_gpu_4096_f32")
def bench_product_norm_gpu__cpu(benchmark, pair4096):
    _cupy()
    benchmark.pedantic(g.product_norm, args=pair4096, rounds=1, iterations=1)


@pytest.mark.benchmark(group="product_norm_gpu_4096_f32")
def bench_product_norm_gpu__cupy_dense(benchmark, pair4096):
    # the one-liner on the device: float32 product and SVD (float32 accuracy only)
    cp = _cupy()
    X, Y = (cp.asarray(a) for a in pair4096)
    benchmark.pedantic(_synced(cp, lambda: cp.linalg.svd(X @ Y, compute_uv=False)[0]), rounds=1, iterations=1)


@pytest.mark.benchmark(group="chain_margins_gpu_8x4096_f32")
def bench_chain_margins_gpu__gsa(benchmark, pair4096):
    cp = _cupy()
    chain = cp.asarray(np.stack([pair4096[i % 2] for i in range(8)]))
    benchmark.pedantic(_synced(cp, g.chain_margins, chain), rounds=1, iterations=1, warmup_rounds=0)


@pytest.mark.benchmark(group="chain_margins_gpu_8x4096_f32")
def bench_chain_margins_gpu__cpu(benchmark, pair4096):
    _cupy()
    chain = np.stack([pair4096[i % 2] for i in range(8)])
    benchmark.pedantic(g.chain_margins, args=(chain,), rounds=1, iterations=1)


# ---- the chain scan on the device (python/gsa_fast/_gpu_depth.py): issue 13's workload ----------

@pytest.fixture(scope="module")
def chain_1024():
    _cupy()  # skip before building 1 GiB of input
    r = np.random.default_rng(5)
    return (r.standard_normal((256, 1024, 1024), dtype=np.float32) / np.float32(32.0))


@pytest.mark.benchmark(group="chain_log_spectrum_gpu_256x1024_f32_k64")
def bench_chain_log_spectrum_gpu__gsa(benchmark, chain_1024):
    cp = _cupy()
    x = cp.asarray(chain_1024)
    benchmark.pedantic(_synced(cp, g.chain_log_spectrum, x, 64), rounds=3, iterations=1, warmup_rounds=1)


@pytest.mark.benchmark(group="chain_log_spectrum_gpu_256x1024_f32_k64")
def bench_chain_log_spectrum_gpu__cpu(benchmark, chain_1024):
    _cupy()
    benchmark.pedantic(g.chain_log_spectrum, args=(chain_1024, 64), rounds=1, iterations=1)



# depth family (cuda/depth.cu, python/gsa_fast/_gpu_dln.py; never run on a device yet).
# Sizes and floors (H100/H200: ~67 TF/s float64 tensor core, ~3.3–4.8 TB/s HBM):
# * dln_log_volume with grad, 64 rows of d = 2048: 64·d²/2 pairs (log, 2 expm1, 2 log each, ~60
#   flop) + 64·d² gradient terms (~40 flop): ~2·10¹⁰ flop of scalar float64 (not tensor-core)
#   arithmetic, ~0.6 ms at the ~34 TF/s float64 FMA rate; memory is negligible (1 MiB).
# * dln_eigenvalues, 16 rows of d = 2048: 6.7·10⁷ entries, 512 MiB written: ≥ 0.11 ms at HBM rate.
# * effective_rank, 20,000 spectra of width 4096 float32: 328 MB read once: ≥ 0.07 ms.
# * dln_operator, 64 × (512 × 512) float64: one batched SVD (cuSOLVER gesvdj) dominates.


def _depth_inputs(name):
    r = np.random.default_rng(0)
    if name == "dln_log_volume":
        return (np.abs(r.standard_normal((64, 2048))) + 1e-3, 4), {"grad": True}
    if name == "dln_eigenvalues":
        return (np.abs(r.standard_normal((16, 2048))), 4), {}
    if name == "effective_rank":
        return (np.abs(r.standard_normal((20_000, 4096), dtype=np.float32)),), {}
    X = r.standard_normal((64, 512, 512))
    return (X, r.standard_normal(X.shape), 4), {}


_DEPTH = ["dln_log_volume", "dln_eigenvalues", "effective_rank", "dln_operator"]


@pytest.mark.parametrize("name", _DEPTH)
@pytest.mark.benchmark(group="depth_gpu")
def bench_depth_gpu__gsa(benchmark, name):
    cp = _cupy()
    args, kw = _depth_inputs(name)
    dev = tuple(cp.asarray(a) if isinstance(a, np.ndarray) else a for a in args)
    benchmark(_synced(cp, getattr(g, name), *dev, **kw))


@pytest.mark.parametrize("name", _DEPTH)
@pytest.mark.benchmark(group="depth_gpu")
def bench_depth_gpu__cpu(benchmark, name):
    _cupy()
    args, kw = _depth_inputs(name)
    benchmark.pedantic(getattr(g, name), args=args, kwargs=kw, rounds=1, iterations=1)


# ---- the depth family's matrix functions on the device (python/gsa_fast/_gpu_depth_matrix.py) --
# Never run on a device yet. Sizes: a 32-layer 512² float64 chain for the prefix spectra (depths 8,
# 16, 32) and β_bal; 16 pairs of 1024² float32 for the alignment (k = 64) and the imbalance;
# 2048² SPD pairs for the Bures maps; the MiniLM-shaped encoder (random weights, 6 × 384) for
# jacobian_chain. Each group: the device route (__gsa) against the CPU route (__cpu), same input.

@pytest.fixture(scope="module")
def depth_gpu_inputs():
    _cupy()
    r = np.random.default_rng(9)
    chain = r.standard_normal((32, 512, 512)) / np.sqrt(512.0)
    pairs = r.standard_normal((2, 16, 1024, 1024), dtype=np.float32)
    Q = np.linalg.qr(r.standard_normal((2048, 2048)))[0]
    A = (Q * np.geomspace(1.0, 1e-3, 2048)) @ Q.T
    B = (Q[::-1] * np.geomspace(1.0, 1e-2, 2048)) @ Q[::-1].T
    return {"chain": chain, "pairs": pairs, "A": 0.5 * (A + A.T), "B": 0.5 * (B + B.T)}


_DEPTH_GPU = {  # name: (function, arguments from the inputs, keyword arguments)
    "prefix_rescaled": (g.prefix_log_svdvals, lambda x: (x["chain"], [8, 16, 32]), {"method": "rescaled"}),
    "prefix_graded": (g.prefix_log_svdvals, lambda x: (x["chain"], [8, 16, 32]), {"method": "graded"}),
    "balancedness_ratio": (g.balancedness_ratio, lambda x: (x["chain"],), {}),
    "subspace_alignment": (g.subspace_alignment, lambda x: (x["pairs"][0], x["pairs"][1], 64), {}),
    "relative_imbalance": (g.relative_imbalance, lambda x: (x["pairs"][0],), {}),
    "bures_transport_map": (g.bures_transport_map, lambda x: (x["A"], x["B"]), {}),
    "bures_geodesic": (g.bures_geodesic, lambda x: (x["A"], x["B"], np.array([0.25, 0.5, 0.75])), {}),
}


@pytest.mark.parametrize("name", sorted(_DEPTH_GPU))
def bench_depth_matrix_gpu__gsa(benchmark, depth_gpu_inputs, name):
    cp = _cupy()
    fn, args, kw = _DEPTH_GPU[name]
    dev = [cp.asarray(a) if isinstance(a, np.ndarray) else a for a in args(depth_gpu_inputs)]
    benchmark.group = f"depth_matrix_gpu_{name}"
    benchmark.pedantic(_synced(cp, fn, *dev, **kw), rounds=3, iterations=1, warmup_rounds=1)


@pytest.mark.parametrize("name", sorted(_DEPTH_GPU))
def bench_depth_matrix_gpu__cpu(benchmark, depth_gpu_inputs, name):
    _cupy()
    fn, args, kw = _DEPTH_GPU[name]
    benchmark.group = f"depth_matrix_gpu_{name}"
    benchmark.pedantic(fn, args=args(depth_gpu_inputs), kwargs=kw, rounds=1, iterations=1)


def _jacobian_model():
    _cupy()
    torch = pytest.importorskip("torch")
    if not torch.cuda.is_available():
        pytest.skip("torch has no CUDA device")
    from gsa_fast.minilm import build_bert

    return build_bert(seed=0, dtype="float32"), np.arange(1, 33)


@pytest.mark.benchmark(group="jacobian_chain_gpu_minilm_shape")
def bench_jacobian_chain_gpu__gsa(benchmark):
    cp = _cupy()
    model, ids = _jacobian_model()
    model = model.to("cuda")
    benchmark.pedantic(_synced(cp, g.jacobian_chain, model, ids), rounds=3, iterations=1,
                       warmup_rounds=1)


@pytest.mark.benchmark(group="jacobian_chain_gpu_minilm_shape")
def bench_jacobian_chain_gpu__cpu(benchmark):
    model, ids = _jacobian_model()
    benchmark.pedantic(g.jacobian_chain, args=(model, ids), rounds=1, iterations=1)


# Stage 3 of the two-stage eigensolver: the eigenvalues of one q = 4096 tridiagonal (what the
# device's band → tridiagonal stage hands over) by Sturm multisection on the device, for each
# schedule (points lanes per eigenvalue), against LAPACK dsterf on the host (the route's stage 3
# today). extra_info: max |λ − λ_stebz| / (u·max|T_ij|) (bound 24, tests/test_tridiag.py) and
# whether the device's bits equal the CPU executor's (they must).
@pytest.fixture(scope="module")
def tridiag_4096():
    r = np.random.default_rng(6)
    return r.standard_normal(4096), r.standard_normal(4095)


@pytest.mark.parametrize("points", [1, 4, 8, 16, 32])
@pytest.mark.benchmark(group="tridiag_eigvalues_gpu_q4096")
def bench_tridiag_gpu__gsa(benchmark, tridiag_4096, points):
    cp = _cupy()
    import scipy.linalg as sl

    from gsa_fast._gpu_tridiag import eigvalsh_tridiagonal
    d, e = tridiag_4096
    dd, ed = cp.asarray(d), cp.asarray(e)
    w = benchmark.pedantic(_synced(cp, eigvalsh_tridiagonal, cp, dd, ed, points=points), rounds=5,
                           iterations=1, warmup_rounds=1)
    ref = sl.eigvalsh_tridiagonal(d, e, lapack_driver="stebz", tol=2.0 ** -1021)
    scale = 2.0 ** -53 * max(np.abs(d).max(), np.abs(e).max())
    benchmark.extra_info["err_over_uM"] = float(np.abs(cp.asnumpy(w) - ref).max() / scale)
    benchmark.extra_info["bitwise_equal_cpu"] = bool(
        np.array_equal(cp.asnumpy(w), eigvalsh_tridiagonal(np, d, e, points=points)))


@pytest.mark.benchmark(group="tridiag_eigvalues_gpu_q4096")
def bench_tridiag_gpu__dsterf(benchmark, tridiag_4096):
    _cupy()
    import scipy.linalg as sl
    d, e = tridiag_4096
    benchmark.pedantic(sl.eigvalsh_tridiagonal, args=(d, e), kwargs={"lapack_driver": "sterf"}, rounds=3,
                       iterations=1)
