"""Scan, part 1 of 3: planning from headers into picklable work units (no tensor data is read).

A :class:`WorkUnit` is a list of tensors from one file, whole same-shape groups packed up to a
byte budget (a group larger than the budget is split; a single tensor larger than it is a unit
of its own and is memory-mapped instead of read). Units hold :class:`~gsa_fast.weights.TensorRef`
headers only, so they pickle to a few hundred bytes and a remote worker can read its own tensors
from the path (see ``_scan_exec.execute``).
"""
from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .weights import FLOAT_CODES, TensorRef, list_tensors, memory_refs, resolve_source

__all__ = ["WorkUnit", "Plan", "plan_scan", "parse_name", "natural_key"]

_BLOCK_RE = re.compile(r"(?:^|[._/])(?:layers|layer|h|blocks|block|encoder_layers|decoder_layers|"
                       r"transformer_blocks|resblocks|stages)[._/](\d+)(?=[._/]|$)")
_NUM_RE = re.compile(r"(?:^|\.)(\d+)(?=\.|$)")


def parse_name(name: str):
    """(block, role) of a tensor name: ``block`` is the integer after ``layers.``/``layer.``/``h.``/
    ``blocks.`` … (else the first all-digit component, else None); ``role`` is the part of the name
    after the block index (``model.layers.3.self_attn.o_proj.weight`` → 3, ``self_attn.o_proj.weight``),
    or the whole name when there is no block."""
    m = _BLOCK_RE.search(name) or _NUM_RE.search(name)
    if m is None:
        return None, name
    role = name[m.end(1):].lstrip("._/")
    return int(m.group(1)), role or name


def natural_key(name: str):
    """Sort key that orders ``layer.2`` before ``layer.10``."""
    return tuple((0, int(t), "") if t.isdigit() else (1, 0, t) for t in re.split(r"(\d+)", name) if t)


@dataclass(frozen=True)
class WorkUnit:
    """Tensors of one file solved together. ``refs`` hold headers only; ``status`` maps a tensor
    name to the reason it is reported without being read (an unsupported dtype)."""

    uid: str
    checkpoint: str
    source_index: int
    file: str
    refs: tuple
    nbytes: int
    matrices: int
    status: tuple = ()


@dataclass
class Plan:
    units: list
    skipped: dict = field(default_factory=dict)   # reason -> count
    checkpoints: list = field(default_factory=list)
    files: list = field(default_factory=list)
    matrices: int = 0
    nbytes: int = 0


def _matrix_shape(shape):
    """(shape of each matrix, count) for a tensor shape, or (None, reason)."""
    if len(shape) == 2:
        return shape, 1
    if len(shape) == 3:  # stacked experts (E, out, in)
        return shape[1:], shape[0]
    if len(shape) == 4:  # conv kernel (out, in, kh, kw) -> (out, in*kh*kw)
        return (shape[0], shape[1] * shape[2] * shape[3]), 1
    return None, ("1-D or scalar tensor" if len(shape) < 2 else f"{len(shape)}-D tensor")


def _classify(ref: TensorRef):
    """'matrix' | 'status' (reported with a reason, not read) | skip reason."""
    if ref.dtype in ("BOOL",) or re.fullmatch(r"[IU]\d+", ref.dtype):
        return "integer or bool dtype"
    mshape, count = _matrix_shape(ref.shape)
    if mshape is None:
        return count
    if ref.size == 0:
        return "0-size tensor"
    if ref.dtype in FLOAT_CODES or (ref.fmt == "gguf" and ref.dtype.startswith("GGUF_")):
        return "matrix"
    return "status"


def _checkpoint_labels(sources):
    labels = []
    for i, s in enumerate(sources):
        if isinstance(s, (str, Path)):
            p = Path(s).absolute()
            lab = p.name
            generic = ("model", "weights", "checkpoint", "pytorch_model", "snapshots")
            if (p.is_file() and p.name.split(".")[0] in generic) or p.name in generic:
                # model.safetensors, pytorch_model.bin, …/model/ : name it after its folder
                q = p.parent if p.is_file() else p
                while q.name in generic and q.parent != q:
                    q = q.parent
                lab = q.name or lab
        else:
            lab = "memory" if len(sources) == 1 else f"memory[{i}]"
        labels.append(lab)
    if len(set(labels)) < len(labels):  # make them unique
        labels = [str(s) if isinstance(s, (str, Path)) else lab for s, lab in zip(sources, labels)]
        labels = [f"{lab}#{i}" if labels.count(lab) > 1 else lab for i, lab in enumerate(labels)]
    return labels


def plan_scan(sources, *, include=None, exclude=None, unit_bytes: int, name_parser=parse_name) -> Plan:
    """Plan a scan of ``sources`` (list of paths or mappings) from headers only."""
    labels = _checkpoint_labels(sources)
    plan = Plan(units=[], checkpoints=labels)
    for si, (src, label) in enumerate(zip(sources, labels)):
        if isinstance(src, (str, Path)):
            refs = []
            for f, fmt in resolve_source(src):
                plan.files.append(str(f))
                refs.extend(list_tensors(f, fmt))
        else:
            refs = memory_refs(src, f"memory:{label}")
        by_file: dict = {}
        for r in refs:
            if include is not None and not include.search(r.name):
                plan.skipped["not matched by include"] = plan.skipped.get("not matched by include", 0) + 1
                continue
            if exclude is not None and exclude.search(r.name):
                plan.skipped["matched by exclude"] = plan.skipped.get("matched by exclude", 0) + 1
                continue
            kind = _classify(r)
            if kind not in ("matrix", "status"):
                plan.skipped[kind] = plan.skipped.get(kind, 0) + 1
                continue
            by_file.setdefault(r.file, []).append((kind, r))
        for file, items in by_file.items():
            plan.units.extend(_pack(file, items, label, si, unit_bytes, name_parser))
    plan.matrices = sum(u.matrices for u in plan.units)
    plan.nbytes = sum(u.nbytes for u in plan.units)
    return plan


def _pack(file, items, label, si, unit_bytes, name_parser):
    """Same-shape groups of one file, in depth order, packed into units of <= unit_bytes."""
    groups: dict = {}
    status = []
    for kind, r in items:
        if kind == "status":
            status.append(r)
        else:
            groups.setdefault((_matrix_shape(r.shape)[0], r.dtype), []).append(r)

    keys = {}

    def depth(r):  # parsed once per tensor (planning 10,000 tensors stays well under a second)
        k = keys.get(r.name)
        if k is None:
            b, _ = name_parser(r.name)
            k = keys[r.name] = (-1 if b is None else b, natural_key(r.name))
        return k

    units, cur, cur_bytes = [], [], 0

    def flush(extra_status=()):
        nonlocal cur, cur_bytes
        if cur or extra_status:
            refs = tuple(cur)
            key = "\n".join([file] + [f"{r.name}|{r.shape}|{r.dtype}" for r in refs + tuple(extra_status)])
            uid = hashlib.sha1(key.encode()).hexdigest()[:16]
            mats = sum(_matrix_shape(r.shape)[1] for r in refs) + len(extra_status)
            units.append(WorkUnit(uid, label, si, file, refs + tuple(extra_status), cur_bytes, mats,
                                  tuple(r.name for r in extra_status)))
        cur, cur_bytes = [], 0

    for key in sorted(groups, key=lambda k: min(depth(r) for r in groups[k])):
        for r in sorted(groups[key], key=depth):
            if cur and cur_bytes + r.nbytes > unit_bytes:
                flush()
            cur.append(r)
            cur_bytes += r.nbytes
    flush()
    if status:
        flush(tuple(sorted(status, key=depth)))
    return units


def unit_keys(unit: WorkUnit):
    """The resume keys (file, name, shape, dtype) of every row a unit produces, in row order."""
    keys = []
    for r in unit.refs:
        if r.name in unit.status:
            keys.append((unit.file, r.name, shape_str(r.shape), dtype_name(r.dtype)))
            continue
        mshape, count = _matrix_shape(r.shape)
        names = [r.name] if len(r.shape) != 3 else [f"{r.name}[{e}]" for e in range(count)]
        keys.extend((unit.file, n, shape_str(mshape), dtype_name(r.dtype)) for n in names)
    return keys


_DTYPE_NAMES = {"F64": "float64", "F32": "float32", "F16": "float16", "BF16": "bfloat16"}


def dtype_name(code: str) -> str:
    """The dtype column: numpy-style names for float storage, the file's own code otherwise."""
    return _DTYPE_NAMES.get(code, code)


def shape_str(shape) -> str:
    return "x".join(str(int(s)) for s in shape)


def estimate_budget() -> int:
    """Default memory budget: a quarter of the memory available now (at least 64 MiB)."""
    avail = None
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    avail = int(line.split()[1]) * 1024
                    break
    except OSError:  # pragma: no cover - not Linux
        pass
    if avail is None:  # pragma: no cover
        avail = 4 * 2**30
    return max(64 * 2**20, avail // 4)


def parse_size(text) -> int:
    """Bytes from ``512MB``, ``2GiB``, ``1.5G``, ``1000000`` (K/M/G/T are powers of 1024)."""
    if isinstance(text, (int, np.integer)) and not isinstance(text, bool):
        if text <= 0:
            raise ValueError(f"memory_budget must be a positive number of bytes; got {text}")
        return int(text)
    m = re.fullmatch(r"\s*([0-9]*\.?[0-9]+)\s*([kKmMgGtT]?)(i?)([bB]?)\s*", str(text))
    if not m:
        raise ValueError(f"memory_budget must be a size such as 512MB or 2GiB; got {text!r}")
    num, unit = float(m.group(1)), m.group(2).upper()
    value = int(num * 1024 ** " KMGT".index(unit or " "))  # K, M, G, T (with or without iB): powers of 1024
    if value <= 0:
        raise ValueError(f"memory_budget must be positive; got {text!r}")
    return value
