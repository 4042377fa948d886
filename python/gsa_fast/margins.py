"""Chain margins (spec §7, §9): operator norms of products, interface amplitudes, slacks and
margins, the margin report of a chain, and the Jacobian chain of a transformer encoder.

* :func:`product_norm` — ``‖XY‖`` for a pair, a stack of pairs or two lists, by block Krylov
  iteration on ``(XY)ᵀ(XY)`` through the factors (``XY`` is never formed), or by the dense
  product when that is cheaper.
* :func:`chain_margins` — ``‖Ã_ℓ‖``, ``‖Ã_{ℓ+1}Ã_ℓ‖``, ``log κ_ℓ``, ``s_ℓ``, ``μ_ℓ``, ``ϑ_ℓ`` on
  Frobenius-normalized factors ``Ã = N_d(A)``.
* :func:`margin_report` — every field of spec §9 (Table 2 of paper I) as a :class:`MarginReport`.
* :func:`jacobian_chain` — per-token residual-block Jacobians of a BERT-style encoder (torch).
* :func:`scan_chains`, :func:`plot_margins` — helpers for the scan (chains by role, margins.png).
"""
from __future__ import annotations

import numpy as np

from . import _backend
from ._chain import (ChainMargins, MarginReport, as_factor_list, as_pairs, check_chain_dtype,
                     check_report_args, check_rtol, check_widths, compatible, interface_quantities,
                     margins_from_norms, report_from_spectra)
from ._jacobian import jacobian_chain_impl, model_device_type, scan_chains_impl
from ._validate import as_flag


# ChainMargins, MarginReport, scan_chains and plot_margins are helpers (gsa_fast.margins.*),
# not kernels: __all__ lists the kernels only.
__all__ = ["product_norm", "chain_margins", "margin_report", "jacobian_chain"]

#: Default relative accuracy of ‖XY‖ (``rtol``).
RTOL = 1e-12


def _tol(rtol):
    """Stopping tolerance of the Krylov route on the Ritz residual, relative to λ = ‖XY‖², for a
    relative accuracy ``rtol`` of ‖XY‖. The error of λ is at most min(r, r²/gap) (Kato–Temple),
    that of ‖XY‖ = √λ half of it; the factor 10 keeps the measured error below ``rtol`` on the
    hard cases of tests/test_margins.py (clustered tops, where the Ritz gap underestimates)."""
    return rtol / 10.0


def _run(xs, ys, *, fro=False, rtol=RTOL):
    """Kernel call on lists of pairs (y None for a single factor), grouped by dtype."""
    n = len(xs)
    out = np.empty(n)
    info = np.zeros(n, dtype=np.int64)
    fr = np.empty(n) if fro else None
    for dt, kernel in ((np.float32, _backend.core.product_norm_f32),
                       (np.float64, _backend.core.product_norm_f64)):
        idx = [i for i in range(n) if xs[i].dtype == dt]
        if not idx:
            continue
        o, inf_ = np.empty(len(idx)), np.zeros(len(idx), dtype=np.int64)
        f = np.empty(len(idx)) if fro else None
        kernel([xs[i] for i in idx], [ys[i] for i in idx], o, inf_, f, _tol(rtol))
        out[idx], info[idx] = o, inf_
        if fro:
            fr[idx] = f
    return out, info, fr


def product_norm(X, Y, *, rtol=RTOL):
    """Operator 2-norm ``‖XY‖ = σ₁(XY)`` (spec §2.2), float64, without forming ``XY``.

    Parameters
    ----------
    X, Y : 2-D arrays (``m×k`` and ``k×n``), stacks ``(B, m, k)`` and ``(B, k, n)``, or two lists
        of 2-D arrays of any shapes (a ragged batch). float32 or float64, ``X`` and ``Y`` of one
        dtype per pair; C-contiguous (large strided views raise, they are never copied).
    rtol : float in [1e-12, 1), default 1e-12
        Relative accuracy asked of ``‖XY‖``. The Krylov route's pass count, hence the number of
        times it reads the factors, grows like ``log(1/rtol)/√gap`` (``gap`` the relative gap
        below the top of ``(XY)ᵀ(XY)``'s spectrum): a looser ``rtol`` reads the factors fewer
        times (docs/margins.md has measured counts). The dense route is exact regardless.

    Returns
    -------
    float for a pair, float64 array ``(B,)`` for a batch (a cupy array for cupy operands).

    Method: block Krylov (block Lanczos, block size 8, full reorthogonalization, Rayleigh–Ritz
    on the whole basis, thick restart at 192 vectors) on ``(XY)ᵀ(XY)``; each pass reads ``Y``
    twice and ``X`` once and multiplies in float64 (float32 factors are widened one row tile at a
    time, never copied whole). It stops when the top Ritz pair's residual ``r`` satisfies
    ``r ≤ 1e-13·θ`` or ``r²/gap ≤ 1e-13·θ`` (``θ`` the top Ritz value of ``(XY)ᵀ(XY)``, ``gap``
    to the second). Small problems (a side ≤ 16, ``n ≤ 32`` or ``mkn ≤ 96³``) and any pair not
    converged after 400 passes take the dense route: ``XY`` formed in float64 (dgemm), ``σ₁``
    by LAPACK dgesdd. Pairs of a batch run in parallel on the library's threads (GIL released);
    a single pair spreads its row tiles over them. cupy operands run the same iteration on the
    device (python/gsa_fast/_gpu_margins.py: cuBLAS GEMMs, float32 factors widened a 64 MiB row
    tile at a time), pair after pair.

    Accuracy: relative error ≤ ``rtol`` against the float64 SVD of the formed product (tested on
    clustered top singular values, rank-deficient factors and random pairs), plus the rounding
    of the product itself, ``~ (k + n)·u·‖X‖‖Y‖/‖XY‖`` relative, which only matters when the
    product cancels (``‖XY‖ ≪ ‖X‖‖Y‖``); the dense SVD of the formed product carries the same term.
    """
    if _backend.device_route("product_norm", X, Y):  # cupy in (python/gsa_fast/_gpu_margins.py)
        return _backend.cuda_route("product_norm")(X, Y, rtol=rtol)
    rtol = check_rtol(rtol, "product_norm")
    xs, ys, shape = as_pairs(X, Y, "product_norm")
    out, _, _ = _run(xs, ys, rtol=rtol)
    return float(out[0]) if shape == () else out


def _chain_kernel(factors, want_norm, want_prod, *, fro=True, block=0, rtol=RTOL):
    """One lockstep kernel call on a checked chain of one dtype (see cpp chain_norms): raw
    ‖A_ℓ‖ where want_norm (else NaN), ‖A_ℓ‖_F (if fro), ‖A_{ℓ+1}A_ℓ‖ where want_prod (else NaN),
    the Krylov passes of each problem (0 = dense route) and how many times each factor was read."""
    L = len(factors)
    kernel = (_backend.core.chain_norms_f32 if factors[0].dtype == np.float32
              else _backend.core.chain_norms_f64)
    wn = np.asarray(want_norm, dtype=np.uint8)
    wp = np.asarray(want_prod, dtype=np.uint8)
    nrm, pn = np.full(L, np.nan), np.full(L - 1, np.nan)
    ni, pi = np.zeros(L, np.int64), np.zeros(L - 1, np.int64)
    fr = np.empty(L) if fro else None
    reads = np.zeros(L, np.int64)
    kernel(list(factors), wn, wp, nrm, pn, ni, pi, fr, reads, _tol(rtol), block)
    nrm[wn == 0] = np.nan
    pn[wp == 0] = np.nan
    return nrm, fr, pn, ni, pi, reads


#: Factors at most this large (bytes) stay in the last-level cache between the passes of one
#: Krylov problem, so solving the problems one by one (in parallel, no synchronisation between
#: sweeps) is faster than the lockstep schedule, whose point is to read large factors from memory
#: fewer times (bench/results/margins.md: 0.69× at 32 × 1024² float32, ~1× at 4096²).
_LOCKSTEP_MIN_BYTES = 8 << 20


def _chain_norms(factors, fn, rtol=RTOL):
    """Raw ‖A_ℓ‖, ‖A_ℓ‖_F and ‖A_{ℓ+1}A_ℓ‖ (NaN where undefined): one lockstep kernel call for
    chains with a factor over :data:`_LOCKSTEP_MIN_BYTES`, else independent problems."""
    check_chain_dtype(factors, fn)
    comp = compatible(factors)
    if max(a.nbytes for a in factors) > _LOCKSTEP_MIN_BYTES:
        nrm, fro, pn, _, _, _ = _chain_kernel(factors, np.ones(len(factors), bool), comp,
                                              rtol=rtol)
        return nrm, fro, pn
    L = len(factors)
    idx = [i for i in range(L - 1) if comp[i]]
    xs = list(factors) + [factors[i + 1] for i in idx]
    ys = [None] * L + [factors[i] for i in idx]
    out, _, fr = _run(xs, ys, fro=True, rtol=rtol)
    pn = np.full(L - 1, np.nan)
    pn[idx] = out[L:]
    return out[:L], fr[:L], pn


def chain_margins(factors, *, normalize=True, d=None, rtol=RTOL):
    """Interface quantities of a chain (spec §7.1) on Frobenius-normalized factors.

    Parameters
    ----------
    factors : array ``(L, n, n)`` or list of 2-D arrays, in application order (``A_1`` first:
        interface ``ℓ`` is the product ``A_{ℓ+1} A_ℓ``). float32 or float64, one dtype per chain.
    normalize : bool
        ``True`` (default): every quantity is evaluated on ``Ã_ℓ = √d_ℓ·A_ℓ/‖A_ℓ‖_F`` (``N_d``,
        spec §1; rectangular factors per §2.3). The factors are not copied: norms are computed
        on ``A_ℓ`` and scaled. ``False``: on the factors as given.
    d : int or sequence of L ints, optional
        Widths for ``N_d``; default ``min(m, n)`` per factor (``q_+`` for full-rank factors;
        :func:`margin_report` passes ``q_+``).
    rtol : float in [1e-12, 1), default 1e-12
        Relative accuracy of every norm and product norm, as in :func:`product_norm`; ``log κ``,
        ``s`` and ``μ`` are then accurate to about ``3·rtol`` absolute. Looser values read large
        factors fewer times (see Method).

    Returns
    -------
    :class:`ChainMargins` with ``norm`` (length L) and, per interface (length L−1),
    ``product_norm`` ``‖Ã_{ℓ+1}Ã_ℓ‖``, ``log_kappa``, ``slack``, ``margin`` (μ) and ``theta``
    (ϑ). An interface whose product is not defined (``A_{ℓ+1}.shape[1] ≠ A_ℓ.shape[0]``) is NaN.
    ``μ`` is evaluated as ``max(log κ, ½|Δ log‖Ã‖|)``, which equals ``log κ + s`` and stays
    finite when a product cancels to 0 (then ``log κ = −∞``, ``s = +∞``).

    Method and cost: chains whose factors all fit in 8 MiB (cache-resident between passes) solve
    each norm and product as its own :func:`product_norm` problem, in parallel. Larger chains
    take one kernel call that runs every norm and product problem (each the block
    Krylov iteration of :func:`product_norm`, same start block and stopping rule) in lockstep:
    an iteration reads each factor twice (three phases, factors in parallel inside each), and
    each read applies every right-hand side that needs the factor (its own norm, the two
    products it enters). A product takes one Krylov step per iteration, a norm two; converged problems drop
    out. So each factor is read about ``2·I + 2`` times (``I`` = the slowest product's passes, the
    ``+ 2`` are the finiteness check and the power-of-two scale pass) instead of once per pass of each problem it enters; no
    Krylov method reads the right factor of a product fewer than ``2·I`` times, since each step
    applies it, then ``XᵀX``, then it again. ``I`` depends on the top of the spectra and on
    ``rtol``: at ``rtol = 1e-12`` on 4096² float32 factors, about 9–13 reads for heavy-tailed
    (power-law) factors and 70 for Gaussian ones, whose flat spectral edge is the worst case;
    docs/margins.md tabulates the counts against ``rtol``. Results
    do not depend on the thread count. Working memory: the Krylov bases, ``2·n·192`` float64 per
    problem (about 12.6 MB per problem at ``n = 4096``, held for all ``2L − 1`` problems at once).
    Accuracy: that of :func:`product_norm`.

    cupy factors (a device stack or a list) take the CUDA route: the same block Krylov iteration
    per norm and product (cuBLAS GEMMs), one problem after another; the fields are cupy arrays.
    """
    fn = "chain_margins"
    if _backend.device_route(fn, factors):  # cupy in (python/gsa_fast/_gpu_margins.py)
        return _backend.cuda_route(fn)(factors, normalize=normalize, d=d, rtol=rtol)
    rtol = check_rtol(rtol, fn)
    normalize = as_flag(normalize, fn, "normalize")
    factors = as_factor_list(factors, fn)
    return _margins_of(factors, check_widths(d, factors, fn), normalize, fn, rtol)


def _margins_of(factors, widths, normalize, fn, rtol=RTOL):
    return margins_from_norms(*_chain_norms(factors, fn, rtol), widths, normalize, fn)


def margin_report(factors, *, chart="top", interval=(0, 5), window=None, eps=0.01, lip="sharp",
                  budget=None):
    """The margin report of a chain (spec §9; Table 2 of paper I) as a :class:`MarginReport`.

    Parameters
    ----------
    factors : as :func:`chain_margins` (layer matrices or Jacobian factors, ``A_1`` first).
    chart : {"top", "bures", "lsq"}; interval : ``J = (α_min, α_max)``, increasing;
    window : LS rank window ``(k0, k1)`` for ``chart="lsq"`` (see :func:`fit_exponent`);
    eps : energy level in (0, 1) for ``r_ε``, ``γ_ε``; lip : ``"sharp"`` (``½ log d``) or
    ``"paper"`` (``2 log d``) tail Lipschitz constant; budget : depth budget ``M > 1``, optional.

    Spectra come from :func:`svdvals` (``method="svd"``, float64 LAPACK), widths are
    ``d_ℓ = q_+`` (nonzero singular values, §2.3), chain quantities from :func:`chain_margins`
    with those widths. ``.layers`` / ``.interfaces`` columns and ``.totals`` keys are listed in
    docs/margins.md. ``.reasons`` names every failing hypothesis of Theorem 4.16 (non-square,
    rank-deficient, ``d < 2``, α undefined or outside J, undefined product);
    ``.theorem_applicable`` is ``not reasons``. pandas is imported here only.

    cupy factors: the SVDs and the product norms run on the device (cuSOLVER, the Krylov
    iteration of :func:`product_norm`); the spectra come to the host and the report is assembled
    there, as on the CPU route.
    """
    fn = "margin_report"
    if _backend.device_route(fn, factors):  # cupy in (python/gsa_fast/_gpu_margins.py)
        return _backend.cuda_route(fn)(factors, chart=chart, interval=interval, window=window,
                                       eps=eps, lip=lip, budget=budget)
    interval, eps, budget = check_report_args(fn, interval, eps, lip, budget, chart=chart,
                                              window=window)
    factors = as_factor_list(factors, fn)
    from . import spectra as _spectra_mod
    import gsa_fast as ns

    S = _spectra_mod.svdvals(factors, method="svd")
    spectra = [np.asarray(S[i], dtype=np.float64) for i in range(len(factors))]
    return report_from_spectra(ns, factors, spectra, _report_margins(spectra), fn=fn, chart=chart,
                               interval=interval, window=window, eps=eps, lip=lip, budget=budget)


def _report_margins(spectra, products=None):
    """The report's chain margins when the spectra are known: ``‖A_ℓ‖ = σ₁`` and
    ``‖A_ℓ‖_F = ‖σ‖`` come from them (LAPACK, float64), so the kernel solves only the products.
    ``products`` (optional): the products already computed by :func:`chain_margins` with the
    default widths ``min(m, n)`` (the scan's chain table); they are rescaled to the report's
    widths instead of being computed again."""

    def margins_of(factors, widths, normalize, fn):
        check_chain_dtype(factors, fn)
        nrm = np.array([float(s[0]) if s.size else 0.0 for s in spectra])
        fro = np.array([float(np.linalg.norm(s)) for s in spectra])
        comp = compatible(factors)
        w = np.asarray(widths, dtype=np.float64)
        if products is not None:
            # N_d with d = min(m, n) was applied to each factor: undo it, apply the widths
            d0 = np.array([max(1, min(a.shape)) for a in factors], dtype=np.float64)
            r = np.sqrt(w / d0)
            pn = np.where(comp, np.asarray(products, dtype=np.float64) * r[1:] * r[:-1], np.nan)
            c = np.sqrt(w) / fro
            return interface_quantities(nrm * c, pn)
        _, _, pn, _, _, _ = _chain_kernel(factors, np.zeros(len(factors), bool), comp, fro=False)
        return margins_from_norms(nrm, fro, pn, widths, normalize, fn)

    return margins_of


def _report_reusing(factors, products):
    """margin_report with default options, reusing the scan's product norms (see above)."""
    fn = "margin_report"
    factors = as_factor_list(factors, fn)
    from . import spectra as _spectra_mod
    import gsa_fast as ns

    S = _spectra_mod.svdvals(factors, method="svd")
    spectra = [np.asarray(S[i], dtype=np.float64) for i in range(len(factors))]
    return report_from_spectra(ns, factors, spectra, _report_margins(spectra, products), fn=fn,
                               chart="top", interval=(0.0, 5.0), window=None, eps=0.01,
                               lip="sharp", budget=None)


def jacobian_chain(model, inputs, *, token=0):
    """Per-token residual-block Jacobians ``J_ℓ = ∂h_ℓ/∂h_{ℓ−1}`` of a BERT-style encoder.

    Parameters
    ----------
    model : a torch module with ``model.embeddings(input_ids, token_type_ids)`` and
        ``model.encoder.layer`` (a sequence of blocks called as ``block(h, attention_mask=ext)``,
        returning a tensor or a tuple whose first entry is the hidden states) — the layout of
        Hugging Face ``BertModel`` and of :func:`gsa_fast.minilm.load_minilm`.
    inputs : dict with ``input_ids`` (and optionally ``attention_mask``, ``token_type_ids``) of
        one sequence (shape ``(T,)`` or ``(1, T)``), or the ``input_ids`` alone.
    token : int
        Position whose Jacobians are taken (default 0, ``[CLS]``).

    Returns
    -------
    float64 array ``(L, H, H)`` in application order (``J_1`` = first block): entry
    ``[ℓ−1, i, j] = ∂h_ℓ[token, i]/∂h_{ℓ−1}[token, j]``, computed by reverse-mode autodiff in the
    model's dtype. Held fixed: the hidden states of every other position at the block's input
    (their values on the actual forward pass), the attention mask, and the parameters; dropout
    is off (``model.eval()`` is called). ``h_0`` is the embedding output (after its LayerNorm),
    so each ``J_ℓ`` is the derivative of the whole block (attention, residual, LayerNorm, FFN,
    residual, LayerNorm). torch is imported here only. A model on a CUDA device computes there
    and returns a float64 cupy array (through DLPack, no host copy;
    python/gsa_fast/_gpu_depth_matrix.py); CPU models give numpy as before.
    """
    fn = "jacobian_chain"
    if model_device_type(model) == "cuda":  # the device route: cupy out
        return _backend.cuda_route(fn)(model, inputs, token=token)
    return jacobian_chain_impl(model, inputs, token, mode="autodiff", fn=fn)


def scan_chains(layers, get_matrix, *, roles=None, patterns=None, normalize=True):
    """Chains of a scan's layer table, for ``ScanResult.chains`` (see docs/margins.md).

    ``layers``: a DataFrame with columns ``name``, ``role``, ``block`` (int or NaN) and
    ``rows``/``cols`` (or ``shape``); ``get_matrix(name)`` returns the matrix. For each role,
    the role's matrices in block order are cut into maximal runs where consecutive products
    are defined; ``patterns`` (dict chain name → list of regular expressions, matched in order)
    adds user chains. Returns one row per interface with the :func:`chain_margins` columns.
    """
    return scan_chains_impl(layers, get_matrix, chain_margins, roles=roles, patterns=patterns,
                            normalize=normalize)


def plot_margins(report, path=None, *, title=None):
    """margins.png: per interface ``m′_J·|Δα_ℓ|`` (bars) against ``2μ_ℓ + |Δε_ℓ|`` (line);
    the theorem says every bar stays under the line. matplotlib is imported here only."""
    from ._jacobian import plot_margins_impl
    return plot_margins_impl(report, path, title=title)

