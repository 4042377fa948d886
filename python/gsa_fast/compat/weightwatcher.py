"""WeightWatcher's per-layer table from gsa_fast: ``analyze()``, ``describe()``, ``summary()``.

Same column names, meanings and defaults as ``weightwatcher.WeightWatcher(model).analyze()``
version 0.7.7 (CPU, default options), computed from gsa_fast's batched spectra
(:func:`gsa_fast.svdvals`) and its exact ESD fit (:func:`gsa_fast.esd_powerlaw_fit`). See
docs/backend.md for the column list and docs/esd.md for the fit.

pandas is imported only when a table is built; torch only when a ``torch.nn.Module`` or tensors
are passed.
"""
from __future__ import annotations

import math
import os
from pathlib import Path
from typing import Mapping

import numpy as np

from .. import _interop
from .._prefetch import prefetch
from .._esd_common import parse_options
from .._ragged import RaggedSpectra
from .._validate import as_int, as_real_array, as_threads, type_error, value_error
from .._validate import describe as _describe
from ..esd import esd_powerlaw_fit
from ..spectra import svdvals

__all__ = ["analyze", "records", "describe", "summary", "ww_columns", "COLUMNS", "SUMMARY_METRICS"]

# WeightWatcher 0.7.7 constants (weightwatcher/constants.py).
DEFAULT_MIN_EVALS = 8
DEFAULT_MAX_EVALS = 15000
DEFAULT_MAX_N = 50000
EVALS_THRESH = 1e-5
WEAK_RANK_LOSS_TOLERANCE = 1e-6
EPSILON = 1e-10

#: Columns of :func:`analyze`, in WeightWatcher's order (layer_id and name first, then sorted).
COLUMNS = ("layer_id", "name", "D", "M", "N", "Q", "alpha", "alpha_weighted", "entropy", "has_esd",
           "lambda_max", "layer_type", "log_alpha_norm", "log_norm", "log_spectral_norm", "longname",
           "matrix_rank", "norm", "num_evals", "num_pl_spikes", "rank_loss", "rf", "sigma", "spectral_norm",
           "stable_rank", "status", "sv_max", "sv_min", "warning", "weak_rank_loss", "xmax", "xmin")

#: Columns WeightWatcher's ``get_summary()`` averages (those present).
SUMMARY_METRICS = ("log_norm", "alpha", "alpha_weighted", "log_alpha_norm", "log_spectral_norm",
                   "stable_rank", "mp_softrank")

_EPS64 = float(np.finfo(np.float64).eps)


# ------------------------------------------------------------------------------------------------
# layers of a source


class _Layer:
    __slots__ = ("layer_id", "longname", "layer_type", "weight")

    def __init__(self, layer_id, longname, layer_type, weight):
        self.layer_id, self.longname, self.layer_type, self.weight = layer_id, longname, layer_type, weight

    @property
    def name(self):
        return self.longname.split(".")[-1]


def _torch_type(module) -> str | None:
    """WeightWatcher's PyTorchLayer.layer_type rule (class first, then the type's name)."""
    import torch

    typestr = str(type(module)).lower()
    if isinstance(module, torch.nn.Linear) or "linear" in typestr:
        return "dense"
    if isinstance(module, torch.nn.Conv1d) or "conv1d" in typestr:
        return "conv1d"
    if isinstance(module, torch.nn.Conv2d) or "conv2d" in typestr:
        return "conv2d"
    if isinstance(module, torch.nn.Embedding) or "embedding" in typestr:
        return "embedding"
    return None


def _layers_from_module(model, fn="analyze"):
    out = []
    for layer_id, (longname, module) in enumerate(model.named_modules()):
        kind = _torch_type(module)
        w = getattr(module, "weight", None)
        if kind is None or w is None:
            continue
        out.append(_Layer(layer_id, longname, kind, _interop.as_numpy(w, fn, "source")))
    return out


def _is_float(a) -> bool:
    dt = getattr(a, "dtype", None)
    if dt is None:
        return False
    if isinstance(dt, np.dtype):  # numpy's str(dtype) is slow Python code: once per tensor adds up
        return dt.kind == "f" or dt.name == "bfloat16"
    s = str(dt)
    return "float" in s or s == "bfloat16"


def _mapping_type(module: str, a) -> str | None:
    """Layer kind from the tensor's rank; a 2-D module whose last name part contains "embed" is an
    embedding (WeightWatcher reports embeddings and dense layers alike, but names the type)."""
    if a.ndim == 4:
        return "conv2d"
    if a.ndim == 3:
        return "conv1d"
    if a.ndim == 2:
        return "embedding" if "embed" in module.split(".")[-1].lower() else "dense"
    return None


def _layers_from_mapping(tensors: Mapping, fn="analyze"):
    """Layers of a name → array mapping, numbered as WeightWatcher numbers the torch model whose
    modules nest as the dotted names do, created in sorted-name order (``x.weight`` is module
    ``x``; another floating tensor of >= 2 dimensions is a module of its own; biases and 1-D or 0-D
    buffers make no module): the pre-order index in that module tree."""
    paths = {}
    for name in sorted(tensors):
        if name.endswith(".weight"):
            paths.setdefault(name[: -len(".weight")], name)
        elif _is_float(tensors[name]) and np.ndim(tensors[name]) >= 2 and not name.endswith(".bias"):
            paths.setdefault(name, name)  # a bare matrix (npz-style names): a module of its own
    # pre-order numbering of the trie of module paths (root = 0), children in insertion order
    trie: dict = {}
    for mod in paths:
        node = trie
        for part in mod.split("."):
            node = node.setdefault(part, {})
    ids = {}
    counter = [0]

    def walk(node, prefix):
        for part, child in node.items():
            counter[0] += 1
            full = f"{prefix}.{part}" if prefix else part
            ids[full] = counter[0]
            walk(child, full)

    walk(trie, "")
    out = []
    for mod, name in paths.items():
        a = _interop.as_numpy(tensors[name], fn, f"source[{name!r}]")
        if not hasattr(a, "ndim"):
            a = np.asarray(a)
        kind = _mapping_type(mod, a)
        if kind is None or not (a.dtype.kind == "f" or a.dtype.name == "bfloat16"):
            continue
        out.append(_Layer(ids[mod], mod, kind, a))
    out.sort(key=lambda L: L.layer_id)
    return out


def _layers(source, fn="analyze"):
    if isinstance(source, (str, os.PathLike)):
        from ..weights import read_safetensors

        p = Path(source)
        if p.suffix != ".safetensors":
            raise value_error(fn, "source", "a .safetensors path, a mapping name -> array or a "
                              "torch.nn.Module", repr(str(source)))
        return _layers_from_mapping(read_safetensors(p), fn)
    if isinstance(source, Mapping):
        return _layers_from_mapping(source, fn)
    if type(source).__module__.split(".")[0] == "torch" or hasattr(source, "named_modules"):
        return _layers_from_module(source, fn)
    raise type_error(fn, "source", "a .safetensors path, a mapping name -> array or a torch.nn.Module",
                     source)


def _shape_info(L: _Layer):
    """(Wmats, N, M, rf, scale): the matrices WeightWatcher takes from the layer (its pool=True
    default: conv kernels as kh·kw slices, combined into one ESD), and its conv2d_norm factor."""
    a = L.weight
    if L.layer_type == "conv2d":
        # WeightWatcher's conv2D_Wmats, including its bookkeeping: (N, M) start as the channel
        # dimensions and swap once for every slice it transposes (so kh·kw even slices of a wide
        # kernel keep N < M), rf = the number of slices.
        o, i, kh, kw = a.shape
        if o + i >= kh + kw:  # channels "last" in its terms: W[:, :, p, q] slices
            N, M = o, i
            mats = [a[:, :, p, q] for p in range(kh) for q in range(kw)]
            wide = lambda m: m.shape[0] < m.shape[1]  # noqa: E731
        else:
            N, M = kw, kh
            mats = [a[p, q, :, :] for p in range(o) for q in range(i)]
            wide = lambda m: m.shape[1] < m.shape[0]  # noqa: E731
        out = []
        for m in mats:
            if wide(m):
                N, M = M, N
                m = m.T
            out.append(np.ascontiguousarray(m))
        return out, N, M, len(out), math.sqrt(1 / 2.0)
    if L.layer_type in ("dense", "embedding"):
        return [a], max(a.shape), min(a.shape), 1, 1.0
    return None  # conv1d: WeightWatcher 0.7.7 hands the 3-D kernel to its SVD and fails; skipped


def _selected(layers, min_evals, max_evals, max_N):
    keep = []
    for L in layers:
        info = _shape_info(L)
        if info is None:
            continue
        _, N, M, rf, _ = info
        if min_evals and M * rf < min_evals:
            continue
        if max_evals and M * rf > max_evals:
            continue
        if max_N and N > max_N:
            continue
        keep.append((L, info))
    return keep


# ------------------------------------------------------------------------------------------------
# columns


def _log_alpha_norm(evals, alpha):
    """log10 Σ λ^α (ascending λ ≥ 0): WeightWatcher's ``np.log10(np.sum(evals**alpha))`` wherever
    that sum is a normal float; where it overflows to inf or underflows to 0/subnormal (a large α,
    e.g. from a nearly degenerate small spectrum) the same value through the largest eigenvalue,
    α·log10 λ_max + log10 Σ (λ/λ_max)^α (that sum is in [1, n]), instead of ±inf and a warning."""
    if not np.isfinite(alpha):
        return float("nan")
    with np.errstate(over="ignore", under="ignore"):
        total = float(np.sum(evals ** alpha))
    if np.isfinite(total) and total >= np.finfo(np.float64).tiny:
        return math.log10(total)
    lmax = float(evals[-1])
    if not lmax > 0:  # a zero layer: log10(0), as WeightWatcher
        return float("-inf")
    with np.errstate(under="ignore"):
        rest = float(np.sum((evals / lmax) ** alpha))
    return alpha * math.log10(lmax) + math.log10(rest)


def _norm_columns(evals, N, alpha):
    """WeightWatcher's apply_norm_metrics on ascending eigenvalues (alpha may be NaN)."""
    norm = float(np.sum(evals))
    spectral_norm = float(evals[-1])
    log_spectral_norm = math.log10(spectral_norm) if spectral_norm > 0 else float("-inf")
    sv = np.sqrt(evals)
    tol = float(sv[-1]) * N * _EPS64
    rank = int(np.count_nonzero(sv > tol))
    s2 = sv * sv
    with np.errstate(divide="ignore", invalid="ignore"):  # a zero layer: NaN, as numpy gives WeightWatcher
        p = s2 / np.sum(s2) + EPSILON
        entropy = float(-np.sum(p * np.log(p)) / np.log(rank + EPSILON))
        log_alpha_norm = _log_alpha_norm(evals, alpha)
        log_norm = math.log10(norm) if norm > 0 else float("-inf")
    return {
        "norm": norm, "log_norm": log_norm, "spectral_norm": spectral_norm,
        "log_spectral_norm": log_spectral_norm, "alpha_weighted": alpha * log_spectral_norm,
        "log_alpha_norm": log_alpha_norm, "stable_rank": norm / spectral_norm if spectral_norm > 0 else float("nan"), "matrix_rank": rank,
        "entropy": entropy,
    }


def _esd_columns(evals_list, N_list, svs_list, fits, k):
    evals, N, svs = evals_list[k], N_list[k], svs_list[k]
    alpha = float(fits.alpha[k])
    ok = np.isfinite(alpha)
    row = {
        "num_evals": int(evals.size),
        "sv_max": float(max(s.max() for s in svs)),
        "sv_min": float(max(0.0, max(s.min() for s in svs))),
        "rank_loss": int(sum(s.size - np.count_nonzero(s > s.max() * N * _EPS64) for s in svs)),
        "weak_rank_loss": int(np.count_nonzero(evals < WEAK_RANK_LOSS_TOLERANCE)),
        "lambda_max": float(evals[-1]),
        "alpha": alpha, "xmin": float(fits.xmin[k]), "xmax": float(fits.xmax[k]), "D": float(fits.D[k]),
        "sigma": float(fits.sigma[k]), "num_pl_spikes": int(fits.num_pl_spikes[k]),
        "status": "success" if ok else "failed", "warning": str(fits.warning[k]),
    }
    row.update(_norm_columns(evals, N, alpha))
    return row


def _evals_of(svs, scale):
    sv = np.concatenate(svs) if len(svs) > 1 else svs[0]
    if scale != 1.0:
        sv = sv * scale
    return np.sort(sv * sv)


def ww_columns(sigma, N, M, *, prefix="ww_", xmax=None):
    """WeightWatcher's per-layer columns from one layer's singular values (the scan's row hook).

    ``sigma``: the singular values of an ``N × M`` layer matrix (any order; ``N``/``M`` its
    larger/smaller side, used by ``matrix_rank``/``entropy``). Returns a dict of the :func:`analyze`
    columns that depend on the spectrum (``alpha``, ``alpha_weighted``, ``log_alpha_norm``, ``D``,
    ``xmin``, ``xmax``, ``num_pl_spikes``, ``sigma``, ``lambda_max``, ``spectral_norm``,
    ``log_spectral_norm``, ``norm``, ``log_norm``, ``stable_rank``, ``matrix_rank``, ``entropy``,
    ``sv_max``, ``sv_min``, ``rank_loss``, ``weak_rank_loss``, ``num_evals``, ``warning``), each
    name prefixed with ``prefix`` (default ``"ww_"``, so that WeightWatcher's ESD ``alpha`` never
    reads as the scan's chart exponents ``alpha_top``/``alpha_bures``/``alpha_lsq``).
    """
    fn = "ww_columns"
    s = as_real_array(_interop.as_numpy(sigma, fn, "sigma"), fn, "sigma", lo=0.0).reshape(-1)
    if s.size == 0:
        raise value_error(fn, "sigma", "a non-empty spectrum", "0 values")
    smax = float(s.max())
    # the eigenvalues σ² and their sum ‖W‖_F² (the norm column) must be finite: σ ≤ 1e154 < sqrt(max
    # float64), and the sum through σ_max (Python floats: no overflow warning, inf compares)
    if smax > 1e154 or (smax > 0 and smax * smax * float(np.sum((s / smax) ** 2)) > np.finfo(np.float64).max):
        raise value_error(fn, "sigma", "singular values <= 1e154 whose squares (the eigenvalues) have a finite sum",
                          repr(smax))
    N = max(as_int(N, fn, "N", minimum=1), as_int(M, fn, "M", minimum=1))
    if not isinstance(prefix, str):
        raise type_error(fn, "prefix", "a str", prefix)
    _check_xmax(fn, xmax)
    evals = _evals_of([s], 1.0)
    fits = esd_powerlaw_fit(RaggedSpectra(evals, np.array([0, evals.size], dtype=np.int64)),
                            xmax=xmax, evals_thresh=EVALS_THRESH)
    row = _esd_columns([evals], [N], [[s]], fits, 0)
    row.pop("status")
    return {prefix + k: v for k, v in row.items()}


# ------------------------------------------------------------------------------------------------
# public API


def describe(source, *, min_evals=DEFAULT_MIN_EVALS, max_evals=DEFAULT_MAX_EVALS, max_N=DEFAULT_MAX_N):
    """The layers :func:`analyze` would fit, without computing anything (WeightWatcher's
    ``describe()``): DataFrame with ``layer_id``, ``name``, ``longname``, ``layer_type``, ``N``,
    ``M``, ``Q``, ``rf``, ``num_evals``."""
    import pandas as pd

    rows = []
    for L, (_, N, M, rf, _) in _selected(_layers(source, "describe"), *_limits("describe", min_evals, max_evals, max_N)):
        rows.append({"layer_id": L.layer_id, "name": L.name, "longname": L.longname,
                     "layer_type": L.layer_type, "N": N, "M": M, "Q": N / M, "rf": rf, "num_evals": M * rf})
    return pd.DataFrame(rows, columns=["layer_id", "name", "longname", "layer_type", "N", "M", "Q", "rf",
                                       "num_evals"])


def analyze(source, *, min_evals=DEFAULT_MIN_EVALS, max_evals=DEFAULT_MAX_EVALS, max_N=DEFAULT_MAX_N,
            xmax=None, method="gram", threads=None):
    """WeightWatcher's ``analyze()`` table (version 0.7.7, default options), computed by gsa_fast.

    Parameters
    ----------
    source : str or Path of a ``.safetensors`` file, a mapping ``name -> array`` (numpy, torch or
        any array library), or a ``torch.nn.Module``.
    min_evals, max_evals, max_N : int or None
        WeightWatcher's layer-size limits (defaults 8, 15000, 50000): a layer is fitted when
        ``min_evals <= M·rf <= max_evals`` and ``N <= max_N``. They exist for its speed; ``None``
        lifts a limit.
    xmax : None, int or "force"
        WeightWatcher's ``xmax`` option (see :func:`gsa_fast.esd_powerlaw_fit`).
    method : {"gram", "svd"}
        Route of :func:`gsa_fast.svdvals` (``"svd"`` for float64-accurate tiny singular values;
        the Gram route agrees with WeightWatcher's float64 SVD to ~1e-11 relative on MiniLM).
    threads : int, optional
        Worker cap for the spectra and the fits.

    Returns
    -------
    pandas.DataFrame with :data:`COLUMNS`, one row per fitted layer in ``layer_id`` order. A
    layer whose fit fails has ``status = "failed"``, NaN ``alpha`` (and the columns derived from
    it) and a ``warning`` that starts with ``"failed:"``.
    """
    _check_xmax("analyze", xmax)
    as_threads(threads, "analyze")
    sel = _selection(source, min_evals, max_evals, max_N, method, "analyze")
    # pandas (~0.2 s to import in a fresh process) is imported on a second thread while the
    # spectra and the fits run in C++ with the GIL released; joined (and any error re-raised)
    # before the frame is built, and on every exit path (docs/backend.md, whole-process cost)
    pandas = prefetch("pandas")
    try:
        rows = _table_rows(sel, xmax, method, threads) if sel else []
    except BaseException:
        pandas.join()  # no thread left behind; the table's own error is the one raised
        raise
    return pandas.result().DataFrame(rows, columns=list(COLUMNS))


def records(source, *, min_evals=DEFAULT_MIN_EVALS, max_evals=DEFAULT_MAX_EVALS, max_N=DEFAULT_MAX_N,
            xmax=None, method="gram", threads=None):
    """The rows of :func:`analyze` without pandas: a list of dicts keyed by :data:`COLUMNS`, one
    per fitted layer in ``layer_id`` order, with Python ``int``/``float``/``bool``/``str`` values.

    The same computation and arguments as :func:`analyze`; for callers that do not want a
    DataFrame (``gsa-fast ww`` writes these rows as CSV or JSON: a whole process that needs
    neither pandas' import, ~0.2 s, nor its teardown at exit).
    """
    _check_xmax("records", xmax)
    as_threads(threads, "records")
    sel = _selection(source, min_evals, max_evals, max_N, method, "records")
    rows = _table_rows(sel, xmax, method, threads) if sel else []
    return [{c: (row[c].item() if isinstance(row[c], np.generic) else row[c]) for c in COLUMNS}
            for row in rows]


def _limits(fn, min_evals, max_evals, max_N):
    """WeightWatcher's layer filters: None (or 0, as in WeightWatcher) turns one off."""
    return tuple(None if v is None else as_int(v, fn, name, minimum=0)
                 for name, v in (("min_evals", min_evals), ("max_evals", max_evals), ("max_N", max_N)))


def _check_xmax(fn, xmax):
    """xmax's checks (esd_powerlaw_fit's own, one value for every layer as in WeightWatcher) under
    the caller's name, before any layer is read."""
    try:
        scalar = isinstance(xmax, str) or np.ndim(xmax) == 0
    except ValueError:  # a ragged list
        scalar = False
    if not scalar:
        raise value_error(fn, "xmax", 'None, an int, a float or "force" (one value for every layer)',
                          _describe(xmax))
    parse_options(fn, 1, None, xmax, EVALS_THRESH)


def _selection(source, min_evals, max_evals, max_N, method, fn):
    if not isinstance(method, str):
        raise type_error(fn, "method", 'a str, "gram" or "svd"', method)
    if method not in ("gram", "svd"):
        raise value_error(fn, "method", '"gram" or "svd"', repr(method))
    return _selected(_layers(source, fn), *_limits(fn, min_evals, max_evals, max_N))


def _table_rows(sel, xmax, method, threads):
    """The rows of :func:`analyze` for the selected layers (numpy and the C++ kernels only)."""
    mats, owner = [], []
    for k, (_, (ms, *_rest)) in enumerate(sel):
        mats.extend(ms)
        owner.extend([k] * len(ms))
    S = svdvals(mats, method=method, threads=threads)
    per = [[] for _ in sel]
    for j, k in enumerate(owner):
        per[k].append(S[j])
    evals_list, N_list, svs_list = [], [], []
    for k, (L, (_, N, M, rf, scale)) in enumerate(sel):
        svs = [s * scale for s in per[k]] if scale != 1.0 else per[k]
        svs_list.append(svs)
        evals_list.append(_evals_of(per[k], scale))
        N_list.append(N)
    fits = esd_powerlaw_fit(RaggedSpectra.from_list(evals_list), xmax=xmax, evals_thresh=EVALS_THRESH,
                            threads=threads)
    rows = []
    for k, (L, (_, N, M, rf, _)) in enumerate(sel):
        row = {"layer_id": L.layer_id, "name": L.name, "M": M, "N": N, "Q": N / M, "has_esd": True,
               "layer_type": L.layer_type, "longname": L.longname, "rf": rf}
        row.update(_esd_columns(evals_list, N_list, svs_list, fits, k))
        rows.append(row)
    return rows


def summary(details):
    """WeightWatcher's ``get_summary()``: the mean of each of :data:`SUMMARY_METRICS` present."""
    if not (hasattr(details, "columns") and hasattr(details, "mean")):
        raise type_error("summary", "details", "the DataFrame of analyze()", details)
    return {m: float(details[m].mean()) for m in SUMMARY_METRICS if m in details.columns}
