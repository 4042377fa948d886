"""Jacobian chains of BERT-style encoders, chains of a scan's layer table and margins.png.

Shared by :mod:`gsa_fast.margins` and :mod:`gsa_fast.reference.margins`; imports neither the
compiled extension nor torch/pandas/matplotlib at module level.
"""
from __future__ import annotations

import copy
import numbers
import re

import numpy as np

from ._validate import type_error, value_error


def _inputs(inputs, fn, torch):
    if isinstance(inputs, dict):
        if "input_ids" not in inputs:
            raise value_error(fn, "inputs", "a dict with 'input_ids'", f"keys {sorted(inputs)}")
        ids, mask, tt = inputs["input_ids"], inputs.get("attention_mask"), inputs.get("token_type_ids")
    else:
        ids, mask, tt = inputs, None, None
    ids = torch.as_tensor(np.asarray(ids) if not torch.is_tensor(ids) else ids)
    if ids.dtype.is_floating_point or ids.dtype == torch.bool:
        raise type_error(fn, "inputs", "integer token ids", ids)
    if ids.ndim == 1:
        ids = ids[None]
    if ids.ndim != 2 or ids.shape[0] != 1 or ids.shape[1] == 0:
        raise value_error(fn, "inputs", "the token ids of one sequence, shape (T,) or (1, T)",
                          f"shape {tuple(ids.shape)}")
    ids = ids.long()
    T = ids.shape[1]

    def aux(x, default):
        if x is None:
            return default
        x = torch.as_tensor(np.asarray(x) if not torch.is_tensor(x) else x).long().reshape(1, -1)
        if x.shape[1] != T:
            raise value_error(fn, "inputs", f"masks and type ids of length {T}", f"{x.shape[1]}")
        return x

    return ids, aux(mask, torch.ones_like(ids)), aux(tt, torch.zeros_like(ids))


def model_device_type(model):
    """The device type of the model's first parameter ("cpu", "cuda", ...), without importing torch;
    None when it has none."""
    params = getattr(model, "parameters", None)
    if not callable(params):
        return None
    try:
        p = next(iter(params()), None)
    except Exception:  # not a torch module: the caller's type check reports it
        return None
    return getattr(getattr(p, "device", None), "type", None)


def jacobian_chain_impl(model, inputs, token, *, mode, fn, keep_device=False):
    """J_ℓ = ∂h_ℓ[token]/∂h_{ℓ−1}[token] for every block; mode "autodiff" (torch reverse mode,
    model dtype) or "central" (central differences on a float64 copy of the model). Computed on
    the model's device; a float64 numpy array, or with ``keep_device`` the float64 torch tensor
    on that device (the CUDA route hands it to cupy through DLPack)."""
    if not (hasattr(model, "parameters") and hasattr(model, "eval")):  # checked before torch loads
        raise type_error(fn, "model", "a torch.nn.Module (BERT-style encoder)", model)
    try:
        import torch  # optional dependency: only the Jacobian chain needs it
    except ImportError:
        raise ImportError(f"{fn}(): needs PyTorch; install it with `pip install torch`") from None

    if not isinstance(model, torch.nn.Module):
        raise type_error(fn, "model", "a torch.nn.Module (BERT-style encoder)", model)
    if not (hasattr(model, "embeddings") and hasattr(model, "encoder")
            and hasattr(model.encoder, "layer")):
        raise value_error(fn, "model", "a BERT-style encoder with .embeddings and .encoder.layer",
                          type(model).__name__)
    ids, mask, tt = _inputs(inputs, fn, torch)
    T = ids.shape[1]
    dev = next(model.parameters()).device
    ids, mask, tt = ids.to(dev), mask.to(dev), tt.to(dev)
    if isinstance(token, (bool, np.bool_)) or not isinstance(token, numbers.Integral):
        raise type_error(fn, "token", "an int", token)
    token = int(token)
    if not -T <= token < T:
        raise value_error(fn, "token", f"a position in [0, {T})", repr(token))
    token %= T
    if mode == "central":
        model = copy.deepcopy(model).double()
    model.eval()
    dtype = next(model.parameters()).dtype
    ext = (1.0 - mask[:, None, None, :].to(dtype)) * torch.finfo(dtype).min
    sel = torch.zeros(1, T, 1, dtype=torch.bool, device=dev)
    sel[0, token] = True
    out = []
    with torch.no_grad():
        h = model.embeddings(input_ids=ids, token_type_ids=tt)
    for blk in model.encoder.layer:
        def f(x, blk=blk, h=h):
            hh = torch.where(sel, x.reshape(1, 1, -1), h)
            y = blk(hh, attention_mask=ext)
            y = y[0] if isinstance(y, (tuple, list)) else y
            return y[0, token]

        x0 = h[0, token].detach().clone()
        if mode == "autodiff":
            J = torch.autograd.functional.jacobian(f, x0, vectorize=True)
        else:
            with torch.no_grad():
                H = x0.numel()
                J = torch.empty(H, H, dtype=dtype, device=dev)
                for j in range(H):
                    step = 1e-6 * max(1.0, abs(float(x0[j])))
                    e = torch.zeros_like(x0)
                    e[j] = step
                    J[:, j] = (f(x0 + e) - f(x0 - e)) / (2 * step)
        out.append(J.detach().to(torch.float64))
        with torch.no_grad():
            y = blk(h, attention_mask=ext)
            h = y[0] if isinstance(y, (tuple, list)) else y
    if keep_device:
        return torch.stack(out).contiguous()
    return np.ascontiguousarray(np.stack([j.cpu().numpy() for j in out]))


def scan_chains_impl(layers, get_matrix, chain_fn, *, roles=None, patterns=None, normalize=True):
    import pandas as pd  # optional dependency

    fn = "scan_chains"
    for c in ("name", "role", "block"):
        if c not in getattr(layers, "columns", ()):
            raise value_error(fn, "layers", "a DataFrame with columns name, role, block",
                              f"columns {list(getattr(layers, 'columns', []))}")
    df = layers[layers["block"].notna()].copy()
    df["block"] = df["block"].astype(int)
    groups = []
    for role in (sorted(df["role"].dropna().unique()) if roles is None else roles):
        sub = df[df["role"] == role].sort_values(["block", "name"], kind="stable")
        groups.append((str(role), list(sub["name"])))
    for cname, pats in (patterns or {}).items():
        keyed = []
        for _, row in df.iterrows():
            for j, p in enumerate(pats):
                if re.search(p, row["name"]):
                    keyed.append((row["block"], j, row["name"]))
                    break
        groups.append((str(cname), [n for _, _, n in sorted(keyed)]))
    rows = []
    for cname, names in groups:
        mats = [get_matrix(n) for n in names]
        # maximal runs where consecutive products A_{ℓ+1} A_ℓ are defined
        runs, cur = [], [0] if names else []
        for i in range(1, len(names)):
            if mats[i].shape[1] == mats[i - 1].shape[0]:
                cur.append(i)
            else:
                runs.append(cur)
                cur = [i]
        if cur:
            runs.append(cur)
        for r, run in enumerate(runs):
            if len(run) < 2:
                continue
            cm = chain_fn([mats[i] for i in run], normalize=normalize)
            for j in range(len(run) - 1):
                rows.append({"chain": cname, "run": r, "interface": j + 1,
                             "from": names[run[j]], "to": names[run[j + 1]],
                             "norm_from": cm.norm[j], "norm_to": cm.norm[j + 1],
                             "product_norm": cm.product_norm[j], "log_kappa": cm.log_kappa[j],
                             "slack": cm.slack[j], "margin": cm.margin[j], "theta": cm.theta[j]})
    cols = ["chain", "run", "interface", "from", "to", "norm_from", "norm_to", "product_norm",
            "log_kappa", "slack", "margin", "theta"]
    return pd.DataFrame(rows, columns=cols)


def plot_margins_impl(report, path, *, title=None):
    import matplotlib

    if path is not None:
        matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    f = report.interfaces
    x = f["interface"].to_numpy()
    lhs, rhs = f["lhs"].to_numpy(), f["rhs"].to_numpy()
    sharp = f["rho_sharp"].to_numpy() * rhs  # |m_d(α_{ℓ+1}) − m_d(α_ℓ)|
    fig, ax = plt.subplots(figsize=(7.5, 4.2), dpi=120)
    ax.bar(x, lhs, width=0.55, color="#4c72b0", label=r"$m'_J\,|\Delta\alpha_\ell|$ (theorem's left side)")
    ax.plot(x, sharp, "s", mfc="none", mec="#55a868", ms=8,
            label=r"$|m_d(\alpha_{\ell+1}) - m_d(\alpha_\ell)|$ (sharp left side)")
    ax.plot(x, rhs, "o-", color="#c44e52", label=r"$2\mu_\ell + |\Delta\varepsilon_\ell|$ (bound)")
    for xi, yi, r, rs in zip(x, np.fmax(lhs, sharp), f["rho"].to_numpy(), f["rho_sharp"].to_numpy()):
        if np.isfinite(r):
            ax.annotate(f"ρ={r:.2f}\nρ♯={rs:.2f}", (xi, yi), textcoords="offset points",
                        xytext=(0, 9), ha="center", fontsize=7, color="#333333")
    ax.set_xlabel("interface ℓ  (product of layers ℓ+1 and ℓ)")
    ax.set_xticks(x)
    ax.set_ylabel("log-radial units")
    ax.set_title(title or "Margin test per interface: bars and squares must stay under the line",
                 fontsize=9, wrap=True)
    ax.legend(fontsize=7, loc="upper left")
    fig.tight_layout()
    if path is not None:
        fig.savefig(path)
        plt.close(fig)
    return fig
