"""Chain margins (spec §7, §9): product_norm vs the dense one-liner and scipy svds on a
LinearOperator; chain_margins, margin_report and jacobian_chain vs their references.

Default sizes are small so that the CI smoke run stays fast; GSA_BENCH_FULL=1 uses the issue's
sizes (4096×4096 float32 pairs). The full-size numbers in bench/results/margins.md come from
bench/margins_full.py (one run, side by side), because the dense peer takes minutes per call.
"""
from __future__ import annotations

import os

import numpy as np
import pytest

import gsa_fast as g
from gsa_fast import reference as ref

FULL = os.environ.get("GSA_BENCH_FULL") == "1"
N = 4096 if FULL else 384
L_CHAIN = 32 if FULL else 6
N_CHAIN = 4096 if FULL else 128


@pytest.fixture(scope="module")
def pair():
    r = np.random.default_rng(0)
    return (r.standard_normal((N, N), dtype=np.float32), r.standard_normal((N, N), dtype=np.float32))


@pytest.fixture(scope="module")
def chain():
    r = np.random.default_rng(1)
    return [r.standard_normal((N_CHAIN, N_CHAIN), dtype=np.float32) for _ in range(L_CHAIN)]


def _svds(X, Y):
    from scipy.sparse.linalg import LinearOperator, svds

    X64, Y64 = X.astype(np.float64), Y.astype(np.float64)
    op = LinearOperator((X.shape[0], Y.shape[1]), dtype=np.float64,
                        matvec=lambda v: X64 @ (Y64 @ v), rmatvec=lambda u: Y64.T @ (X64.T @ u),
                        matmat=lambda V: X64 @ (Y64 @ V), rmatmat=lambda U: Y64.T @ (X64.T @ U))
    return svds(op, k=1, return_singular_vectors=False, random_state=0)[0]


@pytest.mark.benchmark(group="product_norm")
def bench_product_norm__gsa(benchmark, pair):
    benchmark(g.product_norm, *pair)


@pytest.mark.benchmark(group="product_norm")
def bench_product_norm__numpy(benchmark, pair):
    X, Y = pair
    benchmark.pedantic(lambda: np.linalg.norm(X @ Y, 2), rounds=1, iterations=1)


@pytest.mark.benchmark(group="product_norm")
def bench_product_norm__scipy(benchmark, pair):
    benchmark.pedantic(_svds, args=pair, rounds=1, iterations=1)


@pytest.mark.benchmark(group="chain_margins")
def bench_chain_margins__gsa(benchmark, chain):
    benchmark(g.chain_margins, chain)


@pytest.mark.benchmark(group="chain_margins")
@pytest.mark.parametrize("rtol", [1e-6, 1e-2])
def bench_chain_margins__gsa_rtol(benchmark, chain, rtol):
    """A looser accuracy: fewer Krylov steps, fewer reads of each factor (docs/margins.md)."""
    benchmark(g.chain_margins, chain, rtol=rtol)


@pytest.fixture(scope="module")
def power_law_chain():
    """Heavy-tailed factors (σ_k ≈ k^-0.5), like trained layers: a larger top gap than the
    Gaussian chain's, so far fewer Krylov steps at the same rtol."""
    r = np.random.default_rng(2)
    s = (np.arange(1, N_CHAIN + 1) ** -0.5).astype(np.float32)
    f = np.float32(1 / np.sqrt(N_CHAIN))
    return [((r.standard_normal((N_CHAIN, N_CHAIN), dtype=np.float32) * f * s)
             @ (r.standard_normal((N_CHAIN, N_CHAIN), dtype=np.float32) * f))
            for _ in range(L_CHAIN)]


@pytest.mark.benchmark(group="chain_margins_power_law")
def bench_chain_margins_power_law__gsa(benchmark, power_law_chain):
    benchmark(g.chain_margins, power_law_chain)


@pytest.mark.benchmark(group="chain_margins_power_law")
def bench_chain_margins_power_law__reference(benchmark, power_law_chain):
    benchmark.pedantic(ref.chain_margins, args=(power_law_chain,), rounds=1, iterations=1)


@pytest.mark.benchmark(group="chain_margins")
def bench_chain_margins__independent(benchmark, chain):
    """The previous route: every norm and product its own Krylov problem (one per thread),
    reading its factors once per pass (the lockstep kernel reads each about twice per step)."""
    from gsa_fast.margins import _run

    xs, ys = list(chain) + chain[1:], [None] * len(chain) + chain[:-1]
    benchmark.pedantic(_run, args=(xs, ys), kwargs={"fro": True}, rounds=1, iterations=1)


@pytest.mark.benchmark(group="chain_margins")
def bench_chain_margins__reference(benchmark, chain):
    benchmark.pedantic(ref.chain_margins, args=(chain,), rounds=1, iterations=1)


@pytest.mark.benchmark(group="margin_report")
def bench_margin_report__gsa(benchmark, chain):
    pytest.importorskip("pandas")
    benchmark(g.margin_report, chain[:6])


@pytest.mark.benchmark(group="margin_report")
def bench_margin_report__reference(benchmark, chain):
    pytest.importorskip("pandas")
    benchmark.pedantic(ref.margin_report, args=(chain[:6],), rounds=1, iterations=1)


@pytest.fixture(scope="module")
def tiny_bert():
    pytest.importorskip("torch")
    from gsa_fast.minilm import build_bert

    cfg = dict(vocab_size=40, hidden_size=32, num_hidden_layers=2, num_attention_heads=4,
               intermediate_size=64, max_position_embeddings=16, type_vocab_size=2,
               layer_norm_eps=1e-12, hidden_act="gelu")
    return build_bert(cfg, seed=0, dtype="float64"), {"input_ids": np.arange(1, 9)}


@pytest.mark.benchmark(group="jacobian_chain")
def bench_jacobian_chain__gsa(benchmark, tiny_bert):
    benchmark(g.jacobian_chain, *tiny_bert)


@pytest.mark.benchmark(group="jacobian_chain")
def bench_jacobian_chain__reference(benchmark, tiny_bert):
    benchmark.pedantic(ref.jacobian_chain, args=tiny_bert, rounds=1, iterations=1)
