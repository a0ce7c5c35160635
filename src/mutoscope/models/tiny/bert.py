"""MiniLM's BERT encoder in plain torch, loaded straight from its safetensors file.

The caption encoder of ``mutoscope-tiny`` is a frozen all-MiniLM-L6-v2; loading it through
transformers' ``AutoModel`` costs seconds of imports per process. This module holds the
same six layers under the same parameter names (so the weights file loads as is) and
computes the same ``last_hidden_state`` (a test compares them), with the tokenizer read by the
``tokenizers`` library from the model's ``tokenizer.json``.
"""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn


class _SelfAttention(nn.Module):
    def __init__(self, dim: int) -> None:
        super().__init__()
        self.query = nn.Linear(dim, dim)
        self.key = nn.Linear(dim, dim)
        self.value = nn.Linear(dim, dim)


class _DenseNorm(nn.Module):
    def __init__(self, dim_in: int, dim: int, eps: float) -> None:
        super().__init__()
        self.dense = nn.Linear(dim_in, dim)
        self.LayerNorm = nn.LayerNorm(dim, eps=eps)


class _Attention(nn.Module):
    def __init__(self, dim: int, eps: float) -> None:
        super().__init__()
        self.self = _SelfAttention(dim)
        self.output = _DenseNorm(dim, dim, eps)


class _Intermediate(nn.Module):
    def __init__(self, dim: int, inner: int) -> None:
        super().__init__()
        self.dense = nn.Linear(dim, inner)


class _Layer(nn.Module):
    def __init__(self, dim: int, inner: int, heads: int, eps: float) -> None:
        super().__init__()
        self.heads = heads
        self.attention = _Attention(dim, eps)
        self.intermediate = _Intermediate(dim, inner)
        self.output = _DenseNorm(inner, dim, eps)

    def forward(self, x: torch.Tensor, bias: torch.Tensor) -> torch.Tensor:
        b, t, d = x.shape
        att = self.attention

        def split(h: torch.Tensor) -> torch.Tensor:
            return h.view(b, t, self.heads, d // self.heads).transpose(1, 2)

        q, k, v = split(att.self.query(x)), split(att.self.key(x)), split(att.self.value(x))
        ctx = F.scaled_dot_product_attention(q, k, v, attn_mask=bias).transpose(1, 2)
        x = att.output.LayerNorm(x + att.output.dense(ctx.reshape(b, t, d)))
        h = self.output.dense(F.gelu(self.intermediate.dense(x)))
        return self.output.LayerNorm(x + h)


class _Embeddings(nn.Module):
    def __init__(self, vocab: int, positions: int, types: int, dim: int, eps: float) -> None:
        super().__init__()
        self.word_embeddings = nn.Embedding(vocab, dim)
        self.position_embeddings = nn.Embedding(positions, dim)
        self.token_type_embeddings = nn.Embedding(types, dim)
        self.LayerNorm = nn.LayerNorm(dim, eps=eps)


class _Encoder(nn.Module):
    def __init__(self, layers: list[_Layer]) -> None:
        super().__init__()
        self.layer = nn.ModuleList(layers)


class BertEncoder(nn.Module):
    """Token ids and attention mask -> last hidden states, as ``BertModel`` computes them."""

    def __init__(self, config: dict[str, Any]) -> None:
        super().__init__()
        self.config = SimpleNamespace(**config)
        dim, eps = config["hidden_size"], config["layer_norm_eps"]
        self.embeddings = _Embeddings(
            config["vocab_size"],
            config["max_position_embeddings"],
            config["type_vocab_size"],
            dim,
            eps,
        )
        self.encoder = _Encoder(
            [
                _Layer(dim, config["intermediate_size"], config["num_attention_heads"], eps)
                for _ in range(config["num_hidden_layers"])
            ]
        )

    @classmethod
    def from_dir(cls, path: Path) -> BertEncoder:
        from safetensors.torch import load_file

        from mutoscope.models.tiny.loading import uninitialised

        with uninitialised():  # every weight is loaded below (strict)
            model = cls(json.loads((path / "config.json").read_text()))
        weights = load_file(str(path / "model.safetensors"))
        state = {k: v for k, v in weights.items() if k.startswith(("embeddings.", "encoder."))}
        state.pop("embeddings.position_ids", None)
        # assign: the module keeps the file's (copy-on-write, memory-mapped) tensors instead of
        # copying 90 MB into its own; a prompt reads a few rows of the 47 MB word table.
        model.load_state_dict(state, assign=True)
        return model.eval().requires_grad_(False)

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        emb = self.embeddings
        positions = torch.arange(input_ids.shape[1])
        x = emb.word_embeddings(input_ids) + emb.position_embeddings(positions)[None]
        x = emb.LayerNorm(x + emb.token_type_embeddings.weight[0])
        dtype = x.dtype
        bias = (1.0 - attention_mask[:, None, None, :].to(dtype)) * torch.finfo(dtype).min
        for layer in self.encoder.layer:
            x = layer(x, bias)
        return x


def load_tokenizer(path: Path, length: int) -> Any:
    """The model's fast tokenizer, truncating and padding every text to ``length`` tokens."""
    from tokenizers import Tokenizer

    tok = Tokenizer.from_file(str(path / "tokenizer.json"))
    tok.enable_truncation(length)
    tok.enable_padding(length=length, pad_id=0, pad_token="[PAD]")
    return tok
