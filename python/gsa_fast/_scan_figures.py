"""Figures of a scan (matplotlib, imported lazily, Agg backend): exponent profile and ESD."""
from __future__ import annotations

from pathlib import Path

import numpy as np

_CHART_TITLES = {"top": "top-radial chart (§6.2a)", "bures": "Bures projection chart (§6.2b)",
                 "lsq": "log-spectrum least squares (§6.2c)"}


def _plt():
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    return plt


def profile_figure(layers, path) -> Path:
    """Fitted exponent α against block depth, one line per role, one panel per chart."""
    plt = _plt()
    df = layers[(layers["status"] == "ok") & layers["block"].notna()]
    fig, axes = plt.subplots(1, 3, figsize=(16, 5), sharey=True, constrained_layout=True)
    checkpoints = list(dict.fromkeys(df["checkpoint"]))
    roles = list(dict.fromkeys(df.sort_values("block")["role"]))
    cmap = plt.get_cmap("tab20" if len(roles) > 10 else "tab10")
    styles = ["-", "--", ":", "-."]
    for ax, chart in zip(axes, ("top", "bures", "lsq")):
        for i, role in enumerate(roles):
            for j, ck in enumerate(checkpoints):
                d = df[(df["role"] == role) & (df["checkpoint"] == ck)].sort_values("block")
                if d.empty:
                    continue
                label = role if len(checkpoints) == 1 else f"{role} ({ck})"
                ax.plot(d["block"].astype(float), d[f"alpha_{chart}"], styles[j % 4], marker="o", ms=3,
                        color=cmap(i % cmap.N), label=label if ax is axes[0] else None)
        ax.set_title(f"α, {_CHART_TITLES[chart]}", fontsize=10)
        ax.set_xlabel("block (depth)")
        ax.xaxis.set_major_locator(plt.MaxNLocator(integer=True))
        ax.grid(alpha=0.3)
    axes[0].set_ylabel("fitted exponent α")
    if df.empty:
        for ax in axes:
            ax.text(0.5, 0.5, "no layers with a block index", ha="center", va="center", transform=ax.transAxes)
    else:
        fig.legend(loc="outside right upper", fontsize=8, title="role")
    fig.suptitle("Fitted power-law exponent against depth: " + ", ".join(checkpoints[:3])
                 + (" …" if len(checkpoints) > 3 else ""))
    path = Path(path)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def _representatives(layers, k=6):
    """Up to k rows: the middle block of each repeated role (most repeated first), then the
    largest layer outside the blocks (embeddings, heads)."""
    ok = layers[layers["status"] == "ok"]
    inblock = ok[ok["block"].notna()]
    picks = []
    for role, d in sorted(inblock.groupby("role", sort=False), key=lambda rd: -len(rd[1])):
        d = d.sort_values("block")
        picks.append(d.index[len(d) // 2])
    picks = picks[: k - 1] if len(picks) >= k else picks
    rest = ok[ok["block"].isna()]
    if len(rest):
        picks.append(rest["q_plus"].astype(float).idxmax())
    return ok.loc[picks[:k]]


def esd_figure(layers, spectra, path, key_of) -> Path:
    """log–log singular values σ_k against k for a few layers, with the fitted (LS) orbit."""
    plt = _plt()
    reps = _representatives(layers)
    fig, ax = plt.subplots(figsize=(9, 6), constrained_layout=True)
    cmap = plt.get_cmap("tab10")
    for i, (_, r) in enumerate(reps.iterrows()):
        s = spectra.get(key_of(r))
        if s is None or s.size == 0:
            continue
        s = s[s > 0]
        k = np.arange(1, s.size + 1)
        c = cmap(i % 10)
        ax.loglog(k, s, ".", ms=3, color=c, label=f"{r['name']}  (α_LS = {r['alpha_lsq']:.3f})")
        a = r["alpha_lsq"]
        if np.isfinite(a):
            # the LS chart's fitted line (§6.2c): log σ_k ≈ b̂ − α̂ log k, b̂ = mean(log σ) + α̂ mean(log k)
            b = np.mean(np.log(s)) + a * np.mean(np.log(k))
            ax.loglog(k, np.exp(b - a * np.log(k)), "-", lw=1.2, color=c, alpha=0.9)
    ax.set_xlabel("rank k")
    ax.set_ylabel("singular value σ_k")
    ax.set_title("Singular spectra (dots) and least-squares power-law fits σ_k ∝ k^-α (lines)")
    ax.grid(alpha=0.3, which="both")
    if len(reps):
        ax.legend(fontsize=8)
    path = Path(path)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
