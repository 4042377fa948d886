"""Readers for the weight formats that need an optional package: PyTorch (torch) and GGUF (gguf).

Split from :mod:`gsa_fast.weights`, which calls these lazily; each import names the package a
file needs (and the extra that installs it) when it is missing.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from .weights import TensorRef, _bf16_dtype, _err

__all__ = ["torch_state", "torch_refs", "torch_code", "torch_to_numpy", "gguf_reader", "gguf_refs", "gguf_array"]


def _optional(module: str, path: Path, what: str):
    """Import an optional reader package, or say which one a file needs and how to install it."""
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError:
        raise ImportError(f"{path} is {what}: reading it needs {module} "
                          f"(pip install 'gsa_fast[{module}]' or pip install {module})") from None


def torch_state(path: Path):
    torch = _optional("torch", path, "a PyTorch checkpoint")
    try:
        try:
            obj = torch.load(path, map_location="cpu", weights_only=True, mmap=True)
        except RuntimeError as exc:
            if "mmap" not in str(exc):
                raise
            obj = torch.load(path, map_location="cpu", weights_only=True)  # legacy (non-zip) format
    except Exception as exc:  # noqa: BLE001 - any unpickling failure becomes a one-line error
        raise _err(path, f"cannot be read as a PyTorch checkpoint ({exc.__class__.__name__}: "
                         f"{str(exc).splitlines()[0] if str(exc) else ''})") from None
    if isinstance(obj, dict) and "state_dict" in obj and isinstance(obj["state_dict"], dict):
        obj = obj["state_dict"]
    if not isinstance(obj, dict):
        raise _err(path, f"holds a {type(obj).__name__}, not a state dict of tensors")
    return {str(k): v for k, v in obj.items() if isinstance(v, torch.Tensor)}


_TORCH_CODES = {"float64": "F64", "float32": "F32", "float16": "F16", "bfloat16": "BF16",
                "int64": "I64", "int32": "I32", "int16": "I16", "int8": "I8", "uint8": "U8", "bool": "BOOL"}


def torch_code(t) -> str:
    s = str(t.dtype).replace("torch.", "")
    return _TORCH_CODES.get(s, s.upper())


def torch_refs(path: Path) -> list:
    return [TensorRef(str(path), k, torch_code(v), tuple(v.shape), "torch", -1,
                      v.numel() * v.element_size(), k) for k, v in torch_state(path).items()]


def gguf_reader(path: Path):
    gguf = _optional("gguf", path, "a GGUF file")
    try:
        return gguf, gguf.GGUFReader(str(path), "r")
    except Exception as exc:  # noqa: BLE001
        raise _err(path, f"cannot be read as GGUF ({exc.__class__.__name__}: {exc})") from None


_GGUF_FLOAT = {"F32": "F32", "F16": "F16", "BF16": "BF16", "F64": "F64"}


def gguf_refs(path: Path) -> list:
    gguf, r = gguf_reader(path)
    refs = []
    for t in r.tensors:
        tname = t.tensor_type.name
        code = _GGUF_FLOAT.get(tname, f"GGUF_{tname}")
        shape = tuple(int(s) for s in reversed([int(x) for x in t.shape]))  # GGUF lists ne[0] (columns) first
        refs.append(TensorRef(str(path), t.name, code, shape, "gguf", int(t.data_offset),
                              int(t.n_bytes), t.name))
    return refs


def torch_to_numpy(t):
    import torch

    t = t.detach()
    if t.dtype == torch.bfloat16:
        a = t.view(torch.int16).numpy().view(np.uint16)
        bf = _bf16_dtype()
        return a.view(bf) if bf is not None else a
    if t.dtype not in (torch.float64, torch.float32, torch.float16):
        raise ValueError(f"unsupported dtype {torch_code(t)}")
    return t.numpy()


def gguf_array(gguf, t, r: TensorRef):
    name = t.tensor_type.name
    if name in ("F32", "F16", "F64"):
        a = np.asarray(t.data)
    elif name == "BF16":
        a = np.asarray(t.data).view(np.uint16)
        bf = _bf16_dtype()
        a = a.view(bf) if bf is not None else a
    else:
        try:
            a = gguf.quants.dequantize(np.asarray(t.data), t.tensor_type)
        except Exception as exc:  # noqa: BLE001 - an unsupported quantization is this tensor's status
            raise ValueError(f"unsupported dtype {r.dtype} ({exc.__class__.__name__})") from None
    return a.reshape(r.shape)
