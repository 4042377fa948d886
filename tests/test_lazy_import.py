"""`import gsa_fast` is cheap and lazy (issue 10, whole-process cost): optional dependencies and the
heavy submodules are imported on first use only, with the documented names unchanged; and the
background import that analyze() overlaps with its kernels (gsa_fast._prefetch) is robust.

Checked on sys.modules in fresh subprocesses, never by timing."""
from __future__ import annotations

import json
import pathlib
import subprocess
import sys
import textwrap
import threading

import pytest

import gsa_fast as g
from gsa_fast import _backend, _prefetch

ROOT = pathlib.Path(__file__).resolve().parents[1]
OPTIONAL = ("pandas", "matplotlib", "torch", "ray", "tqdm", "safetensors", "cupy", "scipy")
HEAVY = ("gsa_fast.scan", "gsa_fast.weights", "gsa_fast._scan_exec", "gsa_fast._scan_plan",
         "gsa_fast._scan_sink", "gsa_fast._scan_figures", "gsa_fast._scan_ray", "gsa_fast.margins",
         "gsa_fast.depth", "gsa_fast._depth_common", "gsa_fast._chain", "gsa_fast._jacobian",
         "gsa_fast.esd", "gsa_fast.reference", "gsa_fast.charts", "gsa_fast.bures", "gsa_fast.minilm")


def _child(code: str) -> dict:
    """Run code in a fresh interpreter (this process's gsa_fast on the path); its last stdout line is JSON."""
    pkg_parent = str(pathlib.Path(g.__file__).resolve().parents[1])
    pre = f"import sys, json; sys.path.insert(0, {pkg_parent!r})\n"
    r = subprocess.run([sys.executable, "-c", pre + textwrap.dedent(code)], capture_output=True, text=True,
                       timeout=120, cwd=ROOT)
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout.strip().splitlines()[-1])


def test_import_gsa_fast_loads_no_optional_dependency_and_no_heavy_submodule():
    out = _child("""
        import gsa_fast
        print(json.dumps(sorted(sys.modules)))
    """)
    loaded = set(out)
    assert not [m for m in OPTIONAL if m in loaded], sorted(m for m in OPTIONAL if m in loaded)
    assert not [m for m in HEAVY if m in loaded], sorted(m for m in HEAVY if m in loaded)
    assert "gsa_fast._core" in loaded  # the extension itself is loaded (version, routes)


def test_weightwatcher_compat_imports_only_what_its_table_needs():
    out = _child("""
        from gsa_fast.compat import weightwatcher
        print(json.dumps(sorted(sys.modules)))
    """)
    loaded = set(out)
    assert not [m for m in OPTIONAL if m in loaded]
    assert {"gsa_fast.spectra", "gsa_fast.esd"} <= loaded
    assert not [m for m in HEAVY if m in loaded and m != "gsa_fast.esd"]


def test_compat_submodules_resolve_as_attributes():
    out = _child("""
        import gsa_fast.compat as compat
        before = "gsa_fast.compat.weightwatcher" in sys.modules
        print(json.dumps([before, "weightwatcher" in dir(compat), compat.weightwatcher.__name__]))
    """)
    assert out == [False, True, "gsa_fast.compat.weightwatcher"]


def test_names_resolve_on_use_and_stay_the_documented_objects():
    out = _child("""
        import gsa_fast, types
        before = "gsa_fast.scan" in sys.modules
        import gsa_fast.scan            # binds the submodule: the package name must stay the function
        import gsa_fast.energy
        kinds = {n: type(getattr(gsa_fast, n)).__name__ for n in ("scan", "energy", "svdvals", "spectra",
                                                                    "reference", "ScanResult", "spectral")}
        from gsa_fast import margin_report, esd_powerlaw_fit, bures
        print(json.dumps([before, kinds, "gsa_fast.margins" in sys.modules, bures is gsa_fast.bures,
                          sys.modules["gsa_fast.spectral"] is sys.modules["gsa_fast.energy"]]))
    """)
    before, kinds, margins_loaded, same, alias = out
    assert before is False
    assert kinds == {"scan": "function", "energy": "function", "svdvals": "function", "spectra": "module",
                     "reference": "module", "ScanResult": "type", "spectral": "module"}
    assert margins_loaded and same and alias


def test_all_and_dir_list_every_public_name():
    assert set(g.KERNELS) == set(_backend.ROUTES)
    assert list(g.KERNELS) == sorted(g.KERNELS)
    public = set(g.__all__)
    assert {"scan", "ScanResult", "reference", "RaggedSpectra", "build_info", "KERNELS"} <= public
    assert public <= set(dir(g))
    for name in g.__all__:  # `from gsa_fast import X` for every listed name
        assert getattr(g, name) is not None, name
    for name in g.KERNELS:
        assert callable(getattr(g, name)), name
    with pytest.raises(AttributeError, match="no attribute 'no_such_name'"):
        g.no_such_name  # noqa: B018


def test_every_family_export_is_a_package_name():
    """The package's names come from the route table: a family module's export missing there would
    silently vanish from `gsa_fast` (the eager `from .family import *` used to add it)."""
    import importlib

    for family, module in _backend.FAMILY_MODULE.items():
        mod = importlib.import_module(f"gsa_fast.{module}")
        for name in mod.__all__:
            assert name in _backend.ROUTES, f"gsa_fast.{module}.{name} is not in _backend.ROUTES"
            assert getattr(g, name) is getattr(mod, name), name


def test_extension_load_leaves_the_environment_as_it_was():
    out = _child("""
        import os
        had = "OPENBLAS_THREAD_TIMEOUT" in os.environ
        import gsa_fast
        print(json.dumps([had, "OPENBLAS_THREAD_TIMEOUT" in os.environ]))
    """)
    assert out == [False, False]


# ---- the background import -----------------------------------------------------------------------


@pytest.fixture
def fake_module(tmp_path, monkeypatch):
    """A module file whose import takes a moment and optionally fails (name unique per test)."""
    def make(body: str):
        name = f"gsa_fast_fake_{abs(hash(tmp_path)) % 10**8}"
        (tmp_path / f"{name}.py").write_text("import time\ntime.sleep(0.05)\n" + body)
        monkeypatch.syspath_prepend(str(tmp_path))
        monkeypatch.delitem(sys.modules, name, raising=False)
        return name
    return make


def test_prefetch_returns_the_module_and_leaves_no_thread(fake_module):
    name = fake_module("VALUE = 42\n")
    p = _prefetch.prefetch(name)
    assert p.thread is not None
    assert _prefetch.prefetch(name) is p  # one import thread per module at a time
    mod = p.result()
    assert mod.VALUE == 42 and mod is sys.modules[name]
    assert not p.thread.is_alive() and not [t for t in threading.enumerate() if t.name.endswith(name)]
    assert name not in _prefetch._running
    again = _prefetch.prefetch(name)  # already imported: no thread at all
    assert again.thread is None and again.result() is mod


def test_prefetch_reraises_the_import_error_in_the_caller(fake_module):
    name = fake_module("raise RuntimeError('broken optional dependency')\n")
    p = _prefetch.prefetch(name)
    with pytest.raises(RuntimeError, match="broken optional dependency"):
        p.result()
    assert not p.thread.is_alive() and name not in sys.modules


def test_prefetch_without_threads_imports_in_the_caller(fake_module, monkeypatch):
    name = fake_module("VALUE = 7\n")

    def refuse(self):
        raise RuntimeError("can't create new thread at interpreter shutdown")

    monkeypatch.setattr(threading.Thread, "start", refuse)
    p = _prefetch.prefetch(name)
    assert p.thread is None and name not in _prefetch._running
    assert p.result().VALUE == 7


def test_prefetch_of_a_missing_module_raises_module_not_found():
    with pytest.raises(ModuleNotFoundError, match="gsa_fast_no_such_module"):
        _prefetch.prefetch("gsa_fast_no_such_module").result()


def test_analyze_joins_the_pandas_import_when_the_table_fails():
    out = _child("""
        import threading
        from gsa_fast.compat import weightwatcher as cw
        import numpy as np
        try:
            cw.analyze({"a.weight": np.full((16, 16), np.nan, np.float32)})
            err = None
        except ValueError as e:
            err = str(e)
        print(json.dumps([err is not None, "pandas" in sys.modules,
                          [t.name for t in threading.enumerate() if t is not threading.main_thread()]]))
    """)
    assert out[0] is True and out[2] == []
