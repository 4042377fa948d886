"""Reference (pure numpy) charts functions."""
from __future__ import annotations

__all__: list[str] = []
