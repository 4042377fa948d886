"""Run the benchmarks once and print ratio tables (peer time / gsa_fast time) in Markdown.

Usage: python bench/report.py [pytest args, e.g. bench/bench_sums.py -k harmonic]
Timings are the minimum over rounds (least noisy on a shared machine); a benchmark may set
extra_info["scale"] when it timed a subset of the batch (slow pure-Python peers).
"""
from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
import tempfile
from collections import defaultdict


def main(argv):
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "bench.json")
        cmd = [sys.executable, "-m", "pytest", "-q", "-p", "no:randomly", f"--benchmark-json={out}",
               "--benchmark-min-rounds=5", *(argv or ["bench"])]
        subprocess.run(cmd, check=True)
        data = json.load(open(out))
    groups = defaultdict(dict)
    for b in data["benchmarks"]:
        name = b["name"].split("[")[0]
        op, _, who = name.partition("__")
        key = b["name"][len(name):]  # parametrization suffix
        t = b["stats"]["min"] * b.get("extra_info", {}).get("scale", 1.0)
        groups[(b["group"] or op) + key][who] = t
    machine = data.get("machine_info", {})
    print(f"Machine: {machine.get('cpu', {}).get('brand_raw', platform.processor())}, "
          f"{os.cpu_count()} cores, Python {platform.python_version()}")
    print(f"Command: python bench/report.py {' '.join(argv)}\n")
    print("| group | gsa_fast (ms) | peer | peer (ms) | peer / gsa_fast |")
    print("|---|---|---|---|---|")
    for grp, rows in groups.items():
        gsa = rows.get("gsa")
        for who, t in rows.items():
            if who == "gsa":
                continue
            ratio = f"{t / gsa:.2f}×" if gsa else "—"
            print(f"| {grp} | {gsa * 1e3:.3f} | {who} | {t * 1e3:.3f} | {ratio} |" if gsa else
                  f"| {grp} | — | {who} | {t * 1e3:.3f} | — |")
        if gsa and len(rows) == 1:
            print(f"| {grp} | {gsa * 1e3:.3f} | — | — | — |")


if __name__ == "__main__":
    main(sys.argv[1:])
