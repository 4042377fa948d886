"""The user pages in docs/ say what the code does: their examples run and their signatures exist.

Cheap checks only (a few seconds, no network, no GPU): the Python examples of docs/backend.md and
docs/esd.md run on the bundled MiniLM checkpoint, and every signature that docs/backend.md,
docs/depth.md and docs/margins.md print names real parameters with the printed defaults (depth's
table and margins' headings print the whole signature, so a parameter missing there fails too).
The long worked examples (docs/depth_example.py, examples/minilm_margins.py) are not run here.
"""
from __future__ import annotations

import ast
import importlib
import inspect
import pathlib
import re

import numpy as np
import pytest

import gsa_fast as g

DOCS = pathlib.Path(__file__).resolve().parents[1] / "docs"


def _blocks(page):
    return re.findall(r"```python\n(.*?)```", (DOCS / page).read_text(), re.S)


@pytest.fixture(scope="module")
def minilm():
    pytest.importorskip("safetensors")
    from gsa_fast.weights import bundled_model_path, read_safetensors

    path = bundled_model_path()
    return path, {k: v for k, v in read_safetensors(path).items() if v.ndim == 2 and v.dtype.kind == "f"}


def test_backend_alphapruning_example_runs(minilm):
    pytest.importorskip("pandas")
    path, _ = minilm
    code = _blocks("backend.md")[0]
    assert '"model.safetensors"' in code
    ns: dict = {}
    exec(compile(code.replace('"model.safetensors"', repr(str(path))), "backend.md", "exec"), ns)
    df, prune, ratio = ns["df"], ns["prune"], ns["ratio"]
    assert len(df) == 39 and len(prune) == 39  # MiniLM's fitted layers (docs/backend.md, docs/esd.md)
    # the shift keeps the parameter-weighted mean at S before the clip (to rounding)
    assert abs(np.average(ratio, weights=df["N"] * df["M"]) - 0.7) < 1e-12
    assert all(0.0 <= v <= 0.99 for v in prune.values())


def test_backend_learning_rate_example_runs(minilm):
    _, weights = minilm
    ns: dict = {}
    exec(compile(_blocks("backend.md")[1], "backend.md", "exec"), ns)
    lrs = ns["layer_lrs"](weights, 1e-3)
    assert list(lrs) == list(weights)
    v = np.array(list(lrs.values()))
    assert v.min() == pytest.approx(0.5e-3, rel=1e-12) and v.max() == pytest.approx(1.5e-3, rel=1e-12)


def test_esd_page_example_runs(minilm):
    _, weights = minilm
    ns: dict = {"layer_matrices": list(weights.values())}
    exec(compile(_blocks("esd.md")[0], "esd.md", "exec"), ns)
    fit = ns["fit"]
    assert isinstance(ns["S"], g.RaggedSpectra) and fit.alpha.shape == (len(weights),)
    # the 2 × 384 token-type embedding: the small-N fallback's sigma = −1/√2 (docs/esd.md, step 3)
    k = [i for i, w in enumerate(weights.values()) if w.shape[0] == 2]
    assert len(k) == 1 and fit.sigma[k[0]] == pytest.approx(-1 / np.sqrt(2), rel=1e-15)
    assert fit.alpha[k[0]] == pytest.approx(1.28, abs=0.005)


# ---- signatures printed on the pages -------------------------------------------------------------

_SIG = re.compile(r"`((?:gsa_fast\.)?[A-Za-z_][\w.]*)\(([^`]*)\)`")


def _split_args(text):
    out, depth, cur = [], 0, ""
    for ch in text:
        if ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth -= 1
        if ch == "," and depth == 0:
            out.append(cur.strip())
            cur = ""
        else:
            cur += ch
    if cur.strip():
        out.append(cur.strip())
    return out


def _resolve(name):
    parts = name.split(".")
    if parts[0] == "gsa_fast":
        parts = parts[1:]
    obj, mod = g, "gsa_fast"
    for p in parts:
        if hasattr(obj, p):
            obj = getattr(obj, p)
        else:
            obj = importlib.import_module(f"{mod}.{p}")
        mod = f"{mod}.{p}"
    return obj


def _signatures(page, pattern, complete):
    found = []
    for line in (DOCS / page).read_text().splitlines():
        if not re.match(pattern, line):
            continue
        cell = re.match(r"^\|((?:[^|\\]|\\.)*)\|", line)  # a table row: its first cell only
        for name, args in _SIG.findall(cell.group(1) if cell else line):
            found.append((page, name, args, complete))
    return found


_PAGES = (_signatures("backend.md", r"\| `gsa_fast\.", complete=False)
          + _signatures("depth.md", r"\| `\w+\(", complete=True)
          + _signatures("margins.md", r"## `\w+\(", complete=True)
          + _signatures("margins.md", r"`gsa_fast\.margins\.\w+\(", complete=True))


def test_the_pages_print_signatures():
    assert len(_PAGES) >= 30, _PAGES  # the patterns above still find the tables and headings


@pytest.mark.parametrize("page,name,args,complete", _PAGES, ids=[f"{p}:{n}" for p, n, _, _ in _PAGES])
def test_printed_signature_matches_the_code(page, name, args, complete):
    params = inspect.signature(_resolve(name)).parameters
    listed, keyword = set(), False
    for a in _split_args(args):
        if a in ("...", ""):
            continue
        if a == "*":
            keyword = True
            continue
        key, _, default = a.partition("=")
        key = key.strip()
        listed.add(key)
        if default or keyword:  # a keyword the page names must exist (positional names may differ)
            assert key in params, f"{page}: {name}() has no parameter {key!r}"
        if default:
            text = default.split("\\|")[0].strip()  # `method="gram"\|"svd"`: the first is the default
            assert params[key].default == ast.literal_eval(text), f"{page}: {name}({key}=...) default"
    if complete:
        assert listed <= set(params), f"{page}: {name}() lists {sorted(listed - set(params))}"
        missing = [p for p, v in params.items() if v.default is not inspect.Parameter.empty and p not in listed]
        assert not missing, f"{page}: {name}() signature leaves out {missing}"
