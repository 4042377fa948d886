"""One 4096 × 11008 float32 matrix, all singular values: gsa_fast against the issue's peers, on a
free machine and with one core taken by another process (the issue's shared-machine case).

Run: PYTHONPATH=python python3 bench/big_matrix.py [--busy] [--no-scipy] [--drivers]

--busy starts a pure-Python busy loop (one core) for the duration of the timings. Each line is
the minimum of `rounds` runs (scipy: one run, it takes 25–55 s); peers run at their default
threads (numpy's and scipy's own OpenBLAS), gsa_fast at threads=2 (its default here) and 1.
--drivers adds gsa_fast with LAPACK's eigensolvers forced (threads=2: OpenBLAS's parallel
regions on gsa_fast's blocking pool), the alternatives to its own band reduction.
"""
from __future__ import annotations

import subprocess
import sys
import time

import numpy as np

from _timing import best
import gsa_fast as g



def main(argv):
    busy = None
    if "--busy" in argv:
        busy = subprocess.Popen([sys.executable, "-c", "while True: pass"])
        time.sleep(1.0)
    try:
        W = np.random.default_rng(0).standard_normal((4096, 11008), dtype=np.float32)
        rows = [
            ("gsa_fast svdvals (threads=2)", best(lambda: g.svdvals(W, threads=2), 2)),
            ("gsa_fast svdvals (threads=1)", best(lambda: g.svdvals(W, threads=1), 1)),
            ("numpy f32 eigvalsh(W @ W.T)", best(lambda: np.linalg.eigvalsh(W @ W.T), 2)),
        ]
        if "--drivers" in argv:
            for drv in ("syevd", "syevd_2stage"):
                rows.append((f"gsa_fast svdvals, LAPACK {drv} on the pool (threads=2)",
                             best(lambda: g.svdvals(W, threads=2, _eig_driver=drv), 1)))
        if "--no-scipy" not in argv:
            import scipy.linalg as sl

            rows.append(("scipy svd(W.astype(float))",
                         best(lambda: sl.svd(W.astype(float), compute_uv=False), 1)))
    finally:
        if busy is not None:
            busy.kill()
    ref = rows[0][1]
    print(f"\n4096 × 11008 float32{' (one core busy)' if busy else ''}\n")
    print("| call | s | time / gsa_fast (threads=2) |\n|---|---|---|")
    for name, t in rows:
        print(f"| {name} | {t:.2f} | {t / ref:.2f}× |")


if __name__ == "__main__":
    main(sys.argv[1:])
