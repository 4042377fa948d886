"""Reference (pure numpy, float64) orbit functions (spec §4, §5.3): clear, not fast.

For ``d ≤ 1e6`` the Gibbs law ``p_k(α) = k^-2α / H`` is materialized and every quantity is the
textbook sum over k (two-pass centred variance, ``KL = log1p(Σ p φ(x))``, Bures entrywise (26)).
For larger ``d`` the sums come from :mod:`gsa_fast.reference.sums`, and sums that cancel are
done by :func:`weighted_sum`: exact head ``k ≤ 2^20`` plus midpoint Euler–Maclaurin with
adaptive Gauss–Legendre quadrature (``_numerics.integrate``) — a different algorithm from the compiled kernel's
(head ``k < 128``, trapezoid Euler–Maclaurin, fixed Gauss–Legendre panels).
"""
from __future__ import annotations

import math

import numpy as np

from .._scalar_args import binary_params, derivative_arg, probs_params, unary_params
from ._numerics import integrate

from .sums import range_sums

__all__ = [
    "orbit_probs",
    "log_partition",
    "radial",
    "orbit_variance",
    "fisher_information",
    "orbit_entropy",
    "orbit_kl",
    "orbit_bures_distance",
    "bures_length",
]

MATERIALIZE = 10**6
HEAD = 2**20


def phi(x):
    """φ(x) = e^x − 1 − x, by its series for |x| < 1e-3 (spec §4.4)."""
    x = np.asarray(x, dtype=np.float64)
    small = np.abs(x) < 1e-3
    xs = np.where(small, x, 0.0)
    series = xs * xs * (0.5 + xs * (1 / 6 + xs * (1 / 24 + xs * (1 / 120 + xs / 720))))
    return np.where(small, series, np.expm1(x) - x)


def weighted_sum(d: int, s: float, F, dF) -> float:
    """Σ_{k=1}^{d} k^-s F(log k) for d > 2^20: exact head k ≤ 2^20 plus the midpoint rule
    Σ_{k=a}^{d} f(k) = ∫_{a−½}^{d+½} f − (f′(d+½) − f′(a−½))/24 + O(f‴/a³), f(x) = x^-s F(log x),
    with the integral ∫ e^{(1−s)u} F(u) du by adaptive quadrature in u = log x."""
    k = np.arange(1, min(d, HEAD) + 1, dtype=np.float64)
    head = math.fsum(k ** (-s) * F(np.log(k)))
    if d <= HEAD:
        return head
    lo, hi = math.log(HEAD + 0.5), math.log(d + 0.5)
    integral = integrate(lambda u: math.exp((1 - s) * u) * float(F(u)), lo, hi, rtol=1e-15)

    def fprime(x):
        u = math.log(x)
        return x ** (-s - 1) * (float(dF(u)) - s * float(F(u)))

    return head + integral - (fprime(d + 0.5) - fprime(HEAD + 0.5)) / 24.0


def _stats(alpha: float, d: int, var: bool = False) -> dict:
    """H, g = H − 1, μ = E log k and (if var) Var log k for one (α, d)."""
    # Every k ≥ 2 term k^-s underflows to 0 from s ≈ 1075, so s = min(2α, 1500) leaves every sum
    # unchanged and keeps s = inf (α > 9e307) from forming inf·0 = NaN (k = 1, log k = 0).
    s = min(2.0 * alpha, 1500.0)
    if d <= MATERIALIZE:
        k = np.arange(1, d + 1, dtype=np.float64)
        w = k ** (-s)
        logk = np.log(k)
        H = math.fsum(w)
        p = w / H
        mu = math.fsum(p * logk)
        var = math.fsum(p * (logk - mu) ** 2)
        return {"H": H, "g": math.fsum(w[1:]), "mu": mu, "var": var, "s": s}
    H, L = range_sums(1, d, s, 0), range_sums(1, d, s, 1)
    H, L = float(H), float(L)
    mu = L / H
    out = {"H": H, "g": float(range_sums(2, d, s)), "mu": mu, "s": s}
    if var:
        out["var"] = weighted_sum(d, s, lambda u: (u - mu) ** 2, lambda u: 2 * (u - mu)) / H
    return out


def _map(one, shape, flat):
    """one(*scalars) over the flat validated parameter arrays, reshaped to the broadcast shape."""
    out = np.empty(flat[0].size)
    for i in range(out.size):
        out[i] = one(*[a[i].item() for a in flat])
    return out.reshape(shape)[()]


def _unary(fn, one, alpha, d):
    return _map(one, *unary_params(fn, alpha, d))


def _binary(fn, one, a, b, d, names=("alpha", "beta")):
    return _map(one, *binary_params(fn, a, b, d, names))


def orbit_probs(alpha, d):
    alpha, d = probs_params("orbit_probs", alpha, d)
    k = np.arange(1, d + 1, dtype=np.float64)
    out = np.empty(alpha.shape + (d,))
    for idx in np.ndindex(alpha.shape):
        w = k ** (-min(2.0 * float(alpha[idx]), 1500.0))  # 2α = inf overflows; k ≥ 2 underflow from 1075
        out[idx] = w / math.fsum(w)
    return out


def log_partition(alpha, d):
    return _unary("log_partition", lambda a, n: math.log1p(_stats(a, int(n))["g"]), alpha, d)


def radial(alpha, d, derivative=0):
    derivative = derivative_arg(derivative, "radial")

    def one(a, n):
        n = int(n)
        st = _stats(a, n)
        if derivative == 0:
            return 0.5 * math.log(n) - 0.5 * math.log1p(st["g"])
        if derivative == 1:
            return st["mu"]
        return -2.0 * _stats(a, n, True)["var"]

    return _unary("radial", one, alpha, d)


def orbit_variance(alpha, d):
    return _unary("orbit_variance", lambda a, n: _stats(a, int(n), True)["var"], alpha, d)


def fisher_information(alpha, d):
    return _unary("fisher_information", lambda a, n: 4.0 * _stats(a, int(n), True)["var"], alpha, d)


def orbit_entropy(alpha, d):
    def one(a, n):
        n = int(n)
        st = _stats(a, n)
        if n <= MATERIALIZE:
            k = np.arange(1, n + 1, dtype=np.float64)
            logp = -st["s"] * np.log(k) - math.log1p(st["g"])
            return -math.fsum(np.exp(logp) * logp)
        return math.log1p(st["g"]) + st["s"] * st["mu"]

    return _unary("orbit_entropy", one, alpha, d)


def _kl_one(a, b, n):
    n = int(n)
    if n == 1 or a == b:
        return 0.0
    st = _stats(a, n)
    t = -2.0 * (b - a)
    mu = st["mu"]
    if abs(t) * (mu + math.log(n)) > 30.0:  # large KL: definition with analytic log p, log q
        sb = _stats(b, n)
        if n <= MATERIALIZE:
            logk = np.log(np.arange(1, n + 1, dtype=np.float64))
            # log H as log1p(g): H = 1 + g rounded to double keeps only ulp(1)/g of g's digits
            # (α = 20: g ≈ 9e-13, KL(20‖372, d = 3) was off by 2e-10 relative).
            # log(p/q) = 2(β−α) log k + log(H_β/H_α), products taken as 2·(α·log k) and
            # 2·(p·(β−α)·log k): 2α or 2β alone overflows at ~1e308 (−2β·log 1 was inf·0 = NaN);
            # a KL beyond the float64 range is +inf, which is its value here
            with np.errstate(over="ignore", invalid="ignore"):
                logp = -2.0 * (a * logk) - math.log1p(st["g"])
                pk = np.exp(logp)
                lin = np.where(pk > 0, pk * ((b - a) * logk), 0.0)  # p_k = 0: the term is 0, not 0·inf
                terms = 2.0 * lin + pk * (math.log1p(sb["g"]) - math.log1p(st["g"]))
            return math.fsum(terms) if np.all(np.isfinite(terms)) else float(np.sum(terms))
        return (math.log1p(sb["g"]) - math.log1p(st["g"])) + 2.0 * ((b - a) * mu)  # 2(β−α) may overflow
    if n <= MATERIALIZE:
        k = np.arange(1, n + 1, dtype=np.float64)
        p = k ** (-2 * a) / st["H"]
        return math.log1p(math.fsum(p * phi(t * (np.log(k) - mu))))
    S = weighted_sum(n, 2 * a, lambda u: phi(t * (u - mu)), lambda u: t * np.expm1(t * (u - mu)))
    return math.log1p(S / st["H"])


def orbit_kl(alpha, beta, d):
    return _binary("orbit_kl", _kl_one, alpha, beta, d)


def _bures_one(a, b, n):
    n = int(n)
    if n == 1 or a == b:
        return 0.0
    delta = b - a
    if abs(delta) >= 0.05 and n <= MATERIALIZE:  # entrywise (26)
        k = np.arange(1, n + 1, dtype=np.float64)
        p = k ** (-2 * a) / _stats(a, n)["H"]
        q = k ** (-2 * b) / _stats(b, n)["H"]
        return math.sqrt(n) * math.sqrt(math.fsum((np.sqrt(p) - np.sqrt(q)) ** 2))
    if abs(delta) >= 0.05:  # (F1) closed form, from g = H − 1: 1 − Hm/√(Ha·Hb) cancels when the
        # H are 1 + tiny (α = 20, β = 372, d = 1e6: 4.5e-8 off); −log BC = ½(log Ha + log Hb) − log Hm
        ga, gb, gm = (_stats(x, n)["g"] for x in (a, b, 0.5 * (a + b)))
        minus_log_bc = 0.5 * ((math.log1p(ga) - math.log1p(gm)) + (math.log1p(gb) - math.log1p(gm)))
        return math.sqrt(2 * n * -math.expm1(-minus_log_bc))
    # −log BC = ½[log1p(E_q φ(Δ(Y−μ))) + log1p(E_q φ(−Δ(Y−μ)))], q = p((α+β)/2)
    m = 0.5 * (a + b)
    st = _stats(m, n)
    mu = st["mu"]
    parts = []
    for t in (delta, -delta):
        if n <= MATERIALIZE:
            k = np.arange(1, n + 1, dtype=np.float64)
            S = math.fsum(k ** (-2 * m) * phi(t * (np.log(k) - mu)))
        else:
            S = weighted_sum(n, 2 * m, lambda u, t=t: phi(t * (u - mu)),
                             lambda u, t=t: t * np.expm1(t * (u - mu)))
        parts.append(math.log1p(S / st["H"]))
    one_minus_bc = -math.expm1(-0.5 * sum(parts))
    return math.sqrt(2 * n * one_minus_bc)


def orbit_bures_distance(alpha, beta, d):
    return _binary("orbit_bures_distance", _bures_one, alpha, beta, d)


def _fast_var(a, n):
    if n <= MATERIALIZE:
        return _stats(a, n, True)["var"]
    H, L, Q = (float(range_sums(1, n, 2 * a, j)) for j in range(3))
    return max(Q / H - (L / H) ** 2, 0.0)


def _bures_speed_integral(lo, hi, n):
    """∫_lo^hi sqrt(n·Var(α)) dα on panels [lo, lo+1], [lo+1, lo+3], [lo+3, lo+7], …: the speed
    decays like 2^-α, so a single panel over a huge interval (hi = 1e300) would sample only
    zeros; the panels keep the mass near lo and stop once the rest is below 1e-17 of the sum."""
    f = lambda a: math.sqrt(n * _fast_var(a, n))  # noqa: E731
    total, a, width = 0.0, lo, 1.0
    while a < hi:
        b = min(hi, a + width)
        total += integrate(f, a, b, rtol=1e-14)
        # beyond α ≈ 40 the speed is sqrt(n)·log 2·2^-α to 1e-12 relative: its tail from b is
        # f(b)/log 2, and f decreases there
        if b - lo > 64 and f(b) / math.log(2.0) <= 1e-17 * total:
            break
        a, width = b, 2.0 * width
    return total


def bures_length(alpha0, alpha1, d):
    def one(a0, a1, n):
        n = int(n)
        if n == 1 or a0 == a1:
            return 0.0
        return _bures_speed_integral(min(a0, a1), max(a0, a1), n)

    return _binary("bures_length", one, alpha0, alpha1, d, names=("alpha0", "alpha1"))
