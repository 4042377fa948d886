"""gsa_fast: compiled kernels for the spectral side of Geometric and Spectral Alignment (GSA).

Pipeline: weights → spectra (:func:`gram`, :func:`svdvals`) → GSA reductions (sums, orbit,
energy/tails/ranks, charts, Bures) → reports. Every public function has a pure-numpy twin of
the same name in :mod:`gsa_fast.reference`. numpy in, numpy out; cupy in, cupy out where a
CUDA kernel exists.
"""
from __future__ import annotations

import sys as _sys

from . import _backend, bures, charts, orbit, spectra, sums, tails
from . import energy as _energy  # the module; `energy` below is its public function
from . import esd  # ESD power-law fit (WeightWatcher's alpha), issue 10
from . import depth, margins
from ._info import build_info, get_num_threads, set_num_threads
from ._ragged import RaggedSpectra
from .bures import *  # noqa: F401,F403
from .charts import *  # noqa: F401,F403
from .energy import *  # noqa: F401,F403
from .esd import *  # noqa: F401,F403
from .depth import *  # noqa: F401,F403
from .margins import *  # noqa: F401,F403
from .orbit import *  # noqa: F401,F403
from .spectra import *  # noqa: F401,F403
from .sums import *  # noqa: F401,F403
from .tails import *  # noqa: F401,F403

# the energy family's module was called `spectral` before the one-stem renaming: keep that name
spectral = _energy
_sys.modules[f"{__name__}.spectral"] = _energy

__version__ = _backend.core.version  # read from the extension; no CUDA driver call


def __getattr__(name):  # `gsa_fast.reference` is imported on first use (PEP 562)
    if name == "reference":
        import importlib

        return importlib.import_module(f"{__name__}.reference")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

#: Public kernels: every name here has a reference twin, a test and a benchmark.
KERNELS = tuple(sorted(
    set(sums.__all__) | set(orbit.__all__) | set(_energy.__all__) | set(tails.__all__)
    | set(bures.__all__) | set(charts.__all__) | set(spectra.__all__)
    | set(esd.__all__)
    | set(depth.__all__)
    | set(margins.__all__)
))

__all__ = [*KERNELS, "RaggedSpectra", "build_info", "get_num_threads", "set_num_threads", "reference", "KERNELS"]

# The model scan (the product): gsa_fast.scan(...) -> ScanResult. This name is the function; the
# module is gsa_fast.scan in sys.modules (from gsa_fast.scan import format_table works).
# pandas/matplotlib/tqdm are imported inside it, so this import stays numpy-only.
from .scan import ScanResult, scan  # noqa: E402

__all__ += ["scan", "ScanResult"]
