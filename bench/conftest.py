"""Benchmark conventions (pytest-benchmark).

Each benchmark group compares gsa_fast with its best peer in the same run. Name the functions
``bench_<op>__gsa`` and ``bench_<op>__<peer>`` (peer: numpy, scipy, reference, …) and put them in
one ``group``; ``python bench/report.py`` turns a run into ratio tables (peer time / gsa time)
for bench/RESULTS.md. CI runs this folder once with --benchmark-disable so it cannot rot.
"""
from __future__ import annotations

import numpy as np
import pytest




def pytest_configure(config):
    config.addinivalue_line("python_functions", "bench_*")


@pytest.fixture
def rng():
    return np.random.default_rng(12345)
