"""Arrays from every library: torch tensors, DLPack producers, ``__array__`` and
``__cuda_array_interface__`` objects turned into numpy (host) or cupy (device) arrays, without a
copy where the layout allows; and the rule for handing results back.

Input rule (:func:`as_numpy`, :func:`as_array`):

* numpy arrays, Python scalars and lists pass through unchanged (lists are walked one level so a
  list of tensors becomes a list of arrays: the ragged-batch form of every function).
* torch tensors (recognized by their type's module, so torch is imported only when a tensor is
  passed): CPU tensors become ``tensor.detach().numpy()`` — a view of the same memory, strides
  kept, no copy (bfloat16 tensors as an ``ml_dtypes.bfloat16`` view, or raw uint16 bits without
  ml_dtypes); CUDA tensors go through DLPack onto cupy (``cupy.from_dlpack``), no copy.
* other objects: ``__cuda_array_interface__`` → ``cupy.asarray`` (no copy); ``__dlpack__`` →
  ``numpy.from_dlpack`` for host memory, ``cupy.from_dlpack`` for CUDA memory; ``__array__`` →
  ``numpy.asarray`` (whatever the producer hands out).
* :func:`as_numpy` is for functions with no CUDA kernel: device memory raises TypeError there
  ("... must be a host array ...") instead of a silent device-to-host copy.

Output rule (:func:`restore`): numpy in → numpy out, always. ``output="input"`` (opt-in) gives
torch tensors back when the input was a torch tensor (``torch.from_numpy``: no copy), and leaves
every other result as it is. Never a surprise: the default is numpy.
"""
from __future__ import annotations

import numpy as np

from ._validate import DLPACK_CUDA_DEVICES, on_device, type_error

__all__ = ["as_array", "as_numpy", "is_torch", "restore"]

def is_torch(x) -> bool:
    """True for a torch.Tensor (by its type's module: does not import torch)."""
    return type(x).__module__.split(".")[0] == "torch" and hasattr(x, "detach")


def _torch_to_array(t):
    t = t.detach()
    if t.device.type != "cpu":
        import cupy  # CUDA tensors: zero-copy through DLPack

        return cupy.from_dlpack(t)
    if t.is_conj():
        t = t.resolve_conj()
    if t.is_neg():
        t = t.resolve_neg()
    if str(t.dtype) == "torch.bfloat16":
        import torch

        raw = t.view(torch.int16).numpy().view(np.uint16)
        try:
            import ml_dtypes

            return raw.view(ml_dtypes.bfloat16)
        except ImportError:  # pragma: no cover - ml_dtypes is optional
            return raw
    return t.numpy()


def _cupy():
    """cupy, or None when it is not installed: device memory then passes through unchanged and the
    caller's device check refuses it with its one clear error (never a ModuleNotFoundError)."""
    try:
        import cupy
    except ImportError:
        return None
    return cupy


def as_array(x):
    """numpy or cupy view of ``x`` (see the module docstring); anything unknown passes through."""
    if isinstance(x, np.ndarray) or x is None or isinstance(x, (str, bytes, int, float, complex)):
        return x
    if isinstance(x, (list, tuple)):
        if any(is_torch(e) or hasattr(e, "__dlpack__") or hasattr(e, "__cuda_array_interface__") for e in x):
            return type(x)(as_array(e) for e in x)
        return x
    if is_torch(x):
        return _torch_to_array(x)
    if type(x).__module__.split(".")[0] == "cupy":
        return x
    if hasattr(x, "__cuda_array_interface__"):
        cupy = _cupy()
        return x if cupy is None else cupy.asarray(x)
    if hasattr(x, "__dlpack__"):
        dev = x.__dlpack_device__()[0] if hasattr(x, "__dlpack_device__") else 1
        if int(dev) in DLPACK_CUDA_DEVICES:
            cupy = _cupy()
            return x if cupy is None else cupy.from_dlpack(x)
        return np.from_dlpack(x)
    if hasattr(x, "__array__"):
        return np.asarray(x)
    return x


def as_numpy(x, fn: str, arg: str):
    """:func:`as_array` for host-only functions: device memory raises TypeError (no hidden copy)."""
    if on_device(x) or (isinstance(x, (list, tuple)) and any(on_device(e) for e in x)):
        raise type_error(fn, arg, "a host array (this function has no CUDA kernel; move it with .cpu())", x)
    return as_array(x)


def restore(result, like, output: str = "numpy"):
    """Hand ``result`` back in the caller's library.

    ``output="numpy"`` (default): unchanged. ``output="input"``: when ``like`` is a torch tensor,
    every numpy array in ``result`` (also inside tuples/NamedTuples) becomes a torch tensor
    sharing its memory; object arrays (text) and non-array values are left as they are.
    """
    if output not in ("numpy", "input"):
        raise ValueError(f"restore(): output must be 'numpy' or 'input'; got {output!r}")
    if output == "numpy" or not is_torch(like):
        return result
    import torch

    def conv(v):
        if isinstance(v, np.ndarray) and v.dtype != object:
            return torch.from_numpy(np.ascontiguousarray(v))
        if isinstance(v, np.generic) and v.dtype != object:
            return torch.from_numpy(np.asarray(v))
        return v

    if isinstance(result, tuple) and hasattr(result, "_fields"):
        return type(result)(*(conv(v) for v in result))
    if isinstance(result, tuple):
        return tuple(conv(v) for v in result)
    return conv(result)
