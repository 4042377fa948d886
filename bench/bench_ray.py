"""The scan on a Ray cluster (issue 14): overhead against the local scan, and planning time.

Groups (``python bench/report.py bench/bench_ray.py``; ratio column = peer / gsa):
- ``ray_bert_large``: ``gsa`` is the local scan (``gsa_fast.scan``, executor="local"), ``ray`` the
  same scan with ``executor="ray"`` on a local 2-CPU Ray cluster started once for the module (its
  start-up is not timed; connecting to a running cluster is what a user on a cluster pays). Both
  scan the synthetic 24-block BERT-large-shaped bf16 sharded checkpoint (1024², 4096×1024,
  1024×4096 per block, 302M parameters, 604 MB), ``memory_budget="256MB"`` (units of <= 128 MB),
  ``threads=1`` per Ray task and the local default threads. Target: ray / local <= 1.25.
- ``ray_plan_10k``: ``plan_scan`` of a sharded index of 10,000 tensors (10 shards, Llama-shaped
  names and shapes, 4096² … 11008×4096 bf16 plus norms: ~590 GB declared, sparse files, so only
  headers exist on disk) — what the Ray driver does before submitting the first task. Target < 1 s.
With --benchmark-disable (the CI smoke run) the checkpoint shrinks to 2 blocks of width 256 and
the index to 200 tensors.
"""
from __future__ import annotations

import json
import pickle
import struct

import numpy as np
import pytest

import gsa_fast as g
from gsa_fast._scan_plan import plan_scan
from ray_helpers import local_cluster

ray = pytest.importorskip("ray")
pytest.importorskip("pandas")


@pytest.fixture(scope="module")
def small(request):
    return bool(request.config.getoption("benchmark_disable", False))


@pytest.fixture(scope="module")
def cluster():
    with local_cluster(num_cpus=2):
        yield


def _bf16(x):
    u = np.asarray(x, dtype=np.float32).view(np.uint32).astype(np.uint64)
    return ((u + 0x7FFF + ((u >> 16) & 1)) >> 16).astype(np.uint16)


def _write_st(path, tensors):
    header, off = {}, 0
    for name, a in tensors.items():
        header[name] = {"dtype": "BF16" if a.dtype == np.uint16 else "F32", "shape": list(a.shape),
                        "data_offsets": [off, off + a.nbytes]}
        off += a.nbytes
    h = json.dumps(header).encode()
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)) + h)
        for a in tensors.values():
            f.write(np.ascontiguousarray(a).tobytes())


@pytest.fixture(scope="module")
def bert_large(tmp_path_factory, small):
    return write_bert_large(tmp_path_factory.mktemp("bert_large"), small)


def write_bert_large(folder, small=False):
    """24 blocks (d=1024, ff=4096) in 4 shards under ``folder``; power-law spectra σ_k = k^-α.
    Each matrix is a row permutation of one of two bases (same spectrum, different bytes): cheap
    to build. Returns the folder."""
    rng = np.random.default_rng(7)
    blocks, d, ff = (2, 256, 1024) if small else (24, 1024, 4096)

    def base(m, n, alpha):
        q = min(m, n)
        u = rng.standard_normal((m, q)).astype(np.float32) / np.sqrt(m)
        v = rng.standard_normal((q, n)).astype(np.float32) / np.sqrt(n)
        return (u * (np.arange(1, q + 1, dtype=np.float32) ** -alpha)) @ v

    sq, up = base(d, d, 0.7), base(ff, d, 0.9)
    names = []
    for b in range(blocks):
        p = f"encoder.layer.{b}."
        names += [(p + k + ".weight", "sq") for k in ("attention.self.query", "attention.self.key",
                                                      "attention.self.value", "attention.output.dense")]
        names += [(p + "intermediate.dense.weight", "up"), (p + "output.dense.weight", "down")]
    shards, weight_map = 4, {}
    per = -(-len(names) // shards)
    for s in range(shards):
        fname = f"model-{s + 1:05d}-of-{shards:05d}.safetensors"
        part = {}
        for name, kind in names[s * per:(s + 1) * per]:
            a = {"sq": sq, "up": up, "down": up.T}[kind]
            part[name] = _bf16(a[rng.permutation(a.shape[0])])
            weight_map[name] = fname
        _write_st(folder / fname, part)
    (folder / "model.safetensors.index.json").write_text(json.dumps({"metadata": {}, "weight_map": weight_map}))
    return folder


def _scan(src, **kw):
    r = g.scan(src, memory_budget="256MB", progress=False, **kw)
    assert (r.layers["status"] == "ok").all()
    return r


def bench_bert_large_scan__gsa(benchmark, bert_large, small):
    benchmark.group = "ray_bert_large"
    r = benchmark.pedantic(_scan, args=(bert_large,), rounds=1 if small else 2, iterations=1)
    benchmark.extra_info.update(parameters=r.info["parameters"], units=r.info["units"])


def bench_bert_large_scan__ray(benchmark, bert_large, small, cluster):
    benchmark.group = "ray_bert_large"
    r = benchmark.pedantic(_scan, args=(bert_large,), kwargs={"executor": "ray"}, rounds=1 if small else 2,
                           iterations=1)
    benchmark.extra_info.update(parameters=r.info["parameters"], units=r.info["units"],
                                tasks=r.info["ray"]["tasks"])


@pytest.fixture(scope="module")
def index_10k(tmp_path_factory, small):
    """A sharded index of 10,000 tensors whose files hold headers only (sparse data)."""
    roles = [("self_attn.q_proj.weight", (4096, 4096)), ("self_attn.k_proj.weight", (1024, 4096)),
             ("self_attn.v_proj.weight", (1024, 4096)), ("self_attn.o_proj.weight", (4096, 4096)),
             ("mlp.gate_proj.weight", (11008, 4096)), ("mlp.up_proj.weight", (11008, 4096)),
             ("mlp.down_proj.weight", (4096, 11008)), ("input_layernorm.weight", (4096,)),
             ("post_attention_layernorm.weight", (4096,)), ("mlp.bias", (11008,))]
    n = 200 if small else 10_000
    names = [(f"model.layers.{i // len(roles)}.{r}", shape) for i, (r, shape) in
             zip(range(n), (roles[i % len(roles)] for i in range(n)))]
    folder = tmp_path_factory.mktemp("index10k")
    shards, weight_map = 10, {}
    per = -(-n // shards)
    for s in range(shards):
        fname = f"model-{s + 1:05d}-of-{shards:05d}.safetensors"
        header, off = {}, 0
        for name, shape in names[s * per:(s + 1) * per]:
            nb = 2 * int(np.prod(shape))
            header[name] = {"dtype": "BF16", "shape": list(shape), "data_offsets": [off, off + nb]}
            off += nb
            weight_map[name] = fname
        h = json.dumps(header).encode()
        with open(folder / fname, "wb") as f:
            f.write(struct.pack("<Q", len(h)) + h)
            f.truncate(8 + len(h) + off)  # sparse: the declared data takes no disk
    (folder / "model.safetensors.index.json").write_text(json.dumps({"metadata": {}, "weight_map": weight_map}))
    return folder, n


def bench_plan_10000_tensors__gsa(benchmark, index_10k):
    folder, n = index_10k
    benchmark.group = "ray_plan_10k"
    plan = benchmark.pedantic(lambda: plan_scan([folder], unit_bytes=2**30), rounds=3, iterations=1)
    assert plan.matrices == n * 7 // 10
    benchmark.extra_info.update(tensors=n, units=len(plan.units), declared_bytes=plan.nbytes,
                                unit_pickle_bytes_max=max(len(pickle.dumps(u)) for u in plan.units))
