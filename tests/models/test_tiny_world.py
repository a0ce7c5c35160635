"""The shapes world: deterministic, held-out combinations kept out of training, captions vary."""

from __future__ import annotations

import random

import numpy as np

from mutoscope.models.tiny import world


def test_same_seed_renders_the_same_clip_and_caption() -> None:
    a_scene, a_caption, a_clip = world.sample_clip(42)
    b_scene, b_caption, b_clip = world.sample_clip(42)
    assert a_scene == b_scene and a_caption == b_caption
    assert np.array_equal(a_clip, b_clip)
    assert a_clip.shape == (world.FRAMES, world.RES, world.RES, 3) and a_clip.dtype == np.uint8


def test_different_seeds_give_different_clips() -> None:
    assert not np.array_equal(world.sample_clip(1)[2], world.sample_clip(2)[2])


def test_vocabulary_covers_the_required_attributes() -> None:
    for color in ("red", "orange", "yellow", "green", "blue", "purple", "white", "black"):
        assert color in world.COLORS
    assert {"circle", "square", "triangle"} <= set(world.SHAPES) and len(world.SHAPES) >= 5
    assert set(world.DIRECTIONS) <= set(world.MOTIONS) and len(world.MOTIONS) >= 10


def test_at_least_ten_percent_of_combinations_are_held_out_of_training() -> None:
    total = len(world.COLORS) * len(world.SHAPES) * len(world.MOTIONS)
    assert len(world.heldout_combinations()) >= 0.1 * total
    rng = random.Random(0)
    for _ in range(300):
        scene = world.sample_scene(rng, "train")
        assert not any(world.is_heldout(o) for o in scene.objects)
    scene = world.sample_scene(rng, "heldout")
    assert any(world.is_heldout(o) for o in scene.objects)


def test_captions_paraphrase_the_same_scene() -> None:
    scene = world.sample_scene(random.Random(3), "train", n_objects=1)
    captions = {world.caption(scene, random.Random(s)) for s in range(40)}
    assert len(captions) > 10


def test_moving_object_starts_opposite_its_direction() -> None:
    obj = world.ObjectSpec("red", "circle", "left")
    track = world.object_track(obj, 0, 1, (0.0, 0.0, 0.0), world.FRAMES)
    assert track[0, 0] > world.RES / 2 + 10 and track[-1, 0] < world.RES / 2 - 10
    assert np.all(np.diff(track[:, 0]) < 0)


def test_two_object_clips_put_the_first_object_on_the_left() -> None:
    scene = world.Scene(
        (world.ObjectSpec("red", "square", "up"), world.ObjectSpec("blue", "circle", "down")),
        "white",
    )
    clip = world.render(scene)
    red = np.all(clip[0] == world.COLORS["red"], axis=-1)
    blue = np.all(clip[0] == world.COLORS["blue"], axis=-1)
    assert np.nonzero(red)[1].mean() < world.RES / 2 < np.nonzero(blue)[1].mean()
