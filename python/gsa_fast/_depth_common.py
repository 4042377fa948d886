"""Argument checks, result types and numpy helpers of gsa_fast.depth, shared with its reference twin
(gsa_fast.reference.depth), which must not import the compiled modules. No compiled code here."""
from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np

from ._ragged import RaggedSpectra, as_spectra
from ._validate import (MAX_WIDTH, as_choice, as_float_array, as_int, as_real_array, as_threads,
                        host_array, type_error, value_error)

PUBLIC = ['chain_log_spectrum', 'prefix_log_svdvals', 'random_lyapunov', 'gated_rank_law', 'separation_ratios', 'depth_scaling_fit', 'subspace_alignment', 'relative_imbalance', 'bures_transport_map', 'bures_geodesic', 'dln_log_volume', 'balancedness_ratio', 'dln_eigenvalues', 'dln_operator', 'dln_metric_norm', 'effective_rank']


_U64 = float(np.finfo(np.float64).eps) / 2


_U32 = float(np.finfo(np.float32).eps) / 2


EULER_GAMMA = 0.57721566490153286060651209008240243


def array_module(a):
    """The array library that owns ``a``: numpy for host arrays, the device library (cupy) for a
    device array (results of the device routes keep their methods on the device)."""
    import importlib

    return importlib.import_module(type(a).__module__.split(".")[0]) if hasattr(a, "shape") else np


class PrefixLogSvdvals(NamedTuple):
    """Log singular values of prefix products ``M_{1:ℓ}`` at the requested depths."""

    log_s: np.ndarray  # (..., n_depths, k), descending, −∞ for exact zeros
    resolved: np.ndarray  # bool, same shape: the value is within 1e-6 (absolute, in log s_i)
    depths: np.ndarray  # int64 (n_depths,), 1-based
    graded: np.ndarray  # bool (...): the chain's values come from the row-graded form (§4.3(b))


class RandomLyapunov(NamedTuple):
    """Closed-form Lyapunov exponents and finite-depth constants of gated Gaussian layers."""

    gamma: np.ndarray  # (n,) γ_i, −∞ for i > r
    d: np.ndarray  # (n,) d_i (i = 1..n; d_0 = 0)
    delta: np.ndarray  # (n,) Δ_i = d_i − d_{i−1}

    def mean_log_svdvals(self, L):
        """First-order prediction of ``E log s_i(J_L)`` at depth(s) ``L`` (§3.3, corrected sign):
        ``L·γ_i + Δ_i``; shape ``(len(L), n)`` for an array, ``(n,)`` for a scalar."""
        xp = array_module(self.gamma)
        Ls = xp.asarray(L, dtype=np.float64)
        out = Ls[..., None] * self.gamma + self.delta
        return xp.where(self.gamma == -np.inf, -np.inf, out)


class RankLaw(NamedTuple):
    """Law of ``rank J`` for a product of gated full-rank layers (§6)."""

    sf: np.ndarray  # (n + 1,) P(rank ≥ r), r = 0..n
    mean: float  # E rank

    def cdf(self, r):
        """``P(rank ≤ r)``."""
        xp = array_module(self.sf)
        r = xp.asarray(r, dtype=np.int64)
        nxt = xp.clip(r + 1, 0, len(self.sf))
        sf_ext = xp.concatenate([self.sf, xp.zeros(1)])
        return 1.0 - sf_ext[nxt]

    def quantile(self, alpha):
        """``q_α = min{r : P(rank ≤ r) ≥ α}``."""
        xp = array_module(self.sf)
        cdf = self.cdf(xp.arange(len(self.sf)))
        a = xp.asarray(alpha, dtype=np.float64)
        return xp.searchsorted(cdf, a - 1e-12, side="left").astype(np.int64)


class Separation(NamedTuple):
    """Separation of log spectra (§5.1)."""

    ratios: np.ndarray  # (..., k − 1) q_j = s_{j+1}/s_j
    log_gaps: np.ndarray  # (..., k − 1) log s_j − log s_{j+1}
    rank: np.ndarray | None  # int64 (...): separation rank r_sep(eps), when eps is given


class DepthFit(NamedTuple):
    """Least-squares fit ``y_ℓ ≈ slope·ℓ + intercept`` per column (§5.2)."""

    slope: np.ndarray  # (..., k) empirical exponent γ̂_k
    intercept: np.ndarray  # (..., k) δ̂_k
    max_resid: np.ndarray  # (..., k) ε̂_k
    excess: np.ndarray | None  # slope − baseline, when a baseline is given


class Alignment(NamedTuple):
    """Top-k singular-subspace alignment (§7.1, §7.3)."""

    R: np.ndarray  # (..., k, k) sign-fixed overlap U_Aᵀ U_B, diag ≥ 0
    angles: np.ndarray  # (..., k) principal angles θ_j in [0, π/2], ascending
    rho: np.ndarray  # (...) diagonal correlation of |R| (block size k), sign-invariant
    max_offdiag: np.ndarray  # (...) max_{i≠j} |R_ij|
    dist_identity: np.ndarray  # (...) ‖R − I‖_max


def _float_matrix(x, fn, arg):
    return as_float_array(x, fn, arg, "float32 or float64")


def _spectra_rows(sigma, fn, arg="sigma", real=None):
    """Nonnegative spectra with at least one axis (rows of singular values). ``real``: the
    finite-reals rule (default: the host's as_real_array; the device routes pass theirs)."""
    s = (real or as_real_array)(sigma, fn, arg, lo=0.0)
    if s.ndim == 0:
        raise value_error(fn, arg, "an array of singular values with at least one axis", "a 0-d array")
    return s


def _chain(factors, fn, arg="factors", matrix=None):
    """(list of 2-D views per chain, B, L, batch shape, stacked?) without copying. ``matrix``
    validates one array (default: the host rule; the device route passes its own)."""
    matrix = matrix or _float_matrix
    if isinstance(factors, (list, tuple)):
        if len(factors) == 0:
            raise value_error(fn, arg, "a non-empty chain", "an empty list")
        mats = [matrix(m, fn, f"{arg}[{i}]") for i, m in enumerate(factors)]
        for i, m in enumerate(mats):
            if m.ndim != 2:
                raise value_error(fn, f"{arg}[{i}]", "a 2-D matrix", f"shape {m.shape}")
            if m.dtype != mats[0].dtype:
                raise type_error(fn, f"{arg}[{i}]", f"of one dtype ({mats[0].dtype})", m)
        chains, bshape = [mats], ()
    else:
        a = matrix(factors, fn, arg)
        if a.ndim < 3:
            raise value_error(fn, arg, "a stack (L, n, n) or (..., L, m, n), or a list of matrices",
                              f"shape {a.shape}")
        if a.shape[-3] == 0:
            raise value_error(fn, arg, "a non-empty chain", f"shape {a.shape}")
        bshape = a.shape[:-3]
        # views only (a reshape of a non-contiguous batch would copy it)
        chains = [[a[idx + (l,)] for l in range(a.shape[-3])] for idx in np.ndindex(*bshape)]
    for c in chains:
        for i in range(1, len(c)):
            if c[i].shape[1] != c[i - 1].shape[0]:
                raise value_error(fn, arg, "a compatible chain (cols of factor l+1 = rows of factor l)",
                                  f"factor {i} of shape {c[i].shape} after {c[i - 1].shape}")
        for i, m in enumerate(c):
            if m.size == 0:
                raise value_error(fn, arg, "non-empty matrices", f"factor {i} of shape {m.shape}")
    return chains, bshape


def _check_finite_chain(chains, fn, arg="factors", xp=np):
    """Every factor finite (``xp``: the factors' array namespace). The verdicts are stacked and
    read in one transfer: a device chain costs one host synchronization, not one per factor."""
    verdicts = [xp.isfinite(m).all() for c in chains for m in c]
    if not verdicts:
        return
    ok = xp.stack(verdicts)
    ok = np.asarray(ok.get() if hasattr(ok, "get") else ok, dtype=bool)
    if not ok.all():
        i = int(np.argmin(ok)) % len(chains[0])  # the first bad factor's place in its chain
        raise value_error(fn, arg, "finite (no NaN or Inf)", f"non-finite values in factor {i}")


def _check_k(k, chains, fn):
    k = as_int(k, fn, "k", minimum=1)
    c = chains[0]
    width = min([c[0].shape[1]] + [m.shape[0] for m in c])
    if k > width:
        raise value_error(fn, "k", f"<= the smallest width of the chain ({width})", repr(k))
    return k


def _gate_list(gates, chains, bshape, fn):
    if gates is None:
        return None
    L = len(chains[0])
    if isinstance(gates, (list, tuple)):
        if len(chains) != 1 or len(gates) != L:
            raise value_error(fn, "gates", f"a list of {L} row masks (one per factor)",
                              f"length {len(gates)}")
        rows = [np.asarray(g) for g in gates]
        out = [rows]
    else:
        g = np.asarray(gates)
        if g.shape[:-1] != bshape + (L,):
            raise value_error(fn, "gates", f"of shape {bshape + (L,)} + (rows,)", f"shape {g.shape}")
        gflat = g.reshape((-1, L, g.shape[-1]))
        out = [[gflat[b, l] for l in range(L)] for b in range(gflat.shape[0])]
    res = []
    for b, rows in enumerate(out):
        for l, r in enumerate(rows):
            if r.ndim != 1 or r.shape[0] != chains[b][l].shape[0]:
                raise value_error(fn, "gates", "one 0/1 entry per row of each factor",
                                  f"shape {r.shape} for a factor with {chains[b][l].shape[0]} rows")
            if r.dtype.kind not in "biuf" or not np.isin(r, (0, 1)).all():
                raise value_error(fn, "gates", "0/1 (or bool) masks", "other values")
            res.append(np.ascontiguousarray(r, dtype=np.uint8))
    return res


def _threads(threads, fn):
    return as_threads(threads, fn)


def real_scalar(x, fn, arg, **rule):
    """A real scalar option (``tau``, ``eps``) as a Python float: as_real_array's kind, NaN/Inf and
    range rules (``rule``), and a ValueError for an array with axes (numpy's own float() error
    otherwise). A 0-d array counts as a scalar."""
    a = as_real_array(x, fn, arg, what="a real number", **rule)
    if a.ndim != 0:
        raise value_error(fn, arg, "a real number (a scalar)", f"an array of shape {a.shape}")
    return float(a)


PANELS = ("auto", "float32", "float64")


def default_tau(n: int, panel: str) -> float:
    """Rank-flag threshold τ = 10·n·u of the panel precision (§4.2)."""
    return 10.0 * n * (_U32 if panel == "float32" else _U64)


def _panel(panel, chains, fn):
    dt = chains[0][0].dtype
    if panel is None or as_choice(panel, fn, "panel", PANELS) == "auto":  # None: as 'auto'
        return "float64"
    if panel == "float32" and dt != np.float32:
        raise value_error(fn, "panel", "'float64' for float64 factors", repr(panel))
    return panel


def scan_args(factors, k, gates, panel, tau, fn, matrix=None):
    """Validated (chains, batch shape, k, panel, tau, gate list) of a chain scan."""
    chains, bshape = _chain(factors, fn, matrix=matrix)
    k = _check_k(k, chains, fn)
    panel = _panel(panel, chains, fn)
    nmax = max([chains[0][0].shape[1]] + [m.shape[0] for m in chains[0]])
    tau = default_tau(nmax, panel) if tau is None else real_scalar(tau, fn, "tau", lo=0.0)
    return chains, bshape, k, panel, tau, _gate_list(gates, chains, bshape, fn)


def prefix_args(factors, depths, k, fn, matrix=None, xp=np):
    """Validated (chains, batch shape, depths, k) of a prefix-product request (``matrix``/``xp``:
    the device route's array check and namespace)."""
    chains, bshape = _chain(factors, fn, matrix=matrix)
    _check_finite_chain(chains, fn, xp=xp)
    d = _depths(depths, len(chains[0]), fn)
    c = chains[0]
    width = min([c[0].shape[1]] + [c[l - 1].shape[0] for l in d])
    k = width if k is None else as_int(k, fn, "k", minimum=1)
    if k > width:
        raise value_error(fn, "k", f"<= min(n_0, n_ℓ) over the requested depths ({width})", repr(k))
    return chains, bshape, d, k


def _depths(depths, L, fn):
    if depths is None:
        return np.arange(1, L + 1, dtype=np.int64)
    d = np.atleast_1d(host_array(depths, fn, "depths", "a 1-D array of ints"))
    if d.dtype.kind not in "iu" or d.ndim != 1:
        raise type_error(fn, "depths", "a 1-D array of ints", d)
    if d.size == 0 or d.min() < 1 or d.max() > L or np.any(np.diff(d) <= 0):
        raise value_error(fn, "depths", f"strictly increasing ints in [1, {L}]", repr(d.tolist()))
    return d.astype(np.int64)


def resolved_mask(log_s, depths, n, xp=np):
    """True where the error estimate ``ℓ·n·u·s_1/s_i`` of the rescaled float64 product is at most
    1e-6 (absolute, in log s_i), i.e. ``s_i/s_1 ≥ 1e6·ℓ·n·u`` (``log_s`` of namespace ``xp``)."""
    tol = xp.asarray(np.log(1e6 * n * depths.astype(np.float64) * _U64))
    with np.errstate(invalid="ignore"):
        ok = (log_s - log_s[..., :1]) > tol[:, None]
    return ok | xp.isneginf(log_s[..., :1])  # a zero product (a zero factor) is exact


def _check_lyap_args(n, p, sigma, r, fn):
    n = as_int(n, fn, "n", minimum=1)
    if n > MAX_WIDTH:  # the width limit of every function (exact in float64); O(n) tables follow
        raise value_error(fn, "n", "an integer <= 2**53", repr(n))
    # 0-d arrays count as scalars (the device routes hand their 0-d parameters over the same way)
    p, sigma = (x[()] if isinstance(x, np.ndarray) and x.ndim == 0 else x for x in (p, sigma))
    if isinstance(p, (bool, np.bool_)) or not isinstance(p, (int, float, np.integer, np.floating)):
        raise type_error(fn, "p", "a real number in (0, 1]", p)
    p = float(p)
    if not (0.0 < p <= 1.0):
        raise value_error(fn, "p", "in (0, 1]", repr(p))
    if sigma is None:
        sigma = 1.0 / math.sqrt(n)
    elif isinstance(sigma, (bool, np.bool_)) or not isinstance(sigma, (int, float, np.integer, np.floating)):
        raise type_error(fn, "sigma", "a positive real number", sigma)
    sigma = float(sigma)
    if not (sigma > 0.0 and math.isfinite(sigma)):
        raise value_error(fn, "sigma", "a finite number > 0", repr(sigma))
    if r is not None:
        r = as_int(r, fn, "r", minimum=1)
        if r > n:
            raise value_error(fn, "r", f"in [1, n] = [1, {n}]", repr(r))
    return n, p, sigma, r


def psi_half_table(m_max: int) -> np.ndarray:
    """``Ψ[m] = ψ(m/2)`` for m = 0..m_max (Ψ[0] = NaN), by the recurrence Ψ[m+2] = Ψ[m] + 2/m."""
    out = np.full(m_max + 1, np.nan)
    if m_max >= 1:
        odd = np.arange(1, m_max + 1, 2)  # m = 1, 3, 5, ...: ψ(j + ½) = ψ(½) + Σ_{i≤j} 2/(2i−1)
        inc = np.concatenate(([-EULER_GAMMA - 2 * math.log(2.0)], 2.0 / odd[:-1]))
        out[odd] = np.cumsum(inc)
    if m_max >= 2:
        even = np.arange(2, m_max + 1, 2)  # m = 2j + 2: ψ(j + 1) = −γ_E + H_j
        inc = np.concatenate(([-EULER_GAMMA], 2.0 / even[:-1]))
        out[even] = np.cumsum(inc)
    return out


def _log_binom_window(n, p, lo):
    """Relative log weights log w_t − log w_{t*} of Bin(n, p) on the window of t ≥ lo where they
    exceed −40, anchored at t* = argmax_{t≥lo} w_t. Returns (start, weights normalised to sum 1)."""
    if p == 1.0:
        return n, np.ones(1)
    mode = min(n, int(math.floor((n + 1) * p)))
    ts = max(lo, mode)
    lp, lq = math.log(p), math.log1p(-p)
    # log w_{t+1} − log w_t = log(n − t) − log(t + 1) + log p − log(1 − p)
    t_up = np.arange(ts, n)
    up = np.cumsum(np.log(n - t_up) - np.log(t_up + 1.0) + lp - lq)
    n_up = int(np.searchsorted(-up, 40.0, side="right"))  # up is decreasing: keep while ≥ −40
    t_dn = np.arange(ts - 1, lo - 1, -1)
    dn = np.cumsum(-(np.log(n - t_dn) - np.log(t_dn + 1.0) + lp - lq))
    n_dn = int(np.searchsorted(-dn, 40.0, side="right"))
    lw = np.concatenate((dn[:n_dn][::-1], [0.0], up[:n_up]))
    w = np.exp(lw)
    return ts - n_dn, w / w.sum()


def _fill_tail(gamma, n, p, a0, width, psi, c0):
    """γ_i for i > a0 under the law of t given t ≥ i (r=None): every row is the window
    t = i + s, s < width, so γ_i = c0 + ½ Σ_s w_{i,s} ψ((s + 1)/2) / Σ_s w_{i,s} — one matrix."""
    if a0 >= n:
        return
    mode = min(n, int(math.floor((n + 1) * p)))
    lp, lq = math.log(p), math.log1p(-p)
    t = np.arange(n)
    inc = np.log(n - t) - np.log(t + 1.0) + lp - lq  # log w_{t+1} − log w_t
    lw = np.empty(n + 1)  # log w_t − log w_mode
    lw[mode] = 0.0
    lw[mode + 1:] = np.cumsum(inc[mode:])
    lw[:mode] = -np.cumsum(inc[:mode][::-1])[::-1]
    rows = np.arange(a0 + 1, n + 1)
    T = rows[:, None] + np.arange(width)[None, :]
    valid = T <= n
    L = np.where(valid, lw[np.minimum(T, n)], -np.inf)
    L -= L.max(axis=1, keepdims=True)
    W = np.where(L >= -40.0, np.exp(L), 0.0)
    gamma[rows - 1] = c0 + 0.5 * (W @ psi[1: width + 1]) / W.sum(axis=1)


def rank_law_args(n, L, p, r0, model, fn):
    """Validated (n, p, r0, number of gates G) of a rank-law request."""
    n = as_int(n, fn, "n", minimum=1)
    L = as_int(L, fn, "L", minimum=1)
    n, p, _, r0 = _check_lyap_args(n, p, 1.0, r0, fn)
    as_choice(model, fn, "model", ("G", "F"))
    return n, p, r0, (L if model == "G" else L - 1)


def _log_sf_binom(n, p):
    """log P(Bin(n, p) ≥ r) for r = 0..n (log-sum-exp of the tail)."""
    t = np.arange(n + 1)
    lg = np.fromiter((math.lgamma(x + 1.0) for x in range(n + 1)), dtype=np.float64, count=n + 1)  # allocated first
    if p == 1.0:
        out = np.zeros(n + 1)
        return out
    lpmf = lg[n] - lg - lg[::-1] + t * math.log(p) + (n - t) * math.log1p(-p)
    out = np.minimum(np.logaddexp.accumulate(lpmf[::-1])[::-1], 0.0)  # a probability: log ≤ 0
    out[0] = 0.0  # P(Bin ≥ 0) = 1 exactly (the rounded pmf sums to 1 ± n·u)
    return out


LOG_SPECTRA = "log singular values (a real array)"


def _log_spectra(x, fn, arg, real=None):
    """Log spectra (−∞ allowed, +∞ not) as float64. ``real(x, fn, arg)``: the kind/NaN rule
    (default: the host's as_real_array; the device routes pass the same rule on the device)."""
    if real is None:
        a = as_real_array(x, fn, arg, allow_inf=True, what=LOG_SPECTRA)
    else:
        a = real(x, fn, arg)
    if a.ndim < 1:
        raise value_error(fn, arg, "an array with a last axis of log singular values", "a scalar")
    if bool((a == np.inf).any()):
        raise value_error(fn, arg, "free of +Inf", "+Inf")
    return a


def separation_from(a, eps):
    """§5.1 ratios, gaps and (for a float ``eps``) the separation rank of validated log spectra
    ``a``, in ``a``'s array library (numpy on the host, cupy on the device)."""
    xp = array_module(a)
    hi, lo = a[..., :-1], a[..., 1:]
    with np.errstate(invalid="ignore"):
        gaps = hi - lo
        ratios = xp.where(hi == -np.inf, np.nan, xp.exp(-gaps))
    rank = None
    if eps is not None:
        ok = ratios < eps
        if ok.shape[-1] == 0:  # one value per spectrum: no ratio, r_sep = 0 (argmin of nothing raised)
            rank = xp.zeros(ok.shape[:-1], dtype=np.int64)
        else:
            first_bad = xp.argmin(ok.astype(np.int8), axis=-1)
            rank = xp.where(ok.all(axis=-1), ok.shape[-1], first_bad).astype(np.int64)
    return Separation(ratios, gaps, rank)


def scaling_fit_from(a, w, ell, baseline):
    """§5.2 least-squares fit over the window ``w`` of ``a`` (depths ``ell``, host float64), in
    ``a``'s array library; ``baseline``: None or a validated array of the same library."""
    xp = array_module(a)
    if w.shape[-2] < 2:
        nan = xp.full(a.shape[:-2] + a.shape[-1:], np.nan)
        slope, icpt, res = nan, nan.copy(), nan.copy()
    else:
        lc = ell - ell.mean()
        lcx, ellx = xp.asarray(lc), xp.asarray(ell)
        with np.errstate(invalid="ignore"):
            ybar = w.mean(axis=-2)
            slope = xp.einsum("l,...lk->...k", lcx, w - ybar[..., None, :]) / float(lc @ lc)
            icpt = ybar - slope * float(ell.mean())
            res = xp.abs(w - slope[..., None, :] * ellx[:, None] - icpt[..., None, :]).max(axis=-2)
        bad = (w == -np.inf).any(axis=-2)
        slope, icpt, res = (xp.where(bad, np.nan, v) for v in (slope, icpt, res))
    return DepthFit(slope, icpt, res, None if baseline is None else slope - baseline)


def fit_window(y, start, stop, fn, real=None):
    """Validated (y, its depth window, the 1-based depths ℓ of the window)."""
    a = _log_spectra(y, fn, "y", real)
    if a.ndim < 2:
        raise value_error(fn, "y", "an array (..., L, k)", f"shape {a.shape}")
    start = as_int(start, fn, "start", minimum=0)
    stop = a.shape[-2] if stop is None else as_int(stop, fn, "stop", minimum=0)
    w = a[..., start:stop, :]
    return a, w, np.arange(start + 1, start + 1 + w.shape[-2], dtype=np.float64)


def fit_baseline(baseline, a, fn, real=None):
    """depth_scaling_fit's ``baseline`` (None, or reals, ±Inf allowed) checked against the fit's
    shape ``a.shape[:-2] + a.shape[-1:]`` (``a``: the validated ``y``): a ValueError where the
    two do not broadcast (numpy's own error at ``slope − baseline`` otherwise). ``real``: the
    device routes' rule (default: the host's as_real_array)."""
    if baseline is None:
        return None
    b = (real or as_real_array)(baseline, fn, "baseline", allow_inf=True)
    shape = a.shape[:-2] + a.shape[-1:]
    try:
        np.broadcast_shapes(shape, b.shape)
    except ValueError:
        raise value_error(fn, "baseline", f"broadcastable to the fit's shape {shape}",
                          f"shape {b.shape}") from None
    return b


def _side_view(x, side, fn, arg, xp=np):
    as_choice(side, fn, f"side_{arg.lower()}", ("left", "right"))
    if x.ndim < 2:
        raise value_error(fn, arg, "a matrix or a stack of matrices", f"shape {x.shape}")
    return x if side == "left" else xp.swapaxes(x, -1, -2)


def alignment_args(A, B, k, side_a, side_b, fn, matrix=None, xp=np):
    """Validated (pairs of 2-D views of A and B, batch shape, k) of subspace_alignment
    (``matrix``/``xp``: the device route's array check and namespace)."""
    matrix = matrix or _float_matrix
    a = _side_view(matrix(A, fn, "A"), side_a, fn, "A", xp)
    b = _side_view(matrix(B, fn, "B"), side_b, fn, "B", xp)
    if a.ndim < 2 or b.ndim < 2:
        raise value_error(fn, "A and B", "matrices or stacks of matrices", f"shapes {a.shape}, {b.shape}")
    if a.shape[-2] != b.shape[-2]:
        raise value_error(fn, "A and B", "of one row space (same m after side selection)",
                          f"{a.shape[-2]} and {b.shape[-2]}")
    k = as_int(k, fn, "k", minimum=1)
    width = min(a.shape[-2], a.shape[-1], b.shape[-1])
    if k > width:
        raise value_error(fn, "k", f"<= min(m, n_A, n_B) = {width}", repr(k))
    try:
        bshape = np.broadcast_shapes(a.shape[:-2], b.shape[:-2])
    except ValueError:
        raise value_error(fn, "A and B", "broadcastable batch shapes",
                          f"{a.shape[:-2]} and {b.shape[:-2]}") from None
    ab = xp.broadcast_to(a, bshape + a.shape[-2:])
    bb = xp.broadcast_to(b, bshape + b.shape[-2:])
    return [ab[idx] for idx in np.ndindex(*bshape)], [bb[idx] for idx in np.ndindex(*bshape)], bshape, k


def alignment_error(fn, code, i, bshape):
    """The error for the kernel's status ``code`` (1: NaN/Inf, else LAPACK) of pair ``i``."""
    what = "finite (no NaN or Inf)" if code == 1 else "a pair LAPACK can decompose"
    return value_error(fn, "A and B", what,
                       f"failure at batch index {tuple(int(j) for j in np.unravel_index(i, bshape)) if bshape else ()}")


def _alignment_summary(R, ang, rho, xp=np):
    k = R.shape[-1]
    eye = xp.eye(k, dtype=bool)
    off = xp.where(eye, 0.0, xp.abs(R)).max(axis=(-2, -1)) if k > 1 else xp.zeros(R.shape[:-2])
    dist = xp.abs(R - xp.eye(k)).max(axis=(-2, -1))
    return Alignment(R, ang, rho, off, dist)


def _spd_pair(A, B, fn, matrix=None, xp=np):
    """Validated symmetric float64 (A, B), broadcast (``matrix``/``xp``: the device route's array
    check and namespace; a float64 operand is not copied before the symmetrization)."""
    matrix = matrix or _float_matrix
    a = matrix(A, fn, "A").astype(np.float64, copy=False)
    b = matrix(B, fn, "B").astype(np.float64, copy=False)
    for x, nm in ((a, "A"), (b, "B")):
        if x.ndim < 2 or x.shape[-1] != x.shape[-2]:
            raise value_error(fn, nm, "square (..., n, n)", f"shape {x.shape}")
        if x.size == 0:
            continue
        if not bool(xp.isfinite(x).all()):
            raise value_error(fn, nm, "finite (no NaN or Inf)", "non-finite values")
        scale = float(xp.abs(x).max())
        if float(xp.abs(x - x.swapaxes(-1, -2)).max()) > 1e-10 * max(scale, 1e-300):
            raise value_error(fn, nm, "symmetric", "an asymmetric matrix")
    if a.shape[-1] != b.shape[-1]:
        raise value_error(fn, "A and B", "of the same size n", f"{a.shape[-1]} and {b.shape[-1]}")
    return xp.broadcast_arrays(_sym(a), _sym(b))


def geodesic_times(t, fn):
    """bures_geodesic's t (a host value) as a float64 array, scalar or 1-D, in [0, 1]."""
    tt = as_real_array(t, fn, "t", lo=0.0, hi=1.0)
    if tt.ndim > 1:
        raise value_error(fn, "t", "a scalar or a 1-D array", f"shape {tt.shape}")
    return tt


def _sym(x):
    return 0.5 * (x + x.swapaxes(-1, -2))


def _psd_sqrt(x, fn, nm, xp=np):
    w, v = xp.linalg.eigh(x)
    tol = 1e-8 * x.shape[-1] * xp.abs(w).max(axis=-1, keepdims=True)
    if bool((w < -tol).any()):
        raise value_error(fn, nm, "positive semidefinite", f"eigenvalue {float(w.min()):.3g}")
    return _sym((v * xp.sqrt(xp.clip(w, 0.0, None))[..., None, :]) @ v.swapaxes(-1, -2))


def _inv_n(N, fn):
    if N is None or (isinstance(N, float) and math.isinf(N)):
        return 0.0
    return 1.0 / as_int(N, fn, "N", minimum=1)


PREFIX_METHODS = ("auto", "rescaled", "graded")

# §4.3(b) block rules, shared by the compiled route and its reference (cpp/src/depth_graded.cpp
# holds the same constants): free cuts where the Benettin sums are separated by more than
# CUT_GAP, forced cuts while a block spans more than MAX_SPAN, and a value counts as resolved
# when both cuts around its block are separated by at least RESOLVED_GAP (error e^{-2g} ≤ 1e-6).
CUT_GAP, MAX_SPAN, RESOLVED_GAP = 40.0, 600.0, 0.5 * math.log(1e6)


def prefix_method(method, fn):
    return as_choice(method, fn, "method", PREFIX_METHODS)


def graded_blocks(c):
    """Blocks of the indices of the Benettin sums ``c`` for the §4.3(b) singular values:
    ``[(start, stop, gap_left, gap_right)]`` (see CUT_GAP / MAX_SPAN)."""
    w = len(c)
    pre = np.minimum.accumulate(c)[:-1]  # min c[:a], a = 1..w-1
    suf = np.maximum.accumulate(c[::-1])[::-1][1:]  # max c[a:]
    g = pre - suf
    cuts = [0] + [a + 1 for a in np.flatnonzero(g > CUT_GAP)] + [w]
    gaps = [np.inf] + [float(g[a - 1]) for a in cuts[1:-1]] + [np.inf]
    t = 0
    while t + 1 < len(cuts):
        s0, e0 = cuts[t], cuts[t + 1]
        blk = c[s0:e0]
        if e0 - s0 < 2 or not blk.max() - blk.min() > MAX_SPAN:
            t += 1
            continue
        loc = [blk[:a].min() - blk[a:].max() for a in range(1, e0 - s0)]
        a = int(np.argmax(loc))
        cuts.insert(t + 1, s0 + a + 1)
        gaps.insert(t + 1, float(loc[a]))
    return [(cuts[t], cuts[t + 1], gaps[t], gaps[t + 1]) for t in range(len(cuts) - 1)]


def scaled_parts(xp, Y):
    """(max |Y|, Σ (Y/max)²) as 0-d arrays of namespace ``xp``: ‖Y‖_F = max·√Σ never overflows
    for finite ``Y`` (the CPU kernel's scaled ``frob``); inf/NaN out for a non-finite ``Y``."""
    with np.errstate(invalid="ignore", over="ignore"):  # a product that overflowed: inf/NaN out
        mx = xp.abs(Y).max()
        return mx, ((Y / xp.where(mx > 0, mx, 1.0)) ** 2).sum()


def chain_frob_log(c, xp=np):
    """log Σ_p ‖W_p‖_F² of one chain in float64, scaled (no overflow for any finite input); for a
    device chain the two scalars of every factor come to the host in one transfer."""
    parts = xp.stack([x for m in c for x in scaled_parts(xp, m.astype(np.float64, copy=False))])
    h = np.asarray(parts.get() if hasattr(parts, "get") else parts, dtype=np.float64).reshape(-1, 2)
    logs = np.array([-np.inf if mx == 0 else 2.0 * (math.log(mx) + 0.5 * math.log(ssq)) for mx, ssq in h])
    top = logs.max()
    return top if top == -np.inf else top + math.log(np.exp(logs - top).sum())


def balanced_log_ratio(lognum, log_s, N, xp=np):
    """log β_bal = log Σ‖W_p‖² − log N − log Σ_i exp((2/N) log σ_i) (§8.2); +∞ for X = 0 with W ≠ 0,
    NaN for an all-zero chain (``lognum`` on the host, ``log_s`` of namespace ``xp``)."""
    lognum = xp.asarray(lognum)
    e = (2.0 / N) * log_s
    top = e.max(axis=-1)
    with np.errstate(invalid="ignore", divide="ignore"):
        lse = xp.where(xp.isneginf(top), -np.inf,
                       top + xp.log(xp.exp(e - xp.where(xp.isneginf(top), 0.0, top)[..., None]).sum(axis=-1)))
        out = lognum - math.log(N) - lse
    return xp.where(xp.isneginf(lognum), np.nan, out)


class DlnPair(NamedTuple):
    """Validated ``X`` and ``Z`` (float64, broadcast) of the §8.3 operator functions."""

    X: np.ndarray
    Z: np.ndarray


def dln_pair(X, Z, fn, real=None):
    """``real(x, fn, arg)``: the finite-reals rule (default: the host's as_real_array; the device
    routes pass the same rule on the device)."""
    real = real or as_real_array
    x = real(X, fn, "X")
    z = real(Z, fn, "Z")
    if x.ndim < 2 or x.size == 0:
        raise value_error(fn, "X", "a non-empty matrix or stack of matrices (..., m, n)", f"shape {x.shape}")
    if z.shape[-2:] != x.shape[-2:]:
        raise value_error(fn, "Z", f"matrices of X's shape {x.shape[-2:]}", f"shape {z.shape}")
    try:
        x, z = array_module(x).broadcast_arrays(x, z)
    except ValueError:
        raise value_error(fn, "X and Z", "broadcastable batch shapes", f"{x.shape} and {z.shape}") from None
    return DlnPair(x, z)


def padded_sigma(s, m, n):
    """σ of U's columns (length m) and of V's columns (length n), zeros past min(m, n) (§8.3)."""
    xp = array_module(s)
    q = s.shape[-1]
    sk = xp.concatenate([s, xp.zeros(s.shape[:-1] + (m - q,))], axis=-1)
    sl = xp.concatenate([s, xp.zeros(s.shape[:-1] + (n - q,))], axis=-1)
    return sk, sl


def dln_frame(x, z, inv_n, lam_rows):
    """(U, Z̃ = UᵀZV, λ, Vᵀ) of the §8.3 operator in x's array library: one SVD of X (full U, V),
    λ of the padded σ by ``lam_rows(sk (rows, m), sl (rows, n), inv_n)`` → (rows, m, n) (the
    compiled CPU kernel, or the CUDA kernel on the device)."""
    xp = array_module(x)
    m, n = x.shape[-2:]
    U, s, Vt = xp.linalg.svd(x, full_matrices=True)
    sk, sl = padded_sigma(s, m, n)
    rows = int(np.prod(s.shape[:-1], dtype=np.int64))
    lam = lam_rows(xp.ascontiguousarray(sk.reshape(rows, m)), xp.ascontiguousarray(sl.reshape(rows, n)),
                   inv_n).reshape(s.shape[:-1] + (m, n))
    zt = xp.swapaxes(U, -1, -2) @ z @ xp.swapaxes(Vt, -1, -2)
    return U, zt, lam, Vt


def dln_apply(U, zt, lam, Vt, inverse, fn):
    """``U(λ ∘ Z̃)Vᵀ`` or, for ``inverse``, ``U(Z̃/λ)Vᵀ`` (every λ > 0 required: one bool read)."""
    if inverse:
        if not bool((lam > 0).all()):
            raise value_error(fn, "X", "of full rank for inverse=True (every λ_kl > 0)",
                              "a rank-deficient X (λ_kl = 0)")
        core = zt / lam
    else:
        core = lam * zt
    return U @ core @ Vt


def metric_norm_from(zt, lam):
    """‖Z‖_{g^N} = sqrt(Σ Z̃²/λ); a λ = 0 with Z̃ ≠ 0 gives +∞ (g^N is undefined there, §8.3)."""
    xp = array_module(zt)
    with np.errstate(divide="ignore", invalid="ignore"):
        q = xp.where(zt == 0, 0.0, zt * zt / lam)
    return xp.sqrt(q.sum(axis=(-2, -1)))


def erank_spectra(spectra, fn):
    """The kernel view of a batch of spectra (dense or RaggedSpectra, read in place), after checking
    that every singular value is finite and ≥ 0 (on the caller's array: a strided dense batch's flat
    view also spans the gaps between rows)."""
    b = as_spectra(spectra, fn, "spectra")
    a = b.values if b.ragged else np.asarray(spectra)  # a ragged list was concatenated by as_spectra
    if a.size and not (np.isfinite(a).all() and (a >= 0).all()):
        raise value_error(fn, "spectra", "finite singular values >= 0", "NaN, Inf or a negative value")
    return b
