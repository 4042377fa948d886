"""GPU route of :func:`gsa_fast.gram` and :func:`gsa_fast.svdvals` for cupy arrays.

Dense factorizations come from cupy (cuBLAS GEMM, cuSOLVER ``syevd``/``gesvd``, batched where the
input is a stack); the Gram is accumulated in float64 from chunks converted on the device
(bf16/f16/f32 → f64, at most ``CHUNK_BYTES`` of float64 at a time), so device memory holds one
converted chunk and its Grams, never a float64 copy of the whole input. Same accuracy contract as
the CPU route (σ_k within c·max(m,n)·u·σ_1 of the float64 SVD for bf16/f16/f32; the Gram route
gives sqrt(c·max(m,n)·u)·σ_1 for float64, use method="svd" there).

Eigensolver of the Gram route (svdvals' private ``_eig_driver``, as on the CPU; the size classes
are :func:`gsa_fast._gpu_batch.eigvalsh_grams`'s): ``"auto"`` solves Grams of q ≤ 32 by the
checked cuSOLVER ``syevjBatched`` and larger ones by cupy's stacked ``eigvalsh`` (one matrix per
call above q = 512, the call made before grouping: cuSOLVER ``syevjBatched`` with cupy's
defaults — not ``syevd``, see docs/gpu.md);
``"syevd"`` runs cuSOLVER ``syevd`` on each matrix (the yardstick); ``"jacobi"`` the checked
``syevjBatched`` at every size; ``"band"`` is the two-stage route of :mod:`gsa_fast._two_stage` —
dense → band with float64 GEMMs on the device, then the band ((b+1)·q doubles) to the host for the
bulge chasing and dsterf, overlapped with the next matrix's reduction; ``"band_device"`` chases the
bulges on the device too (:mod:`gsa_fast._gpu_band`). "auto" switches to the two-stage route once a
device run has measured the crossover (``_two_stage.TWO_STAGE_MIN_Q``, expected near q = 2048).

A ragged list is solved in grouped stacks (:mod:`gsa_fast._gpu_batch`): one float64 Gram stack
per Gram size (split to a memory budget), one eigensolver call per stack.
"""
from __future__ import annotations

import numpy as np

from . import _backend, _gpu_batch
from ._gpu_margins import to_host
from ._ragged import RaggedSpectra
from ._spectra_args import _is_bf16_flag
from ._validate import batch_rows, type_error, value_error

CHUNK_BYTES = 512 * 2**20
_DEVICE_EIG_DRIVERS = _gpu_batch.DRIVERS  # eigensolvers of the Gram route on the device


def is_gpu_input(x) -> bool:
    if _backend.is_cupy(x):
        return True
    return isinstance(x, (list, tuple)) and len(x) > 0 and all(_backend.is_cupy(a) for a in x)


def _bits(cp, a, bf16):
    """A matrix of bfloat16 bits as the uint16 view the route computes on (a bfloat16 array —
    cupy ≥ 14 with ml_dtypes: torch's bf16 CUDA tensors through DLPack, the scan's bf16 tensors —
    or int16 bits); anything else unchanged (a view: no copy)."""
    return a.view(cp.uint16) if bf16 and a.dtype != cp.uint16 else a


def _check(cp, a, fn, arg, dtype):
    """Whether ``a`` holds bfloat16 bits, with the CPU route's rules (``_spectra_args``: the flag
    "bfloat16"/"bf16" or ml_dtypes' bfloat16 marks uint16 or int16 bits; a bfloat16 array needs
    no flag), or its error. Pass the matrix through :func:`_bits` before computing."""
    if dtype is not None and not _is_bf16_flag(dtype):
        raise value_error(fn, "dtype", "None or 'bfloat16'", repr(dtype))
    bf16 = dtype is not None or str(a.dtype) == "bfloat16"
    if bf16 and a.dtype not in (cp.uint16, cp.int16) and str(a.dtype) != "bfloat16":
        raise type_error(fn, arg, "a uint16 cupy array of raw bfloat16 bits with dtype='bfloat16'", a)
    if not bf16 and a.dtype not in (cp.float16, cp.float32, cp.float64):
        raise type_error(fn, arg, "a float16/float32/float64 cupy array (or uint16 with dtype='bfloat16')", a)
    if a.ndim < 2:
        raise value_error(fn, arg, "an array of shape (..., m, n)", f"shape {a.shape}")
    return bf16


def _finite(cp, a, bf16):
    if bf16:  # exponent bits all ones = Inf/NaN
        return ~((a & 0x7F80) == 0x7F80).reshape(a.shape[:-2] + (-1,)).any(axis=-1) if a.size else cp.ones(a.shape[:-2], bool)
    return cp.isfinite(a).reshape(a.shape[:-2] + (-1,)).all(axis=-1) if a.size else cp.ones(a.shape[:-2], bool)


_to_f64 = _gpu_batch.to_f64


def _gram_stack(cp, a, bf16):
    """float64 Grams of a (b, m, n) stack, chunked over matrices (a matrix beyond CHUNK_BYTES in
    slabs of its long side): :func:`_gpu_batch.gram_run_into` on the stack."""
    b, m, n = a.shape
    q = min(m, n)
    return _gpu_batch.gram_run_into(cp, cp.empty((b, q, q), dtype=cp.float64), a, bf16, CHUNK_BYTES)


def _values_stack(cp, a, bf16, method, eig_driver="auto", fn="svdvals"):
    b, m, n = a.shape
    q = min(m, n)
    if b == 0 or q == 0:
        return cp.zeros((b, q), dtype=cp.float64)
    if method == "svd":
        per = max(1, CHUNK_BYTES // max(8 * m * n, 1))
        return cp.concatenate([cp.linalg.svd(_to_f64(cp, a[i:i + per], bf16), compute_uv=False)
                               for i in range(0, b, per)])
    out = cp.empty((b, q), dtype=cp.float64)
    per = max(1, min(_gpu_batch.MAX_STACK_COUNT, _gpu_batch.budget_for(cp) // (8 * q * q)))
    for i in range(0, b, per):  # the stack's Grams are ours: each solver may destroy them
        part = a[i:i + per]
        w = _gpu_batch.eigvalsh_grams(cp, _gram_stack(cp, part, bf16), eig_driver,
                                      lambda k, part=part: _gram_stack(cp, part[k:k + 1], bf16)[0], fn=fn)
        out[i:i + per] = cp.sqrt(cp.clip(w[:, ::-1], 0.0, None))
    return out


def _values_list(cp, checked, method, eig_driver="auto", fn="svdvals"):
    """Descending singular values of each (matrix, is_bf16) of a validated ragged list: the Gram
    route groups the entries into one Gram stack per size (:func:`_gpu_batch.grouped_values`)."""
    if method == "gram":
        return _gpu_batch.grouped_values(cp, checked, eig_driver, fn=fn)
    return [_values_stack(cp, a[None], bf16, method, eig_driver, fn)[0] for a, bf16 in checked]


def _name(i, batch_shape):
    return "x[" + ", ".join(str(int(j)) for j in np.unravel_index(i, batch_shape)) + "]" if batch_shape else "x"


def _raise_nonfinite(cp, ok, fn, names):
    bad = to_host(~ok).reshape(-1)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise value_error(fn, names(i), "finite (no NaN or Inf)", "non-finite values")


def _checked_list(cp, x, fn, dtype):
    """(matrix, is_bf16) for each entry of a ragged list, validated (2-D, dtype, finite)."""
    out = []
    for i, a in enumerate(x):
        bf16 = _check(cp, a, fn, f"x[{i}]", dtype)
        if a.ndim != 2:
            raise value_error(fn, f"x[{i}]", "a 2-D matrix", f"shape {a.shape}")
        out.append((_bits(cp, a, bf16), bf16))
    if out:  # every entry's verdict on the device, then one read (not one round trip per entry)
        ok = cp.stack([_finite(cp, a[None], bf16)[0] for a, bf16 in out])
        _raise_nonfinite(cp, ok, fn, lambda i: f"x[{i}]")
    return out


def _checked_stack(cp, x, fn, dtype):
    """(the stacked input as (b, m, n), bf16 flag): checked as the CPU route checks it, NaN/Inf
    named by matrix index."""
    bf16 = _check(cp, x, fn, "x", dtype)
    stack = batch_rows(_bits(cp, x, bf16), 2)
    _raise_nonfinite(cp, _finite(cp, stack, bf16), fn, lambda i: _name(i, x.shape[:-2]))
    return stack, bf16


def gram(x, fn="gram", dtype=None):
    cp = _backend.namespace(*(x if isinstance(x, (list, tuple)) else [x]))
    _backend.require_cuda(fn)
    if isinstance(x, (list, tuple)):
        return [_gram_stack(cp, a[None], bf16)[0] for a, bf16 in _checked_list(cp, x, fn, dtype)]
    stack, bf16 = _checked_stack(cp, x, fn, dtype)
    return _gram_stack(cp, stack, bf16).reshape(x.shape[:-2] + (min(x.shape[-2:]),) * 2)


def svdvals(x, method="gram", fn="svdvals", dtype=None, eig_driver="auto"):
    cp = _backend.namespace(*(x if isinstance(x, (list, tuple)) else [x]))
    _backend.require_cuda(fn)
    if method not in ("gram", "svd"):
        raise value_error(fn, "method", "'gram' or 'svd' for cupy input (topk runs on the CPU)", repr(method))
    if eig_driver not in _DEVICE_EIG_DRIVERS:
        raise value_error(fn, "_eig_driver", "one of " + ", ".join(map(repr, _DEVICE_EIG_DRIVERS)) + " for cupy input",
                          repr(eig_driver))
    if isinstance(x, (list, tuple)):
        parts = _values_list(cp, _checked_list(cp, x, fn, dtype), method, eig_driver, fn)
        offsets = np.zeros(len(parts) + 1, dtype=np.int64)
        offsets[1:] = np.cumsum([p.size for p in parts])
        values = cp.concatenate(parts) if parts else cp.zeros(0)
        return RaggedSpectra(values, offsets)
    stack, bf16 = _checked_stack(cp, x, fn, dtype)
    return _values_stack(cp, stack, bf16, method, eig_driver, fn).reshape(x.shape[:-2] + (min(x.shape[-2:]),))
