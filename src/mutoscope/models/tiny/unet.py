"""The denoiser's UNet in plain torch: diffusers' ``UNet2DConditionModel``, the part we use.

``mutoscope-tiny`` was built on a diffusers ``UNet2DConditionModel`` with cross-attention
down/up blocks, a cross-attention mid block and a projected class embedding. Importing
diffusers costs seconds (it pulls in ``torch._dynamo``, the whole model zoo and SciPy) for a
model that samples in a quarter of a second, so this module computes the same function with
the same parameter names: checkpoints load unchanged in either direction, and a test checks
that both give the same output for the same weights.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn


@dataclass
class UNetOutput:
    sample: torch.Tensor


class _TimestepEmbedding(nn.Module):
    def __init__(self, dim_in: int, dim: int) -> None:
        super().__init__()
        self.linear_1 = nn.Linear(dim_in, dim)
        self.act = nn.SiLU()
        self.linear_2 = nn.Linear(dim, dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.linear_2(self.act(self.linear_1(x)))


def timestep_embedding(t: torch.Tensor, dim: int, max_period: int = 10000) -> torch.Tensor:
    """Sinusoidal embedding, cosines first (diffusers' ``flip_sin_to_cos=True``, shift 0)."""
    half = dim // 2
    exponent = -math.log(max_period) * torch.arange(half, dtype=torch.float32) / half
    emb = t[:, None].float() * torch.exp(exponent)[None, :]
    return torch.cat([torch.cos(emb), torch.sin(emb)], dim=-1)


class _Resnet(nn.Module):
    def __init__(self, cin: int, cout: int, temb: int, groups: int, eps: float = 1e-5) -> None:
        super().__init__()
        self.norm1 = nn.GroupNorm(groups, cin, eps=eps)
        self.conv1 = nn.Conv2d(cin, cout, 3, padding=1)
        self.time_emb_proj = nn.Linear(temb, cout)
        self.norm2 = nn.GroupNorm(groups, cout, eps=eps)
        self.conv2 = nn.Conv2d(cout, cout, 3, padding=1)
        self.conv_shortcut = nn.Conv2d(cin, cout, 1) if cin != cout else None

    def forward(self, x: torch.Tensor, temb: torch.Tensor) -> torch.Tensor:
        h = self.conv1(F.silu(self.norm1(x)))
        h = h + self.time_emb_proj(F.silu(temb))[:, :, None, None]
        h = self.conv2(F.silu(self.norm2(h)))
        return (self.conv_shortcut(x) if self.conv_shortcut is not None else x) + h


class _Attention(nn.Module):
    def __init__(self, dim: int, heads: int, kv_dim: int | None = None) -> None:
        super().__init__()
        self.heads = heads
        self.to_q = nn.Linear(dim, dim, bias=False)
        self.to_k = nn.Linear(kv_dim or dim, dim, bias=False)
        self.to_v = nn.Linear(kv_dim or dim, dim, bias=False)
        self.to_out = nn.ModuleList([nn.Linear(dim, dim), nn.Dropout(0.0)])

    def forward(
        self, x: torch.Tensor, kv: torch.Tensor | None = None, bias: torch.Tensor | None = None
    ) -> torch.Tensor:
        kv = x if kv is None else kv
        b = x.shape[0]

        def split(t: torch.Tensor) -> torch.Tensor:
            return t.view(b, -1, self.heads, t.shape[-1] // self.heads).transpose(1, 2)

        q, k, v = split(self.to_q(x)), split(self.to_k(kv)), split(self.to_v(kv))
        out = F.scaled_dot_product_attention(q, k, v, attn_mask=bias)
        return self.to_out[0](out.transpose(1, 2).reshape(b, -1, x.shape[-1]))


class _GEGLU(nn.Module):
    def __init__(self, dim: int, inner: int) -> None:
        super().__init__()
        self.proj = nn.Linear(dim, inner * 2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h, gate = self.proj(x).chunk(2, dim=-1)
        return h * F.gelu(gate)


class _FeedForward(nn.Module):
    def __init__(self, dim: int) -> None:
        super().__init__()
        self.net = nn.ModuleList([_GEGLU(dim, dim * 4), nn.Dropout(0.0), nn.Linear(dim * 4, dim)])

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net[2](self.net[0](x))


class _TransformerBlock(nn.Module):
    def __init__(self, dim: int, heads: int, context_dim: int) -> None:
        super().__init__()
        self.norm1 = nn.LayerNorm(dim)
        self.attn1 = _Attention(dim, heads)
        self.norm2 = nn.LayerNorm(dim)
        self.attn2 = _Attention(dim, heads, context_dim)
        self.norm3 = nn.LayerNorm(dim)
        self.ff = _FeedForward(dim)

    def forward(self, x: torch.Tensor, context: torch.Tensor, bias: torch.Tensor) -> torch.Tensor:
        x = x + self.attn1(self.norm1(x))
        x = x + self.attn2(self.norm2(x), context, bias)
        return x + self.ff(self.norm3(x))


class _Transformer2D(nn.Module):
    def __init__(self, ch: int, heads: int, context_dim: int, groups: int) -> None:
        super().__init__()
        self.norm = nn.GroupNorm(groups, ch, eps=1e-6)
        self.proj_in = nn.Conv2d(ch, ch, 1)
        self.transformer_blocks = nn.ModuleList([_TransformerBlock(ch, heads, context_dim)])
        self.proj_out = nn.Conv2d(ch, ch, 1)

    def forward(self, x: torch.Tensor, context: torch.Tensor, bias: torch.Tensor) -> torch.Tensor:
        b, c, h, w = x.shape
        y = self.proj_in(self.norm(x)).permute(0, 2, 3, 1).reshape(b, h * w, c)
        for block in self.transformer_blocks:
            y = block(y, context, bias)
        return x + self.proj_out(y.reshape(b, h, w, c).permute(0, 3, 1, 2))


class _Sampler(nn.Module):
    """A 3x3 convolution after a nearest 2x upsampling, or with stride 2 (downsampling)."""

    def __init__(self, ch: int, *, down: bool) -> None:
        super().__init__()
        self.down = down
        self.conv = nn.Conv2d(ch, ch, 3, stride=2 if down else 1, padding=1)

    def forward(self, x: torch.Tensor, size: torch.Size | None = None) -> torch.Tensor:
        if not self.down:
            x = F.interpolate(x, size=size, scale_factor=None if size else 2.0, mode="nearest")
        return self.conv(x)


class _Block(nn.Module):
    """Cross-attention down, mid or up block: (resnet, transformer) pairs and a resampler."""

    def __init__(
        self,
        ins: list[int],
        cout: int,
        temb: int,
        heads: int,
        context_dim: int,
        groups: int,
        sampler: str | None,
        mid: bool = False,
    ) -> None:
        super().__init__()
        self.mid = mid
        self.resnets = nn.ModuleList(_Resnet(c, cout, temb, groups) for c in ins)
        n_attn = len(ins) - 1 if mid else len(ins)
        self.attentions = nn.ModuleList(
            _Transformer2D(cout, heads, context_dim, groups) for _ in range(n_attn)
        )
        if sampler == "down":
            self.downsamplers = nn.ModuleList([_Sampler(cout, down=True)])
        elif sampler == "up":
            self.upsamplers = nn.ModuleList([_Sampler(cout, down=False)])

    def pairs(self) -> list[tuple[_Resnet, _Transformer2D]]:
        return list(zip(self.resnets, self.attentions, strict=False))  # type: ignore[arg-type]

    def resample(self, x: torch.Tensor, size: torch.Size | None = None) -> torch.Tensor | None:
        """Down- or upsampled ``x``; None for a block without a sampler."""
        samplers = getattr(self, "downsamplers", None) or getattr(self, "upsamplers", None)
        return None if samplers is None else samplers[0](x, size)


class LeanUNet(nn.Module):
    """``UNet2DConditionModel`` restricted to what ``mutoscope-tiny`` uses (see the module doc).

    Takes the constructor arguments the denoiser passed to diffusers; ``attention_head_dim``
    is, as in diffusers, the number of heads per block.
    """

    def __init__(
        self,
        *,
        in_channels: int,
        out_channels: int,
        block_out_channels: tuple[int, ...],
        layers_per_block: int,
        cross_attention_dim: int,
        attention_head_dim: tuple[int, ...],
        norm_num_groups: int,
        projection_class_embeddings_input_dim: int,
    ) -> None:
        super().__init__()
        blocks, heads, g = tuple(block_out_channels), tuple(attention_head_dim), norm_num_groups
        temb = blocks[0] * 4
        self.time_channels = blocks[0]
        self.conv_in = nn.Conv2d(in_channels, blocks[0], 3, padding=1)
        self.time_embedding = _TimestepEmbedding(blocks[0], temb)
        self.class_embedding = _TimestepEmbedding(projection_class_embeddings_input_dim, temb)
        self.down_blocks = nn.ModuleList()
        cin = blocks[0]
        for i, cout in enumerate(blocks):
            ins = [cin] + [cout] * (layers_per_block - 1)
            last = i == len(blocks) - 1
            self.down_blocks.append(
                _Block(ins, cout, temb, heads[i], cross_attention_dim, g, None if last else "down")
            )
            cin = cout
        self.mid_block = _Block(
            [blocks[-1]] * 2, blocks[-1], temb, heads[-1], cross_attention_dim, g, None, mid=True
        )
        self.up_blocks = nn.ModuleList()
        rev, rev_heads = blocks[::-1], heads[::-1]
        prev = rev[0]
        for i, cout in enumerate(rev):
            skip_in = rev[min(i + 1, len(rev) - 1)]
            n = layers_per_block + 1
            ins = [(prev if j == 0 else cout) + (skip_in if j == n - 1 else cout) for j in range(n)]
            last = i == len(rev) - 1
            self.up_blocks.append(
                _Block(
                    ins, cout, temb, rev_heads[i], cross_attention_dim, g, None if last else "up"
                )
            )
            prev = cout
        self.conv_norm_out = nn.GroupNorm(g, blocks[0], eps=1e-5)
        self.conv_out = nn.Conv2d(blocks[0], out_channels, 3, padding=1)

    def forward(
        self,
        sample: torch.Tensor,
        timestep: torch.Tensor,
        *,
        encoder_hidden_states: torch.Tensor,
        encoder_attention_mask: torch.Tensor,
        class_labels: torch.Tensor,
    ) -> UNetOutput:
        # 1. Time and pooled-caption embeddings; the caption mask as an additive bias
        t = timestep.expand(sample.shape[0])
        emb = self.time_embedding(timestep_embedding(t, self.time_channels).to(sample.dtype))
        emb = emb + self.class_embedding(class_labels).to(sample.dtype)
        bias = ((1 - encoder_attention_mask.to(sample.dtype)) * -10000.0)[:, None, None, :]
        ctx = encoder_hidden_states

        # 2. Down, keeping every intermediate for the skips
        x = self.conv_in(sample)
        skips = [x]
        for block in self.down_blocks:
            assert isinstance(block, _Block)
            for resnet, attn in block.pairs():
                x = attn(resnet(x, emb), ctx, bias)
                skips.append(x)
            down = block.resample(x)
            if down is not None:
                x = down
                skips.append(x)

        # 3. Middle: resnet, then (transformer, resnet) pairs
        mid = self.mid_block
        x = mid.resnets[0](x, emb)
        for mid_attn, mid_resnet in zip(mid.attentions, mid.resnets[1:], strict=True):
            x = mid_resnet(mid_attn(x, ctx, bias), emb)

        # 4. Up, consuming the skips in reverse
        for block in self.up_blocks:
            assert isinstance(block, _Block)
            for resnet, attn in block.pairs():
                x = attn(resnet(torch.cat([x, skips.pop()], dim=1), emb), ctx, bias)
            up = block.resample(x, skips[-1].shape[2:] if skips else None)
            x = x if up is None else up

        # 5. Out
        return UNetOutput(self.conv_out(F.silu(self.conv_norm_out(x))))
