"""gsa_fast.compat.weightwatcher against WeightWatcher 0.7.7's own analyze() output.

Fixtures (generated once with real WeightWatcher in a scratch venv; the command is in each
file's header, the generator is scripts/make_ww_fixture.py): tests/data/ww_minilm.csv (the bundled
MiniLM checkpoint) and tests/data/ww_conv.csv + ww_conv.npz (a seeded conv2d + dense model).

Tolerances. WeightWatcher's eigenvalues come from scipy's float64 SVD (dgesdd) of the upcast
float32 weights; ours from gsa_fast.svdvals. With method="svd" both are backward-stable float64
SVDs: |Δσ| ≲ c·max(m,n)·u·σ₁, i.e. ≤ 1e-11 relative even for the smallest σ of MiniLM
(σ_min/σ₁ ≈ 1e-4), so every float column is compared to 1e-9 relative (the issue's bound) and
the chosen x_min must be the same eigenvalue index (num_pl_spikes equal; x_min then differs only
by the SVDs' rounding). With the default Gram route the bound on λ is absolute, c·n·u·σ₁²: every
column but sv_min (relative error ≈ n·u·σ₁²/σ_min² ≲ 1e-5) still meets 1e-9.
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

pd = pytest.importorskip("pandas")

from gsa_fast.compat import weightwatcher as cw  # noqa: E402
from gsa_fast.weights import bundled_model_path  # noqa: E402

DATA = Path(__file__).parent / "data"
REL = 1e-9


def _fixture(name):
    path = DATA / name
    header = [ln for ln in path.read_text().splitlines() if ln.startswith("#")]
    assert "WeightWatcher 0.7.7" in header[0] and "command:" in header[1]
    return pd.read_csv(path, comment="#"), header


def _compare(ours, ref, *, skip=()):
    assert list(ours.columns) == list(ref.columns)
    assert len(ours) == len(ref)
    for c in ref.columns:
        if c in skip:
            continue
        a, b = ours[c].to_numpy(), ref[c].to_numpy()
        if ref[c].dtype.kind in "fi" and c not in ("has_esd",):
            np.testing.assert_allclose(a.astype(float), b.astype(float), rtol=REL, atol=0, err_msg=c)
        else:
            norm = lambda v: ["" if (isinstance(x, float) and np.isnan(x)) else str(x) for x in v]  # noqa: E731
            assert norm(a) == norm(b), c


@pytest.fixture(scope="module")
def minilm_ref():
    return _fixture("ww_minilm.csv")


def test_minilm_every_column_matches_weightwatcher_svd_route(minilm_ref):
    ref, _ = minilm_ref
    ours = cw.analyze(bundled_model_path(), method="svd")
    _compare(ours, ref)
    np.testing.assert_array_equal(ours.num_pl_spikes, ref.num_pl_spikes)
    np.testing.assert_array_equal(ours.layer_id, ref.layer_id)


def test_minilm_default_gram_route(minilm_ref):
    ref, header = minilm_ref
    ours = cw.analyze(bundled_model_path())
    _compare(ours, ref, skip=("sv_min",))
    np.testing.assert_allclose(ours.sv_min, ref.sv_min, rtol=1e-5)
    summary = json.loads(header[2].split("summary (get_summary): ")[1])
    got = cw.summary(ours)
    assert set(got) == set(summary)
    for k, v in summary.items():
        assert got[k] == pytest.approx(v, rel=REL)


def test_conv_model_matches_weightwatcher():
    ref, _ = _fixture("ww_conv.csv")
    weights = dict(np.load(DATA / "ww_conv.npz"))
    ours = cw.analyze(weights, method="svd")
    _compare(ours, ref)


def test_torch_module_source_equals_mapping_source():
    torch = pytest.importorskip("torch")
    weights = dict(np.load(DATA / "ww_conv.npz"))
    model = torch.nn.Module()
    c1 = torch.nn.Conv2d(12, 24, 3, bias=False)
    c1.weight.data = torch.from_numpy(weights["conv1.weight"])
    c2 = torch.nn.Conv2d(24, 16, 2, bias=False)
    c2.weight.data = torch.from_numpy(weights["conv2.weight"])
    fc = torch.nn.Linear(30, 40, bias=False)
    fc.weight.data = torch.from_numpy(weights["fc.weight"])
    model.add_module("conv1", c1)
    model.add_module("conv2", c2)
    model.add_module("fc", fc)
    a = cw.analyze(model, method="svd")
    b = cw.analyze({k: torch.from_numpy(v) for k, v in weights.items()}, method="svd")
    pd.testing.assert_frame_equal(a, b)


def test_limits_and_describe():
    d = cw.describe(bundled_model_path())
    assert len(d) == 39 and "token_type_embeddings" not in set(d.name)  # 2 × 384: M < min_evals
    assert len(cw.describe(bundled_model_path(), min_evals=None)) == 40
    small = cw.describe(bundled_model_path(), max_evals=383)
    assert len(small) == 0
    capped = cw.describe(bundled_model_path(), max_N=1536)  # drops word_embeddings (N = 30522)
    assert len(capped) == 38 and "word_embeddings" not in set(capped.name)


def test_ww_columns_match_analyze_row(minilm_ref):
    import gsa_fast as g
    from gsa_fast.weights import read_safetensors

    t = read_safetensors(bundled_model_path())
    W = t["encoder.layer.2.intermediate.dense.weight"]
    cols = cw.ww_columns(g.svdvals(W), *W.shape)
    row = cw.analyze({"encoder.layer.2.intermediate.dense.weight": W}).iloc[0]
    assert all(k.startswith("ww_") for k in cols)
    for k, v in cols.items():
        if isinstance(v, str):
            assert v == row[k[3:]]
        else:
            assert v == pytest.approx(row[k[3:]], rel=1e-15), k
    ref, _ = minilm_ref
    r = ref[ref.longname == "encoder.layer.2.intermediate.dense"].iloc[0]
    assert cols["ww_alpha"] == pytest.approx(r.alpha, rel=REL)


def test_log_alpha_norm_of_a_large_alpha_is_finite():
    # Found by tests/test_esd_props.py: a nearly degenerate 2-value spectrum fits α ≈ 2.5e8 (the
    # small-N fallback), and WeightWatcher's np.log10(np.sum(evals**alpha)) underflowed to
    # log10(0) = -inf (above 1 it overflows to +inf with a RuntimeWarning). log10 Σ λ^α is finite:
    # checked against mpmath at 30 digits.
    import warnings

    mpmath = pytest.importorskip("mpmath")
    for sv in ([0.5, 0.5 + 1e-9], [2.0, 2.0 + 1e-9], [1e-2, 1e-2 * (1 + 1e-9), 1e-2 * (1 + 2e-9)]):
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            cols = cw.ww_columns(np.array(sv), 4, len(sv))
        a = cols["ww_alpha"]
        assert np.isfinite(a) and a > 1e6
        with mpmath.workdps(30):
            exact = mpmath.log10(mpmath.fsum(mpmath.mpf(float(s) * float(s)) ** mpmath.mpf(a) for s in sv))
        # α·log10 λ_max carries one rounding of each factor: 4u relative of |α·log10 λ_max|
        assert abs(cols["ww_log_alpha_norm"] - float(exact)) <= 4 * 2.0**-53 * abs(float(exact)) + 1e-12


def test_ww_columns_refuses_an_infinite_norm():
    # every σ ≤ 1e154 has a finite square, but the norm column Σσ² overflowed (a RuntimeWarning
    # and inf): such spectra are outside the domain, as a single σ > 1e154 already was
    with pytest.raises(ValueError, match=r"ww_columns\(\): sigma must be singular values <= 1e154"):
        cw.ww_columns(np.array([1e154, 1e154, 5e153]), 3, 3)
    cols = cw.ww_columns(np.array([1e154, 1e153]), 3, 2)
    assert np.isfinite(cols["ww_norm"])


def test_bad_sources():
    with pytest.raises(TypeError, match=r"analyze\(\): source must be"):
        cw.analyze(42)
    with pytest.raises(ValueError, match=r"analyze\(\): source must be"):
        cw.analyze("model.bin")
    with pytest.raises(ValueError, match="method"):
        cw.analyze({}, method="eig")
    assert len(cw.analyze({})) == 0
    # a layer whose fit fails: NaN alpha, "failed" status and warning, the other columns still there
    W = np.zeros((20, 10))
    W[0, 0] = 1.0
    df = cw.analyze({"x.weight": W})
    assert df.status[0] == "failed" and np.isnan(df.alpha[0]) and df.warning[0].startswith("failed:")
    assert df.norm[0] == 1.0


# ---- gsa-fast ww: the same table without pandas --------------------------------------------

def _run_cli(*args):
    import subprocess
    import sys

    return subprocess.run([sys.executable, "-m", "gsa_fast", "ww", *map(str, args)],
                          capture_output=True, text=True, timeout=300)


def test_cli_ww_csv_is_analyze_bit_for_bit_and_the_fixture(tmp_path, minilm_ref):
    out = tmp_path / "ww.csv"
    code = ("import sys; from gsa_fast.cli import main; rc = main(['ww', '--out', sys.argv[1]]); "
            "assert 'pandas' not in sys.modules, 'pandas imported'; sys.exit(rc)")
    import subprocess
    import sys

    p = subprocess.run([sys.executable, "-c", code, str(out)], capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, p.stderr
    got = pd.read_csv(out, keep_default_na=False, na_values=["nan"])
    ref = cw.analyze(bundled_model_path())  # the DataFrame route, same Gram method
    assert list(got.columns) == list(cw.COLUMNS) and len(got) == len(ref)
    for c in ref.columns:  # repr of every float: the CSV round-trips float64 exactly
        if ref[c].dtype.kind == "f":
            np.testing.assert_array_equal(got[c].to_numpy(float), ref[c].to_numpy(float), err_msg=c)
        else:
            assert [str(x) for x in got[c]] == [str(x) for x in ref[c]], c
    fixture, _ = minilm_ref  # and WeightWatcher's own table, as analyze() is tested above
    _compare(got, fixture, skip=("sv_min",))


def test_cli_ww_json_matches_records(tmp_path):
    p = _run_cli("--format", "json", "--method", "svd", "--threads", "1")
    assert p.returncode == 0, p.stderr
    rows = json.loads(p.stdout)
    ref = cw.records(bundled_model_path(), method="svd", threads=1)
    assert rows == ref  # ints, floats, bools and strings as Python values, exactly
    assert all(type(v) in (int, float, bool, str) for r in ref for v in r.values())


def test_cli_ww_bad_inputs(tmp_path):
    p = _run_cli(tmp_path / "missing.safetensors")
    assert p.returncode == 2 and p.stderr.startswith("gsa-fast ww: error:") and p.stderr.count("\n") == 1
    p = _run_cli(tmp_path / "weights.npz")
    assert p.returncode == 2 and "source must be a .safetensors path" in p.stderr
    p = _run_cli("--max-evals", "-1")
    assert p.returncode == 2 and "max-evals" in p.stderr and "must be an integer >= 0" in p.stderr
