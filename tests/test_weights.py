"""The safetensors reader (stage 1): round trips through files written here, and bad files."""
from __future__ import annotations

import json
import struct

import numpy as np
import pytest

from gsa_fast.weights import layer_matrices, read_safetensors


def write_safetensors(path, tensors):
    header, blobs, off = {"__metadata__": {"format": "np"}}, [], 0
    for name, (code, arr) in tensors.items():
        b = np.ascontiguousarray(arr).tobytes()
        header[name] = {"dtype": code, "shape": list(arr.shape), "data_offsets": [off, off + len(b)]}
        blobs.append(b)
        off += len(b)
    h = json.dumps(header).encode()
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)) + h + b"".join(blobs))


def test_round_trip(tmp_path, rng):
    a = rng.standard_normal((5, 7)).astype(np.float32)
    b = rng.standard_normal((3, 4)).astype(np.float16)
    c = (rng.standard_normal((4, 6)).astype(np.float32).view(np.uint32) >> 16).astype(np.uint16)  # bf16 bits
    v = np.arange(5, dtype=np.float32)
    p = tmp_path / "m.safetensors"
    write_safetensors(p, {"a": ("F32", a), "b": ("F16", b), "c": ("BF16", c), "v": ("F32", v)})
    t = read_safetensors(p)
    assert set(t) == {"a", "b", "c", "v"}
    np.testing.assert_array_equal(t["a"], a)
    np.testing.assert_array_equal(t["b"], b)
    assert t["c"].dtype.name in ("bfloat16", "uint16")
    np.testing.assert_array_equal(t["c"].view(np.uint16), c)
    assert not t["a"].flags.writeable  # memory-mapped read-only, not a copy
    assert set(layer_matrices(t)) == {"a", "b", "c"}
    assert set(read_safetensors(p, names=["a"])) == {"a"}


def _file(header: dict, data: bytes = b"") -> bytes:
    h = json.dumps(header).encode()
    return struct.pack("<Q", len(h)) + h + data


@pytest.mark.parametrize("payload,match", [
    (b"\x01", "must be a safetensors file"),
    (struct.pack("<Q", 10**9) + b"{}", "header length"),
    (struct.pack("<Q", 2) + b"{x", "not valid JSON"),
    (_file({"w": {"dtype": "F32", "shape": [4], "data_offsets": [0, 99]}}, bytes(16)), "inconsistent offsets"),
    (_file({"w": {"dtype": "F32", "shape": [4], "data_offsets": [0, 16]}}, bytes(8)), "inconsistent offsets"),
    (_file({"w": {"dtype": "C64", "shape": [1], "data_offsets": [0, 8]}}, bytes(8)), "unsupported dtype"),
])
def test_bad_files(tmp_path, payload, match):
    p = tmp_path / "bad.safetensors"
    p.write_bytes(payload)
    with pytest.raises(ValueError, match=match):
        read_safetensors(p)
