"""Before/after of one call across two builds (two python/ folders), side by side.

Usage: python3 bench/compare_builds.py OLD/python NEW/python [rounds] [--spectra]
(--spectra: the gsa_fast sides of bench/bench_spectra.py's groups and issue 9's q = 1024 bf16 batches)
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
_BF16 = "import ml_dtypes; x = [(rng.standard_normal({}) * 0.02).astype(ml_dtypes.bfloat16) for _ in range(8)]"
_BLOCK = ("x = [rng.standard_normal(s).astype(np.float32) for s in [(768, 768)] * 4 + [(768, 3072), (3072, 768)]]")
SPECTRA_CASES = {  # bench_spectra.py's gsa rows (default threads) and the scan's q = 1024 bf16 shapes
    "svdvals 4096x11008 f32": ("x = rng.standard_normal((4096, 11008)).astype(np.float32)", "g.svdvals(x)"),
    "gram 4096x11008 f32": ("x = rng.standard_normal((4096, 11008)).astype(np.float32)", "g.gram(x)"),
    "svdvals 10000x32x32": ("x = rng.standard_normal((10000, 32, 32))", "g.svdvals(x)"),
    "svdvals 2000x64x64": ("x = rng.standard_normal((2000, 64, 64))", "g.svdvals(x)"),
    "svdvals block 768 (6 f32 matrices)": (_BLOCK, "g.svdvals(x)"),
    "svdvals 8 x 1024x1024 bf16": (_BF16.format((1024, 1024)), "g.svdvals(x)"),
    "svdvals 8 x 4096x1024 bf16": (_BF16.format((4096, 1024)), "g.svdvals(x)"),
    "svdvals 8 x 1024x4096 bf16": (_BF16.format((1024, 4096)), "g.svdvals(x)"),
}
CHILD = """
import sys, time, numpy as np
sys.path.insert(0, sys.argv[1]); import gsa_fast as g
rng = np.random.default_rng(0)
exec(sys.argv[2])
t = time.perf_counter(); exec(sys.argv[3]); print(time.perf_counter() - t)
"""


def main():
    args = [a for a in sys.argv[1:] if a != "--spectra"]
    old, new = args[0], args[1]
    rounds = int(args[2]) if len(args) > 2 else 3
    print("| case | before (s) | after (s) | after / before |\n|---|---|---|---|")
    for name, (setup, call) in (SPECTRA_CASES if "--spectra" in sys.argv else CASES).items():
        best = {old: float("inf"), new: float("inf")}
        for _ in range(rounds):
            for path in (old, new):
                out = subprocess.run([sys.executable, "-c", CHILD, path, setup, call], capture_output=True,
                                     text=True, check=True)
                best[path] = min(best[path], float(out.stdout.strip().splitlines()[-1]))
        print(f"| {name} | {best[old]:.3f} | {best[new]:.3f} | {best[new] / best[old]:.2f} |", flush=True)


if __name__ == "__main__":
    main()
