"""Reference (pure numpy, float64) energy measure, tails, truncation ranks, entropy, radial functional.

Spec §8.1, §4.2, §4.4. Written for clarity: one spectrum at a time, sort descending, square,
suffix sums with ``np.cumsum`` of the reversed squares (never ``1 − prefix``). Same names,
signatures, conventions and errors as :mod:`gsa_fast.energy` (see its module docstring):
all-zero or empty spectra give ``ν ≡ 0``, ``T ≡ 0``, ``r_ε = 0``, entropy 0 and ``m = NaN``.
"""
from __future__ import annotations


import numpy as np

from .._ragged import RaggedSpectra, batch_widths, spectra_batch, spectra_values, spectrum_name
from .._validate import as_eps_levels, as_tol, value_error

__all__ = [
    "truncation_rank",
    "energy",
    "spectrum_tails",
    "spectral_entropy",
    "radial_functional",
    "rank_count",
]


def _spectra(spectra, fn, check=None):
    """(list of float64 1-D spectra, batch_shape, ragged, dense width, batch) after the fast
    route's validation, in its order: layout and dtype (gsa_fast._ragged), then ``check(batch)``
    for the other arguments, then the values the kernel checks (first NaN/Inf/negative)."""
    b = spectra_batch(spectra, fn, "spectra")
    if check is not None:
        check(b)
    out = spectra_values(b, fn, "spectra")
    width = 0 if b.ragged else (int(b.lengths[0]) if b.lengths.size else int(np.shape(spectra)[-1]))
    return out, b.batch_shape, b.ragged, width, b


def _suffix_energy(s):
    """Descending σ scaled by σ_1, their squares, and S(r) = Σ_{k>r} σ_k² for r = 0..q."""
    s = np.sort(s)[::-1]
    if s.size and s[0] > 0:
        s = s / s[0]  # scale-free quantities: avoids overflow/underflow of σ²
    sq = s * s
    suffix = np.concatenate([np.cumsum(sq[::-1])[::-1], [0.0]])
    return s, sq, suffix


def _tails(s):
    _, _, suffix = _suffix_energy(s)
    if suffix[0] == 0:
        return np.zeros(s.size + 1)
    return suffix / suffix[0]


def truncation_rank(spectra, eps):
    """r_ε = min{r ≥ 1 : T(r) ≤ ε}; ε = 0 → rank; zero/empty spectrum → 0 (spec §8.1)."""
    fn = "truncation_rank"
    levels = []
    specs, shape, _, _, _ = _spectra(spectra, fn, lambda b: levels.append(as_eps_levels(eps, fn)))
    e = levels[0]
    out = np.zeros((len(specs), e.size), dtype=np.int64)
    for i, s in enumerate(specs):
        T = _tails(s)
        rank = int(np.count_nonzero(s))
        if rank == 0:
            continue
        for j, ej in enumerate(e.reshape(-1)):
            if ej == 0:
                out[i, j] = rank
            else:
                r = 1
                while T[r] > ej:
                    r += 1
                out[i, j] = min(r, rank)
    out = out.reshape(shape if e.ndim == 0 else shape + (e.size,))
    return out[()] if out.ndim == 0 else out


def _per_spectrum_array(fn, spectra, f, extra):
    specs, shape, ragged, width, _ = _spectra(spectra, fn)
    parts = [f(s) for s in specs]
    if ragged:
        offsets = np.zeros(len(parts) + 1, dtype=np.int64)
        offsets[1:] = np.cumsum([s.size + extra for s in specs])
        values = np.concatenate(parts) if parts else np.zeros(0)
        return RaggedSpectra(values, offsets)
    out = np.empty((len(parts), width + extra))
    for i, p in enumerate(parts):
        out[i] = p
    return out.reshape(shape + (width + extra,))


def energy(spectra):
    """ν_k = σ_k²/Σσ², descending; zero spectrum → zeros (spec §8.1)."""
    def one(s):
        _, sq, suffix = _suffix_energy(s)
        return sq / suffix[0] if suffix[0] > 0 else np.zeros(s.size)
    return _per_spectrum_array("energy", spectra, one, 0)


def spectrum_tails(spectra):
    """T(r), r = 0..q, from suffix sums; zero spectrum → zeros (spec §8.1)."""
    return _per_spectrum_array("spectrum_tails", spectra, _tails, 1)


def spectral_entropy(spectra):
    """Ent = −Σ p log p, 0 log 0 = 0 (spec §4.4); log p_1 = log1p(−T(1)) for accuracy near rank 1."""
    specs, shape, _, _, _ = _spectra(spectra, "spectral_entropy")
    out = np.zeros(len(specs))
    for i, s in enumerate(specs):
        _, sq, suffix = _suffix_energy(s)
        if suffix[0] == 0:
            continue
        p = sq / suffix[0]
        logp = np.zeros_like(p)
        logp[p > 0] = np.log(p[p > 0])
        logp[0] = np.log1p(-suffix[1] / suffix[0])  # p_1 = 1 − T(1)
        out[i] = -np.sum(p * logp)
    out = out.reshape(shape)
    return out[()] if out.ndim == 0 else out


def radial_functional(spectra, d=None):
    """m = ½ log d − ½ log1p(R), R = Σ_{k≥2} σ_k²/σ_1², d = q_+ by default (spec §4.2, §2.3)."""
    fn = "radial_functional"
    widths = []
    specs, shape, _, _, b = _spectra(spectra, fn, None if d is None else
                                     lambda b: widths.append(batch_widths(d, b, fn)))
    out = np.full(len(specs), np.nan)
    for i, s in enumerate(specs):
        rank = int(np.count_nonzero(s))
        di = rank if d is None else int(widths[0][i])
        if di < rank:
            raise value_error(fn, "d", "at least the number of nonzero singular values",
                              f"d={di} for {spectrum_name(b, i)} with {rank}")
        if rank == 0:
            continue
        _, sq, suffix = _suffix_energy(s)
        R = suffix[1] / sq[0]
        out[i] = 0.5 * np.log(di) - 0.5 * np.log1p(R)
    out = out.reshape(shape)
    return out[()] if out.ndim == 0 else out


def rank_count(spectra, tol=0.0):
    """q_+ = #{σ > tol} (spec §2.3)."""
    fn = "rank_count"
    specs, shape, _, _, _ = _spectra(spectra, fn, lambda b: as_tol(tol, fn))
    out = np.array([np.count_nonzero(s > tol) for s in specs], dtype=np.int64).reshape(shape)
    return out[()] if out.ndim == 0 else out
