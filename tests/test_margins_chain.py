"""The lockstep chain kernel behind chain_margins (issue 11, its speed target): every norm and
adjacent product of a chain advanced together over shared factor reads.

Tolerances (where the numbers come from):
- against the reference (numpy float64 SVD of each formed factor and product): the documented
  1e-12 relative of product_norm; these random products do not cancel (‖XY‖ ≈ ‖X‖‖Y‖/3), so the
  rounding of the product itself (~(k+n)·u) stays far below it.
- against the same problems solved one at a time (product_norm's route): the same Krylov
  iteration from the same start block, the operator's sums only grouped differently, so the
  values agree to the stopping rule's own accuracy (1e-13 relative with a 10x margin for the
  regrouping: 1e-12) and the pass counts within one.
- over thread counts: bit-identical (fixed row chunks, reduced in a fixed order).
"""
from __future__ import annotations

import numpy as np
import pytest

import gsa_fast as g
from gsa_fast import _backend
from gsa_fast import reference as R
from gsa_fast._chain import compatible
from gsa_fast.margins import _chain_kernel, _report_margins, _report_reusing, _run

from _helpers import assert_rel


def _chain(rng, shapes, dtype):
    return [rng.standard_normal(s).astype(dtype) for s in shapes]


# square, rectangular, an undefined interface (130 != 120) and a 20-row factor (dense route)
RAGGED = [(110, 100), (120, 110), (120, 120), (100, 130), (140, 100), (20, 140)]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shapes", [[(128, 128)] * 5, RAGGED, [(112, 112)]],
                         ids=["square", "ragged", "single"])
def test_chain_matches_reference(rng, dtype, shapes):
    A = _chain(rng, shapes, dtype)
    for normalize in (True, False):
        got, ref = g.chain_margins(A, normalize=normalize), R.chain_margins(A, normalize=normalize)
        assert_rel(got.norm, ref.norm, 1e-12, what="norm")
        assert np.array_equal(np.isnan(got.product_norm), np.isnan(ref.product_norm))
        ok = ~np.isnan(ref.product_norm)
        assert_rel(got.product_norm[ok], ref.product_norm[ok], 1e-12, what="product_norm")
        assert_rel(got.margin[ok], ref.margin[ok], 1e-12, atol=1e-12, what="margin")
    if len(shapes) == len(RAGGED):
        assert np.isnan(got.product_norm[2]) and not np.isnan(got.product_norm).all()


def test_chain_matches_problems_solved_alone(rng):
    A = _chain(rng, [(160, 160)] * 6, np.float32)
    L = len(A)
    nrm, fro, pn, ni, pi, reads = _chain_kernel(A, np.ones(L, bool), np.ones(L - 1, bool))
    xs, ys = list(A) + A[1:], [None] * L + A[:-1]
    out, info, fr = _run(xs, ys, fro=True)
    assert_rel(nrm, out[:L], 1e-12, what="norms")
    assert_rel(pn, out[L:], 1e-12, what="products")
    assert_rel(fro, fr[:L], 1e-14, what="Frobenius")
    assert np.all(np.abs(ni - info[:L]) <= 1) and np.all(np.abs(pi - info[L:]) <= 1)
    assert np.all(ni > 0) and np.all(pi > 0)  # the Krylov route answered, not the dense one
    # Read counter: one iteration streams each factor at most twice (up and down) and a norm
    # takes two steps per iteration, so reads <= 2·iterations + 1 (the + 1: the pass that takes
    # each factor's max entry for its power-of-two scale); the previous route read a
    # middle factor once per pass of its norm, of its left product and twice per pass of its
    # right product.
    iters = max(pi.max(), -(-ni.max() // 2))
    assert reads.max() <= 2 * iters + 1 and reads.min() >= pi.min()
    previous = ni[1:-1] + pi[:-1] + 2 * pi[1:]
    assert np.all(reads[1:-1] < 0.6 * previous), (reads, previous)


def test_chain_results_do_not_depend_on_threads(rng):
    A = _chain(rng, [(150, 150), (150, 150), (140, 150), (140, 140)], np.float32)
    L = len(A)
    runs = []
    for nthreads in (1, 2, 3):
        nrm, pn = np.empty(L), np.empty(L - 1)
        ni, pi = np.zeros(L, np.int64), np.zeros(L - 1, np.int64)
        fro, reads = np.empty(L), np.zeros(L, np.int64)
        _backend.core.chain_norms_f32(A, np.ones(L, np.uint8), compatible(A).astype(np.uint8),
                                      nrm, pn, ni, pi, fro, reads, 1e-13, 0, nthreads)
        runs.append((nrm, pn, ni, pi, fro, reads))
    for r in runs[1:]:
        for a, b in zip(runs[0], r):
            assert np.array_equal(a, b)


@pytest.mark.parametrize("block", [4, 16])
def test_chain_block_size_keeps_accuracy(rng, block):
    A = _chain(rng, [(140, 140)] * 4, np.float64)
    L = len(A)
    nrm, _, pn, ni, pi, _ = _chain_kernel(A, np.ones(L, bool), np.ones(L - 1, bool), block=block)
    ref = R.chain_margins(A, normalize=False)
    assert_rel(nrm, ref.norm, 1e-12)
    assert_rel(pn, ref.product_norm, 1e-12)


def test_chain_with_zero_factor_unnormalized(rng):
    A = _chain(rng, [(120, 120)] * 3, np.float64)
    A[1][:] = 0.0
    c = g.chain_margins(A, normalize=False)
    assert c.norm[1] == 0.0 and np.all(c.product_norm == 0.0)
    assert_rel(c.norm[[0, 2]], R.chain_margins(A, normalize=False).norm[[0, 2]], 1e-12)


def test_report_reuses_products(rng):
    """The scan passes chain_margins' product norms (widths min(m, n)) to the report instead of
    solving them again; rescaled to other widths they equal chain_margins with those widths."""
    A = _chain(rng, [(130, 130)] * 3, np.float32)
    pn = g.chain_margins(A).product_norm
    a, b = _report_reusing(A, pn).interfaces, g.margin_report(A).interfaces
    for col in ("product_norm", "margin", "log_kappa", "slack", "rhs", "rho"):
        assert_rel(a[col].to_numpy(), b[col].to_numpy(), 1e-12, atol=1e-12, what=col)
    A = _chain(rng, [(130, 120), (130, 130), (110, 130)], np.float32)
    pn = g.chain_margins(A).product_norm
    spectra = [np.linalg.svd(x.astype(np.float64), compute_uv=False) for x in A]
    widths = [7, 50, 90]
    got = _report_margins(spectra, pn)(A, widths, True, "margin_report")
    assert_rel(got.product_norm, g.chain_margins(A, d=widths).product_norm, 1e-12)
    assert_rel(got.norm, R.chain_margins(A, d=widths).norm, 1e-12)
