"""Full-size chain-scan benchmark of issue 13 (numbers in bench/results/depth.md).

    PYTHONPATH=python python3 bench/depth_scan.py [--L 256] [--n 1024] [--k 64] [--rounds 3]

Times, side by side in one run and interleaved round by round (the best round of each route
counts), gsa_fast.chain_log_spectrum (float64 panel, the default, on 1 and on all workers; the
float32 panel) against the float64 numpy loop ``Q, R = np.linalg.qr(A @ Q)`` and against the
floor of that loop, its bare float64 GEMM ``A64 @ Q`` on factors converted beforehand (timed on
the first 32 layers and scaled to L). Prints the accuracy of each route against the numpy loop,
the bytes of factors read per second and the flop/byte floor. numpy runs with whatever
OPENBLAS_NUM_THREADS says (unset: all cores).

``--baseline DIR`` adds the scan of another build (DIR: the ``python/`` folder of another
checkout, built) as two more routes, run in a child process between this process's routes of
the same round, so that a kernel change is measured side by side with its predecessor.
"""
from __future__ import annotations

import argparse
import math
import os
import sys
import time

import numpy as np

import gsa_fast as g
from bench_depth import numpy_qr_loop  # bench/ is sys.path[0] when run as a script


def make_chain(L, n):
    return np.random.default_rng(0).standard_normal((L, n, n), dtype=np.float32) / np.float32(math.sqrt(n))


def serve(a):
    """Child of --baseline: runs the scan of whatever gsa_fast is on its path, on request."""
    A = make_chain(a.L, a.n)
    for line in sys.stdin:  # until the parent exits
        th = None if line.strip() == "default" else int(line)
        t0, c0 = time.perf_counter(), time.process_time()
        out = g.chain_log_spectrum(A, a.k, threads=th)
        w, c = time.perf_counter() - t0, time.process_time() - c0
        np.save(a.serve, out)
        print(f"{w} {c}", flush=True)


class Baseline:
    """Routes of another checkout's build (its python/ dir), run in one child process: two
    builds of the extension cannot share a process (pybind11 registers each type once)."""

    def __init__(self, pypath, a):
        import subprocess
        import tempfile

        self.npy = os.path.join(tempfile.mkdtemp(), "out.npy")
        env = dict(os.environ, PYTHONPATH=os.path.abspath(pypath))
        self.p = subprocess.Popen(
            [sys.executable, os.path.abspath(__file__), "--serve", self.npy, "--L", str(a.L),
             "--n", str(a.n), "--k", str(a.k)], env=env, stdin=subprocess.PIPE,
            stdout=subprocess.PIPE, text=True)

    def route(self, threads):
        def run():
            self.p.stdin.write(f"{threads}\n")
            self.p.stdin.flush()
            w, c = map(float, self.p.stdout.readline().split())
            return np.load(self.npy), w, c
        return run


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--L", type=int, default=256)
    ap.add_argument("--n", type=int, default=1024)
    ap.add_argument("--k", type=int, default=64)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--pause", type=float, default=0.3,
                    help="seconds of sleep before each timed route (OpenBLAS worker threads spin "
                         "for ~0.1 s after a threaded call and would take a core from the next route)")
    ap.add_argument("--baseline", default=None, help="python/ dir of another build to compare with")
    ap.add_argument("--serve", default=None, help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.serve:
        return serve(a)
    L, n, k = a.L, a.n, a.k
    A = make_chain(L, n)
    nbytes = A.nbytes
    flops = 2.0 * n * n * k * L + L * 4.0 * n * k * k
    T = g.get_num_threads() if hasattr(g, "get_num_threads") else os.cpu_count()
    Lg = min(L, 32)
    A64 = A[:Lg].astype(np.float64)
    Q0 = np.linalg.qr(np.random.default_rng(1).standard_normal((n, k)))[0]

    def gemm_floor():
        for M in A64:
            M @ Q0

    routes = [
        ("numpy float64 loop `Q, R = np.linalg.qr(A @ Q)`", lambda: numpy_qr_loop(A, k), 1.0),
        (f"floor: numpy bare float64 GEMM `A64 @ Q` (pre-converted; {Lg} layers scaled to L)", gemm_floor, L / Lg),
        ("gsa chain_log_spectrum, default (float64 panel, all workers)", lambda: g.chain_log_spectrum(A, k), 1.0),
        ("gsa chain_log_spectrum, threads=1", lambda: g.chain_log_spectrum(A, k, threads=1), 1.0),
        ("gsa chain_log_spectrum, panel='float32' (all workers)", lambda: g.chain_log_spectrum(A, k, panel="float32"), 1.0),
    ]
    if a.baseline:
        base = Baseline(a.baseline, a)
        routes[4:4] = [
            ("baseline build: default (all workers)", base.route("default"), 1.0),
            ("baseline build: threads=1", base.route(1), 1.0),
        ]
    best = [[float("inf"), float("inf")] for _ in routes]
    outs = [None] * len(routes)
    for _ in range(a.rounds):
        for i, (_, f, scale) in enumerate(routes):
            time.sleep(a.pause)  # the previous route's OpenBLAS threads stop spinning first
            t0, c0 = time.perf_counter(), time.process_time()
            out = f()
            w, c = time.perf_counter() - t0, time.process_time() - c0
            if isinstance(out, tuple):  # a baseline route: its own times, from the child
                out, w, c = out
            best[i][0] = min(best[i][0], w * scale)
            best[i][1] = min(best[i][1], c * scale)
            outs[i] = out
    ref = outs[0]
    print(f"L={L} n={n} k={k}: factors {nbytes / 1e9:.2f} GB float32, {flops / 1e9:.1f} GF; gsa workers {T}")
    print(f"floor: memory {nbytes / 10e9:.3f} s at 10 GB/s; GEMM {flops / 50e9:.3f} s f64 per core "
          f"({flops / 50e9 / 2:.3f} s on 2 cores), {flops / 100e9:.3f} s f32 per core")
    print(f"numpy's OpenBLAS threads: OPENBLAS_NUM_THREADS={os.environ.get('OPENBLAS_NUM_THREADS', 'unset (all cores)')}")
    print("| route | wall (s) | ms / layer | CPU (s) | numpy loop / route (wall) | GB/s of factors (wall) "
          "| max abs diff vs numpy loop |")
    print("|---|---|---|---|---|---|---|")
    t_np = best[0][0]
    for (label, _, _), (t, c), out in zip(routes, best, outs):
        err = "—" if out is None else f"{float(np.abs(out - ref).max()):.1e}"
        print(f"| {label} | {t:.3f} | {t / L * 1e3:.2f} | {c:.3f} | {t_np / t:.2f}× | {nbytes / t / 1e9:.2f} | {err} |")


if __name__ == "__main__":
    main()
