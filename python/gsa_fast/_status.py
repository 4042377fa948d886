"""The one status channel: every kernel reports ``Status(code, index, position, info)``
(cpp/include/gsa_fast/status.hpp); :func:`raise_status` turns it into the
``fn(): arg must be …; got …`` error naming the batch element. The kernel says what it found
and where; nothing here re-scans the data."""
from __future__ import annotations

from . import _core
from ._validate import invalid_value_error, lapack_error, nonfinite_error

_C = _core.StatusCode
OK, NONFINITE, LAPACK = int(_C.ok), int(_C.nonfinite), int(_C.lapack)
NEGATIVE, ASYMMETRIC = int(_C.negative), int(_C.asymmetric)
_FOUND = {int(_C.nan): "nan", int(_C.inf): "inf", int(_C.negative): "negative"}  # _validate.FOUND keys


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
        raise lapack_error(fn, el, info)
    if code == NONFINITE:
        raise nonfinite_error(fn, el)
    raise invalid_value_error(fn, arg, _FOUND[code], position, el)
