"""ESD power-law fit and WeightWatcher's table (issue 10): gsa_fast vs WeightWatcher's own code.

Groups:
* ``esd_fit_8192`` — one spectrum of N = 8192 heavy-tailed eigenvalues (Pareto, shape 1.5, as in
  a large layer's ESD): ``gsa_fast.esd_powerlaw_fit`` vs WeightWatcher 0.7.7's ``WWFit`` (its
  default fit) and vs gsa_fast's O(N²) reference. Target: ≥ 50× WWFit.
* ``esd_fit_minilm`` — the 39 MiniLM ESDs in one batched call vs the reference.
* ``ww_table_minilm`` — the whole ``compat.weightwatcher.analyze`` table vs the bare
  ``gsa_fast.svdvals`` of the same matrices (target ≤ 1.15×) vs WeightWatcher's ``analyze()``
  (target ≥ 6× in-process).

WeightWatcher is not a gsa_fast dependency: its benchmarks skip with a message when
``import weightwatcher`` fails. bench/esd_vs_ww.py runs the same comparison stand-alone (in a
scratch venv that has weightwatcher) and is what bench/results/esd.md reports.
"""
from __future__ import annotations

import contextlib
import io

import numpy as np
import pytest

import gsa_fast as g
from gsa_fast import reference as ref

N = 8192


def _weightwatcher():
    try:
        import weightwatcher  # noqa: F401
    except Exception as exc:  # ImportError, or its own import-time failures
        pytest.skip(f"weightwatcher is not importable here ({exc!r}); see bench/esd_vs_ww.py")
    from weightwatcher.WW_powerlaw import WWFit

    return WWFit


@pytest.fixture(scope="module")
def spectrum():
    return np.random.default_rng(1).pareto(1.5, N) + 0.01


@pytest.fixture(scope="module")
def minilm():
    from gsa_fast.weights import bundled_model_path, layer_matrices, read_safetensors

    path = bundled_model_path()
    mats = [m for m in layer_matrices(read_safetensors(path), min_side=8).values()]
    return path, mats


@pytest.mark.benchmark(group="esd_fit_8192")
def bench_esd_fit_8192__gsa(benchmark, spectrum):
    benchmark(g.esd_powerlaw_fit, spectrum)


@pytest.mark.benchmark(group="esd_fit_8192")
def bench_esd_fit_8192__weightwatcher(benchmark, spectrum):
    WWFit = _weightwatcher()

    def run():
        with contextlib.redirect_stdout(io.StringIO()):
            return WWFit(spectrum[spectrum > 1e-5])

    benchmark.pedantic(run, rounds=2, iterations=1)


@pytest.mark.benchmark(group="esd_fit_8192")
def bench_esd_fit_8192__reference(benchmark, spectrum):
    benchmark.pedantic(ref.esd_powerlaw_fit, (spectrum,), rounds=1, iterations=1)


@pytest.mark.benchmark(group="esd_fit_minilm")
def bench_esd_fit_minilm__gsa(benchmark, minilm):
    ev = g.RaggedSpectra.from_list([s ** 2 for s in g.svdvals(minilm[1])])
    benchmark(g.esd_powerlaw_fit, ev)


@pytest.mark.benchmark(group="esd_fit_minilm")
def bench_esd_fit_minilm__reference(benchmark, minilm):
    ev = g.RaggedSpectra.from_list([s ** 2 for s in g.svdvals(minilm[1])])
    benchmark.pedantic(ref.esd_powerlaw_fit, (ev,), rounds=1, iterations=1)


@pytest.mark.benchmark(group="ww_table_minilm")
def bench_ww_table_minilm__gsa(benchmark, minilm):
    pytest.importorskip("pandas")
    from gsa_fast.compat import weightwatcher as cw

    benchmark.pedantic(cw.analyze, (minilm[0],), rounds=3, iterations=1)


@pytest.mark.benchmark(group="ww_table_minilm")
def bench_ww_table_minilm__svdvals(benchmark, minilm):
    benchmark.pedantic(g.svdvals, (minilm[1],), rounds=3, iterations=1)


@pytest.mark.benchmark(group="ww_table_minilm")
def bench_ww_table_minilm__weightwatcher(benchmark, minilm):
    _weightwatcher()
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "scripts"))
    import make_ww_fixture as mk
    import weightwatcher as ww

    model = mk.build(mk.read_safetensors(str(minilm[0])))
    benchmark.pedantic(lambda: ww.WeightWatcher(model=model).analyze(), rounds=1, iterations=1)
