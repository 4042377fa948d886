"""GPU route of the harmonic sums (cupy in, cupy out): cuda/sums.cu, same header math as the CPU."""
from __future__ import annotations

from . import _backend
from ._validate import broadcast_args


def harmonic_range(fn, a, b, s, want):
    """Σ_{k=a}^{b} k^-s (log k)^j for j in want, on the device (cupy in, cupy out)."""
    cp = _backend.namespace(a if hasattr(a, "shape") else None, b if hasattr(b, "shape") else None,
                            s if hasattr(s, "shape") else None)
    cuda = _backend.require_cuda(fn)
    a = cp.asarray(a)
    b = cp.asarray(b)
    s = cp.asarray(s)
    for name, arr in (("d" if fn != "harmonic_range" else "b", b), ("s", s)):
        if arr.dtype.kind not in "iuf" or arr.dtype == cp.bool_:
            raise TypeError(f"{fn}(): {name} must be a real array; got cupy.ndarray of dtype {arr.dtype}")
    if a.dtype.kind == "f" and bool((a != cp.floor(a)).any()) or b.dtype.kind == "f" and bool((b != cp.floor(b)).any()):
        raise ValueError(f"{fn}(): d must be integers >= 0; got non-integer values")
    if bool(cp.isnan(s).any()) or bool(cp.isinf(s).any()):
        raise ValueError(f"{fn}(): s must be finite; got NaN or Inf")
    if bool((s < 0).any()):
        raise ValueError(f"{fn}(): s must be >= 0.0; got negative values")
    if bool((b < 0).any()):
        raise ValueError(f"{fn}(): d must be integers >= 0; got negative values")
    names = ("a", "b", "s") if fn == "harmonic_range" else (None, "d", "s")  # a = 1: not the caller's
    a, b, s = broadcast_args(fn, names, a, b, s, xp=cp)
    shape = s.shape
    a = cp.ascontiguousarray(a, dtype=cp.int64).reshape(-1)
    b = cp.ascontiguousarray(b, dtype=cp.int64).reshape(-1)
    s = cp.ascontiguousarray(s, dtype=cp.float64).reshape(-1)
    outs = [cp.empty(s.size) if j in want else None for j in range(3)]
    ptr = [0 if o is None else o.data.ptr for o in outs]
    stream = cp.cuda.get_current_stream().ptr
    cuda.harmonic_range(a.data.ptr, b.data.ptr, s.data.ptr, s.size, ptr[0], ptr[1], ptr[2], stream)
    return [outs[j].reshape(shape) for j in want]
