"""The user pages say what the code does: their examples run, and the names they list (scan()'s
signature, the scan's columns, the command line's options) are the code's. Cheap (a few seconds,
no network, no Ray, no GPU); the README's API tour is tests/test_readme.py, the kernel pages
tests/test_docs_kernels.py."""
from __future__ import annotations

import inspect
import pathlib
import re

import numpy as np
import pytest

import gsa_fast as g
from scan_helpers import write_safetensors

pytest.importorskip("pandas")
DOCS = pathlib.Path(__file__).resolve().parents[1] / "docs"


def _page(name):
    return (DOCS / name).read_text()


def test_scan_page_example_runs(tmp_path, monkeypatch, rng):
    # the placeholder paths of docs/scan.md's example, made real in a scratch directory
    w = {"model.layers.3.mlp.up_proj.weight": rng.standard_normal((24, 16)).astype(np.float32),
         "model.layers.3.mlp.up_proj.bias": np.zeros(24, np.float32)}
    for d in ("path/to/model", "run/step-1000", "run/step-2000", "big-model"):
        (tmp_path / d).mkdir(parents=True)
        write_safetensors(tmp_path / d / "model.safetensors", w)
    monkeypatch.chdir(tmp_path)
    code = re.search(r"```python\n(.*?)```", _page("scan.md"), re.S).group(1)
    ns = {"numpy_or_torch_array": rng.standard_normal((8, 6))}
    exec(compile(code, "docs/scan.md", "exec"), ns)
    res = ns["res"]
    assert res.info["skipped"] == {"1-D or scalar tensor": 1}
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [
        "esd.png", "layers.parquet", "profile.png", "scan.json", "spectra.npz"]  # as the comment says
    assert (tmp_path / "scan" / "parts" / "plan.json").exists()


def test_scan_page_signature_is_scans():
    text = " ".join(_page("scan.md").split())
    shown = re.search(r"Signature: `scan(\(.*?\)) -> ScanResult`", text).group(1)
    assert shown == str(inspect.signature(g.scan)).split(" -> ")[0].replace("'", '"')


def _documented_columns():
    text = _page("columns.md")
    names = re.findall(r"^\| `([a-z_0-9]+)` \|", text, re.M)  # first cell of each table row
    ww = re.search(r"Every name carries the prefix `ww_`:\n(.*?)\n\n", text, re.S).group(1)
    return names, re.findall(r"`(ww_[A-Za-z_]+)`", ww)


def test_columns_page_lists_every_column(rng):
    names, ww = _documented_columns()
    charts = [n[len("alpha_"):] for n in names if n.startswith("alpha_")]
    assert charts == ["top", "bures", "lsq"]
    expected = set(names) | {f"{k}_{c}" for c in charts for k in ("residual", "chart_error")}
    expected -= {"r_<ε>", "r_<ε>_model"}
    expected |= {c for e in (0.1, 0.01) for c in (f"r_{e:g}", f"r_{e:g}_model")}  # the `:g` names
    res = g.scan({"w": rng.standard_normal((12, 8))}, ww=True)
    assert set(res.layers.columns) == expected | set(ww)


def test_cli_page_lists_every_scan_option():
    from gsa_fast.cli import build_parser

    sub = build_parser()._subparsers._group_actions[0].choices["scan"]  # noqa: SLF001
    flags = {o for a in sub._actions for o in a.option_strings} - {"-h", "--help"}  # noqa: SLF001
    table = re.findall(r"^\| (`.*?) \|", _page("cli.md"), re.M)
    documented = {f for row in table for f in re.findall(r"`(--[a-z-]+)", row)}
    assert documented == flags
