"""Tails, truncation ranks, margins and rank plateaux of the power-law orbit (spec §8.2–§8.4).

``T_α(r) = Σ_{k>r} k^-2α / H_{d,2α}`` is the energy the orbit ``P(α)`` keeps outside its top
``r`` modes; ``r_ε(α) = min{r ≥ 1 : T_α(r) ≤ ε}`` is its truncation rank. Everything is computed
from suffix sums (direct head + Euler–Maclaurin, spec §3.3), never from a materialized
spectrum: ``d`` may be as large as 1e15 and a rank costs O(log d) sums. Array arguments
broadcast against each other.

Domain: ``alpha`` finite ``>= 0``; ``d`` an integer ``1 <= d <= 2**53``.

cupy operands run on the device (one thread per parameter tuple, the same arithmetic: cuda/
tails.cu over math/tails.hpp) and return cupy arrays; mixing host and device arrays raises
TypeError.
"""
from __future__ import annotations

import numpy as np

from . import _backend
from ._scalar_args import lip_constant, margin_params, plateau_params, rank_params, tail_params
from ._validate import as_width

__all__ = [
    "orbit_tail",
    "orbit_truncation_rank",
    "tail_margin",
    "plateau_thresholds",
    "tail_lipschitz",
]


def orbit_tail(alpha, r, d):
    """Orbit tail ``T_α(r) = Σ_{k=r+1}^{d} k^-2α / H_{d,2α}`` (Def 5.3).

    Parameters
    ----------
    alpha : float or array
        ``α ≥ 0``.
    r : int or array of int
        ``0 ≤ r ≤ d``; ``T(0) = 1`` and ``T(d) = 0`` exactly.
    d : int or array of int
        Width ``≥ 1``.

    Returns
    -------
    float64 of the broadcast shape. The suffix ``Σ_{k>r}`` is summed directly (never as
    ``1 − prefix``), so the relative error is ≤ 1e-13 even for tiny tails and ``d`` up to 1e15.
    """
    fn = "orbit_tail"
    if _backend.device_route(fn, alpha, r, d):  # cupy in, cupy out (cuda/tails.cu)
        return _backend.cuda_route(fn)(alpha, r, d)
    shape, (a, rr, w) = tail_params(fn, alpha, r, d)
    out = np.empty(a.size)
    _backend.core.orbit_tail(a, rr, w, out)
    return out.reshape(shape)[()]


def orbit_truncation_rank(alpha, eps, d):
    """Truncation rank of the orbit ``r_ε(α) = min{r ≥ 1 : T_α(r) ≤ ε}`` (Def 5.1, §8.2).

    Parameters
    ----------
    alpha : float or array
        ``α ≥ 0``.
    eps : float or array
        Energy fraction left out, ``0 ≤ ε < 1``; ``ε = 0`` gives ``d`` (the rank of ``P(α)``,
        spec §8.1). Same domain as :func:`gsa_fast.truncation_rank`: ``ε ≥ 1`` (which would
        trivially give 1) and ``ε < 0`` raise ValueError.
    d : int or array of int
        Width ``1 ≤ d ≤ 2**53`` (tested to 1e15).

    Returns
    -------
    int64 of the broadcast shape. Binary search inside the Theorem 5.5 bracket with exact suffix
    sums: O(log d) sum evaluations. Exact except at floating-point ties ``|T(r) − ε| ≲ 1e-15``
    (spec §8.1: e.g. ``α = 0, d = 1000, ε = 0.1`` is 900 exactly; this kernel returns 900).
    """
    fn = "orbit_truncation_rank"
    if _backend.device_route(fn, alpha, eps, d):  # cupy in, cupy out (cuda/tails.cu)
        return _backend.cuda_route(fn)(alpha, eps, d)
    shape, (a, e, w) = rank_params(fn, alpha, eps, d)
    out = np.empty(a.size, dtype=np.int64)
    _backend.core.orbit_truncation_rank(a, e, w, out)
    return out.reshape(shape)[()]


def tail_margin(alpha, eps, d):
    """Tail margin ``γ_ε(α) = min(ε − T_α(r), T_α(r−1) − ε)`` with ``r = r_ε(α)`` (§8.3).

    ``γ ≥ 0``; by Prop 5.10, ``r_ε(β) = r_ε(α)`` whenever ``L_T |α − β| < γ_ε(α)``
    (``L_T`` from :func:`tail_lipschitz`). ``eps`` must lie in ``(0, 1)``. Absolute error
    ≤ 1e-15 (differences of tails with relative error ≤ 1e-13 that are ≤ 1).
    """
    fn = "tail_margin"
    if _backend.device_route(fn, alpha, eps, d):  # cupy in, cupy out (cuda/tails.cu)
        return _backend.cuda_route(fn)(alpha, eps, d)
    shape, (a, e, w) = margin_params(fn, alpha, eps, d)
    out = np.empty(a.size)
    _backend.core.tail_margin(a, e, w, out)
    return out.reshape(shape)[()]


def plateau_thresholds(eps, d, rmax=None):
    """Rank-plateau thresholds ``a_1 ≥ a_2 ≥ … ≥ a_rmax`` (Def 5.16, spec §8.4).

    ``a_r = inf{α ≥ 0 : T_α(r) ≤ ε}``, the root in α of ``T_α(r) = ε`` (``a_r = 0`` where
    ``1 − r/d ≤ ε``, and for ``r ≥ d``), so that ``r_ε(α) = r ⟺ a_r ≤ α < a_{r−1}``
    (``a_0 = +∞``): the plateau of rank r is ``I_r = [a_r, a_{r−1})``.

    Parameters
    ----------
    eps : float or array
        ``0 < ε < 1``.
    d : int or array of int
        Width ``≥ 1``; broadcast against ``eps``.
    rmax : int, optional
        Number of thresholds, ``≥ 0``. Default ``min(max(d), 64)``.

    Returns
    -------
    float64 array of shape ``broadcast(eps, d).shape + (rmax,)``; entry ``[..., r−1]`` is
    ``a_r``. Safeguarded Newton on ``log T_α(r) = log ε`` to a few ulp in α (the root is
    determined to relative ~1e-14 by the accuracy of ``T``) for normal ``ε ≥ 2**-1022``. For
    subnormal ``ε`` the tail ``T_α(r)`` at the root is itself subnormal and carries fewer bits:
    the relative error in ``a_r`` grows to ~2e-12 at ``ε = 1e-315`` and ~4e-8 at ``ε = 5e-324``
    (``r = 1``; measured against mpmath, tests/test_hardening.py bounds it by 1e-7).
    """
    fn = "plateau_thresholds"
    if _backend.device_route(fn, eps, d):  # cupy in, cupy out (cuda/tails.cu)
        return _backend.cuda_route(fn)(eps, d, rmax)
    shape, (e, w), rmax, out = plateau_params(fn, eps, d, rmax)
    _backend.core.plateau_thresholds(e, w, rmax, out)
    return out.reshape(shape + (rmax,))


def tail_lipschitz(d, lip="paper"):
    """Lipschitz constant ``L_T`` of ``α ↦ T_α(r)`` (Lemma 5.8 (84)), uniform in r.

    Parameters
    ----------
    d : int or array of int
        Width ``≥ 1``.
    lip : {"paper", "sharp"}
        ``"paper"``: ``2 log d`` (the constant of the paper's proof); ``"sharp"``: ``½ log d``
        (``C(1−C) ≤ ¼``; attained at ``d = 2, α = 0``).

    Returns
    -------
    float64 of the shape of ``d``, within 1 ulp of ``c·log d`` (int64 arrays go through a
    vectorized fdlibm ``log``; other input through numpy's).
    """
    fn = "tail_lipschitz"
    if _backend.device_route(fn, d):  # cupy in, cupy out
        return _backend.cuda_route(fn)(d, lip)
    c = lip_constant(lip, fn)
    if type(d) is np.ndarray and d.dtype == np.int64 and d.ndim and d.flags.c_contiguous:
        # Fast path (issue 15): one compiled pass validates 1 <= d <= 2**53 and writes c·log d;
        # a bad width falls through to as_width for the error message.
        out = np.empty(d.shape)
        if _backend.core.scaled_log_widths(d.reshape(-1), c, out.reshape(-1)) < 0:
            return out
    w = as_width(d, fn)
    return (c * np.log(w.astype(np.float64)))[()]
