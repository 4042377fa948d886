"""Re-do the verbatim split of cpp/src/spectra.cpp into cpp/src/spectra/*.inl (commit 4071dfb).

For merging: a branch that edited the unsplit cpp/src/spectra.cpp can be merged into the tree
*before* that commit, and this script then splits the merged file the same way (by its own
section comments), so the other branch's edits land in the right section files.
Usage: python3 scripts/split_spectra.py   (refuses to run on an already split file)
"""
from __future__ import annotations

import pathlib
import sys

ROOT = pathlib.Path(__file__).resolve().parents[1]
SRC = ROOT / "cpp" / "src" / "spectra.cpp"

SECTIONS = [  # (file, first line startswith, description)
    ("convert", "// ---- storage formats", "storage formats, conversion to float64, finiteness scan, power-of-two scale, status merge"),
    ("gram", "// ---- per-worker workspace", "per-worker workspace, float64 Gram (dsyrk / tiled), eigensolver choice and driver"),
    ("small", "// ---- small matrices", "small matrices (q <= 64): inline Gram + tridiagonal, four-lane QL"),
    ("svd", "// Singular values of a float64 copy by dgesdd", "dgesdd stages route (interruptible)"),
    ("batch", "// ---- batch driver", "batch driver: largest first, one matrix per worker or tiled"),
    ("topk", "// ---- randomized top-k", "randomized top-k range finder"),
]


def main() -> int:
    lines = SRC.read_text().split("\n")
    if any('#include "spectra/' in line for line in lines):
        print("cpp/src/spectra.cpp is already split")
        return 1
    starts = [next(i for i, line in enumerate(lines) if line.startswith(mark)) for _, mark, _ in SECTIONS]
    end = next(i for i, line in enumerate(lines) if line.strip() == "}  // namespace")
    bounds = starts + [end]
    (ROOT / "cpp" / "src" / "spectra").mkdir(exist_ok=True)
    out = lines[:starts[0]]
    for k, (name, _, desc) in enumerate(SECTIONS):
        body = lines[bounds[k]:bounds[k + 1]]
        while body and not body[-1].strip():
            body.pop()
        (ROOT / "cpp" / "src" / "spectra" / f"{name}.inl").write_text(
            f"// Section of cpp/src/spectra.cpp ({desc}): included inside its anonymous namespace, in order;\n"
            f"// not a separate translation unit. Moved verbatim from spectra.cpp.\n" + "\n".join(body) + "\n")
        out.append(f'#include "spectra/{name}.inl"  // {desc}')
    out.append("")
    out += lines[end:]
    SRC.write_text("\n".join(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
