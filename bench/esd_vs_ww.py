"""gsa_fast vs WeightWatcher 0.7.7, side by side in one run (numbers for bench/results/esd.md).

Needs an environment with weightwatcher and torch besides gsa_fast (a scratch venv; see
scripts/make_ww_fixture.py), e.g.:

    PYTHONPATH=python /tmp/ww-venv/bin/python bench/esd_vs_ww.py [MODEL.safetensors]

(the model defaults to the bundled MiniLM checkpoint when its package is installed there).

Measures (minimum of several rounds, wall clock):
1. the fit at N = 8192 (Pareto 1.5 spectrum): WWFit vs gsa_fast.esd_powerlaw_fit;
2. the MiniLM table in-process: WeightWatcher(model).analyze() vs compat.weightwatcher.analyze
   vs the bare gsa_fast.svdvals of the same 39 matrices;
3. whole processes (interpreter start, imports, table, exit) for both, interleaved, min of
   WW_PROCESS_ROUNDS (default 5) each, with the load average; and the command line
   `gsa-fast ww PATH` (the same table as CSV, no pandas in the process).
"""
from __future__ import annotations

import contextlib
import io
import os
import subprocess
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _timing import best  # noqa: E402


def main():
    import gsa_fast as g
    from gsa_fast.compat import weightwatcher as cw
    from gsa_fast.weights import bundled_model_path, layer_matrices, read_safetensors
    import make_ww_fixture as mk
    import weightwatcher as ww
    from weightwatcher.WW_powerlaw import WWFit

    x = np.random.default_rng(1).pareto(1.5, 8192) + 0.01
    with contextlib.redirect_stdout(io.StringIO()):
        t_ww = best(lambda: WWFit(x), rounds=2)
        w = WWFit(x)
    t_g = best(lambda: g.esd_powerlaw_fit(x), rounds=20)
    r = g.esd_powerlaw_fit(x)
    print(f"fit N=8192: WWFit {t_ww*1e3:.1f} ms, gsa {t_g*1e3:.2f} ms, ratio {t_ww/t_g:.0f}x; "
          f"same xmin: {r.xmin == w.xmin}, alpha diff {r.alpha - w.alpha:.1e}, D diff {r.D - w.D:.1e}")

    path = Path(sys.argv[1]) if len(sys.argv) > 1 else bundled_model_path()
    mats = list(layer_matrices(read_safetensors(path), min_side=8).values())
    model = mk.build(mk.read_safetensors(str(path)))
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        t_wwa = best(lambda: ww.WeightWatcher(model=model).analyze(), rounds=2)
    t_sv = best(lambda: g.svdvals(mats), rounds=3)
    t_tab = best(lambda: cw.analyze(path), rounds=3)
    t_svd = best(lambda: cw.analyze(path, method="svd"), rounds=2)
    print(f"MiniLM in-process: WW analyze {t_wwa:.2f} s, gsa table {t_tab:.3f} s ({t_wwa/t_tab:.1f}x), "
          f"bare svdvals {t_sv:.3f} s (table/svdvals {t_tab/t_sv:.2f}), gsa table method=svd {t_svd:.3f} s "
          f"({t_wwa/t_svd:.1f}x)")

    # gsa_fast from this working tree in the child (whatever PYTHONPATH said), as in the user's
    # command `python -c "from gsa_fast.compat import weightwatcher as cw; cw.analyze(PATH)"`
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(ROOT / "python")] + (
        [os.environ["PYTHONPATH"]] if os.environ.get("PYTHONPATH") else [])))
    code_g = f"from gsa_fast.compat import weightwatcher as cw; cw.analyze({str(path)!r})"
    code_w = ("import sys; sys.path.insert(0, 'scripts'); import make_ww_fixture as mk, weightwatcher as ww; "
              f"ww.WeightWatcher(model=mk.build(mk.read_safetensors({str(path)!r}))).analyze()")
    run = lambda c: subprocess.run([sys.executable, "-c", c], cwd=ROOT, env=env, check=True,  # noqa: E731
                                   capture_output=True)
    # the command-line table (`gsa-fast ww PATH`: the same rows as CSV, no pandas in the process)
    cli = lambda: subprocess.run([sys.executable, "-m", "gsa_fast", "ww", str(path), "--out", os.devnull],  # noqa: E731
                                 cwd=ROOT, env=env, check=True, capture_output=True)
    rounds = int(os.environ.get("WW_PROCESS_ROUNDS", "5"))
    t_pg, t_pw, t_pc = [], [], []
    for _ in range(rounds):  # interleaved, so that both sides see the same load
        t_pw.append(best(lambda: run(code_w), rounds=1))
        t_pg.append(best(lambda: run(code_g), rounds=1))
        t_pc.append(best(cli, rounds=1))
    print(f"MiniLM whole processes, `gsa-fast ww PATH` (CSV, no pandas): {min(t_pc):.3f} s "
          f"({min(t_pw)/min(t_pc):.1f}x WW); median {sorted(t_pc)[rounds // 2]:.3f} s")
    print(f"MiniLM whole processes (min of {rounds}, interleaved): WW {min(t_pw):.2f} s, gsa {min(t_pg):.3f} s "
          f"({min(t_pw)/min(t_pg):.1f}x); medians {sorted(t_pw)[rounds // 2]:.2f} s / "
          f"{sorted(t_pg)[rounds // 2]:.3f} s; load average {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
