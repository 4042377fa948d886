"""The one status channel (issue 7): charts and Bures kernels report the failure of the LOWEST
batch index even when many elements fail and workers finish in any order (FirstFailure in
cpp/include/gsa_fast/status.hpp), and the per-family codes are gone from the extension."""
import re

import numpy as np
import pytest

import gsa_fast as g


def test_charts_lowest_bad_spectrum_wins_across_workers():
    rng = np.random.default_rng(0)
    x = rng.uniform(0.1, 1.0, size=(4000, 16))
    for i in (3999, 2500, 1234, 1777):  # several bad spectra, spread over the workers' chunks
        x[i, 5] = np.nan
    x[1000, 2] = -1.0  # an earlier one of another kind
    x[900, 7] = np.inf
    with pytest.raises(ValueError, match=re.escape("got inf in spectrum (900,) at position 7")):
        g.fit_exponent(x, chart="top")
    with pytest.raises(ValueError, match=re.escape("got inf in spectrum (900,) at position 7")):
        g.radial_residual(x, np.ones(4000))


def test_bures_lowest_failing_pair_names_its_operand():
    rng = np.random.default_rng(1)
    a = rng.uniform(0.1, 1.0, size=(3000, 8))
    b = rng.uniform(0.1, 1.0, size=(3000, 8))
    a[2900, 0] = np.nan
    a[1500, 3] = -5.0
    b[1200, 1] = np.inf  # lowest index: the second operand
    with pytest.raises(ValueError, match=re.escape("b must be finite (no NaN or Inf); got non-finite values at batch index (1200,)")):
        g.bures_distance_diag(a, b)


def test_family_status_enums_are_gone():
    assert not hasattr(g._core, "BuresStatus")
    assert int(g._core.StatusCode.asymmetric) == 6
