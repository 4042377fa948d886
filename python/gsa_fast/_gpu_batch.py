"""Grouped Gram stacks for the device Gram route (issue 12 §2: a model's repeated shapes in one call).

A model repeats a handful of shapes many times (a Llama-shaped model: 6 shapes × 80 blocks). The
device route of :func:`gsa_fast.svdvals` on a ragged list therefore plans, before any work:

1. :func:`plan` (pure Python, no arrays): the entries are grouped by the size ``q = min(m, n)`` of
   their Gram, in the order each size first appears; a group whose float64 stack
   ``count·q²·8`` bytes would exceed the budget (``STACK_BYTES``) is split into several stacks of
   at most ``budget // (8q²)`` entries (at least one: a single Gram larger than the budget gets a
   stack of its own; on a device the budget shrinks to a quarter of the free memory), and never
   more than ``MAX_STACK_COUNT`` entries (cuSOLVER's 32-bit workspace sizes grow with the batch).
   Within a group, the entries of one shape and dtype are consecutive.
2. :func:`grouped_values` (written against an array namespace ``xp``: numpy or cupy): each stack is
   one preallocated ``(count, q, q)`` float64 array; the Grams of each run of one shape and dtype
   come from one batched product over a float64 buffer (:func:`gram_run_into`: one cast per
   matrix, buffers of at most ``CHUNK_BYTES``; never a stack of the inputs in their own dtype),
   then the whole stack goes to one eigensolver call (:func:`eigvalsh_grams`), and the descending
   singular values go back in the caller's order.

Eigensolver per size class (:func:`eigvalsh_grams`, svdvals' private ``_eig_driver``; docs/gpu.md):

- ``"auto"``, q ≤ ``JACOBI_MAX_Q`` (32): cuSOLVER ``syevjBatched`` (:func:`jacobi_checked`): one
  launch for the stack, Jacobi tolerance ``tol = sqrt(q)·u`` (u = 2⁻⁵³) so that the stopping rule
  ``‖off(A)‖_F ≤ tol·‖A‖_F`` bounds every eigenvalue's error by ``tol·‖G‖_F ≤ q·u·λ_max``, the
  contract's ``c·q·u·λ_max``. ``syevjBatched`` reports no residual (only a per-matrix ``info``), so
  every matrix is also checked with the identity ``‖G‖_F² = Σλ²``; a matrix with ``info ≠ 0`` or a
  gap above rounding gets its Gram formed again and solved by ``syevd``.
- ``"auto"``, 32 < q ≤ ``BATCH_MAX_Q`` (512): ``xp.linalg.eigvalsh`` on the whole stack (cupy:
  ``syevjBatched`` with cupy's defaults, tolerance = machine precision, 100 sweeps); q > 512: the
  same call on one matrix at a time (a stack of one), the call the route made before grouping.
  cupy does not report that call's ``info``, so its values get the same Frobenius check
  (:func:`stack_checked`) and the same ``syevd`` fallback: never a silently unconverged result.
- ``"jacobi"``: the checked ``syevjBatched`` at every size; ``"syevd"``: one cuSOLVER ``syevd`` per
  matrix; ``"band"``: the two-stage route of :mod:`gsa_fast._two_stage` on the stack (bulge chasing
  on the host; ``"band_device"``: on the device, :mod:`gsa_fast._gpu_band`).

Host round trips: the checks bring one boolean per matrix of the stack to the host (control
flow: which matrices to redo); nothing else leaves the device, except on the "band" route, whose
host stages take each band (:mod:`gsa_fast._two_stage`).
"""
from __future__ import annotations

from typing import NamedTuple

import numpy as np

from . import _two_stage
from ._gpu_margins import to_host
from ._validate import value_error

STACK_BYTES = 1 << 30         # float64 bytes of one Gram stack (the budget of :func:`plan`)
MAX_STACK_COUNT = 1 << 16     # entries of one stack at most (cuSOLVER's int workspace sizes)
CHUNK_BYTES = 512 * 2**20     # float64 bytes of one converted chunk of an entry (as _gpu_spectra)
JACOBI_MAX_Q = 32             # "auto" uses the checked syevjBatched up to this Gram size
JACOBI_MAX_SWEEPS = 100       # cuSOLVER's default; Jacobi needs ~10-15 sweeps to machine precision
# "auto" above JACOBI_MAX_Q hands cupy the whole stack up to this size and one matrix per call
# beyond it (the call the route made for every matrix before grouping). Batching pays for small
# and medium Grams (2000 q = 64 Grams: 8 ms on an H100, bench/results/gpu.md); for large ones each
# matrix's O(q³) solve dominates and how cuSOLVER's batched Jacobi spreads a stack of large
# matrices over the device is unmeasured. TODO(measure on device): bench_gpu's grouped rows.
BATCH_MAX_Q = 512
U64 = 2.0 ** -53
DRIVERS = ("auto", "syevd", "band", "band_device", "jacobi")
_STAGE2 = {"band": "host", "band_device": "device"}  # where the two-stage route chases the bulges


class Stack(NamedTuple):
    """One Gram stack of the plan: the Gram size q and the caller's indices of its entries."""
    q: int
    entries: tuple

    def nbytes(self) -> int:
        return 8 * len(self.entries) * self.q * self.q


def plan(shapes, budget=STACK_BYTES, max_count=MAX_STACK_COUNT, kinds=None) -> list:
    """The stacks for matrices of the given (m, n) shapes: grouped by q = min(m, n) in order of
    first appearance; within a group, entries of one (shape, kind) are consecutive (in order of
    first appearance of the pair, each run in the caller's order) so that their Grams can be
    formed by one batched product; each group split into consecutive stacks of at most
    ``max(1, min(max_count, budget // (8q²)))`` entries (q = 0: one stack per ``max_count``).
    ``kinds``: one hashable per entry (e.g. dtype and bf16 flag), default all alike."""
    if isinstance(budget, bool) or not isinstance(budget, (int, np.integer)) or budget < 1:
        raise value_error("plan", "budget", "an int >= 1 (bytes)", repr(budget))
    groups = {}
    for i, shape in enumerate(shapes):
        m, n = (int(d) for d in shape)
        kind = None if kinds is None else kinds[i]
        groups.setdefault(min(m, n), {}).setdefault((m, n, kind), []).append(i)
    out = []
    for q, runs in groups.items():
        idx = [i for run in runs.values() for i in run]
        per = max(1, min(int(max_count), int(budget) // (8 * q * q))) if q else int(max_count)
        out.extend(Stack(q, tuple(idx[j:j + per])) for j in range(0, len(idx), per))
    return out


def budget_for(xp) -> int:
    """The stack budget on ``xp``'s device: ``STACK_BYTES``, or a quarter of the device memory
    that is free now (the driver's free memory plus cupy's pool's free blocks) when that is less,
    leaving room for the eigensolver's workspace and an entry's float64 slabs."""
    if not hasattr(xp, "asnumpy"):
        return STACK_BYTES
    free = int(xp.cuda.runtime.memGetInfo()[0]) + int(xp.get_default_memory_pool().free_bytes())  # pragma: no cover
    return max(1, min(STACK_BYTES, free // 4))  # pragma: no cover


def jacobi_tol(q: int) -> float:
    """syevj's tolerance for a q×q Gram: ``‖off‖_F ≤ tol·‖G‖_F ≤ tol·sqrt(q)·λ_max = q·u·λ_max``."""
    return float(np.sqrt(max(int(q), 1))) * U64


def to_f64(xp, a, bf16):
    """a (float16/32/64, or uint16 bfloat16 bits) as a new float64 array."""
    if bf16:
        return (a.astype(xp.uint32) << 16).view(xp.float32).astype(xp.float64)
    return a.astype(xp.float64)


def gram_into(xp, out, a, bf16, chunk_bytes=CHUNK_BYTES):
    """The float64 Gram of the (m, n) matrix ``a`` (AᵀA if n ≤ m, else AAᵀ), symmetrized, written
    into ``out`` (q × q, a slot of a stack). The entry is converted in slabs of its long side,
    at most ``chunk_bytes`` of float64 each, summed in order."""
    m, n = a.shape
    tall = n <= m
    short, long_ = (n, m) if tall else (m, n)
    step = max(1, int(chunk_bytes) // max(8 * short, 1))
    if long_ == 0:
        out[...] = 0.0
    for i in range(0, long_, step):
        c = to_f64(xp, a[i:i + step] if tall else a[:, i:i + step], bf16)
        if i == 0:
            out[...] = c.T @ c if tall else c @ c.T
        else:
            out += c.T @ c if tall else c @ c.T
    out[...] = 0.5 * (out + out.T)  # a new array first: cupy does not order overlapping in-place ops
    return out


def gram_run_into(xp, out, mats, bf16, chunk_bytes=CHUNK_BYTES):
    """The float64 Grams of matrices of one shape and kind into ``out`` (len(mats), q, q): each
    converted into a float64 buffer of at most ``chunk_bytes`` (one cast per matrix of a list,
    one per buffer of a (count, m, n) stack), then one batched product and one symmetrization
    per buffer. A matrix larger than half of ``chunk_bytes`` goes through :func:`gram_into` (its
    own slabs), so no float64 copy of a whole large matrix is made."""
    stack = not isinstance(mats, (list, tuple))
    m, n = mats.shape[-2:] if stack else mats[0].shape
    per = int(chunk_bytes) // max(8 * m * n, 1)
    if per < 2:
        for k in range(len(mats)):
            gram_into(xp, out[k], mats[k], bf16, chunk_bytes)
        return out
    tall = n <= m
    for j in range(0, len(mats), per):
        part = mats[j:j + per]
        if stack:
            buf = to_f64(xp, part, bf16)
        else:
            buf = xp.empty((len(part), m, n), dtype=xp.float64)
            for t, a in enumerate(part):
                buf[t] = to_f64(xp, a, True) if bf16 else a  # the cast happens in the copy
        g = xp.matmul(buf.transpose(0, 2, 1), buf) if tall else xp.matmul(buf, buf.transpose(0, 2, 1))
        out[j:j + len(part)] = 0.5 * (g + g.transpose(0, 2, 1))
    return out


class Solvers:
    """The eigensolver calls of :func:`eigvalsh_grams` for numpy (the CPU run of the route, where
    LAPACK's syevd stands for both) — :class:`CupySolvers` is the device's. Tests substitute
    recording or failing versions."""

    def __init__(self, xp):
        self.xp = xp

    def jacobi(self, G, tol, max_sweeps):
        """(ascending values (count, q), info (count,) ints) of the stack G; G may be destroyed."""
        return self.xp.linalg.eigvalsh(G), self.xp.zeros(G.shape[0], dtype=self.xp.int32)

    def syevd(self, A):
        """Ascending values of one symmetric matrix."""
        return self.xp.linalg.eigvalsh(A)

    def stack(self, G):
        """Ascending values of a stack by the namespace's own stacked eigvalsh."""
        return self.xp.linalg.eigvalsh(G)


class CupySolvers(Solvers):
    """cupy: ``syevjBatched`` with our tolerance (cupy's own stacked ``eigvalsh`` calls it with the
    defaults and does not look at ``info``), ``syevd`` through cupy's 2-D ``eigvalsh``
    (``cusolverDnXsyevd``), both on cupy's cuSOLVER handle (the current stream)."""

    def jacobi(self, G, tol, max_sweeps):  # pragma: no cover - needs a GPU
        cp = self.xp
        from cupy_backends.cuda.libs import cublas, cusolver

        count, q = int(G.shape[0]), int(G.shape[-1])
        if not G.flags.c_contiguous:
            raise ValueError("jacobi(): the Gram stack must be C-contiguous")
        # a symmetric C-ordered matrix is its own column-major layout: G is handed as it is
        w = cp.empty((count, q), dtype=cp.float64)
        info = cp.empty((count,), dtype=cp.int32)
        handle = cp.cuda.Device().cusolver_handle
        jobz, uplo = cusolver.CUSOLVER_EIG_MODE_NOVECTOR, cublas.CUBLAS_FILL_MODE_LOWER
        params = cusolver.createSyevjInfo()
        try:
            cusolver.xsyevjSetTolerance(params, float(tol))
            cusolver.xsyevjSetMaxSweeps(params, int(max_sweeps))
            lwork = cusolver.dsyevjBatched_bufferSize(handle, jobz, uplo, q, G.data.ptr, q, w.data.ptr, params,
                                                      count)
            work = cp.empty((max(int(lwork), 1),), dtype=cp.float64)
            cusolver.dsyevjBatched(handle, jobz, uplo, q, G.data.ptr, q, w.data.ptr, work.data.ptr, int(lwork),
                                   info.data.ptr, params, count)
        finally:
            cusolver.destroySyevjInfo(params)
        return w, info


def solvers_for(xp) -> Solvers:
    return CupySolvers(xp) if hasattr(xp, "asnumpy") else Solvers(xp)


def frobenius_slack(q: int) -> float:
    """Relative rounding allowed in ``‖G‖_F² − Σλ²`` for a converged q×q solve: the two float64
    sums (≤ q² terms: 4q²·u) and the drift of ‖A‖_F² under the rotations (each sweep moves every
    row through q rotations, ≤ 16 sweeps: 64q·u)."""
    return (4.0 * q * q + 64.0 * q) * U64


def checked(xp, G, regram, solvers, solve):
    """Ascending eigenvalues (count, q) of the stack G (destroyed) by ``solve(G) -> (w, info)``,
    with every matrix that it did not converge on (``info ≠ 0``) or whose values fail the
    Frobenius identity ``|‖G‖_F² − Σλ²| ≤ frobenius_slack(q)·‖G‖_F²`` (a larger gap means
    ``‖off‖_F`` above ~sqrt(slack)·‖G‖_F: a gross failure, e.g. the values left on the diagonal)
    solved again by ``solvers.syevd`` on ``regram(k)``, its Gram formed anew."""
    q = int(G.shape[-1])
    fro2 = xp.einsum("kij,kij->k", G, G)  # before the call (the solver destroys G); no stack-sized temporary
    w, info = solve(G)
    gap = xp.abs(fro2 - (w * w).sum(axis=1))
    bad = (info != 0) | ~(gap <= frobenius_slack(q) * fro2)  # NaN counts as bad
    redo = np.flatnonzero(to_host(bad))  # one bool per matrix to the host: control flow
    for k in redo:
        w[int(k)] = solvers.syevd(regram(int(k)))
    return w


def jacobi_checked(xp, G, regram, solvers, tol=None, max_sweeps=JACOBI_MAX_SWEEPS):
    """:func:`checked` around ``solvers.jacobi`` (syevjBatched at ``tol``, default
    :func:`jacobi_tol`)."""
    tol = jacobi_tol(int(G.shape[-1])) if tol is None else tol
    return checked(xp, G, regram, solvers, lambda G: solvers.jacobi(G, tol, max_sweeps))


def stack_checked(xp, G, regram, solvers):
    """:func:`checked` around ``solvers.stack`` (cupy: its stacked eigvalsh, syevjBatched with
    cupy's defaults, whose ``info`` cupy does not report: only the Frobenius identity checks it)."""
    return checked(xp, G, regram, solvers, lambda G: (solvers.stack(G), xp.zeros(G.shape[0], dtype=xp.int32)))


def eigvalsh_grams(xp, G, driver="auto", regram=None, solvers=None, fn="svdvals"):
    """Ascending eigenvalues, shape (count, q), of the symmetric float64 stack G (count, q, q),
    which is ours to destroy. ``regram(k)`` forms the Gram of matrix k anew: the checked solvers'
    fallback needs it (no copy of the stack is kept), so it must be given for "jacobi" and "auto"."""
    if driver not in DRIVERS:
        raise value_error(fn, "_eig_driver", "one of " + ", ".join(map(repr, DRIVERS)) + " for cupy input",
                          repr(driver))
    solvers = solvers_for(xp) if solvers is None else solvers
    count, q = int(G.shape[0]), int(G.shape[-1])
    if count == 0 or q == 0:
        return xp.zeros((count, q), dtype=xp.float64)
    if driver in _STAGE2:
        return _two_stage.eigvalsh_stack(xp, G, overwrite=True, fn=fn, stage2=_STAGE2[driver])
    if driver == "syevd":
        w = xp.empty((count, q), dtype=xp.float64)
        for k in range(count):
            w[k] = solvers.syevd(G[k])
        return w
    if regram is None:
        raise ValueError(f"{fn}(): the checked eigensolvers need regram (the fallback re-forms a Gram)")
    if driver == "jacobi" or q <= JACOBI_MAX_Q:
        return jacobi_checked(xp, G, regram, solvers)
    if q <= BATCH_MAX_Q:
        return stack_checked(xp, G, regram, solvers)
    w = xp.empty((count, q), dtype=xp.float64)
    for k in range(count):
        w[k] = stack_checked(xp, G[k:k + 1], lambda _, k=k: regram(k), solvers)[0]
    return w


def grouped_values(xp, checked, driver="auto", budget=None, solvers=None, fn="svdvals",
                   chunk_bytes=CHUNK_BYTES):
    """Descending singular values (float64, one ``xp`` array each, in the caller's order) of each
    ``(matrix, is_bf16)`` of a validated ragged list, by the Gram route on grouped stacks
    (``budget``: bytes of one stack, default :func:`budget_for`)."""
    checked = list(checked)
    solvers = solvers_for(xp) if solvers is None else solvers
    out = [None] * len(checked)
    kinds = [(str(a.dtype), bool(bf16)) for a, bf16 in checked]
    for st in plan([a.shape for a, _ in checked], budget_for(xp) if budget is None else budget, kinds=kinds):
        if st.q == 0:
            for i in st.entries:
                out[i] = xp.zeros((0,), dtype=xp.float64)
            continue

        def regram(k, st=st):
            a, bf16 = checked[st.entries[k]]
            return gram_into(xp, xp.empty((st.q, st.q), dtype=xp.float64), a, bf16, chunk_bytes)

        G = xp.empty((len(st.entries), st.q, st.q), dtype=xp.float64)
        k = 0
        while k < len(st.entries):  # runs of one shape and kind (consecutive in the plan)
            a0 = checked[st.entries[k]][0]
            e = k + 1
            while e < len(st.entries) and (checked[st.entries[e]][0].shape == a0.shape
                                           and kinds[st.entries[e]] == kinds[st.entries[k]]):
                e += 1
            gram_run_into(xp, G[k:e], [checked[i][0] for i in st.entries[k:e]], kinds[st.entries[k]][1],
                          chunk_bytes)
            k = e
        w = eigvalsh_grams(xp, G, driver, regram, solvers, fn)
        s = xp.sqrt(xp.clip(w[:, ::-1], 0.0, None))
        for k, i in enumerate(st.entries):
            out[i] = s[k]
    return out
