"""Assertions and constants shared by the tests (importable: pytest puts tests/ on sys.path)."""
from __future__ import annotations

import numpy as np

UNIT_ROUNDOFF = {
    "bfloat16": 2.0**-8,
    "float16": 2.0**-11,
    "float32": 2.0**-24,
    "float64": 2.0**-53,
}


def assert_rel(actual, expected, rtol, atol=0.0, what=""):
    """|a − e| ≤ atol + rtol·|e| elementwise, with a message giving the worst relative error."""
    a = np.asarray(actual, dtype=np.float64)
    e = np.asarray(expected, dtype=np.float64)
    assert a.shape == e.shape, f"{what}: shape {a.shape} != {e.shape}"
    err = np.abs(a - e)
    bound = atol + rtol * np.abs(e)
    ok = (err <= bound) | ((a == e))
    if not ok.all():
        i = np.argmax(np.where(ok, 0, err / np.maximum(bound, 1e-300)))
        raise AssertionError(
            f"{what}: {np.count_nonzero(~ok)} of {ok.size} outside rtol={rtol}, atol={atol}; "
            f"worst at flat index {i}: {a.ravel()[i]!r} vs {e.ravel()[i]!r}"
        )


# The accuracy contract of gsa_fast.svdvals: |σ̂_k − σ_k| ≤ C·max(m, n)·u·σ_1 (its square root
# for float64 input on the Gram route). Measured worst case ~0.05 (gram) on the test matrices.
CONTRACT_C = 4.0


def contract_bound(name, m, n, s1, method="gram"):
    u = UNIT_ROUNDOFF[name]
    if name == "float64" and method == "gram":
        return np.sqrt(CONTRACT_C * max(m, n) * u) * s1
    return CONTRACT_C * max(m, n) * u * s1


def orth(rng, n):
    """A Haar-random n×n orthogonal matrix."""
    q, r = np.linalg.qr(rng.standard_normal((n, n)))
    return q * np.sign(np.diag(r))


def with_spectrum(rng, m, n, s):
    """U diag(s) Vᵀ with Haar-random U (m×m) and V (n×n); s has min(m, n) entries."""
    q = min(m, n)
    return (orth(rng, m)[:, :q] * s) @ orth(rng, n)[:, :q].T


def dense_from_band(band):
    """The symmetric matrix whose LAPACK lower band storage is `band` (b + 1, n): band[r, j] = B[j + r, j]."""
    n = band.shape[1]
    B = np.zeros((n, n))
    for r in range(min(band.shape[0], n)):
        j = np.arange(n - r)
        B[j + r, j] = band[r, :n - r]
        B[j, j + r] = band[r, :n - r]
    return B


def clustered_symmetric(rng, n):
    """A symmetric n×n matrix with eigenvalues in five tight clusters (1 and 1 + 1e-12 among them)."""
    q, _ = np.linalg.qr(rng.standard_normal((n, n)))
    lam = np.repeat([1.0, 1.0 + 1e-12, 2.0, -3.0, 1e-9], -(-n // 5))[:n]
    G = (q * lam) @ q.T
    return 0.5 * (G + G.T)
