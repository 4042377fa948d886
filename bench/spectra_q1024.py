"""Where the time of a q = 1024 bf16 matrix goes, and the levers of issue 9's 24-block scan, side
by side in one run (bench/results/spectra.md, "q = 1024" section).

    PYTHONPATH=python python3 bench/spectra_q1024.py [--reps 3] [--no-stages]

1. Stages on one thread (bench/stages_q1024.cpp, compiled here with g++ against the
   scipy-openblas32 wheel): conversion, Gram variants, LAPACK's values-only eigensolvers (one- and
   two-stage), our band route at widths 8–64, dsterf against the four-lane QL.
2. svdvals per matrix of the three shapes, one thread, process CPU time (robust to other load):
   each eigensolver route (`_eig_driver`), and the Gram alone.
3. Scheduling of a batch of 8 same-shape matrices on 2 threads, wall time: one matrix per worker
   (the batch) against one matrix at a time with both threads (a loop of single calls).
Floors (common.md): 50 GF/s float64 per core; Gram q²·K flop, reduction 4/3·q³ flop.
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import sysconfig
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "python"))


def stages(reps):
    import scipy_openblas32

    lib = scipy_openblas32.get_lib_dir()
    with tempfile.TemporaryDirectory() as tmp:
        exe = Path(tmp) / "stages"
        src = [ROOT / "bench/stages_q1024.cpp", ROOT / "cpp/src/linalg/band_eig.cpp",
               ROOT / "cpp/src/linalg/sterf_lanes.cpp", ROOT / "cpp/src/interrupt.cpp"]
        subprocess.run(["g++", "-O3", "-std=c++17", "-I", str(ROOT / "cpp/include"), *map(str, src), "-L", lib,
                        "-lscipy_openblas", f"-Wl,-rpath,{lib}", "-lpthread", "-o", str(exe)], check=True)
        subprocess.run([str(exe), str(reps)], check=True)


def cpu_ms(f, reps):
    f()
    best = 1e9
    for _ in range(reps):
        t0 = time.process_time()
        f()
        best = min(best, time.process_time() - t0)
    return 1e3 * best


def wall_s(f, reps):
    best = 1e9
    for _ in range(reps):
        t0 = time.perf_counter()
        f()
        best = min(best, time.perf_counter() - t0)
    return best


def main(argv=None):
    ap = argparse.ArgumentParser()
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--no-stages", action="store_true")
    a = ap.parse_args(argv)
    print(f"load average at start: {os.getloadavg()}")
    if not a.no_stages:
        stages(a.reps)
    import ml_dtypes

    import gsa_fast as g

    rng = np.random.default_rng(0)
    shapes = [(1024, 1024), (4096, 1024), (1024, 4096)]
    mats = {s: [(rng.standard_normal(s) * 0.02).astype(ml_dtypes.bfloat16) for _ in range(8)] for s in shapes}
    print("\nsvdvals of one bf16 matrix, one thread, CPU ms (floor: Gram + 4/3 q^3 at 50 GF/s)")
    for s, ms in mats.items():
        K = max(s)
        floor = (1024**2 * K + 4 / 3 * 1024**3) / 50e9 * 1e3
        row = {"gram": cpu_ms(lambda: g.gram(ms[0], threads=1), a.reps)}
        for d in ("auto", "sytrd", "syevd", "syevd_2stage", "band"):
            row[d] = cpu_ms(lambda: g.svdvals(ms[:4], threads=1, _eig_driver=d), a.reps) / 4
        print(f"  {s[0]}x{s[1]}: floor {floor:.0f} ms | " + " | ".join(f"{k} {v:.1f}" for k, v in row.items()))
    print("\nbatch of 8 on 2 threads, wall s: one matrix per worker vs one at a time with both threads")
    for s, ms in mats.items():
        for d in ("auto", "syevd"):
            batch = wall_s(lambda: g.svdvals(ms, threads=2, _eig_driver=d), a.reps)
            loop = wall_s(lambda: [g.svdvals(m, threads=2, _eig_driver=d) for m in ms], a.reps)
            print(f"  {s[0]}x{s[1]} {d:6s}: per worker {batch:.3f} s, threaded per matrix {loop:.3f} s")
    print(f"load average at end: {os.getloadavg()}")


if __name__ == "__main__":
    main()
