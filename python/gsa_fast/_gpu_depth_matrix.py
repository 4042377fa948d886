"""GPU routes of the depth family's matrix functions (cupy in, cupy out; issue 12 item 1):
prefix_log_svdvals, balancedness_ratio, subspace_alignment, relative_imbalance,
bures_transport_map, bures_geodesic, and jacobian_chain for a model on a CUDA device.

Each computation is written once against an array namespace ``xp`` (cuBLAS GEMMs and cuSOLVER
QR/SVD/eigh/Cholesky through cupy on the device; numpy in the CPU tests, which compare it with the
compiled kernels and the reference twins). The argument checks and the host-side rules are those
of the CPU route (python/gsa_fast/_depth_common.py), so the device route raises the CPU route's
errors before any computation. relative_imbalance, bures_transport_map and bures_geodesic have no
compiled kernel: their CPU route *is* this code with ``xp = numpy``.

Host transfers (small, for control flow or for the host-side assembly; never a factor):

* prefix_log_svdvals, rescaled (§4.3a): none per layer (the norm, the log scale and the
  zero/overflow state stay on the device); the §4.3 method rule reads one verdict per call.
* prefix_log_svdvals, graded (§4.3b): per layer one transfer down (``‖Y‖_F`` and the ``w``
  diagonal entries of ``R_ℓ``, for the §4.2 rank rule, which sets the frame's width) and the
  ``w`` Benettin sums up; at each requested depth the pending ``κ₁(R_ℓ)`` and the NaN verdict
  of ``T̂``, and the ``w × w`` triangle ``R̃`` of ``T̂ᵀ = Q̃R̃`` (the QR runs on the device), down:
  the compiled block-Jacobi step of the CPU kernel (``_core.graded_triangle_values``, the same
  cuts and LAPACK ``dgesvj``) gives the values on the host, which go back to the device.
* subspace_alignment: one finiteness verdict per pair and one NaN verdict at the end.
* balancedness_ratio: one transfer per chain (two scalars per factor: its scaled Frobenius
  norm, _depth_common.chain_frob_log), plus the above.
* the Bures routes: the Cholesky verdict (cuSOLVER ``potrf``'s info) and the PSD/symmetry checks.
"""
from __future__ import annotations

import math

import numpy as np

from ._depth_common import geodesic_times as _host_times
from ._depth_common import (PrefixLogSvdvals, _alignment_summary, _chain, _check_finite_chain, _psd_sqrt,
                            _spd_pair, _sym, alignment_args, alignment_error, balanced_log_ratio, chain_frob_log, default_tau,
                            prefix_args, prefix_method, resolved_mask, scaled_parts, _U64)
from ._gpu_margins import device_float, matmul_f64, to_host
from ._validate import as_threads, value_error

__all__ = ["prefix_log_svdvals", "balancedness_ratio", "subspace_alignment", "relative_imbalance",
           "bures_transport_map", "bures_geodesic", "jacobian_chain"]


def _matrix(cp):
    """The device operand check handed to the shared argument checks."""
    return lambda x, fn, arg: device_float(cp, x, fn, arg)


def _safe_log(xp, s):
    """log s with −∞ at exact zeros (no divide warning on numpy)."""
    return xp.where(s > 0, xp.log(xp.where(s > 0, s, 1.0)), -np.inf)


def _norm_from(mx, ssq) -> float:
    mx = float(mx)
    return mx * math.sqrt(float(ssq)) if mx > 0.0 and math.isfinite(mx) else mx


# ---- §4.3(a): the rescaled direct product ---------------------------------------------------------

def rescaled_chain(xp, chain, d, k):
    """(len(d), k) log singular values of the prefix products at the depths d (1-based), by the
    rescaled product ``P̂_ℓ = M_ℓ P̂_{ℓ−1}/‖M_ℓ P̂_{ℓ−1}‖_F`` and an SVD of ``P̂_ℓ`` (the CPU kernel's
    prefix_one): −∞ from a zero product on, NaN from a non-finite one on. No host transfer: the
    norm, the accumulated log and the state (0 running, 1 zero product, 2 non-finite, from the
    first such layer on) stay on the device; after a stop the product is carried as zeros."""
    take = set(int(x) for x in d)
    P = xp.eye(chain[0].shape[1], dtype=np.float64)
    a = xp.zeros((), dtype=np.float64)
    state = xp.zeros((), dtype=np.int8)
    rows = []
    for l, M in enumerate(chain, start=1):
        Y = matmul_f64(xp, M, P)
        mx, ssq = scaled_parts(xp, Y)
        with np.errstate(invalid="ignore", over="ignore"):
            nrm = mx * xp.sqrt(ssq)  # ‖Y‖_F, scaled (the kernel's frob); NaN/inf if Y is not finite
            event = xp.where(xp.isfinite(nrm), xp.where(nrm > 0, 0, 1), 2).astype(np.int8)
        ok = (state == 0) & (event == 0)
        state = xp.where(state == 0, event, state)
        den = xp.where(ok, nrm, 1.0)
        P = xp.where(ok, Y / den, 0.0)
        a = a + xp.log(den)
        if l not in take:
            continue
        s = xp.linalg.svd(P, compute_uv=False)[:k]
        rows.append(xp.where(state == 0, a + _safe_log(xp, s), xp.where(state == 1, -np.inf, np.nan)))
    return xp.stack(rows)


# ---- §4.3(b): the row-graded QR scan --------------------------------------------------------------

def _kappa1(xp, Rw):
    """κ₁ of the upper triangle ``Rw`` (exact: ``‖R‖₁‖R⁻¹‖₁``; the CPU kernel estimates it with
    LAPACK dtrcon, a lower bound, so this flag is the more cautious of the two)."""
    if Rw.shape[0] == 0:
        return xp.zeros((), dtype=np.float64)
    n1 = xp.abs(Rw).sum(axis=0).max()
    return n1 * xp.abs(xp.linalg.inv(Rw)).sum(axis=0).max()


def graded_chain(xp, chain, d, k, tau):
    """(values, flags) of shape (len(d), k), host float64/bool: the CPU kernel's graded_one with
    the products, QRs and T̂ recursion in namespace ``xp`` and the block Jacobi step on the host
    (``_core.graded_triangle_values``). NaN rows (flags False) from the first non-finite step on."""
    from . import _backend

    take = set(int(x) for x in d)
    n0 = chain[0].shape[1]
    Q = xp.eye(n0, dtype=np.float64)
    T = xp.eye(n0, dtype=np.float64)
    c = np.zeros(n0)
    err, bad = 0.0, False
    kaps, nan_T = [], xp.zeros((), dtype=bool)  # device values read at the requested depths only
    out = np.full((len(take), k), np.nan)
    res = np.zeros((len(take), k), dtype=bool)
    slot = 0
    for l, M in enumerate(chain, start=1):
        w = T.shape[0]
        if w > 0 and not bad:
            with np.errstate(over="ignore", invalid="ignore"):  # an overflowing product: bad below
                Y = matmul_f64(xp, M, Q)
                Qn, R = xp.linalg.qr(Y)
            wp = R.shape[0]
            # one transfer: ‖Y‖_F (= ‖R‖_F, scaled: max and sum of squares) and |diag R| for the
            # §4.2 rank rule and the Benettin sums
            head = to_host(xp.concatenate([xp.stack(scaled_parts(xp, R)), xp.abs(xp.diagonal(R))]))
            fro, diag = _norm_from(head[0], head[1]), head[2:]
            if not math.isfinite(fro):
                bad = True
            else:
                stop = ~(diag > tau * fro)
                wn = int(np.argmax(stop)) if stop.any() else wp
                cn = c[:wn] + np.log(diag[:wn])  # diag > τ‖Y‖_F ≥ 0 on the kept columns
                if wn:  # ~u·κ(M_ℓ) per factor (see the CPU kernel): κ₁ of the frame's triangle
                    kaps.append(_kappa1(xp, xp.triu(R[:wn, :wn])))
                # bracket (i, j ≥ i): R[i, j]·exp(c_{l−1}[j] − c_l[i]); T̂_l = bracket · T̂_{l−1}
                up = xp.arange(w)[None, :] >= xp.arange(wn)[:, None]
                dc = xp.asarray(c[:w])[None, :] - xp.asarray(cn)[:, None]
                with np.errstate(over="ignore"):
                    scale = xp.where(up, xp.exp(xp.where(up, dc, 0.0)), 0.0)
                    T = (R[:wn, :w] * scale) @ T
                Q = Qn[:, :wn]
                c = cn
                nan_T = nan_T | xp.isnan(T).any()
                bad = not np.isfinite(c).all()
        if l not in take:
            continue
        if not bad:  # one transfer: the NaN verdict of T̂ so far and the pending κ₁ (error estimate)
            late = np.asarray(to_host(xp.stack([nan_T.astype(np.float64)] + kaps)), dtype=np.float64)
            kaps = []
            bad = bool(late[0])
            for kap in late[1:]:
                err += _U64 * kap if kap > 0 and math.isfinite(kap) else math.inf
        if not bad:
            w = T.shape[0]
            vals = np.empty(k)
            flags = np.empty(k, dtype=np.uint8)
            Rt = (to_host(xp.linalg.qr(T.T, mode="r")) if w > 0 else np.zeros((0, 0)))
            _backend.core.graded_triangle_values(np.ascontiguousarray(Rt, dtype=np.float64),
                                                 np.ascontiguousarray(c), vals, flags)
            out[slot] = vals
            res[slot] = flags.astype(bool) & ((err <= 1e-6) | (np.arange(k) >= w))
        slot += 1
    return out, res


def prefix_route(xp, run, B, method):
    """The §4.3 method rule on ``B`` chains, shared by the CPU and device routes: ``run(idx,
    graded)`` gives (values, flags) of the chains ``idx`` as arrays of namespace ``xp``. 'graded'
    everywhere, or 'rescaled' (then, for 'auto', 'graded' for every chain with an unresolved value);
    a chain whose graded values came out NaN (overflowing grading) falls back to 'rescaled'.
    Returns (values, flags, graded per chain as a host bool array)."""
    every = np.arange(B)
    use_g = np.zeros(B, dtype=bool)

    def put(out, res, mask, new):
        sel = xp.asarray(np.flatnonzero(mask))
        out[sel], res[sel] = new
        return out, res

    if method == "graded":
        out, res = run(every, True)
        use_g[:] = True
    else:
        out, res = run(every, False)
        if method == "auto":
            use_g = ~np.asarray(to_host(res.reshape(B, -1).all(axis=1)), dtype=bool)
            if use_g.any():
                out, res = put(out, res, use_g, run(np.flatnonzero(use_g), True))
    bad = np.asarray(to_host(xp.isnan(out).any(axis=(1, 2))), dtype=bool) & use_g
    if bad.any():
        out, res = put(out, res, bad, run(np.flatnonzero(bad), False))
        use_g &= ~bad
    return out, res, use_g


def prefix_on(xp, chains, d, k, method):
    """(values, flags, graded) of prefix_log_svdvals for validated chains, in namespace ``xp``."""
    nmax = max([chains[0][0].shape[1]] + [m.shape[0] for m in chains[0]])
    tau = default_tau(nmax, "float64")

    def run(idx, graded):
        if graded:
            parts = [graded_chain(xp, chains[b], d, k, tau) for b in idx]
            return (xp.asarray(np.stack([p[0] for p in parts])),
                    xp.asarray(np.stack([p[1] for p in parts])))
        out = xp.stack([rescaled_chain(xp, chains[b], d, k) for b in idx])
        return out, resolved_mask(out, d, nmax, xp)

    return prefix_route(xp, run, len(chains), method)


def prefix_log_svdvals(factors, depths=None, k=None, *, method="auto", threads=None):
    """CUDA route of :func:`gsa_fast.prefix_log_svdvals`: ``log_s``, ``resolved`` and ``graded``
    are cupy arrays, ``depths`` (the request) stays a numpy array. ``threads`` has no effect."""
    import cupy as cp

    fn = "prefix_log_svdvals"
    chains, bshape, d, k = prefix_args(factors, depths, k, fn, matrix=_matrix(cp), xp=cp)
    method = prefix_method(method, fn)
    as_threads(threads, fn)  # checked as on the CPU; no effect on the device
    out, res, use_g = prefix_on(cp, chains, d, k, method)
    return PrefixLogSvdvals(out.reshape(bshape + (len(d), k)), res.reshape(bshape + (len(d), k)),
                            d, cp.asarray(use_g.reshape(bshape)))


# ---- §8.2 balancedness ------------------------------------------------------------------------

def balancedness_on(xp, chains, bshape, log_s):
    """β_bal from validated chains and the log singular values ``(..., k)`` of the full products
    (namespace ``xp``; the numerator's logs on the host)."""
    N = len(chains[0])
    lognum = np.array([chain_frob_log(c, xp) for c in chains]).reshape(bshape)
    return xp.exp(balanced_log_ratio(lognum, log_s, N, xp))


def balancedness_ratio(factors, *, threads=None):
    """CUDA route of :func:`gsa_fast.balancedness_ratio` (a cupy array of the batch shape; 0-d
    for one chain): log σ by the device prefix route ('auto', depth N only)."""
    import cupy as cp

    fn = "balancedness_ratio"
    chains, bshape = _chain(factors, fn, matrix=_matrix(cp))
    _check_finite_chain(chains, fn, xp=cp)
    as_threads(threads, fn)  # checked as on the CPU; no effect on the device
    N = len(chains[0])
    k = min(chains[0][0].shape[1], chains[0][-1].shape[0])  # the CPU route's default k at depth N
    out, _, _ = prefix_on(cp, chains, np.array([N], dtype=np.int64), k, "auto")
    return balancedness_on(cp, chains, bshape, out[:, 0, :].reshape(bshape + (k,)))


# ---- §7 subspace alignment ----------------------------------------------------------------------

def diag_correlation(xp, R):
    """ρ of |R| per matrix of a (P, k, k) stack: the weighted correlation of the row and column
    indices (math/depth.hpp diag_correlation, vectorized); NaN for k < 2 or a degenerate weight."""
    P, k = R.shape[0], R.shape[-1]
    if k < 2:
        return xp.full(P, np.nan)
    W = xp.abs(R)
    m = W.sum(axis=(-2, -1))
    ok = (m > 0) & xp.isfinite(m)
    w = W / xp.where(ok, m, 1.0)[:, None, None]
    i = xp.arange(k, dtype=np.float64)
    x = i[None, :] - (w.sum(axis=-1) @ i)[:, None]  # row index minus its weighted mean
    y = i[None, :] - (w.sum(axis=-2) @ i)[:, None]
    sxy = (w * x[:, :, None] * y[:, None, :]).sum(axis=(-2, -1))
    sxx = (w.sum(axis=-1) * x * x).sum(axis=-1)
    syy = (w.sum(axis=-2) * y * y).sum(axis=-1)
    ok &= (sxx > 0) & (syy > 0)
    r = sxy / xp.sqrt(xp.where(ok, sxx * syy, 1.0))
    return xp.where(ok, xp.clip(r, -1.0, 1.0), np.nan)


def _top_left(xp, a, k):
    return xp.linalg.svd(a.astype(np.float64, copy=False), full_matrices=False)[0][:, :k]


def alignment_on(xp, la, lb, bshape, k, fn):
    """The CPU kernel's align_one for every pair, in namespace ``xp``, then the shared summary."""
    P = len(la)
    fin = np.asarray(to_host(xp.stack([xp.isfinite(a).all() & xp.isfinite(b).all()
                                       for a, b in zip(la, lb)])), dtype=bool) if P else np.ones(0, bool)
    if not fin.all():
        i = int(np.argmin(fin))
        raise alignment_error(fn, 1, i, bshape)
    Rs, angs = [], []
    for a, b in zip(la, lb):
        UA, UB = _top_left(xp, a, k), _top_left(xp, b, k)
        O = UA.T @ UB
        sgn = xp.where(xp.diagonal(O) < 0, -1.0, 1.0)  # flip column j of U_B (and O) where O_jj < 0
        O, UB = O * sgn, UB * sgn
        cs = xp.clip(xp.linalg.svd(O, compute_uv=False), 0.0, 1.0)  # descending cos θ
        sn = xp.clip(xp.linalg.svd(UB - UA @ O, compute_uv=False), 0.0, 1.0)  # descending sin θ
        Rs.append(O)
        angs.append(xp.arctan2(sn[::-1], cs))
    R = xp.stack(Rs) if P else xp.empty((0, k, k))
    ang = xp.stack(angs) if P else xp.empty((0, k))
    rho = diag_correlation(xp, R)
    if P and bool(xp.isnan(ang).any()):
        i = int(np.argmax(np.asarray(to_host(xp.isnan(ang).any(axis=1)))))
        raise alignment_error(fn, 2, i, bshape)
    return _alignment_summary(R.reshape(bshape + (k, k)), ang.reshape(bshape + (k,)),
                              rho.reshape(bshape), xp)


def subspace_alignment(A, B, k, *, side_a="left", side_b="left", threads=None):
    """CUDA route of :func:`gsa_fast.subspace_alignment`: the fields are cupy arrays. One pair at
    a time (cuSOLVER gesvd of each operand); ``threads`` has no effect."""
    import cupy as cp
    from . import _backend

    fn = "subspace_alignment"
    _backend.namespace(A, B)
    la, lb, bshape, k = alignment_args(A, B, k, side_a, side_b, fn, matrix=_matrix(cp), xp=cp)
    as_threads(threads, fn)  # checked as on the CPU; no effect on the device
    return alignment_on(cp, la, lb, bshape, k, fn)


# ---- §8.1 relative imbalance ------------------------------------------------------------------

def imbalance_on(xp, chains, bshape):
    """ι_p = ‖W_pW_pᵀ − W_{p+1}ᵀW_{p+1}‖_F / ‖W_pW_pᵀ‖_F (NaN where W_p = 0) for validated chains;
    both Grams in float64, one pair of factors widened at a time. ι is invariant under a common
    scaling of the pair, and the Frobenius norm of a Gram squares the entries twice (‖W‖⁴ under-
    or overflows once entries leave about 2^±250), so each pair is scaled by the power of two that
    brings its largest entry into [½, 1): exact, the same bits wherever nothing under/overflowed."""
    L = len(chains[0])
    rows = []
    for c in chains:
        vals = []
        w1 = c[0].astype(np.float64, copy=False) if L > 1 else None
        for p in range(L - 1):
            w0, w1 = w1, c[p + 1].astype(np.float64, copy=False)  # each factor widened once
            tops = [xp.abs(w).max() for w in (w0, w1) if w.size]  # 0-d arrays: no host round trip
            big = xp.maximum(*tops) if len(tops) == 2 else (tops[0] if tops else None)
            s = 1.0 if big is None else xp.ldexp(1.0, -xp.frexp(big)[1])  # 1 for an all-zero pair
            v0, v1 = w0 * s, w1 * s
            g0 = v0 @ v0.T
            num = xp.linalg.norm(g0 - v1.T @ v1)
            den = xp.linalg.norm(g0)
            vals.append(xp.where(den > 0, num / xp.where(den > 0, den, 1.0), np.nan))
        rows.append(xp.stack(vals) if vals else xp.empty(0))
    return xp.stack(rows).reshape(bshape + (max(L - 1, 0),))


def relative_imbalance(factors):
    """CUDA route of :func:`gsa_fast.relative_imbalance` (a cupy array)."""
    import cupy as cp

    fn = "relative_imbalance"
    chains, bshape = _chain(factors, fn, matrix=_matrix(cp))
    _check_finite_chain(chains, fn, xp=cp)
    return imbalance_on(cp, chains, bshape)


# ---- §8.4 Bures transport map and geodesic -------------------------------------------------------

def cholesky(xp, a):
    """The lower Cholesky factor of (a stack of) ``a``, or None where one matrix is not positive
    definite. On the device cuSOLVER potrf's info is read (cupyx.errstate(linalg='raise')):
    without it cupy returns a partial factor silently."""
    try:
        if xp is np:
            return np.linalg.cholesky(a)
        import cupyx

        with cupyx.errstate(linalg="raise"):
            return xp.linalg.cholesky(a)
    except np.linalg.LinAlgError:
        return None


def transport_map_on(xp, a, b, fn, Lc=None):
    """T = L^{-T} (Lᵀ B L)^{1/2} L^{-1} with A = L Lᵀ (validated, symmetrized, broadcast a, b);
    ``Lc``: A's Cholesky factor when the caller has it already."""
    Lc = cholesky(xp, a) if Lc is None else Lc
    if Lc is None:
        raise value_error(fn, "A", "positive definite (no transport map from a singular A)",
                          "a singular or indefinite matrix")
    C = _sym(Lc.swapaxes(-1, -2) @ b @ Lc)
    S = _psd_sqrt(C, fn, "B", xp)
    Linv = xp.linalg.solve(Lc, xp.broadcast_to(xp.eye(a.shape[-1]), a.shape))
    return _sym(Linv.swapaxes(-1, -2) @ S @ Linv)


def geodesic_on(xp, a, b, tt, fn):
    """X(t) for the validated t (host, scalar or 1-D): the symmetric form through the transport
    map for a positive definite A, else the upstairs line with the polar factor."""
    n = a.shape[-1]
    eye = xp.eye(n)
    ts = [float(s) for s in np.atleast_1d(tt)]
    outs = []
    Lc = cholesky(xp, a)
    if Lc is not None:  # factored once: the transport map reuses it
        T = transport_map_on(xp, a, b, fn, Lc)
        for s in ts:
            Mt = s * T + (1.0 - s) * eye
            outs.append(_sym(Mt @ a @ Mt))
    else:
        ra, rb = _psd_sqrt(a, fn, "A", xp), _psd_sqrt(b, fn, "B", xp)
        W_, _, Zt = xp.linalg.svd(rb @ ra)  # B^{1/2}A^{1/2} = W S Zᵀ → polar factor W Zᵀ
        U = W_ @ Zt
        for s in ts:
            Wt = (1.0 - s) * ra + s * (rb @ U)
            outs.append(_sym(Wt @ Wt.swapaxes(-1, -2)))
    if not outs:  # an empty 1-D t: no points, the shape of (0, ...) all the same
        return xp.empty((0,) + np.broadcast_shapes(a.shape, b.shape))
    out = xp.stack(outs)
    return out[0] if tt.ndim == 0 else out


def geodesic_times(t, fn):
    """t as a host float64 array (scalar or 1-D) in [0, 1]; a device t is brought to the host."""
    return _host_times(to_host(t) if hasattr(t, "__cuda_array_interface__") else t, fn)


def bures_transport_map(A, B):
    """CUDA route of :func:`gsa_fast.bures_transport_map` (a cupy array)."""
    import cupy as cp
    from . import _backend

    fn = "bures_transport_map"
    _backend.namespace(A, B)
    a, b = _spd_pair(A, B, fn, matrix=_matrix(cp), xp=cp)
    return transport_map_on(cp, a, b, fn)


def bures_geodesic(A, B, t):
    """CUDA route of :func:`gsa_fast.bures_geodesic` (a cupy array; ``t`` a Python number, or an
    array of either kind: its few values are read on the host)."""
    import cupy as cp
    from . import _backend

    fn = "bures_geodesic"
    _backend.namespace(A, B)
    a, b = _spd_pair(A, B, fn, matrix=_matrix(cp), xp=cp)
    return geodesic_on(cp, a, b, geodesic_times(t, fn), fn)


# ---- jacobian_chain for a model on a CUDA device --------------------------------------------------

def jacobian_chain(model, inputs, *, token=0):
    """CUDA route of :func:`gsa_fast.jacobian_chain`: the Jacobians are computed by torch on the
    model's device and handed over as a float64 cupy array through DLPack (no host copy)."""
    from ._jacobian import jacobian_chain_impl

    fn = "jacobian_chain"
    try:
        import cupy as cp
    except ImportError:
        raise ImportError(f"{fn}(): a model on a CUDA device returns a cupy array; install cupy "
                          "(or move the model to the CPU for a numpy result)") from None
    J = jacobian_chain_impl(model, inputs, token, mode="autodiff", fn=fn, keep_device=True)
    return cp.from_dlpack(J)
