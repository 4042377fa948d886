"""Assertions and constants shared by the tests (importable: pytest puts tests/ on sys.path)."""
from __future__ import annotations

import numpy as np

UNIT_ROUNDOFF = {
    "bfloat16": 2.0**-8,
    "float16": 2.0**-11,
    "float32": 2.0**-24,
    "float64": 2.0**-53,
}


def assert_rel(actual, expected, rtol, atol=0.0, what=""):
    """|a − e| ≤ atol + rtol·|e| elementwise, with a message giving the worst relative error."""
    a = np.asarray(actual, dtype=np.float64)
    e = np.asarray(expected, dtype=np.float64)
    assert a.shape == e.shape, f"{what}: shape {a.shape} != {e.shape}"
    err = np.abs(a - e)
    bound = atol + rtol * np.abs(e)
    ok = (err <= bound) | ((a == e))
    if not ok.all():
        i = np.argmax(np.where(ok, 0, err / np.maximum(bound, 1e-300)))
        raise AssertionError(
            f"{what}: {np.count_nonzero(~ok)} of {ok.size} outside rtol={rtol}, atol={atol}; "
            f"worst at flat index {i}: {a.ravel()[i]!r} vs {e.ravel()[i]!r}"
        )
