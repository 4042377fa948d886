"""Pure-numpy float64 reference for gsa_fast.depth (depth-math §2–§8).

Written for clarity, not speed, and by other routes than the fast module where one exists:
numpy QR loop for the chain scan, max-entry rescaling for prefix products, full binomial sums and
an asymptotic digamma for the closed forms, the paper's raw-moment form of ρ, the sqrtm route of
the transport map, the upstairs line for every geodesic, the literal N-term sum for λ_kl.
"""
from __future__ import annotations

import math

import numpy as np

from .._depth_common import PUBLIC as _FAST_ALL
from .._depth_common import (Alignment, DepthFit, PrefixLogSvdvals, RandomLyapunov, RankLaw, Separation,
                     _chain, _check_finite_chain, _check_lyap_args, _inv_n, _spectra_rows, _log_spectra,
                     _spd_pair, _psd_sqrt, _sym, _threads, alignment_args, alignment_error, geodesic_times,
                     fit_window, prefix_args, rank_law_args, resolved_mask, scan_args,
                     default_tau, prefix_method, RESOLVED_GAP as _RESOLVED_GAP, graded_blocks as _graded_blocks,
                     chain_frob_log, balanced_log_ratio, dln_pair, padded_sigma, metric_norm_from, erank_spectra,
                     real_scalar, fit_baseline)
from .._validate import as_flag, batch_rows, value_error

__all__ = list(_FAST_ALL)  # the same public names as gsa_fast.depth


def chain_log_spectrum(factors, k, *, gates=None, panel="auto", tau=None, threads=None):
    """Reference: ``Q, R = np.linalg.qr(D @ M @ Q)`` in float64, cumulative log|R_jj|, §4.2 masks."""
    fn = "chain_log_spectrum"
    chains, bshape, k, panel, tau, glist = scan_args(factors, k, gates, panel, tau, fn)
    _check_finite_chain(chains, fn)
    _threads(threads, fn)
    L = len(chains[0])
    out = np.empty((len(chains), L, k))
    for b, c in enumerate(chains):
        Q = np.eye(c[0].shape[1])[:, :k]
        acc = np.zeros(k)
        rank = k
        for l, M in enumerate(c):
            Y = M.astype(np.float64) @ Q
            if glist is not None:
                g = glist[b * L + l]
                Y[g == 0] = 0.0
                rank = min(rank, int(g.sum()))
            Q, R = np.linalg.qr(Y)
            fro = np.linalg.norm(Y)
            for j in range(min(rank, k)):
                if not abs(R[j, j]) > tau * fro:
                    rank = j
                    break
                acc[j] += math.log(abs(R[j, j]))
            acc[rank:] = -np.inf
            out[b, l] = acc
    return out.reshape(bshape + (L, k))


def _rescaled_chain(c, d, k):
    """§4.3a by another rescaling: the float64 product divided by its largest entry, numpy SVD."""
    out = np.empty((len(d), k))
    P = np.eye(c[0].shape[1])
    logscale = 0.0
    slot = 0
    for l, M in enumerate(c, start=1):
        P = M.astype(np.float64) @ P
        mx = np.abs(P).max()
        if mx > 0:
            P = P / mx
            logscale += math.log(mx)
        if l in d:
            s = np.linalg.svd(P, compute_uv=False)[:k]
            with np.errstate(divide="ignore"):
                out[slot] = np.where(s > 0, logscale + np.log(s), -np.inf) if mx > 0 else -np.inf
            slot += 1
    return out


def _jacobi_svdvals(G, tol=1e-15, sweeps=80):
    """Singular values of G by Hestenes one-sided Jacobi (plain numpy rotations of column pairs):
    relatively accurate for column-graded G, like LAPACK dgesvj, by a separate implementation."""
    A = np.array(G, dtype=np.float64)
    w = A.shape[1]

    def norm(x):  # scaled: columns of graded blocks reach e^{-600}, whose squares underflow
        mx = np.abs(x).max()
        return 0.0 if mx == 0 else mx * math.sqrt(((x / mx) ** 2).sum())

    for _ in range(sweeps):
        rotated = False
        for i in range(w - 1):
            for j in range(i + 1, w):
                nrm = (norm(A[:, i]), norm(A[:, j]))
                if nrm[0] == 0.0 or nrm[1] == 0.0:
                    continue
                ui, uj = A[:, i] / nrm[0], A[:, j] / nrm[1]  # cosine of the two columns, scaled
                cth = float(ui @ uj)
                if abs(cth) <= tol:
                    continue
                rotated = True
                r = nrm[1] / nrm[0]  # ζ = (‖a_j‖² − ‖a_i‖²)/(2 a_i·a_j), without squaring the norms
                zeta = (r - 1.0 / r) / (2.0 * cth)
                t = (1.0 / (2.0 * zeta) if abs(zeta) > 1e150 else
                     math.copysign(1.0, zeta) / (abs(zeta) + math.sqrt(1.0 + zeta * zeta)))
                cs = 1.0 / math.sqrt(1.0 + t * t)
                sn = cs * t
                ai = A[:, i].copy()
                A[:, i] = cs * ai - sn * A[:, j]
                A[:, j] = sn * ai + cs * A[:, j]
        if not rotated:
            break
    return np.array([norm(A[:, j]) for j in range(w)])


def _graded_chain(c, d, k, tau):
    """§4.3b: numpy Householder QR scan, T̂ recursion, QR of T̂ᵀ, Hestenes Jacobi per block."""
    n0 = c[0].shape[1]
    Q, cs, T = np.eye(n0), np.zeros(n0), np.eye(n0)
    out = np.full((len(d), k), -np.inf)
    res = np.ones((len(d), k), dtype=bool)
    slot = 0
    err = 0.0
    for l, M in enumerate(c, start=1):
        w = T.shape[0]
        if w > 0:
            Y = M.astype(np.float64) @ Q
            Qn, R = np.linalg.qr(Y)
            fro = np.linalg.norm(Y)
            diag = np.abs(np.diag(R))
            bad = np.flatnonzero(~(diag > tau * fro))
            wn = int(bad[0]) if bad.size else len(diag)
            cn = cs[:wn] + np.log(diag[:wn])
            if wn:  # ~u·κ(M_ℓ) per factor: κ₁ of the frame's R, exactly (the compiled route estimates it)
                Rw = np.triu(R[:wn, :wn])
                err += 2.0 ** -53 * np.linalg.norm(Rw, 1) * np.linalg.norm(np.linalg.inv(Rw), 1)
            upper = np.triu(np.ones((wn, w), dtype=bool))  # bracket (i, j ≥ i) only: below, e^{c_j − c_i} may overflow
            br = np.where(upper, R[:wn], 0.0) * np.exp(np.where(upper, cs[None, :w] - cn[:, None], -np.inf))
            T, Q, cs = br @ T, Qn[:, :wn], cn
        if l not in d:
            continue
        w = T.shape[0]
        if w > 0:
            Rt = np.linalg.qr(T.T, mode="r")
            vals, flags = [], []
            for a, b, gl, gr in _graded_blocks(cs):
                cm = cs[a:b].max()
                blk = np.triu(Rt[a:b, a:b]) * np.exp(cs[a:b] - cm)[None, :]
                sv = _jacobi_svdvals(blk)
                with np.errstate(divide="ignore"):
                    vals += list(np.where(sv > 0, cm + np.log(sv), -np.inf))
                flags += [gl >= _RESOLVED_GAP and gr >= _RESOLVED_GAP] * (b - a)
            order = np.argsort(vals, kind="stable")[::-1][:k]
            out[slot, :len(order)] = np.array(vals)[order]
            res[slot, :len(order)] = np.array(flags)[order] & (err <= 1e-6)
        slot += 1
    return out, res


def prefix_log_svdvals(factors, depths=None, k=None, *, method="auto", threads=None):
    """Reference: §4.3a by max-entry rescaling and numpy SVD; §4.3b by a numpy QR scan and a
    Hestenes Jacobi SVD; 'auto' takes (b) for chains (a) leaves unresolved."""
    fn = "prefix_log_svdvals"
    chains, bshape, d, k = prefix_args(factors, depths, k, fn)
    method = prefix_method(method, fn)
    _threads(threads, fn)
    c0 = chains[0]
    nmax = max([c0[0].shape[1]] + [m.shape[0] for m in c0])
    tau = default_tau(nmax, "float64")
    out = np.empty((len(chains), len(d), k))
    res = np.empty(out.shape, dtype=bool)
    graded = np.zeros(len(chains), dtype=bool)
    for b, c in enumerate(chains):
        if method != "graded":
            out[b] = _rescaled_chain(c, d, k)
            res[b] = resolved_mask(out[b], d, nmax)
        if method == "graded" or (method == "auto" and not res[b].all()):
            go, gr = _graded_chain(c, d, k, tau)
            if not np.isnan(go).any():
                out[b], res[b], graded[b] = go, gr, True
            elif method == "graded":
                out[b] = _rescaled_chain(c, d, k)
                res[b] = resolved_mask(out[b], d, nmax)
    return PrefixLogSvdvals(out.reshape(bshape + (len(d), k)), res.reshape(bshape + (len(d), k)),
                            d, graded.reshape(bshape))


def _digamma(x: float) -> float:
    """ψ(x), x > 0: shift to x ≥ 12, then the asymptotic series (independent of the Ψ table)."""
    acc = 0.0
    while x < 12.0:
        acc -= 1.0 / x
        x += 1.0
    x2 = 1.0 / (x * x)
    series = x2 * (1 / 12 - x2 * (1 / 120 - x2 * (1 / 252 - x2 * (1 / 240 - x2 * (1 / 132)))))
    return acc + math.log(x) - 0.5 / x - series


def random_lyapunov(n, p=1.0, sigma=None, r=None):
    """Reference: the full binomial law over t ∈ [r, n] (lgamma), a double loop over (i, t)."""
    fn = "random_lyapunov"
    n, p, sigma, r = _check_lyap_args(n, p, sigma, r, fn)
    psi = {m: _digamma(m / 2.0) for m in range(1, n + 2)}
    c0 = 0.5 * math.log(2.0) + math.log(sigma)
    t_all = np.arange(n + 1)
    if p == 1.0:
        lw = np.where(t_all == n, 0.0, -np.inf)
    else:
        lw = np.array([math.lgamma(n + 1) - math.lgamma(t + 1) - math.lgamma(n - t + 1)
                       + t * math.log(p) + (n - t) * math.log1p(-p) for t in t_all])
    gamma = np.full(n, -np.inf)
    for i in range(1, n + 1):
        lo = i if (r is None or p == 1.0) else r
        if p < 1.0 and r is not None and i > r:
            continue
        sel = lw[lo:]
        w = np.exp(sel - sel.max())
        pi = w / w.sum()
        gamma[i - 1] = c0 + 0.5 * sum(pi[j] * psi[t - i + 1] for j, t in enumerate(range(lo, n + 1))
                                      if pi[j] > 0)
    d = np.array([0.5 * sum(psi[n - kk + 1] - psi[i - kk + 1] for kk in range(1, i + 1))
                  for i in range(1, n + 1)])
    delta = np.diff(np.concatenate(([0.0], d)))
    return RandomLyapunov(gamma, d, delta)


def gated_rank_law(n, L, p, r0=None, model="G"):
    """Reference: S(r) = Σ_{t≥r} C(n,t) pᵗ(1−p)^{n−t} in exact rationals where small, floats otherwise."""
    n, p, r0, G = rank_law_args(n, L, p, r0, model, "gated_rank_law")
    pmf = np.array([math.exp(math.lgamma(n + 1) - math.lgamma(t + 1) - math.lgamma(n - t + 1)
                             + (t * math.log(p) if p > 0 else 0.0)
                             + ((n - t) * math.log1p(-p) if p < 1 else (0.0 if t == n else -np.inf)))
                    for t in range(n + 1)])
    S = np.array([pmf[r:].sum() for r in range(n + 1)])
    if r0 is not None:
        S = np.where(np.arange(n + 1) <= r0, 1.0, S / S[r0])
    sf = S ** G
    return RankLaw(sf, float(sf[1:].sum()))


def separation_ratios(log_s, eps=None):
    """Reference: element loops."""
    fn = "separation_ratios"
    a = _log_spectra(log_s, fn, "log_s")
    eps = None if eps is None else real_scalar(eps, fn, "eps", lo=0.0, lo_open=True)
    flat = batch_rows(a)
    K = a.shape[-1]
    ratios = np.empty((flat.shape[0], max(K - 1, 0)))
    gaps = np.empty_like(ratios)
    for b in range(flat.shape[0]):
        for j in range(K - 1):
            hi, lo = flat[b, j], flat[b, j + 1]
            if hi == -np.inf:
                ratios[b, j], gaps[b, j] = np.nan, np.nan
            else:
                gaps[b, j] = hi - lo
                ratios[b, j] = 0.0 if lo == -np.inf else math.exp(lo - hi)
    rank = None
    if eps is not None:
        e = eps
        rank = np.zeros(flat.shape[0], dtype=np.int64)
        for b in range(flat.shape[0]):
            r = 0
            while r < K - 1 and ratios[b, r] < e:
                r += 1
            rank[b] = r
        rank = rank.reshape(a.shape[:-1])
    shp = a.shape[:-1] + (max(K - 1, 0),)
    return Separation(ratios.reshape(shp), gaps.reshape(shp), rank)


def depth_scaling_fit(y, start=0, stop=None, baseline=None):
    """Reference: np.polyfit (degree 1) per column."""
    fn = "depth_scaling_fit"
    a, w, ell = fit_window(y, start, stop, fn)
    base = fit_baseline(baseline, a, fn)
    flat = batch_rows(np.moveaxis(w, -2, -1))
    res = np.full((flat.shape[0], 3), np.nan)
    for i, yy in enumerate(flat):
        if len(yy) >= 2 and np.isfinite(yy).all():
            sl, ic = np.polyfit(ell, yy, 1)
            res[i] = sl, ic, np.abs(yy - sl * ell - ic).max()
    shp = a.shape[:-2] + a.shape[-1:]
    slope, icpt, mr = (res[:, j].reshape(shp) for j in range(3))
    excess = None
    if base is not None:
        excess = slope - base
    return DepthFit(slope, icpt, mr, excess)


def _rho_raw(A):
    """§7.3 ρ in the paper's raw-moment form (App. F), |A| weights, b = n."""
    W = np.abs(A)
    b = W.shape[0]
    if b < 2:
        return np.nan
    one = np.ones(b)
    r1 = np.arange(1, b + 1, dtype=np.float64)
    r2 = r1 ** 2
    m = W.sum()
    num = m * r1 @ W @ r1 - (r1 @ W @ one) * (one @ W @ r1)
    den = (m * r2 @ W @ one - (r1 @ W @ one) ** 2) * (m * one @ W @ r2 - (one @ W @ r1) ** 2)
    if not den > 0:
        return np.nan
    return float(np.clip(num / math.sqrt(den), -1.0, 1.0))


def subspace_alignment(A, B, k, *, side_a="left", side_b="left", threads=None):
    """Reference: numpy SVD per pair; angles by arcsin/arccos; ρ in the raw-moment form."""
    fn = "subspace_alignment"
    la, lb, bshape, k = alignment_args(A, B, k, side_a, side_b, fn)
    _threads(threads, fn)
    for i, (x, y) in enumerate(zip(la, lb)):  # what the kernel's status reports (code 1)
        if not (np.isfinite(x).all() and np.isfinite(y).all()):
            raise alignment_error(fn, 1, i, bshape)
    R = np.empty(bshape + (k, k))
    ang = np.empty(bshape + (k,))
    rho = np.empty(bshape)
    for idx, x, y in zip(np.ndindex(*bshape), la, lb):
        UA = np.linalg.svd(x.astype(np.float64))[0][:, :k]
        UB = np.linalg.svd(y.astype(np.float64))[0][:, :k]
        O = UA.T @ UB
        sgn = np.where(np.diag(O) < 0, -1.0, 1.0)
        Rr = O * sgn
        cs = np.clip(np.linalg.svd(O, compute_uv=False), 0.0, 1.0)[::-1]  # ascending cos
        th = np.arccos(cs)[::-1]  # ascending angles
        sn = np.clip(np.linalg.svd(UB - UA @ O, compute_uv=False), 0.0, 1.0)[::-1]  # ascending
        small = sn < 0.5
        th = np.where(small, np.arcsin(sn), th)
        R[idx], ang[idx], rho[idx] = Rr, th, _rho_raw(Rr)
    eye = np.eye(k)
    off = np.where(eye.astype(bool), 0.0, np.abs(R)).max(axis=(-2, -1))
    return Alignment(R, ang, rho, off, np.abs(R - eye).max(axis=(-2, -1)))


def relative_imbalance(factors):
    """Reference: the expanded form is avoided (it cancels); explicit Grams, loops."""
    fn = "relative_imbalance"
    chains, bshape = _chain(factors, fn)
    L = len(chains[0])
    out = np.empty((len(chains), max(L - 1, 0)))
    for b, c in enumerate(chains):
        for p in range(L - 1):
            w0, w1 = c[p].astype(np.float64), c[p + 1].astype(np.float64)
            # ι is invariant under a common scaling of the pair: bring the largest entry into
            # [½, 1) by a power of two (exact) so that ‖W‖⁴ neither over- nor underflows
            scale = math.ldexp(1.0, -math.frexp(max(np.abs(w0).max(initial=0.0), np.abs(w1).max(initial=0.0)))[1])
            w0, w1 = w0 * scale, w1 * scale
            G = np.einsum("ik,jk->ij", w0, w0) - np.einsum("ki,kj->ij", w1, w1)
            den = math.sqrt((np.einsum("ik,jk->ij", w0, w0) ** 2).sum())
            out[b, p] = math.sqrt((G ** 2).sum()) / den if den > 0 else np.nan
    return out.reshape(bshape + (max(L - 1, 0),))


def _sqrtm_psd(x):
    w, v = np.linalg.eigh(x)
    return (v * np.sqrt(np.clip(w, 0, None))[..., None, :]) @ np.swapaxes(v, -1, -2)


def bures_transport_map(A, B):
    """Reference: sqrtm route T = A^{-1/2}(A^{1/2} B A^{1/2})^{1/2} A^{-1/2}."""
    fn = "bures_transport_map"
    a, b = _spd_pair(A, B, fn)
    w, v = np.linalg.eigh(a)
    if (w <= 1e-14 * np.abs(w).max(initial=0.0)).any():
        raise value_error(fn, "A", "positive definite (no transport map from a singular A)",
                          "a singular or indefinite matrix")
    ra = (v * np.sqrt(w)[..., None, :]) @ np.swapaxes(v, -1, -2)
    ria = (v / np.sqrt(w)[..., None, :]) @ np.swapaxes(v, -1, -2)
    T = ria @ _sqrtm_psd(ra @ b @ ra) @ ria
    return 0.5 * (T + np.swapaxes(T, -1, -2))


def bures_geodesic(A, B, t):
    """Reference: the upstairs line W(t) = (1−t)A^{1/2} + t B^{1/2}U for every input."""
    fn = "bures_geodesic"
    a, b = _spd_pair(A, B, fn)
    tt = geodesic_times(t, fn)
    # the fast route's PSD checks (shared _psd_sqrt): through A's Cholesky factor when A is
    # positive definite, else on A, then B
    try:
        Lc = np.linalg.cholesky(a)
    except np.linalg.LinAlgError:
        _psd_sqrt(a, fn, "A")
        _psd_sqrt(b, fn, "B")
    else:
        _psd_sqrt(_sym(np.swapaxes(Lc, -1, -2) @ b @ Lc), fn, "B")
    if tt.ndim == 1 and tt.size == 0:  # no points: shape (0, ..., n, n)
        return np.empty((0,) + np.broadcast_shapes(a.shape, b.shape))
    ra, rb = _sqrtm_psd(a), _sqrtm_psd(b)
    W_, _, Zt = np.linalg.svd(rb @ ra)
    U = W_ @ Zt
    outs = []
    for s in np.atleast_1d(tt):
        Wt = (1 - s) * ra + s * rb @ U
        X = Wt @ np.swapaxes(Wt, -1, -2)
        outs.append(0.5 * (X + np.swapaxes(X, -1, -2)))
    out = np.stack(outs)
    return out[0] if tt.ndim == 0 else out


def _lam(a, b, N):
    """λ_kl by the literal N-term sum (finite N) or the log-mean (N = None)."""
    if N is None:
        if a == b:
            return a * a
        if a == 0 or b == 0:
            return 0.0
        hi, lo = max(a, b), min(a, b)  # (hi² − lo²)/(2 log(hi/lo)); log1p keeps near-ties exact
        return (hi - lo) * (hi + lo) / (2.0 * math.log1p((hi - lo) / lo))
    return sum(a ** (2 * (N - p) / N) * b ** (2 * (p - 1) / N) for p in range(1, N + 1))


def _g(a, b, N):
    """∂/∂a of ½ log λ(a, b), direct form."""
    if a == b:
        return (1.0 - (0.0 if N is None else 1.0 / N)) / (2 * a)
    first = a / (a * a - b * b)
    if b == 0:  # λ(a, 0) = a^{2−2/N}: (1 − 1/N)/a; N = ∞: a/a² − 1/(a·∞) = 1/a
        return (1.0 - (0.0 if N is None else 1.0 / N)) / a
    if N is None:
        return first - 1.0 / (a * (math.log(a * a) - math.log(b * b)))
    return first - (1.0 / N) * a ** (2.0 / N - 1) / (a ** (2.0 / N) - b ** (2.0 / N))


def dln_log_volume(sigma, N=None, *, grad=False, threads=None):
    """Reference: literal λ sums, direct-form gradient, plain double loops."""
    fn = "dln_log_volume"
    s = _spectra_rows(sigma, fn)
    _inv_n(N, fn)
    grad = as_flag(grad, fn, "grad")
    _threads(threads, fn)
    if N is not None and isinstance(N, float):
        N = None
    flat = batch_rows(s)
    d = s.shape[-1]
    S = np.empty(flat.shape[0])
    G = np.empty_like(flat)
    for r, row in enumerate(flat):
        tot = 0.0
        for j in range(d):
            for kk in range(j + 1, d):
                lam = _lam(row[j], row[kk], N)
                tot += math.log(lam) if lam > 0 else -np.inf
        S[r] = 0.5 * tot
        for i in range(d):
            if row[i] == 0 and d >= 2 and N == 2:  # λ(a, b) = a + b: ∂/∂a ½ log λ = 1/(2(a + b)), finite
                others = [row[j] for j in range(d) if j != i]
                G[r, i] = np.inf if min(others) == 0 else sum(0.5 / b for b in others)
            elif row[i] == 0 and d >= 2 and N != 1:
                G[r, i] = np.inf
            else:
                G[r, i] = sum(_g(row[i], row[j], N) for j in range(d) if j != i) if N != 1 else 0.0
    S = S.reshape(s.shape[:-1])
    return (S, G.reshape(s.shape)) if grad else S


def balancedness_ratio(factors, *, threads=None):
    """Reference: numerator by plain float64 sums of squares, log σ from the reference
    prefix_log_svdvals (§4.3, auto)."""
    fn = "balancedness_ratio"
    chains, bshape = _chain(factors, fn)
    _check_finite_chain(chains, fn)
    _threads(threads, fn)
    N = len(chains[0])
    log_s = prefix_log_svdvals(factors, depths=[N]).log_s[..., 0, :]
    num = []
    for c in chains:
        tot = sum(float((m.astype(np.float64) ** 2).sum()) for m in c)
        num.append(math.log(tot) if tot > 0 else -np.inf)
    return np.exp(balanced_log_ratio(np.array(num).reshape(bshape), log_s, N))


def dln_eigenvalues(sigma, N=None, *, threads=None):
    """Reference: the literal N-term sum (finite N) or the direct log-mean, element by element."""
    fn = "dln_eigenvalues"
    s = _spectra_rows(sigma, fn)
    _inv_n(N, fn)
    _threads(threads, fn)
    if isinstance(N, float):
        N = None
    flat = batch_rows(s)
    d = s.shape[-1]
    out = np.empty((flat.shape[0], d, d))
    for r, row in enumerate(flat):
        for i in range(d):
            for j in range(d):
                out[r, i, j] = _lam(row[i], row[j], N)
    return out.reshape(s.shape + (d,))


def _psd_power(G, p):
    w, v = np.linalg.eigh(G)
    # eigenvalues of a Gram XXᵀ below its rounding level (~n·u·λ_max) are zeros of a rank-deficient
    # X: a fractional power would blow their rounding up (1e-16 → 1e-8 for the square root)
    w = np.where(w > 10 * len(w) * 2.0 ** -53 * max(w.max(), 0.0), w, 0.0)
    with np.errstate(divide="ignore"):
        wp = np.where(w > 0, w ** p, 1.0 if p == 0 else 0.0)
    return (v * wp[..., None, :]) @ np.swapaxes(v, -1, -2)


def _operator_matrix(x, N):
    """The mn × mn matrix of Z ↦ 𝒜_{N,X}(Z) on row-major vec(Z) (one matrix X): the literal sum
    of Kronecker products (finite N); the eigenbasis with the log-mean (N = None)."""
    m, n = x.shape
    if N is None:
        U, s, Vt = np.linalg.svd(x, full_matrices=True)
        sk, sl = padded_sigma(s, m, n)
        lam = np.array([[_lam(a, b, None) for b in sl] for a in sk])
        K = np.kron(U, Vt.T)  # vec(U E Vᵀ) = (U ⊗ V) vec(E), row-major
        return K @ np.diag(lam.reshape(-1)) @ K.T
    A = x @ x.T
    B = x.T @ x
    return sum(np.kron(_psd_power(A, (N - p) / N), _psd_power(B, (p - 1) / N).T)
               for p in range(1, N + 1))


def dln_operator(X, Z, N=None, *, inverse=False, threads=None):
    """Reference: the operator as an explicit mn × mn matrix (literal sum of matrix powers);
    the inverse by a linear solve."""
    fn = "dln_operator"
    inverse = as_flag(inverse, fn, "inverse")
    x, z = dln_pair(X, Z, fn)
    inv_n = _inv_n(N, fn)
    _threads(threads, fn)
    Nn = None if inv_n == 0.0 else int(round(1.0 / inv_n))
    m, n = x.shape[-2:]
    out = np.empty(x.shape)
    for idx in np.ndindex(*x.shape[:-2]):
        K = _operator_matrix(x[idx], Nn)
        v = z[idx].reshape(-1)
        if inverse:
            if np.linalg.svd(x[idx], compute_uv=False).min() == 0 or (Nn is None and m != n):
                raise value_error(fn, "X", "of full rank for inverse=True (every λ_kl > 0)",
                                  "a rank-deficient X (λ_kl = 0)")
            out[idx] = np.linalg.solve(K, v).reshape(m, n)
        else:
            out[idx] = (K @ v).reshape(m, n)
    return out


def dln_metric_norm(X, Z, N=None, *, threads=None):
    """Reference: Z̃ = UᵀZV and the literal λ sums, element by element."""
    fn = "dln_metric_norm"
    x, z = dln_pair(X, Z, fn)
    inv_n = _inv_n(N, fn)
    _threads(threads, fn)
    Nn = None if inv_n == 0.0 else int(round(1.0 / inv_n))
    m, n = x.shape[-2:]
    out = np.empty(x.shape[:-2])
    for idx in np.ndindex(*x.shape[:-2]):
        U, s, Vt = np.linalg.svd(x[idx], full_matrices=True)
        sk, sl = padded_sigma(s, m, n)
        lam = np.array([[_lam(a, b, Nn) for b in sl] for a in sk])
        out[idx] = metric_norm_from(U.T @ z[idx] @ Vt.T, lam)
    return out


def effective_rank(spectra, *, threads=None):
    """Reference: q = σ/Σσ and exp(−Σ q log q) directly (0 log 0 = 0), per spectrum."""
    fn = "effective_rank"
    b = erank_spectra(spectra, fn)
    _threads(threads, fn)
    out = np.empty(b.lengths.size)
    for i, (st, ln) in enumerate(zip(b.starts, b.lengths)):
        sv = np.asarray(b.values[st:st + ln], dtype=np.float64)
        tot = sv.sum()
        if not tot > 0:
            out[i] = np.nan
            continue
        q = sv / tot
        with np.errstate(divide="ignore", invalid="ignore"):
            out[i] = math.exp(-np.where(q > 0, q * np.log(q), 0.0).sum())
    return out.reshape(b.batch_shape)
