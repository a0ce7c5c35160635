"""``mutoscope-tiny``: the embedded text-to-video model that runs on any CPU.

It is a latent diffusion model trained on the procedural shapes world (see
``mutoscope.models.tiny`` and docs/models/tiny.md): coloured shapes moving over solid or
gradient backdrops. Weights ship inside the package and load lazily on the first request,
then stay warm. Remix starts from the parent clip noised part-way (SDEdit), so the new prompt
changes what it says while the rest stays close (``POST /v1/videos/edits`` does the same to any
clip); extend continues from the parent's last frames (``TinyPipeline``'s ``context``).
"""

from __future__ import annotations

import re
import threading
from pathlib import Path
from typing import TYPE_CHECKING

from mutoscope.backends.base import (
    OPENAI_SIZES,
    GeneratedVideo,
    GenerationRequest,
    ProgressCallback,
    PromptFit,
    VideoBackend,
)

if TYPE_CHECKING:
    from mutoscope.backends.registry import Register
    from mutoscope.config import Settings
    from mutoscope.models.tiny.pipeline import TinyPipeline

NATIVE_SIZES = ("64x64", "128x128", "256x256")
REMIX_STRENGTH = 0.7
PRESETS: dict[str, dict[str, float]] = {"fast": {"steps": 4}}
"""Named bundles of options a request picks with ``preset``; explicit options win."""


class TinyBackend(VideoBackend):
    """Shapes-world latent diffusion at 64x64, 16 keyframes, interpolated to 24 fps.

    ``steps`` sets the denoising steps, ``guidance`` the classifier-free guidance scale,
    ``threads`` the torch CPU threads used while generating (default: leave torch's setting
    alone), ``weights`` overrides the packaged file.
    ``request.options`` may carry ``steps``, ``guidance``, ``preset`` (``fast``: 4 steps),
    ``strength`` (remix), ``canonical`` (default true: re-phrase the prompt in the model's
    training vocabulary), ``layers`` (default true: keep only the objects the prompt names and
    draw them at the output size from their coverage, see ``models.tiny.layers``; false: the
    decoded 64-px frames resized, as before) and ``audio`` (default true: a procedural
    soundtrack that follows the shapes it drew, see ``models.tiny.soundtrack``). It has no
    negative prompt (its guidance contrasts the prompt with the empty caption) and no LoRAs,
    and refuses both.
    """

    name = "mutoscope-tiny"
    description = (
        "Embedded CPU text-to-video model trained on a procedural shapes world (64x64 native)"
    )
    sizes = (*OPENAI_SIZES, *NATIVE_SIZES)
    accepts_image = False
    accepts_video = True
    continues = True
    accepts_references = True
    # Denoising 64x64 takes well under a second; upscaling checks, watermark and encode the rest.
    progress_share = 0.3
    example_prompt = "a blue triangle bouncing on an orange background"
    request_options = frozenset({"steps", "guidance", "preset"})

    def __init__(
        self,
        steps: int | None = None,
        weights: Path | None = None,
        threads: int | None = None,
        guidance: float | None = None,
    ):
        # None: the pipeline's defaults, read when it is first used (it imports torch, and
        # constructing a backend must stay cheap: every process lists them at start-up).
        self.steps = steps
        self.guidance = guidance
        self.weights = weights
        self.threads = threads
        self._pipeline: TinyPipeline | None = None
        self._lock = threading.Lock()

    def _load(self) -> TinyPipeline:
        from mutoscope.models.tiny.pipeline import WEIGHTS, TinyPipeline

        if self._pipeline is None:
            self._pipeline = TinyPipeline.from_file(self.weights or WEIGHTS)
        return self._pipeline

    def preset_names(self) -> tuple[str, ...]:
        return tuple(PRESETS)

    def fit_prompt(self, prompt: str) -> PromptFit:
        """What the shapes world can draw of ``prompt`` (see ``models.tiny.vocabulary``)."""
        return prompt_fit(prompt)

    def generate(self, request: GenerationRequest, on_progress: ProgressCallback) -> GeneratedVideo:
        import torch

        from mutoscope.media.audio import audio_requested
        from mutoscope.models.tiny.pipeline import DEFAULT_GUIDANCE, DEFAULT_STEPS

        self.check(request)
        opts = {**PRESETS.get(str(request.options.get("preset")), {}), **request.options}
        steps = int(opts.get("steps", self.steps or DEFAULT_STEPS))  # type: ignore[call-overload]
        guidance = float(opts.get("guidance", self.guidance or DEFAULT_GUIDANCE))  # type: ignore[arg-type]
        source = request.source_video if request.mode == "remix" else None
        context = request.source_video if request.mode == "extend" else None
        strength = float(opts.get("strength", REMIX_STRENGTH))  # type: ignore[arg-type]
        canonical = bool(opts.get("canonical", True))
        layers = bool(opts.get("layers", True))
        prompt = with_characters(request)
        with self._lock:
            pipeline = self._load()
            previous = torch.get_num_threads()
            if self.threads:
                torch.set_num_threads(self.threads)
            try:
                out = pipeline(
                    prompt,
                    seed=request.seed,
                    num_frames=round(int(request.seconds) * self.fps),
                    width=request.width,
                    height=request.height,
                    steps=steps,
                    guidance=guidance,
                    source=source,
                    strength=strength,
                    canonical=canonical,
                    context=context,
                    layers=layers,
                    on_step=lambda i, n: on_progress(i / n),
                )
            finally:
                torch.set_num_threads(previous)
        audio = None
        if audio_requested(opts):
            from mutoscope.models.tiny.soundtrack import soundtrack

            audio = soundtrack(out.keyframes, out.frame_positions(), self.fps, seed=request.seed)
        return GeneratedVideo(out.frames, fps=self.fps, audio=audio)

    def close(self) -> None:
        with self._lock:
            self._pipeline = None


def with_characters(request: GenerationRequest) -> str:
    """The prompt with each character's name replaced by its look in the shapes world.

    The look (colour and shape of the subject, segmented against its backdrop) is read from
    the character's reference frames, so the clip shows the character as its video does,
    placed and moved as the rest of the prompt says.
    """
    from mutoscope.characters.look import describe, look_of

    prompt = request.prompt
    names = request.reference_names or ("",) * len(request.references)
    for name in dict.fromkeys(names):
        frames = [r for r, n in zip(request.references, names, strict=True) if n == name]
        words = describe(look_of(frames))
        if not words:
            continue
        if name and re.search(re.escape(name), prompt, re.IGNORECASE):
            prompt = re.sub(re.escape(name), words, prompt, flags=re.IGNORECASE)
        else:
            prompt = f"{words} {prompt}"
    return prompt


REAL_MODELS_HINT = (
    "For other subjects, install an open-weight model (Wan, LTX-Video, CogVideoX): "
    "see docs/models.md."
)


def prompt_fit(prompt: str) -> PromptFit:
    """The vocabulary's reading of ``prompt`` as a :class:`PromptFit`, with the messages."""
    from mutoscope.models.tiny.vocabulary import read_prompt, vocabulary_summary

    reading = read_prompt(prompt)
    unknown = _unique(reading.unknown)
    english = ENGLISH_ONLY if any(not w.isascii() for w in unknown) else ""
    if reading.scene is None:
        names = f" (not {_quote_list(unknown)})" if unknown else ""
        refusal = (
            f"mutoscope-tiny cannot draw this prompt: it names no shape the model knows{names}. "
            f"{english}{vocabulary_summary()} {REAL_MODELS_HINT}"
        )
        return PromptFit(False, None, unknown, (), refusal)
    # The caption keeps the training captions' wording ("on a orange background") since it
    # conditions the model; messages say it in English.
    shown = _articles(reading.caption or "")
    problems = [_articles(n) for n in reading.notes]
    if unknown:
        problems.append(f"it cannot draw {_quote_list(unknown)}")
    warning: str | None = None
    if problems:
        warning = (
            f'mutoscope-tiny will draw "{shown}"; '
            + "; ".join(problems)
            + ". "
            + english
            + REAL_MODELS_HINT
        )
    return PromptFit(True, shown, unknown, reading.assumed, warning)


def _articles(text: str) -> str:
    """``a orange`` → ``an orange`` (the palette's only vowel-initial colour)."""
    return re.sub(r"\b([Aa]) (?=[aeiou])", r"\1n ", text)


ENGLISH_ONLY = "The embedded model understands English words only. "


def _unique(words: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(words))


def _quote_list(words: tuple[str, ...]) -> str:
    quoted = [f'"{w}"' for w in words[:8]]
    more = f" and {len(words) - 8} more" if len(words) > 8 else ""
    return ", ".join(quoted) + more


def register_backends(register: Register, settings: Settings) -> None:
    register(TinyBackend())
