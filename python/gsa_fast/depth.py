"""Depth: log spectra of layer chains, random baselines, alignment and deep-linear-network geometry.

The mathematics is ``depth-math`` (§ numbers below); the user guide is ``docs/depth.md``.

* :func:`chain_log_spectrum` — Benettin/QR prefix scan of a chain ``M_L ⋯ M_1`` (§4.1–§4.2),
  compiled: one GEMM per factor (float32 factors stay float32), a LAPACK ``dgeqrf``/``dorgqr``
  on the ``n × k`` panel, cumulative ``log |R_jj|`` in float64.
* :func:`prefix_log_svdvals` — exact log singular values of prefix products by the rescaled
  direct product (§4.3a), with a flag for values below what float64 resolves.
* :func:`random_lyapunov`, :func:`gated_rank_law` — closed forms for gated Gaussian layers
  (§2, §3, §6), with the *corrected* finite-depth sign ``γ_i + (d_i − d_{i−1})/L``.
* :func:`separation_ratios`, :func:`depth_scaling_fit` — separation and depth-scaling
  diagnostics (§5).
* :func:`subspace_alignment` — top-k singular-subspace overlaps, principal angles and the
  diagonal correlation ρ (§7), compiled, batched.
* :func:`relative_imbalance`, :func:`bures_transport_map`, :func:`bures_geodesic`,
  :func:`dln_log_volume` — deep-linear-network geometry (§8.1, §8.4, §8.5); the pairwise sums
  of the log-volume are compiled.
"""
from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np

from . import _backend
from ._validate import as_int, as_real_array, type_error, value_error

__all__ = [
    "chain_log_spectrum",
    "prefix_log_svdvals",
    "random_lyapunov",
    "gated_rank_law",
    "separation_ratios",
    "depth_scaling_fit",
    "subspace_alignment",
    "relative_imbalance",
    "bures_transport_map",
    "bures_geodesic",
    "dln_log_volume",
]

_U64 = float(np.finfo(np.float64).eps) / 2
_U32 = float(np.finfo(np.float32).eps) / 2
EULER_GAMMA = 0.57721566490153286060651209008240243


# ------------------------------------------------------------------------------------------
# result types (shared with gsa_fast.reference.depth)


class PrefixLogSvdvals(NamedTuple):
    """Log singular values of prefix products ``M_{1:ℓ}`` at the requested depths."""

    log_s: np.ndarray  # (..., n_depths, k), descending, −∞ for exact zeros
    resolved: np.ndarray  # bool, same shape: s_i/s_1 above what float64 resolves at that depth
    depths: np.ndarray  # int64 (n_depths,), 1-based


class RandomLyapunov(NamedTuple):
    """Closed-form Lyapunov exponents and finite-depth constants of gated Gaussian layers."""

    gamma: np.ndarray  # (n,) γ_i, −∞ for i > r
    d: np.ndarray  # (n,) d_i (i = 1..n; d_0 = 0)
    delta: np.ndarray  # (n,) Δ_i = d_i − d_{i−1}

    def mean_log_svdvals(self, L):
        """First-order prediction of ``E log s_i(J_L)`` at depth(s) ``L`` (§3.3, corrected sign):
        ``L·γ_i + Δ_i``; shape ``(len(L), n)`` for an array, ``(n,)`` for a scalar."""
        Ls = np.asarray(L, dtype=np.float64)
        out = Ls[..., None] * self.gamma + self.delta
        return np.where(np.isneginf(self.gamma), -np.inf, out)


class RankLaw(NamedTuple):
    """Law of ``rank J`` for a product of gated full-rank layers (§6)."""

    sf: np.ndarray  # (n + 1,) P(rank ≥ r), r = 0..n
    mean: float  # E rank

    def cdf(self, r):
        """``P(rank ≤ r)``."""
        r = np.asarray(r, dtype=np.int64)
        nxt = np.clip(r + 1, 0, len(self.sf))
        sf_ext = np.append(self.sf, 0.0)
        return 1.0 - sf_ext[nxt]

    def quantile(self, alpha):
        """``q_α = min{r : P(rank ≤ r) ≥ α}``."""
        cdf = self.cdf(np.arange(len(self.sf)))
        a = np.asarray(alpha, dtype=np.float64)
        return np.searchsorted(cdf, a - 1e-12, side="left").astype(np.int64)


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


# ------------------------------------------------------------------------------------------
# validation helpers (also used by the reference)


def _float_matrix(x, fn, arg):
    if isinstance(x, np.ndarray):
        a = x
    elif hasattr(x, "__array__") and hasattr(x, "dtype"):
        raise type_error(fn, arg, "a numpy array (float32 or float64)", x)
    else:
        try:
            a = np.asarray(x)
        except Exception:
            raise type_error(fn, arg, "a real floating array", x) from None
        if a.dtype.kind in "iu":
            a = a.astype(np.float64)
    if a.dtype not in (np.float32, np.float64):
        raise type_error(fn, arg, "float32 or float64", a)
    return a


def _chain(factors, fn, arg="factors"):
    """(list of 2-D views per chain, B, L, batch shape, stacked?) without copying."""
    if isinstance(factors, (list, tuple)):
        if len(factors) == 0:
            raise value_error(fn, arg, "a non-empty chain", "an empty list")
        mats = [_float_matrix(m, fn, f"{arg}[{i}]") for i, m in enumerate(factors)]
        for i, m in enumerate(mats):
            if m.ndim != 2:
                raise value_error(fn, f"{arg}[{i}]", "a 2-D matrix", f"shape {m.shape}")
            if m.dtype != mats[0].dtype:
                raise type_error(fn, f"{arg}[{i}]", f"of one dtype ({mats[0].dtype})", m)
        chains, bshape = [mats], ()
    else:
        a = _float_matrix(factors, fn, arg)
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


def _check_finite_chain(chains, fn, arg="factors"):
    for c in chains:
        for i, m in enumerate(c):
            if not np.isfinite(m).all():
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
    return 0 if threads is None else as_int(threads, fn, "threads", minimum=1)


def default_tau(n: int, panel: str) -> float:
    """Rank-flag threshold τ = 10·n·u of the panel precision (§4.2)."""
    return 10.0 * n * (_U32 if panel == "float32" else _U64)


def _panel(panel, chains, fn):
    dt = chains[0][0].dtype
    if panel is None or panel == "auto":
        return "float64"
    if panel not in ("float32", "float64"):
        raise value_error(fn, "panel", "'auto', 'float32' or 'float64'", repr(panel))
    if panel == "float32" and dt != np.float32:
        raise value_error(fn, "panel", "'float64' for float64 factors", repr(panel))
    return panel


def scan_args(factors, k, gates, panel, tau, fn):
    """Validated (chains, batch shape, k, panel, tau, gate list) of a chain scan."""
    chains, bshape = _chain(factors, fn)
    k = _check_k(k, chains, fn)
    panel = _panel(panel, chains, fn)
    nmax = max([chains[0][0].shape[1]] + [m.shape[0] for m in chains[0]])
    tau = default_tau(nmax, panel) if tau is None else float(as_real_array(tau, fn, "tau", lo=0.0))
    return chains, bshape, k, panel, tau, _gate_list(gates, chains, bshape, fn)


def prefix_args(factors, depths, k, fn):
    """Validated (chains, batch shape, depths, k) of a prefix-product request."""
    chains, bshape = _chain(factors, fn)
    _check_finite_chain(chains, fn)
    d = _depths(depths, len(chains[0]), fn)
    c = chains[0]
    width = min([c[0].shape[1]] + [c[l - 1].shape[0] for l in d])
    k = width if k is None else as_int(k, fn, "k", minimum=1)
    if k > width:
        raise value_error(fn, "k", f"<= min(n_0, n_ℓ) over the requested depths ({width})", repr(k))
    return chains, bshape, d, k


# ------------------------------------------------------------------------------------------
# §4 chain scans


def chain_log_spectrum(factors, k, *, gates=None, panel="auto", tau=None, threads=None):
    """Benettin/QR prefix scan of a layer chain (depth-math §4.1–§4.2).

    ``factors``: a stack ``(L, n, n)``, a batch of independent chains ``(..., L, m, n)``, or a
    list of ``L`` 2-D matrices (rectangular allowed: ``factors[l].shape[1] == factors[l-1].shape[0]``).
    ``factors[0]`` acts first: the chain is ``M_L ⋯ M_1``. float32 or float64, any strides; never
    copied (float32 factors stay float32 in memory).

    From ``Q_0 = [e_1 … e_k]``: ``Q_ℓ R_ℓ = qr(D_ℓ M_ℓ Q_{ℓ−1})`` and
    ``out[ℓ−1, j] = Σ_{m≤ℓ} log|R_m[j, j]|`` (float64, shape ``(L, k)`` or ``(..., L, k)``): the
    cumulative log stretches; ``out[-1] / L`` estimates the top-k Lyapunov exponents and
    ``Σ_{j≤t} out[ℓ, j]`` is a lower bound on ``Σ_{j≤t} log s_j(M_{1:ℓ})``. Logs only: never
    overflows at any depth.

    ``gates``: optional 0/1 row masks ``D_ℓ`` (array ``(..., L, rows)`` or a list per factor).
    Rank handling (§4.2): columns above the smallest gate rank so far, and every column from the
    first one with ``|R_jj| ≤ tau·‖D_ℓM_ℓQ_{ℓ−1}‖_F`` on, are ``−∞`` from that layer on
    (``tau`` defaults to ``10·n·u`` of the panel precision). ``panel``: ``'float64'`` (the default,
    ``'auto'``: float32 factors are converted to float64 block by block inside the GEMM, dgemm;
    the same accuracy as a float64 numpy loop, ~1e-14·L absolute on ``out``) or ``'float32'``
    (sgemm into a float32 panel, QR still float64: about 1.7× faster single-threaded, but
    ~1e-6 absolute error on ``out``, the float32 rounding of ``M·Q``; docs/depth.md).
    ``threads``: independent chains run in parallel (default: all workers), each with
    single-threaded BLAS; a single chain uses threaded BLAS only for an explicit ``threads > 1``
    (threaded OpenBLAS spin-waits and was several times slower on a loaded machine).
    """
    fn = "chain_log_spectrum"
    chains, bshape, k, panel, tau, glist = scan_args(factors, k, gates, panel, tau, fn)
    B, L = len(chains), len(chains[0])
    flat = [m for c in chains for m in c]
    if panel == "float32":
        for i, m in enumerate(flat):
            if m.strides[0] != m.itemsize and m.strides[1] != m.itemsize:
                raise value_error(fn, "factors", "matrices with one unit stride for panel='float32'",
                                  f"strides {m.strides} in factor {i % L}")
    out = np.empty((B, L, k), dtype=np.float64)
    _backend.core.chain_scan(flat, glist if glist is not None else [], B, L, k, panel == "float32",
                             tau, out, _threads(threads, fn))
    if np.isnan(out).any():  # the kernel marks a chain NaN from its first non-finite factor on
        b, l = np.argwhere(np.isnan(out).any(axis=-1))[0]
        raise value_error(fn, "factors", "finite (no NaN or Inf)",
                          f"non-finite values reaching factor {int(l)} of chain {int(b)}")
    return out.reshape(bshape + (L, k))


def _depths(depths, L, fn):
    if depths is None:
        return np.arange(1, L + 1, dtype=np.int64)
    d = np.atleast_1d(np.asarray(depths))
    if d.dtype.kind not in "iu" or d.ndim != 1:
        raise type_error(fn, "depths", "a 1-D array of ints", d)
    if d.size == 0 or d.min() < 1 or d.max() > L or np.any(np.diff(d) <= 0):
        raise value_error(fn, "depths", f"strictly increasing ints in [1, {L}]", repr(d.tolist()))
    return d.astype(np.int64)


def resolved_mask(log_s, depths, n):
    """True where the error estimate ``ℓ·n·u·s_1/s_i`` of the rescaled float64 product is at most
    1e-6 (absolute, in log s_i), i.e. ``s_i/s_1 ≥ 1e6·ℓ·n·u``."""
    tol = np.log(1e6 * n * depths.astype(np.float64) * _U64)
    with np.errstate(invalid="ignore"):
        ok = (log_s - log_s[..., :1]) > tol[:, None]
    return ok | np.isneginf(log_s[..., :1])  # a zero product (a zero factor) is exact


def prefix_log_svdvals(factors, depths=None, k=None, *, threads=None):
    """Exact log singular values of prefix products ``M_{1:ℓ} = M_ℓ ⋯ M_1`` (§4.3a).

    Rescaled direct product in float64: ``P̂_ℓ = M_ℓ P̂_{ℓ−1} / ‖M_ℓ P̂_{ℓ−1}‖_F`` with the logs
    of the norms accumulated, then LAPACK ``dgesdd`` of ``P̂_ℓ`` at each requested depth
    (1-based, strictly increasing; default all). Returns :class:`PrefixLogSvdvals` with
    ``log_s`` of shape ``(..., len(depths), k)`` (``k`` defaults to the smallest width), and
    ``resolved``: False where ``s_i/s_1 < 1e6·ℓ·n·u`` — the absolute error of the product is
    about ``ℓ·n·u·s_1``, so the error of ``log s_i`` may exceed 1e-6 there (far below, rounding
    noise) (use :func:`chain_log_spectrum` for
    exponents that deep). Exact zeros give ``−∞``. Cost ``O(n³)`` per layer: meant for
    moderate widths.
    """
    fn = "prefix_log_svdvals"
    chains, bshape, d, k = prefix_args(factors, depths, k, fn)
    L, c = len(chains[0]), chains[0]
    take = np.zeros(L, dtype=np.uint8)
    take[d - 1] = 1
    B = len(chains)
    out = np.empty((B, len(d), k), dtype=np.float64)
    _backend.core.prefix_log_svdvals([m for ch in chains for m in ch], B, L, take, k, out,
                                     _threads(threads, fn))
    nmax = max([c[0].shape[1]] + [m.shape[0] for m in c])
    out = out.reshape(bshape + (len(d), k))
    return PrefixLogSvdvals(out, resolved_mask(out, d, nmax), d)


# ------------------------------------------------------------------------------------------
# §2, §3, §6 closed forms


def _check_lyap_args(n, p, sigma, r, fn):
    n = as_int(n, fn, "n", minimum=1)
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


def random_lyapunov(n, p=1.0, sigma=None, r=None):
    """Closed-form Lyapunov exponents of gated Gaussian layers (depth-math §2, §3).

    Layers ``M = D W``: ``W`` has iid ``N(0, sigma²)`` entries (``sigma`` defaults to ``1/√n``)
    and ``D`` a diagonal Bernoulli(``p``) gate conditioned on ``rank D ≥ r``. Returns
    :class:`RandomLyapunov` with, for ``i = 1..n``:

    * ``gamma[i-1] = ½ ln(2σ²) + ½ Σ_t π_t ψ((t − i + 1)/2)`` (π: law of ``rank D`` given
      ``≥ r``), ``−∞`` for ``i > r``. ``r=None``: ``r = n`` at ``p = 1``; for ``p < 1`` each
      index is conditioned on its own ``t ≥ i`` (the moderate-depth exponents; strictly,
      unconditioned gates drive every exponent to ``−∞`` at infinite depth, §2.2).
    * ``d[i-1] = ½ Σ_{k≤i} [ψ((n−k+1)/2) − ψ((i−k+1)/2)]`` and ``delta = d_i − d_{i−1}``
      (independent of ``p``, ``σ``, ``r``).

    ``.mean_log_svdvals(L)`` is the first-order prediction ``L·γ_i + (d_i − d_{i−1})`` of
    ``E log s_i(J_L)`` — the *corrected* sign; the source paper prints ``(d_{i−1} − d_i)/L``.
    The binomial law is evaluated on the window where its log weights are within 40 of the
    maximum (the windowed mixture), so all exponents cost ``O(n·window)``: for ``n = 4096``,
    ``p = 0.5`` and a given ``r``, well under a millisecond (``r=None`` with ``p < 1`` needs one
    window per index: ~0.2 s there). Accuracy: ~1e-13 relative for ``n ≤ 1e5``.
    """
    fn = "random_lyapunov"
    n, p, sigma, r = _check_lyap_args(n, p, sigma, r, fn)
    psi = psi_half_table(n + 1)
    c0 = 0.5 * math.log(2.0 * sigma * sigma)
    i = np.arange(1, n + 1)
    delta = 0.5 * (psi[n - i + 1] - psi[i])
    d = np.cumsum(delta)
    d[-1] = 0.0 if n >= 1 else d[-1]  # d_n = 0 exactly (antisymmetry of Δ)
    gamma = np.full(n, -np.inf)
    V = psi[1:]  # V[j] = ψ((j + 1)/2)

    def fill(lo, idx):  # γ_i for indices idx (all ≤ lo) under the law of t given t ≥ lo
        a, w = _log_binom_window(n, p, lo)
        cc = np.correlate(V[: a + len(w) - 1], w, mode="valid")  # cc[q] = Σ_s w_s V[q + s]
        gamma[idx - 1] = c0 + 0.5 * cc[a - idx]

    if p == 1.0:
        fill(n, i)
    elif r is not None:
        fill(r, i[:r])
    else:
        a0, w0 = _log_binom_window(n, p, 1)
        fill(1, i[:a0])
        _fill_tail(gamma, n, p, a0, len(w0), psi, c0)
    return RandomLyapunov(gamma, d, delta)


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
    if model not in ("G", "F"):
        raise value_error(fn, "model", "'G' or 'F'", repr(model))
    return n, p, r0, (L if model == "G" else L - 1)


def _log_sf_binom(n, p):
    """log P(Bin(n, p) ≥ r) for r = 0..n (log-sum-exp of the tail)."""
    t = np.arange(n + 1)
    lg = np.array([math.lgamma(x + 1.0) for x in range(n + 1)])
    if p == 1.0:
        out = np.zeros(n + 1)
        return out
    lpmf = lg[n] - lg - lg[::-1] + t * math.log(p) + (n - t) * math.log1p(-p)
    return np.logaddexp.accumulate(lpmf[::-1])[::-1]


def gated_rank_law(n, L, p, r0=None, model="G"):
    """Law of the rank of a product of ``L`` gated full-rank layers (depth-math §6).

    ``rank J = min`` over the gates of ``rank D`` (almost surely), so
    ``P(rank ≥ r) = S(r)^G`` with ``S(r) = P(Bin(n, p) ≥ r)``, ``G = L`` (``model='G'``, every
    layer gated) or ``L − 1`` (``model='F'``, the last layer ungated). With ``(r0, p)``-gates
    (conditioned on rank ≥ r0): 1 for ``r ≤ r0`` and ``[S(r)/S(r0)]^G`` above. Evaluated as
    ``exp(G·log S)`` from a log-sum-exp tail. Returns :class:`RankLaw` (``sf`` for r = 0..n,
    ``mean``, ``.cdf(r)``, ``.quantile(alpha)``).
    """
    n, p, r0, G = rank_law_args(n, L, p, r0, model, "gated_rank_law")
    lsf = _log_sf_binom(n, p)
    if r0 is not None:
        lsf = np.where(np.arange(n + 1) <= r0, 0.0, lsf - lsf[r0])
    sf = np.exp(G * lsf) if G > 0 else np.ones(n + 1)
    return RankLaw(sf, float(sf[1:].sum()))


# ------------------------------------------------------------------------------------------
# §5 diagnostics


def _log_spectra(x, fn, arg):
    a = as_real_array(x, fn, arg, allow_inf=True, what="log singular values (a real array)")
    if a.ndim < 1:
        raise value_error(fn, arg, "an array with a last axis of log singular values", "a scalar")
    if np.isposinf(a).any():
        raise value_error(fn, arg, "free of +Inf", "+Inf")
    return a


def fit_window(y, start, stop, fn):
    """Validated (y, its depth window, the 1-based depths ℓ of the window)."""
    a = _log_spectra(y, fn, "y")
    if a.ndim < 2:
        raise value_error(fn, "y", "an array (..., L, k)", f"shape {a.shape}")
    start = as_int(start, fn, "start", minimum=0)
    stop = a.shape[-2] if stop is None else as_int(stop, fn, "stop", minimum=0)
    w = a[..., start:stop, :]
    return a, w, np.arange(start + 1, start + 1 + w.shape[-2], dtype=np.float64)


def separation_ratios(log_s, eps=None):
    """Separation of log spectra (depth-math §5.1). ``log_s``: ``(..., k)`` descending log
    singular values (from :func:`prefix_log_svdvals` or :func:`chain_log_spectrum`).

    ``ratios[..., j-1] = q_j = s_{j+1}/s_j = exp(log s_{j+1} − log s_j)`` (0 when
    ``s_{j+1} = 0 < s_j``, NaN when ``s_j = 0``), ``log_gaps = log s_j − log s_{j+1}``, and with
    ``eps`` the separation rank ``r_sep(ε) = max{r : q_j < ε ∀ j ≤ r}`` (0 if ``q_1 ≥ ε``).
    """
    fn = "separation_ratios"
    a = _log_spectra(log_s, fn, "log_s")
    hi, lo = a[..., :-1], a[..., 1:]
    with np.errstate(invalid="ignore"):
        gaps = hi - lo
        ratios = np.where(np.isneginf(hi), np.nan, np.exp(-gaps))
    rank = None
    if eps is not None:
        e = float(as_real_array(eps, fn, "eps", lo=0.0, lo_open=True))
        ok = ratios < e
        rank = np.where(ok.all(axis=-1), ok.shape[-1], np.argmin(ok, axis=-1)).astype(np.int64)
    return Separation(ratios, gaps, rank)


def depth_scaling_fit(y, start=0, stop=None, baseline=None):
    """Least-squares depth scaling (depth-math §5.2) of ``y[..., ℓ-1, j]`` (log s_j or Benettin
    sums at depth ℓ) over the window ``ℓ ∈ [start+1, stop]`` (0-based slice ``start:stop`` of
    the depth axis, the second-to-last): ``slope`` (the empirical exponent γ̂_j), ``intercept``
    (δ̂_j, → Δ_j for exact log s, → 0 for Benettin sums), ``max_resid`` (ε̂_j). Centred two-pass
    sums. NaN where the window has fewer than 2 depths or holds a ``−∞``. ``baseline``
    (e.g. ``random_lyapunov(n).gamma[:k]``) gives ``excess = slope − baseline``.
    """
    fn = "depth_scaling_fit"
    a, w, ell = fit_window(y, start, stop, fn)
    if w.shape[-2] < 2:
        nan = np.full(a.shape[:-2] + a.shape[-1:], np.nan)
        slope, icpt, res = nan, nan.copy(), nan.copy()
    else:
        lc = ell - ell.mean()
        with np.errstate(invalid="ignore"):
            ybar = w.mean(axis=-2)
            slope = np.einsum("l,...lk->...k", lc, w - ybar[..., None, :]) / (lc @ lc)
            icpt = ybar - slope * ell.mean()
            res = np.abs(w - slope[..., None, :] * ell[:, None] - icpt[..., None, :]).max(axis=-2)
        bad = np.isneginf(w).any(axis=-2)
        slope, icpt, res = (np.where(bad, np.nan, v) for v in (slope, icpt, res))
    excess = None
    if baseline is not None:
        excess = slope - as_real_array(baseline, fn, "baseline", allow_inf=True)
    return DepthFit(slope, icpt, res, excess)


# ------------------------------------------------------------------------------------------
# §7 alignment


def _side_view(x, side, fn, arg):
    if side not in ("left", "right"):
        raise value_error(fn, f"side_{arg.lower()}", "'left' or 'right'", repr(side))
    return x if side == "left" else np.swapaxes(x, -1, -2)


def subspace_alignment(A, B, k, *, side_a="left", side_b="left", threads=None):
    """Alignment of top-k singular subspaces (depth-math §7.1, §7.3), batched.

    ``A``, ``B``: ``(..., m, n_a)`` and ``(..., m, n_b)`` float32/float64 stacks (batch dims
    broadcast; e.g. ``A = J_ℓ``, ``B = A_ℓ`` over depth, or ``side_a='right'`` with
    ``A = W[1:]``, ``B = W[:-1]`` for the shared space of adjacent layers). ``side_*='right'``
    uses right singular vectors (the transpose, a view). With ``U_A``, ``U_B`` the top-k
    singular vectors (LAPACK ``dgesdd`` on float64 copies of one pair at a time):

    * ``R``: ``O = U_Aᵀ U_B`` with column j flipped where ``O_jj < 0`` (sign-fixed, diag ≥ 0);
    * ``angles``: principal angles, ascending, ``atan2(sin θ, cos θ)`` with ``cos θ = s(O)``
      and ``sin θ = s(U_B − U_A O)`` (accurate for small angles, no arccos near 1);
    * ``rho``: the diagonal correlation of ``|R|`` (§7.3, block size ``b = k``; needs k ≥ 2,
      else NaN), a sign-invariant diagonal-dominance score in ``[−1, 1]``;
    * ``max_offdiag = max_{i≠j}|R_ij|`` and ``dist_identity = ‖R − I‖_max``.

    Near-tied singular values make individual vectors ill-defined (§7.1 clusters): the angles
    stay meaningful, R and ρ do not.
    """
    fn = "subspace_alignment"
    a = _side_view(_float_matrix(A, fn, "A"), side_a, fn, "A")
    b = _side_view(_float_matrix(B, fn, "B"), side_b, fn, "B")
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
    ab = np.broadcast_to(a, bshape + a.shape[-2:])
    bb = np.broadcast_to(b, bshape + b.shape[-2:])
    la = [ab[idx] for idx in np.ndindex(*bshape)]
    lb = [bb[idx] for idx in np.ndindex(*bshape)]
    P = len(la)
    R = np.empty((P, k, k))
    ang = np.empty((P, k))
    rho = np.empty(P)
    st = np.zeros(P, dtype=np.int8)
    _backend.core.subspace_alignment(la, lb, k, R, ang, rho, st, _threads(threads, fn))
    if st.any():
        i = int(np.argmax(st != 0))
        what = "finite (no NaN or Inf)" if st[i] == 1 else "a pair LAPACK can decompose"
        raise value_error(fn, "A and B", what, f"failure at batch index {np.unravel_index(i, bshape) if bshape else ()}")
    return _alignment_summary(R.reshape(bshape + (k, k)), ang.reshape(bshape + (k,)),
                              rho.reshape(bshape))


def _alignment_summary(R, ang, rho):
    k = R.shape[-1]
    eye = np.eye(k, dtype=bool)
    off = np.where(eye, 0.0, np.abs(R)).max(axis=(-2, -1)) if k > 1 else np.zeros(R.shape[:-2])
    dist = np.abs(R - np.eye(k)).max(axis=(-2, -1))
    return Alignment(R, ang, rho, off, dist)


# ------------------------------------------------------------------------------------------
# §8 deep linear networks


def relative_imbalance(factors):
    """Relative imbalance ``ι_p = ‖W_pW_pᵀ − W_{p+1}ᵀW_{p+1}‖_F / ‖W_pW_pᵀ‖_F`` (depth-math
    §8.1; thesis eq (2.1)) for ``p = 1..L−1``, ``factors[0] = W_1`` acting first. Both Grams are
    formed and subtracted in float64 (one pair at a time, no copy of the chain); NaN where
    ``W_p = 0``. iid Gaussian initialisations give ``ι ≈ 1``; 0 means balanced. Shape
    ``(..., L−1)``."""
    fn = "relative_imbalance"
    chains, bshape = _chain(factors, fn)
    _check_finite_chain(chains, fn)
    L = len(chains[0])
    out = np.empty((len(chains), max(L - 1, 0)))
    for b, c in enumerate(chains):
        for p in range(L - 1):
            w0 = c[p].astype(np.float64)
            w1 = c[p + 1].astype(np.float64)
            g0 = w0 @ w0.T
            num = np.linalg.norm(g0 - w1.T @ w1)
            den = np.linalg.norm(g0)
            out[b, p] = num / den if den > 0 else np.nan
    return out.reshape(bshape + (max(L - 1, 0),))


def _spd_pair(A, B, fn):
    a = _float_matrix(A, fn, "A").astype(np.float64)
    b = _float_matrix(B, fn, "B").astype(np.float64)
    for x, nm in ((a, "A"), (b, "B")):
        if x.ndim < 2 or x.shape[-1] != x.shape[-2]:
            raise value_error(fn, nm, "square (..., n, n)", f"shape {x.shape}")
        if not np.isfinite(x).all():
            raise value_error(fn, nm, "finite (no NaN or Inf)", "non-finite values")
        scale = np.abs(x).max() if x.size else 0.0
        if np.abs(x - np.swapaxes(x, -1, -2)).max(initial=0.0) > 1e-10 * max(scale, 1e-300):
            raise value_error(fn, nm, "symmetric", "an asymmetric matrix")
    if a.shape[-1] != b.shape[-1]:
        raise value_error(fn, "A and B", "of the same size n", f"{a.shape[-1]} and {b.shape[-1]}")
    a = 0.5 * (a + np.swapaxes(a, -1, -2))
    b = 0.5 * (b + np.swapaxes(b, -1, -2))
    return np.broadcast_arrays(a, b)


def _sym(x):
    return 0.5 * (x + np.swapaxes(x, -1, -2))


def _psd_sqrt(x, fn, nm):
    w, v = np.linalg.eigh(x)
    tol = 1e-8 * x.shape[-1] * np.abs(w).max(axis=-1, keepdims=True)
    if (w < -tol).any():
        raise value_error(fn, nm, "positive semidefinite", f"eigenvalue {w.min():.3g}")
    return _sym((v * np.sqrt(np.clip(w, 0.0, None))[..., None, :]) @ np.swapaxes(v, -1, -2))


def bures_transport_map(A, B):
    """Optimal transport map ``T = A^{-1} # B`` between ``N(0, A)`` and ``N(0, B)``
    (depth-math §8.4; thesis eqs (3.13)–(3.14)): the SPD matrix with ``T A T = B``.

    Cholesky route: ``A = L Lᵀ``, ``S = (Lᵀ B L)^{1/2}`` by ``eigh``, ``T = L^{-T} S L^{-1}``
    (triangular solves, symmetrised), float64, batched over leading dims. ``A`` must be positive
    definite (a singular ``A`` has no transport map: ValueError; use :func:`bures_geodesic`,
    which handles singular endpoints); ``B`` may be singular PSD."""
    fn = "bures_transport_map"
    a, b = _spd_pair(A, B, fn)
    try:
        Lc = np.linalg.cholesky(a)
    except np.linalg.LinAlgError:
        raise value_error(fn, "A", "positive definite (no transport map from a singular A)",
                          "a singular or indefinite matrix") from None
    C = _sym(np.swapaxes(Lc, -1, -2) @ b @ Lc)
    S = _psd_sqrt(C, fn, "B")
    Linv = np.linalg.solve(Lc, np.broadcast_to(np.eye(a.shape[-1]), a.shape))
    return _sym(np.swapaxes(Linv, -1, -2) @ S @ Linv)


def bures_geodesic(A, B, t):
    """Point(s) ``X(t)`` of the Bures–Wasserstein geodesic from ``A`` (t = 0) to ``B`` (t = 1)
    (depth-math §8.4; thesis eqs (3.15), (3.34)).

    Positive definite ``A``: the symmetric form ``X(t) = (tT + (1−t)I) A (tT + (1−t)I)`` with
    ``T`` from :func:`bures_transport_map`. Singular PSD ``A`` (Cholesky fails): the upstairs line
    ``W(t) = (1−t)A^{1/2} + t B^{1/2}U``, ``X = W Wᵀ``, ``U`` the polar factor of
    ``B^{1/2}A^{1/2}`` (thesis §3.2, proof 2). ``t``: scalar in ``[0, 1]`` → ``(..., n, n)``;
    1-D array → ``(len(t), ..., n, n)``. The path has constant speed:
    ``d_BW(X(s), X(t)) = |t − s|·d_BW(A, B)``."""
    fn = "bures_geodesic"
    a, b = _spd_pair(A, B, fn)
    tt = as_real_array(t, fn, "t", lo=0.0, hi=1.0)
    if tt.ndim > 1:
        raise value_error(fn, "t", "a scalar or a 1-D array", f"shape {tt.shape}")
    n = a.shape[-1]
    eye = np.eye(n)
    try:
        np.linalg.cholesky(a)
        spd = True
    except np.linalg.LinAlgError:
        spd = False
    ts = np.atleast_1d(tt)
    outs = []
    if spd:
        T = bures_transport_map(a, b)
        for s in ts:
            Mt = s * T + (1.0 - s) * eye
            outs.append(_sym(Mt @ a @ Mt))
    else:
        ra, rb = _psd_sqrt(a, fn, "A"), _psd_sqrt(b, fn, "B")
        W_, _, Zt = np.linalg.svd(rb @ ra)  # B^{1/2}A^{1/2} = W S Zᵀ → polar factor W Zᵀ
        U = W_ @ Zt
        for s in ts:
            Wt = (1.0 - s) * ra + s * (rb @ U)
            outs.append(_sym(Wt @ np.swapaxes(Wt, -1, -2)))
    out = np.stack(outs)
    return out[0] if tt.ndim == 0 else out


def _inv_n(N, fn):
    if N is None or (isinstance(N, float) and math.isinf(N)):
        return 0.0
    return 1.0 / as_int(N, fn, "N", minimum=1)


def dln_log_volume(sigma, N=None, *, grad=False, threads=None):
    """Entropic log-volume of the deep linear network (depth-math §8.5; thesis eqs
    (4.26)–(4.29)) from singular values ``sigma`` ``(..., d)`` (≥ 0, any order):

    ``S_N = ½ Σ_{j<k} log λ_jk`` with ``λ_jk = (σ_j² − σ_k²)/(σ_j^{2/N} − σ_k^{2/N})`` for an
    int ``N ≥ 1``, and ``S_∞ = ½ Σ_{j<k} log[(σ_j² − σ_k²)/(log σ_j² − log σ_k²)]`` for
    ``N=None`` (or ``inf``). Every pair is evaluated in the stable form
    ``(2 − 2/N) log M + log(−expm1(−x)) − log(−expm1(−x/N))`` (``x = 2 log(M/m)``), exact at
    ties (limits, no 0/0) and for zeros (``S_∞ = −∞`` if any σ = 0; ``S_N = −∞`` iff two vanish),
    compensated sums; compiled, O(d²) per row. With ``grad=True`` also returns ``∂S/∂σ_i``
    (series for ``|log(σ_i/σ_j)| < 1e-2``; ``+∞`` at ``σ_i = 0``). Accuracy ~1e-13 relative.
    """
    fn = "dln_log_volume"
    s = as_real_array(sigma, fn, "sigma", lo=0.0)
    if s.ndim < 1:
        raise value_error(fn, "sigma", "an array (..., d) of singular values", "a scalar")
    inv_n = _inv_n(N, fn)
    flat = np.ascontiguousarray(s.reshape(-1, s.shape[-1]), dtype=np.float64)
    S = np.empty(flat.shape[0])
    G = np.empty_like(flat) if grad else None
    _backend.core.dln_log_volume(flat, inv_n, S, G, _threads(threads, fn))
    S = S.reshape(s.shape[:-1])
    return (S, G.reshape(s.shape)) if grad else S
