"""Reference (pure numpy) tails functions."""
from __future__ import annotations

__all__: list[str] = []
