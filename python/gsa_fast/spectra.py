"""spectra kernels (see the spec section in the module docstring once implemented)."""
from __future__ import annotations

__all__: list[str] = []
