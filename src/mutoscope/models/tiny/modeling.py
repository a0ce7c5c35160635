"""Networks of ``mutoscope-tiny``: a per-frame autoencoder and a text-conditioned denoiser.

* :class:`FrameAutoencoder` squeezes a 64x64 RGB frame into a 16x16x4 latent (trained first,
  then frozen).
* :class:`TinyDenoiser` sees all ``FRAMES`` latents of a clip stacked as channels (64 channels
  at 16x16, plus two coordinate channels so "start on the left" is easy to express) and predicts
  the clean latents (x0) from a noisy clip, the noise level and the caption. It is a diffusers
  ``UNet2DConditionModel`` with cross-attention on MiniLM's per-token embeddings, which first
  pass through a small trainable transformer, and a pooled caption vector added to the time
  embedding.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import torch
import torch.nn.functional as F
from diffusers import UNet2DConditionModel
from torch import nn

from mutoscope.models.tiny.text import TEXT_DIM
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
            nn.Upsample(scale_factor=2, mode="nearest"),
            nn.Conv2d(ch, ch // 2, 3, padding=1),
            _ResBlock(ch // 2),
            nn.Upsample(scale_factor=2, mode="nearest"),
            nn.Conv2d(ch // 2, ch // 4, 3, padding=1),
            nn.GroupNorm(8, ch // 4),
            nn.SiLU(),
            nn.Conv2d(ch // 4, 3, 3, padding=1),
        )
        self.register_buffer("latent_scale", torch.tensor(1.0))

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        return torch.tanh(self.encoder(x) / 3) * 3

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        return self.decoder(z)


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

    def to_dict(self) -> dict[str, object]:
        return asdict(self)


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
        channels = cfg.frames * cfg.latent_channels * cfg.patch**2
        blocks = tuple(cfg.block_out_channels)
        grid = cfg.latent_res // cfg.patch
        self.unet = UNet2DConditionModel(
            sample_size=grid,
            in_channels=channels + 2,
            out_channels=channels,
            down_block_types=("CrossAttnDownBlock2D",) * len(blocks),
            up_block_types=("CrossAttnUpBlock2D",) * len(blocks),
            mid_block_type="UNetMidBlock2DCrossAttn",
            block_out_channels=blocks,
            layers_per_block=cfg.layers_per_block,
            cross_attention_dim=cfg.cond_dim,
            attention_head_dim=tuple(b // cfg.head_dim for b in blocks),
            norm_num_groups=32,
            class_embed_type="projection",
            projection_class_embeddings_input_dim=cfg.cond_dim,
        )
        ys, xs = torch.meshgrid(
            torch.linspace(-1, 1, grid), torch.linspace(-1, 1, grid), indexing="ij"
        )
        self.register_buffer("coords", torch.stack([xs, ys])[None], persistent=False)

    def encode_text(
        self, hidden: torch.Tensor, mask: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Trainable adapter over frozen MiniLM tokens -> (tokens, pooled)."""
        h = self.text_tf(self.text_in(hidden), src_key_padding_mask=~mask)
        h = self.text_out(h)
        m = mask.unsqueeze(-1).to(h.dtype)
        pooled = (h * m).sum(1) / m.sum(1).clamp(min=1)
        return h, pooled

    def forward(
        self,
        x: torch.Tensor,
        sigma: torch.Tensor,
        tokens: torch.Tensor,
        mask: torch.Tensor,
        pooled: torch.Tensor,
    ) -> torch.Tensor:
        coords = self.coords.expand(x.shape[0], -1, -1, -1).to(x.dtype)
        x = F.pixel_unshuffle(x, self.config.patch)
        out = self.unet(  # type: ignore[operator]
            torch.cat([x, coords], dim=1),
            sigma * 1000,
            encoder_hidden_states=tokens,
            encoder_attention_mask=mask,
            class_labels=pooled,
        ).sample
        return F.pixel_shuffle(out, self.config.patch)
