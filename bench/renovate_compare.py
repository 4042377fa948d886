"""Before/after numbers of the renovation (issue 7), measured side by side in one run.

Usage: python3 bench/renovate_compare.py BEFORE_PYTHONPATH AFTER_PYTHONPATH [M N] [--tiny-only]
Each case runs in a fresh subprocess per tree, alternating before/after, best of the repeats:
- per-call overhead of tiny calls (the route table and the normalization step must not grow it);
- svdvals(method="svd") on the tall 30522×384 MiniLM-shaped matrix and its wide transpose,
  against scipy.linalg.svd on the tall Fortran layout (what LAPACK is fast on).
"""
from __future__ import annotations

import json
import subprocess
import sys

TINY = r"""
import timeit, json, numpy as np, gsa_fast as g
s = np.array([3.0, 2.0, 1.0]); x = np.ones((4, 3))
cases = {"rank_count(3)": lambda: g.rank_count(s), "harmonic(10, 1.0)": lambda: g.harmonic(10, 1.0),
         "truncation_rank(3, 0.1)": lambda: g.truncation_rank(s, 0.1), "svdvals(4x3)": lambda: g.svdvals(x),
         "bures_distance_diag(3)": lambda: g.bures_distance_diag(s, s), "fit_exponent(3)": lambda: g.fit_exponent(s)}
print(json.dumps({k: min(timeit.repeat(f, number=2000, repeat=5)) / 2000 * 1e6 for k, f in cases.items()}))
"""

SVD = r"""
import time, json, numpy as np, scipy.linalg as sl, gsa_fast as g
m, n = %d, %d
x = np.random.default_rng(3).standard_normal((m, n))
out = {}
for kind, a in (("tall", x), ("wide", np.ascontiguousarray(x.T))):
    best = min((lambda t0: (g.svdvals(a, method="svd", threads=1), time.perf_counter() - t0)[1])(time.perf_counter()) for _ in range(2))
    out[kind] = best
xf = np.asfortranarray(x)
out["scipy_tall"] = min((lambda t0: (sl.svd(xf, compute_uv=False, check_finite=False), time.perf_counter() - t0)[1])(time.perf_counter()) for _ in range(2))
print(json.dumps(out))
"""


def run(path, code):
    env = {"PYTHONPATH": path, "OPENBLAS_NUM_THREADS": "1", "PATH": "/usr/bin:/bin"}
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True)
    return json.loads(r.stdout)


def main():
    before, after = sys.argv[1], sys.argv[2]
    tiny_only = "--tiny-only" in sys.argv
    args = [a for a in sys.argv[3:] if not a.startswith("--")]
    m, n = (int(args[0]), int(args[1])) if len(args) > 1 else (30522, 384)
    tb, ta = {}, {}
    for _ in range(3):  # alternate the trees so load drifts hit both
        for store, path in ((tb, before), (ta, after)):
            for k, v in run(path, TINY).items():
                store[k] = min(store.get(k, 1e99), v)
    print("| tiny call | before µs | after µs | after/before |\n|---|---|---|---|")
    for k in tb:
        print(f"| `{k}` | {tb[k]:.1f} | {ta[k]:.1f} | {ta[k] / tb[k]:.2f} |")
    if tiny_only:
        return
    sb, sa = run(before, SVD % (m, n)), run(after, SVD % (m, n))
    print(f"\n| svdvals(method='svd', threads=1), {m}×{n} | before s | after s | after/before | after/scipy tall |")
    print("|---|---|---|---|---|")
    for kind in ("tall", "wide"):
        print(f"| {kind} | {sb[kind]:.2f} | {sa[kind]:.2f} | {sa[kind] / sb[kind]:.2f} | {sa[kind] / sa['scipy_tall']:.2f} |")
    print(f"| scipy.linalg.svd, tall Fortran | {sb['scipy_tall']:.2f} | {sa['scipy_tall']:.2f} | | 1.00 |")


if __name__ == "__main__":
    main()
