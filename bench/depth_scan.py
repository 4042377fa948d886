"""Full-size chain-scan benchmark of issue 13 (numbers in bench/results/depth.md).

    PYTHONPATH=python python3 bench/depth_scan.py [--L 256] [--n 1024] [--k 64]

Times, side by side in one run, gsa_fast.chain_log_spectrum (float64 panel, the default; and the
float32 panel) against the float64 numpy loop ``Q, R = np.linalg.qr(A @ Q)``, prints the accuracy
of each against that loop, the bytes of factors read per second and the flop/byte floor.
"""
from __future__ import annotations

import argparse
import os
import math
import time

import numpy as np

import gsa_fast as g
from bench_depth import numpy_qr_loop  # bench/ is sys.path[0] when run as a script


def timed(f, rounds):
    """(best wall time, best CPU time of this process, result)."""
    best, cpu, out = float("inf"), float("inf"), None
    for _ in range(rounds):
        t0, c0 = time.perf_counter(), time.process_time()
        out = f()
        best = min(best, time.perf_counter() - t0)
        cpu = min(cpu, time.process_time() - c0)
    return best, cpu, out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--L", type=int, default=256)
    ap.add_argument("--n", type=int, default=1024)
    ap.add_argument("--k", type=int, default=64)
    ap.add_argument("--rounds", type=int, default=3)
    a = ap.parse_args()
    L, n, k = a.L, a.n, a.k
    A = np.random.default_rng(0).standard_normal((L, n, n), dtype=np.float32) / np.float32(math.sqrt(n))
    nbytes = A.nbytes
    flops = 2.0 * n * n * k * L + L * 4.0 * n * k * k
    t_np, c_np, ref = timed(lambda: numpy_qr_loop(A, k), 1)
    rows = [("numpy float64 loop `Q, R = np.linalg.qr(A @ Q)`", t_np, c_np, 0.0)]
    for label, kw in [("gsa chain_log_spectrum (float64 panel, default: 1 BLAS thread)", {}),
                      ("gsa chain_log_spectrum (float32 panel, 1 BLAS thread)", {"panel": "float32"}),
                      ("gsa float64 panel, threads=2 (threaded BLAS)", {"threads": 2}),
                      ("gsa float32 panel, threads=2 (threaded BLAS)", {"panel": "float32", "threads": 2})]:
        t, c, out = timed(lambda kw=kw: g.chain_log_spectrum(A, k, **kw), a.rounds)
        rows.append((label, t, c, float(np.abs(out - ref).max())))
    # sensitivity to the float32 data itself: flip every factor entry by one ulp (random
    # direction) and rerun the float64 loop
    rng = np.random.default_rng(1)
    up = rng.random(A.shape, dtype=np.float32) < 0.5
    A1 = np.where(up, np.nextafter(A, np.float32(np.inf)), np.nextafter(A, np.float32(-np.inf)))
    sens = float(np.abs(numpy_qr_loop(A1, k) - ref).max())
    del A1
    print(f"L={L} n={n} k={k}: factors {nbytes / 1e9:.2f} GB float32, {flops / 1e9:.1f} GF")
    print(f"floor: memory {nbytes / 10e9:.3f} s at 10 GB/s; GEMM {flops / 100e9:.3f} s f32 / "
          f"{flops / 50e9:.3f} s f64 per core")
    print(f"numpy's OpenBLAS threads: OPENBLAS_NUM_THREADS={os.environ.get('OPENBLAS_NUM_THREADS', 'unset (all cores)')}")
    print(f"one-ulp perturbation of the float32 factors moves the float64 result by {sens:.1e}")
    print("| route | wall (s) | CPU (s) | numpy / route, wall | numpy / route, CPU | GB/s of factors (wall) "
          "| max abs diff vs numpy |")
    print("|---|---|---|---|---|---|---|")
    for label, t, c, err in rows:
        print(f"| {label} | {t:.3f} | {c:.3f} | {t_np / t:.2f}× | {c_np / c:.2f}× | {nbytes / t / 1e9:.2f} "
              f"| {err:.1e} |")


if __name__ == "__main__":
    main()
