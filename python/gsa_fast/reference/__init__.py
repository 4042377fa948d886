"""Pure-numpy float64 reference implementation of every public gsa_fast function.

Written for clarity, not speed. Every compiled kernel is tested against the function of the same
name here (tests/test_registry.py checks that the two namespaces list the same names).
"""
from __future__ import annotations

from . import bures, charts, orbit, spectra, sums, tails
from . import energy as _energy  # the module; `energy` below is its public function
from .bures import *  # noqa: F401,F403
from .charts import *  # noqa: F401,F403
from .energy import *  # noqa: F401,F403
from . import esd
from .esd import *  # noqa: F401,F403
from . import depth, margins
from .depth import *  # noqa: F401,F403
from .margins import *  # noqa: F401,F403
from .orbit import *  # noqa: F401,F403
from .spectra import *  # noqa: F401,F403
from .sums import *  # noqa: F401,F403
from .tails import *  # noqa: F401,F403

__all__ = sorted(
    set(sums.__all__) | set(orbit.__all__) | set(_energy.__all__) | set(tails.__all__)
    | set(bures.__all__) | set(charts.__all__) | set(spectra.__all__)
    | set(esd.__all__)
    | set(depth.__all__)
    | set(margins.__all__)
)
