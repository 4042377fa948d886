"""The BERT-large-shaped scan benchmark (issue 9): seconds, peak anonymous memory, parameters/s,
and the ratio to the float64 numpy SVD loop over the same matrices, in one run.

    PYTHONPATH=python python3 bench/scan_large.py [--blocks 24] [--d 1024] [--ff 4096] [--skip-numpy]
        [--svdvals] [--rounds 1]

Writes a synthetic Hugging Face style sharded bf16 checkpoint (per block: query/key/value/output
d×d, intermediate ff×d, output d×ff, biases and LayerNorm vectors; power-law spectra σ_k = k^-α)
to a temporary directory, scans it in a fresh subprocess that samples RssAnon (the process's
anonymous memory, not file pages), then times the numpy loop. ``--svdvals`` also times the bare
batched ``svdvals`` call on the same matrices (one call, in a fresh subprocess like the scan: the
yardstick of the scan's own overhead); ``--rounds N`` repeats scan and svdvals alternately.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path


HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests"))
from scan_helpers import numpy_loop, write_bert_checkpoint  # noqa: E402


_CHILD = """
import json, sys, threading, time, gsa_fast as g
def anon():
    with open("/proc/self/status") as f:
        return next(int(l.split()[1]) * 1024 for l in f if l.startswith("RssAnon:"))
base = anon(); peak = [base]; stop = []
def sample():
    while not stop:
        peak[0] = max(peak[0], anon()); time.sleep(0.002)
t = threading.Thread(target=sample); t.start()
t0 = time.perf_counter()
r = g.scan(sys.argv[1], progress=False, memory_budget=sys.argv[2] if sys.argv[2] != "None" else None)
dt = time.perf_counter() - t0
stop.append(1); t.join()
print(json.dumps({"seconds": dt, "peak_anon_above_start": peak[0] - base, "rows": len(r.layers),
                  "parameters": r.info["parameters"], "units": r.info["units"], "timings": r.info["timings"],
                  "budget": r.info["options"]["memory_budget"]}))
"""

_SVDVALS = """
import json, sys, time, gsa_fast as g
from gsa_fast.weights import list_tensors, load_tensors, resolve_source
mats = []
for f, _ in resolve_source(sys.argv[1]):
    refs = [r for r in list_tensors(f) if len(r.shape) == 2]
    mats += [a for a in load_tensors(refs, mmap_over=0).values()]
t0 = time.perf_counter()
g.svdvals(mats, dtype="bfloat16" if mats[0].dtype.kind == "u" else None)
print(json.dumps({"seconds": time.perf_counter() - t0, "matrices": len(mats)}))
"""


def main(argv=None):
    ap = argparse.ArgumentParser()
    ap.add_argument("--blocks", type=int, default=24)
    ap.add_argument("--d", type=int, default=1024)
    ap.add_argument("--ff", type=int, default=4096)
    ap.add_argument("--memory-budget", default="None")
    ap.add_argument("--skip-numpy", action="store_true")
    ap.add_argument("--svdvals", action="store_true", help="also time the bare svdvals call on the same matrices")
    ap.add_argument("--rounds", type=int, default=1)
    a = ap.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        params = write_bert_checkpoint(tmp, a.blocks, a.d, a.ff)
        size = sum(p.stat().st_size for p in Path(tmp).glob("*.safetensors"))
        print(f"checkpoint: {a.blocks} blocks, d={a.d}, ff={a.ff}, bf16, {params:,} matrix parameters, "
              f"{size / 2**20:.0f} MiB in {len(list(Path(tmp).glob('*.safetensors')))} shards "
              f"(written in {time.perf_counter() - t0:.1f} s)")
        env = {**os.environ, "PYTHONPATH": str(HERE.parent / "python") + os.pathsep + os.environ.get("PYTHONPATH", "")}
        print(f"load average before: {os.getloadavg()}")
        best = None
        for _ in range(a.rounds):
            r = subprocess.run([sys.executable, "-c", _CHILD, tmp, a.memory_budget], capture_output=True, text=True,
                               env=env, check=True)
            res = json.loads(r.stdout)
            print(f"gsa_fast.scan: {res['seconds']:.2f} s, {res['rows']} matrices, {res['units']} units, "
                  f"peak anonymous memory +{res['peak_anon_above_start'] / 2**20:.0f} MiB "
                  f"(budget {res['budget'] / 2**20:.0f} MiB), {res['parameters'] / res['seconds'] / 1e6:.1f} M params/s, "
                  f"timings {json.dumps({k: round(v, 3) for k, v in res['timings'].items()})}")
            if best is None or res["seconds"] < best["seconds"]:
                best = res
            if a.svdvals:
                r = subprocess.run([sys.executable, "-c", _SVDVALS, tmp], capture_output=True, text=True, env=env,
                                   check=True)
                sv = json.loads(r.stdout)
                print(f"bare svdvals, same {sv['matrices']} matrices: {sv['seconds']:.2f} s "
                      f"(scan = {res['seconds'] / sv['seconds']:.2f} x svdvals)")
        res = best
        if not a.skip_numpy:
            t0 = time.perf_counter()
            numpy_loop(tmp)
            tn = time.perf_counter() - t0
            print(f"float64 numpy.linalg.svd loop: {tn:.2f} s -> scan is {tn / res['seconds']:.2f}x faster")
        print(f"load average after: {os.getloadavg()}")


if __name__ == "__main__":
    main()
