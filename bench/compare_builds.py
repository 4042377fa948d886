"""Before/after of one call across two builds (two python/ folders), side by side.

Usage: python3 bench/compare_builds.py OLD/python NEW/python [rounds]
Runs each case in a fresh process per build, alternating old/new `rounds` times, and prints the
minimum wall time of the call (data generation excluded) for each: two builds' _core modules
cannot share one process.
"""
from __future__ import annotations

import subprocess
import sys

CASES = {  # name: (setup, timed call)
    "svdvals(svd) 1024x2752 f32": ("x = rng.standard_normal((1024, 2752)).astype(np.float32)",
                                   "g.svdvals(x, method='svd', threads=1)"),
    "svdvals(svd) 2752x1024 f32": ("x = rng.standard_normal((2752, 1024)).astype(np.float32)",
                                   "g.svdvals(x, method='svd', threads=1)"),
    "gram 3000x1500 f64 threads=1": ("x = rng.standard_normal((3000, 1500))", "g.gram(x, threads=1)"),
    "svdvals 2048x2048 f32 threads=2": ("x = rng.standard_normal((2048, 2048)).astype(np.float32)",
                                        "g.svdvals(x, threads=2)"),
    "svdvals 300x(64x64) threads=2": ("x = rng.standard_normal((300, 64, 64))", "g.svdvals(x, threads=2)"),
}
CHILD = """
import sys, time, numpy as np
sys.path.insert(0, sys.argv[1]); import gsa_fast as g
rng = np.random.default_rng(0)
exec(sys.argv[2])
t = time.perf_counter(); exec(sys.argv[3]); print(time.perf_counter() - t)
"""


def main():
    old, new = sys.argv[1], sys.argv[2]
    rounds = int(sys.argv[3]) if len(sys.argv) > 3 else 3
    print("| case | before (s) | after (s) | after / before |\n|---|---|---|---|")
    for name, (setup, call) in CASES.items():
        best = {old: float("inf"), new: float("inf")}
        for _ in range(rounds):
            for path in (old, new):
                out = subprocess.run([sys.executable, "-c", CHILD, path, setup, call], capture_output=True,
                                     text=True, check=True)
                best[path] = min(best[path], float(out.stdout.strip().splitlines()[-1]))
        print(f"| {name} | {best[old]:.3f} | {best[new]:.3f} | {best[new] / best[old]:.2f} |", flush=True)


if __name__ == "__main__":
    main()
