"""The create page's "Advanced" panel: per-request options from the studio."""

from __future__ import annotations

import re

from fastapi import FastAPI

from mutoscope.storage.records import VideoRecord
from tests.studio.conftest import Browser, wait_completed


def test_advanced_panel_is_collapsed_and_offers_what_the_model_takes(app: FastAPI) -> None:
    alice = Browser(app, "alice")
    page = alice.get("/create?model=mutoscope-test").text

    panel = re.search(r'<details class="advanced" id="advanced"( open)?>', page)
    assert panel is not None and panel.group(1) is None  # collapsed by default
    for name in ("steps", "guidance", "seed", "negative_prompt", "lora", "preset"):
        assert f'name="{name}"' in page
    models = re.search(r'id="models-data">(.*?)</script>', page, re.S)
    assert models is not None
    assert '"options": ["guidance", "negative_prompt", "steps"]' in models.group(1)
    assert '"presets": []' in models.group(1) and '"loras": []' in models.group(1)


def test_advanced_options_are_recorded_on_the_video(app: FastAPI) -> None:
    alice = Browser(app, "alice")
    video_id = alice.create(steps="3", guidance="2", negative_prompt="noise", seed="42", lora="")

    record = wait_completed(app, video_id)

    assert record.options == {"steps": 3, "guidance": 2.0, "negative_prompt": "noise"}
    assert record.seed == 42
    page = alice.get(f"/v/{video_id}").text
    assert 'id="video-options">steps 3 · guidance 2.0 · negative prompt “noise”<' in page

    loras = [{"name": "style", "scale": 0.5}, {"name": "grain"}]
    with app.state.services.sessions.begin() as s:
        s.get(VideoRecord, video_id).options = {"loras": loras, "preset": "fast", "audio": False}
    page = alice.get(f"/v/{video_id}").text
    assert 'id="video-options">LoRAs style:0.5, grain · preset fast · silent<' in page


def test_a_refused_option_keeps_the_form_and_opens_the_panel(app: FastAPI) -> None:
    alice = Browser(app, "alice")
    form = {"prompt": "a paper boat", "model": "mutoscope-test", "size": "256x256"}

    r = alice.post("/create", **form, steps="3", lora="film-grain:0.5")

    assert r.status_code == 400
    assert "cannot apply LoRAs" in r.text
    assert '<details class="advanced" id="advanced" open>' in r.text
    assert 'value="film-grain:0.5"' in r.text and 'name="steps"' in r.text
    for seed in ("-1", "²", "2147483648"):  # "²" is a digit to str.isdigit, not to int()
        bad_seed = alice.post("/create", **form, seed=seed)
        assert bad_seed.status_code == 400 and "seed must be a whole number" in bad_seed.text
