"""The 24-block BERT-large bf16 scan (issue 9) for two builds side by side, with the bare svdvals
call and the float64 numpy loop in the same run (bench/results/scan.md).

    python3 bench/scan_large_builds.py OLD/python NEW/python [--wait-load 1.0] [--checkpoint DIR]

Writes the synthetic checkpoint once (bench/scan_large.py's), optionally waits until the 1-minute
load average drops below --wait-load (at most 30 minutes), then runs: scan new, scan old, svdvals
new, svdvals old, the numpy loop, scan new, scan old, svdvals new, each in a fresh process, and
prints each with the load average at its end.
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
sys.path[:0] = [str(HERE.parent / "python"), str(HERE), str(HERE.parent / "tests")]
import scan_large as S  # noqa: E402
from scan_helpers import numpy_loop, write_bert_checkpoint  # noqa: E402


def main(argv=None):
    ap = argparse.ArgumentParser()
    ap.add_argument("old")
    ap.add_argument("new")
    ap.add_argument("--wait-load", type=float, default=None)
    ap.add_argument("--checkpoint", default=None)
    a = ap.parse_args(argv)
    builds = {"new": a.new, "old": a.old}
    with tempfile.TemporaryDirectory() as tmp:
        ck = a.checkpoint or tmp
        if not (Path(ck) / "model.safetensors.index.json").exists():
            write_bert_checkpoint(ck, 24, 1024, 4096)
        if a.wait_load is not None:
            t_end = time.time() + 1800
            while os.getloadavg()[0] > a.wait_load and time.time() < t_end:
                time.sleep(5)
        print(f"start, load average {os.getloadavg()}", flush=True)

        def child(code, b, *args):
            env = {**os.environ, "PYTHONPATH": builds[b]}
            return json.loads(subprocess.run([sys.executable, "-c", code, ck, *args], capture_output=True, text=True,
                                             env=env, check=True).stdout)

        def stamp():
            return f"[{time.strftime('%H:%M:%S')} load {os.getloadavg()[0]:.2f}]"

        def scan(b):
            r = child(S._CHILD, b, "None")
            print(f"{stamp()} {b} scan {r['seconds']:.2f} s, peak anon +{r['peak_anon_above_start'] / 2**20:.0f} MiB, "
                  f"{r['parameters'] / r['seconds'] / 1e6:.1f} M params/s, "
                  f"timings { {k: round(v, 3) for k, v in r['timings'].items()} }", flush=True)
            return r["seconds"]

        def svd(b):
            r = child(S._SVDVALS, b)
            print(f"{stamp()} {b} bare svdvals {r['seconds']:.2f} s", flush=True)
            return r["seconds"]

        sc = {"new": [scan("new")], "old": [scan("old")]}
        sv = {"new": [svd("new")], "old": [svd("old")]}
        t0 = time.perf_counter()
        numpy_loop(ck)
        tn = time.perf_counter() - t0
        print(f"{stamp()} numpy float64 loop {tn:.2f} s", flush=True)
        sc["new"].append(scan("new"))
        sc["old"].append(scan("old"))
        sv["new"].append(svd("new"))
        sn, so, vn, vo = min(sc["new"]), min(sc["old"]), min(sv["new"]), min(sv["old"])
        print(f"numpy / scan: new {tn / sn:.2f}x, old {tn / so:.2f}x; scan / svdvals: new {sn / vn:.3f}, "
              f"old {so / vo:.3f}; scan new / old {sn / so:.3f}; svdvals new / old {vn / vo:.3f}")


if __name__ == "__main__":
    main()
