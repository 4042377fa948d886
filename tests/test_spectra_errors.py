"""Bad input to gram/svdvals and their reference twins: one-line errors naming the matrix
(split from tests/test_spectra.py to keep files short)."""
from __future__ import annotations

import numpy as np
import pytest

import gsa_fast as g
from gsa_fast import reference as ref

# ---- bad input ------------------------------------------------------------------------------------

def _nan_at(x, idx):
    x = x.copy()
    x[idx] = np.nan
    return x


BAD = [
    (lambda r: _nan_at(r.standard_normal((3, 4, 4)), (1, 2, 2)), {}, ValueError, r"svdvals\(\): x\[1\] must be finite"),
    (lambda r: _nan_at(r.standard_normal((2, 3, 4, 4)).astype(np.float32), (1, 0, 0, 0)), {}, ValueError, r"x\[1, 0\] must be finite"),
    (lambda r: [r.standard_normal((3, 3)), np.full((2, 5), np.inf, np.float16)], {}, ValueError, r"x\[1\] must be finite"),
    (lambda r: _nan_at(r.standard_normal((4, 4)), (0, 0)), {"method": "svd"}, ValueError, r"x\[0\] must be finite"),
    (lambda r: _nan_at(r.standard_normal((40, 30)), (5, 5)), {"method": "topk", "k": 3}, ValueError, r"x\[0\] must be finite"),
    (lambda r: np.ones((3, 3), dtype=np.int64), {}, TypeError, r"svdvals\(\): x must be a real floating array"),
    (lambda r: np.ones((3, 3), dtype=np.uint16), {}, TypeError, r"dtype='bfloat16'"),
    (lambda r: np.ones((3, 3), dtype=np.complex128), {}, TypeError, r"real floating"),
    (lambda r: np.ones((3, 3), dtype=bool), {}, TypeError, r"real floating"),
    (lambda r: [np.ones((3, 3)), np.ones((3, 3), dtype=np.int32)], {}, TypeError, r"x\[1\] must be a real floating"),
    (lambda r: np.ones(5), {}, ValueError, r"x must be an array of shape \(\.\.\., m, n\)"),
    (lambda r: [np.ones((2, 2)), np.ones(3)], {}, ValueError, r"x\[1\] must be a 2-D matrix"),
    (lambda r: "abc", {}, TypeError, r"svdvals\(\): x must be"),
    # reversed and stepped views are accepted (issue 8); a NaN in one is still named
    (lambda r: _nan_at(r.standard_normal((3, 4, 6)), (2, 1, 1))[:, ::-1], {}, ValueError, r"x\[2\] must be finite"),
    (lambda r: _nan_at(r.standard_normal((3, 4, 12)), (1, 0, 4))[..., ::2], {}, ValueError, r"x\[1\] must be finite"),
    (lambda r: np.ones((3, 3)), {"method": "qr"}, ValueError, r"method must be one of"),
    (lambda r: np.ones((3, 3)), {"method": "topk"}, ValueError, r"k must be an int >= 1"),
    (lambda r: np.ones((3, 3)), {"method": "topk", "k": 0}, ValueError, r"k must be >= 1"),
    (lambda r: np.ones((3, 3)), {"k": 2}, ValueError, r"k must be None unless"),
    (lambda r: np.ones((3, 3)), {"threads": 0}, ValueError, r"threads must be >= 1"),
    (lambda r: np.ones((3, 3), dtype=np.uint16), {"dtype": "float8"}, ValueError, r"dtype must be None or 'bfloat16'"),
    (lambda r: np.ones((3, 3)), {"dtype": "bfloat16"}, TypeError, r"raw bfloat16 bits"),
]


@pytest.mark.parametrize("make,kw,exc,msg", BAD)
def test_bad_input(rng, make, kw, exc, msg):
    with pytest.raises(exc, match=msg):
        g.svdvals(make(rng), **kw)


def test_bad_input_gram_and_reference(rng):
    with pytest.raises(ValueError, match=r"gram\(\): x\[2\] must be finite"):
        g.gram(_nan_at(rng.standard_normal((3, 5, 4)), (2, 1, 1)))
    with pytest.raises(ValueError, match=r"x\[2\] must be finite"):
        ref.svdvals(_nan_at(rng.standard_normal((3, 5, 4)), (2, 1, 1)))
    with pytest.raises(TypeError, match=r"gram\(\): x must be a real floating"):
        g.gram(np.ones((2, 2), dtype=np.int8))
    with pytest.raises(TypeError):
        ref.svdvals(np.ones((2, 2), dtype=np.int8))
    # overflow of the f64 Gram is not a NaN: rescaled, no error
    assert np.isfinite(g.gram(np.full((2, 2), 1e200)) / 1e400 if False else g.svdvals(np.full((2, 2), 1e300))).all()


# ---- the device branch checks the CPU's arguments too ---------------------------------------------
# The cupy route has no thread pool and no topk, but a bad `threads` or a `k` without method="topk"
# is the CPU's error there as well, raised before the route runs. Run here with the route stubbed:
# device_route says "device" for a marked operand and cuda_route records whether it was reached.

@pytest.mark.parametrize("fn, kwargs, exc, match", [
    ("gram", {"threads": 0}, ValueError, r"gram\(\): threads must be"),
    ("svdvals", {"threads": "2"}, TypeError, r"svdvals\(\): threads must be"),
    ("svdvals", {"k": 3}, ValueError, r"svdvals\(\): k must be None unless method='topk'"),
    ("svdvals", {"method": "svd", "k": 3}, ValueError, r"k must be None unless method='topk'"),
])
def test_device_branch_checks_the_cpu_arguments_before_the_route(monkeypatch, fn, kwargs, exc, match):
    from gsa_fast import _backend

    reached = []
    monkeypatch.setattr(_backend, "device_route", lambda name, *ops: True)
    monkeypatch.setattr(_backend, "cuda_route", lambda name: lambda *a, **k: reached.append(name) or "ran")
    x = np.ones((3, 3))
    with pytest.raises(exc, match=match):
        getattr(g, fn)(x, **kwargs)
    assert not reached
    assert getattr(g, fn)(x) == "ran" and reached == [fn]  # valid arguments do reach the route
