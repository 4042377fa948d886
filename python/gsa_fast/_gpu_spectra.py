"""GPU route of :func:`gsa_fast.gram` and :func:`gsa_fast.svdvals` for cupy arrays.

Dense factorizations come from cupy (cuBLAS GEMM, cuSOLVER ``syevd``/``gesvd``); the Gram is
accumulated in float64 from row or column panels converted on the device (bf16/f16/f32 → f64),
so device memory stays at one panel and one Gram per matrix, never a float64 copy of the input.
Same accuracy contract as the CPU route: σ_k within c·max(m,n)·u·σ_1 of the float64 SVD.
"""
from __future__ import annotations

PANEL_BYTES = 256 * 2**20  # float64 bytes per converted panel


def _to_f64(cp, block, bf16: bool):
    if bf16:
        return (block.astype(cp.uint32) << 16).view(cp.float32).astype(cp.float64)
    return block.astype(cp.float64)


def gram_one(cp, a, bf16: bool = False):
    """float64 Gram of the smaller side of one 2-D cupy matrix (AᵀA if n ≤ m else AAᵀ)."""
    m, n = a.shape
    if n <= m:  # G = Σ_panels A_pᵀ A_p over row panels
        g = cp.zeros((n, n), dtype=cp.float64)
        step = max(1, PANEL_BYTES // (8 * max(n, 1)))
        for i in range(0, m, step):
            p = _to_f64(cp, a[i:i + step], bf16)
            g += p.T @ p
    else:  # G = Σ_panels A_p A_pᵀ over column panels
        g = cp.zeros((m, m), dtype=cp.float64)
        step = max(1, PANEL_BYTES // (8 * max(m, 1)))
        for j in range(0, n, step):
            p = _to_f64(cp, a[:, j:j + step], bf16)
            g += p @ p.T
    return (g + g.T) * 0.5


def svdvals_one(cp, a, method: str, bf16: bool = False):
    m, n = a.shape
    q = min(m, n)
    if q == 0:
        return cp.zeros(0, dtype=cp.float64)
    if method == "svd":
        s = cp.linalg.svd(_to_f64(cp, a, bf16), compute_uv=False)
        return s
    w = cp.linalg.eigvalsh(gram_one(cp, a, bf16))
    return cp.sqrt(cp.clip(w[::-1], 0.0, None))


def check_finite(cp, a, fn: str, index: int):
    if a.size and not bool(cp.isfinite(a.astype(cp.float32) if a.dtype == cp.float16 else a).all()):
        raise ValueError(f"{fn}(): x[{index}] must be finite (no NaN or Inf); got non-finite values")
