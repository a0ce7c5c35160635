import av
import numpy as np
import pytest

from mutoscope.media import MP4Writer, encode_mp4, probe, read_audio
from mutoscope.media.audio import AudioTrack, audio_requested, join


def test_mono_samples_become_one_channel_float32() -> None:
    track = AudioTrack(np.zeros(480, dtype=np.float64), 48_000)
    assert track.samples.shape == (1, 480)
    assert track.samples.dtype == np.float32
    assert track.duration == pytest.approx(0.01)


def test_bad_shapes_and_rates_are_refused() -> None:
    with pytest.raises(ValueError, match="channels, n"):
        AudioTrack(np.zeros((1, 2, 3)), 48_000)
    with pytest.raises(ValueError, match="transpose"):
        AudioTrack(np.zeros((48_000, 2)), 48_000)
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


def test_audio_is_on_unless_a_request_turns_it_off() -> None:
    assert audio_requested({}) and audio_requested({"audio": True})
    assert audio_requested({"audio": "true"})
    assert not audio_requested({"audio": False}) and not audio_requested({"audio": "false"})


# -- in the MP4 --------------------------------------------------------------------------------

FRAME = 1 / 24


def tone(freq: float, seconds: float, rate: int, channels: int = 1) -> AudioTrack:
    t = np.arange(round(seconds * rate)) / rate
    return AudioTrack(np.repeat(0.3 * np.sin(2 * np.pi * freq * t)[None], channels, 0), rate)


def peak_hz(samples: np.ndarray, rate: int) -> float:
    return float(np.abs(np.fft.rfft(samples)).argmax() * rate / len(samples))


@pytest.mark.parametrize(("seconds", "channels"), [(3.2, 1), (4.0, 2), (5.5, 1)])
def test_mp4_carries_aac_at_48k_ending_with_the_last_frame(
    tmp_path, seconds: float, channels: int
) -> None:
    frames = np.full((96, 64, 96, 3), 90, np.uint8)
    path = tmp_path / "clip.mp4"
    encode_mp4(frames, path, audio=tone(440, seconds, 16_000, channels))

    info = probe(path)
    assert info.audio is not None and info.audio.codec == "aac"
    assert info.audio.sample_rate == 48_000 and info.audio.channels == channels
    assert abs(info.audio.duration - info.duration) <= FRAME
    track = read_audio(path)
    assert track is not None and abs(track.duration - 4.0) <= FRAME
    assert abs(peak_hz(track.samples[0, 48_000:96_000], 48_000) - 440) <= 1
    if seconds < 4:  # padded with silence, not stretched
        assert np.abs(track.samples[:, round(3.3 * 48_000) :]).max() < 0.01


def test_chunked_writer_interleaves_audio_with_the_frames(tmp_path) -> None:
    path = tmp_path / "chunks.mp4"
    with MP4Writer(path, fps=24, audio=tone(300, 4.0, 48_000)) as writer:
        for start in range(0, 96, 24):
            writer.write(np.full((24, 32, 32, 3), start, np.uint8))
    with av.open(str(path)) as container:
        kinds = [p.stream.type for p in container.demux() if p.size]
    first_audio = kinds.index("audio")
    assert first_audio < kinds.index("video") + 30  # sound is not all at the end
    assert probe(path).audio is not None


def test_silent_clip_has_no_audio_stream(tmp_path) -> None:
    path = tmp_path / "silent.mp4"
    encode_mp4(np.zeros((24, 32, 32, 3), np.uint8), path)
    assert probe(path).audio is None and read_audio(path) is None
