"""Depth: log spectra of layer chains, random baselines, alignment and deep-linear-network geometry.

The mathematics is ``depth-math`` (§ numbers below); the user guide is ``docs/depth.md``.

* :func:`chain_log_spectrum` — Benettin/QR prefix scan of a chain ``M_L ⋯ M_1`` (§4.1–§4.2),
  compiled: one float64 GEMM per factor (float32 factors stay float32 in memory), a CholeskyQR
  of the ``n × k`` panel (Householder for ill-conditioned panels), cumulative ``log |R_jj|`` in
  float64; one chain runs on every worker, bitwise the same for any thread count.
* :func:`prefix_log_svdvals` — exact log singular values of prefix products by the rescaled
  direct product (§4.3a) or the row-graded QR form (§4.3b), with a flag for unresolved values.
* :func:`random_lyapunov`, :func:`gated_rank_law` — closed forms for gated Gaussian layers
  (§2, §3, §6), with the *corrected* finite-depth sign ``γ_i + (d_i − d_{i−1})/L``.
* :func:`separation_ratios`, :func:`depth_scaling_fit` — separation and depth-scaling
  diagnostics (§5).
* :func:`subspace_alignment` — top-k singular-subspace overlaps, principal angles and the
  diagonal correlation ρ (§7), compiled, batched.
* :func:`relative_imbalance`, :func:`bures_transport_map`, :func:`bures_geodesic`,
  :func:`dln_log_volume` — deep-linear-network geometry (§8.1, §8.4, §8.5); the pairwise sums
  of the log-volume are compiled.
* :func:`balancedness_ratio` (§8.2), :func:`dln_eigenvalues`, :func:`dln_operator`,
  :func:`dln_metric_norm` (§8.3) and :func:`effective_rank` (§8.6).
"""
from __future__ import annotations

import math

import numpy as np

from . import _backend
from ._validate import as_flag, batch_rows, value_error
from ._depth_common import (  # noqa: F401  (result types re-exported: gsa_fast.depth.Alignment, ...)
    PUBLIC, PrefixLogSvdvals, RandomLyapunov, RankLaw, Separation, DepthFit, Alignment,
    _float_matrix, _chain, _check_finite_chain, _threads, scan_args, prefix_args, resolved_mask,
    _check_lyap_args, psi_half_table, default_tau, prefix_method, chain_frob_log, balanced_log_ratio,
    dln_pair, dln_frame, dln_apply, metric_norm_from, erank_spectra, _log_binom_window, _fill_tail, rank_law_args,
    _log_sf_binom, _log_spectra, fit_window, alignment_args, alignment_error, _alignment_summary, _spd_pair,
    _inv_n, _spectra_rows, separation_from, scaling_fit_from, real_scalar, fit_baseline)
from ._gpu_depth_matrix import (  # written against an array namespace: run here with numpy
    prefix_route, balancedness_on, imbalance_on, transport_map_on, geodesic_on, geodesic_times)

__all__ = list(PUBLIC)


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
    ``'auto'``: float32 factors are multiplied in float64 arithmetic by a float32 × float64 GEMM
    that converts them while packing, float64 factors by dgemm; the same accuracy as a float64
    numpy loop, ~1e-14·L absolute on ``out``) or ``'float32'``
    (sgemm into a float32 panel, QR still float64: about 1.7× faster single-threaded, but
    ~1e-6 absolute error on ``out``, the float32 rounding of ``M·Q``; docs/depth.md).
    ``threads`` (default: all workers): a batch with at least one chain per worker runs one chain
    per worker; otherwise every chain is split over the workers by rows of each product (chunks
    of fixed size, each multiplied in float64 by one worker; the QR's Gram summed
    in chunk order), when a step is worth it (``2·m·n·k`` ≥ 4 Mi flop). BLAS stays
    single-threaded. The result is bitwise the same for every thread count.

    cupy factors run on the device (cuBLAS products, cuSOLVER Householder QR, the same §4.2
    masks; python/gsa_fast/_gpu_depth.py) and return a cupy array.
    """
    fn = "chain_log_spectrum"
    if _backend.device_route(fn, factors):  # cupy in, cupy out (python/gsa_fast/_gpu_depth.py)
        return _backend.cuda_route(fn)(factors, k, gates=gates, panel=panel, tau=tau, threads=threads)
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


def prefix_log_svdvals(factors, depths=None, k=None, *, method="auto", threads=None):
    """Exact log singular values of prefix products ``M_{1:ℓ} = M_ℓ ⋯ M_1`` (§4.3).

    At each requested depth (1-based, strictly increasing; default all) returns
    :class:`PrefixLogSvdvals`: ``log_s`` of shape ``(..., len(depths), k)`` (descending; ``k``
    defaults to the smallest width), ``resolved`` (True where the value is within 1e-6 of the
    exact one, by the route's error estimate), ``depths`` and ``graded`` (per chain: True where
    the values came from the row-graded form). Exact zeros give ``−∞``. Float64 throughout.

    ``method``:

    * ``'rescaled'`` (§4.3a): the direct product ``P̂_ℓ = M_ℓ P̂_{ℓ−1} / ‖M_ℓ P̂_{ℓ−1}‖_F`` with
      the logs of the norms accumulated, LAPACK ``dgesdd`` of ``P̂_ℓ``. Its absolute error is
      about ``ℓ·n·u·s_1``, so ``resolved`` is False where ``s_i/s_1 < 1e6·ℓ·n·u`` (~1e-8 at
      ℓ·n = 100): far below, the values are rounding noise.
    * ``'graded'`` (§4.3b): the full-frame Benettin QR scan with the row-graded factor
      ``M_{1:ℓ} = Q_ℓ diag(e^{c_ℓ}) T̂_ℓ``; singular values of ``diag(e^{c_ℓ}) T̂_ℓ`` by a QR of
      ``T̂_ℓᵀ`` and a one-sided Jacobi SVD (``dgesvj``) of each block of indices whose Benettin
      sums ``c`` lie within 600 of each other, cut wherever they are separated by more than 40
      (the strong-grading limit ``c_i + log|R̃_ii|`` for a block of one). Relatively accurate:
      small singular values keep their digits at any depth (tested to ``s_k/s_1 ≈ 1e-300`` and
      beyond the float64 range). ``resolved`` is False only next to a forced cut separated by
      less than ``½ log 1e6`` (error ``e^{−2g}``). Columns that lose rank (``|R_jj| ≤ 10·n·u·‖·‖_F``,
      §4.2) are ``−∞`` from that depth on. Needs ``k ≤ n_0`` (the frame is ``n_0`` wide).
    * ``'auto'`` (default): ``'rescaled'``, then ``'graded'`` for every chain with a value the
      rescaled product does not resolve.

    Cost ``O(n³)`` per layer either way (the graded route does about 3× the flops): meant for
    moderate widths; use :func:`chain_log_spectrum` for the top-k exponents of wide chains.

    cupy factors run on the device (cuBLAS products, cuSOLVER QR/SVD; the graded route's small
    block-Jacobi step on the host; python/gsa_fast/_gpu_depth_matrix.py): ``log_s``,
    ``resolved`` and ``graded`` are then cupy arrays.
    """
    fn = "prefix_log_svdvals"
    if _backend.device_route(fn, factors):  # cupy in, cupy out (python/gsa_fast/_gpu_depth_matrix.py)
        return _backend.cuda_route(fn)(factors, depths, k, method=method, threads=threads)
    chains, bshape, d, k = prefix_args(factors, depths, k, fn)
    method = prefix_method(method, fn)
    nthreads = _threads(threads, fn)
    L = len(chains[0])
    take = np.zeros(L, dtype=np.uint8)
    take[d - 1] = 1
    B = len(chains)
    nmax = max([chains[0][0].shape[1]] + [m.shape[0] for m in chains[0]])

    def run(idx, graded):
        sub = [chains[b] for b in idx]
        out = np.empty((len(sub), len(d), k), dtype=np.float64)
        flat = [m for ch in sub for m in ch]
        if graded:
            res = np.empty(out.shape, dtype=np.uint8)
            _backend.core.prefix_log_graded(flat, len(sub), L, take, k, default_tau(nmax, "float64"),
                                            out, res, nthreads)
            return out, res.astype(bool)
        _backend.core.prefix_log_svdvals(flat, len(sub), L, take, k, out, nthreads)
        return out, resolved_mask(out, d, nmax)

    out, res, use_g = prefix_route(np, run, B, method)
    return PrefixLogSvdvals(out.reshape(bshape + (len(d), k)), res.reshape(bshape + (len(d), k)),
                            d, use_g.reshape(bshape))


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

    Parameters given as 0-d cupy arrays give cupy result arrays (evaluated on the host; docs/gpu.md).
    """
    fn = "random_lyapunov"
    if _backend.device_route(fn, n, p, sigma, r):  # cupy parameters: cupy results (_gpu_dln.py)
        return _backend.cuda_route(fn)(n, p, sigma, r)
    n, p, sigma, r = _check_lyap_args(n, p, sigma, r, fn)
    psi = psi_half_table(n + 1)
    c0 = 0.5 * math.log(2.0) + math.log(sigma)  # ½ ln(2σ²); σ² under- or overflows at the ends
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


def gated_rank_law(n, L, p, r0=None, model="G"):
    """Law of the rank of a product of ``L`` gated full-rank layers (depth-math §6).

    ``rank J = min`` over the gates of ``rank D`` (almost surely), so
    ``P(rank ≥ r) = S(r)^G`` with ``S(r) = P(Bin(n, p) ≥ r)``, ``G = L`` (``model='G'``, every
    layer gated) or ``L − 1`` (``model='F'``, the last layer ungated). With ``(r0, p)``-gates
    (conditioned on rank ≥ r0): 1 for ``r ≤ r0`` and ``[S(r)/S(r0)]^G`` above. Evaluated as
    ``exp(G·log S)`` from a log-sum-exp tail. Returns :class:`RankLaw` (``sf`` for r = 0..n,
    ``mean``, ``.cdf(r)``, ``.quantile(alpha)``).

    Parameters given as 0-d cupy arrays give cupy result arrays (evaluated on the host; docs/gpu.md).
    """
    if _backend.device_route("gated_rank_law", n, L, p, r0):  # cupy parameters: cupy results
        return _backend.cuda_route("gated_rank_law")(n, L, p, r0, model)
    n, p, r0, G = rank_law_args(n, L, p, r0, model, "gated_rank_law")
    lsf = _log_sf_binom(n, p)
    if r0 is not None:
        lsf = np.where(np.arange(n + 1) <= r0, 0.0, np.minimum(lsf - lsf[r0], 0.0))  # S(r)/S(r0) ≤ 1
    sf = np.exp(G * lsf) if G > 0 else np.ones(n + 1)
    return RankLaw(sf, float(sf[1:].sum()))


def separation_ratios(log_s, eps=None):
    """Separation of log spectra (depth-math §5.1). ``log_s``: ``(..., k)`` descending log
    singular values (from :func:`prefix_log_svdvals` or :func:`chain_log_spectrum`).

    ``ratios[..., j-1] = q_j = s_{j+1}/s_j = exp(log s_{j+1} − log s_j)`` (0 when
    ``s_{j+1} = 0 < s_j``, NaN when ``s_j = 0``), ``log_gaps = log s_j − log s_{j+1}``, and with
    ``eps`` the separation rank ``r_sep(ε) = max{r : q_j < ε ∀ j ≤ r}`` (0 if ``q_1 ≥ ε``).

    cupy input runs on the device and returns cupy arrays (docs/gpu.md).
    """
    fn = "separation_ratios"
    if _backend.device_route(fn, log_s):  # cupy in, cupy out (python/gsa_fast/_gpu_dln.py)
        return _backend.cuda_route(fn)(log_s, eps)
    a = _log_spectra(log_s, fn, "log_s")
    e = None if eps is None else real_scalar(eps, fn, "eps", lo=0.0, lo_open=True)
    return separation_from(a, e)


def depth_scaling_fit(y, start=0, stop=None, baseline=None):
    """Least-squares depth scaling (depth-math §5.2) of ``y[..., ℓ-1, j]`` (log s_j or Benettin
    sums at depth ℓ) over the window ``ℓ ∈ [start+1, stop]`` (0-based slice ``start:stop`` of
    the depth axis, the second-to-last): ``slope`` (the empirical exponent γ̂_j), ``intercept``
    (δ̂_j, → Δ_j for exact log s, → 0 for Benettin sums), ``max_resid`` (ε̂_j). Centred two-pass
    sums. NaN where the window has fewer than 2 depths or holds a ``−∞``. ``baseline``
    (e.g. ``random_lyapunov(n).gamma[:k]``) gives ``excess = slope − baseline``.

    cupy input runs on the device and returns cupy arrays (docs/gpu.md).
    """
    fn = "depth_scaling_fit"
    if _backend.device_route(fn, y, baseline):  # cupy in, cupy out (python/gsa_fast/_gpu_dln.py)
        return _backend.cuda_route(fn)(y, start, stop, baseline)
    a, w, ell = fit_window(y, start, stop, fn)
    base = fit_baseline(baseline, a, fn)
    return scaling_fit_from(a, w, ell, base)


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
    stay meaningful, R and ρ do not. cupy operands run on the device (cuSOLVER SVDs, one pair at
    a time; python/gsa_fast/_gpu_depth_matrix.py) and give cupy fields.
    """
    fn = "subspace_alignment"
    if _backend.device_route(fn, A, B):  # cupy in, cupy out (python/gsa_fast/_gpu_depth_matrix.py)
        return _backend.cuda_route(fn)(A, B, k, side_a=side_a, side_b=side_b, threads=threads)
    la, lb, bshape, k = alignment_args(A, B, k, side_a, side_b, fn)
    P = len(la)
    R = np.empty((P, k, k))
    ang = np.empty((P, k))
    rho = np.empty(P)
    st = np.zeros(P, dtype=np.int8)
    _backend.core.subspace_alignment(la, lb, k, R, ang, rho, st, _threads(threads, fn))
    if st.any():
        i = int(np.argmax(st != 0))
        raise alignment_error(fn, int(st[i]), i, bshape)
    return _alignment_summary(R.reshape(bshape + (k, k)), ang.reshape(bshape + (k,)),
                              rho.reshape(bshape))


def relative_imbalance(factors):
    """Relative imbalance ``ι_p = ‖W_pW_pᵀ − W_{p+1}ᵀW_{p+1}‖_F / ‖W_pW_pᵀ‖_F`` (depth-math
    §8.1; thesis eq (2.1)) for ``p = 1..L−1``, ``factors[0] = W_1`` acting first. Both Grams are
    formed and subtracted in float64 (one pair at a time, no copy of the chain); NaN where
    ``W_p = 0``. iid Gaussian initialisations give ``ι ≈ 1``; 0 means balanced. Shape
    ``(..., L−1)``. cupy factors run on the device (cuBLAS Grams) and give a cupy array; the
    code is one (python/gsa_fast/_gpu_depth_matrix.py, run here with numpy)."""
    fn = "relative_imbalance"
    if _backend.device_route(fn, factors):  # cupy in, cupy out
        return _backend.cuda_route(fn)(factors)
    chains, bshape = _chain(factors, fn)
    _check_finite_chain(chains, fn)
    return imbalance_on(np, chains, bshape)


def bures_transport_map(A, B):
    """Optimal transport map ``T = A^{-1} # B`` between ``N(0, A)`` and ``N(0, B)``
    (depth-math §8.4; thesis eqs (3.13)–(3.14)): the SPD matrix with ``T A T = B``.

    Cholesky route: ``A = L Lᵀ``, ``S = (Lᵀ B L)^{1/2}`` by ``eigh``, ``T = L^{-T} S L^{-1}``
    (triangular solves, symmetrised), float64, batched over leading dims. ``A`` must be positive
    definite (a singular ``A`` has no transport map: ValueError; use :func:`bures_geodesic`,
    which handles singular endpoints); ``B`` may be singular PSD. cupy operands run on the device
    (cuSOLVER potrf/syevd/getrs) and give a cupy array; the code is one
    (python/gsa_fast/_gpu_depth_matrix.py, run here with numpy)."""
    fn = "bures_transport_map"
    if _backend.device_route(fn, A, B):  # cupy in, cupy out
        return _backend.cuda_route(fn)(A, B)
    a, b = _spd_pair(A, B, fn)
    return transport_map_on(np, a, b, fn)


def bures_geodesic(A, B, t):
    """Point(s) ``X(t)`` of the Bures–Wasserstein geodesic from ``A`` (t = 0) to ``B`` (t = 1)
    (depth-math §8.4; thesis eqs (3.15), (3.34)).

    Positive definite ``A``: the symmetric form ``X(t) = (tT + (1−t)I) A (tT + (1−t)I)`` with
    ``T`` from :func:`bures_transport_map`. Singular PSD ``A`` (Cholesky fails): the upstairs line
    ``W(t) = (1−t)A^{1/2} + t B^{1/2}U``, ``X = W Wᵀ``, ``U`` the polar factor of
    ``B^{1/2}A^{1/2}`` (thesis §3.2, proof 2). ``t``: scalar in ``[0, 1]`` → ``(..., n, n)``;
    1-D array → ``(len(t), ..., n, n)``. The path has constant speed:
    ``d_BW(X(s), X(t)) = |t − s|·d_BW(A, B)``. cupy ``A``, ``B`` run on the device and give a
    cupy array (``t``: a number or an array of either kind, read on the host)."""
    fn = "bures_geodesic"
    if _backend.device_route(fn, A, B):  # cupy in, cupy out
        return _backend.cuda_route(fn)(A, B, t)
    a, b = _spd_pair(A, B, fn)
    return geodesic_on(np, a, b, geodesic_times(t, fn), fn)


def dln_log_volume(sigma, N=None, *, grad=False, threads=None):
    """Entropic log-volume of the deep linear network (depth-math §8.5; thesis eqs
    (4.26)–(4.29)) from singular values ``sigma`` ``(..., d)`` (≥ 0, any order):

    ``S_N = ½ Σ_{j<k} log λ_jk`` with ``λ_jk = (σ_j² − σ_k²)/(σ_j^{2/N} − σ_k^{2/N})`` for an
    int ``N ≥ 1``, and ``S_∞ = ½ Σ_{j<k} log[(σ_j² − σ_k²)/(log σ_j² − log σ_k²)]`` for
    ``N=None`` (or ``inf``). Every pair is evaluated in the stable form
    ``(2 − 2/N) log M + log(−expm1(−x)) − log(−expm1(−x/N))`` (``x = 2 log(M/m)``), exact at
    ties (limits, no 0/0) and for zeros (``S_∞ = −∞`` if any σ = 0; ``S_N = −∞`` iff two vanish),
    compensated sums; compiled, O(d²) per row. With ``grad=True`` also returns ``∂S/∂σ_i``
    (series for ``|log(σ_i/σ_j)| < 1e-2``; ``+∞`` at ``σ_i = 0``, except for ``N = 2``, where
    ``λ = σ_j + σ_k`` and the derivative there is ``Σ_{j≠i} 1/(2σ_j)``). Accuracy ~1e-13 relative.

    cupy input runs on the device and returns cupy arrays (docs/gpu.md).
    """
    fn = "dln_log_volume"
    if _backend.device_route(fn, sigma):  # cupy in, cupy out (python/gsa_fast/_gpu_dln.py)
        return _backend.cuda_route(fn)(sigma, N, grad=grad, threads=threads)
    s = _spectra_rows(sigma, fn)
    if s.ndim < 1:
        raise value_error(fn, "sigma", "an array (..., d) of singular values", "a scalar")
    inv_n = _inv_n(N, fn)
    grad = as_flag(grad, fn, "grad")
    flat = np.ascontiguousarray(batch_rows(s), dtype=np.float64)
    S = np.empty(flat.shape[0])
    G = np.empty_like(flat) if grad else None
    _backend.core.dln_log_volume(flat, inv_n, S, G, _threads(threads, fn))
    S = S.reshape(s.shape[:-1])
    return (S, G.reshape(s.shape)) if grad else S


def balancedness_ratio(factors, *, threads=None):
    """Scale-free balancedness ratio (depth-math §8.2; thesis Remark 2.1.4 with AM–GM)

    ``β_bal = Σ_{p=1}^{N} ‖W_p‖_F² / (N Σ_i σ_i(X)^{2/N}) ≥ 1``, ``X = W_N ⋯ W_1``
    (``factors[0] = W_1``; a chain ``(L, m, n)``, a batch ``(..., L, m, n)`` or a list). Equal to 1
    exactly for balanced factorisations ``W_p = Q_{p+1} Σ(X)^{1/N} Q_pᵀ``; invariant under
    ``W_p → cW_p``. ``σ_i^{2/N} = exp((2/N) log σ_i)`` with ``log σ_i`` from
    :func:`prefix_log_svdvals` (``method='auto'``: the row-graded form whenever the rescaled
    product does not resolve the small ``σ_i``, which still matter at large ``N``); the numerator
    in float64, scaled. ``+∞`` for ``X = 0`` with ``W ≠ 0``; NaN for an all-zero chain (0/0).
    Shape ``(...)``. cupy factors run on the device (a 0-d cupy array for one chain).
    """
    fn = "balancedness_ratio"
    if _backend.device_route(fn, factors):  # cupy in, cupy out (python/gsa_fast/_gpu_depth_matrix.py)
        return _backend.cuda_route(fn)(factors, threads=threads)
    chains, bshape = _chain(factors, fn)
    _check_finite_chain(chains, fn)
    _threads(threads, fn)  # named here (the device route checks it too)
    N = len(chains[0])
    log_s = prefix_log_svdvals(factors, depths=[N], threads=threads).log_s[..., 0, :]
    return balancedness_on(np, chains, bshape, log_s)


def dln_eigenvalues(sigma, N=None, *, threads=None):
    """Eigenvalues of the deep-linear-network metric operator ``𝒜_{N,X}`` (depth-math §8.3;
    thesis Thm 2.2.1, eqs (2.23), (2.31)) from singular values ``sigma`` ``(..., d)`` (≥ 0):
    ``lam[..., k, l] = λ_kl = Σ_{p=1}^{N} σ_k^{2(N−p)/N} σ_l^{2(p−1)/N}`` for an int ``N ≥ 1``,
    and the ``N → ∞`` log-mean ``Λ_kl = (σ_k² − σ_l²)/(log σ_k² − log σ_l²)`` (the limit of
    ``λ_kl/N``, error ``O(1/N)``) for ``N=None``. Stable form ``M^{2−2/N}(−expm1(−x))/(−expm1(−x/N))``
    with ``M = max``, ``x = 2 log(M/m)``: exact at ties (``N·M^{2−2/N}``, resp. ``M²``) and zeros
    (``M^{2−2/N}``, resp. 0; both zero: 0), no ratio of singular values formed; compiled,
    O(d²) per row, ~1e-15 relative. Shape ``(..., d, d)``, symmetric.

    cupy input runs on the device and returns cupy arrays (docs/gpu.md).
    """
    fn = "dln_eigenvalues"
    if _backend.device_route(fn, sigma):  # cupy in, cupy out (python/gsa_fast/_gpu_dln.py)
        return _backend.cuda_route(fn)(sigma, N, threads=threads)
    s = _spectra_rows(sigma, fn)
    inv_n = _inv_n(N, fn)
    flat = np.ascontiguousarray(batch_rows(s), dtype=np.float64)
    return _lam_rows(_threads(threads, fn))(flat, flat, inv_n).reshape(s.shape + (s.shape[-1],))


def _lam_rows(nthreads):
    """λ rows by the compiled kernel (dln_frame's lam_rows on the host)."""
    def run(sk, sl, inv_n):
        lam = np.empty((sk.shape[0], sk.shape[1], sl.shape[1]))
        _backend.core.dln_lambda_matrix(sk, sl, inv_n, lam, nthreads)
        return lam
    return run


def _dln_frame(X, Z, N, fn, threads):
    x, z = dln_pair(X, Z, fn)
    return dln_frame(x, z, _inv_n(N, fn), _lam_rows(_threads(threads, fn)))


def dln_operator(X, Z, N=None, *, inverse=False, threads=None):
    """Apply the DLN metric operator ``𝒜_{N,X}(Z) = Σ_{p=1}^{N} (XXᵀ)^{(N−p)/N} Z (XᵀX)^{(p−1)/N}``
    (depth-math §8.3; thesis eq (2.19)) or its inverse to ``Z``.

    With ``X = UΣVᵀ`` (one LAPACK SVD, full ``U``, ``V``): ``𝒜(Z) = U(λ ∘ UᵀZV)Vᵀ`` and
    ``𝒜^{-1}(Z) = U((UᵀZV)/λ)Vᵀ``, ``λ`` from :func:`dln_eigenvalues` (rows of ``U`` past
    ``min(m, n)`` take ``σ = 0``); ``O(d²)`` beyond the SVD. ``N=None``: the normalised
    ``N → ∞`` operator ``lim 𝒜/N`` (log-mean ``Λ``). The Riemannian gradient of an energy ``E``
    is ``dln_operator(X, dE, N)``. ``X``, ``Z``: ``(..., m, n)`` real, broadcast; float64 out.
    ``inverse=True`` needs every ``λ_kl > 0`` (``X`` of full rank, and square for ``N=None``):
    ValueError otherwise — ``g^N`` is undefined there.

    cupy input runs on the device and returns cupy arrays (docs/gpu.md).
    """
    fn = "dln_operator"
    if _backend.device_route(fn, X, Z):  # cupy in, cupy out (python/gsa_fast/_gpu_dln.py)
        return _backend.cuda_route(fn)(X, Z, N, inverse=inverse, threads=threads)
    inverse = as_flag(inverse, fn, "inverse")
    return dln_apply(*_dln_frame(X, Z, N, fn, threads), inverse, fn)


def dln_metric_norm(X, Z, N=None, *, threads=None):
    """Norm of a tangent vector ``Z`` at ``X`` in the DLN metric ``g^N`` (depth-math §8.3;
    thesis eq (2.18)): ``‖Z‖_{g^N} = sqrt(Σ_kl Z̃_kl²/λ_kl)`` with ``Z̃ = UᵀZV`` (one SVD of ``X``,
    ``λ`` as in :func:`dln_eigenvalues`; ``N=None`` uses ``Λ``, the metric of ``lim 𝒜/N``). Equal
    to ``sqrt(⟨Z, 𝒜^{-1}(Z)⟩)``. Where ``λ_kl = 0`` (rank-deficient ``X``) the metric is
    undefined: ``+∞`` if ``Z̃_kl ≠ 0`` there (the spec's choice). Shape ``(...)``.

    cupy input runs on the device and returns cupy arrays (docs/gpu.md).
    """
    fn = "dln_metric_norm"
    if _backend.device_route(fn, X, Z):  # cupy in, cupy out (python/gsa_fast/_gpu_dln.py)
        return _backend.cuda_route(fn)(X, Z, N, threads=threads)
    _, zt, lam, _ = _dln_frame(X, Z, N, fn, threads)
    return metric_norm_from(zt, lam)


def effective_rank(spectra, *, threads=None):
    """Effective rank (Roy–Vetterli; depth-math §8.6, thesis Def 4.2.1) of each spectrum:
    ``erank = exp(−Σ q_i log q_i)``, ``q_i = σ_i/Σ_j σ_j`` — singular values, not their squares.

    ``spectra``: singular values ``σ ≥ 0`` (finite, any order), a dense ``(..., width)`` float32 /
    float64 array (read in place) or :class:`RaggedSpectra`. Stable form with ``σ̂ = σ/σ_max``:
    ``log erank = log Σσ̂ − Σ σ̂ log σ̂ / Σσ̂`` (Neumaier sums), so no ``q_i`` underflows and the
    result lies in ``[1, rank]``; compiled, one pass per spectrum. NaN for an all-zero (``X = 0``)
    or empty spectrum. Float64, shape ``batch_shape`` (``(n,)`` for ragged input).

    cupy input runs on the device and returns cupy arrays (docs/gpu.md).
    """
    fn = "effective_rank"
    if _backend.device_route(fn, spectra):  # cupy in, cupy out (python/gsa_fast/_gpu_dln.py)
        return _backend.cuda_route(fn)(spectra, threads=threads)
    b = erank_spectra(spectra, fn)
    out = np.empty(b.lengths.size)
    _backend.core.effective_rank(b.values, b.starts, b.lengths, out, _threads(threads, fn))
    return out.reshape(b.batch_shape)
