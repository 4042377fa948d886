"""Bad input to the energy family (truncation_rank, energy, spectrum_tails, spectral_entropy,
radial_functional, rank_count) and its reference twin: one-line TypeError/ValueError naming the
argument and the offending spectrum (split from tests/test_energy.py to keep files short)."""
from __future__ import annotations

import numpy as np
import pytest

import gsa_fast as g
from gsa_fast import reference as ref
from gsa_fast._ragged import RaggedSpectra

# ------------------------------------------------------------------------------------------------
# bad input


class CupyLike:
    __cuda_array_interface__ = {"shape": (2, 3), "typestr": "<f8", "data": (0, False), "version": 3}
    dtype = np.dtype(np.float64)
    shape = (2, 3)


def _without_device(f, *args):
    """``f(*args)`` as on a machine without a usable CUDA device (with one, device memory other
    than cupy's is viewed as cupy and takes the CUDA route: tests/test_interop.py)."""
    from unittest import mock

    from gsa_fast import _backend

    with mock.patch.object(_backend, "cuda_available", lambda: False):
        return f(*args)


def _nan3():
    x = np.ones((5, 4))
    x[3, 2] = np.nan
    return x


GOOD = np.array([[3.0, 1.0], [2.0, 2.0]])

BAD = [
    # (call, exception, message regex)
    (lambda: g.truncation_rank(_nan3(), 0.1), ValueError, r"truncation_rank\(\): spectra must be finite nonnegative.*NaN at position 2 of spectrum 3"),
    (lambda: g.spectrum_tails(_nan3()), ValueError, r"spectrum_tails\(\): spectra .*spectrum 3"),
    (lambda: g.energy(np.array([[1.0, np.inf], [1, 1]])), ValueError, r"energy\(\): .*Inf at position 1 of spectrum 0"),
    (lambda: g.spectral_entropy(np.array([[1.0, 1], [1, -1e-3]])), ValueError, r"negative value at position 1 of spectrum 1"),
    (lambda: g.radial_functional(np.array([[1.0, 1], [-2, 1]])), ValueError, r"negative value .* spectrum 1"),
    (lambda: g.rank_count(np.array([np.nan, 1.0])), ValueError, r"rank_count\(\): .*NaN .*spectrum 0"),
    (lambda: g.truncation_rank(np.ones((2, 3, 4)) * np.where(np.arange(24) == 17, -1, 1).reshape(2, 3, 4), 0.1),
     ValueError, r"spectrum \(1, 1\)"),
    (lambda: g.truncation_rank(RaggedSpectra.from_list([[1.0], [], [2, np.nan]]), 0.1), ValueError, r"spectrum 2"),
    (lambda: g.truncation_rank(GOOD, 1.0), ValueError, r"truncation_rank\(\): eps must be in \[0, 1\).*got 1.0"),
    (lambda: g.truncation_rank(GOOD, -0.1), ValueError, r"eps must be in \[0, 1\).*got -0.1"),
    (lambda: g.truncation_rank(GOOD, [0.1, 2.0]), ValueError, r"eps must be in \[0, 1\).*got 2.0"),
    (lambda: g.truncation_rank(GOOD, np.nan), ValueError, r"eps must be in \[0, 1\); got NaN"),
    (lambda: g.truncation_rank(GOOD, [[0.1]]), ValueError, r"eps must be a scalar or 1-D array"),
    (lambda: g.truncation_rank(GOOD, "0.1"), TypeError, r"eps must be a real number"),
    (lambda: g.truncation_rank(GOOD, True), TypeError, r"eps must be a real number"),
    (lambda: g.truncation_rank(GOOD, None), TypeError, r"eps must be"),
    (lambda: g.truncation_rank(np.float64(3.0), 0.1), ValueError, r"spectra must be at least 1-D"),
    (lambda: g.energy(np.array(2.0)), ValueError, r"energy\(\): spectra must be at least 1-D"),
    (lambda: g.truncation_rank(np.ones(3, dtype=bool), 0.1), TypeError, r"spectra must be a real floating array"),
    (lambda: g.spectrum_tails(np.ones(3, dtype=complex)), TypeError, r"spectrum_tails\(\): spectra must be a real floating"),
    (lambda: g.truncation_rank(np.array([1.0, "a"], dtype=object), 0.1), TypeError, r"spectra must be a real floating"),
    (lambda: _without_device(g.truncation_rank, CupyLike(), 0.1), TypeError,
     # truncation_rank has a CUDA kernel: the message must not say it has none
     r"spectra must be a numpy array \(no CUDA kernel for this function or argument, or no usable CUDA device"),
    (lambda: g.truncation_rank("abc", 0.1), TypeError, r"spectra must be an array of spectra"),
    (lambda: g.truncation_rank(None, 0.1), TypeError, r"spectra must be an array of spectra"),
    # strided views are accepted (issue 8); a NaN in one is reported by its spectrum index
    (lambda: g.truncation_rank(np.where(np.arange(24).reshape(3, 8) == 20, np.nan, 1.0)[:, ::2], 0.1),
     ValueError, r"NaN at position 2 of spectrum 2"),
    (lambda: g.truncation_rank(RaggedSpectra(np.ones(3), np.array([0, 2])), 0.1), ValueError, r"offsets must be nondecreasing from 0"),
    (lambda: g.truncation_rank(RaggedSpectra(np.ones(3, dtype=int), np.array([0, 3])), 0.1), TypeError, r"values must be a float32"),
    (lambda: g.radial_functional(GOOD, 0), ValueError, r"radial_functional\(\): d must be integers >= 1"),
    (lambda: g.radial_functional(GOOD, 2.5), ValueError, r"d must be integers >= 1; got non-integer 2.5"),
    (lambda: g.radial_functional(GOOD, "7"), TypeError, r"d must be an integer"),
    (lambda: g.rank_count(GOOD, -1.0), ValueError, r"rank_count\(\): tol must be a finite real number >= 0"),
    (lambda: g.rank_count(GOOD, np.nan), ValueError, r"tol must be a finite real number >= 0"),
    (lambda: g.rank_count(GOOD, "0"), TypeError, r"rank_count\(\): tol must be a real number"),
]


@pytest.mark.parametrize("call,exc,msg", BAD, ids=[f"bad{i}" for i in range(len(BAD))])
def test_bad_input(call, exc, msg):
    with pytest.raises(exc, match=msg):
        call()


@pytest.mark.parametrize("name,args", [("truncation_rank", (0.1,)), ("energy", ()), ("spectrum_tails", ()),
                                       ("spectral_entropy", ()), ("radial_functional", ()), ("rank_count", ())])
def test_reference_rejects_the_same(name, args):
    for bad, exc in [(_nan3(), ValueError), (np.array(1.0), ValueError), (np.ones(2, dtype=complex), TypeError)]:
        with pytest.raises(exc, match=rf"{name}\(\)"):
            getattr(ref, name)(bad, *args)
    with pytest.raises(ValueError, match="spectrum 3"):
        getattr(ref, name)(_nan3(), *args)


@pytest.mark.parametrize("mod", [g, ref], ids=["fast", "reference"])
def test_lists_of_spectra_are_lists_of_1d_arrays(mod):
    """A list of spectra is the ragged-batch form: each element one 1-D spectrum. A 2-D element
    is refused (it used to be flattened into one spectrum), and a non-real element gets a
    TypeError naming its index; a ragged list works for effective_rank as for the others."""
    with pytest.raises(ValueError, match=r"truncation_rank\(\): spectra must be a list of 1-D spectra; "
                                         r"got element 0 of shape \(2, 3\)"):
        mod.truncation_rank([np.ones((2, 3)), np.ones((2, 3))], 0.1)
    with pytest.raises(ValueError, match=r"energy\(\): spectra must be a list of 1-D spectra"):
        mod.energy([np.ones(3), np.ones((4, 4))])
    with pytest.raises(TypeError, match=r"effective_rank\(\): spectra\[1\] must be a real 1-D array"):
        mod.effective_rank([np.ones(3), ["a", "b"]])
    np.testing.assert_allclose(mod.effective_rank([np.ones(3), np.ones(4, np.float32)]), [3.0, 4.0], rtol=1e-15)
    with pytest.raises(ValueError, match=r"RaggedSpectra.from_list\(\): spectra must be a list of 1-D arrays"):
        g.RaggedSpectra.from_list([np.ones((2, 2))])
