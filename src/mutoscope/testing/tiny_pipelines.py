"""Tiny, randomly initialised Wan / LTX-Video / CogVideoX pipelines for offline smoke tests.

They have the real diffusers architectures at toy sizes (the shapes follow the
``get_dummy_components()`` of diffusers' own pipeline tests: 16x16 px, 9 frames, 2 steps), so
``save_tiny_pipeline`` writes a directory that loads through exactly the code that loads real
checkpoints. Their output is noise: they prove plumbing, not quality.

The text encoder and tokenizer are built here too (diffusers' tests download
``hf-internal-testing/tiny-random-t5``, which offline machines cannot): a real Unigram
``T5Tokenizer`` over a small vocabulary and a 2-layer ``T5EncoderModel``.

Write all of them plus a ``models.toml`` for a quick end-to-end check::

    python -m mutoscope.testing.tiny_pipelines ~/.local/share/mutoscope
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch

TEXT_DIM = 32
"""Hidden size of the tiny T5 encoder; every tiny transformer's text input matches it."""

_WORDS = (  # noqa: SIM905 (a word list reads better as prose)
    "a an the and of on in with at to is are by from red green blue yellow white black "
    "cat dog bird fish horse monkey dance dancing run running walk walking fly flying swim "
    "city street forest beach ocean sky sun moon night day rain snow car boat train robot "
    "person people man woman child camera slow motion close up wide shot cinematic"
).split()


def tiny_t5(*, umt5: bool = False) -> tuple[Any, Any]:
    """A tokenizer and encoder with the interface of T5 v1.1 (``d_model`` = ``TEXT_DIM``);
    ``umt5`` gives the UMT5 encoder Wan uses."""
    from transformers import T5Config, T5EncoderModel, T5Tokenizer, UMT5Config, UMT5EncoderModel

    specials = [("<pad>", 0.0), ("</s>", 0.0), ("<unk>", 0.0)]
    words = [(f"▁{w}", -1.0 - i / 100) for i, w in enumerate(_WORDS)]
    letters = [(c, -10.0) for c in "▁abcdefghijklmnopqrstuvwxyz0123456789"]
    tokenizer = T5Tokenizer(vocab=specials + words + letters, extra_ids=0)
    torch.manual_seed(0)
    config_cls: Any = UMT5Config if umt5 else T5Config
    model_cls: Any = UMT5EncoderModel if umt5 else T5EncoderModel
    config = config_cls(
        vocab_size=len(specials) + len(words) + len(letters),
        d_model=TEXT_DIM,
        d_kv=8,
        d_ff=37,
        num_layers=2,
        num_heads=4,
        relative_attention_num_buckets=8,
        pad_token_id=0,
        eos_token_id=1,
    )
    return tokenizer, model_cls(config).eval()


def _wan21_vae() -> Any:
    """The Wan 2.1 VAE layout (16 latent channels), which Wan 2.2 A14B keeps."""
    from diffusers import AutoencoderKLWan

    torch.manual_seed(0)
    return AutoencoderKLWan(
        base_dim=3,
        z_dim=16,
        dim_mult=[1, 1, 1, 1],
        num_res_blocks=1,
        temperal_downsample=[False, True, True],
    )


def _wan_transformer(in_channels: int, out_channels: int, image_dim: int | None = None) -> Any:
    """A 2-layer Wan transformer (all Wan 2.1 / 2.2 layouts); ``image_dim`` for I2V."""
    from diffusers import WanTransformer3DModel

    torch.manual_seed(0)
    return WanTransformer3DModel(
        patch_size=(1, 2, 2),
        num_attention_heads=2,
        attention_head_dim=12,
        in_channels=in_channels,
        out_channels=out_channels,
        text_dim=TEXT_DIM,
        freq_dim=256,
        ffn_dim=32,
        num_layers=2,
        cross_attn_norm=True,
        qk_norm="rms_norm_across_heads",
        rope_max_seq_len=32,
        image_dim=image_dim,
    )


def tiny_wan(*, image_to_video: bool = False, vace: bool = False) -> Any:
    """Wan 2.1 layout: T2V (also serves video-to-video), I2V with a CLIP image encoder, or VACE
    (reference images and masked video conditioning through extra blocks)."""
    from diffusers import (
        FlowMatchEulerDiscreteScheduler,
        WanImageToVideoPipeline,
        WanPipeline,
        WanVACEPipeline,
        WanVACETransformer3DModel,
    )

    tokenizer, text_encoder = tiny_t5(umt5=True)
    vae = _wan21_vae()
    scheduler = FlowMatchEulerDiscreteScheduler(shift=7.0)
    torch.manual_seed(0)
    if vace:
        # 96 VACE input channels: 2 x 16 latent channels + the 8x8 mask folded into 64.
        vace_transformer = WanVACETransformer3DModel(
            patch_size=(1, 2, 2),
            num_attention_heads=2,
            attention_head_dim=12,
            text_dim=TEXT_DIM,
            ffn_dim=32,
            num_layers=2,
            rope_max_seq_len=32,
            vace_layers=[0, 1],
            vace_in_channels=96,
        )
        return WanVACEPipeline(
            tokenizer=tokenizer,
            text_encoder=text_encoder,
            vae=vae,
            scheduler=scheduler,
            transformer=vace_transformer,
        )
    transformer = (
        _wan_transformer(36, 16, image_dim=4) if image_to_video else _wan_transformer(16, 16)
    )
    common = {
        "tokenizer": tokenizer,
        "text_encoder": text_encoder,
        "vae": vae,
        "scheduler": scheduler,
        "transformer": transformer,
    }
    if not image_to_video:
        return WanPipeline(**common)

    from transformers import CLIPImageProcessor, CLIPVisionConfig, CLIPVisionModelWithProjection

    torch.manual_seed(0)
    image_encoder = CLIPVisionModelWithProjection(
        CLIPVisionConfig(
            hidden_size=4,
            projection_dim=4,
            num_hidden_layers=2,
            num_attention_heads=2,
            image_size=32,
            intermediate_size=16,
            patch_size=1,
        )
    )
    image_processor = CLIPImageProcessor(crop_size=32, size=32)
    return WanImageToVideoPipeline(
        **common, image_encoder=image_encoder, image_processor=image_processor
    )


def tiny_wan22(*, two_experts: bool = False) -> Any:
    """Wan 2.2 layouts: TI2V-5B (48-channel VAE, ``expand_timesteps``; text- and image-to-video
    on one checkpoint) or A14B text-to-video (high- and low-noise experts, ``transformer_2``)."""
    from diffusers import AutoencoderKLWan, UniPCMultistepScheduler, WanPipeline

    tokenizer, text_encoder = tiny_t5(umt5=True)
    if two_experts:
        vae = _wan21_vae()
    else:
        torch.manual_seed(0)
        vae = AutoencoderKLWan(
            base_dim=3,
            z_dim=48,
            in_channels=12,
            out_channels=12,
            is_residual=True,
            patch_size=2,
            latents_mean=[0.0] * 48,
            latents_std=[1.0] * 48,
            dim_mult=[1, 1, 1, 1],
            num_res_blocks=1,
            scale_factor_spatial=16,
            scale_factor_temporal=4,
            temperal_downsample=[False, True, True],
        )
    channels = 16 if two_experts else 48
    return WanPipeline(
        tokenizer=tokenizer,
        text_encoder=text_encoder,
        vae=vae,
        scheduler=UniPCMultistepScheduler(
            prediction_type="flow_prediction", use_flow_sigmas=True, flow_shift=3.0
        ),
        transformer=_wan_transformer(channels, channels),
        transformer_2=_wan_transformer(channels, channels) if two_experts else None,
        boundary_ratio=0.875 if two_experts else None,
        expand_timesteps=not two_experts,
    )


def tiny_ltx() -> Any:
    """LTX-Video layout (one checkpoint serves T2V, I2V and the condition pipeline)."""
    from diffusers import (
        AutoencoderKLLTXVideo,
        FlowMatchEulerDiscreteScheduler,
        LTXPipeline,
        LTXVideoTransformer3DModel,
    )

    tokenizer, text_encoder = tiny_t5()
    torch.manual_seed(0)
    transformer = LTXVideoTransformer3DModel(
        in_channels=8,
        out_channels=8,
        patch_size=1,
        patch_size_t=1,
        num_attention_heads=4,
        attention_head_dim=8,
        cross_attention_dim=32,
        num_layers=1,
        caption_channels=TEXT_DIM,
    )
    torch.manual_seed(0)
    vae = AutoencoderKLLTXVideo(
        latent_channels=8,
        block_out_channels=(8, 8, 8, 8),
        decoder_block_out_channels=(8, 8, 8, 8),
        spatio_temporal_scaling=(True, True, False, False),
        decoder_spatio_temporal_scaling=(True, True, False, False),
        layers_per_block=(1, 1, 1, 1, 1),
        decoder_layers_per_block=(1, 1, 1, 1, 1),
        patch_size=1,
        patch_size_t=1,
        encoder_causal=True,
        decoder_causal=False,
    )
    return LTXPipeline(
        tokenizer=tokenizer,
        text_encoder=text_encoder,
        vae=vae,
        scheduler=FlowMatchEulerDiscreteScheduler(),
        transformer=transformer,
    )


def tiny_gemma3() -> tuple[Any, Any]:
    """A character-level Gemma tokenizer and a 2-layer Gemma 3 encoder (hidden size 32), the
    interface of the Gemma 3 text encoder LTX-2 uses."""
    from transformers import Gemma3Config, Gemma3ForConditionalGeneration, GemmaTokenizer

    specials = ["<pad>", "<eos>", "<bos>", "<unk>", "<mask>"]
    vocab = {token: i for i, token in enumerate([*specials, *"▁abcdefghijklmnopqrstuvwxyz"])}
    tokenizer = GemmaTokenizer(vocab=vocab, merges=[])
    torch.manual_seed(0)
    config = Gemma3Config(
        text_config={
            "vocab_size": 64,
            "hidden_size": 32,
            "intermediate_size": 32,
            "num_hidden_layers": 2,
            "num_attention_heads": 2,
            "num_key_value_heads": 1,
            "head_dim": 16,
            "max_position_embeddings": 128,
            "sliding_window": 16,
        },
        vision_config={
            "hidden_size": 8,
            "intermediate_size": 16,
            "num_hidden_layers": 1,
            "num_attention_heads": 2,
            "image_size": 16,
            "patch_size": 8,
        },
        mm_tokens_per_image=1,
    )
    return tokenizer, Gemma3ForConditionalGeneration(config).eval()


def tiny_ltx2() -> Any:
    """LTX-2 layout: a joint video+audio transformer, video and audio VAEs, a vocoder and the
    text connectors (one checkpoint serves T2V, I2V and the condition pipeline)."""
    from diffusers import (
        AutoencoderKLLTX2Audio,
        AutoencoderKLLTX2Video,
        FlowMatchEulerDiscreteScheduler,
        LTX2Pipeline,
        LTX2VideoTransformer3DModel,
    )
    from diffusers.pipelines.ltx2 import LTX2TextConnectors
    from diffusers.pipelines.ltx2.vocoder import LTX2Vocoder

    tokenizer, text_encoder = tiny_gemma3()
    width, layers = 32, 2  # the text encoder's hidden size and layer count
    torch.manual_seed(0)
    transformer = LTX2VideoTransformer3DModel(
        in_channels=4,
        out_channels=4,
        num_attention_heads=2,
        attention_head_dim=8,
        cross_attention_dim=16,
        audio_in_channels=4,
        audio_out_channels=4,
        audio_num_attention_heads=2,
        audio_attention_head_dim=4,
        audio_cross_attention_dim=8,
        num_layers=2,
        caption_channels=width,
        rope_double_precision=False,
        rope_type="split",
    )
    torch.manual_seed(0)
    connectors = LTX2TextConnectors(
        caption_channels=width,
        text_proj_in_factor=layers + 1,
        video_connector_num_attention_heads=4,
        video_connector_attention_head_dim=8,
        video_connector_num_layers=1,
        video_connector_num_learnable_registers=None,
        audio_connector_num_attention_heads=4,
        audio_connector_attention_head_dim=8,
        audio_connector_num_layers=1,
        audio_connector_num_learnable_registers=None,
        connector_rope_base_seq_len=32,
        rope_double_precision=False,
        rope_type="split",
    )
    torch.manual_seed(0)
    vae = AutoencoderKLLTX2Video(
        latent_channels=4,
        block_out_channels=(8,),
        decoder_block_out_channels=(8,),
        layers_per_block=(1,),
        decoder_layers_per_block=(1, 1),
        spatio_temporal_scaling=(True,),
        decoder_spatio_temporal_scaling=(True,),
        decoder_inject_noise=(False, False),
        downsample_type=("spatial",),
        upsample_residual=(False,),
        upsample_factor=(1,),
        patch_size=1,
        decoder_causal=False,
    )
    torch.manual_seed(0)
    audio_vae = AutoencoderKLLTX2Audio(
        base_channels=4,
        ch_mult=(1,),
        num_res_blocks=1,
        resolution=32,
        latent_channels=2,
        mel_bins=8,
    )
    torch.manual_seed(0)
    # 16 kHz / hop 160 = 100 mel frames a second, upsampled 4x: the samples come out at 400 Hz.
    vocoder = LTX2Vocoder(
        in_channels=2 * 8,
        hidden_channels=32,
        upsample_kernel_sizes=[4, 4],
        upsample_factors=[2, 2],
        resnet_kernel_sizes=[3],
        resnet_dilations=[[1, 3, 5]],
        output_sampling_rate=400,
    )
    return LTX2Pipeline(
        scheduler=FlowMatchEulerDiscreteScheduler(),
        vae=vae,
        audio_vae=audio_vae,
        text_encoder=text_encoder,
        tokenizer=tokenizer,
        connectors=connectors,
        transformer=transformer,
        vocoder=vocoder,
    )


def tiny_qwen25() -> tuple[Any, Any]:
    """A character-level Qwen2 tokenizer with a chat template, and a 2-layer Qwen2.5-VL text
    model (hidden size 16): the interface of HunyuanVideo 1.5's main text encoder."""
    from transformers import Qwen2_5_VLTextConfig, Qwen2_5_VLTextModel, Qwen2Tokenizer

    chars = [*"abcdefghijklmnopqrstuvwxyz.,:!?'\"", "Ġ", "Ċ"]
    tokenizer = Qwen2Tokenizer(
        vocab={c: i for i, c in enumerate(chars)},
        merges=[],
        additional_special_tokens=["<|im_start|>", "<|im_end|>"],
    )
    tokenizer.chat_template = (
        "{% for m in messages %}<|im_start|>{{ m['role'] }}\n{{ m['content'] }}<|im_end|>\n"
        "{% endfor %}{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
    )
    torch.manual_seed(0)
    config = Qwen2_5_VLTextConfig(
        vocab_size=64,
        hidden_size=16,
        intermediate_size=16,
        num_hidden_layers=2,
        num_attention_heads=2,
        num_key_value_heads=2,
        rope_parameters={"rope_type": "default", "mrope_section": [1, 1, 2], "rope_theta": 1e6},
    )
    return tokenizer, Qwen2_5_VLTextModel(config).eval()


def tiny_hunyuanvideo15() -> Any:
    """HunyuanVideo 1.5 text-to-video layout: Qwen2.5-VL + ByT5 text encoders, a guider, and a
    VAE compressing space 4x and time 2x (the real one: 16x and 4x)."""
    from diffusers import (
        AutoencoderKLHunyuanVideo15,
        FlowMatchEulerDiscreteScheduler,
        HunyuanVideo15Pipeline,
        HunyuanVideo15Transformer3DModel,
    )
    from diffusers.guiders import ClassifierFreeGuidance
    from transformers import ByT5Tokenizer, T5Config, T5EncoderModel

    tokenizer, text_encoder = tiny_qwen25()
    torch.manual_seed(0)
    byt5 = T5EncoderModel(  # 384 ids: ByT5's 256 bytes and its specials
        T5Config(vocab_size=384, d_model=TEXT_DIM, d_kv=8, d_ff=37, num_layers=1, num_heads=4)
    ).eval()
    torch.manual_seed(0)
    transformer = HunyuanVideo15Transformer3DModel(
        in_channels=9,
        out_channels=4,
        num_attention_heads=2,
        attention_head_dim=8,
        num_layers=1,
        num_refiner_layers=1,
        mlp_ratio=2.0,
        text_embed_dim=16,
        text_embed_2_dim=TEXT_DIM,
        image_embed_dim=12,
        rope_axes_dim=(2, 2, 4),
        target_size=16,
        task_type="t2v",
    )
    torch.manual_seed(0)
    vae = AutoencoderKLHunyuanVideo15(
        latent_channels=4,
        block_out_channels=(16, 16),
        layers_per_block=1,
        spatial_compression_ratio=4,
        temporal_compression_ratio=2,
        downsample_match_channel=False,
        upsample_match_channel=False,
    )
    return HunyuanVideo15Pipeline(
        text_encoder=text_encoder,
        tokenizer=tokenizer,
        transformer=transformer,
        vae=vae,
        scheduler=FlowMatchEulerDiscreteScheduler(shift=7.0),
        text_encoder_2=byt5,
        tokenizer_2=ByT5Tokenizer(),
        guider=ClassifierFreeGuidance(guidance_scale=6.0),
    )


def tiny_cogvideox(*, image_to_video: bool = False) -> Any:
    """CogVideoX layout: T2V (also serves video-to-video), or the I2V variant."""
    from diffusers import (
        AutoencoderKLCogVideoX,
        CogVideoXImageToVideoPipeline,
        CogVideoXPipeline,
        CogVideoXTransformer3DModel,
        DDIMScheduler,
    )

    tokenizer, text_encoder = tiny_t5()
    torch.manual_seed(0)
    # heads x head_dim must equal the text width; I2V needs head_dim >= 16 for its 3D RoPE.
    heads, head_dim = (2, 16) if image_to_video else (4, 8)
    transformer = CogVideoXTransformer3DModel(
        num_attention_heads=heads,
        attention_head_dim=head_dim,
        in_channels=8 if image_to_video else 4,
        out_channels=4,
        time_embed_dim=2,
        text_embed_dim=TEXT_DIM,
        num_layers=1,
        sample_width=2,
        sample_height=2,
        sample_frames=9,
        patch_size=2,
        temporal_compression_ratio=4,
        max_text_seq_length=16,
        use_rotary_positional_embeddings=image_to_video,
        use_learned_positional_embeddings=image_to_video,
    )
    torch.manual_seed(0)
    vae = AutoencoderKLCogVideoX(
        in_channels=3,
        out_channels=3,
        down_block_types=("CogVideoXDownBlock3D",) * 4,
        up_block_types=("CogVideoXUpBlock3D",) * 4,
        block_out_channels=(8, 8, 8, 8),
        latent_channels=4,
        layers_per_block=1,
        norm_num_groups=2,
        temporal_compression_ratio=4,
    )
    cls = CogVideoXImageToVideoPipeline if image_to_video else CogVideoXPipeline
    return cls(
        tokenizer=tokenizer,
        text_encoder=text_encoder,
        vae=vae,
        scheduler=DDIMScheduler(),
        transformer=transformer,
    )


BUILDERS: dict[str, Callable[[], Any]] = {
    "wan": tiny_wan,
    "wan-i2v": lambda: tiny_wan(image_to_video=True),
    "wan-vace": lambda: tiny_wan(vace=True),
    "wan-ti2v": tiny_wan22,
    "wan-a14b": lambda: tiny_wan22(two_experts=True),
    "ltx": tiny_ltx,
    "cogvideox": tiny_cogvideox,
    "cogvideox-i2v": lambda: tiny_cogvideox(image_to_video=True),
    "ltx2": tiny_ltx2,
    "hunyuanvideo15": tiny_hunyuanvideo15,
}
"""Tiny pipeline builders by name; the part before ``-`` is the models.toml ``family``."""

TINY_DEFAULTS: dict[str, dict[str, Any]] = {
    # fps 2 makes the API's shortest clip ("4" seconds) come out as 9 frames.
    "wan": {"sizes": ["16x16"], "fps": 2, "max_frames": 9},
    "wan-ti2v": {"sizes": ["32x32"], "fps": 2, "max_frames": 9},
    "wan-vace": {"family": "wan-vace", "sizes": ["16x16"], "fps": 2, "max_frames": 9},
    "ltx": {"sizes": ["32x32"], "fps": 2, "max_frames": 9},
    "cogvideox": {"sizes": ["16x16"], "fps": 2, "max_frames": 9},
    "ltx2": {"sizes": ["32x32"], "fps": 2, "max_frames": 9, "guidance": 1.0},
    "hunyuanvideo15": {"sizes": ["16x16"], "fps": 2, "max_frames": 9, "guidance": 1.0},
}
"""models.toml fields that suit the tiny checkpoints (their native size and a short clip), by
builder name or else by family."""


def save_tiny_pipeline(name: str, path: Path | str) -> Path:
    """Build the tiny pipeline ``name`` (a key of ``BUILDERS``) and ``save_pretrained`` it."""
    path = Path(path)
    BUILDERS[name]().save_pretrained(path)
    return path


def models_toml_entry(model_id: str, name: str, path: Path | str, **fields: Any) -> str:
    """A ``[[models]]`` table for a tiny checkpoint saved by ``save_tiny_pipeline``."""
    family = name.split("-")[0]
    values: dict[str, Any] = {
        "id": model_id,
        "family": family,
        "path": str(path),
        "dtype": "float32",
        "device": "cpu",
        "steps": 2,
        "guidance": 1.0 if family == "ltx" else 6.0,
        "max_sequence_length": 16,
        **TINY_DEFAULTS.get(name, TINY_DEFAULTS[family]),
        **fields,
    }
    memory = values.pop("memory", None)
    lines = ["[[models]]", *(f"{k} = {_toml_value(v)}" for k, v in values.items())]
    if memory:
        lines += ["[models.memory]", *(f"{k} = {_toml_value(v)}" for k, v in memory.items())]
    return "\n".join(lines) + "\n"


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    return repr(value)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("home", type=Path, help="MUTOSCOPE_HOME to write models/ and models.toml")
    args = parser.parse_args(argv)
    models_dir = args.home / "models"
    entries = []
    for name in BUILDERS:
        target = save_tiny_pipeline(name, models_dir / f"tiny-{name}")
        entries.append(models_toml_entry(f"tiny-{name}", name, target))
    (args.home / "models.toml").write_text("\n".join(entries))
    print(f"wrote {len(entries)} tiny pipelines under {models_dir} and {args.home / 'models.toml'}")


if __name__ == "__main__":
    main()
