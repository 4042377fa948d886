"""The cupy API that the device routes call exists, and every call binds to its signature.

Runs wherever cupy imports — no GPU needed (cupy imports without a device; only array creation
needs one), so a development machine with cupy installed checks, before any device session, what
would otherwise fail at the first call on the GPU: a name cupy does not have (numpy has
``errstate``, ``add.reduceat``, ``put_along_axis``; cupy's ``lexsort`` takes one 2-D array), a
keyword it does not take, a wrong argument count to a raw cuSOLVER binding.

The calls are read from the source (python/gsa_fast/*.py): every call whose callee is an attribute
chain rooted at ``cp``, ``cupy``, ``cupyx``, ``cusolver``/``cublas`` (cupy_backends' raw bindings) or
``xp``/``self.xp`` (the array namespace, numpy or cupy: it must work on both, so it is checked
against cupy). Calls through a variable (``f = cp.sqrt; f(x)``) and methods of arrays are not seen.
Skips without cupy.
"""
from __future__ import annotations

import ast
import inspect
import pathlib

import pytest

cupy = pytest.importorskip("cupy")

SRC = pathlib.Path(__file__).resolve().parents[1] / "python" / "gsa_fast"


def _roots():
    import cupyx

    roots = {"xp": cupy, "cp": cupy, "cupy": cupy, "cupyx": cupyx}
    try:  # the raw bindings load the CUDA libraries (cuSOLVER, cuBLAS): absent on some machines
        from cupy_backends.cuda.libs import cublas, cusolver

        roots.update(cusolver=cusolver, cublas=cublas)
    except ImportError:
        pass
    return roots


def _chain(node):
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if not isinstance(node, ast.Name):
        return None
    parts.append(node.id)
    parts.reverse()
    if parts[0] == "self" and len(parts) > 1 and parts[1] in ("xp", "_cp"):
        parts = ["xp"] + parts[2:]
    return parts


def _calls():
    roots = _roots()
    for path in sorted(SRC.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if not isinstance(node, ast.Call):
                continue
            ch = _chain(node.func)
            if not ch or len(ch) < 2 or ch[0] not in roots:
                continue
            yield f"{path.name}:{node.lineno}", ch, node, roots[ch[0]]


def _resolve(root, names):
    obj = root
    for i, name in enumerate(names):
        if not hasattr(obj, name):
            # a method of a returned object (cp.cuda.Device().x) is not a module attribute
            return obj, names[i:]
        obj = getattr(obj, name)
    return obj, []


def test_every_cupy_name_the_device_code_calls_exists():
    missing, n = [], 0
    for where, ch, _node, root in _calls():
        n += 1
        obj, rest = _resolve(root, ch[1:])
        if rest and inspect.ismodule(obj):
            missing.append(f"{where}: {'.'.join(ch)} ({ch[0]} has no {'.'.join(rest)})")
    assert n > 300, n  # the scan sees the device code (about 500 calls at the time of writing)
    assert not missing, "\n".join(missing)


def test_every_cupy_call_binds_to_its_signature():
    bad = []
    for where, ch, node, root in _calls():
        obj, rest = _resolve(root, ch[1:])
        if rest or any(isinstance(a, ast.Starred) for a in node.args) or any(k.arg is None for k in node.keywords):
            continue
        kws = [k.arg for k in node.keywords]
        if isinstance(obj, cupy.ufunc):  # cupy ufuncs: out, dtype, casting (no where=, no order=)
            extra = sorted(set(kws) - {"out", "dtype", "casting"})
            if extra:
                bad.append(f"{where}: {'.'.join(ch)} is a cupy ufunc without keyword(s) {extra}")
            continue
        try:
            sig = inspect.signature(obj)
        except (TypeError, ValueError):  # Cython functions without a signature: the docstring's
            doc = (getattr(obj, "__doc__", "") or "").split("\n", 1)[0]  # first line is it
            if "(" not in doc or not doc.startswith(ch[-1]):
                continue
            params = [p.strip() for p in doc[doc.index("(") + 1:doc.rindex(")")].split(",") if p.strip()]
            if len(node.args) + len(kws) != len(params) and not any("=" in p for p in params):
                bad.append(f"{where}: {'.'.join(ch)} takes {len(params)} arguments ({doc}); "
                           f"called with {len(node.args) + len(kws)}")
            continue
        try:
            sig.bind(*range(len(node.args)), **{k: None for k in kws})
        except TypeError as e:
            bad.append(f"{where}: {'.'.join(ch)}{sig}: {e}")
    assert not bad, "\n".join(bad)
