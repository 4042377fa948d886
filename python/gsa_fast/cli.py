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

    # Placeholder until the model scan lands: the kernels of the foundation issue.
    print("gsa_fast", g.__version__, "-", g.build_info()["blas"])
    for d in (64, 1000, 10**9, 10**12):
        h, l, q = g.harmonic_sums(d, 1.0)
        print(f"H_{{{d},1}} = {h:.17g}  L = {l:.17g}  Q = {q:.17g}")
    return 0


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="gsa-fast", description=__doc__)
    sub = p.add_subparsers(dest="cmd", required=True)
    sub.add_parser("info", help="build information").set_defaults(func=_cmd_info)
    s = sub.add_parser("scan", help="spectral scan of a model's layer matrices")
    s.set_defaults(func=_cmd_scan)
    args = p.parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
