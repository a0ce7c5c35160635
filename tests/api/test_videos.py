"""The /v1/videos contract through FastAPI's TestClient (fast; the SDK suite is in tests/e2e)."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from mutoscope.media import decode_mp4
from tests.api.conftest import wait_done

VIDEO_KEYS = {
    "id",
    "object",
    "model",
    "status",
    "progress",
    "created_at",
    "completed_at",
    "expires_at",
    "prompt",
    "size",
    "seconds",
    "remixed_from_video_id",
    "error",
}


def _png(color=(255, 0, 0), size=(64, 64), fmt="PNG") -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", size, color).save(buf, format=fmt)
    return buf.getvalue()


def assert_openai_error(response, status: int, param: str | None = None) -> dict:
    assert response.status_code == status, response.text
    err = response.json()["error"]
    assert set(err) == {"message", "type", "param", "code"}
    assert err["message"]
    if param is not None:
        assert err["param"] == param
    return err


def test_multipart_create_returns_queued_video_with_every_field(client):
    r = client.post(
        "/v1/videos",
        data={"prompt": "a red circle", "seconds": "4", "size": "320x180", "model": "sora-2"},
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert set(body) == VIDEO_KEYS | {"requested_model"}  # asked for by an alias
    assert body["id"].startswith("video_") and body["object"] == "video"
    assert body["status"] == "queued" and body["seconds"] == "4"
    # The model that makes it, with the alias as requested beside it.
    assert body["model"] != "sora-2" and body["requested_model"] == "sora-2"
    assert client.get("/v1/models/sora-2").json()["alias_of"] == body["model"]
    assert r.headers["openai-poll-after-ms"]


def test_json_create_completes_and_content_decodes(client):
    r = client.post("/v1/videos", json={"prompt": "a blue square", "size": "320x180"})
    done = wait_done(client, r.json()["id"])
    assert done["status"] == "completed" and done["progress"] == 100 and done["completed_at"]
    video = client.get(f"/v1/videos/{done['id']}/content")
    assert video.headers["content-type"] == "video/mp4"
    frames = decode_mp4(video.content)
    assert frames.shape == (96, 180, 320, 3)
    for variant in ("thumbnail", "spritesheet"):
        img = client.get(f"/v1/videos/{done['id']}/content", params={"variant": variant})
        assert img.status_code == 200
        assert Image.open(io.BytesIO(img.content)).format == "JPEG"


@pytest.mark.parametrize(
    ("fields", "param", "needle"),
    [
        ({"prompt": "x", "seconds": "5"}, "seconds", '"4", "8", "12"'),
        ({"prompt": "x", "size": "640x480"}, "size", "1280x720"),
        ({"prompt": ""}, "prompt", "empty"),
        ({"prompt": "x" * 32_001}, "prompt", "32,000"),
        ({"prompt": "x", "model": "nope"}, "model", "mutoscope-test"),
    ],
)
def test_bad_values_get_400_in_openai_shape_saying_what_works(client, fields, param, needle):
    err = assert_openai_error(client.post("/v1/videos", data=fields), 400, param)
    assert needle in err["message"]


def test_unknown_video_is_404(client):
    assert_openai_error(client.get("/v1/videos/video_nope"), 404, "video_id")


def test_validation_errors_never_leak_fastapi_422(client):
    err = assert_openai_error(client.get("/v1/videos", params={"limit": 500}), 400, "limit")
    assert "100" in err["message"]
    assert_openai_error(client.post("/v1/videos/video_x/remix", json={}), 400, "prompt")


def test_reference_image_upload_is_stored_and_wrong_types_are_415(client):
    ok = client.post(
        "/v1/videos",
        data={"prompt": "p", "size": "320x180"},
        files={"input_reference": ("ref.png", _png(), "image/png")},
    )
    assert ok.status_code == 200
    done = wait_done(client, ok.json()["id"])
    frame = decode_mp4(client.get(f"/v1/videos/{done['id']}/content").content)[0]
    assert frame[..., 0].mean() > frame[..., 2].mean()  # the red reference shows through
    bad = client.post(
        "/v1/videos",
        data={"prompt": "p"},
        files={"input_reference": ("a.txt", b"hello", "text/plain")},
    )
    assert_openai_error(bad, 415, "input_reference")
    fake = client.post(
        "/v1/videos",
        data={"prompt": "p"},
        files={"input_reference": ("a.png", b"not a png", "image/png")},
    )
    assert_openai_error(fake, 415, "input_reference")


def test_reference_as_data_url_and_bracketed_key(client):
    import base64

    url = "data:image/png;base64," + base64.b64encode(_png((0, 255, 0))).decode()
    r = client.post(
        "/v1/videos", data={"prompt": "p", "size": "320x180", "input_reference[image_url]": url}
    )
    assert r.status_code == 200, r.text
    r2 = client.post(
        "/v1/videos", json={"prompt": "p", "size": "320x180", "input_reference": {"image_url": url}}
    )
    assert r2.status_code == 200, r2.text
    err = assert_openai_error(
        client.post("/v1/videos", json={"prompt": "p", "input_reference": {"file_id": "file-1"}}),
        404,
        "input_reference.file_id",
    )
    assert "file-1" in err["message"]


def test_reference_by_file_id_in_json_and_multipart(client):
    up = client.post(
        "/v1/files",
        data={"purpose": "vision"},
        files={"file": ("ref.png", _png((0, 255, 0)), "image/png")},
    )
    assert up.status_code == 200, up.text
    file_id = up.json()["id"]
    r = client.post(
        "/v1/videos",
        json={"prompt": "p", "size": "320x180", "input_reference": {"file_id": file_id}},
    )
    assert r.status_code == 200, r.text
    r2 = client.post(
        "/v1/videos",
        data={"prompt": "p", "size": "320x180", "input_reference[file_id]": file_id},
    )
    assert r2.status_code == 200, r2.text


def test_upload_over_the_limit_is_413(client, settings):
    big = b"\0" * (settings.max_upload_bytes + 1)
    r = client.post(
        "/v1/videos", data={"prompt": "p"}, files={"input_reference": ("big.png", big, "image/png")}
    )
    assert_openai_error(r, 413)


def test_list_paginates_both_orders(client):
    ids = [
        client.post("/v1/videos", data={"prompt": f"v{i}", "size": "320x180"}).json()["id"]
        for i in range(5)
    ]
    page = client.get("/v1/videos", params={"limit": 2, "order": "asc"}).json()
    assert [v["id"] for v in page["data"]] == ids[:2] and page["has_more"]
    assert page["first_id"] == ids[0] and page["last_id"] == ids[1]
    rest = client.get(
        "/v1/videos", params={"limit": 10, "order": "asc", "after": page["last_id"]}
    ).json()
    assert [v["id"] for v in rest["data"]] == ids[2:] and not rest["has_more"]
    desc = client.get("/v1/videos", params={"limit": 3}).json()
    assert [v["id"] for v in desc["data"]] == ids[::-1][:3]


def test_remix_records_parent_and_conditions_on_it(client):
    parent = wait_done(
        client, client.post("/v1/videos", data={"prompt": "a", "size": "320x180"}).json()["id"]
    )
    r = client.post(f"/v1/videos/{parent['id']}/remix", json={"prompt": "a, but at night"})
    assert r.status_code == 200, r.text
    child = wait_done(client, r.json()["id"])
    assert child["remixed_from_video_id"] == parent["id"]
    assert child["size"] == parent["size"] and child["seconds"] == parent["seconds"]


def test_remix_of_unfinished_video_says_to_wait(client, core_services):
    backend = core_services.backends.get("mutoscope-test")
    backend.step_seconds = 0.5  # keep the parent generating while we ask for a remix
    try:
        queued = client.post("/v1/videos", data={"prompt": "a", "size": "320x180"})
        r = client.post(f"/v1/videos/{queued.json()['id']}/remix", json={"prompt": "b"})
        err = assert_openai_error(r, 400, "video_id")
        assert "completed" in err["message"]
    finally:
        backend.step_seconds = 0.0


def test_extend_appends_seconds_to_the_parent(client):
    parent = wait_done(
        client, client.post("/v1/videos", data={"prompt": "a", "size": "320x180"}).json()["id"]
    )
    r = client.post(
        "/v1/videos/extensions",
        data={"prompt": "then it rains", "seconds": "4", "video[id]": parent["id"]},
    )
    assert r.status_code == 200, r.text
    child = wait_done(client, r.json()["id"])
    frames = decode_mp4(client.get(f"/v1/videos/{child['id']}/content").content)
    assert len(frames) == 192
    assert child["remixed_from_video_id"] == parent["id"]


def test_delete_removes_record_and_files(client, core_services):
    done = wait_done(
        client, client.post("/v1/videos", data={"prompt": "a", "size": "320x180"}).json()["id"]
    )
    folder = core_services.files.folder(done["id"])
    assert folder.exists()
    r = client.delete(f"/v1/videos/{done['id']}")
    assert r.json() == {"id": done["id"], "object": "video.deleted", "deleted": True}
    assert not folder.exists()
    assert_openai_error(client.get(f"/v1/videos/{done['id']}"), 404)


def test_models_list_backends_and_aliases(client):
    ids = {m["id"] for m in client.get("/v1/models").json()["data"]}
    assert {"mutoscope-test", "sora-2", "sora-2-pro"} <= ids


class TestAuth:
    def test_keys_are_required_once_one_exists_and_users_are_isolated(self, client, core_services):
        from mutoscope.users import UserService

        users = UserService(core_services.sessions)
        client.app.state.users = users
        alice = users.create_key("alice", "k").key
        bob = users.create_key("bob", "k").key
        assert_openai_error(client.get("/v1/videos"), 401)
        assert_openai_error(client.get("/v1/videos", headers={"Authorization": "Bearer nope"}), 401)
        a = {"Authorization": f"Bearer {alice}"}
        b = {"Authorization": f"Bearer {bob}"}
        vid = client.post(
            "/v1/videos", data={"prompt": "mine", "size": "320x180"}, headers=a
        ).json()["id"]
        assert_openai_error(client.get(f"/v1/videos/{vid}", headers=b), 404)
        assert_openai_error(client.delete(f"/v1/videos/{vid}", headers=b), 404)
        assert_openai_error(client.get(f"/v1/videos/{vid}/content", headers=b), 404)
        assert client.get("/v1/videos", headers=b).json()["data"] == []
        assert client.get(f"/v1/videos/{vid}", headers=a).status_code == 200

    def test_revoked_key_is_refused(self, client, core_services):
        from mutoscope.users import UserService

        users = UserService(core_services.sessions)
        client.app.state.users = users
        new = users.create_key("carol", "k")
        h = {"Authorization": f"Bearer {new.key}"}
        assert client.get("/v1/videos", headers=h).status_code == 200
        users.revoke_key(new.record.id)
        assert_openai_error(client.get("/v1/videos", headers=h), 401)


def test_a_crashing_backend_is_retried_then_fails_with_its_error(client, core_services):
    backend = core_services.backends.get("mutoscope-test")
    calls = {"n": 0}
    original = backend.generate

    def flaky(request, on_progress):
        calls["n"] += 1
        if calls["n"] == 1:
            raise RuntimeError("GPU fell off the bus")
        return original(request, on_progress)

    backend.generate = flaky  # type: ignore[method-assign]
    core_services.settings.max_attempts = 3
    vid = client.post("/v1/videos", data={"prompt": "retry me", "size": "320x180"}).json()["id"]
    done = wait_done(client, vid)
    assert done["status"] == "completed" and calls["n"] == 2

    backend.generate = lambda request, on_progress: (_ for _ in ()).throw(RuntimeError("always"))  # type: ignore[method-assign]
    vid = client.post("/v1/videos", data={"prompt": "never", "size": "320x180"}).json()["id"]
    failed = wait_done(client, vid, timeout=30)
    assert failed["status"] == "failed"
    assert failed["error"]["code"] == "internal_error" and "always" in failed["error"]["message"]
    assert np.isfinite(failed["completed_at"])
