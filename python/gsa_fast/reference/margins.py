"""Reference twins of the chain-margin functions: plain numpy, every norm from the float64 SVD
(numpy.linalg.svd) of the formed matrix or product; no compiled code."""
from __future__ import annotations

import numpy as np

from .._chain import (as_factor_list, as_pairs, check_chain_dtype, check_nonzero, check_report_args, check_rtol,
                      check_widths, compatible, interface_quantities, report_from_spectra)
from .._jacobian import jacobian_chain_impl
from .._validate import as_flag

__all__ = ["product_norm", "chain_margins", "margin_report", "jacobian_chain"]


def _sigma1(a) -> float:
    return float(np.linalg.svd(a, compute_uv=False)[0]) if a.size else 0.0


def product_norm(X, Y, *, rtol=1e-12):
    """σ₁ of the float64 product formed by numpy and its SVD (exact to rounding for any ``rtol``,
    which is validated like the fast route's and otherwise unused)."""
    check_rtol(rtol, "product_norm")
    xs, ys, shape = as_pairs(X, Y, "product_norm")
    out = np.array([_sigma1(x.astype(np.float64) @ y.astype(np.float64)) for x, y in zip(xs, ys)])
    return float(out[0]) if shape == () else out


def _margins_of(factors, widths, normalize, fn):
    check_chain_dtype(factors, fn)  # where the fast route checks it (its chain norms)
    F = [a.astype(np.float64) for a in factors]
    fro = [float(np.linalg.norm(a)) for a in F]
    if normalize:
        check_nonzero(fro, fn)
        F = [np.sqrt(w) * a / f for a, w, f in zip(F, widths, fro)]
    comp = compatible(F)
    norm = np.array([_sigma1(a) for a in F])
    pn = np.array([_sigma1(F[i + 1] @ F[i]) if comp[i] else np.nan for i in range(len(F) - 1)])
    return interface_quantities(norm, pn)


def chain_margins(factors, *, normalize=True, d=None, rtol=1e-12):
    """Normalize each factor explicitly (N_d), then SVD every factor and every product (exact to
    rounding for any ``rtol``, which is validated like the fast route's and otherwise unused)."""
    fn = "chain_margins"
    check_rtol(rtol, fn)
    normalize = as_flag(normalize, fn, "normalize")
    factors = as_factor_list(factors, fn)
    return _margins_of(factors, check_widths(d, factors, fn), normalize, fn)


def margin_report(factors, *, chart="top", interval=(0, 5), window=None, eps=0.01, lip="sharp",
                  budget=None):
    """Spectra by numpy.linalg.svd, chain by :func:`chain_margins`, orbit quantities from the
    reference namespace."""
    fn = "margin_report"
    interval, eps, budget = check_report_args(fn, interval, eps, lip, budget, chart=chart,
                                              window=window)
    factors = as_factor_list(factors, fn)
    from .. import reference as ns

    spectra = [np.linalg.svd(a.astype(np.float64), compute_uv=False) for a in factors]
    return report_from_spectra(ns, factors, spectra, _margins_of, fn=fn, chart=chart,
                               interval=interval, window=window, eps=eps, lip=lip, budget=budget)


def jacobian_chain(model, inputs, *, token=0):
    """Central differences (step 1e-6·max(1, |x_j|)) on a float64 copy of the model, one
    column at a time; the same things held fixed as :func:`gsa_fast.jacobian_chain`."""
    return jacobian_chain_impl(model, inputs, token, mode="central", fn="jacobian_chain")
