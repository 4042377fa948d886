"""gsa_fast: compiled kernels for the spectral side of Geometric and Spectral Alignment (GSA).

Pipeline: weights → spectra (:func:`gram`, :func:`svdvals`) → GSA reductions (sums, orbit,
energy/tails/ranks, charts, Bures) → reports. Every public function has a pure-numpy twin of
the same name in :mod:`gsa_fast.reference`. numpy in, numpy out; cupy in, cupy out where a
CUDA kernel exists.
"""
from __future__ import annotations

import sys as _sys
import types as _types

from . import _backend
from . import energy as _energy  # the module; `energy` below is its public function
from ._info import build_info, get_num_threads, set_num_threads
from ._ragged import RaggedSpectra
from .energy import *  # noqa: F401,F403

# the energy family's module was called `spectral` before the one-stem renaming: keep that name
spectral = _energy
_sys.modules[f"{__name__}.spectral"] = _energy

__version__ = _backend.core.version  # read from the extension; no CUDA driver call

#: Public kernels: every name here has a reference twin, a test and a benchmark (the route table
#: lists each one with its family module).
KERNELS = tuple(sorted(_backend.ROUTES))

__all__ = [*KERNELS, "RaggedSpectra", "build_info", "get_num_threads", "set_num_threads", "reference", "KERNELS"]

# The model scan (the product): gsa_fast.scan(...) -> ScanResult. This name is the function; the
# module is gsa_fast.scan in sys.modules (from gsa_fast.scan import format_table works).
__all__ += ["scan", "ScanResult"]

# Lazy loading (PEP 562): the family modules, the scan and the reference twin are imported on
# first use of one of their names, so `import gsa_fast` (and gsa_fast.compat.weightwatcher, which
# needs only spectra and esd) does not pay for the scan's, the depth and the margins machinery.
# public name -> the submodule that defines it
_LAZY = {name: _backend.FAMILY_MODULE[route.family] for name, route in _backend.ROUTES.items()}
_LAZY.update({m: m for m in _backend.FAMILY_MODULE.values()})
_LAZY.update({"scan": "scan", "ScanResult": "scan", "reference": "reference"})
_LAZY.pop("energy")  # eager above (the `spectral` alias needs the module object)
# submodules whose name is also a public function of the package: the package attribute stays
# the function when the import system binds the submodule (tests/test_imports.py)
_FUNCTION_NAMED = frozenset({"scan", "energy"})


def __getattr__(name):
    mod = _LAZY.get(name)
    if mod is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    import importlib

    module = importlib.import_module(f"{__name__}.{mod}")
    value = module if name == mod and name not in _FUNCTION_NAMED else getattr(module, name)
    globals()[name] = value  # later look-ups skip this hook
    return value


def __dir__():
    return sorted(set(globals()) | set(_LAZY))


class _Package(_types.ModuleType):
    """gsa_fast's module type: keeps ``gsa_fast.scan``/``gsa_fast.energy`` the functions when
    ``import gsa_fast.scan`` binds the submodule to the package (the module stays in sys.modules)."""

    def __setattr__(self, name, value):
        if name in _FUNCTION_NAMED and isinstance(value, _types.ModuleType):
            return
        super().__setattr__(name, value)


_sys.modules[__name__].__class__ = _Package
