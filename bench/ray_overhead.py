"""Interleaved timing of the BERT-large-shaped scan: local (default threads), local (threads=1)
and Ray (2-CPU local cluster, one thread per task), in the order L, L1, R, R, L1, L, so that a
drift of the machine's load hits every variant alike. Prints a Markdown table.

Usage: PYTHONPATH=python python3 bench/ray_overhead.py [--small]
The checkpoint is the one of bench/bench_ray.py (24 blocks, d=1024, 4 shards of bf16).
"""
from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

sys.path[:0] = [os.path.dirname(os.path.abspath(__file__)), os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "tests")]

import gsa_fast as g  # noqa: E402
from bench_ray import write_bert_large  # noqa: E402
from ray_helpers import local_cluster  # noqa: E402


def main(small: bool) -> None:
    with tempfile.TemporaryDirectory() as d:
        src = write_bert_large(Path(d), small)
        runs = {"local": {}, "local_t1": {"threads": 1}, "ray": {"executor": "ray"}}
        times = {k: [] for k in runs}
        with local_cluster(num_cpus=2):
            for name in ("local", "local_t1", "ray", "ray", "local_t1", "local"):
                t0 = time.perf_counter()
                r = g.scan(src, memory_budget="256MB", progress=False, **runs[name])
                times[name].append(time.perf_counter() - t0)
                assert (r.layers["status"] == "ok").all()
    best = {k: min(v) for k, v in times.items()}
    print("| variant | best of 2 (s) | both runs (s) | / local |")
    print("|---|---|---|---|")
    for k, v in times.items():
        print(f"| {k} | {best[k]:.1f} | {', '.join(f'{x:.1f}' for x in v)} | {best[k] / best['local']:.2f}× |")


if __name__ == "__main__":
    main("--small" in sys.argv)
