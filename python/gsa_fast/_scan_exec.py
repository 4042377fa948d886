"""Scan, part 2 of 3: execute one work unit — read its tensors, solve, diagnose.

``execute(unit, options) -> (rows, spectra)`` is pure: it reads the unit's own tensors from the
path the unit names (``load_unit``), computes their spectra in one batched :func:`gsa_fast.svdvals`
call and the per-layer diagnostics (``compute_unit``), and returns plain dicts and float64 arrays —
never the weights. The local executor calls ``load_unit`` for the next unit on a reader thread
while ``compute_unit`` solves the current one; a distributed executor calls ``execute``.

Per-row columns come from :func:`diagnose` (the batched GSA diagnostics) followed by every
provider in :data:`COLUMN_PROVIDERS`: ``provider(name, sigma) -> dict`` of extra columns
(``sigma``: the layer's float64 singular values, descending). With ``ScanOptions.ww`` the
WeightWatcher columns (:func:`ww_row_columns`, prefix ``ww_``) are added to every "ok" row in the
same call, so every executor (local, Ray) and ``resume`` carry them.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ._scan_plan import WorkUnit, _matrix_shape, dtype_name, parse_name, shape_str
from .weights import load_tensors

__all__ = ["ScanOptions", "COLUMN_PROVIDERS", "load_unit", "prefetch_unit", "compute_unit", "execute", "diagnose",
           "column_names", "ww_row_columns"]

#: Extra per-row columns: callables ``(name, sigma) -> dict``; run for every row with status "ok".
COLUMN_PROVIDERS: list = []

_CHARTS = ("top", "bures", "lsq")


@dataclass(frozen=True)
class ScanOptions:
    eps: tuple = (0.1, 0.01)
    method: str = "gram"
    device: str = "cpu"
    threads: object = None
    interval: tuple = (0.0, 5.0)
    mmap_over: int = -1           # tensors larger than this are memory-mapped, not read (-1: never)
    name_parser: object = parse_name
    ww: bool = False              # add WeightWatcher's ESD columns (ww_alpha, ww_D, ...) to ok rows


def column_names(eps) -> list:
    """Every column of ScanResult.layers, in order (before provider columns)."""
    cols = ["checkpoint", "file", "name", "role", "block", "shape", "dtype", "status", "q_plus",
            "sigma_1", "frobenius", "stable_rank", "entropy", "m"]
    for c in _CHARTS:
        cols += [f"alpha_{c}", f"residual_{c}", f"chart_error_{c}"]
    for e in eps:
        cols += [f"r_{e:g}", f"r_{e:g}_model"]
    cols.append("tail_residual")
    return cols


def prefetch_unit(unit: WorkUnit, options: ScanOptions, memory=None) -> dict:
    """``load_unit`` plus a pass that touches every page of the memory-mapped tensors, so that the
    file is read (into the page cache) here, on the reader thread, not while the kernel solves."""
    arrays = load_unit(unit, options, memory)
    for a in arrays.values():
        if isinstance(a, np.memmap) and a.size:
            flat = np.frombuffer(a, dtype=np.uint8) if a.flags.c_contiguous else None
            if flat is not None:
                int(flat[::4096].sum())  # one byte per page
    return arrays


def load_unit(unit: WorkUnit, options: ScanOptions, memory=None) -> dict:
    """The unit's tensors as numpy arrays (read into fresh buffers; larger than
    ``options.mmap_over`` bytes: memory-mapped). Tensors listed in ``unit.status`` are not read.
    ``memory``: {unit.file: mapping} for in-memory sources (files are read from their path)."""
    refs = [r for r in unit.refs if r.name not in unit.status]
    mapping = None if memory is None else memory.get(unit.file)  # in-memory sources: label -> mapping
    return load_tensors(refs, mmap_over=options.mmap_over, memory=mapping)


def _status_of(exc: Exception) -> str:
    msg = str(exc)
    if "NaN" in msg or "Inf" in msg or "finite" in msg:
        return "NaN/Inf"
    if msg.startswith("unsupported dtype"):
        return msg.split(" (")[0]
    return f"failed: {exc.__class__.__name__}: {msg.splitlines()[0] if msg else ''}"


def _svdvals(mats, options):
    raw = [i for i, a in enumerate(mats) if a.dtype == np.uint16]  # bf16 bits (no ml_dtypes)
    if raw and len(raw) < len(mats):  # svdvals' dtype="bfloat16" flags the whole list: split it
        rest = [i for i in range(len(mats)) if i not in set(raw)]
        out = [None] * len(mats)
        for idx in (raw, rest):
            for i, s in zip(idx, _svdvals([mats[i] for i in idx], options)):
                out[i] = s
        return out
    return _svdvals_one_kind(mats, options, {"dtype": "bfloat16"} if raw else {})


def _svdvals_one_kind(mats, options, kw):
    import gsa_fast as g

    if options.device == "cuda":  # checked by scan() before any work starts
        from ._gpu_scan import svdvals_on_device

        return svdvals_on_device(mats, options.method, kw)
    s = g.svdvals(mats, method=options.method, threads=options.threads, **kw)
    return [np.array(s[i]) for i in range(len(mats))]  # own arrays: the spectra outlive the batch


def _solve(mats, options):
    """Spectra of a list of matrices; a matrix that fails gets its status instead of stopping the rest."""
    if not mats:
        return [], []
    try:
        return _svdvals(mats, options), ["ok"] * len(mats)
    except (ValueError, RuntimeError, TypeError):
        spectra, status = [], []
        for a in mats:  # find which ones failed, one at a time (rare path)
            try:
                spectra.append(_svdvals([a], options)[0])
                status.append("ok")
            except (ValueError, RuntimeError, TypeError) as exc:
                spectra.append(None)
                status.append(_status_of(exc))
        return spectra, status


def diagnose(spectra: list, eps, interval=(0.0, 5.0)) -> list:
    """The GSA diagnostics of a list of spectra (float64, descending), one dict per spectrum.

    Batched over the list; if a batched reduction rejects one spectrum, the batch is redone one
    spectrum at a time and the failing one gets a ``status`` entry.
    """
    if not spectra:
        return []
    try:
        return _diagnose_batch(spectra, eps, interval)
    except (ValueError, RuntimeError, FloatingPointError):
        out = []
        for s in spectra:
            try:
                out.extend(_diagnose_batch([s], eps, interval))
            except (ValueError, RuntimeError, FloatingPointError) as exc:
                out.append({"status": _status_of(exc)})
        return out


def _diagnose_batch(spectra, eps, interval):
    import gsa_fast as g
    from ._ragged import RaggedSpectra

    S = RaggedSpectra.from_list(spectra)
    n = len(spectra)
    eps = np.asarray(eps, dtype=np.float64)
    lengths = np.diff(S.offsets)
    sq = np.add.reduceat(S.values**2, S.offsets[:-1]) if S.values.size else np.zeros(n)
    sq = np.where(lengths > 0, sq, 0.0)
    s1 = np.array([s[0] if s.size else 0.0 for s in spectra])
    qplus = g.rank_count(S)
    cols = {"q_plus": qplus, "sigma_1": s1, "frobenius": np.sqrt(sq),
            "stable_rank": np.divide(sq, s1**2, out=np.zeros(n), where=s1 > 0),
            "entropy": g.spectral_entropy(S), "m": g.radial_functional(S)}
    alpha = {}
    for c in _CHARTS:
        a = g.fit_exponent(S, chart=c, interval=interval)
        alpha[c] = a
        cols[f"alpha_{c}"] = a
        cols[f"residual_{c}"] = g.radial_residual(S, a)
        cols[f"chart_error_{c}"] = g.chart_error(S, a)
    ranks = g.truncation_rank(S, eps).reshape(n, eps.size)
    model = g.orbit_truncation_rank(np.nan_to_num(alpha["lsq"])[:, None], eps[None, :],
                                    np.maximum(qplus, 1)[:, None]).reshape(n, eps.size)
    for j, e in enumerate(eps):
        cols[f"r_{e:g}"] = ranks[:, j]
        cols[f"r_{e:g}_model"] = model[:, j]
    cols["tail_residual"] = g.tail_residual(S, alpha["lsq"])
    out = []
    for i in range(n):
        row = {}
        for k, v in cols.items():
            x = np.asarray(v).reshape(-1)[i]
            row[k] = int(x) if np.issubdtype(np.asarray(v).dtype, np.integer) else float(x)
        out.append(row)
    return out


def compute_unit(unit: WorkUnit, arrays: dict, options: ScanOptions):
    """(rows, spectra) of a unit from its loaded arrays: rows are dicts (one per matrix, in the
    unit's order), spectra a list of float64 arrays (None where the matrix failed)."""
    base, mats = [], []
    rows = []
    for r in unit.refs:
        block, role = options.name_parser(r.name)
        common = {"checkpoint": unit.checkpoint, "file": unit.file, "role": role, "block": block,
                  "dtype": dtype_name(r.dtype)}
        if r.name in unit.status:
            base.append(({**common, "name": r.name, "shape": shape_str(r.shape),
                          "status": f"unsupported dtype {r.dtype}"}, None))
            continue
        a = arrays[r.name]
        mshape, count = _matrix_shape(r.shape)
        if a.ndim == 4:
            a = a.reshape(mshape)  # conv kernel (out, in, kh, kw) -> (out, in*kh*kw): a view
        if a.ndim == 3:
            for e in range(count):
                base.append(({**common, "name": f"{r.name}[{e}]", "shape": shape_str(mshape)}, len(mats)))
                mats.append(a[e])
        else:
            base.append(({**common, "name": r.name, "shape": shape_str(mshape)}, len(mats)))
            mats.append(a)
    spectra, status = _solve(mats, options)
    ok = [i for i, st in enumerate(status) if st == "ok"]
    diag = dict(zip(ok, diagnose([spectra[i] for i in ok], options.eps, options.interval)))
    out_spectra = []
    for row, k in base:
        if k is None:
            out_spectra.append(None)
        else:
            row["status"] = status[k]
            d = diag.get(k)
            if d is not None:
                row["status"] = d.pop("status", "ok")
                row.update(d)
            if row["status"] == "ok" and row.get("q_plus") == 0:
                row["status"] = "zero matrix"  # spec §8.1: A = 0 is flagged; its columns are 0 or NaN
            if row["status"] == "ok":
                if options.ww:
                    row.update(ww_row_columns(row["shape"], spectra[k]))
                for provider in COLUMN_PROVIDERS:
                    row.update(provider(row["name"], spectra[k]))
            out_spectra.append(spectra[k] if status[k] == "ok" else None)
        rows.append(row)
    return rows, out_spectra


def ww_row_columns(shape: str, sigma) -> dict:
    """WeightWatcher's per-layer columns (``ww_alpha``, ``ww_D``, ``ww_xmin``, ...) of one scan row
    from its matrix shape ``"NxM"`` and its singular values
    (:func:`gsa_fast.compat.weightwatcher.ww_columns`)."""
    from .compat.weightwatcher import ww_columns

    n, m = (int(x) for x in shape.split("x")[:2])
    return ww_columns(sigma, n, m, prefix="ww_")


def execute(unit: WorkUnit, options: ScanOptions, memory=None):
    """Read a unit's tensors from its file and return ``(rows, spectra)`` (never the weights)."""
    return compute_unit(unit, load_unit(unit, options, memory), options)
