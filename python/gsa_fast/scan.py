"""The model scan: every layer matrix of a checkpoint → its spectrum and GSA diagnostics.

``gsa_fast.scan(source, ...) -> ScanResult`` is the product: point it at a ``.safetensors`` file,
a sharded ``*.safetensors.index.json``, a Hugging Face model directory, a ``.npz``, a PyTorch
``.bin``/``.pt`` (torch installed), a GGUF file (gguf installed), an in-memory mapping
name → array, or a list of these (one table with a ``checkpoint`` column).

Design (three separate pieces, so that other executors plug in; see docs/scan.md):

1. **Plan** (:mod:`gsa_fast._scan_plan`) from headers only — safetensors headers, index json,
   npz member headers, GGUF tensor infos — into picklable :class:`WorkUnit` objects: same-shape
   groups of matrices from one file packed up to a byte budget (half of ``memory_budget``).
2. **Execute** (:mod:`gsa_fast._scan_exec`): ``execute(unit, options) -> (rows, spectra)`` reads
   the unit's own tensors from its path, solves them in one batched :func:`gsa_fast.svdvals`
   call, runs :func:`~gsa_fast._scan_exec.diagnose` and the column providers, and returns plain
   rows and float64 spectra, never the weights. The ``"local"`` executor reads unit i+1 on a
   reader thread while unit i is solved (the kernels release the GIL), so at most two units —
   ``memory_budget`` bytes — of tensor data are held at a time; a tensor larger than half the
   budget is memory-mapped instead (file pages, not the process's own memory).
3. **Sink** (:mod:`gsa_fast._scan_sink`): with ``out=DIR`` each finished unit is appended to
   ``DIR/parts`` atomically; ``resume=True`` reads them back and solves only the rest; the final
   ``layers.<fmt>``, ``spectra.npz``, ``scan.json`` and figures are written at the end.

``executor=`` selects how units run: ``"local"`` (this process) or ``"ray"``
(:mod:`gsa_fast._scan_ray`: ``execute`` mapped over the same units as Ray tasks, results fed to the
same sink as they finish; docs/ray.md). Hooks for later columns and tables:
``gsa_fast._scan_exec.COLUMN_PROVIDERS`` (per-row ``(name, sigma) -> dict``) and
:data:`TABLE_PROVIDERS` (``(result) -> {table_name: DataFrame}``, stored in ``ScanResult.tables``).

pandas, matplotlib and tqdm are imported inside the functions that need them, so
``import gsa_fast`` stays numpy-only.
"""
from __future__ import annotations

import functools
import json
import os
import re
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ._prefetch import prefetch
from ._scan_exec import COLUMN_PROVIDERS, ScanOptions, column_names, compute_unit, execute, load_unit, prefetch_unit
from ._scan_plan import WorkUnit, estimate_budget, natural_key, parse_name, parse_size, plan_scan, unit_keys
from ._scan_sink import DirSink, UnitsDone, atomic_write
from ._validate import UNIT_ROUNDOFF, as_choice, as_flag, describe

__all__ = ["scan", "ScanResult", "TABLE_PROVIDERS", "COLUMN_PROVIDERS", "EXECUTORS", "WorkUnit", "execute",
           "format_table", "compare_with_numpy", "parse_name"]

#: Extra tables: callables ``(result) -> dict name -> DataFrame`` run after the rows are complete.
TABLE_PROVIDERS: list = []

_FORMATS = ("csv", "parquet", "json")


@dataclass
class ScanResult:
    """What a scan computed.

    layers : pandas.DataFrame, one row per matrix (columns: docs/columns.md)
    spectra : dict key → float64 singular values, descending (key: the layer name; with several
        checkpoints ``"<checkpoint>:<name>"``); every row whose spectrum was computed (status
        "ok" or "zero matrix")
    info : dict — model (checkpoint label), sources, files, options, timings, skipped-tensor
        counts by reason, build info
    tables : dict name → DataFrame of extra tables (e.g. the chain report)
    chains : DataFrame of chain interfaces (``scan(..., chains=...)``; docs/margins.md), empty
        when not asked
    """

    layers: object
    spectra: dict
    info: dict
    tables: dict = field(default_factory=dict)
    chains: object = field(default_factory=lambda: _empty_chains())

    def key(self, row) -> str:
        return row["name"] if len(self.info.get("checkpoints", ())) <= 1 else f"{row['checkpoint']}:{row['name']}"

    def to_files(self, dir, format="csv") -> list:
        """Write ``layers.<format>``, ``spectra.npz``, ``scan.json``, ``profile.png`` and ``esd.png``
        (and ``<table>.<format>`` per extra table) into ``dir``; returns the paths. Each file is
        replaced atomically."""
        if format not in _FORMATS:
            raise ValueError(f"to_files(): format must be one of {', '.join(_FORMATS)}; got {format!r}")
        d = Path(dir)
        d.mkdir(parents=True, exist_ok=True)
        written = [_write_table(self.layers, d / f"layers.{format}", format)]
        for name, table in self.tables.items():
            written.append(_write_table(table, d / f"{name}.{format}", format))
        if self.info.get("options", {}).get("chains"):  # asked: chains.<fmt>, and margins.png if any row
            written.append(_write_table(self.chains, d / f"chains.{format}", format))
            if len(self.chains):
                from ._scan_chains import plot_chains

                tmp = d / ".margins.tmp.png"
                plot_chains(self.chains, tmp)
                os.replace(tmp, d / "margins.png")
                written.append(d / "margins.png")
        import io

        buf = io.BytesIO()
        np.savez(buf, **self.spectra)
        atomic_write(d / "spectra.npz", buf.getvalue())
        atomic_write(d / "scan.json", json.dumps(_jsonable(self.info), indent=1).encode())
        written += [d / "spectra.npz", d / "scan.json"]
        written += self.plot(d)
        return written

    def plot(self, path) -> list:
        """``profile.png`` (α against depth per role and chart) and ``esd.png`` (log–log spectra of
        representative layers with their fitted orbits). ``path``: a directory, or a file name
        whose stem gets ``_profile``/``_esd`` appended."""
        from ._scan_figures import esd_figure, profile_figure

        p = Path(path)
        if p.suffix.lower() == ".png":
            targets = (p.with_name(p.stem + "_profile.png"), p.with_name(p.stem + "_esd.png"))
        else:
            p.mkdir(parents=True, exist_ok=True)
            targets = (p / "profile.png", p / "esd.png")
        out = []
        for target, draw in zip(targets, (lambda t: profile_figure(self.layers, t),
                                           lambda t: esd_figure(self.layers, self.spectra, t, self.key))):
            tmp = target.with_name(f".{target.stem}.tmp.png")
            draw(tmp)
            os.replace(tmp, target)
            out.append(target)
        return out


def _empty_chains():
    from ._scan_chains import empty_chains

    return empty_chains()


def _write_table(df, path: Path, fmt: str) -> Path:
    import io

    if fmt == "csv":
        data = df.to_csv(index=False).encode()
    elif fmt == "json":  # our own encoder: pandas' to_json keeps only 10 significant digits
        data = json.dumps(_jsonable(df.to_dict("records")), indent=1).encode()
    else:
        buf = io.BytesIO()
        df.to_parquet(buf, index=False)
        data = buf.getvalue()
    atomic_write(path, data)
    return path


def _jsonable(x):
    if isinstance(x, dict):
        return {str(k): _jsonable(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_jsonable(v) for v in x]
    if isinstance(x, (np.integer,)):
        return int(x)
    if isinstance(x, (float, np.floating)):
        return float(x) if np.isfinite(x) else None
    if isinstance(x, (str, int, bool)) or x is None:
        return x
    if type(x).__name__ == "NAType":  # pandas.NA in the nullable integer columns
        return None
    return str(x)


def _fn_error(arg, must, got):
    return ValueError(f"scan(): {arg} must be {must}; got {got}")


def _check_options(out, resume, progress, format, name_parser, read, ray_address, executor, ww):
    """The options that do not shape the plan: kinds first, then values."""
    as_choice(format, "scan", "format", _FORMATS)
    as_choice(read, "scan", "read", ("mmap", "copy"))
    as_flag(resume, "scan", "resume")
    if progress is not None:
        as_flag(progress, "scan", "progress")
    as_flag(ww, "scan", "ww")
    if out is not None and not isinstance(out, (str, os.PathLike)):
        raise TypeError(f"scan(): out must be None or a directory path; got {describe(out)}")
    if name_parser is not None and not callable(name_parser):
        raise TypeError(f"scan(): name_parser must be None or a callable name -> (block, role); "
                        f"got {describe(name_parser)}")
    if ray_address is not None and not isinstance(ray_address, str):
        raise TypeError(f"scan(): ray_address must be None or a str; got {describe(ray_address)}")
    if resume and out is None:
        raise _fn_error("out", "a directory when resume=True", "None")
    if ray_address is not None and executor != "ray":
        raise _fn_error("ray_address", "None unless executor='ray'", repr(ray_address))


def _check_args(source, include, exclude, eps, method, device, threads, memory_budget, executor):
    as_choice(executor, "scan", "executor", tuple(EXECUTORS))
    as_choice(method, "scan", "method", ("gram", "svd"))
    as_choice(device, "scan", "device", ("cpu", "cuda"))
    if device == "cuda" and executor == "local":  # with Ray the workers' GPUs count, checked on the cluster
        from ._gpu_scan import unavailable_reason

        why = unavailable_reason()
        if why is not None:
            raise _fn_error("device", "'cpu' here (device='cuda' needs a CUDA build, a GPU and cupy)", why)
    try:
        eps_t = tuple(float(e) for e in np.atleast_1d(np.asarray(eps, dtype=np.float64)))
    except (TypeError, ValueError):
        raise _fn_error("eps", "a float or a sequence of floats in [0, 1)", repr(eps)) from None
    if not eps_t or not all(0.0 <= e < 1.0 for e in eps_t):
        raise _fn_error("eps", "a float or a sequence of floats in [0, 1)", repr(eps))
    if threads is not None and (not isinstance(threads, (int, np.integer)) or isinstance(threads, bool) or threads < 1):
        raise _fn_error("threads", "None or an int >= 1", repr(threads))
    pats = []
    for arg, pat in (("include", include), ("exclude", exclude)):
        if pat is None:
            pats.append(None)
            continue
        try:
            pats.append(re.compile(pat) if isinstance(pat, str) else re.compile(pat.pattern))
        except (re.error, AttributeError) as exc:
            raise _fn_error(arg, "a regular expression", f"{pat!r} ({exc})") from None
    if memory_budget is None:
        budget = estimate_budget()
    elif isinstance(memory_budget, (bool, np.bool_)) or not isinstance(memory_budget, (int, np.integer, str)):
        raise TypeError(f"scan(): memory_budget must be None, an int number of bytes or a str such as "
                        f"'2GiB'; got {describe(memory_budget)}")
    else:
        try:
            budget = parse_size(memory_budget)
        except ValueError as exc:
            raise ValueError(f"scan(): {exc}") from None
    if isinstance(source, (list, tuple)):
        sources = list(source)
        if not sources:
            raise _fn_error("source", "a path, a mapping or a non-empty list of them", "an empty list")
    else:
        sources = [source]
    for s in sources:
        if not isinstance(s, (str, os.PathLike, dict)) and not hasattr(s, "items"):
            raise TypeError(f"scan(): source must be a path, a mapping name -> array or a list of them; "
                            f"got {type(s).__name__}")
    sources = [Path(s) if isinstance(s, (str, os.PathLike)) else s for s in sources]
    if executor == "ray":
        from ._scan_ray import check_args  # ImportError saying how to install ray; paths only

        check_args(sources)
    return sources, pats[0], pats[1], eps_t, budget


def scan(source, *, include=None, exclude=None, eps=(0.1, 0.01), method="gram", device="cpu", out=None,
         resume=False, progress=None, threads=None, memory_budget=None, executor="local",
         format="csv", name_parser=None, read="mmap", ray_address=None, ww=False,
         chains=False) -> ScanResult:
    """Spectral scan of every layer matrix of one or several checkpoints.

    Parameters
    ----------
    source : path, mapping or list of them
        ``.safetensors``, ``*.safetensors.index.json``, a model directory, ``.npz``, PyTorch
        ``.bin``/``.pt`` (torch), GGUF (gguf), or a mapping name → numpy/torch array; a list gives
        one table with a ``checkpoint`` column.
    include, exclude : str (regex), optional
        Keep tensors whose name matches ``include`` and not ``exclude`` (``re.search``).
    eps : float or sequence of floats in [0, 1)
        Energy levels of the truncation-rank columns ``r_<eps>`` and ``r_<eps>_model``.
    method : "gram" | "svd"
        Spectrum route of :func:`gsa_fast.svdvals`.
    device : "cpu" | "cuda"
        "cuda" solves on the GPU through cupy (needs a CUDA build, a GPU and cupy;
        gsa_fast._gpu_scan).
    out : directory, optional
        Append each finished unit to ``out/parts`` atomically, then write ``layers.<format>``,
        ``spectra.npz``, ``scan.json``, ``profile.png`` and ``esd.png``.
    resume : bool
        With ``out``: keep the rows already in ``out`` (matched by file, name, shape, dtype) and
        solve only the rest; the plan's byte budget is taken from the interrupted run. ``eps`` and
        ``method`` must be those of the interrupted run (ValueError otherwise).
    progress : bool, optional
        tqdm bar on stderr (matrices, bytes read, rate, time left); default: on when stderr is a
        terminal.
    threads : int >= 1, optional
        Worker threads of the kernels.
    memory_budget : int bytes or str ("512MB", "2GiB"), optional
        Most tensor data held in memory at a time (default: a quarter of the available memory).
    executor : "local" | "ray"
        Where work units run: this process, or one Ray task per unit on a Ray cluster (the
        optional dependency ray; sources must be paths every node can read; docs/ray.md).
    format : "csv" | "parquet" | "json"
        Table format of the files under ``out``.
    name_parser : callable name -> (block, role), optional
        Overrides the default parsing of block index and role (:func:`parse_name`).
    read : "mmap" | "copy"
        How tensors with a byte range in the file (safetensors, stored npz) are read: "mmap"
        (default) maps them read-only — file pages, no copy, none of the process's own memory;
        the reader thread touches the next unit's pages while the current one is solved —;
        "copy" reads each unit into fresh buffers (at most two units, ``memory_budget`` bytes, at
        a time; for file systems where page faults are slow). Other formats are always read.
    ray_address : str, optional
        With ``executor="ray"``: the cluster to connect to (``host:port``, ``ray://host:port``);
        None: ``$RAY_ADDRESS`` if set, else a local cluster started (and stopped) by the scan.
    ww : bool
        Add WeightWatcher's per-layer ESD columns, prefixed ``ww_`` (``ww_alpha``, ``ww_D``,
        ``ww_xmin``, ``ww_num_pl_spikes``, ...; :func:`gsa_fast.compat.weightwatcher.ww_columns`)
        to every "ok" row, computed in the same per-unit call (local, Ray, resume). Opt-in: about
        1–2 ms per layer. ``ww_alpha`` is WeightWatcher's ESD power-law exponent, not the chart
        exponents ``alpha_top``/``alpha_bures``/``alpha_lsq``.
    chains : bool or dict chain name -> list of regexes
        ``True``: fill ``ScanResult.chains`` with the chain margins of each role's "ok" matrices in
        block order (runs where consecutive products are defined); a dict adds user chains by name
        patterns (also with the role chains). The matrices are read again from the source after
        the scan, one chain at a time (with ``executor="ray"``: on the driver). With ``out``:
        ``chains.<format>`` and ``margins.png``.

    Returns
    -------
    ScanResult

    Raises
    ------
    FileNotFoundError for a missing file, shard or weight-less directory; ValueError naming the file
    for a malformed one and for bad argument values; TypeError for an argument of the wrong kind
    (an option given an array, a number as ``out``, a non-callable ``name_parser``); ImportError naming the package a PyTorch or GGUF
    file needs. A matrix that cannot be solved (NaN/Inf, unsupported dtype) gets a row with its
    status; the scan goes on.
    """
    t_start = time.perf_counter()
    sources, inc, exc, eps_t, budget = _check_args(source, include, exclude, eps, method, device, threads,
                                                   memory_budget, executor)
    _check_options(out, resume, progress, format, name_parser, read, ray_address, executor, ww)
    from ._scan_chains import check_chains

    chain_patterns = check_chains(chains)
    parser = name_parser or parse_name
    sink = None
    plan_options = {"sources": [str(s) if isinstance(s, Path) else "<mapping>" for s in sources],
                    "memory_budget": budget, "eps": list(eps_t), "method": method,
                    "include": include if include is None else str(getattr(include, "pattern", include)),
                    "exclude": exclude if exclude is None else str(getattr(exclude, "pattern", exclude))}
    if out is not None:
        sink = DirSink(out, plan_options, resume)
        for key in ("eps", "method"):  # they fix the rows' values: a resumed table must not mix two settings
            was = (sink.previous or {}).get(key)
            if was is not None and was != plan_options[key]:
                raise _fn_error(key, f"{was!r}, as in the interrupted scan in {out}, when resume=True",
                                repr(plan_options[key]))
        if sink.previous is not None and memory_budget is None:
            budget = int(sink.previous.get("memory_budget", budget))  # same plan as the interrupted run
            plan_options["memory_budget"] = budget
    unit_bytes = max(1, budget // 2)
    plan = plan_scan(sources, include=inc, exclude=exc, unit_bytes=unit_bytes, name_parser=parser)
    t_plan = time.perf_counter()
    options = ScanOptions(eps=eps_t, method=method, device=device, threads=threads,
                          mmap_over=0 if read == "mmap" else unit_bytes, name_parser=parser, ww=bool(ww))
    memory = {f"memory:{lab}": s for s, lab in zip(sources, plan.checkpoints) if not isinstance(s, Path)}

    done_rows, done_spectra = {}, {}
    if sink is not None:
        if resume:
            done_rows, done_spectra = sink.load()
            if ww:  # rows of an earlier run without ww: their columns from the stored spectra
                from ._scan_exec import ww_row_columns

                for k, r in done_rows.items():
                    if r.get("status") == "ok" and "ww_alpha" not in r and done_spectra.get(k) is not None:
                        r.update(ww_row_columns(r["shape"], done_spectra[k]))
        sink.start()
    todo = [u for u in plan.units if not all(k in done_rows for k in unit_keys(u))]
    run = EXECUTORS[executor]
    executor_info = {}
    if executor == "ray":  # the executor's own argument, and its report (info["ray"])
        run = functools.partial(run, ray_address=ray_address, info=executor_info)
    results = run(todo, options, memory, sink, plan, progress)
    t_solve = time.perf_counter()

    rows, spectra = [], {}
    for u in plan.units:
        got = results.get(u.uid)
        if got is None:  # finished by an earlier run
            keys = unit_keys(u)
            got = ([done_rows[k] for k in keys], [done_spectra.get(k) for k in keys])
        rows.extend(got[0])
        for r, s in zip(*got):
            if s is not None:
                spectra[(r["checkpoint"], r["name"])] = s
    result = _assemble(rows, spectra, plan, eps_t)
    t_end = time.perf_counter()
    import gsa_fast as g

    result.info.update({
        "model": plan.checkpoints[0] if len(plan.checkpoints) == 1 else list(plan.checkpoints),
        "sources": plan_options["sources"], "checkpoints": plan.checkpoints, "files": plan.files,
        "options": {**plan_options, "device": device, "threads": threads, "format": format, "executor": executor,
                    "read": read, "ww": bool(ww), "chains": chains if isinstance(chains, dict) else bool(chains)},
        "matrices": int(len(result.layers)), "parameters": int(_params(result.layers)),
        "bytes_planned": int(plan.nbytes), "units": len(plan.units), "units_resumed": len(plan.units) - len(todo),
        "skipped": dict(plan.skipped),
        "timings": {"plan_s": t_plan - t_start, "solve_s": t_solve - t_plan, "assemble_s": t_end - t_solve,
                    "total_s": t_end - t_start},
        "build": g.build_info(),
    })
    if executor_info:
        result.info["ray"] = executor_info
    if chain_patterns is not None:  # weights read again, one chain at a time (Ray: here, on the driver)
        from ._scan_chains import scan_result_chains

        t0 = time.perf_counter()
        result.chains = scan_result_chains(result.layers, plan, memory, chain_patterns)
        result.info["timings"]["chains_s"] = time.perf_counter() - t0
    for provider in TABLE_PROVIDERS:
        result.tables.update(provider(result))
    if sink is not None:
        result.to_files(sink.dir, format)
    return result


def _params(layers) -> int:
    if not len(layers):
        return 0
    ok = layers["status"] == "ok"
    return int(sum(int(a) * int(b) for a, b in (s.split("x")[:2] for s in layers.loc[ok, "shape"])))


def _depth(row):
    """Row order: embeddings, then blocks by index, then everything else (heads, pooler, norms)."""
    if row["block"] is not None:
        return (1, row["block"])
    return (0, 0) if "embed" in row["name"].lower() or "wte" in row["name"] or "wpe" in row["name"] else (2, 0)


def _assemble(rows, spectra, plan, eps_t) -> ScanResult:
    import pandas as pd

    order = {ck: i for i, ck in enumerate(plan.checkpoints)}
    rows.sort(key=lambda r: (order[r["checkpoint"]], _depth(r), natural_key(r["name"])))
    cols = column_names(eps_t)
    extra = [k for r in rows for k in r if k not in cols]
    df = pd.DataFrame(rows, columns=cols + list(dict.fromkeys(extra)))
    df["block"] = df["block"].astype("Int64")
    for c in ("q_plus", *[f"r_{e:g}" for e in eps_t], *[f"r_{e:g}_model" for e in eps_t]):
        df[c] = df[c].astype("Int64")
    multi = len(plan.checkpoints) > 1
    sp = {}
    for r in rows:
        s = spectra.get((r["checkpoint"], r["name"]))
        if s is not None:
            sp[f"{r['checkpoint']}:{r['name']}" if multi else r["name"]] = s
    return ScanResult(layers=df, spectra=sp, info={})


def _device_stager():
    from ._gpu_scan import DeviceStager

    return DeviceStager()


def _run_local(units, options, memory, sink, plan, progress):
    """Solve units in order, reading unit i+1 on a reader thread while unit i is solved.

    The executor contract (see EXECUTORS): run ``execute``'s two halves on every unit of
    ``units`` (the ones not done yet), hand each finished unit to ``sink.append(uid, rows,
    spectra)`` as soon as it is done (when ``sink`` is not None), and return
    ``{uid: (rows, spectra)}``; ``plan`` gives totals for the progress bar."""
    done = UnitsDone(units, sink, plan, progress)
    # pandas (the table at the end, ~0.25 s to import) loads beside the solves; joined below, and
    # a failed import is left for _assemble's own import to report
    pandas = prefetch("pandas") if units else None
    try:
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="gsa-scan-reader") as pool:
            # the first unit is mapped/read here (the kernel faults its pages in as it goes); each
            # next one is read on the reader thread while the current one is solved
            read, first, ready = prefetch_unit, load_unit, None
            if options.device == "cuda" and units:
                # each unit is read once, into a pinned buffer, and copied to the device on a copy
                # stream while the previous unit is solved (gsa_fast._gpu_scan)
                stager = _device_stager()
                read = first = lambda unit, opts, mem: stager.stage(load_unit(unit, opts, mem))
                ready = stager.ready
            nxt = None
            for i, u in enumerate(units):
                arrays = nxt.result() if nxt is not None else first(u, options, memory)
                nxt = pool.submit(read, units[i + 1], options, memory) if i + 1 < len(units) else None
                if ready is not None:
                    arrays = ready(arrays)
                rows, spectra = compute_unit(u, arrays, options)
                del arrays
                done(u, rows, spectra)
    finally:
        done.close()
        if pandas is not None:
            pandas.join()
    return done.results


# ---------------------------------------------------------------------------------------------
# text table and the opt-in float64 comparison (command line)
# ---------------------------------------------------------------------------------------------
def format_table(layers, eps=(0.1, 0.01)) -> str:
    """Fixed-width text table of the main columns of ``ScanResult.layers``."""
    cols = [("layer", "name", "{}"), ("shape", "shape", "{}"), ("status", "status", "{}"), ("q+", "q_plus", "{}"),
            ("σ1", "sigma_1", "{:.4g}"), ("α_top", "alpha_top", "{:.4f}"), ("α_BW", "alpha_bures", "{:.4f}"),
            ("α_lsq", "alpha_lsq", "{:.4f}"), ("Ē_BW", "chart_error_bures", "{:.4f}"),
            ("τ_lsq", "tail_residual", "{:.4f}"), ("Ent", "entropy", "{:.3f}"), ("m(P)", "m", "{:.4f}")]
    for e in eps:
        cols.append((f"r_{e:g}", f"r_{e:g}", "{}"))
        cols.append((f"r_{e:g}(α)", f"r_{e:g}_model", "{}"))
    multi = "checkpoint" in layers and layers["checkpoint"].nunique() > 1
    if multi:
        cols.insert(0, ("checkpoint", "checkpoint", "{}"))
    cells = [[h for h, _, _ in cols]]
    for r in layers.to_dict("records"):
        line = []
        for h, k, f in cols:
            v = r.get(k)
            if k == "name" and len(v) > 48:
                v = "…" + v[-47:]
            line.append("-" if v is None or (isinstance(v, float) and np.isnan(v)) or v is _NA() else f.format(v))
        cells.append(line)
    widths = [max(len(row[j]) for row in cells) for j in range(len(cols))]
    lines = []
    for i, row in enumerate(cells):
        lines.append("  ".join(c.ljust(w) if j <= int(multi) else c.rjust(w) for j, (c, w) in enumerate(zip(row, widths))))
        if i == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)


def _NA():
    import pandas as pd

    return pd.NA


def compare_with_numpy(result: ScanResult, source_arrays) -> dict:
    """The peer a user would otherwise run, on the spectra the scan already computed: a Python loop
    of float64 ``numpy.linalg.svd`` (``compute_uv=False``) over upcast copies, one matrix at a time.
    ``source_arrays``: name → array of the scanned matrices. Returns its time and the largest
    deviation of the scan's values, in units of ``max(m, n)·u·σ_1`` (the contract of svdvals)."""
    dtypes = dict(zip(result.layers["name"], result.layers["dtype"]))
    t, worst = 0.0, 0.0
    for name, a in source_arrays.items():
        s = result.spectra.get(name)
        if s is None:
            continue
        x = np.asarray(a, dtype=np.float64) if a.dtype != np.uint16 else \
            (a.astype(np.uint32) << 16).view(np.float32).astype(np.float64)
        t0 = time.perf_counter()
        r = np.linalg.svd(x, compute_uv=False)
        t += time.perf_counter() - t0
        if r.size and r[0] > 0:
            u = UNIT_ROUNDOFF.get(dtypes.get(name), UNIT_ROUNDOFF["bfloat16"])
            worst = max(worst, float(np.max(np.abs(s - r)) / (max(x.shape) * u * r[0])))
    return {"numpy_svd_loop_s": t, "max_error_in_contract_units": worst}


def _run_ray(units, options, memory, sink, plan, progress, **kw):
    """Units as Ray tasks (:mod:`gsa_fast._scan_ray`, imported only when used)."""
    from ._scan_ray import run_ray

    return run_ray(units, options, memory, sink, plan, progress, **kw)


#: How work units run: name -> fn(units, options, memory, sink, plan, progress) -> {uid: (rows, spectra)}.
#: "local": this process; "ray": one Ray task per unit on a cluster (docs/ray.md).
EXECUTORS = {"local": _run_local, "ray": _run_ray}
