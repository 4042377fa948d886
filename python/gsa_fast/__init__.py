"""gsa_fast: compiled kernels for the spectral side of Geometric and Spectral Alignment (GSA).

Pipeline: weights → spectra (:func:`gram`, :func:`svdvals`) → GSA reductions (sums, orbit,
energy/tails/ranks, charts, Bures) → reports. Every public function has a pure-numpy twin of
the same name in :mod:`gsa_fast.reference`. numpy in, numpy out; cupy in, cupy out where a
CUDA kernel exists.
"""
from __future__ import annotations

from . import bures, charts, orbit, reference, spectra, spectral, sums, tails
from ._info import build_info, get_num_threads, set_num_threads
from ._ragged import RaggedSpectra
from .bures import *  # noqa: F401,F403
from .charts import *  # noqa: F401,F403
from .spectral import *  # noqa: F401,F403
from .orbit import *  # noqa: F401,F403
from .spectra import *  # noqa: F401,F403
from .sums import *  # noqa: F401,F403
from .tails import *  # noqa: F401,F403

__version__ = build_info()["version"]

#: Public kernels: every name here has a reference twin, a test and a benchmark.
KERNELS = tuple(sorted(
    set(sums.__all__) | set(orbit.__all__) | set(spectral.__all__) | set(tails.__all__)
    | set(bures.__all__) | set(charts.__all__) | set(spectra.__all__)
))

__all__ = [*KERNELS, "RaggedSpectra", "build_info", "get_num_threads", "set_num_threads", "reference", "KERNELS"]

# The model scan (the product): gsa_fast.scan(...) -> ScanResult. This name is the function; the
# module is gsa_fast.scan in sys.modules (from gsa_fast.scan import format_table works).
# pandas/matplotlib/tqdm are imported inside it, so this import stays numpy-only.
from .scan import ScanResult, scan  # noqa: E402

__all__ += ["scan", "ScanResult"]
