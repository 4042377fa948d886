"""Peak memory of gsa_fast.svdvals on one 4096 × 14336 float32 matrix (issue #3 budget).

Budget: peak − (interpreter baseline) ≤ 1.5 × input + one min(m, n)² float64 Gram.
Run: PYTHONPATH=python python3 bench/spectra_memory.py [m n]   (each measurement in a fresh
subprocess; ru_maxrss is the process's peak resident set).
"""
from __future__ import annotations

import json
import subprocess
import sys

CHILD = r"""
import resource, sys, json
import numpy as np
import gsa_fast as g
m, n, method = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
kib = lambda: resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
base = kib()
W = np.empty((m, n), dtype=np.float32)
for i in range(0, m, 256):  # filled in slices: no float64 temporary
    W[i:i + 256] = np.random.default_rng(i).standard_normal((min(256, m - i), n), dtype=np.float32)
after_input = kib()
if method == "gram":
    g.svdvals(W)
elif method == "topk":
    g.svdvals(W, "topk", k=64)
peak = kib()
print(json.dumps(dict(base=base, after_input=after_input, peak=peak, input=W.nbytes,
                      gram=min(m, n) ** 2 * 8)))
"""


def measure(m, n, method):
    out = subprocess.run([sys.executable, "-c", CHILD, str(m), str(n), method], check=True,
                         capture_output=True, text=True).stdout
    return json.loads(out)


def main():
    m, n = (int(sys.argv[1]), int(sys.argv[2])) if len(sys.argv) > 2 else (4096, 14336)
    mib = 2.0**20
    print("| method | input (MiB) | Gram (MiB) | peak − baseline (MiB) | budget 1.5·input + Gram (MiB) | ratio to budget |")
    print("|---|---|---|---|---|---|")
    for method in ("none", "gram", "topk"):
        r = measure(m, n, method)
        used = r["peak"] - r["base"]
        budget = 1.5 * r["input"] + r["gram"]
        print(f"| {method} | {r['input'] / mib:.0f} | {r['gram'] / mib:.0f} | {used / mib:.0f} | "
              f"{budget / mib:.0f} | {used / budget:.2f} |")


if __name__ == "__main__":
    main()
