"""Argument checks and error wording of the Bures distances (gsa_fast.bures), shared by the fast
routes (CPU and CUDA) and their reference twins (gsa_fast.reference.bures). Imports only
_validate: the reference may import this module (tests/test_imports.py).

The kernels check each pair's operands while they compute (finite, then symmetric, then
positive semidefinite; the first operand before the second; the lowest failing pair wins) and
report a Status; :func:`pair_error` words it, for the Status channel and for the twins alike."""
from __future__ import annotations

import numpy as np

from ._validate import host_array, type_error, value_error

SYM_RTOL = {np.dtype(np.float64): 1e-10, np.dtype(np.float32): 1e-5}
PSD_RTOL = {np.dtype(np.float64): 1e-8, np.dtype(np.float32): 1e-5}

# what a pair's check found (the kernels' Status codes, by name)
NONFINITE, ASYMMETRIC, NEGATIVE, LAPACK = "nonfinite", "asymmetric", "negative", "lapack"


def as_stack(x, fn: str, arg: str, min_ndim: int, gpu: bool = False):
    """A float32/float64 numpy array (a view of x when x is one) with ndim >= min_ndim; on the
    GPU route (``gpu``: the operands are cupy arrays) the same checks on x itself."""
    expected = "a float32 or float64 array"
    a = x if gpu else host_array(x, fn, arg, expected)
    if a.dtype.kind in "iu" and not gpu and not isinstance(x, np.ndarray):  # small literals such as [[2, 1], [1, 2]]
        a = a.astype(np.float64)
    if a.dtype not in (np.float32, np.float64):
        raise type_error(fn, arg, expected, a)
    if a.ndim < min_ndim:
        what = "a matrix or stack of matrices (..., n, n)" if min_ndim == 2 else "a vector or stack of vectors (..., n)"
        raise value_error(fn, arg, f"{what} with at least {min_ndim} dimensions", f"shape {a.shape}")
    return a


def batch_shape(fn: str, names, x, y, trailing: int):
    try:
        return np.broadcast_shapes(x.shape[: x.ndim - trailing], y.shape[: y.ndim - trailing])
    except ValueError:
        raise value_error(fn, f"{names[0]} and {names[1]}", "broadcastable in their leading (batch) dimensions",
                          f"shapes {x.shape} and {y.shape}") from None


def general_args(fn: str, P, Q, gpu: bool = False):
    """Route (a): (P, Q, n, batch, sym, psd) with the per-operand symmetry and PSD tolerances."""
    P = as_stack(P, fn, "P", 2, gpu)
    Q = as_stack(Q, fn, "Q", 2, gpu)
    for name, X in (("P", P), ("Q", Q)):
        if X.shape[-1] != X.shape[-2]:
            raise value_error(fn, name, "square in its last two dimensions (..., n, n)", f"shape {X.shape}")
    if P.shape[-1] != Q.shape[-1]:
        raise value_error(fn, "P and Q", "matrices of the same size n", f"shapes {P.shape} and {Q.shape}")
    n = P.shape[-1]
    batch = batch_shape(fn, ("P", "Q"), P, Q, 2)
    sym = (SYM_RTOL[P.dtype], SYM_RTOL[Q.dtype])
    psd = (PSD_RTOL[P.dtype] * max(n, 1), PSD_RTOL[Q.dtype] * max(n, 1))
    return P, Q, n, batch, sym, psd


def factors_args(fn: str, A, B, gpu: bool = False):
    """Route (b): (A, B, batch)."""
    A = as_stack(A, fn, "A", 2, gpu)
    B = as_stack(B, fn, "B", 2, gpu)
    if A.shape[-1] != B.shape[-1]:
        raise value_error(fn, "A and B", "factors with the same column count n (P = AᵀA, Q = BᵀB)",
                          f"shapes {A.shape} and {B.shape}")
    return A, B, batch_shape(fn, ("A", "B"), A, B, 2)


def vectors_args(fn: str, a, b, sort: bool, gpu: bool = False):
    """Routes (c)/(d): (a, b, names, n, batch, neg) with the per-operand negativity tolerances."""
    names = ("a", "b") if not sort else ("lam_p", "lam_q")
    a = as_stack(a, fn, names[0], 1, gpu)
    b = as_stack(b, fn, names[1], 1, gpu)
    if a.shape[-1] != b.shape[-1]:
        raise value_error(fn, f"{names[0]} and {names[1]}", "vectors of the same length n",
                          f"shapes {a.shape} and {b.shape}")
    n = a.shape[-1]
    batch = batch_shape(fn, names, a, b, 1)
    neg = (PSD_RTOL[a.dtype] * max(n, 1), PSD_RTOL[b.dtype] * max(n, 1))
    return a, b, names, n, batch, neg


def _where(batch, own_ndim_batch, own_batch_shape, flat: int) -> str:
    if not batch:
        return ""
    idx = np.unravel_index(flat, batch)
    own = idx[len(idx) - own_ndim_batch:] if own_ndim_batch else ()
    own = tuple(int(i) if s != 1 else 0 for i, s in zip(own, own_batch_shape))
    return f" at batch index {own}" if own else ""


def pair_error(fn: str, found: str, i: int, which: int, batch, names, ops, trailing: int, sym, psd):
    """The error for what the check of pair ``i`` (flat index into ``batch``) found in operand
    ``which`` (0: names[0], 1: names[1]); the message names the operand's own batch index."""
    if found == LAPACK:
        return np.linalg.LinAlgError(f"{fn}(): LAPACK did not converge{_where(batch, len(batch), batch, i)}")
    name, op = names[which], ops[which]
    own_batch = op.shape[: op.ndim - trailing]
    where = _where(batch, len(own_batch), own_batch, i)
    if found == NONFINITE:
        return value_error(fn, name, "finite (no NaN or Inf)", f"non-finite values{where}")
    if found == ASYMMETRIC:
        return value_error(fn, name, f"symmetric (max|{name} − {name}ᵀ| <= {sym[which]:g}·max|{name}|)",
                           f"an asymmetric matrix{where}")
    if trailing == 2:
        return value_error(fn, name, f"positive semidefinite (λ_min >= −{psd[which]:g}·max|λ|)",
                           f"a clearly negative eigenvalue{where}")
    return value_error(fn, name, f"nonnegative (entries >= −{psd[which]:g}·max|entry|)",
                       f"a clearly negative entry{where}")
