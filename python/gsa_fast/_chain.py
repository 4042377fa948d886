"""Pieces of the chain-margin functions that the fast route and the reference share.

Argument checks (factors, pairs, report options), the §7.1 interface formulas on norms, and the
assembly of the §9 margin report from per-layer spectra. The assembly takes the namespace that
computes (``gsa_fast`` or ``gsa_fast.reference``) as an argument, so this module imports neither
the compiled extension nor the fast modules.
"""
from __future__ import annotations

import math
import numbers
from typing import NamedTuple

import numpy as np

from ._chart_args import _check_chart_args
from ._validate import as_float_array, host_array, type_error, value_error

_SMALL_COPY = 1 << 20  # non-contiguous factors up to this many entries are copied, larger raise


class ChainMargins(NamedTuple):
    """Result of :func:`gsa_fast.chain_margins` (spec §7.1), on Frobenius-normalized factors.

    ``norm`` has one entry per layer (``‖Ã_ℓ‖``); the other fields one per interface
    ``ℓ = 1..L−1`` (NaN where ``A_{ℓ+1}A_ℓ`` is not defined).
    """

    norm: np.ndarray
    product_norm: np.ndarray
    log_kappa: np.ndarray
    slack: np.ndarray
    margin: np.ndarray
    theta: np.ndarray


# ---- argument checks ------------------------------------------------------------------------

def _matrix(x, fn: str, arg: str) -> np.ndarray:
    """One factor through the shared normalization (any numpy layout, byte order, list or
    foreign array; device arrays refused with the one device error), checked, C-contiguous:
    a strided factor is copied once in its own dtype (never widened)."""
    x = as_float_array(x, fn, arg, "a 2-D float32 or float64 array")
    if x.ndim != 2:
        raise value_error(fn, arg, "a 2-D matrix", f"shape {tuple(x.shape)}")
    if not x.flags.c_contiguous:
        x = np.ascontiguousarray(x)
    if x.size and not np.isfinite(x).all():
        raise value_error(fn, arg, "finite (no NaN or Inf)", "non-finite entries")
    return x


def as_factor_list(factors, fn: str, arg: str = "factors") -> list:
    """A chain as a list of checked 2-D arrays, in application order (A_1 first)."""
    if not isinstance(factors, (list, tuple)):
        factors = host_array(factors, fn, arg, "a stack (L, n, n) or a list of 2-D matrices")
        if factors.ndim != 3:
            if isinstance(factors, np.ndarray) and factors.dtype.kind == "f":
                raise value_error(fn, arg, "a stack (L, n, n) or a list of 2-D matrices",
                                  f"shape {tuple(factors.shape)}")
            raise type_error(fn, arg, "a stack (L, n, n) or a list of 2-D matrices", factors)
        items = [factors[i] for i in range(factors.shape[0])]
    else:
        items = list(factors)
    if not items:
        raise value_error(fn, arg, "a non-empty chain", "0 factors")
    return [_matrix(a, fn, f"{arg}[{i}]") for i, a in enumerate(items)]


def check_chain_dtype(factors, fn: str, arg: str = "factors") -> None:
    """One dtype per chain: the first factor's (host or device arrays)."""
    dt = factors[0].dtype
    for i, a in enumerate(factors):
        if a.dtype != dt:
            raise type_error(fn, f"{arg}[{i}]", f"of the chain's dtype ({dt})", a)


def _as_list(a, fn: str, arg: str) -> list:
    """A list of matrices, or a (batch, m, k) stack read as one."""
    if isinstance(a, (list, tuple)):
        return list(a)
    a = host_array(a, fn, arg, "a float32 or float64 array or a list of them")
    if a.ndim != 3:
        raise value_error(fn, arg, "a (batch, m, k) stack or a list of matrices", f"shape {tuple(a.shape)}")
    return [a[i] for i in range(a.shape[0])]


def as_pairs(X, Y, fn: str):
    """(list of X, list of Y, output shape) for a pair, a stack of pairs or two lists."""
    if isinstance(X, (list, tuple)) != isinstance(Y, (list, tuple)):  # a list beside a stack
        X, Y = (_as_list(a, fn, name) for name, a in (("X", X), ("Y", Y)))
    if isinstance(X, (list, tuple)):
        if len(X) != len(Y):
            raise value_error(fn, "Y", f"a list of {len(X)} matrices (one per X)", f"{len(Y)}")
        xs = [_matrix(x, fn, f"X[{i}]") for i, x in enumerate(X)]
        ys = [_matrix(y, fn, f"Y[{i}]") for i, y in enumerate(Y)]
        shape = (len(xs),)
    else:
        Xa, Ya = (host_array(a, fn, name, "a float32 or float64 array or a list of them")
                  for name, a in (("X", X), ("Y", Y)))
        if Xa.ndim == 2 and Ya.ndim == 2:
            xs, ys, shape = [_matrix(Xa, fn, "X")], [_matrix(Ya, fn, "Y")], ()
        elif Xa.ndim == 3 and Ya.ndim == 3:
            if Xa.shape[0] != Ya.shape[0]:
                raise value_error(fn, "Y", f"a stack of {Xa.shape[0]} matrices (as X)",
                                  f"shape {tuple(Ya.shape)}")
            xs = [_matrix(Xa[i], fn, f"X[{i}]") for i in range(Xa.shape[0])]
            ys = [_matrix(Ya[i], fn, f"Y[{i}]") for i in range(Ya.shape[0])]
            shape = (Xa.shape[0],)
        else:
            raise value_error(fn, "X", "2-D matrices or (batch, m, k) stacks, X and Y alike",
                              f"shapes {tuple(Xa.shape)} and {tuple(Ya.shape)}")
    check_pairs(xs, ys, shape, fn)
    return xs, ys, shape


def check_pairs(xs, ys, shape, fn: str) -> None:
    """Each product X_i Y_i defined (inner sizes) and of one dtype; host or device arrays."""
    for i, (x, y) in enumerate(zip(xs, ys)):
        tag = "" if shape == () else f"[{i}]"
        if x.shape[1] != y.shape[0]:
            raise value_error(fn, f"Y{tag}", f"a matrix with X{tag}.shape[1] = {x.shape[1]} rows",
                              f"shape {tuple(y.shape)}")
        if x.dtype != y.dtype:
            raise type_error(fn, f"Y{tag}", f"of the dtype of X{tag} ({x.dtype})", y)


def check_widths(d, factors, fn: str):
    """Per-layer widths d_ℓ (default min(m, n)) as a list of ints >= 1."""
    if d is None:
        return [max(1, min(a.shape)) for a in factors]
    try:
        dd = np.asarray(d)
    except ValueError:  # ragged nested lists: numpy's "inhomogeneous shape"
        raise type_error(fn, "d", f"an int or {len(factors)} ints", d) from None
    if dd.dtype.kind not in "iu" or dd.ndim > 1 or (dd.ndim == 1 and dd.size != len(factors)):
        raise type_error(fn, "d", f"an int or {len(factors)} ints", d)
    dd = np.broadcast_to(dd, (len(factors),))
    for i, v in enumerate(dd):
        if v < 1:
            raise value_error(fn, f"d[{i}]", "an integer >= 1", repr(int(v)))
    return [int(v) for v in dd]


#: Tightest accuracy the Krylov route of product_norm / chain_margins accepts: below it the Ritz
#: residual meets the rounding of the float64 products, and the iteration would run to its pass
#: limit and fall back to the dense route.
RTOL_MIN = 1e-12


def check_rtol(rtol, fn: str) -> float:
    """The relative accuracy asked of ‖XY‖ (``rtol``): a real number in [RTOL_MIN, 1)."""
    if isinstance(rtol, (bool, np.bool_)) or not isinstance(rtol, numbers.Real):
        raise type_error(fn, "rtol", f"a real number in [{RTOL_MIN:g}, 1)", rtol)
    r = float(rtol)
    if not RTOL_MIN <= r < 1.0:
        raise value_error(fn, "rtol", f"in [{RTOL_MIN:g}, 1) ({RTOL_MIN:g} is the float64 Krylov "
                          "route's limit; the dense SVD of gsa_fast.reference is exact)", repr(rtol))
    return r


def check_nonzero(fro, fn: str) -> None:
    for i, f in enumerate(fro):
        if not f > 0:
            raise value_error(fn, f"factors[{i}]",
                              "nonzero (Frobenius normalization N_d is undefined for 0)",
                              "a zero matrix")


def check_report_args(fn, interval, eps, lip, budget, *, chart, window):
    """margin_report's options, all checked under margin_report's name (``chart`` and ``window``
    are forwarded to fit_exponent, which would otherwise report them as its own)."""
    try:
        lo, hi = (float(v) for v in interval)
    except Exception:
        raise type_error(fn, "interval", "a pair (alpha_min, alpha_max) of reals", interval) from None
    if not (0.0 <= lo < hi < math.inf):
        raise value_error(fn, "interval", "increasing with 0 <= alpha_min < alpha_max < inf",
                          f"({lo!r}, {hi!r})")
    if isinstance(eps, (bool, np.bool_)) or not isinstance(eps, numbers.Real):
        raise type_error(fn, "eps", "a real number in (0, 1)", eps)
    if not 0.0 < float(eps) < 1.0:
        raise value_error(fn, "eps", "in (0, 1)", repr(eps))
    if not isinstance(lip, str):  # an array must not meet `in`
        raise type_error(fn, "lip", "a str, 'paper' or 'sharp'", lip)
    if lip not in ("paper", "sharp"):
        raise value_error(fn, "lip", "'paper' or 'sharp'", repr(lip))
    _check_chart_args(fn, chart, (lo, hi), window)
    if budget is not None:
        if isinstance(budget, (bool, np.bool_)) or not isinstance(budget, numbers.Real):
            raise type_error(fn, "budget", "a real number > 1 or None", budget)
        if not (1.0 < float(budget) < math.inf):
            raise value_error(fn, "budget", "a finite real number > 1", repr(budget))
    return (lo, hi), float(eps), (None if budget is None else float(budget))


# ---- §7.1 on norms --------------------------------------------------------------------------

def margins_from_norms(nrm, fro, pn, widths, normalize, fn) -> "ChainMargins":
    """§7.1 from raw norms: ‖A_ℓ‖, ‖A_ℓ‖_F, ‖A_{ℓ+1}A_ℓ‖ (NaN where undefined), scaled to
    N_d(A_ℓ) = √d_ℓ·A_ℓ/‖A_ℓ‖_F when ``normalize`` (a zero factor is the ValueError)."""
    if normalize:
        check_nonzero(fro, fn)
        c = np.sqrt(np.asarray(widths, dtype=np.float64)) / fro
        nrm = nrm * c
        pn = pn * c[1:] * c[:-1]
    return interface_quantities(nrm, pn)


def interface_quantities(norm, pnorm) -> ChainMargins:
    """log κ, s, μ, ϑ from the normalized norms (pnorm NaN where a product is undefined).

    μ is evaluated as max(log κ, ½|Δ log‖A‖|) (spec §7.1 identity): it equals log κ + s and
    keeps its value when the product cancels to 0 (log κ = −∞, s = +∞).
    """
    norm = np.asarray(norm, dtype=np.float64)
    pnorm = np.asarray(pnorm, dtype=np.float64)
    a, b = norm[:-1], norm[1:]
    undefined = np.isnan(pnorm)
    with np.errstate(divide="ignore", invalid="ignore"):
        logp = np.log(pnorm)
        log_kappa = logp - 0.5 * (np.log(a) + np.log(b))
        slack = np.maximum(np.log(np.maximum(a, b)) - logp, 0.0)
        margin = np.maximum(log_kappa, 0.5 * np.abs(np.log(b) - np.log(a)))
        theta = pnorm / (a * b)
    for v in (log_kappa, slack, margin, theta):
        v[undefined] = np.nan
    return ChainMargins(norm, pnorm, log_kappa, slack, margin, theta)


def compatible(factors) -> np.ndarray:
    """Interface ℓ is defined when A_{ℓ+1}A_ℓ is: A_{ℓ+1}.shape[1] == A_ℓ.shape[0]."""
    return np.array([factors[i + 1].shape[1] == factors[i].shape[0]
                     for i in range(len(factors) - 1)], dtype=bool)


# ---- the §9 margin report -------------------------------------------------------------------

class MarginReport:
    """The margin report of a chain (spec §9): ``layers`` and ``interfaces`` (pandas
    DataFrames, one row per layer / interface), ``totals`` (dict), ``theorem_applicable`` (bool)
    and ``reasons`` (list of str: every hypothesis of Theorem 4.16 that fails)."""

    __slots__ = ("layers", "interfaces", "totals", "theorem_applicable", "reasons")

    def __init__(self, layers, interfaces, totals, theorem_applicable, reasons):
        self.layers = layers
        self.interfaces = interfaces
        self.totals = totals
        self.theorem_applicable = theorem_applicable
        self.reasons = reasons

    def __repr__(self) -> str:
        ok = "applicable" if self.theorem_applicable else f"not applicable ({len(self.reasons)} reasons)"
        return (f"MarginReport(<{len(self.layers)} layers, {len(self.interfaces)} interfaces>, "
                f"theorem {ok})")


def _ratio(num, den):
    """ρ rule of §9: num/den; 0 when both vanish, +∞ when only the denominator does."""
    with np.errstate(divide="ignore", invalid="ignore"):
        r = num / den
    r = np.where(den == 0, np.where(num == 0, 0.0, np.inf), r)
    return np.where(np.isnan(num) | np.isnan(den), np.nan, r)


def _max_fisher(ns, lo, hi, d):
    """I_J = max_{α∈J} I(α) for width d: a 257-point grid, then golden-section refinement."""
    if d < 2:
        return 0.0
    grid = np.linspace(lo, hi, 257)
    f = np.asarray(ns.fisher_information(grid, d), dtype=np.float64)
    j = int(np.argmax(f))
    a, b = grid[max(j - 1, 0)], grid[min(j + 1, grid.size - 1)]
    g = (math.sqrt(5.0) - 1.0) / 2.0
    for _ in range(60):
        c, e = b - g * (b - a), a + g * (b - a)
        if float(ns.fisher_information(c, d)) >= float(ns.fisher_information(e, d)):
            b = e
        else:
            a = c
    return max(float(f[j]), float(ns.fisher_information(0.5 * (a + b), d)))


def _layer_vectors(ns, s, d, alpha):
    """Normalized singular values σ̃ (‖σ̃‖² = d), the Bures square-root residual r and the
    log-Cartan residual ρ (§6.3), and the fitted a(P(α)), all of length d."""
    st = np.zeros(d)
    q = min(d, s.size)
    st[:q] = s[:q]
    st *= math.sqrt(d) / np.linalg.norm(st)
    if not np.isfinite(alpha):
        nan = np.full(d, np.nan)
        return st, nan, nan, nan
    k = np.arange(1, d + 1, dtype=np.float64)
    H = float(ns.harmonic(d, 2.0 * alpha))
    a_fit = 0.5 * math.log(d) - 0.5 * math.log(H) - alpha * np.log(k)
    r = st - np.exp(a_fit)
    with np.errstate(divide="ignore"):
        rho = np.log(st) - a_fit
    rho[st == 0] = np.nan  # a(P) is undefined on the PSD boundary (§2.3)
    return st, r, rho, a_fit


def assemble_report(ns, factors, spectra, chain_margins, *, chart, interval, window, eps, lip,
                    budget, fn):
    """Build a :class:`MarginReport` from per-layer spectra with the kernels of namespace ns."""
    import pandas as pd  # optional dependency: only the report needs it

    lo, hi = interval
    L = len(factors)
    qplus = np.array([int(np.count_nonzero(s)) for s in spectra], dtype=np.int64)
    if np.any(qplus == 0):  # N_d needs A ≠ 0
        check_nonzero([float(np.linalg.norm(s)) for s in spectra], fn)
    d = qplus
    S = _ragged(spectra)
    fit = ns.fit_exponent(S, chart=chart, interval=(lo, hi), window=window, full_output=True)
    alpha = np.atleast_1d(np.asarray(fit.alpha, dtype=np.float64))
    ok = np.isfinite(alpha)
    a0 = np.where(ok, alpha, 0.0)

    def masked(values):
        return np.where(ok, np.asarray(values, dtype=np.float64), np.nan)

    m_P = np.atleast_1d(ns.radial_functional(S))
    m_d = masked(ns.radial(a0, d))
    md1 = masked(ns.radial(a0, d, derivative=1))
    fisher = masked(ns.fisher_information(a0, d))
    r_act = np.atleast_1d(ns.truncation_rank(S, eps)).reshape(L)
    r_mod = np.where(ok, ns.orbit_truncation_rank(a0, eps, d), -1)
    gamma = masked(ns.tail_margin(a0, eps, d))
    lsq_rms = np.full(L, np.nan)
    intercept = np.atleast_1d(np.asarray(fit.intercept, dtype=np.float64))
    if chart == "lsq":
        for i, s in enumerate(spectra):
            k0, k1 = (1, int(qplus[i])) if window is None else window
            if ok[i] and k1 <= qplus[i]:
                k = np.arange(k0, k1 + 1, dtype=np.float64)
                y = np.log(s[k0 - 1:k1] * math.sqrt(d[i]) / np.linalg.norm(s))
                lsq_rms[i] = math.sqrt(float(np.mean((y - intercept[i] + alpha[i] * np.log(k)) ** 2)))
    vecs = [_layer_vectors(ns, s, int(d[i]), alpha[i]) for i, s in enumerate(spectra)]
    layers = pd.DataFrame({
        "layer": np.arange(1, L + 1),
        "rows": [a.shape[0] for a in factors],
        "cols": [a.shape[1] for a in factors],
        "d": d,
        "q_plus": qplus,
        "norm": chain_margins.norm,
        "alpha": alpha,
        "chart": chart,
        "window": [window if window is not None else (1, int(q)) for q in qplus],
        "intercept": intercept,
        "lsq_rms": lsq_rms,
        "m": m_P,
        "m_d": m_d,
        "residual": masked(np.atleast_1d(fit.residual)),
        "m_d_prime": md1,
        "fisher": fisher,
        "entropy": np.atleast_1d(ns.spectral_entropy(S)),
        "entropy_model": masked(ns.orbit_entropy(a0, d)),
        "E_bw": masked(ns.chart_error(S, a0, normalized=False)),
        "E_bar": masked(ns.chart_error(S, a0)),
        "r_eps": r_act,
        "r_eps_model": r_mod,
        "tau": masked(ns.tail_residual(S, a0)),
        "gamma": gamma,
    })

    # ---- interfaces
    n_if = L - 1
    same_d = np.array([d[i] == d[i + 1] for i in range(n_if)], dtype=bool)
    defined = compatible(factors) if n_if else np.zeros(0, bool)
    comparable = defined & same_d & ok[:-1] & ok[1:] if n_if else np.zeros(0, bool)
    eps_res = layers["residual"].to_numpy()
    dalpha = alpha[1:] - alpha[:-1]
    deps = eps_res[1:] - eps_res[:-1]
    mu = chain_margins.margin
    mJ = np.array([float(ns.radial(hi, int(d[i]), derivative=1)) if d[i] >= 2 else np.nan
                   for i in range(n_if)])
    denom = 2.0 * mu + np.abs(deps)
    lhs = mJ * np.abs(dalpha)
    delta = denom / mJ
    LT = np.array([float(ns.tail_lipschitz(int(d[i]), lip=lip)) for i in range(n_if)])
    cols = {k: np.full(n_if, np.nan) for k in
            ("r_diff", "rho_diff", "bw_fitted", "bw_actual", "log_cartan_fitted",
             "log_cartan_actual", "kl")}
    for i in range(n_if):
        if not (same_d[i] and ok[i] and ok[i + 1]):
            continue
        (s0, r0, p0, f0), (s1, r1, p1, f1) = vecs[i], vecs[i + 1]
        di = int(d[i])
        cols["r_diff"][i] = np.linalg.norm(r1 - r0)
        cols["rho_diff"][i] = np.linalg.norm(p1 - p0)
        cols["bw_fitted"][i] = float(ns.orbit_bures_distance(alpha[i], alpha[i + 1], di))
        cols["bw_actual"][i] = np.linalg.norm(s1 - s0)
        cols["log_cartan_fitted"][i] = np.linalg.norm(f1 - f0)
        with np.errstate(divide="ignore", invalid="ignore"):
            cols["log_cartan_actual"][i] = np.linalg.norm(np.log(s1) - np.log(s0))
        cols["kl"][i] = float(ns.orbit_kl(alpha[i], alpha[i + 1], di))
    mdiff = np.abs(m_d[1:] - m_d[:-1])
    interfaces = pd.DataFrame({
        "interface": np.arange(1, n_if + 1),
        "defined": defined,
        "comparable": comparable,
        "delta_alpha": dalpha,
        "product_norm": chain_margins.product_norm,
        "theta": chain_margins.theta,
        "kappa": np.exp(chain_margins.log_kappa),
        "log_kappa": chain_margins.log_kappa,
        "slack": chain_margins.slack,
        "margin": mu,
        "delta_residual": deps,
        "m_prime_J": mJ,
        "lhs": lhs,
        "rhs": denom,
        "rho": _ratio(lhs, denom),
        "rho_sharp": _ratio(mdiff, denom),
        "delta_bound": delta,
        "rank_stable": (LT * delta < gamma[:-1]) if n_if else np.zeros(0, bool),
        **cols,
    })
    # undefined interfaces are missing, never 0: the §7.1 columns where the product is not
    # defined, the chart comparisons also where the widths differ or a chart is undefined
    chain_cols = ("product_norm", "theta", "kappa", "log_kappa", "slack", "margin")
    for c in interfaces.columns:
        if interfaces[c].dtype.kind == "f":
            interfaces.loc[~(defined if c in chain_cols else comparable), c] = np.nan
    interfaces["rank_stable"] = interfaces["rank_stable"] & comparable

    # ---- totals
    dchain = int(d[0]) if np.all(d == d[0]) else None
    TV = float(np.sum(np.abs(dalpha)))
    sum_mu = float(np.sum(mu))
    sum_s = float(np.sum(chain_margins.slack))
    V_eps = float(np.sum(np.abs(deps)))
    nan = float("nan")
    if dchain is not None and dchain >= 2:
        mJc = float(ns.radial(hi, dchain, derivative=1))
        IJ = _max_fisher(ns, lo, hi, dchain)
        sJ = 0.5 * math.sqrt(IJ)
        LTc = float(ns.tail_lipschitz(dchain, lip=lip))
    else:
        mJc = IJ = sJ = LTc = nan
    sqd = math.sqrt(dchain) if dchain else nan
    f = interfaces
    sum_delta2 = float(np.sum(delta ** 2))
    gmin = float(np.min(gamma)) if L else nan
    N_eps = int(np.count_nonzero(r_act[1:] != r_act[:-1]))
    totals = {
        "L": L, "d": dchain if dchain is not None else nan, "chart": chart,
        "interval": (lo, hi), "eps": eps, "lip": lip,
        "TV_alpha": TV, "sum_mu": sum_mu, "sum_slack": sum_s, "V_eps": V_eps,
        "V_BW": float(np.sum(f["r_diff"])), "V_log": float(np.sum(f["rho_diff"])),
        "m_prime_J": mJc, "sigma_J": sJ, "I_J": IJ,
        "rhs_48": (2 * sum_mu + V_eps) / mJc,
        "lhs_53": float(np.sum(f["bw_fitted"])),
        "rhs_53": sqd * sJ * TV, "rhs_53_coarse": sqd * math.log(dchain) / 2 * TV if dchain else nan,
        "rhs_54": sqd * sJ * (2 * sum_mu + V_eps) / mJc,
        "lhs_55": float(np.sum(f["bw_actual"])),
        "rhs_55": float(np.sum(f["bw_fitted"])) + float(np.sum(f["r_diff"])),
        "lhs_56": float(np.sum(f["log_cartan_actual"])),
        "rhs_56": float(np.sum(f["log_cartan_fitted"])) + float(np.sum(f["rho_diff"])),
        "lhs_75": float(np.sum(f["kl"])), "rhs_75": 0.5 * IJ * sum_delta2,
        "lhs_76": float(np.sum(f["bw_fitted"] ** 2)),
        "rhs_76": (dchain / 4.0 if dchain else nan) * IJ * sum_delta2,
        "N_eps": N_eps, "gamma_min": gmin, "L_T": LTc,
        "N_eps_bound": (LTc / gmin) * (2 * sum_mu + V_eps) / mJc if gmin > 0 else math.inf,
    }
    if budget is not None:
        lM = math.log(budget)
        totals.update({
            "budget": budget, "log_M": lM,
            "budget_holds": bool(np.all(chain_margins.log_kappa <= lM / L)),
            "rhs_51": 2 * lM / (L * mJc),
            "rhs_52": (2 * (L - 1) * lM / L + 2 * sum_s + V_eps) / mJc,
            "rhs_77": 2 * (L - 1) * IJ * lM ** 2 / (L ** 2 * mJc ** 2),
            "rhs_78": (L - 1) * (dchain or nan) * IJ * lM ** 2 / (L ** 2 * mJc ** 2),
        })

    reasons = []
    for i, a in enumerate(factors):
        if a.shape[0] != a.shape[1]:
            reasons.append(f"layer {i + 1}: not square ({a.shape[0]}x{a.shape[1]})")
        elif qplus[i] < a.shape[0]:
            reasons.append(f"layer {i + 1}: rank-deficient (q_+ = {qplus[i]} < {a.shape[0]})")
        elif spectra[i][-1] <= max(a.shape) * np.finfo(a.dtype).eps / 2 * spectra[i][0]:
            # numerically rank-deficient (the numpy matrix_rank rule, u of the input's dtype)
            reasons.append(f"layer {i + 1}: rank-deficient (sigma_min/sigma_1 = "
                           f"{spectra[i][-1] / spectra[i][0]:.3g} <= max(m, n)·u)")
        if d[i] < 2:
            reasons.append(f"layer {i + 1}: d = {d[i]} < 2")
        if not ok[i]:
            reasons.append(f"layer {i + 1}: chart {chart!r} undefined (alpha is NaN)")
        elif not lo <= alpha[i] <= hi:
            reasons.append(f"layer {i + 1}: alpha = {alpha[i]:.6g} outside J = [{lo}, {hi}]")
    for i in range(n_if):
        if not compatible(factors)[i]:
            reasons.append(f"interface {i + 1}: product A_{i + 2} A_{i + 1} undefined "
                           f"({factors[i + 1].shape} after {factors[i].shape})")
    return MarginReport(layers, interfaces, totals, not reasons, reasons)


def report_from_spectra(ns, factors, spectra, margins_of, *, fn, **options):
    """The report once the spectra are known: widths q_+, chain margins on N_{q_+}, assembly.
    margins_of(factors, widths, normalize, fn) is the route's chain-margin function."""
    check_nonzero([float(np.max(s, initial=0.0)) for s in spectra], fn)
    qplus = [int(np.count_nonzero(s)) for s in spectra]
    cm = margins_of(factors, qplus, True, fn)
    return assemble_report(ns, factors, spectra, cm, fn=fn, **options)


def _ragged(spectra):
    from ._ragged import RaggedSpectra
    return RaggedSpectra.from_list(spectra)
