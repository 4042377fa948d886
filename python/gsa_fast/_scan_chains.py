"""ScanResult.chains: the chain margins of a scanned checkpoint (issue 11), computed after the scan.

The scan keeps no weights, so the matrices are read again from the source, through
:mod:`gsa_fast.weights` (the plan's own tensor references), one chain at a time: for each role the
role's "ok" matrices in block order (:func:`gsa_fast.margins.scan_chains`, which cuts them into
runs where consecutive products are defined), then each user chain given by name patterns. A
chain's matrices are dropped before the next chain is read. With ``executor="ray"`` this runs on
the driver after the units finished (the driver reads the files itself).

Each interface row carries :func:`gsa_fast.chain_margins`' quantities and, for margins.png, the
two sides of the margin test of :func:`gsa_fast.margin_report` on the same run: ``lhs`` =
``m'_J·|Δα|`` and ``rhs`` = ``2μ + |Δε|`` (with ``rho = lhs/rhs``).
"""
from __future__ import annotations

import re

import numpy as np

from ._scan_plan import _matrix_shape
from .weights import load_tensors

__all__ = ["CHAIN_COLUMNS", "check_chains", "empty_chains", "scan_result_chains", "plot_chains"]

CHAIN_COLUMNS = ["chain", "run", "interface", "from", "to", "norm_from", "norm_to", "product_norm",
                 "log_kappa", "slack", "margin", "theta", "lhs", "rhs", "rho"]

_ELEM = re.compile(r"^(.*)\[(\d+)\]$")


def empty_chains():
    import pandas as pd

    return pd.DataFrame({c: [] for c in CHAIN_COLUMNS})


def check_chains(chains):
    """``chains`` argument of scan(): False/None, True, or dict chain name -> list of regexes.
    Returns ``None`` (not asked) or the dict of user patterns (empty for ``True``)."""
    if chains is None or chains is False:
        return None
    if chains is True:
        return {}
    if not isinstance(chains, dict):
        raise TypeError(f"scan(): chains must be a bool or a dict chain name -> list of regular expressions; "
                        f"got {type(chains).__name__}")
    out = {}
    for name, pats in chains.items():
        if isinstance(pats, str) or not isinstance(pats, (list, tuple)) or not pats:
            raise ValueError(f"scan(): chains[{name!r}] must be a non-empty list of regular expressions; "
                             f"got {pats!r}")
        for p in pats:
            try:
                re.compile(p)
            except (re.error, TypeError) as exc:
                raise ValueError(f"scan(): chains[{name!r}] must be a list of regular expressions; "
                                 f"got {p!r} ({exc})") from None
        out[str(name)] = [str(p) for p in pats]
    return out


class _Reader:
    """Reads one scan row's matrix again from its source (no cache beyond the current chain)."""

    def __init__(self, plan, memory, checkpoint):
        self.refs = {}
        for u in plan.units:
            if u.checkpoint != checkpoint:
                continue
            for r in u.refs:
                self.refs[r.name] = (u, r)
        self.memory = memory

    def read(self, name):
        m = _ELEM.match(name)
        base, elem = (m.group(1), int(m.group(2))) if m and m.group(1) in self.refs and name not in self.refs \
            else (name, None)
        u, r = self.refs[base]
        mapping = None if self.memory is None else self.memory.get(u.file)
        a = load_tensors([r], mmap_over=-1, memory=mapping)[r.name]
        mshape, _ = _matrix_shape(r.shape)
        if a.ndim == 4:
            a = a.reshape(mshape)
        if elem is not None:
            a = a[elem]
        if a.dtype == np.uint16:  # bfloat16 bits
            a = (a.astype(np.uint32) << 16).view(np.float32)
        return np.ascontiguousarray(a, dtype=np.float64 if a.dtype == np.float64 else np.float32)


def _one_group(layers, get, scan_chains, roles, patterns):
    try:
        return scan_chains(layers, get, roles=roles, patterns=patterns)
    except TypeError:  # a chain mixing float32 and float64 matrices: evaluate it in float64
        return scan_chains(layers, lambda n: np.asarray(get(n), dtype=np.float64), roles=roles,
                           patterns=patterns)


def _sides(df, cache, margin_report):
    """lhs, rhs, rho of each interface (the margin report of each run's matrices).
    ``margin_report(mats, products)`` reuses the run's product norms from ``df`` (computed by
    chain_margins just before) instead of solving them again."""
    lhs = np.full(len(df), np.nan)
    rhs = np.full(len(df), np.nan)
    for _, idx in df.groupby("run").groups.items():
        sub = df.loc[idx].sort_values("interface")
        names = list(sub["from"]) + [sub["to"].iloc[-1]]
        mats = [cache[n] for n in names]
        if len({a.dtype for a in mats}) > 1:
            mats = [np.asarray(a, dtype=np.float64) for a in mats]
        try:
            f = margin_report(mats, sub["product_norm"].to_numpy()).interfaces
        except (ValueError, TypeError, FloatingPointError):  # sides undefined for this run: NaN
            continue
        pos = [df.index.get_loc(i) for i in sub.index]
        lhs[pos] = f["lhs"].to_numpy()[: len(pos)]
        rhs[pos] = f["rhs"].to_numpy()[: len(pos)]
    return lhs, rhs


def scan_result_chains(layers, plan, memory, patterns):
    """The chains table of a finished scan (see module doc). ``patterns``: dict of user chains."""
    import pandas as pd

    from .margins import _report_reusing, scan_chains

    frames = []
    checkpoints = list(dict.fromkeys(layers["checkpoint"])) if len(layers) else []
    for ck in checkpoints:
        ok = layers[(layers["checkpoint"] == ck) & (layers["status"] == "ok")]
        reader = _Reader(plan, memory, ck)
        groups = [([r], None) for r in sorted(ok["role"].dropna().unique())]
        groups += [([], {n: p}) for n, p in patterns.items()]
        for roles, pats in groups:
            cache = {}  # one chain in memory at a time

            def get(name, cache=cache):
                if name not in cache:
                    cache[name] = reader.read(name)
                return cache[name]

            df = _one_group(ok, get, scan_chains, roles, pats)
            if len(df):
                df = df.reset_index(drop=True)
                lhs, rhs = _sides(df, cache, _report_reusing)
                with np.errstate(divide="ignore", invalid="ignore"):
                    df = df.assign(lhs=lhs, rhs=rhs, rho=np.where(rhs > 0, lhs / rhs, np.nan))
                if len(checkpoints) > 1:
                    df.insert(0, "checkpoint", ck)
                frames.append(df)
            cache.clear()
    if not frames:
        return empty_chains()
    return pd.concat(frames, ignore_index=True)


def plot_chains(chains, path):
    """margins.png of a scan: per interface ``m'_J·|Δα|`` (bars) against ``2μ + |Δε|`` (line),
    every chain one after the other (x: ``chain:interface``)."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    f = chains
    x = np.arange(len(f))
    lhs, rhs = f["lhs"].to_numpy(dtype=float), f["rhs"].to_numpy(dtype=float)
    fig, ax = plt.subplots(figsize=(max(7.5, 0.3 * len(f) + 2), 4.6), dpi=120)
    ax.bar(x, lhs, width=0.6, color="#4c72b0", label=r"$m'_J\,|\Delta\alpha_\ell|$ (theorem's left side)")
    ax.plot(x, rhs, "o", color="#c44e52", ms=5, label=r"$2\mu_\ell + |\Delta\varepsilon_\ell|$ (bound)")
    pos = np.concatenate([lhs[lhs > 0], rhs[rhs > 0]])
    if pos.size and pos.max() > 100 * pos.min():  # sides of very different sizes: both visible on a log axis
        ax.set_yscale("log")
    ax.set_xticks(x)
    ax.set_xticklabels([str(i) for i in f["interface"]], fontsize=7)
    names = list(f["chain"])
    starts = [0] + [i for i in range(1, len(f)) if names[i] != names[i - 1]] + [len(f)]
    for a, b in zip(starts[:-1], starts[1:]):
        if a:
            ax.axvline(a - 0.5, color="#999999", lw=0.6)
        ax.text((a + b - 1) / 2, 1.01, names[a], transform=ax.get_xaxis_transform(), ha="center", va="bottom",
                fontsize=6.5, rotation=0 if b - a > 4 else 30)
    ax.set_ylabel("log-radial units")
    ax.set_xlabel("interface ℓ of each chain (product of layers ℓ+1 and ℓ)")
    ax.set_title("Chain margins per interface: a bar above its dot is a violated bound", fontsize=9, pad=22)
    ax.legend(fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.14), ncol=2, frameon=False)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return path
