"""What each engine receives for one request, and how the backend handles its answers.

The engine here is a real HTTP server (``fake_engine``) that records the request it got and
serves a real MP4; field names and encodings follow the vLLM-Omni and SGLang Diffusion docs.
"""

from __future__ import annotations

from typing import Any

import httpx
import numpy as np
import pytest
from PIL import Image

from mutoscope.backends.base import GenerationRequest
from mutoscope.backends.engine_client import (
    EngineFailed,
    EngineRejected,
    EngineUnavailable,
    OutputTooLarge,
)
from mutoscope.backends.openai_videos import EngineSpec, OpenAIVideosBackend, engine_spec
from mutoscope.errors import InvalidRequest, JobCancelled
from mutoscope.media.audio import AudioTrack
from tests.engine.fake_engine import FPS, FRAMES, HEIGHT, WIDTH, FakeEngine, small_mp4
from tests.servers import free_port


def backend(url: str, sleeps: list[float] | None = None, **spec: Any) -> OpenAIVideosBackend:
    values = {"id": "remote", "base_url": url, "retry_base_delay": 0.01, **spec}
    recorded = sleeps if sleeps is not None else []
    return OpenAIVideosBackend(engine_spec(values), sleep=recorded.append)


def request(**values: Any) -> GenerationRequest:
    return GenerationRequest(**{"prompt": "a lighthouse at dusk", "seed": 7, **values})


VLLM = {
    "engine": "vllm-omni",
    "upstream_model": "Wan-AI/Wan2.2-T2V-A14B-Diffusers",
    "fps": 16,
    "frame_step": 4,
    "steps": 40,
    "guidance": 4.0,
    "negative_prompt": "blurry",
    "size_map": {"1280x720": "832x480"},
}


def test_vllm_omni_gets_its_form_fields_as_multipart(engine: FakeEngine):
    progress: list[float] = []
    video = backend(engine.url, **VLLM).generate(request(size="1280x720"), progress.append)

    (sent,) = engine.creates
    assert sent["content_type"] == "multipart/form-data"
    assert sent["fields"] == {
        "prompt": "a lighthouse at dusk",
        "model": "Wan-AI/Wan2.2-T2V-A14B-Diffusers",
        "width": "832",
        "height": "480",
        "num_frames": "65",  # 4 s x 16 fps, rounded up to 4k + 1 for Wan
        "fps": "16",
        "num_inference_steps": "40",
        "guidance_scale": "4.0",
        "seed": "7",
        "negative_prompt": "blurry",
    }
    assert sent["files"] == {}
    assert video.frames.shape == (FRAMES, HEIGHT, WIDTH, 3) and video.fps == FPS
    assert video.frames[-1, 0, -1, 0] > 150  # the engine's own pixels: the bar reached the edge
    assert progress == [0.0, 0.33, 0.66, 1.0]  # the engine's own progress, relayed
    upstream_id = (engine.jobs and "") or video.provenance["upstream_video_id"]
    assert video.provenance == {
        "engine": "vllm-omni",
        "backend": "remote",
        "upstream_model": "Wan-AI/Wan2.2-T2V-A14B-Diffusers",
        "upstream_video_id": upstream_id,
    }
    assert upstream_id.startswith("vid_") and engine.deleted == [upstream_id]  # not kept there


def test_vllm_omni_takes_the_image_as_an_input_reference_file(engine: FakeEngine):
    image = Image.new("RGB", (32, 24), (10, 200, 10))
    backend(engine.url, **VLLM).generate(request(size="1280x720", image=image), lambda f: None)
    (sent,) = engine.creates
    assert sent["files"] == {
        "input_reference": ("reference.png", "image/png", sent["files"]["input_reference"][2])
    }
    assert sent["fields"]["width"] == "832"


def test_vllm_omni_remix_uploads_the_parent_as_mp4(engine: FakeEngine):
    parent = np.full((6, 48, 64, 3), 90, dtype=np.uint8)
    remix = request(size="1280x720", mode="remix", source_video=parent)
    backend(engine.url, **VLLM).generate(remix, lambda f: None)
    (sent,) = engine.creates
    name, ctype, size = sent["files"]["input_reference"]
    assert (name, ctype) == ("parent.mp4", "video/mp4") and size > 100


def test_the_engines_soundtrack_comes_back_with_the_frames(engine: FakeEngine):
    tone = np.sin(np.linspace(0, 2 * np.pi * 440, 48_000 // 2, dtype=np.float32)) * 0.5
    engine.mp4 = small_mp4(audio=AudioTrack(tone, 48_000))
    video = backend(engine.url).generate(request(), lambda f: None)
    assert video.audio is not None and video.audio.sample_rate == 48_000
    assert abs(video.audio.duration - FRAMES / FPS) < 0.05 and video.audio.samples.std() > 0.1
    engine.mp4 = small_mp4()
    assert backend(engine.url).generate(request(), lambda f: None).audio is None


def test_an_extension_continues_from_the_clips_last_frame(engine: FakeEngine):
    tail = np.zeros((3, 48, 64, 3), dtype=np.uint8)
    tail[-1] = 250  # the last frame is the one the engine must continue from
    remote = backend(engine.url, **VLLM)
    assert remote.continues
    extend = request(size="1280x720", mode="extend", source_video=tail)
    video = remote.generate(extend, lambda f: None)
    (sent,) = engine.creates
    assert sent["files"]["input_reference"][:2] == ("reference.png", "image/png")
    assert engine.last_image is not None and engine.last_image.getpixel((0, 0)) == (250, 250, 250)
    assert video.frames.shape[0] == FRAMES  # the new frames only: the worker stitches


def test_sglang_gets_json_with_integer_seconds_and_frames(engine: FakeEngine):
    spec = {"engine": "sglang", "upstream_model": "Wan-AI/Wan2.1-T2V-1.3B-Diffusers", "fps": 24}
    backend(engine.url, **spec, steps=20).generate(
        request(size="720x1280", seconds="8"), lambda f: None
    )
    (sent,) = engine.creates
    assert sent["content_type"] == "application/json"
    assert sent["fields"] == {
        "prompt": "a lighthouse at dusk",
        "model": "Wan-AI/Wan2.1-T2V-1.3B-Diffusers",
        "size": "720x1280",
        "seconds": 8,
        "width": 720,
        "height": 1280,
        "num_frames": 192,
        "fps": 24,
        "num_inference_steps": 20,
        "seed": 7,
    }


def test_sglang_sends_multipart_only_with_an_input_reference(engine: FakeEngine):
    image = Image.new("RGB", (16, 16))
    backend(engine.url, engine="sglang").generate(request(image=image), lambda f: None)
    (sent,) = engine.creates
    assert sent["content_type"] == "multipart/form-data"
    assert "input_reference" in sent["files"] and sent["fields"]["seconds"] == "4"


def test_mutoscope_upstream_gets_openai_fields_seed_and_options(engine: FakeEngine, monkeypatch):
    monkeypatch.setenv("ENGINE_KEY", "sk-upstream")
    remote = backend(engine.url, upstream_model="mutoscope-tiny", api_key_env="ENGINE_KEY")
    options = {"steps": 4, "loras": [{"name": "grain", "scale": 0.5}], "preset": "fast"}
    video = remote.generate(request(options=options), lambda f: None)
    (sent,) = engine.creates
    assert sent["fields"] == {
        "prompt": "a lighthouse at dusk",
        "model": "mutoscope-tiny",
        "size": "1280x720",
        "seconds": "4",
        "seed": 7,
        "steps": 4,
        "loras": "grain:0.5",
        "preset": "fast",
    }
    assert sent["authorization"] == "Bearer sk-upstream"
    assert engine.deleted == []  # kept upstream: remix passes through to it
    # A remix of that video goes to the engine's own copy of the parent
    parent = {**video.provenance}
    remote.generate(request(mode="remix", parent_engine=parent), lambda f: None)
    assert engine.remixes == [
        {"video_id": parent["upstream_video_id"], "prompt": "a lighthouse at dusk"}
    ]


def test_remix_of_a_parent_another_model_made_is_refused(engine: FakeEngine):
    other = {"backend": "mutoscope-tiny"}
    with pytest.raises(InvalidRequest, match="can remix only videos its engine made"):
        backend(engine.url).generate(request(mode="remix", parent_engine=other), lambda f: None)
    assert engine.creates == [] and engine.remixes == []


def test_polls_as_often_as_the_engine_asks(engine: FakeEngine):
    sleeps: list[float] = []
    backend(engine.url, sleeps, poll_interval=5).generate(request(), lambda f: None)
    assert sleeps == [0.05, 0.05, 0.05]  # 10 ms asked, 50 ms floor; 3 polls to finish
    engine.reset()
    engine.script.poll_after_ms = None
    sleeps.clear()
    backend(engine.url, sleeps, poll_interval=0.2).generate(request(), lambda f: None)
    assert sleeps == [0.2, 0.2, 0.2]


def test_5xx_answers_are_retried_with_exponential_back_off(engine: FakeEngine):
    engine.script.create_errors = [(503, {"error": {"message": "warming up"}})] * 2
    sleeps: list[float] = []
    video = backend(engine.url, sleeps, retries=3).generate(request(), lambda f: None)
    assert len(engine.creates) == 3 and video.frames.shape[0] == FRAMES
    assert sleeps[:2] == [0.01, 0.02]


def test_an_engine_that_stays_down_fails_with_engine_unavailable():
    sleeps: list[float] = []
    dead = backend(f"http://127.0.0.1:{free_port()}/v1", sleeps, retries=4)
    with pytest.raises(EngineUnavailable) as caught:
        dead.generate(request(), lambda f: None)
    assert caught.value.code == "engine_unavailable" and "4 tries" in caught.value.message
    assert sleeps == [0.01, 0.02, 0.04]


def test_an_engine_refusal_fails_with_its_message(engine: FakeEngine):
    refusal = {"error": {"message": "num_frames must be at most 121", "code": "invalid_value"}}
    engine.script.create_errors = [(400, refusal)]
    with pytest.raises(EngineRejected) as caught:
        backend(engine.url, engine="vllm-omni").generate(request(), lambda f: None)
    assert caught.value.code == "engine_rejected"
    assert "num_frames must be at most 121" in caught.value.message
    assert "invalid_value" in caught.value.message and len(engine.creates) == 1  # not retried


def test_a_base_url_that_is_not_an_engine_fails_clearly():
    # e.g. base_url without /v1 on a server whose front page answers 200 with HTML
    page = httpx.MockTransport(lambda req: httpx.Response(200, text="<html>welcome</html>"))
    spec = engine_spec({"id": "remote", "base_url": "http://engine.internal"})
    with pytest.raises(EngineFailed, match="answered without a video object") as caught:
        OpenAIVideosBackend(spec, transport=page).generate(request(), lambda f: None)
    assert "is base_url its /v1?" in caught.value.message


def test_a_job_the_engine_fails_fails_with_its_reason(engine: FakeEngine):
    engine.script.fail_job = {"message": "CUDA out of memory", "code": "oom"}
    with pytest.raises(EngineFailed, match="CUDA out of memory") as caught:
        backend(engine.url).generate(request(), lambda f: None)
    assert caught.value.code == "engine_failed"


def test_cancelling_deletes_the_job_on_the_engine(engine: FakeEngine):
    engine.script.polls_to_finish = 50
    calls: list[float] = []

    def cancel_on_second_poll(fraction: float) -> None:
        calls.append(fraction)
        if len(calls) == 2:
            raise JobCancelled("video_x")

    with pytest.raises(JobCancelled):
        backend(engine.url).generate(request(), cancel_on_second_poll)
    assert len(engine.creates) == len(engine.deleted) == 1 and engine.polls == 1


def test_a_job_past_its_timeout_is_stopped_on_the_engine(engine: FakeEngine):
    engine.script.polls_to_finish = 1000
    with pytest.raises(EngineFailed, match="took over 0 s"):
        backend(engine.url, timeout=0).generate(request(), lambda f: None)
    assert len(engine.deleted) == 1 and engine.jobs == {}


def test_an_oversized_download_is_refused(engine: FakeEngine):
    with pytest.raises(OutputTooLarge, match="over 0 MiB"):
        backend(engine.url, max_download_mb=0).generate(request(), lambda f: None)


@pytest.mark.parametrize(
    ("values", "param", "message"),
    [
        ({"mode": "extend"}, "video", "cannot extend videos"),
        ({"image": Image.new("RGB", (8, 8))}, "input_reference", "cannot use an input_reference"),
        ({"size": "640x480"}, "size", "size must be one of"),
        ({"references": (Image.new("RGB", (8, 8)),)}, "characters", "character's look"),
    ],
)
def test_check_refuses_what_the_engine_cannot_do(values, param, message):
    remote = backend("http://127.0.0.1:9/v1", engine="sglang", accepts_image=False)
    with pytest.raises(InvalidRequest, match=message) as caught:
        remote.check(request(**values))
    assert caught.value.param == param


def test_options_an_engine_does_not_take_are_refused():
    vllm = backend("http://127.0.0.1:9/v1", engine="vllm-omni")
    vllm.check(request(options={"steps": 8, "guidance": 3.0, "negative_prompt": "blur"}))
    with pytest.raises(InvalidRequest, match="cannot apply LoRAs") as caught:
        vllm.check(request(options={"loras": [{"name": "x", "scale": 1.0}]}))
    assert caught.value.param == "loras"
    with pytest.raises(InvalidRequest, match="does not take option 'steps'"):
        backend("http://127.0.0.1:9/v1", engine="openai").check(request(options={"steps": 8}))


def test_check_refuses_remix_where_the_mapping_has_none():
    with pytest.raises(InvalidRequest, match="cannot remix"):
        backend("http://127.0.0.1:9/v1", engine="sglang").check(request(mode="remix"))


def test_models_toml_entries_are_checked():
    with pytest.raises(ValueError, match="unknown keys \\['stepz'\\]"):
        engine_spec({"id": "x", "base_url": "http://h/v1", "stepz": 3})
    with pytest.raises(ValueError, match="engine must be one of"):
        engine_spec({"id": "x", "base_url": "http://h/v1", "engine": "trtllm"})
    with pytest.raises(ValueError, match="'base_url' is required"):
        engine_spec({"id": "x"})
    spec = engine_spec({"id": "x", "base_url": "http://h/v1", "sizes": ["832x480"]})
    assert isinstance(spec, EngineSpec) and spec.sizes == ("832x480",) and spec.keep_upstream


def test_one_models_toml_holds_engines_and_diffusers_models(tmp_path):
    from mutoscope.backends.diffusers_models import read_models_file
    from mutoscope.backends.openai_videos import read_engine_specs

    path = tmp_path / "models.toml"
    path.write_text(
        '[[models]]\nid = "wan-local"\nfamily = "wan"\npath = "wan"\n\n'
        '[[models]]\nid = "wan-remote"\nfamily = "openai-videos"\nengine = "vllm-omni"\n'
        'base_url = "http://gpu-1:8091/v1"\n[models.fields]\nflow_shift = 5.0\n'
    )
    assert [m.id for m in read_models_file(path).models] == ["wan-local"]
    (remote,) = read_engine_specs(path)
    assert remote.id == "wan-remote" and remote.fields == {"flow_shift": 5.0}
