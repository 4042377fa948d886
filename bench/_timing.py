"""Shared by the stand-alone timing scripts in bench/ (not a pytest-benchmark module)."""
from __future__ import annotations

import time


def best(f, rounds=5):
    """Minimum wall time of `rounds` calls of f() (least noisy on a shared machine)."""
    t = float("inf")
    for _ in range(rounds):
        t0 = time.perf_counter()
        f()
        t = min(t, time.perf_counter() - t0)
    return t
