"""Compatibility layers: other tools' tables computed by gsa_fast (``compat.weightwatcher``).

Submodules are imported on use: ``from gsa_fast.compat import weightwatcher``.
"""

_SUBMODULES = ("weightwatcher",)
__all__ = list(_SUBMODULES)


def __getattr__(name):  # `gsa_fast.compat.weightwatcher` without an import statement (PEP 562)
    if name in _SUBMODULES:
        import importlib

        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(_SUBMODULES))
