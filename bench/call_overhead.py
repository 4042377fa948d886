"""Per-call overhead (validation, dispatch, allocation) of small calls, for a before/after of
argument handling. Usage: python3 bench/call_overhead.py PYTHON_DIR  (one build per process; run it
alternately on two checkouts and compare the minima, e.g. a worktree of the old commit with the
same compiled modules). Prints "case<TAB>microseconds" (the minimum of 5 repeats of 200 calls)."""
import sys, timeit, numpy as np
sys.path.insert(0, sys.argv[1])
import gsa_fast as g
rng = np.random.default_rng(0)
S = np.sort(rng.random((8, 64)), axis=1)[:, ::-1].copy()
M = rng.standard_normal((32, 48))
P = M @ M.T; Q = P + np.eye(32)
L = [np.abs(rng.standard_normal(n)) for n in (5, 9, 13)]
cases = {
 "energy(8x64)": lambda: g.energy(S),
 "truncation_rank": lambda: g.truncation_rank(S, 0.1),
 "energy(list3)": lambda: g.energy(L),
 "harmonic(scalar)": lambda: g.harmonic(100, 1.5),
 "orbit_kl(scalar)": lambda: g.orbit_kl(1.0, 2.0, 100),
 "tail_margin(scalar)": lambda: g.tail_margin(1.0, 0.1, 100),
 "svdvals(32x48)": lambda: g.svdvals(M),
 "gram(32x48)": lambda: g.gram(M),
 "bures_distance(32)": lambda: g.bures_distance(P, Q),
 "bures_distance_diag": lambda: g.bures_distance_diag(S[0], S[1]),
}
for k, f in cases.items():
    n = 200
    t = min(timeit.repeat(f, number=n, repeat=5)) / n
    print(f"{k}\t{t*1e6:.2f}")
