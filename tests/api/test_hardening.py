"""Inputs that used to crash the server (bare 500s) or hold it hostage, answered with 4xx.

Each case here returned ``text/plain "Internal Server Error"`` (or froze the server) before.
"""

from __future__ import annotations

import io
import json
import struct
import zlib

import pytest
from fastapi.testclient import TestClient
from PIL import Image

from tests.api.test_videos import assert_openai_error


def _png(size=(64, 64)) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", size, (200, 30, 30)).save(buf, format="PNG")
    return buf.getvalue()


def png_bomb(width: int, height: int) -> bytes:
    """A valid grey PNG of ``width``x``height`` that is tiny on disk (all-zero rows)."""
    row = b"\x00" + b"\x00" * width
    raw = zlib.compress(row * height, 9)

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", raw) + chunk(b"IEND", b"")


def _no_server_path(err: dict) -> None:
    assert "/tmp" not in err["message"] and "/home" not in err["message"]
    assert "site-packages" not in err["message"] and ".py" not in err["message"]


def test_non_utf8_json_is_a_400_that_names_the_encoding(client: TestClient):
    r = client.post(
        "/v1/videos", content=b'{"prompt": "caf\xe9"}', headers={"content-type": "application/json"}
    )
    err = assert_openai_error(r, 400)
    assert "UTF-8" in err["message"]


def test_seed_outside_the_stored_range_is_a_400(client: TestClient):
    for seed in (2**63, 2**64 + 5, -1):
        r = client.post("/v1/videos", json={"prompt": "a red circle", "seed": seed})
        err = assert_openai_error(r, 400, param="seed")
        assert "0 to 2147483647" in err["message"]


@pytest.mark.parametrize("value", [123, 4.5])
def test_a_number_as_the_prompt_is_a_400_not_its_digits(client: TestClient, value):
    r = client.post("/v1/videos", json={"prompt": value})
    err = assert_openai_error(r, 400, param="prompt")
    assert "prompt must be a string" in err["message"]


def test_lone_surrogate_in_json_is_a_400(client: TestClient):
    body = b'{"prompt": "a red \\ud800 circle"}'
    for path in ("/v1/videos", "/v1/rights/check"):
        r = client.post(path, content=body, headers={"content-type": "application/json"})
        err = assert_openai_error(r, 400)
        assert "surrogate" in err["message"]


def test_deeply_nested_json_is_a_400(client: TestClient):
    for depth in (100, 100_000):
        body = '{"prompt": "x", "a": ' + "[" * depth + "]" * depth + "}"
        r = client.post(
            "/v1/videos", content=body.encode(), headers={"content-type": "application/json"}
        )
        err = assert_openai_error(r, 400)
        assert "nested too deeply" in err["message"]


@pytest.mark.parametrize("value", [5, ["https://example.com/a.png"], {"u": 1}, True])
def test_non_string_image_url_is_a_400(client: TestClient, value):
    r = client.post(
        "/v1/videos", json={"prompt": "a red circle", "input_reference": {"image_url": value}}
    )
    assert_openai_error(r, 400, param="input_reference.image_url")


@pytest.mark.parametrize("value", [5, ["video_x"], {"a": 1}, None])
def test_non_string_video_id_is_a_400(client: TestClient, value):
    r = client.post("/v1/videos/extensions", json={"prompt": "more", "video": {"id": value}})
    assert_openai_error(r, 400, param="video.id")


def test_truncated_png_is_a_400(client: TestClient):
    data = _png((256, 256))
    r = client.post(
        "/v1/videos",
        data={"prompt": "a red circle", "size": "320x180"},
        files={"input_reference": ("ref.png", data[: len(data) // 2], "image/png")},
    )
    err = assert_openai_error(r, 400, param="input_reference")
    assert "truncated" in err["message"]
    _no_server_path(err)


def test_decompression_bomb_is_refused_before_decoding(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
):
    from PIL import ImageFile

    loads = []
    real_load = ImageFile.ImageFile.load

    def counting_load(self):  # type: ignore[no-untyped-def]
        loads.append(self.size)
        return real_load(self)

    monkeypatch.setattr(ImageFile.ImageFile, "load", counting_load)
    bomb = png_bomb(12_000, 12_000)
    assert len(bomb) < 300_000  # 144 megapixels in a small file
    r = client.post(
        "/v1/videos",
        data={"prompt": "a red circle", "size": "320x180"},
        files={"input_reference": ("bomb.png", bomb, "image/png")},
    )
    err = assert_openai_error(r, 400, param="input_reference")
    assert "12000x12000" in err["message"] and "pixels" in err["message"]
    assert (12_000, 12_000) not in loads  # its pixels were never decoded


def test_chunked_body_over_the_limit_is_cut_off_with_413(client: TestClient):
    def body():
        for _ in range(64):  # 64 MiB offered, no Content-Length
            yield b"x" * (1024 * 1024)

    r = client.post("/v1/videos", content=body(), headers={"content-type": "application/json"})
    err = assert_openai_error(r, 413)
    assert "20,971,520" in err["message"]


def test_declared_length_over_the_limit_is_refused_before_reading(client: TestClient):
    r = client.post(
        "/v1/rights/import",
        content=b"x" * (21 * 1024 * 1024),
        headers={"content-type": "application/yaml"},
    )
    assert_openai_error(r, 413)


def test_multipart_upload_over_the_limit_is_413(client: TestClient):
    big = b"\x89PNG" + b"\x00" * (21 * 1024 * 1024)
    r = client.post(
        "/v1/videos",
        data={"prompt": "a red circle"},
        files={"input_reference": ("big.png", big, "image/png")},
    )
    assert_openai_error(r, 413)


def test_unexpected_error_is_a_json_500_without_internals(settings, core_services):
    from mutoscope.api.app import create_app

    app = create_app(settings, services=core_services, keyless=True, run_worker=False)

    @app.get("/boom")
    async def boom() -> None:
        raise RuntimeError(f"secret detail in {__file__}")

    with TestClient(app, raise_server_exceptions=False) as client:
        r = client.get("/boom")
        err = assert_openai_error(r, 500)
        assert err["type"] == "server_error" and "secret" not in err["message"]
        _no_server_path(err)
        assert client.get("/healthz").status_code == 200


def test_bad_json_on_a_pydantic_route_is_a_400(client: TestClient):
    r = client.post(
        "/v1/rights/check", content=b'{"prompt": ', headers={"content-type": "application/json"}
    )
    err = assert_openai_error(r, 400)
    assert "not valid JSON" in err["message"]
    json.dumps(err)


# -- input_reference.image_url goes through the SSRF-safe fetcher --------------------------


@pytest.fixture
def image_site():
    from tests.net.test_fetch import _serve

    site, server = _serve("127.0.0.1")
    site.routes["/ref.png"] = (200, {"Content-Type": "image/png"}, _png((64, 64)))
    yield site
    server.shutdown()


def test_image_url_on_loopback_is_refused_without_a_request(client: TestClient, image_site):
    r = client.post(
        "/v1/videos",
        json={
            "prompt": "a red circle",
            "input_reference": {"image_url": image_site.url("/ref.png")},
        },
    )
    err = assert_openai_error(r, 400, param="input_reference.image_url")
    assert err["message"].startswith("could not fetch the image")
    assert str(image_site.port) not in err["message"]
    assert image_site.hits == []


def test_image_url_is_fetched_only_after_the_request_validated(settings, core_services, image_site):
    from mutoscope.api.app import create_app

    core_services.settings = settings.model_copy(update={"fetch_allow_private": True})
    app = create_app(core_services.settings, services=core_services, keyless=True)
    with TestClient(app) as client:
        ref = {"image_url": image_site.url("/ref.png")}
        bad = client.post(
            "/v1/videos", json={"prompt": "a red circle", "seconds": "5", "input_reference": ref}
        )
        assert_openai_error(bad, 400, param="seconds")
        assert image_site.hits == []
        # The operator's override lets an on-premises address through.
        ok = client.post(
            "/v1/videos", json={"prompt": "a red circle", "size": "320x180", "input_reference": ref}
        )
        assert ok.status_code == 200, ok.text
        assert image_site.hits == ["/ref.png"]


def test_reference_image_bomb_is_refused_when_hashed(tmp_path):
    from mutoscope.errors import InvalidRequest
    from mutoscope.rights.hashing import hash_file

    path = tmp_path / "bomb.png"
    path.write_bytes(png_bomb(8000, 8000))  # 64 MP: past our limit, under Pillow's warning
    with pytest.raises(InvalidRequest, match="8000x8000"):
        hash_file(path)


def test_extension_chains_stop_at_the_maximum_total_length(settings, core_services):
    from mutoscope.api.app import create_app
    from tests.api.conftest import wait_done

    core_services.settings = settings.model_copy(update={"max_total_seconds": 10.0})
    app = create_app(core_services.settings, services=core_services, keyless=True)
    with TestClient(app) as client:
        parent = client.post("/v1/videos", json={"prompt": "a red circle", "size": "320x180"})
        wait_done(client, parent.json()["id"])
        ref = {"id": parent.json()["id"]}
        ok = client.post(
            "/v1/videos/extensions", json={"video": ref, "prompt": "on", "seconds": "4"}
        )
        assert ok.status_code == 200, ok.text
        child = wait_done(client, ok.json()["id"])
        too_long = client.post(
            "/v1/videos/extensions",
            json={"video": {"id": child["id"]}, "prompt": "on", "seconds": "4"},
        )
        err = assert_openai_error(too_long, 400, param="seconds")
        assert "12-second" in err["message"] and "MUTOSCOPE_MAX_TOTAL_SECONDS" in err["message"]


@pytest.mark.parametrize(
    ("body", "ctype"),
    [
        (b'{"prompt": "a \\udc00 circle"}', ""),
        (b"prompt=a%ED%A0%80circle&size=320x180", "application/x-www-form-urlencoded"),
    ],
)
def test_surrogates_without_a_json_content_type_do_not_reach_the_database(
    client: TestClient, body: bytes, ctype: str
):
    r = client.post("/v1/videos", content=body, headers={"content-type": ctype})
    assert r.status_code in (200, 400), r.text
    if r.status_code == 200:  # undecodable form bytes were replaced, not passed on
        r.json()["prompt"].encode("utf-8")
