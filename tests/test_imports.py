"""The house's import structure: the reference twin is independent of the compiled code, the
package imports cheaply, and a CPU-only build says so plainly (issue 7 items 5, 6, 10)."""
from __future__ import annotations

import pathlib
import subprocess
import sys
import textwrap

import gsa_fast as g
from gsa_fast import _backend

ROOT = pathlib.Path(__file__).resolve().parents[1]
PKG = ROOT / "python" / "gsa_fast"


def _run(code: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True,
                          timeout=120, cwd=ROOT)


def test_reference_runs_without_the_compiled_modules():
    """Import gsa_fast.reference with _core, _cuda and every fast module made unimportable."""
    r = _run(f"""
        import sys, types, importlib.abc
        FAST = {{"_core", "_cuda", "_backend", "_status", "bures", "charts", "orbit", "spectra", "energy",
                 "sums", "tails", "_gpu_spectra", "_gpu_energy", "_gpu_sums", "esd", "depth", "margins"}}
        class Block(importlib.abc.MetaPathFinder):
            def find_spec(self, name, path, target=None):
                if name.startswith("gsa_fast.") and name.split(".")[1] in FAST:
                    raise ImportError("blocked: " + name)
        sys.meta_path.insert(0, Block())
        pkg = types.ModuleType("gsa_fast")
        pkg.__path__ = [{str(PKG)!r}]
        sys.modules["gsa_fast"] = pkg          # skip gsa_fast/__init__ (it loads the extension)
        import numpy as np
        import gsa_fast.reference as ref
        s = np.array([[3.0, 2.0, 1.0]])
        print(ref.truncation_rank(s, 0.1), ref.fit_exponent(s), ref.svdvals(np.eye(3)).sum(), ref.harmonic(10, 1.0))
        print(sorted(m for m in sys.modules if m.startswith("gsa_fast.") and not m.startswith("gsa_fast.reference")))
    """)
    assert r.returncode == 0, r.stderr
    loaded = eval(r.stdout.strip().splitlines()[-1])
    assert set(loaded) <= {"gsa_fast._validate", "gsa_fast._ragged", "gsa_fast._chart_args", "gsa_fast._results",
                           "gsa_fast._esd_common", "gsa_fast._depth_common",
                           "gsa_fast._chain", "gsa_fast._jacobian", "gsa_fast._scalar_args",
                           "gsa_fast._spectra_args", "gsa_fast._bures_args"}, loaded


def test_import_is_lazy_about_reference_and_cuda():
    r = _run("""
        import sys, gsa_fast
        print("gsa_fast.reference" in sys.modules, gsa_fast.__version__)
        from gsa_fast import reference
        print("gsa_fast.reference" in sys.modules, callable(reference.energy), gsa_fast.reference is reference)
    """)
    assert r.returncode == 0, r.stderr
    first, second = r.stdout.split("\n")[:2]
    assert first.startswith("False ") and first.split()[1] == g.build_info()["version"]
    assert second == "True True True"


def test_version_does_not_ask_the_cuda_driver(monkeypatch):
    assert g.__version__ == _backend.core.version


def test_cpu_only_build_says_built_without_cuda(monkeypatch):
    monkeypatch.setattr(_backend, "_cuda", None)
    monkeypatch.setattr(_backend, "_CUDA_IMPORT_ERROR", None)
    msg = g.build_info()["cuda_status"]
    assert msg.startswith("built without CUDA") and "circular" not in msg, msg
    monkeypatch.setattr(_backend, "_CUDA_IMPORT_ERROR", "libcudart.so.13: cannot open shared object file")
    assert "failed to load: libcudart" in g.build_info()["cuda_status"]


def test_package_is_typed():
    assert (PKG / "py.typed").is_file()
