"""Batched singular spectra of layer matrices (issue #3): :func:`gram` and :func:`svdvals`.

Every GSA quantity starts from the singular values of weight matrices. This module computes
them for a stacked batch ``(..., m, n)`` or a ragged list of matrices of different shapes in one
call, from float64, float32, float16 or bfloat16 storage, without a float64 copy of the input:
low-precision data is converted panel by panel inside the kernel (≈32 MiB per worker) and
accumulated in float64.

Accuracy contract (tests/test_spectra.py enforces it). Let ``u`` be the unit roundoff of the
input (2⁻⁸ bfloat16, 2⁻¹¹ float16, 2⁻²⁴ float32, 2⁻⁵³ float64) and σ the float64 SVD of the
same (upcast) matrix. Then for ``method="gram"`` and ``method="svd"``::

    |σ̂_k − σ_k| ≤ c · max(m, n) · u · σ_1      (c = 4 in the tests)

for bfloat16/float16/float32 input — the best the input's own rounding allows. The Gram route
squares the condition number in float64, so on float64 input it guarantees
``|σ̂_k − σ_k| ≤ sqrt(c · max(m, n) · 2⁻⁵³) · σ_1`` (≈1e-7·σ_1 at n = 4096): use
``method="svd"`` (dgesdd's algorithm on the matrix itself), which meets the float64 contract above and
relative accuracy on well-separated small singular values.

Measured worst c over power-law spectra σ_k = k^-α (α ∈ {0.5, 1, 2}, 160…512 wide): gram route
1e-11 (bf16), 5e-10 (f16), 6e-8 (f32) — the float64 Gram is far below the input's rounding;
svd route 0.03 (f64). On a 1024 × 2752 float32 matrix with σ_k = k^-2 every value is within
1e-3 relative (numpy's float32 route eigvalsh(W @ W.T): 6 %).

Small matrices (min(m, n) ≤ 64, Gram route): no BLAS/LAPACK calls; the Gram and its Householder
tridiagonal are computed inline, and the tridiagonal eigenvalues come from LAPACK dsterf's
algorithm run on four matrices at once (cpp/src/linalg/sterf_lanes.cpp), in chunks of 32 per worker.

Threads: batches with at least two matrices per worker run one matrix per worker, largest
first: its Gram, then (64 < min(m, n) < 2048) LAPACK dsytrd on that worker, and at the end of the
batch the tridiagonals' eigenvalues four at a time by dsterf's QL in lanes (the route of
min(m, n) ≤ 64 too; 2.7× faster than dsterf per matrix at q = 1024). Smaller batches run one
matrix at a time with its Gram tiled over the workers, and its eigenvalues from min(m, n) ≥ 2048
by our own dense → band reduction on the workers (then LAPACK's band → tridiagonal and dsterf),
from 256 to 2047 by LAPACK dsyevd whose OpenBLAS parallel regions run on gsa_fast's pool, below
256 (or with one thread) by the dsytrd + lanes route above. OpenBLAS's own threads are never used: they spin-wait, and on a shared
2-core machine threaded OpenBLAS measured 1.4–12× slower (bench/results/spectra.md); gsa_fast's
workers block instead. ``threads=`` caps the workers; :func:`gsa_fast.set_num_threads` sets the default.
The GIL is released; Ctrl-C stops a call between units of work (matrices, panels, tiles, band
sweeps) within a fraction of a second and raises KeyboardInterrupt (docs/hardening.md). Memory: one q×q float64 Gram, one ≈32 MiB conversion panel and the LAPACK
workspace per worker, plus 8·(q + 1) bytes per matrix of the batch route for its pending
tridiagonal; the input is never copied (``method="svd"`` copies one matrix per worker,
as dgesdd overwrites its input).
"""
from __future__ import annotations

import numpy as np

from . import _backend
from ._ragged import RaggedSpectra
from ._results import SpectraInfo, TopK  # noqa: F401  (result types, gsa_fast.spectra.TopK)
from . import _spectra_args as _args
from ._spectra_args import MatrixBatch as _Batch, check_dims as _check_dims, index_name as _index_name
from ._spectra_args import matrix_batch as _batch
from ._status import raise_status
from ._validate import UNIT_ROUNDOFF, as_flag, as_threads, value_error

__all__ = ["gram", "svdvals"]  # TopK and SpectraInfo are result types (gsa_fast.spectra.TopK)

_DT = _backend.core.SpectraDType
_F64, _F32, _F16, _BF16_CODE = int(_DT.f64), int(_DT.f32), int(_DT.f16), int(_DT.bf16)
# _spectra_args.matrix_batch's storage kinds are the kernels' codes
assert (_F64, _F32, _F16, _BF16_CODE) == (_args.F64, _args.F32, _args.F16, _args.BF16)
# unit roundoff of each storage format (the accuracy contract's u)
_UNIT_ROUNDOFF = {_F64: UNIT_ROUNDOFF["float64"], _F32: UNIT_ROUNDOFF["float32"],
                  _F16: UNIT_ROUNDOFF["float16"], _BF16_CODE: UNIT_ROUNDOFF["bfloat16"]}
_METHODS = {"gram": int(_backend.core.SpectraMethod.gram), "svd": int(_backend.core.SpectraMethod.svd),
            "topk": -1}  # topk has its own kernel (spectra_topk)
_EIG_DRIVERS = {name: int(v) for name, v in _backend.core.EigDriver.__members__.items()}


def _raise(fn, b: _Batch, status):
    raise_status(fn, status, arg="x", element=lambda i: _index_name(b, i))


# ---- public functions ----------------------------------------------------------------------------

def gram(x, *, threads=None, dtype=None):
    """Batched Gram matrices in float64: ``AᵀA`` if ``m ≥ n`` else ``AAᵀ`` (the smaller side).

    Parameters
    ----------
    x : array ``(..., m, n)`` or list of 2-D arrays
        float64, float32, float16, ``ml_dtypes.bfloat16``, or uint16 raw bfloat16 bits with
        ``dtype="bfloat16"``. Views with unit stride along either of the last two axes (slices,
        transposes) are read in place; other layouts raise ValueError (no hidden copy).
    threads : int, optional
        Cap on worker threads (default :func:`gsa_fast.get_num_threads`).
    dtype : {None, "bfloat16"}
        Flags a uint16 array as raw bfloat16 bits.

    Returns
    -------
    float64 ``(..., q, q)`` with ``q = min(m, n)`` for an array; a list of such arrays for a list.

    Accuracy: float64 accumulation (BLAS dsyrk) of the exactly upcast entries: each entry is within
    ``max(m, n)·2⁻⁵³·‖a_i‖‖a_j‖`` of the exact Gram of the stored values.

    Raises
    ------
    TypeError for integer or complex dtypes; ValueError naming the matrix for NaN/Inf entries.
    """
    fn = "gram"
    if _backend.device_route(fn, x):  # cupy in, cupy out (cuBLAS/cuSOLVER)
        as_threads(threads, fn)  # checked as on the CPU; the device route has no thread pool
        return _backend.cuda_route(fn)(x, fn, dtype)
    t = as_threads(threads, fn)
    b = _batch(x, fn, dtype)
    _check_dims(b, fn)
    q = np.minimum(b.m, b.n)
    sizes = q * q
    offsets = np.zeros(q.size + 1, dtype=np.int64)
    np.cumsum(sizes, out=offsets[1:])
    out = np.empty(int(offsets[-1]), dtype=np.float64)
    status = _backend.core.spectra_gram(b.ptrs, b.codes, b.rows, b.cols, b.ld, b.trans, out,
                                        offsets[:-1].copy(), t)
    _raise(fn, b, status)
    if b.ragged:
        return [out[offsets[i]:offsets[i + 1]].reshape(int(q[i]), int(q[i])) for i in range(q.size)]
    return out.reshape(b.batch_shape + (b.width, b.width))


def svdvals(x, method="gram", *, k=None, oversample=10, power_iters=2, threads=None, seed=0,
            return_info=False, dtype=None, _eig_driver="auto"):
    """Singular values, descending, of every matrix in a batch.

    Parameters
    ----------
    x : array ``(..., m, n)`` or list of 2-D arrays of different shapes
        float64, float32, float16, ``ml_dtypes.bfloat16``, or uint16 raw bfloat16 bits with
        ``dtype="bfloat16"``; list entries may differ in dtype. Never copied: low-precision data is
        converted to float64 in per-worker panels. Views with unit stride along either of the last
        two axes (row/column slices, transposes) are read in place; others raise ValueError.
    method : {"gram", "svd", "topk"}
        ``"gram"`` (default): float64 Gram (dsyrk) + values-only symmetric eigensolver
        (dsytrd + dsterf's QL in four lanes, dsyevd on a threaded single matrix, our band
        reduction from min(m, n) = 2048; see the module docstring). ``"svd"``: LAPACK dgesdd's values-only stages (QR, bidiagonalization, dqds),
        called panel by panel so that Ctrl-C stops them, on a float64 copy of each matrix (for
        tiny singular values of float64 data). ``"topk"``: randomized range finder with power
        iterations (Halko–Martinsson–Tropp) for the top ``k`` values plus the exact Frobenius
        energy and an a-posteriori error bound; returns :class:`TopK`.
    k, oversample, power_iters, seed : int
        ``"topk"`` only: number of values (required), extra sketch columns, power iterations,
        seed of the Gaussian test matrix (results are deterministic for a given seed).
    threads : int, optional
        Cap on worker threads: one matrix per worker for batches, else a tiled Gram
        (OpenBLAS itself stays single-threaded; see the module docstring).
    return_info : bool
        Also return a :class:`SpectraInfo` (Frobenius energy and the contract's error bound).
    dtype : {None, "bfloat16"}
        Flags a uint16 array as raw bfloat16 bits.

    Returns
    -------
    float64 ``(..., min(m, n))`` for an array; :class:`gsa_fast.RaggedSpectra` ``(values, offsets)``
    for a list; :class:`TopK` for ``method="topk"``. Empty matrices give empty spectra.

    Accuracy
    --------
    With ``u`` the input's unit roundoff (2⁻⁸ bf16, 2⁻¹¹ f16, 2⁻²⁴ f32, 2⁻⁵³ f64) and σ the
    float64 SVD of the upcast matrix: ``|σ̂_k − σ_k| ≤ c·max(m, n)·u·σ_1`` for bf16/f16/f32 input
    with either method, and for float64 input with ``method="svd"`` (which is also relatively
    accurate for well-separated small values). For float64 input the Gram route guarantees
    ``sqrt(c·max(m, n)·2⁻⁵³)·σ_1`` (the Gram squares the condition number). ``"topk"``:
    ``0 ≤ σ_j − σ̂_j ≤ error_bound`` plus rounding of the same order as the Gram route.

    Raises
    ------
    TypeError for integer, bool or complex dtypes (uint16 needs ``dtype="bfloat16"``);
    ValueError naming the matrix (``x[3]``) for NaN/Inf, bad shapes or unsupported strides;
    RuntimeError naming the matrix if LAPACK reports ``info ≠ 0``.
    """
    fn = "svdvals"
    _args.check_method(method, fn)
    return_info = as_flag(return_info, fn, "return_info")
    if _backend.device_route(fn, x):  # cupy in, cupy out (cuBLAS/cuSOLVER)
        if return_info:
            raise value_error(fn, "return_info", "False for cupy input", "True")
        as_threads(threads, fn)  # checked as on the CPU; the device route has no thread pool
        if method != "topk":  # k must be None, as on the CPU (the route refuses topk itself)
            _args.topk_params(method, k, oversample, power_iters, seed, fn)
        return _backend.cuda_route(fn)(x, method, fn, dtype, _eig_driver)
    eig_driver = _eig_driver
    t = as_threads(threads, fn)
    k, oversample, power_iters, seed = _args.topk_params(method, k, oversample, power_iters, seed, fn)
    b = _batch(x, fn, dtype, order_free=True)
    _check_dims(b, fn)
    q = np.minimum(b.m, b.n)
    if method == "topk":
        kq = np.minimum(q, k)
        offsets = np.zeros(q.size + 1, dtype=np.int64)
        np.cumsum(kq, out=offsets[1:])
        out = np.empty(int(offsets[-1]), dtype=np.float64)
        frob = np.zeros(q.size, dtype=np.float64)
        err = np.zeros(q.size, dtype=np.float64)
        status = _backend.core.spectra_topk(b.ptrs, b.codes, b.rows, b.cols, b.ld, b.trans, k,
                                            oversample, power_iters, seed, out, offsets[:-1].copy(),
                                            frob, err, t)
        _raise(fn, b, status)
        values = _shape_values(b, out, offsets, min(b.width, k))
        return TopK(values, _shape_per_matrix(b, frob), _shape_per_matrix(b, err))
    offsets = np.zeros(q.size + 1, dtype=np.int64)
    np.cumsum(q, out=offsets[1:])
    out = np.empty(int(offsets[-1]), dtype=np.float64)
    status = _backend.core.spectra_svdvals(b.ptrs, b.codes, b.rows, b.cols, b.ld, b.trans,
                                           _METHODS[method], _EIG_DRIVERS[eig_driver], out,
                                           offsets[:-1].copy(), t)
    _raise(fn, b, status)
    values = _shape_values(b, out, offsets, b.width)
    if not return_info:
        return values
    fro = np.array([float(np.dot(out[a:z], out[a:z])) for a, z in zip(offsets[:-1], offsets[1:])])
    s1 = np.array([out[a] if z > a else 0.0 for a, z in zip(offsets[:-1], offsets[1:])])
    u = np.array([_UNIT_ROUNDOFF[int(c)] for c in b.codes])
    mx = np.maximum(b.m, b.n).astype(np.float64)
    bound = np.where((b.codes == 0) & (method == "gram"), np.sqrt(4.0 * mx * u) * s1, 4.0 * mx * u * s1)
    return values, SpectraInfo(_shape_per_matrix(b, fro), _shape_per_matrix(b, bound), method)


def _shape_values(b: _Batch, out, offsets, width):
    if b.ragged:
        return RaggedSpectra(out, offsets)
    return out.reshape(b.batch_shape + (width,))


def _shape_per_matrix(b: _Batch, a):
    return a if b.ragged else a.reshape(b.batch_shape)
