"""The one status channel: every kernel reports ``Status(code, index, position, info)``
(cpp/include/gsa_fast/status.hpp); :func:`raise_status` turns it into the
``fn(): arg must be …; got …`` error naming the batch element. The kernel says what it found
and where; nothing here re-scans the data."""
from __future__ import annotations

from . import _core
from ._validate import value_error

_C = _core.StatusCode
OK, NONFINITE, LAPACK = int(_C.ok), int(_C.nonfinite), int(_C.lapack)
NEGATIVE, ASYMMETRIC = int(_C.negative), int(_C.asymmetric)
_FOUND = {int(_C.nan): "NaN", int(_C.inf): "Inf", int(_C.negative): "a negative value"}


def raise_status(fn: str, status, *, arg: str | None = None, element=None, describe=None) -> None:
    """Raise the error for a failed kernel ``status``; ``element(i)`` names batch element ``i``
    (``"x[3]"``, ``"spectrum (1, 2)"``). A family whose wording differs (the Bures pair kernels:
    operand in ``position``) passes ``describe(code, index, position, info)`` returning the
    exception instead. Returns quietly when the status is OK."""
    code = status[0]
    if code == OK:
        return
    index, position, info = int(status[1]), int(status[2]), int(status[3])
    if describe is not None:
        raise describe(int(code), index, position, info)
    el = element(index)
    if code == LAPACK:
        raise RuntimeError(f"{fn}(): LAPACK failed on {el} (info = {info})")
    if code == NONFINITE:
        raise ValueError(f"{fn}(): {el} must be finite (no NaN or Inf); got non-finite values")
    raise value_error(fn, arg, "finite nonnegative singular values",
                      f"{_FOUND[code]} at position {position} of {el}")
