"""Result types of gsa_fast.spectra, shared with the reference twin (no compiled code)."""
from __future__ import annotations

from typing import NamedTuple

import numpy as np


class TopK(NamedTuple):
    """Result of ``svdvals(x, method="topk", k=...)``.

    values : float64 ``(..., k)`` (stacked input) or :class:`RaggedSpectra` (list input)
        The top ``min(k, min(m, n))`` singular values, descending.
    frobenius_sq : float64 array, one per matrix
        ``‖A‖_F² = Σ_k σ_k²`` computed exactly (a float64 sum of the squared entries), so tails
        ``‖A‖_F² − Σ_{j≤k} σ_j²`` and truncation ranks stay exact.
    error_bound : float64 array, one per matrix
        ``‖A − QQᵀA‖_F`` measured by a direct pass (Q: the sketch basis). Every returned value
        satisfies ``0 ≤ σ_j − σ̂_j ≤ error_bound`` (Weyl), up to float64 rounding; 0 when the sketch
        covers the whole matrix (``k + oversample ≥ min(m, n)``: computed by the Gram route).
    """

    values: object
    frobenius_sq: np.ndarray
    error_bound: np.ndarray


class SpectraInfo(NamedTuple):
    """Second result of ``svdvals(..., return_info=True)`` for ``method="gram"``/``"svd"``.

    frobenius_sq : ``Σ σ̂_k²`` per matrix.
    error_bound : the a-priori bound of the accuracy contract per matrix
        (``4·max(m, n)·u·σ̂_1``, or its square-root form for float64 input on the Gram route).
    method : the method used.
    """

    frobenius_sq: np.ndarray
    error_bound: np.ndarray
    method: str
