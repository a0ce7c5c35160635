"""Networks of ``mutoscope-tiny``: a per-frame autoencoder and a text-conditioned denoiser.

* :class:`FrameAutoencoder` squeezes a 64x64 RGB frame into a 16x16x4 latent (trained first,
  then frozen).
* :class:`LayoutPrior` turns the caption into a coarse guess of the clean clip: one learned
  query per (keyframe, latent cell) cross-attends to the caption tokens, so "where is something
  at frame t" is read straight from the words for motion, colour and order.
* :class:`TinyDenoiser` sees all ``FRAMES`` latents of a clip stacked as channels (64 channels
  at 16x16, plus two coordinate channels so "start on the left" is easy to express) and that
  prior, and predicts the clean latents (x0) from a noisy clip, the noise level and the caption.
  It is a ``UNet2DConditionModel`` (diffusers' layout, in plain torch: :mod:`.unet`) with
  cross-attention on MiniLM's per-token embeddings, which first pass through a small
  trainable transformer, and a pooled caption vector added to the time embedding.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import cast

import torch
import torch.nn.functional as F
from torch import nn

from mutoscope.models.tiny.text import MAX_TOKENS, TEXT_DIM
from mutoscope.models.tiny.unet import LeanUNet
from mutoscope.models.tiny.world import FRAMES, RES

LATENT_CHANNELS = 4
LATENT_RES = RES // 4


class _ResBlock(nn.Module):
    def __init__(self, ch: int) -> None:
        super().__init__()
        self.body = nn.Sequential(
            nn.GroupNorm(8, ch),
            nn.SiLU(),
            nn.Conv2d(ch, ch, 3, padding=1),
            nn.GroupNorm(8, ch),
            nn.SiLU(),
            nn.Conv2d(ch, ch, 3, padding=1),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.body(x)


def _upsampler(ch: int) -> list[nn.Module]:
    """The decoders' tail: 16x16 features with ``ch`` channels -> 64x64 RGB."""
    return [
        nn.Upsample(scale_factor=2, mode="nearest"),
        nn.Conv2d(ch, ch // 2, 3, padding=1),
        _ResBlock(ch // 2),
        nn.Upsample(scale_factor=2, mode="nearest"),
        nn.Conv2d(ch // 2, ch // 4, 3, padding=1),
        nn.GroupNorm(8, ch // 4),
        nn.SiLU(),
        nn.Conv2d(ch // 4, 3, 3, padding=1),
    ]


def _coords(grid: int) -> torch.Tensor:
    """(1, 2, grid, grid) x and y coordinates in [-1, 1]."""
    ys, xs = torch.meshgrid(torch.linspace(-1, 1, grid), torch.linspace(-1, 1, grid), indexing="ij")
    return torch.stack([xs, ys])[None]


class FrameAutoencoder(nn.Module):
    """64x64x3 in [-1, 1] <-> 16x16x4 latent. ``latent_scale`` makes latents about unit std."""

    latent_scale: torch.Tensor

    def __init__(self, ch: int = 64) -> None:
        super().__init__()
        self.encoder = nn.Sequential(
            nn.Conv2d(3, ch // 4, 3, padding=1),
            nn.SiLU(),
            nn.Conv2d(ch // 4, ch // 2, 4, stride=2, padding=1),
            _ResBlock(ch // 2),
            nn.Conv2d(ch // 2, ch, 4, stride=2, padding=1),
            _ResBlock(ch),
            nn.GroupNorm(8, ch),
            nn.SiLU(),
            nn.Conv2d(ch, LATENT_CHANNELS, 1),
        )
        self.decoder = nn.Sequential(
            nn.Conv2d(LATENT_CHANNELS, ch, 3, padding=1),
            _ResBlock(ch),
            _ResBlock(ch),
            *_upsampler(ch),
        )
        self.register_buffer("latent_scale", torch.tensor(1.0))

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        return torch.tanh(self.encoder(x) / 3) * 3

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        return self.decoder(z)


def key_bias(pad: torch.Tensor, attn: nn.MultiheadAttention, q: torch.Tensor) -> torch.Tensor:
    """``pad`` (True: ignore that key) as the additive 3-D ``attn_mask`` of ``attn``.

    The same attention as ``key_padding_mask=pad``, without torch's key-padding check, whose
    first call imports ``torch.fx.experimental.symbolic_shapes`` and SymPy (~0.4 s per process).
    """
    bias = torch.zeros(pad.shape, dtype=q.dtype).masked_fill(pad, float("-inf"))
    n, queries = attn.num_heads, q.shape[1]
    return bias[:, None, None, :].expand(-1, n, queries, -1).reshape(-1, queries, pad.shape[1])


class _CrossAttention(nn.Module):
    """Every cell of a feature map reads the caption tokens (pre-norm, residual)."""

    def __init__(self, ch: int, heads: int = 4) -> None:
        super().__init__()
        self.norm = nn.GroupNorm(8, ch)
        self.attn = nn.MultiheadAttention(ch, heads, batch_first=True)

    def forward(self, x: torch.Tensor, kv: torch.Tensor, pad: torch.Tensor) -> torch.Tensor:
        b, c, h, w = x.shape
        q = self.norm(x).flatten(2).transpose(1, 2)  # (B, H*W, C)
        out = self.attn(q, kv, kv, attn_mask=key_bias(pad, self.attn, q), need_weights=False)[0]
        return x + out.transpose(1, 2).reshape(b, c, h, w)


class CaptionDecoder(nn.Module):
    """Latent frame + caption tokens -> 64x64 frame: the autoencoder's decoder, made to listen.

    The denoiser gets place, colour and motion right but leaves small objects as blobs, and
    the 16x16x4 latent itself keeps a shape only 81 % of the time. This decoder is trained to
    turn what the denoiser really produces (and circles standing in for any shape) into the
    frame the caption describes, reading the caption through cross-attention at latent
    resolution: a text-conditioned last stage, as in cascaded text-to-image models.

    Its layout is :class:`FrameAutoencoder`'s decoder with two cross-attention layers, a third
    residual block and two coordinate channels added, all starting at zero, so
    :meth:`from_autoencoder` begins exactly where the autoencoder's decoder is.
    """

    coords: torch.Tensor

    def __init__(self, ch: int = 64, text_dim: int = TEXT_DIM, res: int = LATENT_RES) -> None:
        super().__init__()
        self.text = nn.Sequential(nn.LayerNorm(text_dim), nn.Linear(text_dim, ch))
        self.token_pos = nn.Parameter(torch.zeros(MAX_TOKENS, ch))
        self.text_mix = nn.TransformerEncoderLayer(
            ch, 4, ch * 2, dropout=0.0, batch_first=True, norm_first=True
        )
        """One self-attention layer over the caption, so a shape word can carry its own
        object's colour and place in the sentence (which object in the frame it belongs to)."""
        self.inp = nn.Conv2d(LATENT_CHANNELS + 2, ch, 3, padding=1)
        self.res = nn.ModuleList(_ResBlock(ch) for _ in range(3))
        self.attn = nn.ModuleList(_CrossAttention(ch) for _ in range(2))
        self.up = nn.Sequential(*_upsampler(ch))
        self.register_buffer("coords", _coords(res), persistent=False)

    @classmethod
    def from_autoencoder(cls, ae: FrameAutoencoder) -> CaptionDecoder:
        """A caption decoder that, before training, decodes exactly like ``ae``."""
        layers = list(ae.decoder)
        first = layers[0]
        assert isinstance(first, nn.Conv2d)
        m = cls(ch=first.out_channels)
        with torch.no_grad():
            m.inp.weight.zero_()
            m.inp.weight[:, :LATENT_CHANNELS] = first.weight
            cast(torch.Tensor, m.inp.bias).copy_(cast(torch.Tensor, first.bias))
            m.res[0].load_state_dict(layers[1].state_dict())
            m.res[1].load_state_dict(layers[2].state_dict())
            last = cast(_ResBlock, m.res[2]).body[-1]
            zeroed = [last, *(cast(_CrossAttention, a).attn.out_proj for a in m.attn)]
            zeroed += [m.text_mix.self_attn.out_proj, m.text_mix.linear2]
            for module in zeroed:
                for param in module.parameters():
                    param.zero_()
            m.up.load_state_dict(nn.Sequential(*layers[3:]).state_dict())
        return m

    def forward(self, z: torch.Tensor, hidden: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """``z``: (N, 4, 16, 16) unscaled latents; ``hidden``/``mask``: MiniLM tokens, one
        caption per frame (or one for all). Returns (N, 3, 64, 64) in about [-1, 1]."""
        if hidden.shape[0] != z.shape[0]:
            hidden = hidden.expand(z.shape[0], -1, -1)
            mask = mask.expand(z.shape[0], -1)
        kv, pad = self.text(hidden) + self.token_pos[: hidden.shape[1]], ~mask
        kv = self.text_mix(kv, src_key_padding_mask=pad)
        x = self.inp(torch.cat([z, self.coords.expand(z.shape[0], -1, -1, -1).to(z)], 1))
        x = self.res[0](x)
        for attn, res in zip(self.attn, self.res[1:], strict=True):
            x = res(attn(x, kv, pad))
        return self.up(x)


@dataclass
class DenoiserConfig:
    frames: int = FRAMES
    latent_channels: int = LATENT_CHANNELS
    latent_res: int = LATENT_RES
    text_dim: int = TEXT_DIM
    cond_dim: int = 256
    text_layers: int = 2
    block_out_channels: tuple[int, ...] = (64, 128)
    layers_per_block: int = 1
    head_dim: int = 32
    patch: int = 2
    """Space-to-depth factor: the UNet runs on (latent_res / patch)^2 cells, 4x cheaper at 2."""
    layout_layers: int = 2
    """Cross-attention layers of the :class:`LayoutPrior` (0: none, as in the first release)."""
    layout_dim: int = 64
    raw_tokens: bool = True
    """Also attend to MiniLM's own tokens (normalised, projected), beside the adapter's.

    The adapter's self-attention smears each token toward the sentence mean, and after it
    "left" and "right" were 0.999 alike (MiniLM itself: 0.72); direction words need this path.
    """

    def to_dict(self) -> dict[str, object]:
        return asdict(self)


class _QueryLayer(nn.Module):
    """Queries cross-attend to the caption tokens, then an MLP (pre-norm, residual)."""

    def __init__(self, dim: int, heads: int = 4) -> None:
        super().__init__()
        self.norm_q = nn.LayerNorm(dim)
        self.attn = nn.MultiheadAttention(dim, heads, batch_first=True)
        self.norm_mlp = nn.LayerNorm(dim)
        self.mlp = nn.Sequential(nn.Linear(dim, dim * 2), nn.GELU(), nn.Linear(dim * 2, dim))

    def forward(self, q: torch.Tensor, kv: torch.Tensor, pad: torch.Tensor) -> torch.Tensor:
        h = self.norm_q(q)
        q = q + self.attn(h, kv, kv, attn_mask=key_bias(pad, self.attn, h), need_weights=False)[0]
        return q + self.mlp(self.norm_mlp(q))


class LayoutPrior(nn.Module):
    """Caption tokens -> a coarse clean clip, in the denoiser's space-to-depth layout.

    Each of the ``frames x grid x grid`` queries is a learned keyframe embedding plus a learned
    cell embedding; it reads the caption through cross-attention and says what the latent
    looks like in its cell at its time. Trained with the denoiser (its output is an input of
    the UNet) and directly against the clean latents.
    """

    def __init__(self, cfg: DenoiserConfig) -> None:
        super().__init__()
        d, grid = cfg.layout_dim, cfg.latent_res // cfg.patch
        self.frames, self.grid = cfg.frames, grid
        self.frame_emb = nn.Parameter(torch.randn(cfg.frames, 1, d) * 0.5)
        self.cell_emb = nn.Parameter(torch.randn(1, grid * grid, d) * 0.5)
        self.kv = nn.Linear(cfg.cond_dim, d)
        self.layers = nn.ModuleList(_QueryLayer(d) for _ in range(cfg.layout_layers))
        self.out = nn.Sequential(nn.LayerNorm(d), nn.Linear(d, cfg.latent_channels * cfg.patch**2))

    def forward(self, tokens: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        b = tokens.shape[0]
        q = (self.frame_emb + self.cell_emb).flatten(0, 1)  # (F * cells, d)
        q = q.unsqueeze(0).expand(b, -1, -1)
        kv = self.kv(tokens)
        for layer in self.layers:
            q = layer(q, kv, ~mask)
        out = self.out(q)  # (B, F * cells, C * p * p)
        out = out.view(b, self.frames, self.grid, self.grid, -1).permute(0, 1, 4, 2, 3)
        return out.reshape(b, -1, self.grid, self.grid)


class TinyDenoiser(nn.Module):
    """Predicts clean clip latents ``(B, F*C, H, W)`` from noisy ones, sigma and caption tokens."""

    coords: torch.Tensor

    def __init__(self, config: DenoiserConfig | None = None) -> None:
        super().__init__()
        cfg = config or DenoiserConfig()
        self.config = cfg
        self.text_in = nn.Linear(cfg.text_dim, cfg.cond_dim)
        layer = nn.TransformerEncoderLayer(
            cfg.cond_dim, 4, cfg.cond_dim * 2, dropout=0.0, batch_first=True, norm_first=True
        )
        self.text_tf = nn.TransformerEncoder(layer, cfg.text_layers, enable_nested_tensor=False)
        self.text_out = nn.LayerNorm(cfg.cond_dim)
        if cfg.raw_tokens:
            self.text_raw = nn.Sequential(
                nn.LayerNorm(cfg.text_dim), nn.Linear(cfg.text_dim, cfg.cond_dim)
            )
        channels = cfg.frames * cfg.latent_channels * cfg.patch**2
        blocks = tuple(cfg.block_out_channels)
        grid = cfg.latent_res // cfg.patch
        self.layout = LayoutPrior(cfg) if cfg.layout_layers else None
        self.unet = LeanUNet(  # diffusers' CrossAttn{Down,Up}Block2D / UNetMidBlock2DCrossAttn
            in_channels=channels * (2 if self.layout else 1) + 2,
            out_channels=channels,
            block_out_channels=blocks,
            layers_per_block=cfg.layers_per_block,
            cross_attention_dim=cfg.cond_dim,
            attention_head_dim=tuple(b // cfg.head_dim for b in blocks),
            norm_num_groups=32,
            projection_class_embeddings_input_dim=cfg.cond_dim,
        )
        self.register_buffer("coords", _coords(grid), persistent=False)

    def encode_text(
        self, hidden: torch.Tensor, mask: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Frozen MiniLM tokens -> (tokens, their mask, pooled) for cross-attention.

        The tokens are the trainable adapter's and, with ``raw_tokens``, MiniLM's own after a
        LayerNorm and a projection (so the mask is repeated).
        """
        h = self.text_tf(self.text_in(hidden), src_key_padding_mask=~mask)
        h = self.text_out(h)
        m = mask.unsqueeze(-1).to(h.dtype)
        pooled = (h * m).sum(1) / m.sum(1).clamp(min=1)
        if self.config.raw_tokens:
            return torch.cat([h, self.text_raw(hidden)], 1), torch.cat([mask, mask], 1), pooled
        return h, mask, pooled

    def prior(self, tokens: torch.Tensor, mask: torch.Tensor) -> torch.Tensor | None:
        """The layout prior in clip-latent shape ``(B, F*C, H, W)`` (None without one)."""
        if self.layout is None:
            return None
        return F.pixel_shuffle(self.layout(tokens, mask), self.config.patch)

    def forward(
        self,
        x: torch.Tensor,
        sigma: torch.Tensor,
        tokens: torch.Tensor,
        mask: torch.Tensor,
        pooled: torch.Tensor,
        prior: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """Clean-clip estimate. ``prior`` (from :meth:`prior`) is recomputed when not given."""
        coords = self.coords.expand(x.shape[0], -1, -1, -1).to(x.dtype)
        inputs = [F.pixel_unshuffle(x, self.config.patch)]
        if self.layout is not None:
            if prior is None:
                prior = self.prior(tokens, mask)
            assert prior is not None
            inputs.append(F.pixel_unshuffle(prior, self.config.patch))
        out = self.unet(
            torch.cat([*inputs, coords], dim=1),
            sigma * 1000,
            encoder_hidden_states=tokens,
            encoder_attention_mask=mask,
            class_labels=pooled,
        ).sample
        return F.pixel_shuffle(out, self.config.patch)
