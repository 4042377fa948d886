"""gsa_fast.scan: rows, columns, order, statuses and result files, checked against independent
oracles — float64 numpy SVD for the spectra and gsa_fast.reference for every diagnostic.

Tolerances: spectra by the svdvals contract, |σ̂ − σ| ≤ c·max(m, n)·u·σ₁ with c = 4 and u the
storage's unit roundoff (2⁻⁸ bf16, 2⁻¹¹ f16, 2⁻²⁴ f32; float64 data goes through the Gram route,
whose contract is sqrt(c·max(m,n)·2⁻⁵³)·σ₁). Diagnostics: the reference on the scan's own spectra
(same input, so only the reductions' rounding differs) to 1e-9 relative; exponents of an exact
power law to 1e-6 (the Gram route's accuracy on float64).
"""
from __future__ import annotations

import pickle
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import gsa_fast as g
from gsa_fast import reference as ref
from gsa_fast._scan_plan import parse_name, plan_scan
from gsa_fast._scan_exec import ScanOptions, execute
from scan_helpers import from_bf16_bits, powerlaw, to_bf16_bits, write_safetensors, write_sharded

pd = pytest.importorskip("pandas")

U = {"float64": 2.0**-53, "float32": 2.0**-24, "float16": 2.0**-11, "bfloat16": 2.0**-8}


def _upcast(a):
    return from_bf16_bits(a).astype(np.float64) if a.dtype == np.uint16 else np.asarray(a, dtype=np.float64)


def test_scan_recovers_power_laws(rng):
    mats, truth = {}, {}
    for i, (m, n, a) in enumerate([(40, 40, 1.0), (30, 60, 0.5), (64, 16, 2.0)]):
        mats[f"layers.{i}.w"] = powerlaw(rng, m, n, a, np.float64)
        truth[f"layers.{i}.w"] = (a, np.arange(1, min(m, n) + 1, dtype=float) ** -a)
    res = g.scan(mats, progress=False)
    assert res.info["matrices"] == 3 and res.info["parameters"] == 40 * 40 + 30 * 60 + 64 * 16
    for r in res.layers.to_dict("records"):
        a, s = truth[r["name"]]
        assert r["status"] == "ok" and r["q_plus"] == s.size
        # exact orbit: the top and LS charts return α (to the float64 Gram route's accuracy)
        assert abs(r["alpha_lsq"] - a) < 1e-6 and abs(r["alpha_top"] - a) < 1e-6
        assert abs(r["residual_top"]) < 1e-9
        assert r["r_0.1"] == int(ref.truncation_rank(s, 0.1))
        assert r["r_0.1_model"] == r["r_0.1"]


def test_every_column_matches_the_reference(rng):
    w = {
        "model.layers.0.mlp.up.weight": powerlaw(rng, 96, 32, 0.7),                       # f32
        "model.layers.0.attn.o.weight": powerlaw(rng, 32, 32, 1.1).astype(np.float16),    # f16
        "model.layers.1.attn.o.weight": to_bf16_bits(powerlaw(rng, 32, 32, 0.9)),         # bf16 bits
        "model.layers.1.mlp.up.weight": powerlaw(rng, 96, 32, 0.4, np.float64),           # f64
    }
    path = "ck.safetensors"
    import tempfile, os
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, path)
        write_safetensors(path, w)
        res = g.scan(path, eps=(0.1, 0.01, 0.0), progress=False)
    eps = np.array([0.1, 0.01, 0.0])
    assert len(res.layers) == 4
    for r in res.layers.to_dict("records"):
        a = _upcast(w[r["name"]])
        s = res.spectra[r["name"]]
        sv = np.linalg.svd(a, compute_uv=False)
        u = U[r["dtype"]]
        tol = np.sqrt(4 * max(a.shape) * u) * sv[0] if r["dtype"] == "float64" else 4 * max(a.shape) * u * sv[0]
        assert np.max(np.abs(s - sv)) <= tol, r["name"]
        assert r["shape"] == "x".join(map(str, a.shape)) and r["status"] == "ok"
        rel = dict(rel=1e-9, abs=1e-12)
        assert r["sigma_1"] == s[0]
        assert r["frobenius"] == pytest.approx(np.sqrt(np.sum(s**2)), **rel)
        assert r["stable_rank"] == pytest.approx(np.sum(s**2) / s[0] ** 2, **rel)
        assert r["q_plus"] == int(ref.rank_count(s))
        assert r["entropy"] == pytest.approx(float(ref.spectral_entropy(s)), **rel)
        assert r["m"] == pytest.approx(float(ref.radial_functional(s)), **rel)
        for c in ("top", "bures", "lsq"):
            al = float(ref.fit_exponent(s, chart=c, interval=(0.0, 5.0)))
            assert r[f"alpha_{c}"] == pytest.approx(al, rel=1e-9, abs=1e-10), c
            assert r[f"residual_{c}"] == pytest.approx(float(ref.radial_residual(s, al)), rel=1e-6, abs=1e-10)
            assert r[f"chart_error_{c}"] == pytest.approx(float(ref.chart_error(s, al)), rel=1e-6, abs=1e-10)
        ranks = ref.truncation_rank(s, eps)
        model = ref.orbit_truncation_rank(r["alpha_lsq"], eps, r["q_plus"])
        for j, e in enumerate(eps):
            assert r[f"r_{e:g}"] == ranks[j]
            assert r[f"r_{e:g}_model"] == model[j]
        assert r["tail_residual"] == pytest.approx(float(ref.tail_residual(s, r["alpha_lsq"])), rel=1e-6, abs=1e-10)
    assert list(res.layers.columns[:8]) == ["checkpoint", "file", "name", "role", "block", "shape", "dtype", "status"]


def test_order_by_block_and_roles(rng):
    names = [f"encoder.layer.{b}.attention.output.dense.weight" for b in (10, 2, 1, 0)]
    mats = {n: rng.standard_normal((8, 6)).astype(np.float32) for n in names}
    mats["lm_head.weight"] = rng.standard_normal((8, 6)).astype(np.float32)
    mats["embeddings.word_embeddings.weight"] = rng.standard_normal((8, 6)).astype(np.float32)
    df = g.scan(mats, progress=False).layers
    assert list(df["block"].astype("float").fillna(-1)) == [-1, 0, 1, 2, 10, -1]
    assert df["name"].iloc[0].startswith("embeddings") and df["name"].iloc[-1] == "lm_head.weight"
    assert set(df["role"].dropna()) >= {"attention.output.dense.weight", "lm_head.weight"}


@pytest.mark.parametrize("name,block,role", [
    ("model.layers.3.self_attn.o_proj.weight", 3, "self_attn.o_proj.weight"),
    ("encoder.layer.11.output.dense.weight", 11, "output.dense.weight"),
    ("transformer.h.7.mlp.c_fc.weight", 7, "mlp.c_fc.weight"),
    ("blocks.0.attn.qkv.weight", 0, "attn.qkv.weight"),
    ("lm_head.weight", None, "lm_head.weight"),
    ("features.4.conv.weight", 4, "conv.weight"),
])
def test_parse_name(name, block, role):
    assert parse_name(name) == (block, role)


def test_custom_name_parser(rng):
    mats = {"stage2.unit5.w": rng.standard_normal((6, 4)), "stage1.unit1.w": rng.standard_normal((6, 4))}
    df = g.scan(mats, name_parser=lambda n: (int(n[5]) * 10 + int(n[11]), "unit.w"), progress=False).layers
    assert list(df["block"]) == [11, 25] and set(df["role"]) == {"unit.w"}


def test_conv_experts_skips_and_statuses(rng, tmp_path):
    conv = rng.standard_normal((8, 3, 3, 3)).astype(np.float32)
    experts = rng.standard_normal((4, 12, 6)).astype(np.float32)
    bad = rng.standard_normal((6, 6)).astype(np.float32)
    bad[2, 3] = np.nan
    tensors = {
        "conv.weight": conv, "moe.experts.weight": experts, "bad.weight": bad,
        "zero.weight": np.zeros((5, 4), np.float32), "ids": np.arange(6, dtype=np.int64).reshape(2, 3),
        "norm.weight": np.ones(5, np.float32), "empty.weight": np.zeros((0, 4), np.float32),
        "mask": np.ones((2, 2), bool),
    }
    p = tmp_path / "m.safetensors"
    write_safetensors(p, {**tensors, "fp8.weight": ("F8_E4M3", np.zeros((4, 4), np.uint8))})
    res = g.scan(p, progress=False)
    df = res.layers.set_index("name")
    assert df.loc["conv.weight", "shape"] == "8x27"
    sv = np.linalg.svd(conv.reshape(8, 27).astype(np.float64), compute_uv=False)
    np.testing.assert_allclose(res.spectra["conv.weight"], sv, rtol=0, atol=4 * 27 * 2.0**-24 * sv[0])
    for e in range(4):
        sv = np.linalg.svd(experts[e].astype(np.float64), compute_uv=False)
        np.testing.assert_allclose(res.spectra[f"moe.experts.weight[{e}]"], sv, rtol=0, atol=4 * 12 * 2.0**-24 * sv[0])
        assert df.loc[f"moe.experts.weight[{e}]", "shape"] == "12x6"
    assert df.loc["bad.weight", "status"] == "NaN/Inf" and np.isnan(df.loc["bad.weight", "sigma_1"])
    assert df.loc["zero.weight", "status"] == "zero matrix" and df.loc["zero.weight", "q_plus"] == 0
    assert df.loc["fp8.weight", "status"] == "unsupported dtype F8_E4M3"
    assert (df.drop(["bad.weight", "zero.weight", "fp8.weight"])["status"] == "ok").all()
    assert res.info["skipped"] == {"integer or bool dtype": 2, "1-D or scalar tensor": 1, "0-size tensor": 1}


def test_list_of_sources_has_checkpoint_column(rng, tmp_path):
    a = {"layers.0.w": powerlaw(rng, 16, 8, 1.0)}
    b = {"layers.0.w": powerlaw(rng, 16, 8, 2.0)}
    write_safetensors(tmp_path / "step1.safetensors", a)
    res = g.scan([tmp_path / "step1.safetensors", b], progress=False)
    assert list(res.layers["checkpoint"]) == ["step1.safetensors", "memory[1]"]
    assert set(res.spectra) == {"step1.safetensors:layers.0.w", "memory[1]:layers.0.w"}
    assert res.layers["alpha_lsq"].iloc[1] == pytest.approx(2.0, abs=1e-3)


def test_torch_tensors_in_a_mapping(rng):
    torch = pytest.importorskip("torch")
    w = powerlaw(rng, 24, 16, 0.8)
    res = g.scan({"w": torch.from_numpy(w).to(torch.bfloat16), "v": torch.zeros(3)}, progress=False)
    assert res.layers["dtype"].tolist() == ["bfloat16"]
    sv = np.linalg.svd(torch.from_numpy(w).to(torch.bfloat16).float().numpy().astype(np.float64), compute_uv=False)
    np.testing.assert_allclose(res.spectra["w"], sv, rtol=0, atol=4 * 24 * 2.0**-8 * sv[0])


def test_sharded_directory_and_index(rng, tmp_path):
    tensors = {f"model.layers.{b}.w": powerlaw(rng, 12, 8, 0.5) for b in range(6)}
    idx = write_sharded(tmp_path / "m", tensors, shards=3)
    by_dir = g.scan(tmp_path / "m", progress=False)
    by_idx = g.scan(idx, progress=False)
    assert list(by_dir.layers["block"]) == list(range(6)) and len(by_dir.info["files"]) == 3
    pd.testing.assert_frame_equal(by_dir.layers, by_idx.layers)


def test_plan_units_are_headers_only_and_picklable(rng, tmp_path):
    tensors = {f"layers.{b}.w": powerlaw(rng, 64, 32, 0.7) for b in range(8)}  # 8 KiB each
    tensors.update({f"layers.{b}.v": powerlaw(rng, 32, 32, 0.7) for b in range(8)})
    write_safetensors(tmp_path / "m.safetensors", tensors)
    plan = plan_scan([tmp_path / "m.safetensors"], unit_bytes=20_000)
    assert all(u.nbytes <= 20_000 for u in plan.units) and len(plan.units) >= 6
    for u in plan.units:  # one shape per unit here (groups never mix when they don't fit together)
        assert len({r.shape for r in u.refs}) == 1
        assert len(pickle.dumps(u)) < 4000
    opts = ScanOptions()
    full = g.scan(tmp_path / "m.safetensors", progress=False)
    for u in plan.units:
        rows, spectra = execute(pickle.loads(pickle.dumps(u)), opts)
        for r, s in zip(rows, spectra):
            np.testing.assert_array_equal(s, full.spectra[r["name"]])


def test_bad_arguments(rng):
    m = {"w": rng.standard_normal((4, 3))}
    for kw, match in [({"executor": "ray"}, "executor"), ({"eps": 1.5}, "eps"), ({"threads": 0}, "threads"),
                      ({"method": "qr"}, "method"), ({"include": "("}, "include"),
                      ({"memory_budget": "lots"}, "memory_budget"), ({"format": "xls"}, "format"),
                      ({"resume": True}, "out"), ({"read": "stream"}, "read")]:
        with pytest.raises(ValueError, match=match):
            g.scan(m, progress=False, **kw)
    with pytest.raises(TypeError, match="source"):
        g.scan(42)
    if not g.build_info()["cuda_devices"]:
        with pytest.raises(ValueError, match="device='cuda' needs a CUDA build, a GPU and cupy"):
            g.scan(m, device="cuda")


def test_include_exclude(rng):
    m = {f"layers.{i}.{k}": rng.standard_normal((4, 3)) for i in range(3) for k in ("q", "k")}
    df = g.scan(m, include=r"\.q$", exclude=r"layers\.1\.", progress=False).layers
    assert list(df["name"]) == ["layers.0.q", "layers.2.q"]


def test_to_files_and_plots(rng, tmp_path):
    m = {f"encoder.layer.{b}.{k}.weight": powerlaw(rng, 48, 32, 0.5 + 0.1 * b) for b in range(4) for k in ("q", "ffn")}
    res = g.scan(m, progress=False)
    for fmt in ("csv", "json", "parquet"):
        files = res.to_files(tmp_path / fmt, fmt)
        names = {f.name for f in files}
        assert {f"layers.{fmt}", "spectra.npz", "scan.json", "profile.png", "esd.png"} <= names
    back = pd.read_csv(tmp_path / "csv" / "layers.csv")
    np.testing.assert_array_equal(back["alpha_lsq"].to_numpy(), res.layers["alpha_lsq"].to_numpy())
    back = pd.read_parquet(tmp_path / "parquet" / "layers.parquet")
    assert list(back.columns) == list(res.layers.columns)
    with np.load(tmp_path / "csv" / "spectra.npz") as z:
        assert set(z.files) == set(res.spectra)
    for png in ("profile.png", "esd.png"):
        assert (tmp_path / "csv" / png).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    with pytest.raises(ValueError, match="format"):
        res.to_files(tmp_path, "xls")


def test_import_stays_numpy_only():
    code = textwrap.dedent("""
        import sys, gsa_fast
        heavy = [m for m in ("pandas", "matplotlib", "tqdm", "torch", "gguf", "ray") if m in sys.modules]
        assert not heavy, heavy
        assert callable(gsa_fast.scan)
        print("ok")
    """)
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0 and r.stdout.strip() == "ok", r.stderr


def test_bf16_file_without_ml_dtypes(tmp_path, rng):
    w = powerlaw(rng, 32, 16, 1.0)
    write_safetensors(tmp_path / "m.safetensors", {"w": to_bf16_bits(w)})
    code = textwrap.dedent(f"""
        import sys
        class Block:
            def find_spec(self, name, path=None, target=None):
                if name.split(".")[0] == "ml_dtypes":
                    raise ImportError("blocked")
        sys.meta_path.insert(0, Block())
        import gsa_fast as g
        r = g.scan({str(tmp_path / 'm.safetensors')!r}, progress=False)
        print(r.layers["status"][0], r.layers["dtype"][0], repr(float(r.spectra["w"][0])))
    """)
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    status, dtype, s1 = r.stdout.split()
    sv = np.linalg.svd(from_bf16_bits(to_bf16_bits(w)).astype(np.float64), compute_uv=False)
    assert (status, dtype) == ("ok", "bfloat16") and abs(float(s1) - sv[0]) <= 4 * 32 * 2.0**-8 * sv[0]
