"""Build and runtime information."""
from __future__ import annotations

from . import _backend


def build_info() -> dict:
    """What was built and why: version, compiler, BLAS, CUDA on/off and the reason, threads."""
    core = _backend.core
    return {
        "version": core.version,
        "compiler": core.compiler,
        "blas": core.blas,
        "cuda_built": _backend._cuda is not None,
        "cuda_status": _backend.cuda_status(),
        "cuda_devices": _backend.cuda_device_count(),
        "num_threads": core.get_num_threads(),
    }


def get_num_threads() -> int:
    """Worker threads used by batch-parallel kernels (default: all cores)."""
    return _backend.core.get_num_threads()


def set_num_threads(n: int) -> None:
    """Set the worker threads used by batch-parallel kernels (n >= 1)."""
    from ._validate import MAX_THREADS, as_int

    _backend.core.set_num_threads(as_int(n, "set_num_threads", "n", minimum=1, maximum=MAX_THREADS))
