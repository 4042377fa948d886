"""svdvals of one 4096 × 11008 float32 matrix on the GPU: the two-stage eigensolver vs cuSOLVER
syevd vs cupy's float32 eigvalsh(W @ W.T), in one run, with the error of each against the float64
syevd route (issue 12 §2; record the output in bench/results/gpu.md).

Usage (a CUDA build of gsa_fast, cupy, one GPU): python bench/two_stage_gpu.py [m n]

Prints, per route, the best of 3 timed runs after one warm-up (device synchronized) and
max_k |σ̂_k − σ_k| / σ_1 against the float64 Gram + syevd route; the accuracy contract for float32
input is 4·max(m, n)·2⁻²⁴. The two-stage route is timed for band widths 16, 32, 64, 128, and split
into its stages (Gram, dense → band with the host copy of the band, host bulge chasing + dsterf,
and the device bulge chasing of cuda/bulge.cu with (d, e) to the host for dsterf); the
"bulges on the device" rows (svdvals' _eig_driver="band_device") run stage 2 on the device.
Last, stage 3 on the device (gsa_fast._gpu_tridiag, Sturm multisection): on the (d, e) of the
device bulge chasing, and alone on a random q × q tridiagonal for each schedule, against dsterf.
"""
from __future__ import annotations

import sys
import time

import numpy as np


def main(argv):
    import gsa_fast as g
    if g.build_info()["cuda_devices"] == 0:
        print("two_stage_gpu: no CUDA device (build_info: %s)" % g.build_info()["cuda_status"])
        return 0
    import cupy as cp
    from gsa_fast import _gpu_spectra, _two_stage as ts

    m, n = (int(argv[0]), int(argv[1])) if len(argv) >= 2 else (4096, 11008)
    q = min(m, n)
    x = cp.asarray(np.random.default_rng(2).standard_normal((m, n), dtype=np.float32))
    sync = cp.cuda.get_current_stream().synchronize

    def best(f, rounds=3):
        f()
        sync()
        ts_ = []
        for _ in range(rounds):
            t0 = time.perf_counter()
            out = f()
            sync()
            ts_.append(time.perf_counter() - t0)
        return min(ts_), out

    dev = cp.cuda.runtime.getDeviceProperties(cp.cuda.Device().id)["name"]
    print(f"device: {dev.decode() if isinstance(dev, bytes) else dev}; {m} x {n} float32, q = {q}")
    t_ref, ref = best(lambda: g.svdvals(x))
    ref = cp.asnumpy(ref)
    bound = 4 * max(m, n) * 2.0 ** -24

    def err(v):
        return float(np.abs(cp.asnumpy(v) - ref).max() / ref[0])

    rows = [("gram f64 + default route (cupy's eigvalsh on a stack of one: syevjBatched)", t_ref, 0.0)]
    t, v = best(lambda: g.svdvals(x, _eig_driver="syevd"))  # cupy's 2-D eigvalsh: cuSOLVER syevd proper
    rows.append(("svdvals(_eig_driver='syevd'): cuSOLVER syevd", t, err(v)))
    for b in (16, 32, 64, 128):
        def two(b=b):
            G = _gpu_spectra._gram_stack(cp, x[None], False)
            w = ts.eigvalsh_stack(cp, G, b, overwrite=True)
            return cp.sqrt(cp.clip(w[0, ::-1], 0.0, None))
        t, v = best(two)
        rows.append((f"gram f64 + two-stage, b = {b}", t, err(v)))
    t, v = best(lambda: g.svdvals(x, _eig_driver="band"))
    rows.append((f"svdvals(_eig_driver='band'), b = {ts.BAND_WIDTH}", t, err(v)))
    for b in (32, 64, 128):  # stages 2 and 3 on the device too (cuda/bulge.cu, cuda/tridiag.cu)
        def dev(b=b):
            G = _gpu_spectra._gram_stack(cp, x[None], False)
            w = ts.eigvalsh_stack(cp, G, b, overwrite=True, stage2="device")
            return cp.sqrt(cp.clip(w[0, ::-1], 0.0, None))
        t, v = best(dev)
        rows.append((f"gram f64 + two-stage, bulges on the device, b = {b}", t, err(v)))
    t, v = best(lambda: g.svdvals(x, _eig_driver="band_device"))
    rows.append((f"svdvals(_eig_driver='band_device'), b = {ts.BAND_WIDTH}", t, err(v)))
    t, v = best(lambda: cp.sqrt(cp.clip(cp.linalg.eigvalsh(x @ x.T)[::-1], 0, None)))
    rows.append(("cupy f32 eigvalsh(W @ W.T) (fails the contract)", t, err(v)))

    print(f"\ncontract bound for float32 input: {bound:.2e}")
    print("| route | time (ms) | vs syevd route | max rel. error |")
    print("|---|---|---|---|")
    for name, t, e in rows:
        print(f"| {name} | {t * 1e3:.1f} | {t_ref / t:.2f}x | {e:.1e} |")

    # the stages of the two-stage route at the default width
    b = ts.BAND_WIDTH
    t_gram, G = best(lambda: _gpu_spectra._gram_stack(cp, x[None], False))
    G0 = G[0].copy()
    t_band, band = best(lambda: ts.dense_to_band(cp, G0, b))
    host = []
    for th in sorted({1, 2, ts._host_split(1)[1]}):  # a single matrix gets every core
        t0 = time.perf_counter()
        ts.band_eigvalsh(band, th)
        host.append(f"{(time.perf_counter() - t0) * 1e3:.1f} ms on {th} thread(s)")
    from gsa_fast import _gpu_band
    band_dev = cp.asarray(band)
    t_chase, (d, e) = best(lambda: _gpu_band.band_to_tridiagonal(cp, band_dev))
    t0 = time.perf_counter()
    _gpu_band.tridiagonal_eigvalsh(d, e)
    t_sterf = time.perf_counter() - t0
    print(f"band -> tridiagonal on the device (cuda/bulge.cu, b = {b}): {t_chase * 1e3:.1f} ms "
          f"({3 * q} wavefronts: {t_chase / (3 * q) * 1e6:.2f} us each); (d, e) to host + dsterf "
          f"{t_sterf * 1e3:.1f} ms")
    from gsa_fast._gpu_tridiag import eigvalsh_tridiagonal
    t_tri, w_tri = best(lambda: eigvalsh_tridiagonal(cp, d, e))
    w_host = _gpu_band.tridiagonal_eigvalsh(d, e)
    gap = float(np.abs(cp.asnumpy(w_tri) - w_host).max() / np.abs(w_host).max())
    print(f"(d, e) eigenvalues on the device (cuda/tridiag.cu, default schedule): {t_tri * 1e3:.1f} ms "
          f"({t_sterf / t_tri:.1f}x the copy + dsterf); max |device - dsterf| / |λ|max = {gap:.1e}")
    flops = 2.0 * q ** 3  # full-matrix GEMM updates (see gsa_fast/_two_stage.py)
    print(f"\nstages at b = {b}: Gram {t_gram * 1e3:.1f} ms, dense -> band (incl. band to host) "
          f"{t_band * 1e3:.1f} ms ({flops / t_band / 1e12:.2f} TF/s on 2q^3 flops), "
          f"host band -> tridiagonal + dsterf {', '.join(host)}")
    tridiagonal_stage(cp, q, best)
    return 0


def tridiagonal_stage(cp, q, best):
    """Stage 3 alone on a random q × q tridiagonal: device Sturm multisection (each schedule) vs
    host dsterf, with max |λ − λ_stebz| / (u·max|T_ij|) (bound 24 for the device, see
    tests/test_tridiag.py)."""
    import scipy.linalg as sl

    from gsa_fast._gpu_tridiag import eigvalsh_tridiagonal
    r = np.random.default_rng(3)
    d, e = r.standard_normal(q), r.standard_normal(q - 1)
    ref = sl.eigvalsh_tridiagonal(d, e, lapack_driver="stebz", tol=2.0 ** -1021)
    um = 2.0 ** -53 * max(np.abs(d).max(), np.abs(e).max())
    t0 = time.perf_counter()
    w = sl.eigvalsh_tridiagonal(d, e, lapack_driver="sterf")
    t_host = time.perf_counter() - t0
    print(f"\nstage 3 alone, q = {q} tridiagonal: host dsterf {t_host * 1e3:.1f} ms, "
          f"error {np.abs(w - ref).max() / um:.0f} u·M")
    dd, ed = cp.asarray(d), cp.asarray(e)
    for points in (1, 4, 8, 16, 32):
        t, w = best(lambda points=points: eigvalsh_tridiagonal(cp, dd, ed, points=points))
        print(f"  device multisection, {points:2d} point(s): {t * 1e3:.1f} ms ({t_host / t:.1f}x dsterf), "
              f"error {np.abs(cp.asnumpy(w) - ref).max() / um:.1f} u·M")


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
