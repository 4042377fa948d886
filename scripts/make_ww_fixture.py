"""Generate tests/data/ww_minilm.csv: WeightWatcher's own analyze() on the bundled MiniLM checkpoint.

Run ONCE in a scratch environment holding weightwatcher==0.7.7 and torch (not a gsa_fast dependency):

    python3 -m venv /tmp/ww-venv && /tmp/ww-venv/bin/pip install torch==2.13.0 weightwatcher==0.7.7
    /tmp/ww-venv/bin/python scripts/make_ww_fixture.py MODEL.safetensors tests/data/ww_minilm.csv

The torch model is a plain nn.Module tree that holds the checkpoint's tensors under their own
names: nn.Linear for every 2-D ``*.weight`` that has a matching ``*.bias`` (dense layers),
nn.Embedding for ``*_embeddings.weight``, nn.LayerNorm for the 1-D norm weights. No network, no
transformers: WeightWatcher reads only the modules' weights.
"""
import json
import struct
import sys

import numpy as np
import torch
from torch import nn


def read_safetensors(path):
    with open(path, "rb") as f:
        (n,) = struct.unpack("<Q", f.read(8))
        header = json.loads(f.read(n))
        base = 8 + n
        out = {}
        for name, meta in header.items():
            if name == "__metadata__":
                continue
            dt = {"F32": np.float32, "F16": np.float16, "F64": np.float64, "I64": np.int64}[meta["dtype"]]
            a, b = meta["data_offsets"]
            f.seek(base + a)
            out[name] = np.frombuffer(f.read(b - a), dtype=dt).reshape(meta["shape"]).copy()
    return out


def build(tensors):
    root = nn.Module()
    for name in sorted(tensors):  # modules are created in name order; WW numbers them in that order
        if not name.endswith(".weight"):
            continue
        w = tensors[name]
        path = name[: -len(".weight")].split(".")
        parent = root
        for p in path[:-1]:
            if not hasattr(parent, p):
                parent.add_module(p, nn.Module())
            parent = getattr(parent, p)
        t = torch.from_numpy(w)
        if w.ndim == 2 and path[-1].endswith("_embeddings"):
            mod = nn.Embedding(w.shape[0], w.shape[1])
            mod.weight.data = t
        elif w.ndim == 2:
            mod = nn.Linear(w.shape[1], w.shape[0], bias=(name[:-7] + ".bias") in tensors)
            mod.weight.data = t
            if mod.bias is not None:
                mod.bias.data = torch.from_numpy(tensors[name[:-7] + ".bias"])
        elif w.ndim == 1:
            mod = nn.LayerNorm(w.shape[0])
            mod.weight.data = t
        else:
            continue
        parent.add_module(path[-1], mod)
    return root


if __name__ == "__main__" and sys.argv[1] != "--conv":
    import weightwatcher as ww

    src, dst = sys.argv[1], sys.argv[2]
    model = build(read_safetensors(src))
    watcher = ww.WeightWatcher(model=model)
    details = watcher.analyze()  # all defaults
    cols = [c for c in details.columns]
    with open(dst, "w") as f:
        f.write(f"# WeightWatcher {ww.__version__} analyze() defaults on {src.split('/site-packages/')[-1]}\n")
        f.write(f"# torch {torch.__version__}, numpy {np.__version__}; command: "
                f"/tmp/ww-venv/bin/python scripts/make_ww_fixture.py MODEL.safetensors {dst}\n")
        f.write(f"# summary (get_summary): {json.dumps({k: float(v) for k, v in watcher.get_summary(details).items()})}\n")
        details.to_csv(f, index=False, float_format="%.17g")
    print(details[["layer_id", "name", "N", "M", "alpha", "xmin", "D", "num_pl_spikes"]].to_string())


def conv_fixture(dst_csv, dst_npz):
    """A small conv + dense model with seeded weights (tests/data/ww_conv.npz) and WeightWatcher's
    analyze() of it (tests/data/ww_conv.csv): the pool=True conv2d path (kh·kw slices, conv2d_norm).

        /tmp/ww-venv/bin/python scripts/make_ww_fixture.py --conv tests/data/ww_conv.csv tests/data/ww_conv.npz
    """
    import weightwatcher as ww

    rng = np.random.default_rng(2026)
    weights = {
        "conv1.weight": (rng.standard_normal((24, 12, 3, 3)) * 0.2).astype(np.float32),
        "conv2.weight": (rng.standard_normal((16, 24, 2, 2)) * 0.3).astype(np.float32),
        "fc.weight": (rng.standard_t(3, (40, 30)) * 0.1).astype(np.float32),
    }
    np.savez(dst_npz, **weights)
    model = nn.Module()
    c1 = nn.Conv2d(12, 24, 3, bias=False)
    c1.weight.data = torch.from_numpy(weights["conv1.weight"])
    c2 = nn.Conv2d(24, 16, 2, bias=False)
    c2.weight.data = torch.from_numpy(weights["conv2.weight"])
    fc = nn.Linear(30, 40, bias=False)
    fc.weight.data = torch.from_numpy(weights["fc.weight"])
    model.add_module("conv1", c1)
    model.add_module("conv2", c2)
    model.add_module("fc", fc)
    details = ww.WeightWatcher(model=model).analyze()
    with open(dst_csv, "w") as f:
        f.write(f"# WeightWatcher {ww.__version__} analyze() defaults on the seeded conv model of "
                f"scripts/make_ww_fixture.py (weights in {dst_npz.split('/')[-1]})\n")
        f.write(f"# torch {torch.__version__}, numpy {np.__version__}; command: /tmp/ww-venv/bin/python "
                f"scripts/make_ww_fixture.py --conv {dst_csv} {dst_npz}\n")
        details.to_csv(f, index=False, float_format="%.17g")
    print(details[["layer_id", "name", "N", "M", "rf", "alpha", "xmin", "D", "num_pl_spikes"]].to_string())


if __name__ == "__main__" and sys.argv[1] == "--conv":
    conv_fixture(sys.argv[2], sys.argv[3])
