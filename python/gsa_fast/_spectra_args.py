"""Argument checks of :func:`gsa_fast.gram` and :func:`gsa_fast.svdvals`, shared by the fast
route (gsa_fast.spectra, which hands the descriptors to the kernel) and its reference twin
(gsa_fast.reference.spectra, which reads the same validated views with numpy). Imports only
_validate: the reference may import this module (tests/test_imports.py)."""
from __future__ import annotations

from typing import NamedTuple

import numpy as np

from ._validate import MAX_LAPACK_INT, MAX_SEED, as_int, host_array, nonfinite_error, type_error, value_error

try:  # optional: numpy has no bfloat16 type of its own
    import ml_dtypes as _ml_dtypes

    BF16_DTYPE = np.dtype(_ml_dtypes.bfloat16)
except Exception:  # pragma: no cover - depends on the environment
    BF16_DTYPE = None


STORAGE = ("float64", "float32", "float16", "bfloat16")  # storage kinds, the kernels' SpectraDType order
F64, F32, F16, BF16 = range(4)
METHODS = ("gram", "svd", "topk")


def check_method(method, fn: str) -> str:
    if not isinstance(method, str) or method not in METHODS:
        raise value_error(fn, "method", "one of 'gram', 'svd', 'topk'", repr(method))
    return method


def topk_params(method: str, k, oversample, power_iters, seed, fn: str):
    """(k, oversample, power_iters, seed) checked for ``method="topk"``; ``k`` must be None
    otherwise (the other three are then ignored)."""
    if method == "topk":
        if k is None:
            raise value_error(fn, "k", "an int >= 1 for method='topk'", "None")
        k = as_int(k, fn, "k", minimum=1, maximum=MAX_LAPACK_INT)
        oversample = as_int(oversample, fn, "oversample", minimum=0, maximum=MAX_LAPACK_INT)
        power_iters = as_int(power_iters, fn, "power_iters", minimum=0, maximum=MAX_LAPACK_INT)
        seed = as_int(seed, fn, "seed", minimum=0, maximum=MAX_SEED)
    elif k is not None:
        raise value_error(fn, "k", "None unless method='topk'", repr(k))
    return k, oversample, power_iters, seed


def _is_bf16_flag(dtype) -> bool:
    if isinstance(dtype, str):
        return dtype.lower() in ("bfloat16", "bf16")
    try:
        return BF16_DTYPE is not None and np.dtype(dtype) == BF16_DTYPE
    except TypeError:
        return False


def storage_kind(a, fn, arg, dtype):
    """Storage kind of a matrix (an index into STORAGE: 0 f64, 1 f32, 2 f16, 3 bf16) and the array
    the kernel reads."""
    dt = a.dtype
    expected = "a real floating array (float16/32/64 or bfloat16)"
    if dtype is not None:
        if dt in (np.dtype(np.uint16), np.dtype(np.int16)):
            return BF16, a
        if BF16_DTYPE is not None and dt == BF16_DTYPE:
            return BF16, a.view(np.uint16)
        raise type_error(fn, arg, "a uint16 array of raw bfloat16 bits when dtype='bfloat16'", a)
    if BF16_DTYPE is not None and dt == BF16_DTYPE:
        return BF16, a.view(np.uint16)
    codes = {np.dtype(np.float64): F64, np.dtype(np.float32): F32, np.dtype(np.float16): F16}
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


class MatrixBatch(NamedTuple):
    ptrs: np.ndarray
    codes: np.ndarray  # storage kinds (indices into STORAGE); the kernels' codes are the same
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


def matrix_batch(x, fn, dtype, order_free=False) -> MatrixBatch:
    """Descriptors of every matrix in x without copying (nested Python lists are converted)."""
    if dtype is not None and not _is_bf16_flag(dtype):
        raise value_error(fn, "dtype", "None or 'bfloat16'", repr(dtype))
    ragged = isinstance(x, (list, tuple)) and all(
        isinstance(a, np.ndarray) or (hasattr(a, "shape") and not isinstance(a, np.generic)) for a in x)
    if ragged:
        mats = [_as_matrix_array(a, fn, f"x[{i}]") for i, a in enumerate(x)]
        for i, a in enumerate(mats):
            if a.ndim != 2:
                storage_kind(a, fn, f"x[{i}]", dtype)
                raise value_error(fn, f"x[{i}]", "a 2-D matrix", f"shape {a.shape}")
        batch_shape = (len(mats),)
    else:
        a = _as_matrix_array(x, fn, "x")
        if a.ndim < 2:
            storage_kind(a, fn, "x", dtype)
            raise value_error(fn, "x", "an array of shape (..., m, n) or a list of 2-D arrays",
                              f"shape {a.shape}")
        batch_shape = a.shape[:-2]
    if ragged:
        codes, ptrs, rows, cols, ld, trans, ms, ns, keep = [], [], [], [], [], [], [], [], []
        for i, a in enumerate(mats):
            code, v = storage_kind(a, fn, f"x[{i}]", dtype)
            v = _readable(v, order_free)
            r, c, l, t = _layout(v.shape, v.strides, v.itemsize, fn, f"x[{i}]")
            codes.append(code); rows.append(r); cols.append(c); ld.append(l); trans.append(t)
            ptrs.append(v.__array_interface__["data"][0])
            ms.append(v.shape[0]); ns.append(v.shape[1]); keep.append(v)
        as64 = lambda z: np.asarray(z, dtype=np.int64).reshape(-1)  # noqa: E731
        return MatrixBatch(as64(ptrs), as64(codes), as64(rows), as64(cols), as64(ld), as64(trans),
                      as64(ms), as64(ns), batch_shape, True, keep, 0)
    code, v = storage_kind(a, fn, "x", dtype)
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
    return MatrixBatch(ptrs.astype(np.int64), full(code), full(r), full(c), full(l), full(t), full(m), full(n),
                  batch_shape, False, [v], min(m, n))


def check_dims(b: MatrixBatch, fn):
    """Matrix sides and leading dimensions go to LAPACK as 32-bit integers."""
    for name, a in (("rows", b.m), ("columns", b.n), ("row stride", b.ld)):
        if a.size and int(a.max()) > MAX_LAPACK_INT:
            i = int(np.argmax(a))
            arg = "x" if not b.ragged and b.batch_shape == () else index_name(b, i)
            raise value_error(fn, arg, f"a matrix with {name} <= 2**31 - 1 (LAPACK's "
                              "32-bit integers)", f"{int(a[i])}")


def index_name(b: MatrixBatch, i: int) -> str:
    if b.ragged or len(b.batch_shape) <= 1:
        return f"x[{i}]"
    return "x[" + ", ".join(str(int(j)) for j in np.unravel_index(i, b.batch_shape)) + "]"


def nonfinite(fn, b: MatrixBatch, i: int) -> ValueError:
    """The error for NaN/Inf in matrix ``i`` (the kernels' NONFINITE status)."""
    return nonfinite_error(fn, index_name(b, i))


def matrices(b: MatrixBatch) -> list:
    """The validated matrices of a batch as float64 arrays (raw bfloat16 bits decoded), one per
    batch element in flat order: what the reference twins compute on."""
    if b.ragged:
        views = b.keep
    else:
        v = b.keep[0]
        views = list(v.reshape((-1,) + v.shape[-2:])) if v.size else [
            np.zeros(v.shape[-2:])] * int(np.prod(b.batch_shape, dtype=np.int64))
    out = []
    for kind, v in zip(b.codes, views):
        if kind == BF16:
            v = (np.asarray(v).view(np.uint16).astype(np.uint32) << 16).view(np.float32)
        out.append(np.asarray(v, dtype=np.float64))
    return out
