"""Shared by the stand-alone timing scripts in bench/ (not a pytest-benchmark module)."""
from __future__ import annotations

import time


def best(f, rounds=5, clock=time.perf_counter):
    """Minimum wall time of `rounds` calls of f() (least noisy on a shared machine); pass
    clock=time.process_time for this process's CPU time instead."""
    t = float("inf")
    for _ in range(rounds):
        t0 = clock()
        f()
        t = min(t, clock() - t0)
    return t
