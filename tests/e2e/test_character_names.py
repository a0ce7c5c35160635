"""Character names through the ``openai`` SDK against a real ``mutoscope serve`` with the
starter registry on: two people's characters may share a name without blocking each other,
a protected entity's name is refused at creation, and characters made keyless before the
first sign-up belong to that account afterwards."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator

import httpx
import openai
import pytest

from tests.characters.clips import character_clip

from .conftest import Server, make_server, wait_video

pytestmark = [pytest.mark.e2e, pytest.mark.filterwarnings("ignore:The Sora API:DeprecationWarning")]
CLIP = ("zorp.mp4", character_clip("red", "circle"), "video/mp4")


@pytest.fixture(scope="module")
def names_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    srv = make_server(tmp_path_factory.mktemp("names"), MUTOSCOPE_RIGHTS_STARTER="true")
    srv.start()
    yield srv
    srv.stop()


def _create(client: openai.OpenAI, prompt: str, *characters: str) -> openai.types.Video:
    return client.videos.create(
        prompt=prompt,
        model="sora-2",
        size="256x256",
        extra_body={"characters": [{"id": c} for c in characters]} if characters else None,
    )


def test_people_may_share_a_character_name_without_blocking_each_other(
    names_server: Server,
) -> None:
    ada, bob, cat = (names_server.sdk(n) for n in ("ada", "bob", "cat"))
    ada_zorp = ada.videos.create_character(name="Zorp", video=CLIP).id
    bob_zorp = bob.videos.create_character(name="Zorp", video=CLIP).id
    # Each one's attached Zorp is theirs: the other's namesake does not block it.
    mine = _create(ada, "Zorp moving up on a blue background", ada_zorp)
    theirs = _create(bob, "Zorp moving left on a blue background", bob_zorp)
    assert wait_video(ada, mine.id).status == "completed"
    assert wait_video(bob, theirs.id).status == "completed"
    # A prompt that names Zorp without attaching one is ambiguous: the message names the
    # caller's own and says there is another, private one (never whose, nor its id).
    with pytest.raises(openai.BadRequestError) as which:
        _create(ada, "Zorp moving up on a blue background")
    msg = which.value.message
    assert which.value.body["code"] == "moderation_blocked"  # type: ignore[index]
    assert "@ada" in msg and ada_zorp in msg and "and 1 private character" in msg
    assert "@bob" not in msg and bob_zorp not in msg
    assert "you may use this one" in msg and "attaching" in msg
    # Likeness protection still holds: someone with neither Zorp's consent is refused
    # (without learning whose they are), and nobody may attach bob's Zorp without his
    # permission.
    with pytest.raises(openai.BadRequestError) as neither:
        _create(cat, "Zorp waving on a green background")
    assert "you may use this one" not in neither.value.message
    assert "2 private characters" in neither.value.message
    assert "@ada" not in neither.value.message and "@bob" not in neither.value.message
    with pytest.raises(openai.NotFoundError):
        _create(ada, "Zorp moving up", bob_zorp)
    with httpx.Client(
        base_url=f"{names_server.url}/v1", headers={"Authorization": f"Bearer {bob.api_key}"}
    ) as b:
        assert b.post(f"/videos/characters/{bob_zorp}", json={"permission": "approved"})
    with pytest.raises(openai.PermissionDeniedError):
        _create(ada, "Zorp moving up", bob_zorp)


def test_private_characters_stay_private_from_a_third_user(names_server: Server) -> None:
    dee, eve, fay = (names_server.sdk(n) for n in ("dee", "eve", "fay"))
    dee_quib = dee.videos.create_character(name="Quib", video=CLIP).id
    eve_quib = eve.videos.create_character(name="Quib", video=CLIP).id
    private = {dee_quib, eve_quib}

    def api(client: openai.OpenAI, method: str, path: str, **kw: object) -> httpx.Response:
        auth = {"Authorization": f"Bearer {client.api_key}"}
        return httpx.request(method, f"{names_server.url}/v1{path}", headers=auth, **kw)  # type: ignore[arg-type]

    # The check still blocks fay (a private person's likeness is protected) but names no
    # id and no owner: not the deciding entity, the evidence nor the matches.
    checked = api(fay, "POST", "/rights/check", json={"prompt": "Quib dancing"}).json()
    assert checked["decision"] == "block"
    assert "2 private characters" in checked["reason"]
    shown = str(checked)
    assert not any(i in shown for i in private) and "@dee" not in shown and "@eve" not in shown
    assert checked["entity"]["private"] is True and checked["entity"]["owner"] is None
    # Nor does the registry list them, or answer for them by id.
    listed = {e["id"] for e in api(fay, "GET", "/rights/entities").json()["data"]}
    assert not listed & private
    for i in private:
        assert api(fay, "GET", f"/rights/entities/{i}").status_code == 404
        assert api(fay, "DELETE", f"/rights/entities/{i}").status_code == 404
    # Their owners still see their own (and only their own).
    dees = {e["id"] for e in api(dee, "GET", "/rights/entities").json()["data"]}
    assert dee_quib in dees and eve_quib not in dees
    assert api(dee, "GET", f"/rights/entities/{dee_quib}").json()["owner"] == "@dee"
    # Once eve offers hers to everyone, fay may see and use it: it is named, with its id.
    assert api(eve, "POST", f"/videos/characters/{eve_quib}", json={"permission": "everyone"})
    checked = api(fay, "POST", "/rights/check", json={"prompt": "Quib dancing"}).json()
    assert eve_quib in checked["reason"] and "@eve" in checked["reason"]
    assert "and 1 private character" in checked["reason"] and dee_quib not in str(checked)


def test_a_protected_entitys_name_is_refused_at_creation(names_server: Server) -> None:
    ada = names_server.sdk("ada2")
    for name in ("Mickey Mouse", "taylor swift"):
        with pytest.raises(openai.BadRequestError) as refused:
            ada.videos.create_character(name=name, video=CLIP)
        body = refused.value.body
        assert body["param"] == "name" and body["code"] == "protected_name"  # type: ignore[index]
        assert "Choose an original name" in refused.value.message
    made = ada.videos.create_character(name="Blobby McSquare", video=CLIP)
    assert made.name == "Blobby McSquare"
    # Renaming it to a protected name is refused the same way.
    renamed = httpx.post(
        f"{names_server.url}/v1/videos/characters/{made.id}",
        json={"name": "Mickey Mouse"},
        headers={"Authorization": f"Bearer {ada.api_key}"},
    )
    assert renamed.status_code == 400
    assert renamed.json()["error"]["code"] == "protected_name"
    assert ada.videos.get_character(made.id).name == "Blobby McSquare"


def test_characters_made_before_the_first_sign_up_move_to_that_account(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    srv = make_server(tmp_path_factory.mktemp("adopt"))
    srv.start()
    try:
        # Keyless on loopback: the SDK's placeholder key stands for the local user.
        keyless = openai.OpenAI(base_url=f"{srv.url}/v1", api_key="mts_...", max_retries=0)
        blobby = keyless.videos.create_character(name="Blobby", video=CLIP).id
        with httpx.Client(base_url=srv.url, follow_redirects=False) as web:
            page = web.get("/signup").text
            csrf = re.search(r'name="csrf-token" content="([^"]+)"', page)
            assert csrf is not None
            password = "ada password 9"
            form = {"csrf": csrf.group(1), "name": "ada", "password": password}
            assert web.post("/signup", data={**form, "confirm": password}).status_code == 303
            # The studio lists it as ada's, and she may change it.
            assert blobby in web.get("/characters").text
            got = keyless.videos.get_character(blobby)  # keyless calls are ada's now
            assert got.model_extra is not None and got.model_extra["access"] == "owner"
            video = _create(keyless, "Blobby moving left on a blue background", blobby)
            assert wait_video(keyless, video.id).status == "completed"
            # Its rights entity names ada (the portal), and she can still revoke it.
            portal = web.get("/rights").text
            assert "@ada" in portal and "local" not in portal.split('id="decisions"')[0]
            revoked = keyless.post(f"/videos/characters/{blobby}/revoke", cast_to=httpx.Response)
            assert revoked.json()["status"] == "revoked"
    finally:
        srv.stop()


def _sign_up(url: str, name: str) -> httpx.Client:
    web = httpx.Client(base_url=url, follow_redirects=False)
    csrf = re.search(r'name="csrf-token" content="([^"]+)"', web.get("/signup").text)
    assert csrf is not None
    password = f"{name} password 9"
    form = {"csrf": csrf.group(1), "name": name, "password": password, "confirm": password}
    assert web.post("/signup", data=form).status_code == 303
    return web


def test_a_strangers_sign_up_on_a_key_server_takes_nothing_of_the_local_users(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    home = tmp_path_factory.mktemp("stranger")
    srv = make_server(home)
    srv.start()
    try:
        # A server used through API keys: the operator's own (local) key and ada's.
        local = openai.OpenAI(base_url=f"{srv.url}/v1", api_key=srv.cli("keys", "create"))
        ada = srv.sdk("ada")

        def api(client: openai.OpenAI, method: str, path: str, **kw: object) -> httpx.Response:
            auth = {"Authorization": f"Bearer {client.api_key}"}
            return httpx.request(method, f"{srv.url}/v1{path}", headers=auth, **kw)  # type: ignore[arg-type]

        local_id = api(local, "GET", "/users/me").json()["id"]
        blobby = local.videos.create_character(name="Blobby Local", video=CLIP).id
        # ada lets the local user use her character: an approval and a consent.
        adas = ada.videos.create_character(name="Adalind", video=CLIP).id
        assert api(ada, "POST", f"/videos/characters/{adas}", json={"permission": "approved"})
        assert api(local, "POST", f"/videos/characters/{adas}/requests", json={}).is_success
        decided = api(
            ada,
            "POST",
            f"/videos/characters/{adas}/decisions",
            json={"user_id": local_id, "approve": True},
        )
        assert decided.is_success
        consent = api(ada, "POST", f"/rights/entities/{adas}/consents", json={"user_id": local_id})
        assert consent.is_success
        made = srv.cli("generate", "a red circle moving up", "-o", str(home / "one.mp4"), "--json")
        first = json.loads(made)["id"]
        # A stranger signs up (the only account with a password), then the operator generates.
        _sign_up(srv.url, "zed").close()
        zed = srv.sdk("zed")
        made = srv.cli(
            "generate", "a red circle moving left", "-o", str(home / "two.mp4"), "--json"
        )
        second = json.loads(made)["id"]
        # Nothing likeness-related moved: the local user still owns Blobby and its entity,
        # and still holds ada's approval and consent; the stranger holds none of it.
        got = api(local, "GET", f"/videos/characters/{blobby}").json()
        assert got["access"] == "owner"
        assert api(zed, "GET", f"/videos/characters/{blobby}").status_code == 404
        entity = api(local, "GET", f"/rights/entities/{blobby}").json()
        assert entity["subject_user_id"] == local_id
        assert (
            api(local, "POST", "/rights/check", json={"prompt": "Adalind waving"}).json()[
                "decision"
            ]
            == "allow"
        )
        assert api(local, "GET", f"/videos/characters/{adas}").json()["access"] == "allowed"
        assert (
            api(zed, "POST", "/rights/check", json={"prompt": "Adalind waving"}).json()["decision"]
            == "block"
        )
        assert api(zed, "GET", f"/videos/characters/{adas}").json()["access"] == "none"
        # Nor do the operator's videos, made before or after the sign-up, go to the stranger.
        assert api(zed, "GET", "/videos").json()["data"] == []
        for video in (first, second):
            assert api(local, "GET", f"/videos/{video}").is_success
    finally:
        srv.stop()
