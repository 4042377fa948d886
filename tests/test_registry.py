"""Every public kernel has a reference twin, a test file that calls it and a benchmark."""
from __future__ import annotations

import pathlib
import re

import gsa_fast as g
from gsa_fast import reference

ROOT = pathlib.Path(__file__).resolve().parents[1]


def _corpus(folder: str) -> str:
    return "\n".join(p.read_text() for p in sorted((ROOT / folder).glob("*.py")))


def test_reference_has_every_kernel():
    missing = [n for n in g.KERNELS if not callable(getattr(reference, n, None))]
    assert not missing, f"public kernels without a reference twin: {missing}"
    extra = sorted(set(reference.__all__) - set(g.KERNELS))
    assert not extra, f"reference functions with no public kernel: {extra}"


def test_every_kernel_is_tested_and_benchmarked():
    tests, bench = _corpus("tests"), _corpus("bench")
    untested = [n for n in g.KERNELS if not re.search(rf"\b{n}\(", tests)]
    unbenched = [n for n in g.KERNELS if not re.search(rf"\b{n}\b", bench)]
    assert not untested, f"kernels no test calls: {untested}"
    assert not unbenched, f"kernels with no benchmark in bench/: {unbenched}"


def test_public_functions_have_docstrings():
    undocumented = [n for n in g.KERNELS if not (getattr(g, n).__doc__ or "").strip()]
    assert not undocumented, undocumented


def test_build_info():
    info = g.build_info()
    assert info["version"] == g.__version__
    assert "openblas" in info["blas"]
    assert isinstance(info["cuda_status"], str) and info["cuda_status"]
    assert info["num_threads"] >= 1
