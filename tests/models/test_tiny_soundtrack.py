"""The embedded model's soundtrack follows what is drawn: pitch with height, a knock on each
landing, a tick at the frame's edge, silence where nothing moves."""

from __future__ import annotations

import numpy as np
import pytest

from mutoscope.models.tiny import world
from mutoscope.models.tiny.soundtrack import BASE_NOTES, follow, soundtrack

RATE = 48_000
FPS = 24.0


def clip(*objects: tuple[str, str, str], background: str = "blue") -> np.ndarray:
    specs = tuple(world.ObjectSpec(c, s, m) for c, s, m in objects)
    return world.render(world.Scene(specs, background))


def sound(keyframes: np.ndarray, frames: int = 96) -> np.ndarray:
    positions = np.linspace(0, len(keyframes) - 1, frames)
    track = soundtrack(keyframes, positions, FPS)
    assert track.sample_rate == RATE and track.channels == 1
    assert track.length == round(frames / FPS * RATE)
    return track.samples[0]


def onsets(samples: np.ndarray) -> list[float]:
    """Seconds where a click starts: bursts of high-frequency energy (the tones are smooth)."""
    edge = np.abs(np.diff(samples, 2))
    window = RATE // 200  # 5 ms
    energy = edge[: len(edge) // window * window].reshape(-1, window).max(axis=1)
    loud = energy > 10 * np.median(energy) + 1e-4
    times: list[float] = []
    for start in np.nonzero(loud)[0] * window / RATE:
        if not times or start - times[-1] > 0.1:  # one click rings for ~60 ms
            times.append(float(start))
    return times


def pitch(samples: np.ndarray, start: float, seconds: float = 0.25) -> float:
    part = samples[round(start * RATE) : round((start + seconds) * RATE)]
    return float(np.abs(np.fft.rfft(part)).argmax() / seconds)


def test_a_bounce_knocks_on_the_frames_where_the_ball_lands() -> None:
    keyframes = clip(("red", "circle", "bounce"))
    y = follow(keyframes)[0].y
    # the ball reaches the floor at keyframe 7 and again at the last keyframe
    assert y[7] > y[6] + 5 and y[9] < y[8] - 5
    landing = np.nonzero(np.linspace(0, 15, 96) >= 7)[0][0] / FPS
    times = onsets(sound(keyframes))
    assert len(times) == 2
    assert abs(times[0] - landing) <= 1 / FPS
    assert abs(times[1] - 95 / FPS) <= 1 / FPS


def test_pitch_rises_with_the_object() -> None:
    samples = sound(clip(("white", "square", "up")))
    low, high = pitch(samples, 0.1), pitch(samples, 3.6)
    assert high > low * 1.5
    assert onsets(samples) == []  # it never lands nor reaches the top edge


def test_reaching_the_side_of_the_frame_ticks_at_the_end() -> None:
    times = onsets(sound(clip(("yellow", "diamond", "right"))))
    assert len(times) == 1 and times[0] >= 95 / FPS - 1 / FPS


def test_each_object_hums_its_own_note() -> None:
    samples = sound(clip(("red", "circle", "grow"), ("white", "cross", "grow")))
    # (from 0.5 s to 1.5 s: later they grow into each other and hum as one blob)
    spectrum = np.abs(np.fft.rfft(samples[RATE // 2 : RATE + RATE // 2]))  # 1 Hz bins
    first = BASE_NOTES[0] * 2 ** (1.5 * 0.5)  # both sit mid-frame
    second = BASE_NOTES[1] * 2 ** (1.5 * 0.5)
    split = round((first + second) / 2)
    assert int(spectrum[100:split].argmax()) + 100 == pytest.approx(first, abs=3)
    assert int(spectrum[split:1000].argmax()) + split == pytest.approx(second, abs=3)


def test_an_empty_backdrop_is_silent() -> None:
    keyframes = np.stack([world.background("green", True)] * world.FRAMES)
    assert not sound(keyframes).any()


def test_extension_positions_start_where_the_clip_left_off() -> None:
    # a continuation's frames cover keyframes 1..15 only; the sound follows those positions
    keyframes = clip(("red", "circle", "bounce"))
    positions = 1 + np.linspace(0, 14, 97)[1:]
    track = soundtrack(keyframes, positions, FPS)
    assert track.length == round(96 / FPS * RATE)
    landing = np.nonzero(positions >= 7)[0][0] / FPS
    assert abs(onsets(track.samples[0])[0] - landing) <= 1 / FPS
