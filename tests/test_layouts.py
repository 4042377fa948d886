"""Every public kernel over every numpy layout (issue 8 item 1): the fast route on a view, a
transposed/Fortran/broadcast/read-only/memmapped/big-endian array, a 0-d array or a list gives the
reference twin's answer on the C-contiguous copy, or both refuse it with a clear
``fn(): arg must be …`` TypeError/ValueError. The reference twin accepts the same layouts.

Tolerances: layouts.TOL (each kernel's float64 contract vs its reference, relative to the largest
reference value); between two layouts of the same fast kernel 1e-13 relative (a copy or a
flipped view changes at most the summation order).
"""
from __future__ import annotations

import numpy as np
import pytest

import gsa_fast as g
from gsa_fast import reference as ref
from layouts import LAYOUTS, TOL, recipes

RNG_SEED = 20261129


def flatten(r):
    """A result (array, scalar, tuple/NamedTuple, list, RaggedSpectra) as a list of float arrays."""
    if isinstance(r, g.RaggedSpectra):
        return [np.asarray(r.values, dtype=np.float64), np.asarray(r.offsets, dtype=np.float64)]
    if isinstance(r, (tuple, list)):
        return [a for x in r for a in flatten(x)]
    return [np.asarray(r, dtype=np.float64)]


def assert_same(got, want, rtol, what):
    got, want = flatten(got), flatten(want)
    assert len(got) == len(want), what
    for a, b in zip(got, want):
        assert a.shape == b.shape, f"{what}: shape {a.shape} != {b.shape}"
        scale = float(np.nanmax(np.abs(b))) if b.size and np.isfinite(b).any() else 1.0
        np.testing.assert_allclose(a, b, rtol=rtol, atol=rtol * max(scale, 1e-300), equal_nan=True,
                                   err_msg=what)


def outcome(f, call, x):
    """("ok", result) or ("error", exception) for the clear-error kinds; anything else propagates."""
    try:
        return "ok", call(f, x)
    except (TypeError, ValueError) as exc:
        return "error", exc


CASES = [(name, layout) for name in g.KERNELS for layout in LAYOUTS]


def test_recipes_cover_every_kernel():
    assert sorted(recipes(np.random.default_rng(0))) == sorted(g.KERNELS)


@pytest.mark.parametrize("name,layout", CASES, ids=[f"{n}-{lay}" for n, lay in CASES])
def test_layout(name, layout):
    A, call = recipes(np.random.default_rng(RNG_SEED))[name]
    V, T = LAYOUTS[layout](A)
    want_kind, want = outcome(getattr(ref, name), call, T)
    got_kind, got = outcome(getattr(g, name), call, V)
    ref_kind, ref_got = outcome(getattr(ref, name), call, V)
    assert got_kind == want_kind, f"{name} on {layout}: fast {got_kind} ({got!r}), reference {want_kind} ({want!r})"
    assert ref_kind == want_kind, f"reference {name} on {layout}: {ref_kind} ({ref_got!r})"
    if want_kind == "error":
        assert type(got) is type(want), (got, want)
        assert str(got).startswith(f"{name}(): ") and " must be " in str(got), str(got)
        return
    tol = TOL.get(name, TOL["default"])
    assert_same(got, want, tol, f"{name} on {layout} vs reference")
    assert_same(ref_got, want, 1e-13, f"reference {name} on {layout} vs contiguous")
    assert_same(got, call(getattr(g, name), T), 1e-13,
                f"{name} on {layout} vs contiguous")


def test_float32_strided_matrix_is_not_widened():
    """A strided float32 matrix is read in place or copied once in float32 — never to float64."""
    import tracemalloc

    x = np.random.default_rng(1).standard_normal((2, 600, 1200)).astype(np.float32)[:, :, ::2]
    g.svdvals(x[:, :8, :8])  # warm up lazily allocated state outside the measurement
    tracemalloc.start()
    try:
        g.svdvals(x)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    float64_copy = x.size * 8
    assert peak < 0.75 * float64_copy, f"peak {peak} bytes vs a float64 copy of {float64_copy}"


SPECTRA_FUNCS = [n for n in g.KERNELS if n in ("truncation_rank", "energy", "spectrum_tails", "spectral_entropy",
                                               "radial_functional", "rank_count", "fit_exponent",
                                               "radial_residual", "chart_error", "tail_residual")]


@pytest.mark.parametrize("name", SPECTRA_FUNCS)
@pytest.mark.parametrize("values_layout", ["stepped", "reversed", "big-endian", "read-only"])
def test_ragged_values_any_layout(name, values_layout):
    A, call = recipes(np.random.default_rng(RNG_SEED))[name]
    flat = np.ascontiguousarray(A).reshape(-1)[:23]
    offsets = np.array([0, 5, 5, 13, 23])
    V, T = LAYOUTS[values_layout](flat)
    want = call(getattr(ref, name), g.RaggedSpectra(T, offsets))
    got = call(getattr(g, name), g.RaggedSpectra(V, offsets))
    assert_same(got, want, TOL.get(name, TOL["default"]), f"{name} on ragged {values_layout} values")


def test_docs_inputs_table_is_current():
    """docs/inputs.md is what scripts/inputs_table.py prints now: a kernel fixed or added after
    the table was generated must not leave a stale FAIL (or a missing row) in the user docs."""
    import contextlib
    import importlib.util
    import io
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    spec = importlib.util.spec_from_file_location("inputs_table", root / "scripts" / "inputs_table.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        mod.main()
    assert (root / "docs" / "inputs.md").read_text() == buf.getvalue(), (
        "docs/inputs.md is stale: PYTHONPATH=python:tests python3 scripts/inputs_table.py > docs/inputs.md")
