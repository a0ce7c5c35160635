"""Studio pages through TestClient: accounts, CSRF, privacy, escaping, likes, keys, chains."""

from __future__ import annotations

from fastapi import FastAPI
from sqlalchemy import select

from mutoscope.storage.records import UserRecord
from mutoscope.studio import accounts
from tests.studio.conftest import Browser, wait_completed

SCRIPT = '<script>alert("pwned")</script>'


def test_first_sign_up_becomes_admin_and_later_ones_do_not(app: FastAPI) -> None:
    Browser(app, "alice")
    Browser(app, "bob")
    with app.state.services.sessions() as s:
        admins = dict(s.execute(select(UserRecord.name, UserRecord.is_admin)).all())
    assert admins["alice"] is True and admins["bob"] is False


def test_home_sends_a_new_install_to_sign_up_then_visitors_to_the_feed(app: FastAPI) -> None:
    visitor = Browser(app)
    assert visitor.get("/", follow_redirects=False).headers["location"] == "/signup"
    Browser(app, "alice")
    assert visitor.get("/", follow_redirects=False).headers["location"] == "/feed"


def test_session_cookie_is_httponly_and_samesite_lax(app: FastAPI) -> None:
    visitor = Browser(app)
    r = visitor.post("/signup", name="alice", password="correct horse", confirm="correct horse")
    cookie = r.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=lax" in cookie and "path=/" in cookie


def test_sign_in_checks_the_password_without_saying_which_part_was_wrong(app: FastAPI) -> None:
    Browser(app, "alice", password="right password")
    visitor = Browser(app)
    wrong = visitor.post("/signin", name="alice", password="wrong password")
    nobody = visitor.post("/signin", name="nobody", password="wrong password")
    assert wrong.status_code == nobody.status_code == 401
    assert "do not match" in wrong.text and "do not match" in nobody.text
    ok = visitor.post("/signin", name="alice", password="right password", next="/videos")
    assert ok.status_code == 303 and ok.headers["location"] == "/videos"


def test_sign_in_never_redirects_off_site(app: FastAPI) -> None:
    Browser(app, "alice", password="right password")
    visitor = Browser(app)
    r = visitor.post("/signin", name="alice", password="right password", next="//evil.example/")
    assert r.headers["location"] == "/create"


def test_sign_out_ends_the_session_on_the_server(app: FastAPI) -> None:
    alice = Browser(app, "alice")
    old = alice.client.cookies.get("mutoscope_session")
    assert alice.post("/signout").status_code == 303
    replay = Browser(app)
    replay.client.cookies.set("mutoscope_session", old)
    assert (
        replay.get("/videos", follow_redirects=False).headers["location"] == "/signin?next=/videos"
    )


def test_pages_that_need_an_account_redirect_to_sign_in_and_back(app: FastAPI) -> None:
    r = Browser(app).get("/settings", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/signin?next=/settings"


def test_forms_without_a_valid_csrf_token_are_refused(app: FastAPI) -> None:
    alice = Browser(app, "alice")
    alice.csrf = "forged"
    r = alice.post("/create", prompt="a boat", model="mutoscope-test", size="256x256")
    assert r.status_code == 403 and "security token" in r.text
    assert "No videos yet" in alice.get("/videos").text
    check = alice.client.post("/studio/check", json={"prompt": "a boat"})
    assert check.status_code == 403


def test_sign_up_refuses_names_that_exist_even_without_a_password(app: FastAPI) -> None:
    # "local" is the keyless API owner: it has no password and must not be claimable.
    visitor = Browser(app)
    r = visitor.post("/signup", name="local", password="correct horse", confirm="correct horse")
    assert r.status_code == 409 and "taken" in r.text


def test_cli_account_creation_sets_a_password_on_an_existing_key_owner(app: FastAPI) -> None:
    sessions = app.state.services.sessions
    app.state.users.create_key("carol", "ci")
    accounts.create_account(sessions, "carol", "carol password", is_admin=True)
    assert accounts.authenticate(sessions, "carol", "carol password").is_admin


def test_private_videos_are_invisible_to_everyone_else(app: FastAPI) -> None:
    alice, bob, anonymous = Browser(app, "alice"), Browser(app, "bob"), Browser(app)
    video_id = alice.create("alice's secret")
    wait_completed(app, video_id)
    assert alice.get(f"/media/{video_id}/thumbnail").status_code == 200
    for other in (bob, anonymous):
        assert other.get(f"/v/{video_id}").status_code == 404
        for variant in ("video", "thumbnail", "spritesheet"):
            assert other.get(f"/media/{video_id}/{variant}").status_code == 404
        assert video_id not in other.get("/feed").text
        assert "alice&#39;s secret" not in other.get("/feed").text
    assert bob.post(f"/v/{video_id}/like").status_code == 404
    assert bob.post(f"/v/{video_id}/remix", prompt="mine now").status_code == 404
    assert bob.post(f"/v/{video_id}/publish", published="1").status_code == 404
    events = bob.get(f"/studio/progress?ids={video_id}").text
    assert '"status": "deleted"' in events and "completed" not in events

    assert alice.post(f"/v/{video_id}/publish", published="1").status_code == 303
    assert bob.get(f"/v/{video_id}").status_code == 200
    assert anonymous.get(f"/media/{video_id}/video").status_code == 200
    assert video_id in anonymous.get("/feed").text


def test_prompts_are_escaped_on_every_page(app: FastAPI) -> None:
    alice = Browser(app, "alice")
    video_id = alice.create(f"{SCRIPT} boat")
    wait_completed(app, video_id)
    alice.post(f"/v/{video_id}/publish", published="1")
    for url in (f"/v/{video_id}", "/videos", "/feed"):
        html = alice.get(url).text
        assert SCRIPT not in html, url
        assert "&lt;script&gt;alert(&#34;pwned&#34;)&lt;/script&gt;" in html, url


def test_rejected_form_values_are_shown_with_what_would_work(app: FastAPI) -> None:
    alice = Browser(app, "alice")
    r = alice.post("/create", prompt="a boat", model="mutoscope-test", size="999x999")
    assert r.status_code == 400
    assert "size must be one of" in r.text and "a boat" in r.text


def test_media_answers_range_requests_for_seeking(app: FastAPI) -> None:
    alice = Browser(app, "alice")
    video_id = alice.create()
    wait_completed(app, video_id)
    r = alice.get(f"/media/{video_id}/video", headers={"Range": "bytes=0-99"})
    assert r.status_code == 206 and len(r.content) == 100
    assert r.headers["content-type"] == "video/mp4"


def test_remix_chain_shows_parents_and_children(app: FastAPI) -> None:
    alice = Browser(app, "alice")
    parent = alice.create("a red kite")
    wait_completed(app, parent)
    r = alice.post(f"/v/{parent}/remix", prompt="a blue kite")
    child = r.headers["location"].rsplit("/", 1)[1]
    wait_completed(app, child)
    child_page = alice.get(f"/v/{child}").text
    assert f'href="/v/{parent}"' in child_page and "a red kite" in child_page
    parent_page = alice.get(f"/v/{parent}").text
    assert f'href="/v/{child}"' in parent_page and "a blue kite" in parent_page


def test_others_see_only_the_published_part_of_a_chain(app: FastAPI) -> None:
    alice, bob = Browser(app, "alice"), Browser(app, "bob")
    parent = alice.create("a red kite")
    wait_completed(app, parent)
    alice.post(f"/v/{parent}/publish", published="1")
    child = bob.post(f"/v/{parent}/remix", prompt="bob's private kite").headers["location"]
    child = child.rsplit("/", 1)[1]
    wait_completed(app, child)
    assert "bob&#39;s private kite" not in alice.get(f"/v/{parent}").text
    assert "bob&#39;s private kite" in bob.get(f"/v/{parent}").text


def test_one_like_per_user_and_a_second_click_unlikes(app: FastAPI) -> None:
    alice, bob = Browser(app, "alice"), Browser(app, "bob")
    video_id = alice.create()
    wait_completed(app, video_id)
    alice.post(f"/v/{video_id}/publish", published="1")
    headers = {"x-csrf-token": bob.csrf}
    first = bob.client.post(f"/studio/videos/{video_id}/like", headers=headers).json()
    second = bob.client.post(f"/studio/videos/{video_id}/like", headers=headers).json()
    assert first == {"liked": True, "likes": 1} and second == {"liked": False, "likes": 0}
    bob.post(f"/v/{video_id}/like")
    alice.post(f"/v/{video_id}/like")
    assert 'aria-pressed="true"' in bob.get(f"/v/{video_id}").text
    assert '<span class="like-count">2</span>' in bob.get(f"/v/{video_id}").text


def test_feed_sorts_by_remixes_and_pages(app: FastAPI) -> None:
    alice = Browser(app, "alice")
    ids = [alice.create(f"clip {n}") for n in range(3)]
    for video_id in ids:
        wait_completed(app, video_id)
        alice.post(f"/v/{video_id}/publish", published="1")
    remix = alice.post(f"/v/{ids[0]}/remix", prompt="clip 0 again").headers["location"]
    remix = remix.rsplit("/", 1)[1]
    wait_completed(app, remix)
    alice.post(f"/v/{remix}/publish", published="1")
    remixed = alice.get("/feed?sort=remixed").text
    assert remixed.index(f'data-id="{ids[0]}"') < remixed.index(f'data-id="{ids[2]}"')
    gallery = app.state.studio.gallery
    first = gallery.feed(None, page=1, per_page=3)
    second = gallery.feed(None, page=2, per_page=3)
    assert first.has_more and not second.has_more
    assert {c.video.id for c in first.cards + second.cards} == {*ids, remix}


def test_api_keys_are_made_once_listed_and_revoked_from_settings(app: FastAPI) -> None:
    alice = Browser(app, "alice")
    page = alice.post("/settings/keys", name="laptop").text
    key = page.split('id="key-value" class="mono" readonly value="')[1].split('"')[0]
    assert key.startswith("mts_")
    assert alice.client.get("/v1/models", headers={"Authorization": f"Bearer {key}"}).is_success
    listing = alice.get("/settings").text
    assert "laptop" in listing and key not in listing
    key_id = listing.split('action="/settings/keys/')[1].split("/")[0]
    assert alice.post(f"/settings/keys/{key_id}/revoke").status_code == 303
    assert (
        alice.client.get("/v1/models", headers={"Authorization": f"Bearer {key}"}).status_code
        == 401
    )


def test_the_studio_cookie_does_not_authenticate_the_api(app: FastAPI) -> None:
    alice = Browser(app, "alice")
    alice.post("/settings/keys", name="laptop")  # from now on /v1 needs a key
    r = alice.client.post("/v1/videos", json={"prompt": "via cookie", "model": "mutoscope-test"})
    assert r.status_code == 401
    assert alice.client.get("/v1/videos").status_code == 401


def test_check_endpoint_screens_the_prompt_before_submitting(app: FastAPI) -> None:
    alice = Browser(app, "alice")
    headers = {"x-csrf-token": alice.csrf}
    ok = alice.client.post("/studio/check", json={"prompt": "a boat"}, headers=headers).json()
    assert ok == {"allowed": True, "attributions": []}
    empty = alice.client.post("/studio/check", json={"prompt": " "}, headers=headers).json()
    assert empty["allowed"] is None and "must not be empty" in empty["message"]


def test_pages_forbid_inline_scripts_and_framing(app: FastAPI) -> None:
    policy = Browser(app).get("/signin").headers["content-security-policy"]
    assert "script-src 'self'" in policy and "frame-ancestors 'none'" in policy


def test_cancel_removes_a_queued_or_running_video(app: FastAPI) -> None:
    alice = Browser(app, "alice")
    video_id = alice.create("short-lived")
    r = alice.post(f"/v/{video_id}/delete")
    assert r.status_code == 303 and r.headers["location"] == "/videos"
    assert alice.get(f"/v/{video_id}").status_code == 404
    assert video_id not in alice.get("/videos").text


def test_create_accepts_a_reference_image(app: FastAPI) -> None:
    import io

    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (32, 32), (200, 30, 30)).save(buf, format="PNG")
    alice = Browser(app, "alice")
    form = {"csrf": alice.csrf, "prompt": "from a red card", "model": "mutoscope-test"}
    r = alice.client.post(
        "/create",
        data={**form, "size": "256x256"},
        files={"image": ("red.png", buf.getvalue(), "image/png")},
        follow_redirects=False,
    )
    assert r.status_code == 303, r.text
    record = wait_completed(app, r.headers["location"].rsplit("/", 1)[1])
    assert record.input_reference == "reference.png"
    bad = alice.client.post(
        "/create",
        data={**form, "size": "256x256"},
        files={"image": ("notes.png", b"not an image", "image/png")},
    )
    assert bad.status_code == 415 and "could not be read" in bad.text


def test_feed_pages_load_as_fragments_for_infinite_scroll(app: FastAPI) -> None:
    alice = Browser(app, "alice")
    video_id = alice.create()
    wait_completed(app, video_id)
    alice.post(f"/v/{video_id}/publish", published="1")
    fragment = alice.get("/feed?page=1&partial=1").text
    assert fragment.lstrip().startswith('<article class="card"') and "<html" not in fragment
    assert alice.get("/feed?page=2&partial=1").text.strip() == ""
