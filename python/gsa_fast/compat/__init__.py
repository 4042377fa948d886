"""Compatibility layers: other tools' tables computed by gsa_fast (``compat.weightwatcher``).

Submodules are imported on use: ``from gsa_fast.compat import weightwatcher``.
"""
