"""Two-stage symmetric eigenvalues for large Grams, written once for numpy and cupy (issue 12 §2).

Stage 1, :func:`dense_to_band`, runs wherever the Gram lives: it is written against an array
namespace ``xp`` (``numpy`` or ``cupy``) and uses only GEMMs (``@``), ``xp.linalg.qr(mode="raw")``
(LAPACK / cuSOLVER ``geqrf``), one k×k ``xp.linalg.solve``, slicing and one gather, so on the
device every flop that matters is a cuBLAS float64 GEMM (tensor cores on sm_80+). For each panel
of ``b`` columns below the band:

1. QR of the panel ``A[i+b:, i:i+b] = Q R`` with ``Q = I − V T Vᵀ`` (compact WY form). ``geqrf``
   returns V (unit lower trapezoidal) and τ; T comes from the UT-transform identity
   ``T⁻¹ = striu(VᵀV) + diag(1/τ)`` (Joffrain, Low, Quintana-Ortí, van de Geijn, van Zee, *ACM
   TOMS* 32, 2006). A reflector with τ = 0 (column already zero) is dropped: its V column is set to
   zero and its diagonal of T⁻¹ to 1, which leaves Q unchanged.
2. R replaces the panel (the band's lower block), zeros below it.
3. Two-sided trailing update ``A22 ← QᵀA22Q`` as ``Y = A22·V·T``, ``W = Y − ½·V·(Tᵀ·Vᵀ·Y)``,
   ``A22 −= [V W]·[W V]ᵀ`` (one GEMM of inner size 2b).

This is the first stage of LAPACK's two-stage ``dsyevd_2stage`` (``dsytrd_sy2sb``) and the same
panel/trailing-update structure as the CPU band route (cpp/src/linalg/band_eig.cpp), except that
the full n×n matrix is updated (GEMMs instead of SYMM/SYR2K on the lower triangle): ≈ 2n³ flops
instead of (4/3)n³, which a GPU's GEMM rate absorbs more easily than the extra kernels a
triangle-only update would need. Each step is orthogonal, so the band's eigenvalues are those of
A up to a backward error of order c·n·u·‖A‖ (u = 2⁻⁵³).

Stage 2 can also run on the device (``stage2="device"``, svdvals' private
``_eig_driver="band_device"``): :func:`gsa_fast._gpu_band.band_to_tridiagonal` chases the bulges
with the steps of math/bulge.hpp in a persistent CUDA kernel, and
:func:`gsa_fast._gpu_tridiag.eigvalsh_tridiagonal` takes the tridiagonal's eigenvalues there too:
nothing of the matrix goes to the host.

By default stages 2 and 3 run on the host (:func:`band_eigvalsh`): the band, (b+1)·n doubles, is the only
transfer; the C++ core chases the bulges with LAPACK's dsb2st kernels on two threads (the same code
as the CPU band route, with more sweeps at once when the host has the cores) and dsterf gives the
eigenvalues. :func:`eigvalsh_each` overlaps the host
stages of matrix k with the device's Gram and band reduction of matrix k + 1, and runs the host
stages of several matrices side by side.
"""
from __future__ import annotations

from concurrent.futures import Future, ThreadPoolExecutor

import numpy as np

from . import _backend, _gpu_band, _gpu_tridiag
from ._gpu_margins import to_host
from ._validate import type_error, value_error

# Band width b of stage 1. 64 is what the CPU band route measured best at n = 4096 (wider bands
# make the host's bulge chasing, ∝ n²·b, dominate); the device sweep of b ∈ {32, 64, 128}
# (bench/two_stage_gpu.py) decides the GPU's value.
BAND_WIDTH = 64

# svdvals' cupy route (eig_driver "auto") keeps cuSOLVER syevd for every size until a device run
# measures the crossover; this is where the two-stage route is expected to win (q ≥ 2048 on the
# H100 record: syevd takes 1.5 s at q = 4096). TODO(measure on device): make "auto" use it.
TWO_STAGE_MIN_Q = 2048


def dense_to_band(xp, G, b=BAND_WIDTH, *, overwrite=False, fn="dense_to_band", host=True):
    """Stage 1: symmetric float64 ``G`` (n×n, lower triangle and the rest kept symmetric) → band.

    Returns the symmetric band matrix of half-bandwidth ``b`` with the eigenvalues of G, in LAPACK
    lower band storage as a host numpy array of shape ``(b + 1, n)`` (``band[r, j] = B[j + r, j]``,
    zero where ``j + r ≥ n``; Fortran-ordered, so ``band.T`` is C-contiguous). ``overwrite=True``
    lets the reduction work in G's own memory (G is destroyed); otherwise one copy of G is made.
    ``host=False`` returns the band as an ``xp`` array (the same layout) where it was computed.
    """
    if getattr(G, "ndim", None) != 2 or G.shape[0] != G.shape[1]:
        raise value_error(fn, "G", "a square (n, n) matrix", f"shape {getattr(G, 'shape', None)}")
    if G.dtype != np.float64:
        raise type_error(fn, "G", "a float64 array", G)
    if isinstance(b, bool) or not isinstance(b, (int, np.integer)) or b < 1:
        raise value_error(fn, "b", "an int >= 1", repr(b))
    b, n = int(b), int(G.shape[0])
    A = G if overwrite else G.copy()
    for i in range(0, max(n - b - 1, 0), b):  # panels with at least 2 rows below the band
        P = A[i + b:, i:i + b]
        h, tau = xp.linalg.qr(P, mode="raw")  # geqrf; h is the factor transposed (b × pn)
        F = h.T
        k = int(tau.shape[0])  # min(pn, b) reflectors
        live = tau != 0
        V = xp.tril(F[:, :k], -1)
        d = xp.arange(k)
        V[d, d] = 1.0
        V *= live[None, :]  # a τ = 0 reflector is the identity: drop it
        S = xp.triu(V.T @ V, 1) + xp.diag(1.0 / xp.where(live, tau, 1.0))
        T = xp.linalg.solve(S, xp.eye(k))
        P[...] = 0.0
        P[:k] = xp.triu(F[:k])  # R: the band's lower block (k × b)
        A22 = A[i + b:, i + b:]
        Y = A22 @ (V @ T)
        W = Y - 0.5 * (V @ (T.T @ (V.T @ Y)))
        A22 -= xp.concatenate((V, W), axis=1) @ xp.concatenate((W, V), axis=1).T
    # gather the lower band into (n, b + 1): bt[j, r] = A[j + r, j] (rows past n − 1 are zeros)
    rows = xp.arange(n)[:, None] + xp.arange(b + 1)[None, :]
    cols = xp.broadcast_to(xp.arange(n)[:, None], rows.shape)
    bt = xp.where(rows < n, A[xp.minimum(rows, max(n - 1, 0)), cols], 0.0) if n else xp.zeros((0, b + 1))
    if not host:
        return bt.T
    return np.ascontiguousarray(to_host(bt)).T


def band_eigvalsh(band, threads=2, fn="band_eigvalsh"):
    """Stages 2 and 3 on the host: eigenvalues, ascending, of a band in LAPACK lower band storage
    ``(b + 1, n)`` (as :func:`dense_to_band` returns it): LAPACK's dsb2st bulge chasing with up to
    ``threads`` sweeps at once (cpp/src/linalg/band_eig.cpp, shared with the CPU band route), then
    dsterf. The result is bitwise the same for every ``threads``."""
    band = _gpu_band.check_band(np.asarray(band), fn)
    bt = np.ascontiguousarray(band.T)  # no copy for dense_to_band's Fortran-ordered result
    w = np.empty(bt.shape[0], dtype=np.float64)
    info = _backend.core.band_storage_eigvalues(bt, w, int(threads))
    if info:
        raise RuntimeError(f"{fn}(): LAPACK dsterf failed (info = {info})")
    return w


def _host_split(count):
    """(matrices solved side by side, threads each) for the host stages of `count` matrices
    (None: unknown) on gsa_fast.get_num_threads() cores: one matrix gets them all (its sweeps run
    side by side), a batch gets two each."""
    cores = max(1, int(_backend.core.get_num_threads()))
    workers = max(1, min(count if count else cores, cores // 2))
    return workers, max(2, cores // workers)


def _device_stage2(xp, band, fn):
    """Stages 2 and 3 where the band lives. On the device: the bulge chasing of _gpu_band, then the
    eigenvalues of (d, e) by _gpu_tridiag's multisection, both on the current stream (returns
    ``(None, w)``: nothing for the host pool, the values stay on the device). With numpy: the
    bulge chasing's CPU executor, then dsterf submitted to the host pool (returns the callable and
    its arguments): on the host dsterf is the faster stage 3 (bench/results/gpu.md)."""
    d, e = _gpu_band.band_to_tridiagonal(xp, band, fn=fn)
    if xp is not np:
        return None, (_gpu_tridiag.eigvalsh_tridiagonal(xp, d, e, fn=fn),)
    return _gpu_band.tridiagonal_eigvalsh, (d, e, fn)


def eigvalsh_each(xp, grams, b=BAND_WIDTH, *, count=None, overwrite=False, fn="svdvals", stage2="host"):
    """Eigenvalues, ascending, of each symmetric float64 matrix that the iterable ``grams`` yields
    (``count`` of them, if known), as a list of host numpy arrays (``xp`` arrays for
    ``stage2="device"`` on the device, where stage 3 runs too). ``grams`` may be a generator
    that computes each Gram on the device: the Gram and stage 1 of matrix k + 1 then run while the
    host (releasing the GIL) chases the bulges of matrix k. The host stages of several matrices run
    side by side (:func:`_host_split`). ``stage2="device"``: the bulge chasing runs where the Gram
    lives (:mod:`gsa_fast._gpu_band`), and so does stage 3 (:mod:`gsa_fast._gpu_tridiag`) on the
    device; nothing then waits on the host pool."""
    workers, threads = _host_split(count)
    pool = ThreadPoolExecutor(max_workers=workers)
    try:
        pending = []
        for G in grams:
            if stage2 == "device":
                band = dense_to_band(xp, G, b, overwrite=overwrite, fn=fn, host=False)
                task, args = _device_stage2(xp, band, fn)
                pending.append(pool.submit(task, *args) if task is not None else args[0])
            else:
                band = dense_to_band(xp, G, b, overwrite=overwrite, fn=fn)
                pending.append(pool.submit(band_eigvalsh, band, threads, fn))
        return [f.result() if isinstance(f, Future) else f for f in pending]
    finally:  # on Ctrl-C or an error: drop the queued host stages, wait only for running ones
        pool.shutdown(wait=True, cancel_futures=True)


def eigvalsh_stack(xp, G, b=BAND_WIDTH, *, overwrite=False, fn="svdvals", stage2="host"):
    """:func:`eigvalsh_each` over a (count, n, n) stack, as an ``xp`` array (count, n): host
    results go up in one copy, device results are stacked where they are."""
    count, n = int(G.shape[0]), int(G.shape[-1])
    ws = eigvalsh_each(xp, (G[k] for k in range(count)), b, count=count, overwrite=overwrite, fn=fn,
                       stage2=stage2)
    if not ws:
        return xp.zeros((0, n), dtype=np.float64)
    if all(isinstance(w, np.ndarray) for w in ws):
        return xp.asarray(np.stack(ws))
    return xp.stack(ws)
