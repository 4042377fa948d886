"""Where the whole `python -c "...cw.analyze(PATH)"` process spends its time (bench/results/esd.md).

    PYTHONPATH=python python3 bench/ww_process_phases.py [MODEL.safetensors] [ROUNDS]

Runs ROUNDS (default 5) fresh interpreters that do what ``compat.weightwatcher.analyze`` does,
step by step, with CLOCK_MONOTONIC stamps (``time.perf_counter`` in parent and child share it):
interpreter start, numpy, gsa_fast, the compat module, reading the header and selecting layers,
the spectra and fits (pandas importing beside them), waiting for pandas, the frame, and the exit.
Prints the three fastest rounds in ms, then the CPU time of the bare spectra (the MiniLM batch,
and its 30522×384 float32 embedding alone on one worker). Numbers from a shared machine: read
them with the load average printed last.
"""
from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

CHILD = r'''
import time; T = [("t0", time.perf_counter())]
import numpy; T.append(("numpy", time.perf_counter()))
import gsa_fast; T.append(("gsa_fast", time.perf_counter()))
from gsa_fast.compat import weightwatcher as cw; T.append(("compat", time.perf_counter()))
from gsa_fast._prefetch import prefetch
sel = cw._selected(cw._layers(%r), cw.DEFAULT_MIN_EVALS, cw.DEFAULT_MAX_EVALS, cw.DEFAULT_MAX_N)
T.append(("header+select", time.perf_counter()))
pf = prefetch("pandas")
rows = cw._table_rows(sel, None, "gram", None); T.append(("spectra+fits", time.perf_counter()))
pd = pf.result(); T.append(("pandas wait", time.perf_counter()))
df = pd.DataFrame(rows, columns=list(cw.COLUMNS)); T.append(("frame", time.perf_counter()))
print(repr(T), flush=True)
'''


def phases(path: Path, rounds: int):
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(ROOT / "python")] + (
        [os.environ["PYTHONPATH"]] if os.environ.get("PYTHONPATH") else [])))
    out = []
    for _ in range(rounds):
        t = time.perf_counter()
        r = subprocess.run([sys.executable, "-c", CHILD % str(path)], capture_output=True, text=True, env=env,
                           check=True, cwd=ROOT)
        te = time.perf_counter()
        T = eval(r.stdout.strip().splitlines()[-1])  # noqa: S307 - our own child's repr of floats
        ph = [("start", T[0][1] - t)] + [(T[k][0], T[k][1] - T[k - 1][1]) for k in range(1, len(T))]
        out.append(ph + [("exit", te - T[-1][1]), ("TOTAL", te - t)])
    return sorted(out, key=lambda p: p[-1][1])


def spectra_cpu(path: Path):
    import gsa_fast as g
    from gsa_fast.weights import layer_matrices, read_safetensors

    mats = list(layer_matrices(read_safetensors(path), min_side=8).values())
    emb = max(mats, key=lambda m: m.shape[0])

    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from _timing import best

    def cpu(f):
        return best(f, 5, clock=time.process_time)

    return cpu(lambda: g.svdvals(mats)), emb.shape, cpu(lambda: g.svdvals(emb, threads=1))


def main():
    from gsa_fast.weights import bundled_model_path

    path = Path(sys.argv[1]) if len(sys.argv) > 1 else bundled_model_path()
    rounds = int(sys.argv[2]) if len(sys.argv) > 2 else 5
    for p in phases(path, rounds)[:3]:
        print("  ".join(f"{n} {v * 1e3:.0f}" for n, v in p))
    batch, shape, emb = spectra_cpu(path)
    print(f"CPU: MiniLM svdvals batch {batch:.3f} s; {shape[0]}x{shape[1]} embedding alone, 1 worker {emb:.3f} s")
    print("load average", " ".join(f"{x:.1f}" for x in os.getloadavg()))


if __name__ == "__main__":
    main()
