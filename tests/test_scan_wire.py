"""The scan's opt-in WeightWatcher columns (issue 10 §2: ``scan(..., ww=True)``, ``--ww``) and chain
margins (issue 11: ``ScanResult.chains``, ``--chains``), on real safetensors files on disk.

Oracles: :func:`gsa_fast.compat.weightwatcher.analyze` on the same tensors (its own spectra and
fit: both call the same svdvals route on the same bytes, so ``ww_alpha``/``ww_xmin`` are
identical, for float64 with ``method="svd"`` and float32 with the default Gram route; the other
columns to 1e-9 relative, covering a different summation order) and
:func:`gsa_fast.chain_margins` on the same matrices read by the test itself (same kernel, same
inputs: equal to 1e-12 relative).
"""
from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

import gsa_fast as g
from gsa_fast._scan_exec import ScanOptions
from gsa_fast._scan_plan import plan_scan
from scan_helpers import powerlaw, write_safetensors

pd = pytest.importorskip("pandas")
ww = pytest.importorskip("gsa_fast.compat.weightwatcher")

CHAIN_COLS = ["norm_from", "norm_to", "product_norm", "log_kappa", "slack", "margin", "theta"]


def _checkpoint(rng, path, blocks=3, d=24, dtype=np.float64):
    """3 blocks of square attention matrices (q, o) plus a rectangular FFN pair and a bias."""
    t = {}
    for b in range(blocks):
        t[f"encoder.layer.{b}.attn.q.weight"] = powerlaw(rng, d, d, 0.6 + 0.2 * b, dtype)
        t[f"encoder.layer.{b}.attn.o.weight"] = powerlaw(rng, d, d, 1.0 - 0.1 * b, dtype)
        t[f"encoder.layer.{b}.ffn.up.weight"] = powerlaw(rng, 2 * d, d, 0.8, dtype)
        t[f"encoder.layer.{b}.ffn.up.bias"] = np.zeros(2 * d, dtype)
    write_safetensors(path, t)
    return t


@pytest.mark.parametrize("dtype, method", [(np.float64, "svd"), (np.float32, "gram")])
def test_ww_columns_equal_analyze(rng, tmp_path, dtype, method):
    p = tmp_path / "ck.safetensors"
    _checkpoint(rng, p, dtype=dtype)
    res = g.scan(p, ww=True, method=method, progress=False)
    want = ww.analyze(p, method=method, min_evals=None, max_evals=None, max_N=None)
    assert len(want) == 9
    by = {f"{n}.weight": r for n, r in zip(want["longname"], want.to_dict("records"))}
    lay = res.layers.set_index("name")
    assert {"ww_alpha", "ww_D", "ww_xmin", "ww_num_pl_spikes", "ww_alpha_weighted", "ww_warning"} <= set(lay.columns)
    for name, w in by.items():
        r = lay.loc[name]
        assert r["ww_alpha"] == w["alpha"] and r["ww_xmin"] == w["xmin"], name  # identical
        assert r["ww_num_pl_spikes"] == w["num_pl_spikes"] and r["ww_num_evals"] == w["num_evals"]
        for c in ("D", "sigma", "alpha_weighted", "log_alpha_norm", "lambda_max", "norm", "stable_rank",
                  "entropy", "sv_max"):
            assert r[f"ww_{c}"] == pytest.approx(w[c], rel=1e-9, abs=1e-12), (name, c)
    assert g.scan(p, progress=False).layers.filter(like="ww_").shape[1] == 0  # opt-in
    # ESD alpha and the chart exponents are different columns (and different numbers)
    assert not np.allclose(lay["ww_alpha"], lay["alpha_top"])


def test_ww_columns_reach_ray_task_body_and_resume(rng, tmp_path):
    from gsa_fast._scan_ray import scan_unit

    p = tmp_path / "ck.safetensors"
    _checkpoint(rng, p)
    plan = plan_scan([p], unit_bytes=1 << 20)
    rows, _, _ = scan_unit(plan.units[0], ScanOptions(ww=True))  # what a Ray worker runs
    assert all("ww_alpha" in r for r in rows if r["status"] == "ok")
    out = tmp_path / "out"
    g.scan(p, out=out, progress=False)  # an earlier run without ww ...
    res = g.scan(p, out=out, resume=True, ww=True, progress=False)  # ... resumed with ww
    assert res.info["units_resumed"] == res.info["units"]
    fresh = g.scan(p, ww=True, progress=False).layers.set_index("name")
    got = res.layers.set_index("name")
    assert np.array_equal(got.loc[fresh.index, "ww_alpha"], fresh["ww_alpha"])
    assert "ww_alpha" in pd.read_csv(out / "layers.csv").columns


def test_chains_equal_chain_margins(rng, tmp_path):
    p = tmp_path / "ck.safetensors"
    t = _checkpoint(rng, p, dtype=np.float32)
    out = tmp_path / "out"
    res = g.scan(p, chains={"attn": [r"attn\.q\.", r"attn\.o\."]}, out=out, progress=False)
    ch = res.chains
    # role chains: attn.q and attn.o (3 square matrices each: 2 interfaces); ffn.up (48x24) has no
    # defined consecutive product: no rows; the user chain q0, o0, q1, o1, q2, o2: 5 interfaces
    assert sorted(ch["chain"].unique()) == ["attn", "attn.o.weight", "attn.q.weight"]
    for chain, names in {
        "attn.q.weight": [f"encoder.layer.{b}.attn.q.weight" for b in range(3)],
        "attn.o.weight": [f"encoder.layer.{b}.attn.o.weight" for b in range(3)],
        "attn": [f"encoder.layer.{b}.attn.{r}.weight" for b in range(3) for r in "qo"],
    }.items():
        sub = ch[ch["chain"] == chain].sort_values("interface")
        assert list(sub["from"]) == names[:-1] and list(sub["to"]) == names[1:]
        cm = g.chain_margins([t[n] for n in names])
        for c, v in zip(CHAIN_COLS, (cm.norm[:-1], cm.norm[1:], cm.product_norm, cm.log_kappa, cm.slack,
                                     cm.margin, cm.theta)):
            np.testing.assert_allclose(sub[c].to_numpy(float), v, rtol=1e-12, atol=0, err_msg=f"{chain} {c}")
        rep = g.margin_report([t[n] for n in names]).interfaces
        np.testing.assert_allclose(sub["lhs"].to_numpy(float), rep["lhs"].to_numpy(float), rtol=1e-12)
        np.testing.assert_allclose(sub["rhs"].to_numpy(float), rep["rhs"].to_numpy(float), rtol=1e-12)
    assert (out / "chains.csv").exists() and (out / "margins.png").stat().st_size > 10_000
    on_disk = pd.read_csv(out / "chains.csv")
    assert len(on_disk) == len(ch) == 9
    assert json.loads((out / "scan.json").read_text())["options"]["chains"] == {"attn": [r"attn\.q\.", r"attn\.o\."]}
    # not asked: an empty table with the columns, and no files
    res2 = g.scan(p, out=tmp_path / "o2", progress=False)
    assert len(res2.chains) == 0 and "margin" in res2.chains.columns
    assert not (tmp_path / "o2" / "chains.csv").exists()


def test_bad_arguments(tmp_path, rng):
    p = tmp_path / "ck.safetensors"
    _checkpoint(rng, p, blocks=1, d=8)
    with pytest.raises(TypeError, match=r"scan\(\): chains must be"):
        g.scan(p, chains="attn", progress=False)
    with pytest.raises(ValueError, match=r"chains\['x'\] must be"):
        g.scan(p, chains={"x": "attn"}, progress=False)
    with pytest.raises(ValueError, match=r"regular expressions"):
        g.scan(p, chains={"x": ["("]}, progress=False)
    with pytest.raises(TypeError, match=r"scan\(\): ww must be a bool"):
        g.scan(p, ww="yes", progress=False)


def test_cli_ww_and_chains(rng, tmp_path):
    p = tmp_path / "ck.safetensors"
    _checkpoint(rng, p, d=16)
    out = tmp_path / "out"
    r = subprocess.run([sys.executable, "-m", "gsa_fast", "scan", str(p), "--ww", "--chains", "--out", str(out),
                        "--no-progress", "--format", "json"], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert "chains.json, margins.png" in r.stderr
    layers = json.loads((out / "layers.json").read_text())
    assert all(isinstance(x["ww_alpha"], float) for x in layers)
    assert len(json.loads((out / "chains.json").read_text())) == 4
    r = subprocess.run([sys.executable, "-m", "gsa_fast", "scan", str(p), "--chain", "bad"],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 2 and "NAME=REGEX" in r.stderr
