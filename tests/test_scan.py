"""The main job end to end: the CLI scans a safetensors file and its numbers match the kernels."""
from __future__ import annotations

import json

import numpy as np
import pytest

import gsa_fast as g
from gsa_fast import cli
from gsa_fast.scan import scan_matrices
from test_weights import write_safetensors


def _powerlaw(rng, m, n, alpha):
    q = min(m, n)
    u, _ = np.linalg.qr(rng.standard_normal((m, q)))
    v, _ = np.linalg.qr(rng.standard_normal((n, q)))
    s = np.arange(1, q + 1, dtype=float) ** -alpha
    return (u * s) @ v.T, s


def test_scan_recovers_power_laws(rng):
    mats, truth = {}, {}
    for i, (m, n, a) in enumerate([(40, 40, 1.0), (30, 60, 0.5), (64, 16, 2.0)]):
        w, s = _powerlaw(rng, m, n, a)
        mats[f"layer{i}"] = w.astype(np.float64)
        truth[f"layer{i}"] = (a, s)
    rows, t = scan_matrices(mats)
    assert t["matrices"] == 3 and t["parameters"] == 40 * 40 + 30 * 60 + 64 * 16
    for r in rows:
        a, s = truth[r["name"]]
        assert r["q_plus"] == s.size
        # exact orbit: the top and LS charts return α (to the float64 Gram route's accuracy)
        assert abs(r["alpha_lsq"] - a) < 1e-6
        assert abs(r["alpha_top"] - a) < 1e-6
        assert abs(r["residual_top"]) < 1e-9
        assert r["r_0.1"] == int(g.truncation_rank(s, 0.1))
        assert r["r_0.1_model"] == r["r_0.1"]


def test_cli_scan_on_a_file(tmp_path, rng, capsys):
    w1 = rng.standard_normal((24, 16)).astype(np.float32)
    w2 = rng.standard_normal((16, 16)).astype(np.float16)
    p = tmp_path / "model.safetensors"
    write_safetensors(p, {"a.weight": ("F32", w1), "b.weight": ("F16", w2),
                          "a.bias": ("F32", np.zeros(16, np.float32))})
    out = tmp_path / "report.json"
    assert cli.main(["scan", "--model", str(p), "--json", str(out)]) == 0
    text = capsys.readouterr().out
    assert "2 layer matrices" in text and "a.weight" in text and "b.weight" in text
    rep = json.loads(out.read_text())
    assert [r["name"] for r in rep["layers"]] == ["a.weight", "b.weight"]
    sv = np.linalg.svd(w1.astype(np.float64), compute_uv=False)
    assert rep["layers"][0]["sigma_1"] == pytest.approx(sv[0], rel=1e-12)
