"""Stage 1 readers: round trips through files written here, format detection by magic bytes,
header-only listings, and every kind of bad file ending in a one-line error naming the file."""
from __future__ import annotations

import json
import re
import struct

import numpy as np
import pytest

from gsa_fast.weights import detect_format, layer_matrices, list_tensors, load_tensors, read_safetensors, resolve_source
from scan_helpers import write_safetensors, write_sharded


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
    refs = {r.name: r for r in list_tensors(p)}
    assert refs["c"].dtype == "BF16" and refs["a"].shape == (5, 7) and refs["a"].nbytes == a.nbytes
    got = load_tensors([refs["a"], refs["c"]])  # read into fresh buffers
    assert got["a"].flags.writeable and not isinstance(got["a"], np.memmap)  # a copy, not the file
    np.testing.assert_array_equal(got["a"], a)


def test_npz_headers_and_data(tmp_path, rng):
    a = rng.standard_normal((6, 4)).astype(np.float32)
    b = rng.standard_normal((3, 3))
    np.savez(tmp_path / "w.npz", a=a, b=b, ids=np.arange(4))
    np.savez_compressed(tmp_path / "c.npz", a=a)
    assert detect_format(tmp_path / "w.npz") == "npz"
    refs = {r.name: r for r in list_tensors(tmp_path / "w.npz")}
    assert (refs["a"].dtype, refs["b"].dtype, refs["ids"].dtype) == ("F32", "F64", "I64")
    assert refs["a"].offset > 0  # stored: read by byte range
    got = load_tensors([refs["a"], refs["b"]])
    np.testing.assert_array_equal(got["a"], a)
    np.testing.assert_array_equal(got["b"], b)
    (cr,) = list_tensors(tmp_path / "c.npz")
    assert cr.offset == -1  # compressed: read through numpy
    np.testing.assert_array_equal(load_tensors([cr])["a"], a)


def test_torch_checkpoint(tmp_path, rng):
    torch = pytest.importorskip("torch")
    w = torch.from_numpy(rng.standard_normal((6, 5)).astype(np.float32))
    torch.save({"w": w, "h": w.to(torch.bfloat16), "n": torch.arange(3)}, tmp_path / "pytorch_model.bin")
    assert detect_format(tmp_path / "pytorch_model.bin") == "torch"
    refs = {r.name: r for r in list_tensors(tmp_path / "pytorch_model.bin")}
    assert (refs["w"].dtype, refs["h"].dtype, refs["n"].dtype) == ("F32", "BF16", "I64")
    got = load_tensors([refs["w"], refs["h"]])
    np.testing.assert_array_equal(got["w"], w.numpy())
    np.testing.assert_array_equal(np.asarray(got["h"]).view(np.uint16), w.to(torch.bfloat16).view(torch.int16).numpy().view(np.uint16))
    # and the scan reads it, not as safetensors
    import gsa_fast as g

    res = g.scan(tmp_path / "pytorch_model.bin", progress=False)
    assert sorted(res.layers["name"]) == ["h", "w"]


def test_gguf_float_and_q8(tmp_path, rng):
    gguf = pytest.importorskip("gguf")
    w = rng.standard_normal((8, 64)).astype(np.float32)
    wr = gguf.GGUFWriter(str(tmp_path / "m.gguf"), "llama")
    wr.add_tensor("blk.0.ffn_up.weight", w)
    q = gguf.quants.quantize(w, gguf.GGMLQuantizationType.Q8_0)
    wr.add_tensor("blk.1.ffn_up.weight", q, raw_dtype=gguf.GGMLQuantizationType.Q8_0)
    wr.write_header_to_file()
    wr.write_kv_data_to_file()
    wr.write_tensors_to_file()
    wr.close()
    assert detect_format(tmp_path / "m.gguf") == "gguf"
    refs = {r.name: r for r in list_tensors(tmp_path / "m.gguf")}
    assert refs["blk.0.ffn_up.weight"].shape == (8, 64) and refs["blk.0.ffn_up.weight"].dtype == "F32"
    assert refs["blk.1.ffn_up.weight"].dtype == "GGUF_Q8_0" and refs["blk.1.ffn_up.weight"].shape == (8, 64)
    got = load_tensors(list(refs.values()))
    np.testing.assert_array_equal(got["blk.0.ffn_up.weight"], w)
    # Q8_0: 8-bit codes with a float16 scale per 32 values -> error <= scale/2 = max|w|/254 per block
    assert np.max(np.abs(got["blk.1.ffn_up.weight"] - w)) <= np.max(np.abs(w)) / 254 * 1.01
    import gsa_fast as g

    res = g.scan(tmp_path / "m.gguf", progress=False)
    assert list(res.layers["block"]) == [0, 1] and (res.layers["status"] == "ok").all()


def test_optional_packages_are_named(tmp_path, monkeypatch):
    import sys
    import zipfile

    (tmp_path / "m.gguf").write_bytes(b"GGUF" + bytes(60))
    with zipfile.ZipFile(tmp_path / "m.pt", "w") as z:
        z.writestr("archive/data.pkl", b"\x80\x02}q\x00.")
    monkeypatch.setitem(sys.modules, "torch", None)  # import torch -> ImportError
    monkeypatch.setitem(sys.modules, "gguf", None)
    with pytest.raises(ImportError, match="needs gguf \\(pip install 'gsa_fast\\[gguf\\]'"):
        list_tensors(tmp_path / "m.gguf")
    with pytest.raises(ImportError, match="m.pt is a PyTorch checkpoint: reading it needs torch"):
        list_tensors(tmp_path / "m.pt")


def _file(header: dict, data: bytes = b"") -> bytes:
    h = json.dumps(header).encode()
    return struct.pack("<Q", len(h)) + h + data


@pytest.mark.parametrize("payload,match", [
    (b"", "empty"),
    (b"\x01", "too short"),
    (struct.pack("<Q", 10**9) + b"{}", "header length"),
    (struct.pack("<Q", 2) + b"{x", "not valid JSON"),
    (_file({"w": {"dtype": "F32", "shape": [4], "data_offsets": [0, 99]}}, bytes(16)), "inconsistent offsets"),
    (_file({"w": {"dtype": "F32", "shape": [4], "data_offsets": [0, 16]}}, bytes(8)), "inconsistent offsets"),
    (_file({"w": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]},
            "v": {"dtype": "F32", "shape": [2], "data_offsets": [4, 12]}}, bytes(12)), "overlap"),
    (_file({"w": {"dtype": "F32", "shape": "x", "data_offsets": [0, 8]}}, bytes(8)), "malformed"),
    (b"PK\x03\x04garbage-that-is-not-a-zip", "zip"),
    (b"\x00" * 8 + b"XYZ" * 5, "unknown weight format"),
])
def test_bad_files(tmp_path, payload, match):
    p = tmp_path / "bad.safetensors"
    p.write_bytes(payload)
    for reader in (read_safetensors, list_tensors):
        with pytest.raises(ValueError) as e:
            reader(p)
        where, what = str(e.value).split(": ", 1)
        assert where == str(p) and "\n" not in what
        assert re.search(match, what), what


def test_unknown_dtype_is_listed_not_fatal(tmp_path):
    p = tmp_path / "m.safetensors"
    p.write_bytes(_file({"w": {"dtype": "Q3_WEIRD", "shape": [2, 2], "data_offsets": [0, 4]}}, bytes(4)))
    (r,) = list_tensors(p)
    assert r.dtype == "Q3_WEIRD"  # the scan gives it a status row (test_scan.py)
    with pytest.raises(ValueError, match="tensor 'w' has unsupported dtype 'Q3_WEIRD'"):
        read_safetensors(p)  # the old API returns arrays, so it cannot hold it


def test_sources(tmp_path, rng):
    idx = write_sharded(tmp_path / "m", {f"layers.{i}.w": rng.standard_normal((3, 2)) for i in range(4)}, 2)
    assert [p.name for p, _ in resolve_source(tmp_path / "m")] == [
        "model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors"]
    assert resolve_source(idx) == resolve_source(tmp_path / "m")
    (tmp_path / "m" / "model-00002-of-00002.safetensors").unlink()
    with pytest.raises(FileNotFoundError, match="missing shard model-00002"):
        resolve_source(idx)
    (tmp_path / "bad.index.json").write_text("{not json")
    with pytest.raises(ValueError, match="bad.index.json: index is not valid JSON"):
        resolve_source(tmp_path / "bad.index.json")
    (tmp_path / "empty").mkdir()
    with pytest.raises(FileNotFoundError, match="holds no weights"):
        resolve_source(tmp_path / "empty")
    with pytest.raises(FileNotFoundError, match="no such file"):
        resolve_source(tmp_path / "nope.safetensors")
