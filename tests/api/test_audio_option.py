"""``audio`` as a request option: JSON or multipart, false makes a silent video, anything else
but a boolean is refused naming the parameter."""

from __future__ import annotations

import time

import pytest
from fastapi.testclient import TestClient

from mutoscope.media import probe


def finish(client: TestClient, video_id: str) -> dict:
    deadline = time.time() + 60
    while time.time() < deadline:
        body = client.get(f"/v1/videos/{video_id}").json()
        if body["status"] in ("completed", "failed"):
            assert body["status"] == "completed", body
            return body
        time.sleep(0.05)
    raise AssertionError(f"{video_id} did not finish")


def content(client: TestClient, response) -> bytes:  # type: ignore[no-untyped-def]
    assert response.status_code == 200, response.text
    video = finish(client, response.json()["id"])
    return client.get(f"/v1/videos/{video['id']}/content").content


def test_audio_false_in_json_or_multipart_makes_a_silent_video(client: TestClient) -> None:
    base = {"prompt": "a red square", "size": "320x180"}
    loud = content(client, client.post("/v1/videos", json=base))
    assert probe(loud).audio is not None
    quiet = content(client, client.post("/v1/videos", json={**base, "audio": False}))
    assert probe(quiet).audio is None
    form = content(client, client.post("/v1/videos", data={**base, "audio": "false"}))
    assert probe(form).audio is None


def test_a_remix_keeps_its_parents_choice_unless_told_otherwise(client: TestClient) -> None:
    r = client.post(
        "/v1/videos", json={"prompt": "a red square", "size": "320x180", "audio": False}
    )
    parent = finish(client, r.json()["id"])
    remix = content(client, client.post(f"/v1/videos/{parent['id']}/remix", json={"prompt": "b"}))
    assert probe(remix).audio is None
    loud = client.post(f"/v1/videos/{parent['id']}/remix", json={"prompt": "c", "audio": True})
    assert probe(content(client, loud)).audio is not None


@pytest.mark.parametrize("value", ["maybe", 2, [True]])
def test_audio_must_be_a_boolean(client: TestClient, value: object) -> None:
    r = client.post("/v1/videos", json={"prompt": "a red square", "audio": value})
    assert r.status_code == 400
    error = r.json()["error"]
    assert error["param"] == "audio" and "true or false" in error["message"]
