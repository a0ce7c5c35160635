"""Stage 3 of ``mutoscope-tiny``: the caption decoder, its training data, training and export."""

from __future__ import annotations

import json
import random
from pathlib import Path

import numpy as np
import torch

from mutoscope.models.tiny import world
from mutoscope.models.tiny.modeling import (
    CaptionDecoder,
    DenoiserConfig,
    FrameAutoencoder,
    TinyDenoiser,
)
from mutoscope.models.tiny.pipeline import TinyPipeline, read_metadata
from mutoscope.models.tiny.text import MiniLMTextEncoder
from mutoscope.models.tiny.train import save_weights
from mutoscope.models.tiny.train_decoder import (
    DecoderData,
    add_ghost,
    attach,
    is_hard,
    sample_scene,
    stand_in,
    train_caption_decoder,
)

SMALL = DenoiserConfig(cond_dim=64, text_layers=1, block_out_channels=(32, 64), head_dim=16)


def _tokens(n: int = 2) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(1)
    mask = torch.ones(n, 40, dtype=torch.bool)
    mask[:, 12:] = False
    return torch.randn(n, 40, 384, generator=g), mask


def _base_weights(tmp_path: Path) -> Path:
    """A small random stage-1/2 model file to train a caption decoder against."""
    torch.manual_seed(0)
    ae, denoiser = FrameAutoencoder(), TinyDenoiser(SMALL)
    return save_weights(
        tmp_path / "base.safetensors",
        ae.state_dict(),
        denoiser.state_dict(),
        SMALL.to_dict(),
        {"hardware": "test"},
    )


def test_starts_out_decoding_exactly_like_the_autoencoder_then_listens() -> None:
    torch.manual_seed(0)
    ae = FrameAutoencoder().eval()
    dec = CaptionDecoder.from_autoencoder(ae).eval()
    z = torch.randn(2, 4, 16, 16)
    hidden, mask = _tokens()
    with torch.no_grad():
        torch.testing.assert_close(dec(z, hidden, mask), ae.decode(z))
        # once its cross-attention has weight, the caption changes the frame
        for layer in dec.attn:
            torch.nn.init.normal_(layer.attn.out_proj.weight, std=0.1)  # type: ignore[union-attr]
        a = dec(z[:1], hidden[:1], mask[:1])
        b = dec(z[:1], hidden[1:], mask[1:])
    assert (a - b).abs().max() > 1e-3


def test_stand_in_keeps_place_and_colour_and_swaps_shapes() -> None:
    rng = random.Random(3)
    scenes = [world.sample_scene(rng, "train") for _ in range(40)]
    swapped = [stand_in(s, rng) for s in scenes]
    for s, t in zip(scenes, swapped, strict=True):
        assert (s.background, s.gradient, s.jitter) == (t.background, t.gradient, t.jitter)
        for a, b in zip(s.objects, t.objects, strict=True):
            assert (a.color, a.motion) == (b.color, b.motion)
    shapes = [o.shape for t in swapped for o in t.objects]
    assert shapes.count("circle") > len(shapes) / 2
    changed = sum(
        a.shape != b.shape
        for s, t in zip(scenes, swapped, strict=True)
        for a, b in zip(s.objects, t.objects, strict=True)
    )
    assert changed > len(shapes) / 3


def test_focus_draws_hard_scenes_and_never_a_held_out_triple() -> None:
    rng = random.Random(0)
    plain = [sample_scene(rng, 0.0) for _ in range(400)]
    focused = [sample_scene(rng, 0.8) for _ in range(400)]
    share = sum(map(is_hard, focused)) / 400
    assert share > 0.85 and share > sum(map(is_hard, plain)) / 400 + 0.3
    assert not any(world.is_heldout(o) for s in plain + focused for o in s.objects)
    purple_on_blue = world.Scene((world.ObjectSpec("purple", "circle", "left"),), "blue")
    white_on_black = world.Scene((world.ObjectSpec("white", "circle", "left"),), "black")
    assert is_hard(purple_on_blue) and not is_hard(white_on_black)


def test_a_ghost_is_a_faint_uncaptioned_blob_and_the_scene_is_untouched_elsewhere() -> None:
    rng = random.Random(1)
    for _ in range(20):
        scene = world.sample_scene(rng, "train")
        idx = sorted(rng.sample(range(world.FRAMES), 4))
        frames = world.render(scene)[idx]
        ghosted = add_ghost(frames, idx, scene, rng)
        diff = np.abs(ghosted.astype(int) - frames).sum(-1)
        touched = diff > 12
        assert touched.any()  # something was added in some frame...
        assert touched.mean() < 0.05  # ...a small blob, not a wash over the frame
        # ...in a colour the scene does not use: the most-changed pixel moved toward it
        k, y, x = np.unravel_index(diff.argmax(), diff.shape)
        pixel = frames[k, y, x].astype(float)
        step = ghosted[k, y, x] - pixel
        colors = list(world.COLORS)
        to = np.array([world.COLORS[c] for c in colors], float) - pixel
        cosine = to @ step / (np.linalg.norm(to, axis=1) * np.linalg.norm(step) + 1e-9)
        used = {scene.background, *(o.color for o in scene.objects)}
        assert colors[int(cosine.argmax())] not in used


def test_batches_pair_latents_with_their_captions_and_rendered_frames() -> None:
    torch.manual_seed(0)
    ae, denoiser = FrameAutoencoder().eval(), TinyDenoiser(SMALL).eval()
    data = DecoderData(ae, denoiser, MiniLMTextEncoder(), seed=0)
    z, hidden, mask, target, weight = data.batch(clips=4, per_clip=3)
    assert z.shape == (12, 4, 16, 16) and target.shape == (12, 3, 64, 64)
    assert hidden.shape == (12, 40, 384) and mask.shape == (12, 40)
    assert torch.equal(hidden[0], hidden[2]) and not torch.equal(hidden[0], hidden[3])
    assert target.min() >= -1 and target.max() <= 1
    assert weight.min() == 1.0 and weight.max() == 9.0  # object pixels weigh more


def test_trains_resumes_attaches_and_the_pipeline_decodes_with_it(tmp_path: Path) -> None:
    base = _base_weights(tmp_path)
    run = tmp_path / "run"
    ckpt = train_caption_decoder(run, 5, base, threads=1, steps=2, clips=2)
    assert torch.load(ckpt, weights_only=False)["state"]["steps"] == 2
    train_caption_decoder(run, 5, base, threads=1, steps=3, clips=2)
    assert torch.load(ckpt, weights_only=False)["state"]["steps"] == 3  # resumed
    shipped = attach(ckpt, base, tmp_path / "tiny.safetensors")
    record = json.loads(read_metadata(shipped)["training"])["caption_decoder"]
    assert record["steps"] == 3 and record["hardware"]
    assert [r["from_step"] for r in record["runs"]] == [0, 2]
    pipe = TinyPipeline.from_file(shipped)
    assert pipe.caption_decoder is not None
    assert TinyPipeline.from_file(base).caption_decoder is None  # older files still load
    out = pipe("a red circle moving left", steps=2, num_frames=24)
    assert out.frames.shape == (24, 64, 64, 3)
    latents = torch.randn(1, 64, 16, 16)
    caption = pipe.text.encode(["a red circle moving left"])
    with torch.no_grad():
        listened, plain = pipe.decode(latents, caption), pipe.decode(latents)
    assert not np.array_equal(listened, plain)


def test_warm_start_keeps_the_trained_weights_and_adds_the_new_parts(tmp_path: Path) -> None:
    base = _base_weights(tmp_path)
    ckpt = train_caption_decoder(tmp_path / "old", 5, base, threads=1, steps=1, clips=2)
    old = torch.load(ckpt, weights_only=False)
    # an earlier design without the caption self-attention layer
    old["model"] = {k: v for k, v in old["model"].items() if not k.startswith("text_mix.")}
    torch.save(old, ckpt)
    new = train_caption_decoder(
        tmp_path / "new", 5, base, threads=1, steps=2, clips=2, init_from=ckpt
    )
    state = torch.load(new, weights_only=False)["state"]
    assert state["steps"] == 2
    assert [w["step"] for w in state["warm_starts"]] == [1]
    assert any(k.startswith("text_mix.") for k in state["warm_starts"][0]["new"])
