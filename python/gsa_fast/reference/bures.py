"""Reference (pure numpy) bures functions."""
from __future__ import annotations

__all__: list[str] = []
