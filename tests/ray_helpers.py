"""A local Ray cluster for the Ray scan's tests and benchmark (tests/test_scan_ray.py, bench/bench_ray.py)."""
from __future__ import annotations

import contextlib
import os
from pathlib import Path

import gsa_fast as g


@contextlib.contextmanager
def local_cluster(num_cpus=2):
    """``ray.init(num_cpus)`` on 127.0.0.1 whose workers import this checkout's gsa_fast (its
    folder goes first on the PYTHONPATH the workers inherit); yields the GCS address and shuts
    the cluster down after, so no Ray process outlives the caller."""
    import ray

    old = os.environ.get("PYTHONPATH")
    os.environ["PYTHONPATH"] = os.pathsep.join([str(Path(g.__file__).resolve().parents[1])] + ([old] if old else []))
    os.environ.pop("RAY_ADDRESS", None)
    try:
        ctx = ray.init(address="local", num_cpus=num_cpus, include_dashboard=False, _node_ip_address="127.0.0.1",
                       logging_level="WARNING")
        yield ctx.address_info["gcs_address"]
    finally:
        ray.shutdown()
        if old is None:
            os.environ.pop("PYTHONPATH", None)
        else:
            os.environ["PYTHONPATH"] = old
