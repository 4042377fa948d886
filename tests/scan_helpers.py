"""Synthetic checkpoints for the scan tests and benchmarks (safetensors, sharded, power-law spectra)."""
from __future__ import annotations

import json
import struct
from pathlib import Path

import numpy as np

_CODES = {np.dtype("f8"): "F64", np.dtype("f4"): "F32", np.dtype("f2"): "F16", np.dtype("i8"): "I64",
          np.dtype("i4"): "I32", np.dtype("bool"): "BOOL", np.dtype("u2"): "BF16"}


def write_safetensors(path, tensors):
    """tensors: name -> (code, array) or name -> array (code from the dtype; uint16 = BF16 bits)."""
    header, blobs, off = {"__metadata__": {"format": "np"}}, [], 0
    for name, v in tensors.items():
        code, arr = v if isinstance(v, tuple) else (_CODES[np.dtype(v.dtype)], v)
        b = np.ascontiguousarray(arr).tobytes()
        header[name] = {"dtype": code, "shape": list(arr.shape), "data_offsets": [off, off + len(b)]}
        blobs.append(b)
        off += len(b)
    h = json.dumps(header).encode()
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)) + h)
        for b in blobs:
            f.write(b)


def write_sharded(folder, tensors: dict, shards: int, config=True) -> Path:
    """A Hugging Face style directory: model-0000i-of-0000n.safetensors + index json (+ config.json)."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    names = list(tensors)
    per = -(-len(names) // shards)
    weight_map = {}
    for s in range(shards):
        fname = f"model-{s + 1:05d}-of-{shards:05d}.safetensors"
        part = {n: tensors[n] for n in names[s * per:(s + 1) * per]}
        write_safetensors(folder / fname, part)
        weight_map.update({n: fname for n in part})
    idx = folder / "model.safetensors.index.json"
    idx.write_text(json.dumps({"metadata": {}, "weight_map": weight_map}))
    if config:
        (folder / "config.json").write_text(json.dumps({"model_type": "synthetic"}))
    return idx


def to_bf16_bits(x) -> np.ndarray:
    """float -> raw bfloat16 bits (round to nearest even), as uint16."""
    u = np.asarray(x, dtype=np.float32).view(np.uint32).astype(np.uint64)
    return ((u + 0x7FFF + ((u >> 16) & 1)) >> 16).astype(np.uint16)


def from_bf16_bits(b) -> np.ndarray:
    return (np.asarray(b, dtype=np.uint32) << 16).view(np.float32)


def powerlaw(rng, m, n, alpha, dtype=np.float32):
    """A matrix with singular values k^-alpha (random orthogonal factors)."""
    q = min(m, n)
    u, _ = np.linalg.qr(rng.standard_normal((m, q)))
    v, _ = np.linalg.qr(rng.standard_normal((n, q)))
    s = np.arange(1, q + 1, dtype=float) ** -alpha
    return ((u * s) @ v.T).astype(dtype)


def bert_like(rng, blocks, d=64, ff=256, dtype="bf16"):
    """name -> array of a BERT-shaped encoder (attention d², FFN ff×d and d×ff, biases, LayerNorms)."""
    out = {"embeddings.word_embeddings.weight": powerlaw(rng, 4 * d, d, 0.5)}
    for b in range(blocks):
        p = f"encoder.layer.{b}."
        for k in ("attention.self.query", "attention.self.key", "attention.self.value", "attention.output.dense"):
            out[p + k + ".weight"] = powerlaw(rng, d, d, 0.6 + 0.02 * b)
            out[p + k + ".bias"] = np.zeros(d, np.float32)
        out[p + "intermediate.dense.weight"] = powerlaw(rng, ff, d, 0.8)
        out[p + "output.dense.weight"] = powerlaw(rng, d, ff, 0.9)
        out[p + "output.LayerNorm.weight"] = np.ones(d, np.float32)
    if dtype == "bf16":
        out = {k: (to_bf16_bits(v) if v.ndim == 2 else v) for k, v in out.items()}
    return out


def _orth(rng, n, k):
    q, _ = np.linalg.qr(rng.standard_normal((n, k)).astype(np.float32))
    return q


def write_bert_checkpoint(folder, blocks=24, d=1024, ff=4096, shards=None, seed=0):
    """Power-law matrices from a few shared orthonormal factors (row/column permutations keep
    the spectrum), so writing 24 blocks takes seconds, not minutes of QR."""
    rng = np.random.default_rng(seed)
    ud, vd, uf = _orth(rng, d, d), _orth(rng, d, d), _orth(rng, ff, d)
    tensors = {"embeddings.word_embeddings.weight": to_bf16_bits(rng.standard_normal((2 * d, d)) / np.sqrt(d))}
    k = np.arange(1, d + 1, dtype=np.float32)
    for b in range(blocks):
        p = f"encoder.layer.{b}."
        for j, name in enumerate(("attention.self.query", "attention.self.key", "attention.self.value",
                                  "attention.output.dense")):
            s = k ** -(0.5 + 0.05 * j + 0.01 * b)
            w = (ud[rng.permutation(d)] * s) @ vd.T
            tensors[p + name + ".weight"] = to_bf16_bits(w)
            tensors[p + name + ".bias"] = np.zeros(d, np.float32)
        s = k ** -(0.8 + 0.01 * b)
        up = (uf[rng.permutation(ff)] * s) @ vd.T
        tensors[p + "intermediate.dense.weight"] = to_bf16_bits(up)
        tensors[p + "output.dense.weight"] = to_bf16_bits(up.T.copy())
        tensors[p + "output.LayerNorm.weight"] = np.ones(d, np.float32)
    write_sharded(folder, tensors, shards or max(1, blocks // 6))
    return sum(int(np.prod(a.shape)) for a in tensors.values() if a.ndim == 2)


def numpy_loop(folder):
    """The peer: one float64 numpy.linalg.svd (values only) per matrix, over upcast copies."""
    from gsa_fast.weights import list_tensors, load_tensors, resolve_source

    out = []
    for f, _ in resolve_source(folder):
        refs = [r for r in list_tensors(f) if len(r.shape) == 2]
        for name, a in load_tensors(refs, mmap_over=0).items():
            x = from_bf16_bits(np.asarray(a).view(np.uint16)).astype(np.float64)
            out.append(np.linalg.svd(x, compute_uv=False))
    return out
