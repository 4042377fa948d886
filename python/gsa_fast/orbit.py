"""The power-law orbit and its geometry (spec §4, §5.3).

The orbit is ``P(α) = d·diag(k^-2α)/H_{d,2α}`` on the trace-``d`` slice; its Gibbs law on ranks
is ``p_k(α) = k^-2α / H_{d,2α}`` (α ≥ 0, k = 1..d). Every function here except
:func:`orbit_probs` is computed from O(1) harmonic sums (spec §3.3), never from a materialized
spectrum, so ``d`` may be as large as 1e15 (accuracy is tested there). All array arguments
broadcast against each other; results are float64 (a numpy scalar for scalar input).
cupy operands run on the current device and stream and return a float64 cupy array of the
broadcast shape (``alpha.shape + (d,)`` for :func:`orbit_probs`), with the same argument checks
and the same arithmetic (one GPU thread per parameter pair; :func:`orbit_probs`: one block per
row and tile of ranks; cuda/orbit.cu); mixing numpy arrays and cupy arrays is a ``TypeError``.

Domain: ``alpha`` (and ``beta``) finite and ``>= 0``; ``d`` an integer ``1 <= d <= 2**53``.
``d = 1`` gives 0 for every quantity (spec §4.4: the exponent is not identifiable there).

Accuracy (measured against mpmath in tests/test_orbit.py):

* ``log_partition``, ``radial`` (all derivatives), ``orbit_variance``, ``fisher_information``,
  ``orbit_entropy``: relative error ≤ 1e-13 for every ``d ≤ 1e15`` (measured ≤ 5e-15). The
  variance uses the centred sum ``Σ k^-2α (log k − μ)²`` whenever ``Q/H − μ²`` would cancel.
* ``orbit_kl`` and ``orbit_bures_distance``: relative error ≤ 1e-13 for every ``|β − α|``
  (measured ≤ 5e-15 on 300 random mpmath cases with d ≤ 1e15, |β − α| from 1e-14 to 5), and
  exactly 0 at ``α = β``; small differences use the cancellation-free sums of
  ``φ(y) = e^y − 1 − y`` (spec §4.4, §5.3), large ones the closed forms (22) and (F1).
  ``orbit_kl`` is ``+inf`` only where the true value exceeds the float64 range (β ≈ 1e308).
* ``bures_length``: relative error ≤ 1e-12 (measured ≤ 3e-15; Gauss–Legendre panels, (29)).
* Any finite ``α`` is accepted: beyond ``α ≈ 550`` every ``k^-2α, k ≥ 2`` underflows and the
  results are those of the limit (``m = ½ log d``, ``Var = Ent = 0``).
"""
from __future__ import annotations

import numpy as np

from . import _backend
from ._scalar_args import binary_params, derivative_arg, probs_params, probs_width as _probs_width, unary_params

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

# op codes of gsa::cpu::OrbitUnaryOp / OrbitBinaryOp, exported by the extension
_U, _B = _backend.core.OrbitUnaryOp, _backend.core.OrbitBinaryOp
_LOG_PARTITION, _RADIAL, _RADIAL_D1, _RADIAL_D2 = int(_U.log_partition), int(_U.radial), int(_U.radial_d1), int(_U.radial_d2)
_VARIANCE, _FISHER, _ENTROPY = int(_U.variance), int(_U.fisher), int(_U.entropy)
_KL, _BURES, _BURES_LENGTH = int(_B.kl), int(_B.bures), int(_B.bures_length)


def _unary(fn, op, alpha, d):
    if _backend.device_route(fn, alpha, d):  # cupy in, cupy out (cuda/orbit.cu)
        return _backend.cuda_route(fn)(fn, op, alpha, d)
    shape, (a, w) = unary_params(fn, alpha, d)
    out = np.empty(a.size)
    _backend.core.orbit_unary(op, a, w, out)
    return out.reshape(shape)[()]


def _binary(fn, op, a, b, d, names=("alpha", "beta")):
    if _backend.device_route(fn, a, b, d):  # cupy in, cupy out (cuda/orbit.cu)
        return _backend.cuda_route(fn)(fn, op, a, b, d, names)
    shape, (a, b, w) = binary_params(fn, a, b, d, names)
    out = np.empty(a.size)
    _backend.core.orbit_binary(op, a, b, w, out)
    return out.reshape(shape)[()]


def orbit_probs(alpha, d):
    """Materialized Gibbs law ``p_k(α) = k^-2α / H_{d,2α}``, k = 1..d (spec §4.1).

    Parameters
    ----------
    alpha : float or array of float
        Exponent(s) ``α ≥ 0``.
    d : int
        Width, a scalar integer ``1 ≤ d ≤ 1e8`` (the result has ``alpha.size · d ≤ 1e8``
        entries; for larger ``d`` use the sum-based functions, which never materialize ``p``).

    Returns
    -------
    ndarray of float64, shape ``alpha.shape + (d,)``; each row sums to 1 to a few ulp.
    Entries are ``pow(k, −2α)/H`` with ``H`` from the harmonic sums: relative error ≤ 1e-15.
    """
    fn = "orbit_probs"
    if _backend.device_route(fn, alpha, d):  # cupy in, cupy out (cuda/orbit.cu)
        return _backend.cuda_route(fn)(fn, alpha, d, _probs_width)
    a, d = probs_params(fn, alpha, d)
    shape = a.shape
    a = np.ascontiguousarray(a, dtype=np.float64).reshape(-1)
    out = np.empty(a.size * d)
    _backend.core.orbit_probs(a, d, out)
    return out.reshape(shape + (d,))


def log_partition(alpha, d):
    """Log-partition function ``ψ(α) = log H_{d,2α}`` (spec §4.1), as ``log1p(H − 1)``.

    ``ψ′ = −2 E_α[log k]`` and ``ψ″ = 4 Var_α(log k)``. Broadcasts ``alpha`` against ``d``;
    relative error ≤ 1e-13 (a few ulp) for ``d ≤ 1e15``.
    """
    return _unary("log_partition", _LOG_PARTITION, alpha, d)


def radial(alpha, d, derivative=0):
    """Radial functional on the orbit ``m_d(α) = ½ log d − ½ log1p(g_d(α))`` and derivatives.

    Parameters
    ----------
    alpha : float or array
        ``α ≥ 0``.
    d : int or array of int
        Width ``≥ 1``.
    derivative : {0, 1, 2}
        0: ``m_d(α)`` (13), in the residual form with ``g_d = Σ_{k≥2} k^-2α`` (no cancellation
        at large α); 1: ``m_d′(α) = E_α[log k] = L/H`` (11); 2: ``m_d″(α) = −2 Var_α(log k)``.

    Returns
    -------
    float64 of the broadcast shape. Relative error ≤ 1e-13 for ``d ≤ 1e15``.
    """
    derivative = derivative_arg(derivative, "radial")
    return _unary("radial", (_RADIAL, _RADIAL_D1, _RADIAL_D2)[derivative], alpha, d)


def orbit_variance(alpha, d):
    """``Var_α(log k)`` under ``p(α)`` (spec §4.4), ``= ψ″/4 = −m_d″/2``.

    ``Q/H − (L/H)²`` is used only where it cancels by less than a factor 8; otherwise the centred
    sum ``Σ k^-2α (log k − μ)² / H`` (exact head, Euler–Maclaurin with Gauss–Legendre integral)
    is evaluated. Relative error ≤ 1e-13 for ``d ≤ 1e15``.
    """
    return _unary("orbit_variance", _VARIANCE, alpha, d)


def fisher_information(alpha, d):
    """Fisher information of the orbit ``I(α) = 4 Var_α(log k)`` (spec §4.4), ``0 ≤ I ≤ (log d)²``.

    Same accuracy as :func:`orbit_variance` (relative ≤ 1e-13).
    """
    return _unary("fisher_information", _FISHER, alpha, d)


def orbit_entropy(alpha, d):
    """Spectral entropy ``Ent(α) = log H_{d,2α} + 2α L_{d,2α}/H_{d,2α}`` (21).

    ``Ent(0) = log d``, ``Ent(∞) = 0``. Both terms are non-negative (no cancellation): relative
    error ≤ 1e-13 for ``d ≤ 1e15``.
    """
    return _unary("orbit_entropy", _ENTROPY, alpha, d)


def orbit_kl(alpha, beta, d):
    """Spectral relative entropy ``KL(p(α) ‖ p(β))`` on the orbit (spec §4.4).

    The closed form (22) ``ψ(β) − ψ(α) + 2(β−α) E_α[log k]`` is used when its rounding-error
    estimate is below 1e-14 of its value; otherwise the stable form
    ``log1p(E_α[φ(−2(β−α)(log k − μ_α))])``, ``φ(y) = e^y − 1 − y ≥ 0``, whose sum over k is done
    exactly for the first 127 terms and by Euler–Maclaurin with a Gauss–Legendre integral beyond
    (any ``d``). Relative error ≤ 1e-13 for every ``|β − α|`` (tested against mpmath down to
    ``2^-40`` and at ``d = 1e15``); exactly 0 at ``α = β`` and for ``d = 1``. Satisfies
    ``KL ≤ ½ (log d)² (β − α)²`` and ``KL ≈ ½ I(α) (β − α)²`` as ``β → α``.
    """
    return _binary("orbit_kl", _KL, alpha, beta, d)


def orbit_bures_distance(alpha, beta, d):
    """Bures–Wasserstein distance ``d_BW(P(α), P(β))`` on the trace-``d`` orbit (F1)/(26).

    ``d_BW² = 2d(1 − BC)`` with ``BC = H_{d,α+β}/√(H_{d,2α} H_{d,2β})``. ``1 − BC`` comes from the
    closed form when that is accurate, otherwise from
    ``−log BC = ½[log1p(E_q φ(Δ(Y−μ))) + log1p(E_q φ(−Δ(Y−μ)))]`` with ``q = p((α+β)/2)``,
    ``Y = log k``, ``Δ = β − α`` (non-negative summands, no cancellation). Relative error ≤ 1e-13
    for every ``|β − α|``; ``d_BW ≈ √(d Var) |β − α|`` as ``β → α``; 0 at ``α = β`` or ``d = 1``.
    """
    return _binary("orbit_bures_distance", _BURES, alpha, beta, d)


def bures_length(alpha0, alpha1, d):
    """Bures length of the orbit ``L_BW[α0, α1] = ∫ √(d Var_α(log k)) dα`` (F3)/(29).

    Integrated over the interval between ``alpha0`` and ``alpha1`` (the result is symmetric and
    ``≥ 0``) by 16-point Gauss–Legendre on panels of width ``≤ min(0.25, 2/log d)``. The
    Fisher–Rao length is ``2 L_BW / √d``. Relative error ≤ 1e-12 (measured ≤ 3e-15 against
    mpmath and scipy's adaptive quadrature). Satisfies
    ``d_BW ≤ L_BW ≤ √d σ_J |α1 − α0| ≤ (√d log d / 2)|α1 − α0|`` (30).
    """
    return _binary("bures_length", _BURES_LENGTH, alpha0, alpha1, d, names=("alpha0", "alpha1"))
