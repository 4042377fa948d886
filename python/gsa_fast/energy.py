"""Energy measure, spectral tails, truncation ranks, entropy and radial functional (spec §8.1, §4.2, §4.4).

Every function takes a batch of singular-value spectra in the one layout of
:mod:`gsa_fast._ragged`: a dense ``(..., width)`` array (float32 or float64; rows may be strided
views with unit stride along the last axis) or ``RaggedSpectra(values, offsets)``. Values are
singular values ``σ ≥ 0`` in **any order**: descending and ascending spectra are read in place;
other spectra are sorted in a per-worker workspace where the order matters (``r_ε``, ``ν``, ``T``;
entropy, ``m`` and ``rank_count`` never sort). The caller's batch is never copied.
Work is batch-parallel (``gsa_fast.set_num_threads``) with the GIL released. Results are float64
(counts and ranks int64); integer spectra are accepted (converted exactly, as everywhere in
gsa_fast).

Numerics: one fused pass per (sorted) spectrum validates σ, checks the order, squares
``σ·2^-e`` (``e`` the binary exponent of ``σ_1``: an exact scaling, so no σ² overflows or
underflows for any finite input) and forms Neumaier-compensated **suffix** sums
``S(r) = Σ_{k>r} σ_k²`` (never ``1 − prefix``). Hence ``T(r) = S(r)/S(0)`` has a relative error of
a few ulp *relative to T(r) itself*, also for tails far below 1e-16.

On the GPU: a cupy array (or a ``RaggedSpectra`` with cupy values) runs the CUDA kernels of
cuda/energy.cu on the current stream and returns cupy arrays (a ``RaggedSpectra`` with cupy
values for ``energy``/``spectrum_tails`` of ragged input); the batch is not copied (unsorted
spectra are sorted in a temporary copy for ``r_ε``, ``ν`` and ``T``). One block per spectrum,
float64 sums of nonnegative terms added in a tree of tiles of 256 with compensated carries: a
relative error of ~1e-14 instead of a few ulp; the same values, conventions and errors otherwise.

Conventions for degenerate spectra (flag-free, documented here once):

* an **all-zero** or **empty** spectrum has ``ν ≡ 0``, ``T ≡ 0`` (including ``T(0)``), ``r_ε = 0``
  for every ε, entropy ``0``, ``rank_count = 0`` and ``m = NaN`` (``m`` needs ``λ_1 > 0``, §2.3);
* NaN, ±Inf or a negative σ raises ``ValueError`` naming the (first) offending spectrum.
"""
from __future__ import annotations


import numpy as np

from . import _backend
from ._ragged import RaggedSpectra, SpectraBatch, batch_widths, spectra_batch, spectrum_name
from ._status import raise_status
from ._validate import as_eps_levels, as_tol, as_width, value_error

__all__ = [
    "truncation_rank",
    "energy",
    "spectrum_tails",
    "spectral_entropy",
    "radial_functional",
    "rank_count",
]


# ------------------------------------------------------------------------------------------------
# shared plumbing


def _batch(spectra, fn: str) -> SpectraBatch:
    return spectra_batch(spectra, fn, "spectra")


def _run(fn: str, b: SpectraBatch, **kw) -> None:
    status = _backend.core.energy_stats(b.values, b.starts, b.lengths, **kw)
    raise_status(fn, status, arg="spectra", element=lambda i: spectrum_name(b, i))


def _scalar_or_array(a: np.ndarray):
    return a[()] if a.ndim == 0 else a


def _per_spectrum_values(fn: str, spectra, extra: int, kind: str):
    """Run the kernel's `kind` output ("energy" or "tails": q_i + extra values per spectrum) in
    the input's layout: dense in → dense out, RaggedSpectra in → RaggedSpectra out; cupy in →
    cupy out through the CUDA route (cuda/energy.cu)."""
    if _backend.device_route(fn, spectra):
        return _backend.cuda_route(fn)(spectra, fn)
    b = _batch(spectra, fn)
    out, starts, offsets = _per_spectrum_layout(b, _dense_width(spectra, b), extra)
    _run(fn, b, **{f"out_{kind}": out.reshape(-1), f"{kind}_start": starts})
    return RaggedSpectra(out, offsets) if b.ragged else out


def _per_spectrum_layout(b: SpectraBatch, width: int, extra: int):
    """Output buffer and per-spectrum starts for outputs of length ``q_i + extra``."""
    n = b.lengths.size
    if b.ragged:
        offsets = np.zeros(n + 1, dtype=np.int64)
        np.cumsum(b.lengths + extra, out=offsets[1:])
        return np.empty(int(offsets[-1])), offsets[:-1].copy(), offsets
    out = np.empty(b.batch_shape + (width + extra,))
    return out, np.arange(n, dtype=np.int64) * (width + extra), None


def _dense_width(spectra, b: SpectraBatch) -> int:
    if b.ragged:
        return 0
    if b.lengths.size:
        return int(b.lengths[0])
    return int(np.shape(spectra)[-1])


# ------------------------------------------------------------------------------------------------
# public API


def truncation_rank(spectra, eps):
    """Truncation rank ``r_ε = min{r ≥ 1 : T(r) ≤ ε}`` of each spectrum (spec §8.1).

    ``T(r) = Σ_{k>r} σ_k² / Σ_k σ_k²`` is the tail energy after the ``r`` largest singular
    values, so ``r_ε`` is the smallest rank whose Eckart–Young truncation keeps at least
    ``1 − ε`` of the Frobenius energy.

    Parameters
    ----------
    spectra : array_like (..., width) or RaggedSpectra
        Singular values ``σ ≥ 0`` (finite), any order; float32 or float64.
    eps : float or 1-D array_like of floats
        Tail levels ``0 ≤ ε < 1``. ``ε = 0`` gives the rank (number of nonzero σ), the spec §8.1 /
        §11.6 convention; ``ε ≥ 1``, ``ε < 0`` and NaN are rejected with ``ValueError`` (the
        issue asks ``ε ∉ (0, 1)`` to be rejected; ``ε = 0`` is kept because the spec defines it).

    Returns
    -------
    int64 array of shape ``batch_shape`` (scalar ``eps``) or ``batch_shape + (len(eps),)``; a
    numpy integer for one spectrum and a scalar ``eps``. All-zero and empty spectra give 0.
    Always ``r_ε ≤ rank``.

    Accuracy
    --------
    Exact for every ``ε`` with ``|T(r) − ε| > ~4u·T(r)`` at the two candidate ranks (u the float64
    unit roundoff): ``T`` comes from compensated suffix sums. At exact ties ``T(r) = ε`` the result
    may differ by one from exact arithmetic (spec §8.1, e.g. ``α = 0, d = 1000, ε = 0.1``).
    One fused pass per spectrum plus a binary search per ε.
    """
    fn = "truncation_rank"
    if _backend.device_route(fn, spectra):  # cupy in, cupy out (cuda/energy.cu)
        return _backend.cuda_route(fn)(spectra, as_eps_levels(eps, fn), fn)
    b = _batch(spectra, fn)
    e = as_eps_levels(eps, fn)
    scalar_eps = e.ndim == 0
    e1 = np.ascontiguousarray(e.reshape(-1), dtype=np.float64)
    n = b.lengths.size
    out = np.empty((n, e1.size), dtype=np.int64)
    _run(fn, b, eps=e1, out_ranks_eps=out)
    shape = b.batch_shape if scalar_eps else b.batch_shape + (e1.size,)
    return _scalar_or_array(out.reshape(shape))


def energy(spectra):
    """Energy measure ``ν_k = σ_k² / Σ_j σ_j²``, in descending order (spec §8.1, §4.1 ``p_k``).

    Parameters
    ----------
    spectra : array_like (..., width) or RaggedSpectra
        Singular values ``σ ≥ 0`` (finite), any order; float32 or float64.

    Returns
    -------
    Same layout as the input, float64: a dense ``(..., width)`` array for a dense input (sorted
    descending along the last axis), a ``RaggedSpectra`` with the same offsets for a ragged one.
    An all-zero spectrum gives all zeros (no flag: ``ν`` is undefined there; zeros keep
    ``Σ ν`` and every tail equal to 0 consistently).

    Accuracy
    --------
    Each ``ν_k`` within ~4 ulp relative (exact power-of-two scaling, compensated total; tested
    against exact rational arithmetic).
    """
    return _per_spectrum_values("energy", spectra, 0, "energy")


def spectrum_tails(spectra):
    """Tail function ``T(r) = Σ_{k>r} σ_k² / Σ_k σ_k²`` for ``r = 0..q`` (spec §8.1).

    Parameters
    ----------
    spectra : array_like (..., width) or RaggedSpectra
        Singular values ``σ ≥ 0`` (finite), any order; float32 or float64.

    Returns
    -------
    float64: dense ``batch_shape + (width + 1,)``, or ``RaggedSpectra`` with ``q_i + 1`` values per
    spectrum. ``T(0) = 1``, ``T(q) = 0``, nonincreasing in ``r`` (exactly, also in floating point).
    An all-zero or empty spectrum gives ``T ≡ 0`` (consistent with ``r_ε = 0``).

    Accuracy
    --------
    Relative error of a few ulp in each ``T(r)`` — including tiny tails such as ``1e-30``
    (Neumaier-compensated suffix sums, never ``1 − prefix``).
    """
    return _per_spectrum_values("spectrum_tails", spectra, 1, "tails")


def spectral_entropy(spectra):
    """Spectral entropy ``Ent = −Σ_k p_k log p_k``, ``p = ν``, with ``0 log 0 = 0`` (spec §4.4).

    Parameters
    ----------
    spectra : array_like (..., width) or RaggedSpectra
        Singular values ``σ ≥ 0`` (finite), any order; float32 or float64.

    Returns
    -------
    float64 array of shape ``batch_shape`` (numpy scalar for one spectrum), in ``[0, log q_+]``.
    All-zero and empty spectra give 0.

    Accuracy
    --------
    ~1e-15 relative plus ~1e-16·log q absolute: the sum of nonnegative terms is compensated, and
    the dominant term uses ``log p_1 = log1p(−Σ_{k≥2} p_k)``, so nearly rank-one spectra (entropy
    ~1e-12) keep full relative accuracy.
    """
    fn = "spectral_entropy"
    if _backend.device_route(fn, spectra):  # cupy in, cupy out (cuda/energy.cu)
        return _backend.cuda_route(fn)(spectra, fn)
    b = _batch(spectra, fn)
    out = np.empty(b.lengths.size)
    _run(fn, b, out_entropy=out)
    return _scalar_or_array(out.reshape(b.batch_shape))


def radial_functional(spectra, d=None):
    """Radial spectral functional ``m(P) = ½ log d − ½ log1p(R)``, ``R = Σ_{k≥2} σ_k²/σ_1²`` (spec §4.2).

    This is ``½ log(d λ_1 / tr P)`` for ``P = A^⊤A`` in the stable residual form.

    Parameters
    ----------
    spectra : array_like (..., width) or RaggedSpectra
        Singular values ``σ ≥ 0`` (finite), any order; float32 or float64.
    d : None, int or array of int, optional
        Width. Default: ``q_+``, the number of nonzero σ of each spectrum (spec §2.3). An explicit
        ``d`` (broadcast against ``batch_shape``) must be at least ``q_+`` of its spectrum, since
        the zero-padded width of §2.3 cannot be smaller than the nonzero spectrum.

    Returns
    -------
    float64 array of shape ``batch_shape`` (numpy scalar for one spectrum), in ``[0, ½ log d]``.
    All-zero and empty spectra give NaN (``m`` needs ``λ_1 > 0``, §2.3) — the only NaN.

    Accuracy
    --------
    ~1e-15 absolute (compensated ``R``, ``log1p``): no cancellation for large exponents.
    """
    fn = "radial_functional"
    if _backend.device_route(fn, spectra):  # cupy in, cupy out (cuda/energy.cu)
        return _backend.cuda_route(fn)(spectra, None if d is None else as_width(d, fn), fn)
    b = _batch(spectra, fn)
    n = b.lengths.size
    out = np.empty(n)
    if d is None:
        _run(fn, b, out_radial=out)
    else:
        dd = batch_widths(d, b, fn)
        rank = np.empty(n, dtype=np.int64)
        _run(fn, b, out_radial=out, radial_d=dd, out_rank=rank)
        small = np.flatnonzero(dd < rank)
        if small.size:
            i = int(small[0])
            raise value_error(fn, "d", "at least the number of nonzero singular values",
                              f"d={int(dd[i])} for {spectrum_name(b, i)} with {int(rank[i])}")
    return _scalar_or_array(out.reshape(b.batch_shape))


def rank_count(spectra, tol=0.0):
    """Numerical rank ``q_+ = #{k : σ_k > tol}`` of each spectrum (spec §2.3).

    Parameters
    ----------
    spectra : array_like (..., width) or RaggedSpectra
        Singular values ``σ ≥ 0`` (finite), any order; float32 or float64.
    tol : float, optional
        Threshold ``τ_rank ≥ 0`` (default 0: only exact zeros are dropped). For numpy's
        ``matrix_rank`` rule pass ``max(m, n)·eps·σ_1`` yourself.

    Returns
    -------
    int64 array of shape ``batch_shape`` (numpy integer for one spectrum). Exact.
    """
    fn = "rank_count"
    on_device = _backend.device_route(fn, spectra)
    b = None if on_device else _batch(spectra, fn)
    t = as_tol(tol, fn)
    if on_device:  # cupy in, cupy out (cuda/energy.cu)
        return _backend.cuda_route(fn)(spectra, t, fn)
    out = np.empty(b.lengths.size, dtype=np.int64)
    _run(fn, b, out_rank=out, tol=t)
    return _scalar_or_array(out.reshape(b.batch_shape))
