"""Full-size timings for bench/results/margins.md (one run, side by side; slow peers once).

    PYTHONPATH=python python3 bench/margins_full.py [--n 4096] [--chain-layers 32] [--skip-dense]

product_norm on an n×n float32 pair vs np.linalg.norm(X @ Y, 2) (float32 GEMM + float32 SVD,
the one-liner) and vs scipy.sparse.linalg.svds(k=1) on a LinearOperator over float64 copies
(the float64 copies are what it takes to reach the documented accuracy; their cost is included);
chain_margins on an L-layer chain of n×n float32 factors vs the memory-bandwidth floor.
"""
from __future__ import annotations

import argparse
import time

import numpy as np

import gsa_fast as g
from gsa_fast.margins import _run


def timed(f, rounds=1):
    best, val = float("inf"), None
    for _ in range(rounds):
        t0 = time.perf_counter()
        val = f()
        best = min(best, time.perf_counter() - t0)
    return best, val


def svds_route(X, Y):
    from scipy.sparse.linalg import LinearOperator, svds

    X64, Y64 = X.astype(np.float64), Y.astype(np.float64)
    op = LinearOperator((X.shape[0], Y.shape[1]), dtype=np.float64,
                        matvec=lambda v: X64 @ (Y64 @ v), rmatvec=lambda u: Y64.T @ (X64.T @ u),
                        matmat=lambda V: X64 @ (Y64 @ V), rmatmat=lambda U: Y64.T @ (X64.T @ U))
    return float(svds(op, k=1, return_singular_vectors=False, random_state=0)[0])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=4096)
    ap.add_argument("--chain-layers", type=int, default=32)
    ap.add_argument("--skip-dense", action="store_true")
    a = ap.parse_args()
    n = a.n
    rng = np.random.default_rng(0)
    X = rng.standard_normal((n, n), dtype=np.float32)
    Y = rng.standard_normal((n, n), dtype=np.float32)
    t_g, v_g = timed(lambda: g.product_norm(X, Y), rounds=2)
    _, info, _ = _run([X], [Y])
    print(f"product_norm n={n} f32: {t_g:.3f} s ({info[0]} passes), value {v_g!r}")
    t_s, v_s = timed(lambda: svds_route(X, Y))
    print(f"svds(k=1) LinearOperator f64: {t_s:.3f} s, value {v_s!r}, ratio {t_s / t_g:.1f}x, "
          f"rel diff {abs(v_s - v_g) / v_g:.2e}")
    if not a.skip_dense:
        t_d, v_d = timed(lambda: float(np.linalg.norm(X @ Y, 2)))
        print(f"np.linalg.norm(X @ Y, 2) f32: {t_d:.3f} s, value {v_d!r}, ratio {t_d / t_g:.1f}x, "
              f"rel diff {abs(v_d - v_g) / v_g:.2e}")
    L = a.chain_layers
    chain = [rng.standard_normal((n, n), dtype=np.float32) for _ in range(L)]
    t_c, _ = timed(lambda: g.chain_margins(chain))
    xs = list(chain) + chain[1:]
    ys = [None] * L + chain[:-1]
    _, info, _ = _run(xs, ys)
    # bytes: a norm pass reads A once; a product pass reads Y twice and X once
    reads = info[:L].sum() + sum(2 * info[L + i] for i in range(L - 1)) + sum(info[L + i] for i in range(L - 1))
    per_factor = reads / L
    floor = reads * 4 * n * n / 10e9
    print(f"chain_margins L={L} n={n} f32: {t_c:.2f} s; passes per norm {info[:L].mean():.1f}, "
          f"per product {info[L:].mean():.1f}; factor reads {per_factor:.1f} per factor "
          f"({per_factor * 4 * n * n / 2**20:.0f} MiB each); bandwidth floor {floor:.2f} s at 10 GB/s "
          f"(measured / floor = {t_c / floor:.1f})")


if __name__ == "__main__":
    main()
