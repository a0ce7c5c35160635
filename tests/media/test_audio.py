import numpy as np
import pytest

from mutoscope.media.audio import AudioTrack, join


def test_mono_samples_become_one_channel_float32() -> None:
    track = AudioTrack(np.zeros(480, dtype=np.float64), 48_000)
    assert track.samples.shape == (1, 480)
    assert track.samples.dtype == np.float32
    assert track.duration == pytest.approx(0.01)


def test_bad_shapes_and_rates_are_refused() -> None:
    with pytest.raises(ValueError, match="channels, n"):
        AudioTrack(np.zeros((1, 2, 3)), 48_000)
    with pytest.raises(ValueError, match="sample_rate"):
        AudioTrack(np.zeros((1, 3)), 0)


def test_resampling_keeps_duration_and_pitch() -> None:
    t = np.arange(16_000) / 16_000
    track = AudioTrack(np.sin(2 * np.pi * 440 * t)[None], 16_000).resampled(48_000)
    assert track.sample_rate == 48_000
    assert track.length == 48_000
    spectrum = np.abs(np.fft.rfft(track.samples[0]))
    assert abs(int(spectrum.argmax()) - 440) <= 1  # 1 Hz bins over one second


def test_fitted_pads_with_silence_and_trims_with_a_fade() -> None:
    track = AudioTrack(np.ones((2, 100)), 1000)
    longer = track.fitted(0.15)
    assert longer.length == 150 and longer.samples[:, 100:].max() == 0
    shorter = track.fitted(0.05)
    assert shorter.length == 50 and shorter.samples[0, -1] == 0 and shorter.samples[0, 0] == 1


def test_join_puts_silence_where_a_segment_has_no_sound() -> None:
    a = AudioTrack(np.ones((1, 48)), 48_000)
    joined = join([(a, 0.001), (None, 0.002), (a, 0.001)])
    assert joined is not None and joined.length == 192
    assert joined.samples[0, 60:130].max() == 0
    assert join([(None, 1.0)]) is None
