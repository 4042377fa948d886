"""GPU route of product_norm and chain_margins (cupy in, results on the device).

The iteration is the CPU kernel's (cpp/src/margins.cpp): block Lanczos on ``(XY)ᵀ(XY)`` with
block 8, full reorthogonalization (two Gram–Schmidt sweeps, deflating), Rayleigh–Ritz on the
whole basis, thick restart at 192 vectors keeping 32, the same stopping rule on the top Ritz
pair, and the dense route (``XY`` formed in float64, its SVD) for small problems and for a pair
not converged after 400 passes. It is written once against an array namespace ``xp``: on the
device ``xp`` is cupy (cuBLAS GEMMs; cuSOLVER for the ≤ 192² Rayleigh–Ritz eigenproblem, the
dense SVD and the block QR), and the CPU tests run the same code with numpy against the C++
route. float32 factors are widened to float64 one row tile (≤ 64 MiB) at a time, never copied
whole. The only host transfers are three scalars per pass (the top two Ritz values and the
residual norm, for the stopping rule) and the finiteness verdicts.
"""
from __future__ import annotations

import math

import numpy as np

from ._chain import (ChainMargins, check_chain_dtype, check_pairs, check_report_args, check_rtol, check_widths,
                     compatible, margins_from_norms, report_from_spectra)
from ._validate import as_flag, type_error, value_error

__all__ = ["product_norm", "chain_margins", "margin_report"]

BLOCK, CAP, KEEP, MAX_PASSES = 8, 192, 32, 400
_TILE_BYTES = 64 << 20


# ---- float64 products of float32 or float64 factors, tile by tile ----------------------------

def matmul_f64(xp, A, B):
    """``A @ B`` in float64 (``A`` float32 or float64, ``B`` float64), widening a float32 ``A`` one
    row tile (≤ _TILE_BYTES) at a time. Also the device chain scan's product (_gpu_depth)."""
    if A.dtype == np.float64:
        return A @ B
    rows = max(1, _TILE_BYTES // (8 * max(1, A.shape[1])))
    if rows >= A.shape[0]:
        return A.astype(np.float64) @ B
    out = xp.empty((A.shape[0], B.shape[1]), dtype=np.float64)
    for i in range(0, A.shape[0], rows):
        out[i:i + rows] = A[i:i + rows].astype(np.float64) @ B
    return out


def _mtm(xp, A, B):
    """``Aᵀ @ B`` in float64, summed over row tiles of ``A`` in a fixed order."""
    if A.dtype == np.float64:
        return A.T @ B
    rows = max(1, _TILE_BYTES // (8 * max(1, A.shape[1])))
    if rows >= A.shape[0]:
        return A.astype(np.float64).T @ B
    out = xp.zeros((A.shape[1], B.shape[1]), dtype=np.float64)
    for i in range(0, A.shape[0], rows):
        out += A[i:i + rows].astype(np.float64).T @ B[i:i + rows]
    return out


def scale_exponent(xp, A) -> int:
    """The CPU kernel's scale_exponent: e with max|A|·2^-e in [½, 1) (0 for a zero matrix), clamped
    to ±1000. The operator and the dense route work on 2^-e A (exact), so nothing over- or
    underflows whatever the factors' magnitudes; results are multiplied back by 2^e."""
    if A.size == 0:
        return 0
    mx = max(float(to_host(A.max())), -float(to_host(A.min())))
    if not (mx > 0.0 and np.isfinite(mx)):
        return 0
    return int(max(-1000, min(1000, math.frexp(mx)[1])))


def _operator(xp, X, Y, sx=1.0, sy=1.0):
    """(n, V ↦ (X̂Ŷ)ᵀ(X̂Ŷ)V) for X̂ = sx·X, Ŷ = sy·Y, or X̂ᵀX̂ for a single factor (Y None)."""
    if Y is None:
        return X.shape[1], lambda V: sx * _mtm(xp, X, sx * matmul_f64(xp, X, V))
    return Y.shape[1], lambda V: sy * _mtm(xp, Y, sx * _mtm(xp, X, sx * matmul_f64(xp, X, sy * matmul_f64(xp, Y, V))))


def use_dense(m: int, k: int, n: int) -> bool:
    """The CPU kernel's rule: forming XY is cheaper when a side is small."""
    return min(m, k, n) <= 2 * BLOCK or n <= 4 * BLOCK or m * k * n <= 96 ** 3


def _product(xp, X, Y):
    """``XY`` in float64, summed over slabs of the inner dimension so that float32 factors are
    widened a slab at a time (the CPU kernel's dense route)."""
    if X.dtype == np.float64:
        return X @ Y
    k = X.shape[1]
    cols = max(1, _TILE_BYTES // (8 * max(1, X.shape[0], Y.shape[1])))
    C = xp.zeros((X.shape[0], Y.shape[1]), dtype=np.float64)
    for t in range(0, k, cols):
        C += X[:, t:t + cols].astype(np.float64) @ Y[t:t + cols].astype(np.float64)
    return C


def dense_norm(xp, X, Y, ex=0, ey=0) -> float:
    """σ₁ of the formed product of 2^-ex X and 2^-ey Y, times 2^(ex+ey) (exact scalings)."""
    if ex or ey:  # scaled float64 copies: the dense route is for small problems
        X = X.astype(np.float64) * math.ldexp(1.0, -ex)
        Y = None if Y is None else Y.astype(np.float64) * math.ldexp(1.0, -ey)
    C = X.astype(np.float64) if Y is None else _product(xp, X, Y)
    return math.ldexp(float(xp.linalg.svd(C, compute_uv=False)[0]), ex + ey) if C.size else 0.0


def frobenius(xp, A) -> float:
    """``‖A‖_F`` accumulated in float64 over row tiles (no float64 copy of a float32 factor)."""
    if A.dtype == np.float64:
        return float(xp.linalg.norm(A))  # LAPACK-style scaled sum of squares: no over/underflow
    rows = max(1, _TILE_BYTES // (8 * max(1, A.shape[1])))
    total = xp.zeros((), dtype=np.float64)
    for i in range(0, A.shape[0], rows):
        t = A[i:i + rows].astype(np.float64)
        total += (t * t).sum()
    return float(xp.sqrt(total))  # float32 entries: squares stay inside the float64 range


# ---- the block Krylov iteration ---------------------------------------------------------------

def _seed(n: int, m: int, k: int) -> int:
    return (0x5EED ^ (n * 1315423911 + m * 2654435761 + k)) & (2**64 - 1)


def krylov_norm(xp, apply, n: int, tol: float, seed: int):
    """(‖·‖, passes) of the operator ``apply`` (symmetric PSD, n×n, on n×b float64 blocks);
    ``None`` for the value when the iteration did not converge within MAX_PASSES."""
    cap = min(n, max(CAP, 8 * BLOCK))
    V = xp.empty((n, cap), dtype=np.float64)
    W = xp.empty((n, cap), dtype=np.float64)
    rng = np.random.default_rng(seed)
    cand = xp.asarray(rng.random((n, BLOCK)) - 0.5)
    p, passes, theta = 0, 0, 0.0
    while True:
        # orthonormalize the candidates against the basis (two sweeps) and among themselves
        n0 = xp.sqrt((cand * cand).sum(axis=0))
        for _ in range(2 if p else 0):
            cand = cand - V[:, :p] @ (V[:, :p].T @ cand)
        q, r = xp.linalg.qr(cand)
        keep = np.flatnonzero(np.asarray(to_host(xp.abs(xp.diagonal(r)) > 1e-10 * n0)))
        keep = keep[: cap - p]
        if keep.size == 0:
            break  # an invariant subspace: the Ritz values are exact
        p0, p = p, p + keep.size
        V[:, p0:p] = q[:, xp.asarray(keep)]
        W[:, p0:p] = apply(V[:, p0:p])
        passes += 1
        H = V[:, :p].T @ W[:, :p]
        H = 0.5 * (H + H.T)
        K = min(p, KEEP)
        w, Z = xp.linalg.eigh(H)
        w, Z = w[p - K:], Z[:, p - K:]  # the top K Ritz pairs, ascending
        z1 = Z[:, K - 1:K]
        res = W[:, :p] @ z1 - w[K - 1] * (V[:, :p] @ z1)
        theta, theta2, rnorm = (float(v) for v in to_host(xp.stack(
            [w[K - 1], w[K - 2] if K >= 2 else xp.zeros((), dtype=np.float64), xp.linalg.norm(res)])))
        if not theta > 0.0:
            return 0.0, passes
        gap = theta - theta2
        if rnorm <= tol * theta or (gap > 0.0 and rnorm * rnorm <= tol * theta * gap) or p == n:
            break
        if passes >= MAX_PASSES:
            return None, passes
        if p + BLOCK > cap:  # thick restart: the top K Ritz vectors and their images
            V[:, :K], W[:, :K] = V[:, :p] @ Z, W[:, :p] @ Z
            p = K
            cand = W[:, K - min(BLOCK, K):K][:, ::-1].copy()
        else:
            cand = W[:, p0:p].copy()
    return float(np.sqrt(max(0.0, theta))), passes


def to_host(a):
    """A (small) device or host array as numpy."""
    return a.get() if hasattr(a, "get") else np.asarray(a)


def norm_of_pair(xp, X, Y, tol):
    """(‖XY‖ or ‖X‖ for Y None, passes; 0 = dense route): the CPU kernel's one_pair."""
    m, k = X.shape
    n = k if Y is None else Y.shape[1]
    if m == 0 or k == 0 or n == 0:
        return 0.0, 0
    ex = scale_exponent(xp, X)
    ey = 0 if Y is None else scale_exponent(xp, Y)
    if not use_dense(m, k, n):
        dim, apply = _operator(xp, X, Y, math.ldexp(1.0, -ex), math.ldexp(1.0, -ey))
        v, passes = krylov_norm(xp, apply, dim, tol, _seed(n, m, k))
        if v is not None:
            return math.ldexp(v, ex + ey), passes
    return dense_norm(xp, X, Y, ex, ey), 0


# ---- argument checks for device operands (the CPU route's messages) ---------------------------

def device_float(cp, x, fn, arg, expected="float32 or float64"):
    """A float32/float64 cupy array (any rank); a host array beside device operands, or another
    dtype, is the TypeError."""
    if not hasattr(x, "__cuda_array_interface__"):
        raise type_error(fn, arg, "a cupy array like the other operands (host and device arrays "
                         "cannot be mixed)", x)
    x = cp.asarray(x)
    if x.dtype not in (np.float32, np.float64):
        raise type_error(fn, arg, expected, x)
    return x


def _device_matrix(cp, x, fn, arg):
    x = device_float(cp, x, fn, arg, "a 2-D float32 or float64 array")
    if x.ndim != 2:
        raise value_error(fn, arg, "a 2-D matrix", f"shape {tuple(x.shape)}")
    if not x.flags.c_contiguous:
        raise value_error(fn, arg, "C-contiguous (device views are never copied)",
                          f"strides {x.strides}")
    return x


def _check_finite(cp, mats, fn, names):
    ok = to_host(cp.stack([cp.isfinite(a).all() if a.size else cp.asarray(True) for a in mats]))
    for good, name in zip(ok, names):
        if not good:
            raise value_error(fn, name, "finite (no NaN or Inf)", "non-finite entries")


def _device_list(cp, a, fn, arg):
    if isinstance(a, (list, tuple)):
        return list(a)
    if not hasattr(a, "__cuda_array_interface__"):
        raise type_error(fn, arg, "a cupy array or a list of them", a)
    a = cp.asarray(a)
    if a.ndim != 3:
        raise value_error(fn, arg, "a (batch, m, k) stack or a list of matrices", f"shape {tuple(a.shape)}")
    return [a[i] for i in range(a.shape[0])]


def _pairs(cp, X, Y, fn):
    if isinstance(X, (list, tuple)) or isinstance(Y, (list, tuple)) or getattr(X, "ndim", 0) == 3:
        xl, yl = _device_list(cp, X, fn, "X"), _device_list(cp, Y, fn, "Y")
        if len(xl) != len(yl):
            raise value_error(fn, "Y", f"a list of {len(xl)} matrices (one per X)", f"{len(yl)}")
        xs = [_device_matrix(cp, x, fn, f"X[{i}]") for i, x in enumerate(xl)]
        ys = [_device_matrix(cp, y, fn, f"Y[{i}]") for i, y in enumerate(yl)]
        shape = (len(xs),)
    else:
        xs, ys, shape = [_device_matrix(cp, X, fn, "X")], [_device_matrix(cp, Y, fn, "Y")], ()
    check_pairs(xs, ys, shape, fn)
    tags = [""] if shape == () else [f"[{i}]" for i in range(len(xs))]
    _check_finite(cp, xs + ys, fn, [f"X{t}" for t in tags] + [f"Y{t}" for t in tags])
    return xs, ys, shape


def _tol(rtol):
    from .margins import _tol as cpu_tol

    return cpu_tol(rtol)


# ---- the routes -------------------------------------------------------------------------------

def product_norm(X, Y, *, rtol=1e-12):
    """CUDA route of :func:`gsa_fast.product_norm`: a float for a pair, a cupy ``(B,)`` array
    for a batch."""
    import cupy as cp

    fn = "product_norm"
    rtol = check_rtol(rtol, fn)
    xs, ys, shape = _pairs(cp, X, Y, fn)
    tol = _tol(rtol)
    out = [norm_of_pair(cp, x, y, tol)[0] for x, y in zip(xs, ys)]
    return float(out[0]) if shape == () else cp.asarray(np.array(out, dtype=np.float64))


def chain_norms(xp, factors, tol):
    """Raw ‖A_ℓ‖, ‖A_ℓ‖_F and ‖A_{ℓ+1}A_ℓ‖ (NaN where undefined), as host float64 arrays."""
    L = len(factors)
    comp = compatible(factors)
    nrm = np.array([norm_of_pair(xp, a, None, tol)[0] for a in factors])
    fro = np.array([frobenius(xp, a) for a in factors])
    pn = np.full(L - 1, np.nan)
    for i in np.flatnonzero(comp):
        pn[i] = norm_of_pair(xp, factors[i + 1], factors[i], tol)[0]
    return nrm, fro, pn


def _device_factors(cp, factors, fn):
    items = _device_list(cp, factors, fn, "factors")
    if not items:
        raise value_error(fn, "factors", "a non-empty chain", "0 factors")
    fs = [_device_matrix(cp, a, fn, f"factors[{i}]") for i, a in enumerate(items)]
    check_chain_dtype(fs, fn)
    _check_finite(cp, fs, fn, [f"factors[{i}]" for i in range(len(fs))])
    return fs


def chain_margins(factors, *, normalize=True, d=None, rtol=1e-12):
    """CUDA route of :func:`gsa_fast.chain_margins`: the fields are cupy arrays."""
    import cupy as cp

    fn = "chain_margins"
    rtol = check_rtol(rtol, fn)
    normalize = as_flag(normalize, fn, "normalize")
    fs = _device_factors(cp, factors, fn)
    widths = check_widths(d, fs, fn)
    cm = margins_from_norms(*chain_norms(cp, fs, _tol(rtol)), widths, normalize, fn)
    return ChainMargins(*(cp.asarray(v) for v in cm))



def report_on(xp, factors, **options):
    """The margin report with the heavy work in namespace ``xp``: the factors' SVD spectra (the
    svdvals route of ``xp``'s arrays, LAPACK/cuSOLVER ``gesvd``) and the adjacent product norms
    (the Krylov iteration above); the spectra (q values per layer) then come to the host, where
    the report is assembled exactly as on the CPU route (gsa_fast._chain.assemble_report)."""
    import gsa_fast as ns

    fn = "margin_report"
    S = ns.svdvals(factors, method="svd")
    spectra = [np.asarray(to_host(S[i]), dtype=np.float64) for i in range(len(factors))]

    def margins_of(fs, widths, normalize, fn):
        nrm = np.array([float(s[0]) if s.size else 0.0 for s in spectra])
        fro = np.array([float(np.linalg.norm(s)) for s in spectra])
        pn = np.full(len(fs) - 1, np.nan)
        tol = _tol(1e-12)
        for i in np.flatnonzero(compatible(fs)):
            pn[i] = norm_of_pair(xp, fs[i + 1], fs[i], tol)[0]
        return margins_from_norms(nrm, fro, pn, widths, normalize, fn)

    return report_from_spectra(ns, factors, spectra, margins_of, fn=fn, **options)


def margin_report(factors, *, chart="top", interval=(0, 5), window=None, eps=0.01, lip="sharp",
                  budget=None):
    """CUDA route of :func:`gsa_fast.margin_report`: SVDs and product norms on the device, the
    report (pandas tables, a dict of totals) on the host."""
    import cupy as cp

    fn = "margin_report"
    interval, eps, budget = check_report_args(fn, interval, eps, lip, budget, chart=chart,
                                              window=window)
    fs = _device_factors(cp, factors, fn)
    return report_on(cp, fs, chart=chart, interval=interval, window=window, eps=eps, lip=lip,
                     budget=budget)
