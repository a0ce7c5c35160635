"""Prompts a model cannot draw: the API still generates but says why; a strict model refuses.

The backend here is the test pattern backend with the embedded model's vocabulary, so the
contract is checked without loading the tiny model's weights.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from mutoscope.backends.base import PromptFit
from mutoscope.backends.testing import TestPatternBackend
from mutoscope.backends.tiny import prompt_fit
from tests.api.conftest import wait_done

OUT_OF_WORLD = "a golden retriever running on a beach at sunset"


class ShapesVocabularyBackend(TestPatternBackend):
    __test__ = False
    name = "shapes-vocab"

    def fit_prompt(self, prompt: str) -> PromptFit:
        return prompt_fit(prompt)


def _client(settings) -> Iterator[TestClient]:  # type: ignore[no-untyped-def]
    from mutoscope.api.app import create_app
    from mutoscope.backends.registry import load_backends
    from mutoscope.services import build_services
    from mutoscope.worker.hooks import NullProvenance, NullRights

    def hook(register, _settings) -> None:  # type: ignore[no-untyped-def]
        register(ShapesVocabularyBackend())

    services = build_services(
        settings,
        backends=load_backends(settings, hooks=[hook]),
        rights=NullRights(),
        provenance=NullProvenance(),
    )
    app = create_app(settings, services=services, keyless=True)
    with TestClient(app) as c:
        yield c
    services.close()


@pytest.fixture
def client(settings) -> Iterator[TestClient]:  # type: ignore[no-untyped-def]
    yield from _client(settings.model_copy(update={"default_model": "shapes-vocab"}))


@pytest.fixture
def strict_client(settings) -> Iterator[TestClient]:  # type: ignore[no-untyped-def]
    update = {"default_model": "shapes-vocab", "strict_prompts": ["shapes-vocab"]}
    yield from _client(settings.model_copy(update=update))


def test_an_undrawable_prompt_still_generates_with_the_reason_on_the_video(client) -> None:  # type: ignore[no-untyped-def]
    created = client.post("/v1/videos", json={"prompt": OUT_OF_WORLD, "size": "1280x720"})
    assert created.status_code == 200, created.text
    warning = created.json()["warning"]
    assert "cannot draw" in warning and "docs/models.md" in warning and "retriever" in warning
    done = wait_done(client, created.json()["id"])
    assert done["status"] == "completed" and done["warning"] == warning


def test_an_in_world_prompt_has_no_warning(client) -> None:  # type: ignore[no-untyped-def]
    created = client.post(
        "/v1/videos", json={"prompt": "a red circle moving left", "size": "1280x720"}
    )
    assert created.status_code == 200 and "warning" not in created.json()


def test_a_strict_model_refuses_what_it_cannot_draw_with_a_400(strict_client) -> None:  # type: ignore[no-untyped-def]
    r = strict_client.post("/v1/videos", json={"prompt": OUT_OF_WORLD, "size": "1280x720"})
    assert r.status_code == 400
    error = r.json()["error"]
    assert error["code"] == "prompt_not_drawable" and error["param"] == "prompt"
    assert "for example" in error["message"]
    ok = strict_client.post(
        "/v1/videos", json={"prompt": "a blue square moving up", "size": "1280x720"}
    )
    assert ok.status_code == 200
