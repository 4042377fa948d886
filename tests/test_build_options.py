"""The GSA_FAST_CUDA switch, checked at CMake configure time (a few seconds, no compilation).

ON must fail loudly without nvcc; AUTO must never break a CPU-only build (no nvcc, or an nvcc that
cannot build the kernels); OFF skips CUDA; any other value is an error. nvcc is hidden by pointing
CUDACXX at a path that does not exist.
"""
from __future__ import annotations

import os
import pathlib
import shutil
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]

pybind11 = pytest.importorskip("pybind11")
if shutil.which("cmake") is None:  # pragma: no cover
    pytest.skip("cmake not available", allow_module_level=True)


def configure(tmp_path, value, hide_nvcc=True, extra=(), env_value=None):
    env = dict(os.environ)
    env.pop("GSA_FAST_CUDA", None)
    if env_value is not None:
        env["GSA_FAST_CUDA"] = env_value
    if hide_nvcc:
        env["CUDACXX"] = str(tmp_path / "no-such-nvcc")
        env["PATH"] = os.pathsep.join(p for p in env.get("PATH", "").split(os.pathsep)
                                      if not (pathlib.Path(p) / "nvcc").exists())
    cmd = ["cmake", "-S", str(ROOT), "-B", str(tmp_path / "b"),
           *([] if value is None else [f"-DGSA_FAST_CUDA={value}"]),
           f"-DPython_EXECUTABLE={sys.executable}", f"-Dpybind11_DIR={pybind11.get_cmake_dir()}",
           *extra]
    return subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=120)


@pytest.mark.slow  # a CMake configure each (seconds)
def test_on_without_nvcc_fails_loudly(tmp_path):
    r = configure(tmp_path, "ON")
    assert r.returncode != 0
    assert "GSA_FAST_CUDA=ON but no CUDA compiler (nvcc) was found" in r.stdout + r.stderr


@pytest.mark.slow  # a CMake configure each (seconds)
def test_auto_without_nvcc_configures_cpu_only(tmp_path):
    r = configure(tmp_path, "AUTO")
    assert r.returncode == 0, r.stdout + r.stderr
    assert "CUDA extension not built: no CUDA compiler found (GSA_FAST_CUDA=AUTO)" in r.stdout


# An nvcc that is found but cannot build our kernels: here the real nvcc asked for an architecture
# it no longer supports (sm_35 left CUDA in 12.0), as an old toolkit meets today's default sm_90.
_NVCC = os.environ.get("CUDACXX") or shutil.which("nvcc")
needs_nvcc = pytest.mark.skipif(_NVCC is None, reason="no nvcc on this machine")


@pytest.mark.slow  # a CMake configure each (seconds)
@needs_nvcc
def test_auto_with_an_nvcc_that_cannot_build_the_kernels_configures_cpu_only(tmp_path):
    r = configure(tmp_path, "AUTO", hide_nvcc=False, extra=["-DCMAKE_CUDA_ARCHITECTURES=35"])
    assert r.returncode == 0, r.stdout + r.stderr  # it was a fatal enable_language(CUDA) error
    line = next(l for l in r.stdout.splitlines() if "gsa_fast: CUDA extension" in l)
    assert "not built:" in line and "cannot compile the kernels for sm_35" in line, line
    assert "Unsupported gpu architecture" in line, line  # nvcc's own reason, not a guess


@pytest.mark.slow  # a CMake configure each (seconds)
@needs_nvcc
def test_on_with_an_nvcc_that_cannot_build_the_kernels_fails_loudly(tmp_path):
    r = configure(tmp_path, "ON", hide_nvcc=False, extra=["-DCMAKE_CUDA_ARCHITECTURES=35"])
    assert r.returncode != 0
    assert "Unsupported gpu architecture" in r.stdout + r.stderr


@pytest.mark.slow  # a CMake configure each (seconds)
@needs_nvcc
def test_auto_with_a_working_nvcc_builds_the_extension(tmp_path):
    r = configure(tmp_path, "AUTO", hide_nvcc=False)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "gsa_fast: CUDA extension built with nvcc" in r.stdout, r.stdout


@pytest.mark.slow  # a CMake configure each (seconds)
def test_off_skips_cuda(tmp_path):
    r = configure(tmp_path, "off", hide_nvcc=False)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "CUDA extension disabled (GSA_FAST_CUDA=OFF)" in r.stdout


@pytest.mark.slow  # a CMake configure each (seconds)
def test_the_environment_switches_an_existing_build_directory(tmp_path):
    # the value cached by an earlier configure must not hide GSA_FAST_CUDA from the environment
    # (scripts/dev-build.sh reconfigures one build directory: GSA_FAST_CUDA=OFF must switch it)
    r = configure(tmp_path, "AUTO")
    assert "CUDA extension not built: no CUDA compiler found" in r.stdout, r.stdout + r.stderr
    r = configure(tmp_path, None, env_value="off")
    assert r.returncode == 0, r.stdout + r.stderr
    assert "CUDA extension disabled (GSA_FAST_CUDA=OFF)" in r.stdout
    r = configure(tmp_path, None)  # no environment: the cached value stays
    assert "CUDA extension disabled (GSA_FAST_CUDA=OFF)" in r.stdout


@pytest.mark.slow  # a CMake configure each (seconds)
def test_bad_value_is_an_error(tmp_path):
    r = configure(tmp_path, "maybe")
    assert r.returncode != 0
    assert "GSA_FAST_CUDA must be AUTO, ON or OFF; got 'MAYBE'" in r.stdout + r.stderr


def test_every_source_file_is_in_the_explicit_cmake_lists():
    text = (ROOT / "CMakeLists.txt").read_text()
    sources = [*ROOT.glob("cpp/src/**/*.cpp"), *ROOT.glob("cpp/bindings/*.cpp"), *ROOT.glob("cuda/*.cu"),
               *ROOT.glob("cuda/bindings/*.cpp")]
    missing = [str(p.relative_to(ROOT)) for p in sources if str(p.relative_to(ROOT)) not in text]
    assert sources and not missing, f"not listed in CMakeLists.txt: {missing}"
    assert "file(GLOB" not in text


def test_lapack_header_declares_only_what_is_called():
    import re

    header = (ROOT / "cpp/include/gsa_fast/linalg/lapack.hpp").read_text()
    declared = set(re.findall(r"\b(scipy_\w+?)\(", header))
    code = "\n".join(p.read_text() for p in [*ROOT.glob("cpp/src/**/*.cpp"), *ROOT.glob("cpp/src/**/*.inl"),
                                            *ROOT.glob("cpp/include/**/*.hpp")]
                     if p.name not in ("lapack.hpp", "lapack_link_check.cpp"))
    uncalled = sorted(f for f in declared if not re.search(rf"\b{f}\b", code))
    assert declared and not uncalled, f"declared in lapack.hpp but never called: {uncalled}"
