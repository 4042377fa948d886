"""The scan's GPU route (``scan(device="cuda")``): the one scan module that touches cupy.

Each work unit's matrices are copied to the device and solved by :func:`gsa_fast.svdvals`'s
CUDA route (cupy in, cupy out); the spectra come back as float64 numpy arrays. The diagnostics
run on the CPU (they cost little next to the spectra).
"""
from __future__ import annotations

import numpy as np

__all__ = ["unavailable_reason", "svdvals_on_device"]


def unavailable_reason():
    """None when a CUDA build, a GPU and cupy are all present, else what is missing (one line)."""
    import gsa_fast as g

    info = g.build_info()
    try:
        import cupy  # noqa: F401
        have_cupy = True
    except ImportError:
        have_cupy = False
    if have_cupy and info.get("cuda_devices"):
        return None
    return (f"'cuda' with CUDA {info.get('cuda_status')!r}, {info.get('cuda_devices', 0)} devices, "
            f"cupy {'installed' if have_cupy else 'missing'}")


def svdvals_on_device(mats, method, kw):
    import cupy as cp

    import gsa_fast as g

    s = g.svdvals([cp.asarray(a) for a in mats], method=method, **kw)
    return [np.asarray(cp.asnumpy(s[i]), dtype=np.float64) for i in range(len(mats))]
