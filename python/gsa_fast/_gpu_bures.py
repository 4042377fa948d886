"""GPU route of the Bures–Wasserstein distances (cupy in, cupy out). Kernels: cuda/bures.cu.

:mod:`gsa_fast.bures` validates the arguments (kinds, shapes, broadcasting: the CPU route's
checks and messages) and hands the cupy operands here; each route returns ``(out, status)`` and
``bures`` raises the one Status in its own wording, as for the CPU kernels.

* general (routes (a)): ``bures_load`` converts each operand's *own* matrices (not the broadcast
  pairs) to float64 once, with the CPU kernel's checks, exact power-of-two scaling and
  symmetrization; cupy's ``eigh`` (cuSOLVER); ``bures_sqrt_eig`` checks λ_min, clips and takes
  √λ; the columns of V are scaled by √λ; one broadcast ``matmul`` (cuBLAS) gives
  M = (V_P√Λ_P)ᵀ(V_Q√Λ_Q) for every pair and cupy's ``svd`` its singular values; ``bures_pairs``
  sums them (small to large) and combines traces and F with math/bures.hpp.
* factors (route (b)): the same load (squared norms instead of traces), factors with more rows
  than columns reduced to their n×n triangular factor by cupy's ``qr`` (mode 'r'), then
  C = B Aᵀ, ``svd`` and ``bures_pairs``.
* vectors (routes (c)/(d)): ``bures_diag``, one block per pair reading both vectors in place;
  for route (d) an unsorted vector (neither descending nor ascending) makes the caller sort a
  temporary copy of the operands and relaunch.

Status: one int64 on the device, the lowest ``8·pair + BuresStatus`` over failed pairs (pairs
are checked operand by operand as on the CPU, so the error names the same pair and operand);
read once per call.
"""
from __future__ import annotations

import numpy as np

from . import _backend
from . import _status as _st
from ._validate import batch_rows

_NONE = np.iinfo(np.int64).max


def _status(key: int):
    """The Status tuple (code, index, position, info) of a device status word: the CPU kernel's
    pair_status (cpp/src/bures.cpp) with pair = key // 8 and BuresStatus = key % 8."""
    if key == _NONE:
        return (_st.OK, 0, -1, 0)
    pair, c = divmod(key, 8)
    if c == 7:
        return (_st.LAPACK, pair, -1, 0)
    which = 0 if c <= 3 else 1
    kind = c - 3 * which
    code = {1: _st.NONFINITE, 2: _st.ASYMMETRIC, 3: _st.NEGATIVE}[kind]
    return (code, pair, which, 0)


def _offsets(cp, shape, strides):
    """Byte offset of every element of a (batch) shape with the given byte strides, flat (C order)."""
    off = cp.zeros((1,) * len(shape), dtype=cp.int64)
    for k, (s, st) in enumerate(zip(shape, strides)):
        if s > 1 and st:
            dims = [1] * len(shape)
            dims[k] = s
            off = off + cp.arange(s, dtype=cp.int64).reshape(dims) * st
    return cp.ascontiguousarray(cp.broadcast_to(off, shape)).reshape(-1)


def _pair_index(cp, own, batch):
    """For every pair of the broadcast batch (C order), the flat index of the operand's own matrix."""
    idx = cp.arange(int(np.prod(own, dtype=np.int64)), dtype=cp.int64).reshape(own)
    return cp.ascontiguousarray(cp.broadcast_to(idx, batch)).reshape(-1)


def _load(cp, cuda, X, symmetric, sym_rtol, stream):
    """Each own matrix of X as float64 (checked, scaled; (m, rows, cols)), with its trace or
    squared norm, the exponent that carries, and its code (cuda/bures.cuh bures_load)."""
    own, (rows, cols) = X.shape[:-2], X.shape[-2:]
    m = int(np.prod(own, dtype=np.int64))
    W = cp.empty((m, rows, cols), dtype=cp.float64)
    total = cp.empty(m, dtype=cp.float64)
    exp = cp.empty(m, dtype=cp.int32)
    code = cp.empty(m, dtype=cp.int32)
    offs = _offsets(cp, own, X.strides[:-2])
    cuda.bures_load(X.data.ptr, X.dtype == cp.float32, offs.data.ptr, m, rows, cols,
                    X.strides[-2], X.strides[-1], symmetric, float(sym_rtol), W.data.ptr,
                    total.data.ptr, exp.data.ptr, code.data.ptr, stream)
    return W, total, exp, code


def _root(cp, cuda, X, sym_rtol, psd_rtol, stream):
    """(V√Λ with X's own batch shape, trace, exponent, code): the operand's PSD square-root factor."""
    W, tr, exp, code = _load(cp, cuda, X, True, sym_rtol, stream)
    w, V = cp.linalg.eigh(W)
    w = cp.ascontiguousarray(w, dtype=cp.float64)
    cuda.bures_sqrt_eig(w.data.ptr, w.shape[0], w.shape[1], float(psd_rtol), code.data.ptr, stream)
    V = V * w[:, None, :]
    return V.reshape(X.shape), tr, exp, code


def _pairs(cp, cuda, fn, batch, ops, parts, sv, dist, fid, stream):
    """bures_pairs over the broadcast batch; returns the Status tuple (one device read)."""
    npairs = int(np.prod(batch, dtype=np.int64))
    (Xp, trp, ep, cp_), (Xq, trq, eq, cq) = parts
    pidx = _pair_index(cp, ops[0].shape[:-2], batch)
    qidx = _pair_index(cp, ops[1].shape[:-2], batch)
    status = cp.full(1, _NONE, dtype=cp.int64)
    k = 0 if sv is None else sv.shape[-1]
    ptr = (lambda a: 0 if a is None else a.data.ptr)
    cuda.bures_pairs(pidx.data.ptr, qidx.data.ptr, npairs, cp_.data.ptr, cq.data.ptr, trp.data.ptr,
                     ep.data.ptr, trq.data.ptr, eq.data.ptr, ptr(sv), k, ptr(dist), ptr(fid),
                     status.data.ptr, stream)
    return _status(int(cp.asnumpy(status)[0]))


def general(fn, P, Q, batch, sym, psd, want):
    """Routes (a): bures_distance (want "dist") or bures_fidelity ("fid")."""
    cp = _backend.namespace(P, Q)
    cuda = _backend.require_cuda(fn)
    out = cp.empty(batch, dtype=cp.float64)
    n = P.shape[-1]
    if out.size == 0:
        return out, (_st.OK, 0, -1, 0)
    if n == 0:
        out.fill(0.0)
        return out, (_st.OK, 0, -1, 0)
    stream = cp.cuda.get_current_stream().ptr
    rp = _root(cp, cuda, P, sym[0], psd[0], stream)
    rq = _root(cp, cuda, Q, sym[1], psd[1], stream)
    M = cp.matmul(cp.swapaxes(rp[0], -1, -2), rq[0])  # batch + (n, n), broadcast by cuBLAS
    sv = _svdvals(cp, M)
    dist, fid = (out, None) if want == "dist" else (None, out)
    return out, _pairs(cp, cuda, fn, batch, (P, Q), (rp, rq), sv, dist, fid, stream)


def _svdvals(cp, M):
    """Singular values of every matrix of a (..., r, c) stack as a contiguous float64 (pairs, k)."""
    M = batch_rows(M, 2)  # cuSOLVER's batched SVD on one 3-D stack
    return cp.ascontiguousarray(cp.linalg.svd(M, compute_uv=False), dtype=cp.float64)


def _triangular(cp, W, n):
    """A factor stack (m, r, n) with r > n replaced by its n×n triangular factor R (AᵀA = RᵀR):
    cupy's batched QR, or one QR per matrix where the installed cupy takes 2-D input only."""
    if W.shape[1] <= n:
        return W
    try:
        return cp.linalg.qr(W, mode="r")
    except (ValueError, np.linalg.LinAlgError):  # cupy < 13: "Array must be two-dimensional"
        return cp.stack([cp.linalg.qr(w, mode="r") for w in W])


def factors(fn, A, B, batch):
    """Route (b): bures_distance_factors."""
    cp = _backend.namespace(A, B)
    cuda = _backend.require_cuda(fn)
    out = cp.empty(batch, dtype=cp.float64)
    if out.size == 0:
        return out, (_st.OK, 0, -1, 0)
    stream = cp.cuda.get_current_stream().ptr
    WA, ssa, ea, ca = _load(cp, cuda, A, False, 0.0, stream)
    WB, ssb, eb, cb = _load(cp, cuda, B, False, 0.0, stream)
    n, a, b = A.shape[-1], A.shape[-2], B.shape[-2]
    sv = None
    if n and a and b:
        RA = _triangular(cp, WA, n)
        RB = _triangular(cp, WB, n)
        RA = RA.reshape(A.shape[:-2] + RA.shape[1:])
        RB = RB.reshape(B.shape[:-2] + RB.shape[1:])
        sv = _svdvals(cp, cp.matmul(RB, cp.swapaxes(RA, -1, -2)))  # of B Aᵀ for every pair
    return out, _pairs(cp, cuda, fn, batch, (A, B), ((WA, ssa, ea, ca), (WB, ssb, eb, cb)), sv,
                       out, None, stream)


def vectors(fn, a, b, batch, sort, neg):
    """Routes (c) (sort False) and (d) (sort True): bures_distance_diag / _cartan."""
    cp = _backend.namespace(a, b)
    cuda = _backend.require_cuda(fn)
    out = cp.empty(batch, dtype=cp.float64)
    npairs, n = out.size, a.shape[-1]
    if npairs == 0:
        return out, (_st.OK, 0, -1, 0)
    stream = cp.cuda.get_current_stream().ptr
    status = cp.asarray(np.array([_NONE, 0], dtype=np.int64))

    def run(x, y):
        xb = cp.broadcast_to(x, batch + (n,))
        yb = cp.broadcast_to(y, batch + (n,))
        xo = _offsets(cp, batch, xb.strides[:-1])
        yo = _offsets(cp, batch, yb.strides[:-1])
        cuda.bures_diag(x.data.ptr, x.dtype == cp.float32, xo.data.ptr, xb.strides[-1],
                        y.data.ptr, y.dtype == cp.float32, yo.data.ptr, yb.strides[-1], npairs, n,
                        sort, float(neg[0]), float(neg[1]), out.data.ptr, status.data.ptr, stream)
        return (int(v) for v in cp.asnumpy(status))

    key, unsorted = run(a, b)
    if key == _NONE and unsorted:  # sort temporary copies (ascending: the kernel reads backwards)
        key, unsorted = run(cp.sort(a, axis=-1), cp.sort(b, axis=-1))
    return out, _status(key)
