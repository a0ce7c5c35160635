"""The studio with two people's characters of one name, with the real rights layer: the
create page's rights preview and its submission read a ticked character's name as that
character, not as the other person's namesake."""

from __future__ import annotations

import pytest
from fastapi import FastAPI

from mutoscope.characters.service import CharacterService
from mutoscope.users import UserService
from tests.characters.clips import character_clip
from tests.studio.conftest import Browser
from tests.studio.test_rights_portal import rights_app  # noqa: F401  (the fixture)

pytest.importorskip("mutoscope.rights.service", reason="the rights layer is not installed")


def test_a_ticked_character_is_what_its_name_means_on_the_create_page(
    rights_app: FastAPI,  # noqa: F811
) -> None:
    services = rights_app.state.services
    Browser(rights_app, "root")  # the first sign-up is the admin, who sees every character
    ada = Browser(rights_app, "ada")
    Browser(rights_app, "bob")
    cat = Browser(rights_app, "cat")
    users = UserService(services.sessions)
    chars = CharacterService(services)
    clip = character_clip("red", "circle")
    mine = chars.create(users.by_name("ada"), "Zorp", clip)  # type: ignore[arg-type]
    chars.create(users.by_name("bob"), "Zorp", clip)  # type: ignore[arg-type]
    headers = {"x-csrf-token": ada.csrf}
    prompt = "Zorp moving up on a blue background"

    def preview(characters: list[str]) -> dict:  # type: ignore[type-arg]
        body = {"prompt": prompt, "model": "mutoscope-test", "characters": characters}
        return ada.client.post("/studio/check", json=body, headers=headers).json()

    unticked = preview([])
    assert unticked["allowed"] is False and "and 1 private character" in unticked["message"]
    assert "@bob" not in unticked["message"]  # bob's Zorp is his alone: not named
    # A third person is refused too, and learns neither whose they are nor their ids.
    body = {"prompt": prompt, "model": "mutoscope-test", "characters": []}
    theirs = cat.client.post("/studio/check", json=body, headers={"x-csrf-token": cat.csrf})
    message = theirs.json()["message"]
    assert theirs.json()["allowed"] is False and "2 private characters" in message
    assert "@ada" not in message and "@bob" not in message and mine.id not in message
    assert preview([mine.id])["allowed"] is True
    # Submitting with it ticked makes the video.
    made = ada.post(
        "/create",
        prompt=prompt,
        model="mutoscope-test",
        size="256x256",
        seconds="4",
        characters=mine.id,
    )
    assert made.status_code == 303, made.text


def test_a_characters_owner_label_names_a_handle_that_is_the_owners_own(
    rights_app: FastAPI,  # noqa: F811
) -> None:
    from mutoscope.studio.social import ensure_profiles

    services = rights_app.state.services
    Browser(rights_app, "root")  # the first sign-up (the admin)
    Browser(rights_app, "amy")
    users = UserService(services.sessions)
    amy_id = users.by_name("amy").id  # type: ignore[union-attr]
    with services.sessions.begin() as s:  # amy takes the handle @zed
        profile = ensure_profiles(s, [amy_id])[amy_id]
        profile.handle, profile.handle_key = "zed", "zed"
    # A user named zed who has no profile yet (an API-key user) makes a person character.
    zed = users.get_or_create("zed")
    made = CharacterService(services).create(zed, "Quux Zed", character_clip("red", "circle"))
    owner = services.rights.get_entity(made.id).owner
    assert owner != "@zed" and "@zed2" in owner  # never amy's handle
