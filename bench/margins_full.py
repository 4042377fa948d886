"""Full-size timings for bench/results/margins.md (one run, side by side; slow peers once).

    PYTHONPATH=python python3 bench/margins_full.py [--n 4096] [--chain-layers 32] [--skip-dense]
        [--skip-pair] [--block B] [--old]
    PYTHONPATH=python python3 bench/margins_full.py --reads-table [--n 4096] [--chain-layers 6]

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
from gsa_fast.margins import _chain_kernel, _run


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
    ap.add_argument("--skip-pair", action="store_true")
    ap.add_argument("--block", type=int, default=0, help="Krylov block of the chain kernel")
    ap.add_argument("--old", action="store_true", help="also time the previous chain route")
    ap.add_argument("--spectrum", default="gauss", choices=["gauss", "pl0.5", "pl1"],
                    help="chain factors: Gaussian (flat top) or power law σ_k ≈ k^-0.5 / k^-1")
    ap.add_argument("--rtol", type=float, default=1e-12, help="chain_margins' rtol")
    ap.add_argument("--reads-table", action="store_true",
                    help="reads per factor of chain_margins against rtol and the factors' spectra")
    a = ap.parse_args()
    n = a.n
    rng = np.random.default_rng(0)
    if a.reads_table:
        reads_table(n, a.chain_layers, rng)
        return
    if not a.skip_pair:
        pair(n, rng, a.skip_dense)
    chain_run(n, a.chain_layers, rng, a.block, a.old, a.spectrum, a.rtol)


def pair(n, rng, skip_dense):
    X = rng.standard_normal((n, n), dtype=np.float32)
    Y = rng.standard_normal((n, n), dtype=np.float32)
    t_g, v_g = timed(lambda: g.product_norm(X, Y), rounds=2)
    _, info, _ = _run([X], [Y])
    print(f"product_norm n={n} f32: {t_g:.3f} s ({info[0]} passes), value {v_g!r}")
    t_s, v_s = timed(lambda: svds_route(X, Y))
    print(f"svds(k=1) LinearOperator f64: {t_s:.3f} s, value {v_s!r}, ratio {t_s / t_g:.1f}x, "
          f"rel diff {abs(v_s - v_g) / v_g:.2e}")
    if not skip_dense:
        t_d, v_d = timed(lambda: float(np.linalg.norm(X @ Y, 2)))
        print(f"np.linalg.norm(X @ Y, 2) f32: {t_d:.3f} s, value {v_d!r}, ratio {t_d / t_g:.1f}x, "
              f"rel diff {abs(v_d - v_g) / v_g:.2e}")


def chain_run(n, L, rng, block=0, old=False, spectrum="gauss", rtol=1e-12):
    """Times exactly what chain_margins does (validation, one lockstep kernel call, the §7.1
    formulas), spelled out so that the pass counts and the kernel's read counter come from the
    timed call. ``old``: also the previous route (one independent Krylov problem per norm and per
    product, one problem per worker thread) on the same chain, side by side."""
    from gsa_fast._chain import as_factor_list, compatible, interface_quantities
    from gsa_fast.margins import _check_dtype

    if spectrum == "gauss":
        chain = [rng.standard_normal((n, n), dtype=np.float32) for _ in range(L)]
    else:
        chain = [power_law_factor(rng, n, float(spectrum[2:])) for _ in range(L)]
    t0 = time.perf_counter()
    factors = as_factor_list(chain, "chain_margins")
    _check_dtype(factors, "chain_margins")
    nrm, fro, pn, ni, pi, kreads = _chain_kernel(factors, np.ones(L, bool), compatible(factors),
                                                 block=block, rtol=rtol)
    c = np.sqrt(float(n)) / fro
    interface_quantities(nrm * c, pn * c[1:] * c[:-1])
    t_c = time.perf_counter() - t0
    # reads of each factor: validation (isfinite) 1 + the kernel's own counter (each sweep that
    # has work for the factor streams it once; the Frobenius norm is summed in the first sweep)
    reads = 1 + kreads
    nbytes = reads.mean() * chain[0].nbytes
    floor = reads.sum() * chain[0].nbytes / 10e9
    # float64 flops of the streamed products: 2·n²·(columns) per dgemm, two dgemms per read
    print(f"chain_margins (lockstep, block {block or 8}, {spectrum}, rtol {rtol:g}) L={L} n={n} "
          f"f32: {t_c:.2f} s; "
          f"passes per norm {ni.mean():.1f} (max {ni.max()}), per product {pi.mean():.1f} "
          f"(max {pi.max()}); reads per factor {reads.mean():.1f} (min {reads.min()}, max "
          f"{reads.max()}; {nbytes / 2**20:.0f} MiB per factor); bandwidth floor {floor:.2f} s "
          f"at 10 GB/s (measured / floor = {t_c / floor:.1f})")
    # float64 flops of the Krylov steps (block b): a norm pass 4·n²·b (A V, then Aᵀ(·)), a
    # product pass 8·n²·b (Y V, XᵀX(·), Yᵀ(·)); floor at 2 cores × 50 GF/s
    b = block or 8
    flops = (4 * ni.sum() + 8 * pi.sum()) * n * n * b
    print(f"  float64 flops {flops / 1e9:.0f} GF; compute floor {flops / 100e9:.2f} s at 100 GF/s "
          f"(measured / compute floor = {t_c / (flops / 100e9):.1f})")
    if old:
        xs = list(factors) + [factors[i + 1] for i in range(L - 1)]
        ys = [None] * L + [factors[i] for i in range(L - 1)]
        t0 = time.perf_counter()
        out, info, _ = _run(xs, ys, fro=True, rtol=rtol)
        t_o = time.perf_counter() - t0
        ppass = info[L:]
        oreads = 2 + info[:L]  # isfinite + the separate Frobenius pass + its norm's passes
        oreads[1:] += 1  # the Frobenius pass of the product where it is the left factor
        oreads[1:] += ppass
        oreads[:-1] += 2 * ppass
        dn = np.max(np.abs(out[:L] - nrm) / out[:L])
        dp = np.max(np.abs(out[L:] - pn) / out[L:])
        print(f"  previous route (independent problems): {t_o:.2f} s, reads per factor "
              f"{oreads.mean():.1f}; ratio previous / lockstep {t_o / t_c:.2f}x; max rel diff "
              f"norms {dn:.1e}, products {dp:.1e}")


def power_law_factor(rng, n, alpha):
    """σ_k ≈ k^-α (Gaussian factors scaled, no O(n³) orthogonalization): the heavy-tailed top of a
    trained layer, against the flat Marchenko–Pastur edge of a Gaussian factor."""
    s = (np.arange(1, n + 1) ** -alpha).astype(np.float32)
    u = rng.standard_normal((n, n), dtype=np.float32) / np.float32(np.sqrt(n))
    v = rng.standard_normal((n, n), dtype=np.float32) / np.float32(np.sqrt(n))
    return (u * s) @ v


def reads_table(n, L, rng, rtols=(1e-12, 1e-9, 1e-6, 1e-4, 1e-2)):
    """chain_margins' lockstep kernel on L-layer chains of three kinds of n×n float32 factors, for
    each rtol: reads per factor (finiteness check + the kernel's counter), passes, time, and the
    largest relative error of the norms and product norms against the rtol = 1e-12 run."""
    from gsa_fast._chain import compatible

    kinds = [("Gaussian (flat top: worst case)", lambda: rng.standard_normal((n, n), dtype=np.float32)),
             ("power law σ_k ≈ k^-0.5", lambda: power_law_factor(rng, n, 0.5)),
             ("power law σ_k ≈ k^-1", lambda: power_law_factor(rng, n, 1.0))]
    print(f"| factors ({L} × {n}² float32) | rtol | reads per factor (mean, max) | passes per "
          "norm / product | time (s) | max rel. error vs rtol = 1e-12 |")
    print("|---|---|---|---|---|---|")
    for name, make in kinds:
        chain = [make() for _ in range(L)]
        base = None
        for rtol in rtols:
            t0 = time.perf_counter()
            nrm, _, pn, ni, pi, kreads = _chain_kernel(chain, np.ones(L, bool), compatible(chain),
                                                       rtol=rtol)
            dt = time.perf_counter() - t0
            base = base or (nrm, pn)
            err = max(np.max(np.abs(nrm - base[0]) / base[0]), np.max(np.abs(pn - base[1]) / base[1]))
            reads = 1 + kreads
            print(f"| {name} | {rtol:.0e} | {reads.mean():.1f} ({reads.max()}) | {ni.mean():.1f} / "
                  f"{pi.mean():.1f} | {dt:.2f} | {err:.1e} |", flush=True)
    minilm_reads(rtols)


def minilm_reads(rtols):
    """The same counts on trained layers: the bundled MiniLM checkpoint's six attention-output
    projections (384×384) as one chain, through the lockstep kernel."""
    from safetensors.numpy import load_file

    import gsa_fast.weights as w
    from gsa_fast._chain import compatible

    t = load_file(w.bundled_model_path())
    key = next(k for k in t if k.endswith("layer.0.attention.output.dense.weight"))
    chain = [np.ascontiguousarray(t[key.replace("layer.0.", f"layer.{i}.")], dtype=np.float32)
             for i in range(6)]
    L, base = len(chain), None
    for rtol in rtols:
        nrm, _, pn, ni, pi, kreads = _chain_kernel(chain, np.ones(L, bool), compatible(chain),
                                                   rtol=rtol)
        base = base or (nrm, pn)
        err = max(np.max(np.abs(nrm - base[0]) / base[0]), np.max(np.abs(pn - base[1]) / base[1]))
        reads = 1 + kreads
        print(f"| MiniLM-L6 attention.output.dense, 6 × 384² (trained) | {rtol:.0e} | "
              f"{reads.mean():.1f} ({reads.max()}) | {ni.mean():.1f} / {pi.mean():.1f} | — | "
              f"{err:.1e} |", flush=True)


if __name__ == "__main__":
    main()
