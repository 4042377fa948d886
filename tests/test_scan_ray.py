"""gsa_fast.scan(..., executor="ray") on a real local Ray cluster (issue 14).

One module-scoped cluster (``ray.init(num_cpus=2)`` on the loopback address), shut down after the
module. The oracle is the local scan of the same checkpoints with the same ``threads`` (a Ray task
runs the kernels on ``threads or 1`` threads; the BLAS Gram of one large matrix split over more
threads rounds differently, ~1e-15 relative, so the local oracle runs on one thread too): each
matrix is then solved by the same kernel call on the same bytes, so rows must be equal and the
spectra bitwise equal (no tolerance).
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

import gsa_fast as g
from gsa_fast._scan_plan import parse_name, plan_scan
from ray_helpers import local_cluster
from scan_helpers import bert_like, powerlaw, write_sharded

pd = pytest.importorskip("pandas")
ray = pytest.importorskip("ray")

BUDGET = "40KB"  # units of <= 20 KB: several tasks per shard


@pytest.fixture(scope="module")
def cluster():
    """A local 2-CPU cluster on 127.0.0.1 for the module, shut down after it."""
    with local_cluster(num_cpus=2) as address:
        yield address


@pytest.fixture(scope="module")
def checkpoints(tmp_path_factory):
    """Two synthetic sharded checkpoints: a bf16 BERT-shaped one, and an f32 one with stacked
    experts, a NaN matrix (a status row), an unsupported dtype and skipped tensors."""
    rng = np.random.default_rng(20261130)
    d = tmp_path_factory.mktemp("ray")
    a = write_sharded(d / "bert", bert_like(rng, blocks=6), shards=2).parent
    bad = powerlaw(rng, 24, 24, 0.8)
    bad[3, 5] = np.nan
    mixed = {f"model.layers.{b}.mlp.up_proj.weight": powerlaw(rng, 48, 24, 0.5 + 0.1 * b) for b in range(5)}
    mixed.update({f"model.layers.{b}.self_attn.o_proj.weight": powerlaw(rng, 24, 24, 1.0) for b in range(5)})
    mixed["model.layers.2.moe.experts"] = np.stack([powerlaw(rng, 16, 12, 0.7) for _ in range(3)])
    mixed["model.layers.4.broken.weight"] = bad
    mixed["model.layers.0.ids"] = np.arange(12, dtype=np.int64).reshape(3, 4)
    mixed["model.norm.weight"] = np.ones(24, np.float32)
    b = write_sharded(d / "mixed", mixed, shards=3).parent
    return [a, b]


def _same(local, remote):
    pd.testing.assert_frame_equal(local.layers, remote.layers, check_exact=True)
    assert list(local.spectra) == list(remote.spectra)
    for k, s in local.spectra.items():
        np.testing.assert_array_equal(remote.spectra[k], s, err_msg=k)  # bitwise (no tolerance)
        assert remote.spectra[k].dtype == np.float64


def _parts(out):
    return sorted(p.name for p in (Path(out) / "parts").glob("*.npz"))


def test_ray_scan_equals_the_local_scan(cluster, checkpoints, tmp_path):
    from gsa_fast.weights import bundled_model_path

    sources = checkpoints + [bundled_model_path()]
    local = g.scan(sources, memory_budget=BUDGET, out=tmp_path / "local", progress=False, threads=1)
    remote = g.scan(sources, memory_budget=BUDGET, out=tmp_path / "ray", progress=False, executor="ray")
    _same(local, remote)
    df = remote.layers
    assert df["checkpoint"].nunique() == 3 and (df["checkpoint"] == remote.info["checkpoints"][2]).sum() == 40  # MiniLM
    assert df.set_index("name").loc["model.layers.4.broken.weight", "status"] == "NaN/Inf"  # kept, not retried
    info = remote.info["ray"]
    assert info["tasks"] == remote.info["units"] > 10 and info["retried_units"] == []
    assert info["task_resources"] == {"num_cpus": 1} and info["cluster_resources"]["CPU"] == 2
    # the files under --out are the same: the table byte for byte, the spectra bitwise, one part per unit
    assert (tmp_path / "local" / "layers.csv").read_bytes() == (tmp_path / "ray" / "layers.csv").read_bytes()
    with np.load(tmp_path / "local" / "spectra.npz") as a, np.load(tmp_path / "ray" / "spectra.npz") as b:
        assert a.files == b.files
        for k in a.files:
            np.testing.assert_array_equal(a[k], b[k])
    assert _parts(tmp_path / "local") == _parts(tmp_path / "ray") and len(_parts(tmp_path / "ray")) == info["tasks"]
    assert ray.is_initialized()  # the scan used the running cluster and left it running


def test_worker_killed_on_first_attempt_is_retried(cluster, checkpoints, monkeypatch, caplog):
    src = checkpoints[0]
    plan = plan_scan([src], unit_bytes=20 * 1024)
    victim = plan.units[len(plan.units) // 2].uid
    local = g.scan(src, memory_budget=BUDGET, progress=False, threads=1)
    monkeypatch.setenv("GSA_FAST_RAY_TEST_CRASH", victim)  # that task's worker os._exit()s on attempt 1
    with caplog.at_level("WARNING", logger="gsa_fast.scan"):
        remote = g.scan(src, memory_budget=BUDGET, progress=False, executor="ray")
    _same(local, remote)  # nothing lost, nothing duplicated
    assert len(remote.layers) == len(local.layers) and not remote.layers["name"].duplicated().any()
    assert remote.info["ray"]["retried_units"] == [victim]
    msgs = [r.getMessage() for r in caplog.records if r.name == "gsa_fast.scan"]
    assert any(victim in m and "attempt 2" in m for m in msgs), msgs


def test_resume_after_the_driver_is_killed(cluster, checkpoints, tmp_path):
    src = checkpoints[0]
    out, clean = tmp_path / "out", tmp_path / "clean"
    env = {k: v for k, v in os.environ.items() if k != "RAY_ADDRESS"}
    env.update(GSA_FAST_SCAN_TEST_UNIT_DELAY="0.3")  # slow the driver's appends so it dies halfway
    args = [sys.executable, "-m", "gsa_fast", "scan", str(src), "--out", str(out), "--memory-budget", BUDGET,
            "--no-progress", "--ray", cluster]
    proc = subprocess.Popen(args, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.time() + 120
    while len(_parts(out)) < 3 and time.time() < deadline and proc.poll() is None:
        time.sleep(0.02)
    proc.send_signal(signal.SIGKILL)
    _, err = proc.communicate()
    assert proc.returncode == -signal.SIGKILL, err.decode()[-2000:]
    assert len(_parts(out)) >= 3 and not (out / "layers.csv").exists()
    resumed = g.scan(src, out=out, resume=True, progress=False, executor="ray")
    assert 3 <= resumed.info["units_resumed"] < resumed.info["units"]
    assert resumed.info["ray"]["tasks"] == resumed.info["units"] - resumed.info["units_resumed"]
    full = g.scan(src, out=clean, memory_budget=BUDGET, progress=False, threads=1)  # local, uninterrupted
    _same(full, resumed)
    assert (out / "layers.csv").read_bytes() == (clean / "layers.csv").read_bytes()
    assert _parts(out) == _parts(clean)


def test_task_errors_and_requests_the_cluster_cannot_meet(cluster, checkpoints):
    driver = os.getpid()

    def parser(name):  # fails on the workers only: an exception of the task itself
        if os.getpid() != driver:
            raise ValueError(f"boom in {name}")
        return parse_name(name)

    with pytest.raises(ValueError, match="boom in"):  # raised as itself on the driver, not retried
        g.scan(checkpoints[0], memory_budget=BUDGET, progress=False, executor="ray", name_parser=parser)
    with pytest.raises(ValueError, match="device"):  # no GPU in this cluster
        g.scan(checkpoints[0], progress=False, executor="ray", device="cuda")
    with pytest.raises(ValueError, match="threads"):  # a task cannot ask for more CPUs than there are
        g.scan(checkpoints[0], progress=False, executor="ray", threads=3)
    assert ray.is_initialized()


def test_arguments_without_a_cluster(tmp_path, monkeypatch, checkpoints):
    from gsa_fast.cli import build_parser

    with pytest.raises(ValueError, match="executor='ray'"):
        g.scan({"w": np.ones((4, 3))}, executor="ray")  # tasks read from paths: no in-memory sources
    with pytest.raises(ValueError, match="ray_address"):
        g.scan(checkpoints[0], ray_address="127.0.0.1:1")  # an address needs executor="ray"
    with pytest.raises(ValueError, match="executor"):
        g.scan(checkpoints[0], executor="dask")
    p = build_parser()
    assert p.parse_args(["scan", "a", "--ray"]).ray == ""
    assert p.parse_args(["scan", "a", "--ray", "10.0.0.1:6379"]).ray == "10.0.0.1:6379"
    assert p.parse_args(["scan", "a"]).ray is None
    monkeypatch.setitem(sys.modules, "ray", None)  # as if ray were not installed
    with pytest.raises(ImportError, match=r"pip install 'gsa_fast\[ray\]'"):
        g.scan(checkpoints[0], executor="ray")


def test_ray_carries_ww_columns_and_chains(cluster, checkpoints, tmp_path):
    """ww=True runs inside the Ray tasks (ScanOptions travels with them); chains=True runs on the
    driver after the tasks, reading the matrices again: both equal to a local scan's."""
    src = checkpoints[1]
    local = g.scan(src, memory_budget=BUDGET, progress=False, threads=1, ww=True, chains=True)
    remote = g.scan(src, memory_budget=BUDGET, out=tmp_path / "ray", progress=False, executor="ray", ww=True,
                    chains=True)
    _same(local, remote)
    assert remote.layers["ww_alpha"].notna().sum() == (remote.layers["status"] == "ok").sum() > 5
    pd.testing.assert_frame_equal(local.chains, remote.chains, check_exact=True)
    assert list(remote.chains["chain"].unique()) == ["self_attn.o_proj.weight"] and len(remote.chains) == 4
    assert (tmp_path / "ray" / "chains.csv").exists() and (tmp_path / "ray" / "margins.png").exists()
