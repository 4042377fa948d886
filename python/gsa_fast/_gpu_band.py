"""Band → tridiagonal on the device: stage 2 of the two-stage eigensolver (issue 12 §2).

:func:`band_to_tridiagonal` takes a symmetric band in LAPACK lower band storage (as
``_two_stage.dense_to_band(..., host=False)`` leaves it on the device) and returns the diagonal d
and off-diagonal e of a tridiagonal matrix with the same eigenvalues. On cupy it runs the CUDA
kernel ``_cuda.bulge_chase`` (cuda/bulge.cu); on numpy the CPU executor ``_core.bulge_chase``
(cpp/src/linalg/bulge.cpp). Both run the steps of cpp/include/gsa_fast/math/bulge.hpp — one
Householder reflector per block, applied on b×b windows, sweep after sweep, the sweeps pipelined
in wavefronts (docs/gpu.md) — so the CPU tests of this module test the device arithmetic.

On the device the eigenvalues of (d, e) come from ``_gpu_tridiag.eigvalsh_tridiagonal`` (Sturm-count
multisection, cuda/tridiag.cu), called by ``_two_stage.eigvalsh_each``; on the host from
:func:`tridiagonal_eigvalsh` (LAPACK dsterf, the faster host stage 3).
"""
from __future__ import annotations

import numpy as np

from . import _backend
from ._gpu_margins import to_host
from ._validate import type_error, value_error

SHIFT = 3  # math::kBulgeShift: sweep s starts SHIFT steps after sweep s − 1


def check_band(band, fn):
    """The rules of a band operand (float64, shape (b + 1, n) with b >= 0), on either side: here
    and in _two_stage.band_eigvalsh."""
    if getattr(band, "dtype", None) != np.float64:
        raise type_error(fn, "band", "a float64 array", band)
    if band.ndim != 2 or band.shape[0] < 1:
        raise value_error(fn, "band", "an array of shape (b + 1, n)", f"shape {band.shape}")
    return band


def work_storage(xp, band):
    """(W, b): the working storage of math/bulge.hpp for a band (b + 1, n) in LAPACK lower band
    storage — W (n, ldw) with W[c, r − c] = A(r, c), ldw = max(1, 2b), zeros beyond the band (the
    room the bulges need) — and the half-bandwidth b, clipped to n − 1."""
    b1, n = int(band.shape[0]), int(band.shape[1])
    b = min(b1 - 1, max(n - 1, 0))
    W = xp.zeros((n, max(1, 2 * b)), dtype=xp.float64)
    W[:, :b + 1] = band[:b + 1].T
    return W, b


def band_to_tridiagonal(xp, band, *, fn="band_to_tridiagonal", order=0, threads=1, shift=SHIFT):
    """(d, e) of the tridiagonal matrix similar to the symmetric band ``band`` ((b + 1, n) float64,
    LAPACK lower band storage: ``band[r, j] = B[j + r, j]``; entries past the matrix's end are not
    read), as ``xp`` arrays of n and max(n − 1, 0) values. ``band`` is read only (the reduction works
    in one (n, 2b) copy). cupy: one cooperative kernel on the current stream, no host round trip.
    numpy: the CPU executor; ``order`` (0 serial, 1 wavefronts), ``threads`` and ``shift`` choose
    its schedule (tests; the result is bitwise the same for every valid choice)."""
    check_band(band, fn)
    n = int(band.shape[1])
    device = _backend.is_cupy(band)
    if device != (xp is not np):
        raise TypeError(f"{fn}(): band must be a {'cupy' if xp is not np else 'numpy'} array; got "
                        f"{type(band).__name__}")
    if device:
        cuda = _backend.require_cuda(fn)
        if min(int(band.shape[0]) - 1, max(n - 1, 0)) > int(cuda.BULGE_MAX_BAND):
            raise value_error(fn, "band", f"a band of half-bandwidth <= {int(cuda.BULGE_MAX_BAND)} "
                              "on the device", f"shape {band.shape}")
    W, b = work_storage(xp, band)
    d = xp.empty(n, dtype=xp.float64)
    e = xp.empty(max(n - 1, 0), dtype=xp.float64)
    if device:
        sweeps = n - 2 if (b >= 2 and n >= 3) else 0
        progress = xp.zeros(max(sweeps, 1), dtype=xp.int32)
        cuda.bulge_chase(W.data.ptr, n, b, int(W.shape[1]), progress.data.ptr, d.data.ptr,
                         e.data.ptr, xp.cuda.get_current_stream().ptr)
    else:
        _backend.core.bulge_chase(W, b, d, e, int(order), int(threads), int(shift))
    return d, e


def tridiagonal_eigvalsh(d, e, fn="band_to_tridiagonal"):
    """Eigenvalues, ascending, of the symmetric tridiagonal (d, e) on the host (LAPACK dsterf through
    the band route's core entry with half-bandwidth 1); d and e may live on the device (2n doubles
    are copied)."""
    from ._two_stage import band_eigvalsh  # (_two_stage imports this module)

    d, e = to_host(d), to_host(e)
    n = int(d.shape[0])
    bt = np.zeros((n, 2), dtype=np.float64)
    bt[:, 0] = d
    bt[:n - 1, 1] = e[:max(n - 1, 0)]
    return band_eigvalsh(bt.T, 1, fn)  # the (2, n) band with b = 1: dsterf, no copy of bt
