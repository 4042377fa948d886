"""Conformance: walk the route table (gsa_fast._backend.ROUTES) and check, for every public kernel,
its reference twin (same signature), its CPU kernels in _core, a test that compares the fast route
with the reference, a benchmark, and — where a CUDA route exists — the route itself and a family
test parametrized over the `device` fixture (which skips without a device)."""
from __future__ import annotations

import ast
import importlib
import inspect
import pathlib
import re

import pytest

import gsa_fast as g
from gsa_fast import _backend, _core, reference
from layouts import recipes

ROOT = pathlib.Path(__file__).resolve().parents[1]
ROUTES = _backend.ROUTES


def _public_params(f):
    return [(p.name, p.kind, p.default) for p in inspect.signature(f).parameters.values()
            if not p.name.startswith("_")]


def _calls(path: pathlib.Path, with_fixture: str | None = None) -> set:
    """Names called as ``x.name(...)`` or ``name(...)`` inside test functions of a file (only
    those taking ``with_fixture`` when given)."""
    tree = ast.parse(path.read_text())
    names = set()
    for fn in ast.walk(tree):
        if not isinstance(fn, ast.FunctionDef) or not fn.name.startswith(("test_", "bench_")):
            continue
        if with_fixture and with_fixture not in [a.arg for a in fn.args.args]:
            continue
        for node in ast.walk(fn):
            if isinstance(node, ast.Call):
                f = node.func
                names.add(f.attr if isinstance(f, ast.Attribute) else getattr(f, "id", None))
    return names


def test_table_lists_exactly_the_public_kernels():
    assert sorted(ROUTES) == sorted(g.KERNELS)


@pytest.mark.parametrize("name", sorted(ROUTES))
def test_reference_twin_has_the_same_signature(name):
    twin = getattr(reference, ROUTES[name].reference)
    assert _public_params(twin) == _public_params(getattr(g, name)), name
    assert twin.__module__.startswith("gsa_fast.reference"), twin.__module__


@pytest.mark.parametrize("name", sorted(ROUTES))
def test_cpu_route_exists(name):
    route = ROUTES[name]
    missing = [c for c in route.core if not callable(getattr(_core, c, None))]
    assert not missing, f"{name}: _core lacks {missing}"
    module = importlib.import_module(f"gsa_fast.{_backend.FAMILY_MODULE[route.family]}")
    assert getattr(module, name) is getattr(g, name)


@pytest.mark.parametrize("name", sorted(ROUTES))
def test_tested_against_reference_and_benchmarked(name):
    family = ROUTES[name].family
    test_file = ROOT / "tests" / f"test_{family}.py"
    bench_file = ROOT / "bench" / f"bench_{family}.py"
    assert name in _calls(test_file), f"tests/test_{family}.py never calls {name}"
    # the layout sweep (tests/test_layouts.py) calls every kernel and its twin on the same input
    assert name in recipes(__import__("numpy").random.default_rng(0))
    assert name in bench_file.read_text(), f"bench/bench_{family}.py has no benchmark of {name}"


@pytest.mark.parametrize("name", sorted(n for n in ROUTES if ROUTES[n].cuda))
def test_cuda_route_and_its_device_test(name):
    route = ROUTES[name]
    module, func = route.cuda.rsplit(".", 1)
    assert callable(getattr(importlib.import_module(f"gsa_fast.{module}"), func))
    device_calls = _calls(ROOT / "tests" / f"test_{route.family}.py", with_fixture="device")
    # harmonic_sums/harmonic_range share harmonic's CUDA launcher (_gpu_sums.harmonic_range)
    siblings = {n for n, r in ROUTES.items() if r.cuda == route.cuda}
    assert device_calls & siblings, f"no device-parametrized test in tests/test_{route.family}.py calls {name}"


def test_gpu_docs_table_lists_every_cuda_route():
    # docs/gpu.md opens with the table of what runs on the device: one row per family lists its
    # functions, so a new device route must be added there (and a row never names a function
    # that has none)
    text = (ROOT / "docs" / "gpu.md").read_text()
    head = text.split("\n## ", 1)[0]
    rows = [line for line in head.splitlines() if line.startswith("| ")][1:]  # past the header
    listed = {}
    for row in rows:
        family, functions = [c.strip() for c in row.strip("|").split("|")[:2]]
        for f in re.findall(r"`([a-z_0-9]+)`", functions):
            listed[f] = family
    assert listed == {n: r.family for n, r in ROUTES.items() if r.cuda is not None}


def test_one_place_knows_about_cupy():
    """Only _backend, _validate (device detection, the one error) and the _gpu_* routes mention
    cupy; public modules ask the table."""
    offenders = []
    for p in sorted((ROOT / "python" / "gsa_fast").glob("*.py")):
        if p.name.startswith(("_gpu_", "_backend", "_validate", "_interop")):
            continue
        src = p.read_text()
        if "is_cupy" in src or "__cuda_array_interface__" in src or "import cupy" in src:
            offenders.append(p.name)
    assert not offenders, offenders


def test_device_out_of_memory_names_the_function_and_the_request(monkeypatch):
    # cupy raises cupy.cuda.memory.OutOfMemoryError (message: the bytes requested); every CUDA
    # route goes through _backend.device_errors, which turns it into a MemoryError naming fn and
    # the memory free. cupy's class derives from MemoryError (the stand-in used to derive from
    # Exception, and the wrapper re-raised every MemoryError unchanged: on a device the message
    # named neither the function nor the memory free)
    import sys
    import types

    from gsa_fast._backend import device_errors

    class OutOfMemoryError(MemoryError):
        pass

    def route(x):
        raise OutOfMemoryError("Out of memory allocating 68,719,476,736 bytes (allocated so far: 0 bytes).")

    fake = types.ModuleType("cupy")
    fake.cuda = types.SimpleNamespace(runtime=types.SimpleNamespace(memGetInfo=lambda: (1024, 4096)))
    monkeypatch.setitem(sys.modules, "cupy", fake)
    with pytest.raises(MemoryError, match=r"svdvals\(\): out of device memory: Out of memory allocating "
                                          r"68,719,476,736 bytes .*; 1024 of 4096 bytes free on the device"):
        device_errors("svdvals", route)(1)
    with pytest.raises(MemoryError, match="^rmax needs 8 bytes$"):  # a route's own MemoryError
        device_errors("svdvals", lambda x: (_ for _ in ()).throw(MemoryError("rmax needs 8 bytes")))(1)
    with pytest.raises(ValueError, match="other"):  # other errors pass through unchanged
        device_errors("svdvals", lambda x: (_ for _ in ()).throw(ValueError("other")))(1)
    assert device_errors("svdvals", lambda x: x + 1)(1) == 2


def test_device_operands_must_live_on_the_current_device(monkeypatch):
    # the routes allocate and launch on the current device and stream and hand our kernels raw
    # pointers: an operand on another device must be refused before anything runs (it used to
    # be read across devices). A stand-in cupy: arrays that name their device, current device 0.
    import sys
    import types

    class FakeArray:
        __module__ = "cupy"

        def __init__(self, dev):
            self.device = types.SimpleNamespace(id=dev)

    fake = types.ModuleType("cupy")
    fake.cuda = types.SimpleNamespace(runtime=types.SimpleNamespace(getDevice=lambda: 0))
    monkeypatch.setitem(sys.modules, "cupy", fake)
    monkeypatch.setattr(_backend, "require_cuda", lambda fn: None)
    assert _backend.device_route("energy", FakeArray(0))
    assert _backend.device_route("orbit_kl", 0.5, FakeArray(0), [FakeArray(0)])
    assert not _backend.device_route("energy", None, 3)
    for args in ((FakeArray(1),), (FakeArray(0), FakeArray(1)), ([FakeArray(1)],)):
        with pytest.raises(ValueError, match=r"orbit_kl\(\): arguments must be on the current CUDA "
                                             r"device \(0\); got an array on device 1"):
            _backend.device_route("orbit_kl", *args)


def test_an_operand_on_another_device_is_refused(cupy):
    if cupy.cuda.runtime.getDeviceCount() < 2:
        pytest.skip("needs two CUDA devices")
    with cupy.cuda.Device(1):
        x = cupy.linspace(1.0, 0.1, 10)
    with pytest.raises(ValueError, match=r"energy\(\): arguments must be on the current CUDA device \(0\)"):
        g.energy(x)
    with cupy.cuda.Device(1):  # on its own device it runs
        assert cupy.asnumpy(g.energy(x)).sum() == pytest.approx(1.0)
