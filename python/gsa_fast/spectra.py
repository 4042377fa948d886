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

from typing import NamedTuple

import numpy as np

from . import _backend
from ._ragged import RaggedSpectra
from ._results import SpectraInfo, TopK  # noqa: F401  (result types, gsa_fast.spectra.TopK)
from ._status import raise_status
from ._validate import (MAX_LAPACK_INT, MAX_SEED, UNIT_ROUNDOFF, as_int, as_threads, host_array, type_error,
                        value_error)

__all__ = ["gram", "svdvals"]  # TopK and SpectraInfo are result types (gsa_fast.spectra.TopK)

try:  # optional: numpy has no bfloat16 type of its own
    import ml_dtypes as _ml_dtypes

    _BF16 = np.dtype(_ml_dtypes.bfloat16)
except Exception:  # pragma: no cover - depends on the environment
    _BF16 = None

_DT = _backend.core.SpectraDType
_F64, _F32, _F16, _BF16_CODE = int(_DT.f64), int(_DT.f32), int(_DT.f16), int(_DT.bf16)
# unit roundoff of each storage format (the accuracy contract's u)
_UNIT_ROUNDOFF = {_F64: UNIT_ROUNDOFF["float64"], _F32: UNIT_ROUNDOFF["float32"],
                  _F16: UNIT_ROUNDOFF["float16"], _BF16_CODE: UNIT_ROUNDOFF["bfloat16"]}
_METHODS = {"gram": int(_backend.core.SpectraMethod.gram), "svd": int(_backend.core.SpectraMethod.svd),
            "topk": -1}  # topk has its own kernel (spectra_topk)
_EIG_DRIVERS = {name: int(v) for name, v in _backend.core.EigDriver.__members__.items()}


# ---- input normalization ----------------------------------------------------------------------

def _is_bf16_flag(dtype) -> bool:
    if isinstance(dtype, str):
        return dtype.lower() in ("bfloat16", "bf16")
    try:
        return _BF16 is not None and np.dtype(dtype) == _BF16
    except TypeError:
        return False


def _dtype_code(a, fn, arg, dtype):
    """Storage code of a matrix (0 f64, 1 f32, 2 f16, 3 bf16) and the array the kernel reads."""
    dt = a.dtype
    expected = "a real floating array (float16/32/64 or bfloat16)"
    if dtype is not None:
        if dt in (np.dtype(np.uint16), np.dtype(np.int16)):
            return _BF16_CODE, a
        if _BF16 is not None and dt == _BF16:
            return _BF16_CODE, a.view(np.uint16)
        raise type_error(fn, arg, "a uint16 array of raw bfloat16 bits when dtype='bfloat16'", a)
    if _BF16 is not None and dt == _BF16:
        return _BF16_CODE, a.view(np.uint16)
    codes = {np.dtype(np.float64): _F64, np.dtype(np.float32): _F32, np.dtype(np.float16): _F16}
    if dt in codes:
        return codes[dt], a
    if dt == np.uint16:
        expected += " (pass dtype='bfloat16' for raw bfloat16 bits)"
    raise type_error(fn, arg, expected, a)


def _layout(shape, strides, itemsize, fn, arg):
    """(rows, cols, ld, trans) of the kernel's row-major view of one matrix, or ValueError."""
    m, n = shape
    rs, cs = strides
    if m == 0 or n == 0:
        return n, m, max(m, 1), 1  # nothing is read
    if rs % itemsize or cs % itemsize:
        raise value_error(fn, arg, "strides that are multiples of the item size", f"strides {tuple(strides)}")
    rs //= itemsize
    cs //= itemsize
    if (n == 1 or cs == 1) and (m == 1 or rs >= n):
        return m, n, (rs if m > 1 else n), 0
    if (m == 1 or rs == 1) and (n == 1 or cs >= m):
        return n, m, (cs if n > 1 else m), 1
    raise value_error(
        fn, arg, "unit stride along one of its last two axes with non-negative strides "
        "(use np.ascontiguousarray)", f"strides {tuple(strides)} for shape {tuple(shape)}")


class _Batch(NamedTuple):
    ptrs: np.ndarray
    codes: np.ndarray
    rows: np.ndarray
    cols: np.ndarray
    ld: np.ndarray
    trans: np.ndarray
    m: np.ndarray  # user's shapes
    n: np.ndarray
    batch_shape: tuple
    ragged: bool
    keep: list  # arrays whose memory the pointers refer to
    width: int  # min(m, n) of a stacked batch


def _as_matrix_array(x, fn, arg):
    if isinstance(x, (int, float, complex)):
        raise type_error(fn, arg, "an array of shape (..., m, n) or a list of 2-D arrays", x)
    return host_array(x, fn, arg, "an array of shape (..., m, n) or a list of 2-D arrays")


def _readable(v, order_free: bool):
    """v itself when the kernel can read its matrices in place (unit stride along one of the last
    two axes, non-negative strides there); for singular values (``order_free``) a reversed row or
    column axis is read through a view with that axis flipped back (a permutation leaves σ
    unchanged). Otherwise one C-contiguous copy in v's own dtype (never a float64 copy)."""
    if v.size == 0 or v.ndim < 2:
        return v
    if order_free:
        if v.strides[-2] < 0:
            v = v[..., ::-1, :]
        if v.strides[-1] < 0:
            v = v[..., ::-1]
    rs, cs = v.strides[-2:]
    m, n = v.shape[-2:]
    item = v.itemsize
    ok = rs % item == 0 and cs % item == 0 and rs >= 0 and cs >= 0 and (
        ((n == 1 or cs == item) and (m == 1 or rs >= n * item))
        or ((m == 1 or rs == item) and (n == 1 or cs >= m * item)))
    return v if ok else np.ascontiguousarray(v)


def _batch(x, fn, dtype, order_free=False) -> _Batch:
    """Descriptors of every matrix in x without copying (nested Python lists are converted)."""
    if dtype is not None and not _is_bf16_flag(dtype):
        raise value_error(fn, "dtype", "None or 'bfloat16'", repr(dtype))
    ragged = isinstance(x, (list, tuple)) and all(
        isinstance(a, np.ndarray) or (hasattr(a, "shape") and not isinstance(a, np.generic)) for a in x)
    if ragged:
        mats = [_as_matrix_array(a, fn, f"x[{i}]") for i, a in enumerate(x)]
        for i, a in enumerate(mats):
            if a.ndim != 2:
                _dtype_code(a, fn, f"x[{i}]", dtype)
                raise value_error(fn, f"x[{i}]", "a 2-D matrix", f"shape {a.shape}")
        batch_shape = (len(mats),)
    else:
        a = _as_matrix_array(x, fn, "x")
        if a.ndim < 2:
            _dtype_code(a, fn, "x", dtype)
            raise value_error(fn, "x", "an array of shape (..., m, n) or a list of 2-D arrays",
                              f"shape {a.shape}")
        batch_shape = a.shape[:-2]
    if ragged:
        codes, ptrs, rows, cols, ld, trans, ms, ns, keep = [], [], [], [], [], [], [], [], []
        for i, a in enumerate(mats):
            code, v = _dtype_code(a, fn, f"x[{i}]", dtype)
            v = _readable(v, order_free)
            r, c, l, t = _layout(v.shape, v.strides, v.itemsize, fn, f"x[{i}]")
            codes.append(code); rows.append(r); cols.append(c); ld.append(l); trans.append(t)
            ptrs.append(v.__array_interface__["data"][0])
            ms.append(v.shape[0]); ns.append(v.shape[1]); keep.append(v)
        as64 = lambda z: np.asarray(z, dtype=np.int64).reshape(-1)  # noqa: E731
        return _Batch(as64(ptrs), as64(codes), as64(rows), as64(cols), as64(ld), as64(trans),
                      as64(ms), as64(ns), batch_shape, True, keep, 0)
    code, v = _dtype_code(a, fn, "x", dtype)
    v = _readable(v, order_free)
    m, n = v.shape[-2:]
    nb = int(np.prod(batch_shape, dtype=np.int64))
    if nb == 0:  # nothing is read
        r, c, l, t = m, n, max(n, 1), 0
    else:
        r, c, l, t = _layout((m, n), v.strides[-2:], v.itemsize, fn, "x")
    base = v.__array_interface__["data"][0]
    if batch_shape and nb:
        idx = np.indices(batch_shape, dtype=np.int64).reshape(len(batch_shape), -1)
        st = np.array(v.strides[:-2], dtype=np.int64)
        ptrs = base + (idx * st[:, None]).sum(axis=0)
    else:
        ptrs = np.full(nb, base, dtype=np.int64)
    full = lambda val: np.full(nb, val, dtype=np.int64)  # noqa: E731
    return _Batch(ptrs.astype(np.int64), full(code), full(r), full(c), full(l), full(t), full(m), full(n),
                  batch_shape, False, [v], min(m, n))


def _check_dims(b: "_Batch", fn):
    """Matrix sides and leading dimensions go to LAPACK as 32-bit integers."""
    for name, a in (("rows", b.m), ("columns", b.n), ("row stride", b.ld)):
        if a.size and int(a.max()) > MAX_LAPACK_INT:
            i = int(np.argmax(a))
            arg = "x" if not b.ragged and b.batch_shape == () else _index_name(b, i)
            raise value_error(fn, arg, f"a matrix with {name} <= 2**31 - 1 (LAPACK's "
                              "32-bit integers)", f"{int(a[i])}")


def _index_name(b: _Batch, i: int) -> str:
    if b.ragged or len(b.batch_shape) <= 1:
        return f"x[{i}]"
    return "x[" + ", ".join(str(int(j)) for j in np.unravel_index(i, b.batch_shape)) + "]"


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
    if not isinstance(method, str) or method not in _METHODS:
        raise value_error(fn, "method", "one of 'gram', 'svd', 'topk'", repr(method))
    if _backend.device_route(fn, x):  # cupy in, cupy out (cuBLAS/cuSOLVER)
        if return_info:
            raise value_error(fn, "return_info", "False for cupy input", "True")
        return _backend.cuda_route(fn)(x, method, fn, dtype, _eig_driver)
    eig_driver = _eig_driver
    t = as_threads(threads, fn)
    if method == "topk":
        if k is None:
            raise value_error(fn, "k", "an int >= 1 for method='topk'", "None")
        k = as_int(k, fn, "k", minimum=1, maximum=MAX_LAPACK_INT)
        oversample = as_int(oversample, fn, "oversample", minimum=0, maximum=MAX_LAPACK_INT)
        power_iters = as_int(power_iters, fn, "power_iters", minimum=0, maximum=MAX_LAPACK_INT)
        seed = as_int(seed, fn, "seed", minimum=0, maximum=MAX_SEED)
    elif k is not None:
        raise value_error(fn, "k", "None unless method='topk'", repr(k))
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
