"""Issue 12's device targets, measured in one run (bench/gpu_run.sh calls it; needs a GPU and cupy).

    python bench/gpu_targets.py [--blocks 1] [--peers 1] [--width 8192] [--spectra 100000] [--driver auto]

Sections (each independent: one that fails prints its error and the rest still run):

1. ``big``: one 4096×11008 float32 matrix, all singular values within the accuracy contract:
   ``gsa_fast.svdvals`` (default device route; ``_eig_driver="syevd"``, cuSOLVER syevd proper; the
   two-stage ``"band"`` and ``"band_device"``, where the build has them) against cupy's float32 ``eigvalsh(W @ W.T)`` (the fast route that fails the contract), with
   each route's largest error relative to σ₁ against a float64 ``syevd`` of the float64 Gram.
2. ``llama``: a Llama-3-70B-shaped slice, synthetic power-law weights generated on the device
   (per block: 8192², 1024×8192 ×2, 28672×8192 ×2, 8192×28672); ``--blocks`` blocks through
   gsa_fast, extrapolated to 80 blocks (said so in the output), and looped
   ``torch.linalg.svdvals`` / ``cupy.linalg.svd(compute_uv=False)`` on ``--peers`` matrices of
   each shape (torch only if a CUDA build of torch is installed).
3. ``reductions``: the GSA per-spectrum reductions (energy, spectrum_tails, spectral_entropy,
   radial_functional, rank_count) over ``--spectra`` spectra of width ``--width`` (float32),
   achieved bytes/s against the device's bandwidth: its nominal peak (memory clock × bus width)
   and a measured device-to-device copy.

Prints one markdown table per section; paste it into bench/results/gpu.md with the device line.
"""
from __future__ import annotations

import argparse
import time
import traceback

import numpy as np


def _sync(cp):
    cp.cuda.get_current_stream().synchronize()


def _best(cp, fn, rounds=3, warmup=1):
    for _ in range(warmup):
        fn()
        _sync(cp)
    best = float("inf")
    out = None
    for _ in range(rounds):
        t0 = time.perf_counter()
        out = fn()
        _sync(cp)
        best = min(best, time.perf_counter() - t0)
    return best, out


def device_line(cp):
    p = cp.cuda.runtime.getDeviceProperties(cp.cuda.Device().id)
    name = p["name"].decode() if isinstance(p["name"], bytes) else p["name"]
    peak = 2.0 * p["memoryClockRate"] * 1e3 * p["memoryBusWidth"] / 8  # DDR: two transfers a clock
    drv = cp.cuda.runtime.driverGetVersion()
    return name, peak, f"{name}, {p['totalGlobalMem'] / 2**30:.0f} GiB, driver API {drv}, " \
                       f"nominal bandwidth {peak / 1e12:.2f} TB/s"


def _power_law(cp, m, n, alpha, seed):
    """σ_k ≈ k^-α at scale: Gaussian factors scaled (no O(n³) orthogonalization), on the device."""
    rs = cp.random.RandomState(seed)
    q = min(m, n)
    s = cp.arange(1, q + 1, dtype=cp.float32) ** -alpha
    u = rs.standard_normal((m, q), dtype=cp.float32) / np.float32(np.sqrt(m))
    v = rs.standard_normal((q, n), dtype=cp.float32) / np.float32(np.sqrt(n))
    return (u * s) @ v


def _exact(cp, w):
    g = w.astype(cp.float64)
    g = g @ g.T if g.shape[0] <= g.shape[1] else g.T @ g
    return cp.sqrt(cp.clip(cp.linalg.eigvalsh(g)[::-1], 0, None))


def big(cp, g):
    w = cp.random.RandomState(2).standard_normal((4096, 11008), dtype=cp.float32)
    ref = _exact(cp, w)
    s1 = float(ref[0])
    rows = []
    routes = [("gsa_fast.svdvals (default device route)", lambda: g.svdvals(w))]
    # cuSOLVER syevd proper, and the two-stage eigensolver with its bulge chasing and tridiagonal
    # stage on the host ("band") or on the device too ("band_device"); docs/gpu.md, and
    # bench/two_stage_gpu.py sweeps the band width
    for driver, label in (("syevd", "cuSOLVER syevd"), ("band", "two-stage, host stages 2-3"),
                          ("band_device", "two-stage, all on the device")):
        try:
            g.svdvals(w[:64, :128], _eig_driver=driver)
            routes.append((f"gsa_fast.svdvals(_eig_driver='{driver}'): {label}",
                           lambda driver=driver: g.svdvals(w, _eig_driver=driver)))
        except (ValueError, TypeError, RuntimeError) as exc:
            print(f"({driver} not available: {exc})")
    routes.append(("cupy float32 eigvalsh(W @ W.T) (fails the contract)",
                   lambda: cp.sqrt(cp.clip(cp.linalg.eigvalsh(w @ w.T)[::-1], 0, None))))
    for name, fn in routes:
        t, out = _best(cp, fn)
        err = float(cp.max(cp.abs(out.astype(cp.float64) - ref))) / s1
        rows.append((name, t, err))
    t0 = rows[0][1]
    print("| 4096×11008 f32, all values | time (s) | vs first row | max error / σ₁ |")
    print("|---|---|---|---|")
    for name, t, err in rows:
        print(f"| {name} | {t:.3f} | {t / t0:.2f}× | {err:.1e} |")


LLAMA_BLOCK = [((8192, 8192), 1), ((1024, 8192), 2), ((28672, 8192), 2), ((8192, 28672), 1)]


def llama(cp, g, blocks, peers, driver="auto"):
    try:
        import torch

        have_torch = torch.cuda.is_available()
    except ImportError:
        torch, have_torch = None, False
    t_gsa, n_mats = 0.0, 0
    per_shape = {}
    for b in range(blocks):
        for k, (shape, count) in enumerate(LLAMA_BLOCK):
            for c in range(count):
                w = _power_law(cp, *shape, 0.5, seed=1000 * b + 10 * k + c)
                _sync(cp)
                t, _ = _best(cp, lambda: g.svdvals(w, _eig_driver=driver), rounds=1, warmup=0)
                t_gsa += t
                n_mats += 1
                per_shape.setdefault(shape, []).append(t)
                w = None
    print(f"| Llama-3-70B-shaped slice: {blocks} block(s), {n_mats} matrices, _eig_driver={driver!r} | time (s) |")
    print("|---|---|")
    print(f"| gsa_fast.svdvals, measured | {t_gsa:.2f} |")
    print(f"| gsa_fast.svdvals, extrapolated ×{80 / blocks:g} to 80 blocks | "
          f"{t_gsa * 80 / blocks:.1f} ({t_gsa * 80 / blocks / 60:.1f} min) |")
    print()
    print("| shape | gsa_fast (s, mean) | torch.linalg.svdvals (s) | cupy.linalg.svd (s) | faster peer / gsa |")
    print("|---|---|---|---|---|")
    for k, (shape, _) in enumerate(LLAMA_BLOCK):
        tg = float(np.mean(per_shape[shape]))
        tt = tc = float("nan")
        for p in range(peers):
            w = _power_law(cp, *shape, 0.5, seed=7 + 10 * k + p)
            _sync(cp)
            if have_torch:
                x = torch.as_tensor(w, device="cuda")
                t0 = time.perf_counter()
                torch.linalg.svdvals(x)
                torch.cuda.synchronize()
                tt = (0 if p == 0 else tt) + (time.perf_counter() - t0) / peers
                x = None
            t, _ = _best(cp, lambda: cp.linalg.svd(w, compute_uv=False), rounds=1, warmup=0)
            tc = (0 if p == 0 else tc) + t / peers
            w = None
        best_peer = np.nanmin([tt, tc])
        print(f"| {shape[0]}×{shape[1]} | {tg:.3f} | {tt:.3f} | {tc:.3f} | {best_peer / tg:.1f}× |")
    if not have_torch:
        print("(torch with CUDA not installed: its column is NaN)")


def reductions(cp, g, n_spec, width, peak):
    x = cp.random.RandomState(3).random_sample((n_spec, width), dtype=cp.float32)
    x = -cp.sort(-x, axis=1)  # spectra are sorted descending
    nbytes = x.nbytes
    y = cp.empty_like(x)
    t_copy, _ = _best(cp, lambda: cp.copyto(y, x))
    copy_bw = 2 * nbytes / t_copy  # read + write
    y = None
    print(f"| {n_spec} spectra × {width} f32 ({nbytes / 1e9:.2f} GB) | time (ms) | GB/s (input read once) "
          f"| of nominal {peak / 1e9:.0f} GB/s | of measured copy {copy_bw / 1e9:.0f} GB/s |")
    print("|---|---|---|---|---|")
    fns = {"energy": g.energy, "spectrum_tails": g.spectrum_tails, "spectral_entropy": g.spectral_entropy,
           "radial_functional": g.radial_functional, "rank_count": lambda s: g.rank_count(s, 1e-3)}
    for name, fn in fns.items():
        t, _ = _best(cp, lambda: fn(x))
        bw = nbytes / t
        print(f"| {name} | {t * 1e3:.2f} | {bw / 1e9:.0f} | {bw / peak:.0%} | {bw / copy_bw:.0%} |")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--blocks", type=int, default=1)
    ap.add_argument("--peers", type=int, default=1)
    ap.add_argument("--spectra", type=int, default=100_000)
    ap.add_argument("--width", type=int, default=8192)
    ap.add_argument("--only", default="big,reductions,llama")
    ap.add_argument("--driver", default="auto",
                    help="svdvals' _eig_driver for the llama slice (the fastest of the big section's rows)")
    a = ap.parse_args()
    import cupy as cp

    import gsa_fast as g

    _, peak, line = device_line(cp)
    print(f"Device: {line}\n")
    for sec in a.only.split(","):
        t0 = time.perf_counter()
        try:
            if sec == "big":
                big(cp, g)
            elif sec == "llama":
                llama(cp, g, a.blocks, a.peers, a.driver)
            elif sec == "reductions":
                reductions(cp, g, a.spectra, a.width, peak)
        except Exception:  # one section's failure must not hide the others' numbers
            traceback.print_exc()
        print(f"\n({sec}: {time.perf_counter() - t0:.0f} s)\n", flush=True)
        cp.get_default_memory_pool().free_all_blocks()


if __name__ == "__main__":
    main()
