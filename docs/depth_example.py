"""Worked example of docs/depth.md: chain scans of all-MiniLM-L6-v2 next to random baselines.

    PYTHONPATH=python python3 docs/depth_example.py      # writes docs/depth_minilm.png

Chains (PyTorch Linear weights are (out, in), so each factor acts as y = W x; layer 0 first):
* attention value → output path: V_1, O_1, V_2, O_2, …, V_6, O_6 — 12 square 384×384 factors;
* feed-forward path: I_1 (1536×384), F_1 (384×1536), …, I_6, F_6 — 12 rectangular factors.
Random baseline of the same shape: every factor replaced by iid Gaussian entries with the same
Frobenius norm (20 draws, mean ± 2 s.e.); for the square chain also the closed form
Σ_ℓ log(σ_ℓ√n) + L·γ_j(n, σ = 1/√n) (Benettin sums are unbiased for L·γ_j, depth-math §3.4).
"""
from __future__ import annotations

import math
import pathlib

import numpy as np

import gsa_fast as g
from gsa_fast.weights import bundled_model_path, read_safetensors

OUT = pathlib.Path(__file__).resolve().parent / "depth_minilm.png"


def chains():
    t = read_safetensors(bundled_model_path())
    pre = "encoder.layer.{}."
    att, ffn = [], []
    for i in range(6):
        p = pre.format(i)
        att += [t[p + "attention.self.value.weight"], t[p + "attention.output.dense.weight"]]
        ffn += [t[p + "intermediate.dense.weight"], t[p + "output.dense.weight"]]
    return att, ffn


def gaussian_like(chain, rng):
    return [(rng.standard_normal(m.shape) * (np.linalg.norm(m) / math.sqrt(m.size))).astype(np.float32)
            for m in chain]


def main():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    att, ffn = chains()
    rng = np.random.default_rng(0)
    k = 384
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.2), constrained_layout=True)
    for ax, chain, title in [(axes[0], att, "attention V→O path (12 × 384×384)"),
                             (axes[1], ffn, "FFN path (12 factors, 384↔1536)")]:
        L = len(chain)
        c = g.chain_log_spectrum(chain, k)[-1] / L
        rnd = np.stack([g.chain_log_spectrum(gaussian_like(chain, rng), k)[-1] / L for _ in range(20)])
        j = np.arange(1, k + 1)
        m, se = rnd.mean(0), rnd.std(0) / math.sqrt(len(rnd))
        ax.plot(j, c, lw=1.8, label="MiniLM checkpoint")
        ax.fill_between(j, m - 2 * se, m + 2 * se, color="C1", alpha=0.35)
        ax.plot(j, m, color="C1", lw=1.0, label="Gaussian, same shapes and norms (20 draws)")
        if all(f.shape == (384, 384) for f in chain):
            n = 384
            shift = np.mean([math.log(np.linalg.norm(f) / n * math.sqrt(n)) for f in chain])
            gam = g.random_lyapunov(n).gamma[:k] + shift
            ax.plot(j, gam, "k--", lw=1.0, label="closed form γ_j + mean log(σ_ℓ√n)")
        ax.set_xscale("log")
        ax.set_xlabel("direction j")
        ax.set_ylabel("c_L[j] / L  (mean log stretch per factor)")
        ax.set_title(title)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
        sep = g.separation_ratios(c * L)
        print(f"{title}: c_L[1]/L = {c[0]:.3f}, random {m[0]:.3f}; median ratio s_(j+1)/s_j "
              f"(top 32) {np.median(sep.ratios[:32]):.3f}")
    fig.suptitle("Benettin/QR scan (gsa_fast.chain_log_spectrum) of all-MiniLM-L6-v2 vs random baselines")
    fig.savefig(OUT, dpi=110)
    print("wrote", OUT)


if __name__ == "__main__":
    main()
