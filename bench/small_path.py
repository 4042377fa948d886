"""Where the time of svdvals goes on stacks of small matrices (q ≤ 64), one thread, per matrix.

Run: PYTHONPATH=python python3 bench/small_path.py [q b]      (default: 64 2000, then 32 10000)

Rows (µs per matrix, minimum of 5 runs, all single-threaded; numpy and scipy get
OPENBLAS_NUM_THREADS=1, set before they load):
- gsa total: gsa_fast.svdvals(stack, threads=1) (copy, Gram, tridiagonal, eigenvalues, sqrt);
- gsa eigenvalues: the four-lane QL (the test hook _core.sterf_lanes) on the same stack's
  tridiagonals;
- gsa Gram + tridiagonal: the difference of the two;
- LAPACK dsterf: scipy's dsterf in a Python loop on the same tridiagonals, minus the measured
  cost of a Python-level call of the wrapper on a 1 × 1 problem;
- numpy svd: numpy.linalg.svd(stack, compute_uv=False) (the issue's peer).
"""
from __future__ import annotations

import os
import sys

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np  # noqa: E402
from scipy.linalg import lapack  # noqa: E402

from _timing import best  # noqa: E402
import gsa_fast as g  # noqa: E402
from gsa_fast import _backend  # noqa: E402



def tridiagonals(x):
    """(d, e) of each Gram's Householder tridiagonal (LAPACK dsytrd on the float64 Gram)."""
    ds, es = [], []
    for a in x:
        gm = a.T @ a
        _, d, e, _, info = lapack.dsytrd(gm, lower=1)
        assert info == 0
        ds.append(d)
        es.append(np.append(e, 0.0))
    return ds, es


def run(q, b):
    x = np.random.default_rng(0).standard_normal((b, q, q))
    ds, es = tridiagonals(x)
    off = np.arange(b + 1, dtype=np.int64) * q
    d0, e0 = np.concatenate(ds), np.concatenate(es)

    def lanes():
        _backend.core.sterf_lanes(d0.copy(), e0.copy(), off)

    def loop_dsterf():
        for d, e in zip(ds, es):
            lapack.dsterf(d.copy(), e[:-1].copy())

    one_d, one_e = np.ones(2), np.zeros(1)
    t_call = best(lambda: [lapack.dsterf(one_d.copy(), one_e.copy()) for _ in range(b)])
    t_copy = best(lambda: (d0.copy(), e0.copy()))
    rows = {
        "gsa total": best(lambda: g.svdvals(x, threads=1)),
        "gsa eigenvalues (4-lane QL)": best(lanes) - t_copy,
        "LAPACK dsterf (loop − call overhead)": best(loop_dsterf) - t_call,
        "numpy svd (dgesdd)": best(lambda: np.linalg.svd(x, compute_uv=False)),
    }
    rows["gsa Gram + tridiagonal"] = rows["gsa total"] - rows["gsa eigenvalues (4-lane QL)"]
    print(f"\n{b} × {q}×{q} float64, µs per matrix, one thread\n")
    print("| step | µs |\n|---|---|")
    for k in ["gsa total", "gsa Gram + tridiagonal", "gsa eigenvalues (4-lane QL)",
              "LAPACK dsterf (loop − call overhead)", "numpy svd (dgesdd)"]:
        print(f"| {k} | {rows[k] / b * 1e6:.1f} |")


if __name__ == "__main__":
    if len(sys.argv) == 3:
        run(int(sys.argv[1]), int(sys.argv[2]))
    else:
        run(64, 2000)
        run(32, 10000)
