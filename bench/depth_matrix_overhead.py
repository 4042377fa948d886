"""The device route of prefix_log_svdvals (python/gsa_fast/_gpu_depth_matrix.py) run on the CPU
with numpy as its array namespace, against the compiled CPU kernel: the route's own overhead.

    OPENBLAS_NUM_THREADS=1 PYTHONPATH=python python3 bench/depth_matrix_overhead.py
"""
from __future__ import annotations

import sys
import time

import numpy as np

sys.modules["cupy"] = np  # the route imports cupy: numpy stands in (no device needed)

import gsa_fast as g  # noqa: E402
from gsa_fast import _gpu_depth_matrix as gm  # noqa: E402


class _Dev(np.ndarray):
    """A numpy array posing as a device array (what the route's operand check looks for)."""

    @property
    def __cuda_array_interface__(self):
        return {}


def best(f, n=3):
    times = []
    for _ in range(n):
        t0 = time.perf_counter()
        f()
        times.append(time.perf_counter() - t0)
    return min(times)


def main():
    r = np.random.default_rng(0)
    A = r.standard_normal((24, 128, 128)) / np.sqrt(128)
    for m in ("rescaled", "graded"):
        a = best(lambda: g.prefix_log_svdvals(A, [6, 12, 24], method=m))
        b = best(lambda: gm.prefix_log_svdvals(A.view(_Dev), [6, 12, 24], method=m))
        print(f"prefix {m} 24x128^2: kernel {a * 1e3:.1f} ms, numpy-namespace route "
              f"{b * 1e3:.1f} ms, ratio {b / a:.2f}")


if __name__ == "__main__":
    main()
