"""The main job: a spectral scan of a model's layer matrices (weights → spectra → diagnostics).

``scan_matrices`` computes every layer's singular spectrum in one batched call
(:func:`gsa_fast.svdvals` over the ragged list of shapes) and the per-layer GSA diagnostics of
spec §9 that need no chain: the width q₊, the fitted exponents of the three charts (§6.2), the
signed radial residual ε and the normalized chart error Ē at the top-radial fit (§6.1, §5.3),
the truncation ranks r_ε of the spectrum and of the fitted orbit with the tail residual τ (§8),
the spectral entropy (§4.4) and the radial functional m(P) (§4.2).
"""
from __future__ import annotations

import time

import numpy as np

__all__ = ["scan_matrices", "format_table", "compare_with_numpy"]


def scan_matrices(matrices: dict, *, eps=(0.1, 0.01), method="gram", interval=(0.0, 5.0), threads=None):
    """Per-layer diagnostics for a dict name → 2-D matrix. Returns (rows, timings)."""
    import gsa_fast as g

    names = list(matrices)
    mats = [matrices[n] for n in names]
    t0 = time.perf_counter()
    spectra = g.svdvals(mats, method=method, threads=threads)
    t1 = time.perf_counter()
    eps = np.asarray(eps, dtype=np.float64)
    qplus = g.rank_count(spectra)
    alpha = {c: g.fit_exponent(spectra, chart=c, interval=interval) for c in ("top", "bures", "lsq")}
    a_top = alpha["top"]
    resid = g.radial_residual(spectra, a_top)
    ebar = g.chart_error(spectra, alpha["bures"])
    ranks = g.truncation_rank(spectra, eps)
    model_ranks = g.orbit_truncation_rank(np.nan_to_num(alpha["lsq"])[:, None], eps[None, :],
                                          np.maximum(qplus, 1)[:, None])
    tau = g.tail_residual(spectra, alpha["lsq"])
    ent = g.spectral_entropy(spectra)
    m = g.radial_functional(spectra)
    t2 = time.perf_counter()
    rows = []
    for i, n in enumerate(names):
        a = mats[i]
        rows.append({
            "name": n, "shape": tuple(int(s) for s in a.shape), "dtype": str(a.dtype),
            "q_plus": int(qplus[i]), "sigma_1": float(spectra[i][0]) if len(spectra[i]) else 0.0,
            "alpha_top": float(a_top[i]), "alpha_bures": float(alpha["bures"][i]),
            "alpha_lsq": float(alpha["lsq"][i]), "residual_top": float(resid[i]),
            "chart_error_bures": float(ebar[i]), "entropy": float(ent[i]), "m": float(m[i]),
            "tail_residual_lsq": float(tau[i]),
            **{f"r_{e:g}": int(ranks[i, j]) for j, e in enumerate(eps)},
            **{f"r_{e:g}_model": int(model_ranks[i, j]) for j, e in enumerate(eps)},
        })
    timings = {"spectra_s": t1 - t0, "diagnostics_s": t2 - t1,
               "matrices": len(mats), "parameters": int(sum(a.size for a in mats))}
    return rows, timings


def format_table(rows, eps=(0.1, 0.01)) -> str:
    cols = [("layer", "name", "{}"), ("shape", "shape", "{}"), ("q+", "q_plus", "{}"),
            ("σ1", "sigma_1", "{:.4g}"), ("α_top", "alpha_top", "{:.4f}"), ("α_BW", "alpha_bures", "{:.4f}"),
            ("α_lsq", "alpha_lsq", "{:.4f}"), ("Ē_BW", "chart_error_bures", "{:.4f}"),
            ("τ_lsq", "tail_residual_lsq", "{:.4f}"), ("Ent", "entropy", "{:.3f}"), ("m(P)", "m", "{:.4f}")]
    for e in eps:
        cols.append((f"r_{e:g}", f"r_{e:g}", "{}"))
        cols.append((f"r_{e:g}(α)", f"r_{e:g}_model", "{}"))
    cells = [[h for h, _, _ in cols]]
    for r in rows:
        name = r["name"]
        if len(name) > 48:
            name = "…" + name[-47:]
        cells.append([name if k == "name" else f.format(r[k]) for h, k, f in cols])
    widths = [max(len(row[j]) for row in cells) for j in range(len(cols))]
    lines = []
    for i, row in enumerate(cells):
        lines.append("  ".join(c.ljust(w) if j == 0 else c.rjust(w) for j, (c, w) in enumerate(zip(row, widths))))
        if i == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)


def compare_with_numpy(matrices: dict, spectra) -> dict:
    """The peer a user would otherwise run: a Python loop of float64 ``numpy.linalg.svd``
    (``compute_uv=False``) over upcast copies, one matrix at a time (what WeightWatcher does).
    Returns its time and the largest deviation of gsa_fast's values from it, in units of
    ``max(m, n)·u·σ_1`` (u: the input's unit roundoff) — the accuracy contract of ``svdvals``."""
    units = {"float64": 2.0**-53, "float32": 2.0**-24, "float16": 2.0**-11, "bfloat16": 2.0**-8}
    t0 = time.perf_counter()
    ref = [np.linalg.svd(np.asarray(a, dtype=np.float64), compute_uv=False) for a in matrices.values()]
    t1 = time.perf_counter()
    worst = 0.0
    for i, (a, r) in enumerate(zip(matrices.values(), ref)):
        if r.size == 0:
            continue
        u = units.get(str(a.dtype), 2.0**-8)
        worst = max(worst, float(np.max(np.abs(spectra[i] - r)) / (max(a.shape) * u * r[0])))
    return {"numpy_svd_loop_s": t1 - t0, "max_error_in_contract_units": worst}
