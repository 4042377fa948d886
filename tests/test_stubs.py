"""The generated stubs (python/gsa_fast/_core.pyi, _cuda.pyi; scripts/gen_stubs.py) list every
extension name the Python layer calls, and every name they list exists in the built module."""
from __future__ import annotations

import ast
import pathlib
import re

import pytest

from gsa_fast import _backend

PKG = pathlib.Path(__file__).resolve().parents[1] / "python" / "gsa_fast"


def _stub_names(mod: str) -> set:
    tree = ast.parse((PKG / f"{mod}.pyi").read_text())
    names = set()
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            names.add(node.target.id)
    return names


def _called(pattern: str, files) -> set:
    found = set()
    for p in files:
        found |= set(re.findall(pattern, p.read_text()))
    return found


def test_core_stub_covers_what_python_calls():
    used = _called(r"(?:_backend\.core|\b_core|\bcore)\.([A-Za-z_]\w*)", PKG.glob("*.py"))
    used |= {c for r in _backend.ROUTES.values() for c in r.core}
    missing = sorted(used - _stub_names("_core"))
    assert not missing, f"_core.pyi lacks {missing}: run scripts/gen_stubs.py"


def test_cuda_stub_covers_what_python_calls():
    used = _called(r"(?<![\w.])cuda\.([A-Za-z_]\w*)\(", PKG.glob("_gpu_*.py"))
    used |= _called(r"_cuda\.([A-Za-z_]\w*)\(", [PKG / "_backend.py"])
    missing = sorted(used - _stub_names("_cuda"))
    assert used and not missing, f"_cuda.pyi lacks {missing}: run scripts/gen_stubs.py"


@pytest.mark.parametrize("mod", ["_core", "_cuda"])
def test_stub_names_exist_in_the_build(mod):
    module = _backend.core if mod == "_core" else _backend._cuda
    if module is None:
        pytest.skip("the CUDA extension is not built")
    extra = sorted(n for n in _stub_names(mod) if not hasattr(module, n))
    assert not extra, f"{mod}.pyi lists names the build lacks: {extra}"
