"""Exponent charts and residuals (spec §6): compiled kernels vs the numpy reference and the
vectorized numpy a user would write.

Batch: 1,000 spectra of width 1024, σ_k = c k^{-α} e^{0.2 N(0,1)} sorted descending (what
svdvals returns), and a ragged mix of 1,000 spectra of widths 16..2048. Peers:
``reference`` (gsa_fast.reference, timed on a subset and scaled) and ``numpy`` — for the LS
chart ``np.polyfit`` of log σ on log k over all rows at once; for the residuals the
vectorized closed forms over the dense batch.
"""
from __future__ import annotations

import numpy as np
import pytest

import gsa_fast as g
from gsa_fast import reference as ref
from gsa_fast._ragged import RaggedSpectra

N, W = 1000, 1024


def _rows(r, n, w):
    a = r.uniform(0.3, 1.5, size=(n, 1))
    k = np.arange(1, w + 1, dtype=np.float64)
    x = np.exp(r.uniform(-2, 2, (n, 1))) * k ** -a * np.exp(0.2 * r.standard_normal((n, w)))
    return np.ascontiguousarray(np.sort(x, axis=1)[:, ::-1])


@pytest.fixture(scope="module")
def dense():
    return _rows(np.random.default_rng(0), N, W)


@pytest.fixture(scope="module")
def ragged():
    r = np.random.default_rng(1)
    widths = np.exp(r.uniform(np.log(16), np.log(2048), N)).astype(int)
    return RaggedSpectra.from_list([_rows(r, 1, int(w))[0] for w in widths])


@pytest.fixture(scope="module")
def alpha(dense):
    return g.fit_exponent(dense, "top")


def _sub(x, m):
    return x[:m] if isinstance(x, np.ndarray) else RaggedSpectra.from_list(x.to_list()[:m])


# ----------------------------------------------------------------------------- fit_exponent

@pytest.mark.parametrize("chart", ["top", "bures", "lsq"])
@pytest.mark.benchmark(group="fit_exponent")
def bench_fit_exponent__gsa(benchmark, dense, chart):
    benchmark(g.fit_exponent, dense, chart)


@pytest.mark.parametrize("chart", ["top", "bures", "lsq"])
@pytest.mark.benchmark(group="fit_exponent")
def bench_fit_exponent__reference(benchmark, dense, chart):
    m = {"top": 100, "bures": 5, "lsq": 1000}[chart]
    benchmark.pedantic(ref.fit_exponent, args=(dense[:m], chart), rounds=3, iterations=1)
    benchmark.extra_info["scale"] = N / m


@pytest.mark.parametrize("chart", ["lsq"])
@pytest.mark.benchmark(group="fit_exponent")
def bench_fit_exponent__numpy(benchmark, dense, chart):
    # the one-liner: slope of log σ on log k for every row (no clamping, no zero handling)
    x = np.log(np.arange(1, W + 1, dtype=np.float64))
    benchmark(lambda: -np.polyfit(x, np.log(dense).T, 1)[0])


@pytest.mark.parametrize("chart", ["top", "bures", "lsq"])
@pytest.mark.benchmark(group="fit_exponent_ragged")
def bench_fit_exponent_ragged__gsa(benchmark, ragged, chart):
    benchmark(g.fit_exponent, ragged, chart)


@pytest.mark.parametrize("chart", ["top", "bures", "lsq"])
@pytest.mark.benchmark(group="fit_exponent_ragged")
def bench_fit_exponent_ragged__reference(benchmark, ragged, chart):
    m = {"top": 100, "bures": 5, "lsq": 1000}[chart]
    sub = _sub(ragged, m)
    benchmark.pedantic(ref.fit_exponent, args=(sub, chart), rounds=3, iterations=1)
    benchmark.extra_info["scale"] = N / m


# ----------------------------------------------------------------------------- residuals

def _np_radial(S, a):
    k = np.arange(2, S.shape[1] + 1, dtype=np.float64)
    R = np.sum((S[:, 1:] / S[:, :1]) ** 2, axis=1)
    gd = np.sum(k[None, :] ** (-2.0 * a[:, None]), axis=1)
    return 0.5 * (np.log1p(gd) - np.log1p(R))


def _np_chart_error(S, a):
    k = np.arange(1, S.shape[1] + 1, dtype=np.float64)
    P = k[None, :] ** (-a[:, None])
    P /= np.linalg.norm(P, axis=1, keepdims=True)
    return np.linalg.norm(S / np.linalg.norm(S, axis=1, keepdims=True) - P, axis=1)


def _np_tail(S, a):
    k = np.arange(1, S.shape[1] + 1, dtype=np.float64)
    E = S * S
    P = k[None, :] ** (-2.0 * a[:, None])
    TA = np.cumsum(E[:, ::-1], axis=1)[:, ::-1] / E.sum(axis=1, keepdims=True)
    Ta = np.cumsum(P[:, ::-1], axis=1)[:, ::-1] / P.sum(axis=1, keepdims=True)
    return np.max(np.abs(TA - Ta), axis=1)


PEERS = {"radial_residual": _np_radial, "chart_error": _np_chart_error, "tail_residual": _np_tail}


@pytest.mark.parametrize("op", list(PEERS))
@pytest.mark.benchmark(group="residuals")
def bench_residual__gsa(benchmark, dense, alpha, op):
    benchmark(getattr(g, op), dense, alpha)


@pytest.mark.parametrize("op", list(PEERS))
@pytest.mark.benchmark(group="residuals")
def bench_residual__numpy(benchmark, dense, alpha, op):
    benchmark(PEERS[op], dense, alpha)


@pytest.mark.parametrize("op", list(PEERS))
@pytest.mark.benchmark(group="residuals")
def bench_residual__reference(benchmark, dense, alpha, op):
    m = 200
    benchmark.pedantic(getattr(ref, op), args=(dense[:m], alpha[:m]), rounds=3, iterations=1)
    benchmark.extra_info["scale"] = N / m


def test_numpy_peers_agree(dense, alpha):
    """The peers compute the same numbers (so the ratios compare like with like)."""
    np.testing.assert_allclose(-np.polyfit(np.log(np.arange(1, W + 1)), np.log(dense[:50]).T, 1)[0],
                               g.fit_exponent(dense[:50], "lsq"), rtol=1e-12)
    for op, f in PEERS.items():
        np.testing.assert_allclose(f(dense[:50], alpha[:50]), getattr(g, op)(dense[:50], alpha[:50]),
                                   rtol=1e-9, atol=1e-12)
