"""Where kernels run: the CPU extension always, the CUDA extension when built and a device exists.

One place decides CPU or GPU: the array library of the operands (numpy → CPU, cupy → CUDA).
cupy is never imported here unless a cupy array is handed in.
"""
from __future__ import annotations

from . import _core

try:  # the CUDA extension is optional: absent in CPU-only builds
    from . import _cuda  # type: ignore[attr-defined]

    _CUDA_IMPORT_ERROR = None
except ImportError as exc:  # pragma: no cover - depends on the build
    _cuda = None
    _CUDA_IMPORT_ERROR = str(exc)

core = _core


def is_cupy(x) -> bool:
    """True for a cupy ndarray, without importing cupy."""
    return type(x).__module__.split(".")[0] == "cupy"


def cuda_device_count() -> int:
    if _cuda is None:
        return 0
    try:
        return int(_cuda.device_count())
    except Exception:  # pragma: no cover - driver problems read as "no device"
        return 0


def cuda_available() -> bool:
    return cuda_device_count() > 0


def require_cuda(fn: str):
    """The CUDA extension, or a clear error naming why it is not usable."""
    if _cuda is None:
        raise RuntimeError(
            f"{fn}(): got a cupy array but gsa_fast was built without CUDA "
            f"({_core.cuda_status}); rebuild with GSA_FAST_CUDA=ON"
        )
    if cuda_device_count() == 0:
        raise RuntimeError(f"{fn}(): got a cupy array but no CUDA device is visible")
    return _cuda


def namespace(*arrays):
    """numpy or cupy: the library that owns the operands (all must agree)."""
    kinds = {is_cupy(a) for a in arrays if a is not None and hasattr(a, "shape")}
    if len(kinds) > 1:
        raise TypeError("arguments must all be numpy arrays or all be cupy arrays; got a mix")
    if kinds == {True}:
        import cupy

        return cupy
    import numpy

    return numpy
