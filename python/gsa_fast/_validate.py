"""Argument checks shared by every public function.

Messages have the form ``"fn(): arg must be …; got …"``. TypeError for wrong kinds and dtypes,
ValueError for wrong shapes and out-of-domain values. Nothing here copies a large array: the
checks read, and conversions happen only for small parameter arrays or when the caller's dtype
already matches.
"""
from __future__ import annotations

import numbers
import operator

import numpy as np

_FLOAT_KINDS = "f"
MAX_EXACT_INT = 2**53  # integers above this are not exact in float64
# One limit per integer argument, checked here before anything is allocated or handed to C++
# (docs/hardening.md). Widths d: 1 <= d <= MAX_WIDTH everywhere (exact in float64).
MAX_WIDTH = MAX_EXACT_INT
MAX_LAPACK_INT = 2**31 - 1  # k, oversample, power_iters, rmax: LAPACK's 32-bit integers
MAX_THREADS = 4096  # threads=, set_num_threads(): worker threads are real OS threads
MAX_SEED = 2**64 - 1  # seeds are uint64 in the kernels
MAX_RESULT_VALUES = 2**28  # results whose size an integer argument sets (2 GiB of float64)


def describe(x) -> str:
    """A short description of a value for error messages."""
    if hasattr(x, "dtype") and hasattr(x, "shape"):
        return f"{type(x).__module__.split('.')[0]}.ndarray of dtype {x.dtype} and shape {tuple(x.shape)}"
    if isinstance(x, (bool, np.bool_)):
        return f"bool {x!r}"
    if isinstance(x, numbers.Number):
        return f"{type(x).__name__} {x!r}"
    if isinstance(x, (list, tuple)):
        return f"{type(x).__name__} of length {len(x)}"
    return f"{type(x).__name__}"


def type_error(fn: str, arg: str, expected: str, x) -> TypeError:
    return TypeError(f"{fn}(): {arg} must be {expected}; got {describe(x)}")


def value_error(fn: str, arg: str, expected: str, got: str) -> ValueError:
    return ValueError(f"{fn}(): {arg} must be {expected}; got {got}")


def _as_numeric_array(x, fn: str, arg: str, expected: str) -> np.ndarray:
    if isinstance(x, (str, bytes)) or x is None:
        raise type_error(fn, arg, expected, x)
    if hasattr(x, "__cuda_array_interface__") and not isinstance(x, np.ndarray):
        raise type_error(fn, arg, expected + " on the host (numpy)", x)
    try:
        a = np.asarray(x)
    except Exception as exc:  # ragged nested lists and the like
        raise type_error(fn, arg, expected, x) from exc
    if a.dtype == object or a.dtype.kind not in "biuf":
        raise type_error(fn, arg, expected, x)
    if a.dtype.kind == "b":
        raise type_error(fn, arg, expected + " (not bool)", x)
    return a


def as_count_array(x, fn: str, arg: str, *, minimum: int = 0) -> np.ndarray:
    """Non-negative integer counts (such as a width d) as int64. Integral floats are accepted."""
    expected = f"an integer (or array of integers) >= {minimum}"
    a = _as_numeric_array(x, fn, arg, expected)
    if a.dtype.kind == "f":
        if not np.all(np.isfinite(a)):
            raise value_error(fn, arg, f"finite integers >= {minimum}", "NaN or Inf")
        if not np.all(a == np.floor(a)):
            bad = a[a != np.floor(a)].ravel()[0]
            raise value_error(fn, arg, f"integers >= {minimum}", f"non-integer {bad.item()!r}")
        if np.any(np.abs(a) > MAX_EXACT_INT):
            raise value_error(fn, arg, "integers <= 2**53", f"{a.max().item()!r}")
        a = a.astype(np.int64)
    elif a.dtype.kind == "u":
        if a.size and a.max() > np.iinfo(np.int64).max:
            raise value_error(fn, arg, "integers that fit in int64", f"{a.max().item()!r}")
        a = a.astype(np.int64)
    else:
        a = a.astype(np.int64, copy=False)
    if a.size and a.min() < minimum:
        raise value_error(fn, arg, f"integers >= {minimum}", f"{a.min().item()!r}")
    return a


def as_real_array(x, fn: str, arg: str, *, lo=None, hi=None, lo_open=False, hi_open=False,
                  allow_inf=False, what="a real number (or array of reals)") -> np.ndarray:
    """Finite real parameters as float64 with an optional interval check."""
    a = _as_numeric_array(x, fn, arg, what)
    a = a.astype(np.float64, copy=False)
    if np.isnan(a).any():
        raise value_error(fn, arg, "free of NaN", "NaN")
    if not allow_inf and np.isinf(a).any():
        raise value_error(fn, arg, "finite", "Inf")
    if lo is not None and a.size:
        bad = (a <= lo) if lo_open else (a < lo)
        if bad.any():
            rel = ">" if lo_open else ">="
            raise value_error(fn, arg, f"{rel} {lo}", repr(float(a[bad].ravel()[0])))
    if hi is not None and a.size:
        bad = (a >= hi) if hi_open else (a > hi)
        if bad.any():
            rel = "<" if hi_open else "<="
            raise value_error(fn, arg, f"{rel} {hi}", repr(float(a[bad].ravel()[0])))
    return a


def as_int(x, fn: str, arg: str, *, choices=None, minimum=None, maximum=None) -> int:
    """A Python int argument (power, window bounds, thread counts), range-checked."""
    if isinstance(x, (bool, np.bool_)):
        raise type_error(fn, arg, "an int", x)
    try:
        v = operator.index(x)
    except TypeError:
        raise type_error(fn, arg, "an int", x) from None
    if choices is not None and v not in choices:
        raise value_error(fn, arg, f"one of {sorted(choices)}", repr(v))
    if minimum is not None and v < minimum:
        raise value_error(fn, arg, f">= {minimum}", repr(v))
    if maximum is not None and v > maximum:
        lo = "" if minimum is None else f"{minimum} <= "
        raise value_error(fn, arg, f"an int with {lo}{arg} <= {_limit_name(maximum)}", repr(v))
    return v


def _limit_name(v: int) -> str:
    names = {MAX_LAPACK_INT: "2**31 - 1", MAX_SEED: "2**64 - 1", MAX_EXACT_INT: "2**53"}
    return names.get(v, str(v))


def as_threads(threads, fn: str) -> int:
    """threads=None (0: the library default) or an int in [1, MAX_THREADS]."""
    if threads is None:
        return 0
    return as_int(threads, fn, "threads", minimum=1, maximum=MAX_THREADS)


def empty_result(count: int, fn: str, arg: str, got: str, dtype=np.float64) -> np.ndarray:
    """np.empty(count) for a result whose size an integer argument sets: at most
    MAX_RESULT_VALUES values, and a ValueError naming the argument instead of numpy's
    MemoryError (or an overcommitted allocation the kernel then fills) otherwise."""
    expected = f"small enough for a result of at most 2**28 values; it asks for {count} values"
    if count > MAX_RESULT_VALUES:
        raise value_error(fn, arg, expected, got)
    try:
        return np.empty(count, dtype=dtype)
    except MemoryError:
        raise value_error(fn, arg, expected + " (out of memory)", got) from None


def as_float_matrix_stack(x, fn: str, arg: str, *, min_ndim: int = 2) -> np.ndarray:
    """A real floating array of ndim >= min_ndim, checked for NaN/Inf, not copied."""
    if not hasattr(x, "dtype"):
        x = _as_numeric_array(x, fn, arg, "a real floating array")
    if x.dtype.kind not in _FLOAT_KINDS:
        raise type_error(fn, arg, "a real floating array (float16/32/64)", x)
    if x.ndim < min_ndim:
        raise value_error(fn, arg, f"an array with at least {min_ndim} dimensions",
                          f"shape {tuple(x.shape)}")
    return x


def check_finite(x, fn: str, arg: str) -> None:
    if x.size and not np.isfinite(x).all():
        raise value_error(fn, arg, "finite (no NaN or Inf)", "non-finite values")


def as_width(x, fn: str, arg: str = "d", *, minimum: int = 1) -> np.ndarray:
    """Spectral widths: integers in [minimum, MAX_WIDTH = 2**53] (exact in float64) as int64."""
    d = as_count_array(x, fn, arg, minimum=minimum)
    if d.size and d.max() > MAX_WIDTH:
        raise value_error(fn, arg, "integers <= 2**53", repr(int(d.max())))
    return d


def broadcast_flat(*arrays):
    """Broadcast small parameter arrays; return the result shape and contiguous 1-D copies."""
    b = np.broadcast_arrays(*arrays)
    return b[0].shape, [np.ascontiguousarray(x).reshape(-1) for x in b]


def as_eps_levels(eps, fn: str) -> np.ndarray:
    """Tail levels ε for truncation ranks: a scalar or 1-D array in [0, 1) (ε = 0 → the rank)."""
    expected = "a real number or 1-D array of reals in [0, 1)"
    if isinstance(eps, (str, bytes)) or eps is None:
        raise type_error(fn, "eps", expected, eps)
    if hasattr(eps, "__cuda_array_interface__") and not isinstance(eps, np.ndarray):
        raise type_error(fn, "eps", "a real number or 1-D numpy array (no CUDA kernel)", eps)
    try:
        a = np.asarray(eps)
    except Exception as exc:  # ragged nested lists
        raise type_error(fn, "eps", expected, eps) from exc
    if a.dtype == object or a.dtype.kind not in "iuf" or a.dtype.kind == "b":
        raise type_error(fn, "eps", expected, eps)
    if a.ndim > 1:
        raise value_error(fn, "eps", "a scalar or 1-D array", f"shape {a.shape}")
    a = a.astype(np.float64)
    if np.isnan(a).any():
        raise value_error(fn, "eps", "in [0, 1)", "NaN")
    bad = (a < 0) | (a >= 1)
    if bad.any():
        raise value_error(fn, "eps", "in [0, 1) (ε = 0 gives the rank)", repr(float(a[bad].ravel()[0])))
    return a
