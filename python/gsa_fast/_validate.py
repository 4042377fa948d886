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

MAX_EXACT_INT = 2**53  # integers above this are not exact in float64
#: Unit roundoff u of each storage format: the one table (svdvals' contract, the reference, the scan).
UNIT_ROUNDOFF = {"float64": 2.0**-53, "float32": 2.0**-24, "float16": 2.0**-11, "bfloat16": 2.0**-8}
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


# ---- the wording of the kernels' Status channel ----------------------------------------------------
# _status.raise_status turns a kernel's Status into these errors; the reference twins, which find
# the same failures with numpy, raise them through the same builders (one wording, one place).

FOUND = {"nan": "NaN", "inf": "Inf", "negative": "a negative value"}


def invalid_value_error(fn: str, arg: str, found: str, position: int, element: str) -> ValueError:
    """An invalid singular value (``found``: "nan", "inf" or "negative") at ``position`` of
    batch element ``element`` (e.g. "spectrum 3")."""
    return value_error(fn, arg, "finite nonnegative singular values",
                       f"{FOUND[found]} at position {position} of {element}")


def nonfinite_error(fn: str, element: str) -> ValueError:
    """NaN or Inf somewhere in batch element ``element`` (position unknown)."""
    return ValueError(f"{fn}(): {element} must be finite (no NaN or Inf); got non-finite values")


def lapack_error(fn: str, element: str, info: int) -> RuntimeError:
    return RuntimeError(f"{fn}(): LAPACK failed on {element} (info = {info})")


def first_invalid(x) -> tuple | None:
    """(found, position) of the first NaN, ±Inf or negative entry of the 1-D ``x`` in storage
    order, or None: what the kernels' ``first_invalid`` (status.hpp) reports, for the twins."""
    x = np.asarray(x)
    bad = np.flatnonzero(~(x >= 0) | np.isinf(x))
    if not bad.size:
        return None
    k = int(bad[0])
    v = float(x[k])
    return ("nan" if np.isnan(v) else "inf" if np.isinf(v) else "negative"), k


# ---- the one normalization step ------------------------------------------------------------------
# Every array argument of every public function (and of its reference twin) passes through
# `host_array` (or, for matrices and spectra, through `native`/`unit_stride` after it): foreign
# arrays are converted in `foreign()` (the one call site of gsa_fast._interop), device arrays
# without a CUDA route get the one `no_cuda_route` error, and numpy layouts the kernels cannot
# read in place (big-endian, a non-unit or negative stride on the axis a kernel walks) are
# copied once, in their own dtype, to the smallest unit-stride array the kernel needs.


DLPACK_CUDA_DEVICES = (2, 3, 13)  # DLPack device types: CUDA, CUDA host-pinned, CUDA managed


def on_device(x) -> bool:
    """True for cupy arrays and other CUDA-resident arrays: ``__cuda_array_interface__`` objects,
    torch CUDA tensors and DLPack producers on a CUDA device, decided from the object alone (no
    import of cupy or torch, no conversion)."""
    if isinstance(x, np.ndarray):
        return False
    t = type(x)
    if t.__module__.split(".")[0] == "cupy" or hasattr(x, "__cuda_array_interface__"):
        return True
    if t.__module__.split(".")[0] == "torch" and hasattr(x, "device"):
        return getattr(x.device, "type", "cpu") != "cpu"
    if hasattr(x, "__dlpack_device__"):
        try:
            return int(x.__dlpack_device__()[0]) in DLPACK_CUDA_DEVICES
        except Exception:  # a broken producer: the conversion reports it
            return False
    return False


def no_cuda_route(fn: str, arg: str, x) -> TypeError:
    """The one error for device memory that the host route got: the function (or argument) has no
    CUDA route, or it has one but no CUDA device is usable here (gsa_fast.build_info() says why)."""
    return TypeError(f"{fn}(): {arg} must be a numpy array (no CUDA kernel for this function "
                     f"or argument, or no usable CUDA device; copy it to the host first); "
                     f"got {describe(x)}")


def foreign(x):
    """numpy/cupy arrays and Python values pass through; other array objects (torch tensors,
    ``__dlpack__``/``__array__``/``__cuda_array_interface__`` providers) go through
    gsa_fast._interop when that module is present. The only place it is called."""
    t = type(x)
    if t.__module__ in ("numpy", "builtins") or t.__module__.split(".")[0] == "cupy":
        return x
    if not (hasattr(x, "__dlpack__") or hasattr(x, "__array__") or hasattr(x, "__cuda_array_interface__")):
        return x
    try:
        from . import _interop  # type: ignore[attr-defined]
    except ImportError:
        return x
    convert = getattr(_interop, "as_array", None) or getattr(_interop, "to_array", None)
    return x if convert is None else convert(x)


def native(a: np.ndarray) -> np.ndarray:
    """``a`` in native byte order (a same-width copy only for byte-swapped input)."""
    if a.dtype.byteorder not in "=|" and not a.dtype.isnative:
        nd = a.dtype.newbyteorder("=")  # the canonical dtype object (pybind11 compares identity)
        return a.astype(np.dtype(nd.char) if nd.kind in "biufc" else nd)
    return a


def unit_stride(a: np.ndarray) -> np.ndarray:
    """``a`` itself when its last axis has unit stride and no stride is negative; else one
    C-contiguous copy in the same dtype (never widened)."""
    if a.size == 0 or a.ndim == 0:
        return a
    if a.strides[-1] == a.itemsize and min(a.strides) >= 0:
        return a
    return np.ascontiguousarray(a)


def host_array(x, fn: str, arg: str, expected: str) -> np.ndarray:
    """Any numpy-readable value as a native-order numpy array (no copy unless byte-swapped);
    TypeError for device arrays, strings, None and objects numpy cannot read."""
    if type(x) is np.ndarray and x.dtype.isnative:  # the common case: one type and one flag check
        return x
    if type(x) is not np.ndarray:
        if on_device(x):  # before any conversion: wrapping device memory needs cupy and a device
            raise no_cuda_route(fn, arg, x)
        x = foreign(x)
        if isinstance(x, (str, bytes)) or x is None:
            raise type_error(fn, arg, expected, x)
        try:
            x = np.asarray(x)
        except Exception as exc:  # ragged nested lists and the like
            raise type_error(fn, arg, expected, x) from exc
    return native(x)


def as_float_array(x, fn: str, arg: str, expected: str) -> np.ndarray:
    """A float32/float64 array from any numpy layout, list or foreign array (host_array), never
    widened; Python lists of integers become float64, integer arrays and other dtypes are refused."""
    listed = not isinstance(x, np.ndarray)
    a = host_array(x, fn, arg, expected)
    if listed and a.dtype.kind in "iu":  # small literal lists of ints: exact in float64
        a = a.astype(np.float64)
    if a.dtype not in (np.float32, np.float64):
        raise type_error(fn, arg, expected, a)
    return a


def _as_numeric_array(x, fn: str, arg: str, expected: str) -> np.ndarray:
    a = host_array(x, fn, arg, expected)
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


def as_flag(x, fn: str, arg: str) -> bool:
    """A bool option (Python or numpy bool): TypeError for anything else (an array would otherwise
    meet an ``if`` and raise numpy's "truth value is ambiguous")."""
    if not isinstance(x, (bool, np.bool_)):
        raise type_error(fn, arg, "a bool", x)
    return bool(x)


def as_choice(x, fn: str, arg: str, choices) -> str:
    """A string option: TypeError for a non-str (an array, a list: never compared with the
    choices), ValueError for a str outside ``choices``."""
    allowed = ", ".join(map(repr, choices))
    if not isinstance(x, str):
        raise type_error(fn, arg, f"a str, one of {allowed}", x)
    if x not in choices:
        raise value_error(fn, arg, f"one of {allowed}", repr(x))
    return x


def _limit_name(v: int) -> str:
    names = {MAX_LAPACK_INT: "2**31 - 1", MAX_SEED: "2**64 - 1", MAX_EXACT_INT: "2**53"}
    return names.get(v, str(v))


def as_threads(threads, fn: str) -> int:
    """threads=None (0: the library default) or an int in [1, MAX_THREADS]."""
    if threads is None:
        return 0
    return as_int(threads, fn, "threads", minimum=1, maximum=MAX_THREADS)


def check_result_size(count: int, fn: str, arg: str, got: str) -> str:
    """The limit of :func:`empty_result` (at most MAX_RESULT_VALUES values), for the CPU and the
    CUDA routes: the ValueError naming the argument, else the expectation's wording."""
    expected = f"small enough for a result of at most 2**28 values; it asks for {count} values"
    if count > MAX_RESULT_VALUES:
        raise value_error(fn, arg, expected, got)
    return expected


def empty_result(count: int, fn: str, arg: str, got: str, dtype=np.float64) -> np.ndarray:
    """np.empty(count) for a result whose size an integer argument sets: at most
    MAX_RESULT_VALUES values, and a ValueError naming the argument instead of numpy's
    MemoryError (or an overcommitted allocation the kernel then fills) otherwise."""
    expected = check_result_size(count, fn, arg, got)
    try:
        return np.empty(count, dtype=dtype)
    except MemoryError:
        raise value_error(fn, arg, expected + " (out of memory)", got) from None


def as_width(x, fn: str, arg: str = "d", *, minimum: int = 1) -> np.ndarray:
    """Spectral widths: integers in [minimum, MAX_WIDTH = 2**53] (exact in float64) as int64."""
    d = as_count_array(x, fn, arg, minimum=minimum)
    if d.size and d.max() > MAX_WIDTH:
        raise value_error(fn, arg, "integers <= 2**53", repr(int(d.max())))
    return d


def batch_rows(a, k: int = 1):
    """``a`` (numpy or cupy) as ``(rows, *a.shape[-k:])``: its batch axes flattened into one. Unlike
    ``reshape(-1, ...)``, defined for an empty batch with a zero-length trailing axis (where -1 is
    ambiguous)."""
    rows = 1
    for n in a.shape[:a.ndim - k]:
        rows *= int(n)
    return a.reshape((rows,) + tuple(a.shape[a.ndim - k:]))


def broadcast_args(fn: str, names, *arrays, xp=np):
    """``xp.broadcast_arrays(*arrays)`` with our error: arguments whose shapes do not broadcast
    raise ``"fn(): a, b and c must be broadcastable to one shape; got shapes …"`` (numpy's own
    "shape mismatch" names no function and no argument).
    A name None marks an internal operand (a constant the caller did not pass): left out of the
    message."""
    try:
        return xp.broadcast_arrays(*arrays)
    except ValueError:
        def listed(items):
            items = list(items)
            return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]
        named = [(n, a) for n, a in zip(names, arrays) if n is not None]
        raise value_error(fn, listed(n for n, _ in named), "broadcastable to one shape",
                          "shapes " + listed(str(tuple(a.shape)) for _, a in named)) from None


def broadcast_flat(*arrays, fn: str = None, names=None):
    """Broadcast small parameter arrays; return the result shape and contiguous 1-D copies
    (``fn``, ``names``: the error of :func:`broadcast_args` when the shapes do not broadcast)."""
    b = broadcast_args(fn, names, *arrays) if fn is not None else np.broadcast_arrays(*arrays)
    return b[0].shape, [np.ascontiguousarray(x).reshape(-1) for x in b]


def as_tol(tol, fn: str, arg: str = "tol") -> float:
    """A finite real threshold >= 0 (a rank tolerance) as a Python float."""
    if isinstance(tol, (bool, np.bool_)) or not isinstance(tol, (numbers.Real, np.floating, np.integer)):
        raise type_error(fn, arg, "a real number >= 0", tol)
    t = float(tol)
    if not (t >= 0.0) or np.isinf(t):
        raise value_error(fn, arg, "a finite real number >= 0", describe(tol))
    return t


def as_eps_levels(eps, fn: str) -> np.ndarray:
    """Tail levels ε for truncation ranks: a scalar or 1-D array in [0, 1) (ε = 0 → the rank)."""
    expected = "a real number or 1-D array of reals in [0, 1)"
    a = host_array(eps, fn, "eps", expected)
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
