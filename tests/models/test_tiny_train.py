"""Training pieces of ``mutoscope-tiny``: warm start, loss weights and a resumable run."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from mutoscope.models.tiny.modeling import DenoiserConfig, TinyDenoiser
from mutoscope.models.tiny.train import TrainConfig, grow_into, object_weight, train

SMALL = {"cond_dim": 64, "text_layers": 1, "block_out_channels": (32, 64), "head_dim": 16}


def _inputs(batch: int = 2) -> tuple[torch.Tensor, ...]:
    g = torch.Generator().manual_seed(0)
    x = torch.randn(batch, 64, 16, 16, generator=g)
    hidden = torch.randn(batch, 40, 64, generator=g)
    mask = torch.ones(batch, 40, dtype=torch.bool)
    mask[:, 20:] = False
    return x, torch.full((batch,), 0.7), hidden, mask


def test_grown_model_starts_out_computing_what_the_old_one_did() -> None:
    torch.manual_seed(0)
    old = TinyDenoiser(DenoiserConfig(**SMALL, layout_layers=0, text_dim=64)).eval()
    new = TinyDenoiser(DenoiserConfig(**SMALL, layout_layers=2, text_dim=64)).eval()
    grow_into(new, old.state_dict())
    x, sigma, hidden, mask = _inputs()
    with torch.no_grad():
        tok_old, mask_old, pooled_old = old.encode_text(hidden, mask)
        tok_new, mask_new, pooled_new = new.encode_text(hidden, mask)
        prior = new.prior(tok_new, mask_new)
        assert prior is not None and prior.shape == x.shape
        out_old = old(x, sigma, tok_old, mask_old, pooled_old)
        out_new = new(x, sigma, tok_new, mask_new, pooled_new, prior)
    torch.testing.assert_close(out_new, out_old, rtol=1e-4, atol=1e-4)
    # ...and the prior is wired in: once its input weights move, the output changes.
    with torch.no_grad():
        new.unet.conv_in.weight[:, 64 * 4 : 64 * 8] += 0.1
        assert not torch.allclose(new(x, sigma, tok_new, mask_new, pooled_new, prior), out_old)


def test_prior_depends_on_the_caption_and_the_keyframe() -> None:
    torch.manual_seed(0)
    model = TinyDenoiser(DenoiserConfig(**SMALL, text_dim=64)).eval()
    _, _, hidden, mask = _inputs()
    with torch.no_grad():
        tokens, mask, _ = model.encode_text(hidden, mask)
        prior = model.prior(tokens, mask)
    assert prior is not None
    frames = prior.unflatten(1, (16, 4))
    assert not torch.allclose(frames[0], frames[1])  # two captions
    assert not torch.allclose(frames[0, 0], frames[0, 15])  # first vs last keyframe


def test_object_weight_marks_cells_that_differ_from_their_row() -> None:
    x0 = torch.zeros(1, 16 * 4, 16, 16)
    x0 += torch.linspace(-1, 1, 16).view(1, 1, 16, 1)  # a vertical gradient backdrop
    x0[0, 4 * 3 + 1, 5:8, 2:5] += 2.0  # an object in keyframe 3, latent channel 1
    w = object_weight(x0, frames=16)
    assert w.shape == (1, 16, 1, 16, 16)
    assert w[0, 3, 0, 5:8, 2:5].eq(5.0).all()
    assert w.sum() == 16 * 16 * 16 + 4.0 * 9


def test_training_runs_resumes_and_exports(tmp_path: Path) -> None:
    from mutoscope.models.tiny.pipeline import TinyPipeline
    from mutoscope.models.tiny.train import export

    cfg = TrainConfig(
        out=tmp_path / "run",
        ae_steps=2,
        ae_batch=8,
        steps=2,
        batch=2,
        pool=4,
        refresh=1,
        threads=1,
        denoiser=DenoiserConfig(**SMALL),
    )
    ckpt = train(cfg)
    first = torch.load(ckpt, weights_only=False)["state"]
    assert (first["ae_step"], first["step"]) == (2, 2)
    cfg.steps = 3
    second = torch.load(train(cfg), weights_only=False)["state"]
    assert second["step"] == 3 and second["ae_step"] == 2  # resumed, autoencoder not redone
    before = torch.load(ckpt, weights_only=False)["model"]
    cfg.steps, cfg.prior_only = 4, True
    after_ck = torch.load(train(cfg), weights_only=False)
    after = after_ck["model"]
    assert after_ck["state"]["prior_only_steps"] == 1
    torch.testing.assert_close(after["unet.conv_in.weight"], before["unet.conv_in.weight"])
    assert not torch.equal(after["layout.out.1.weight"], before["layout.out.1.weight"])
    weights = export(ckpt, tmp_path / "tiny.safetensors", note="test")
    out = TinyPipeline.from_file(weights)("a red circle moving left", steps=2, num_frames=24)
    assert out.frames.shape == (24, 64, 64, 3)


def test_grow_refuses_shapes_it_cannot_widen() -> None:
    model = TinyDenoiser(DenoiserConfig(**SMALL, text_dim=64))
    old = {"unet.conv_out.weight": torch.zeros(3, 3)}
    with pytest.raises(ValueError, match="cannot grow"):
        grow_into(model, old)
