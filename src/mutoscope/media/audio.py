"""Audio tracks that travel with generated frames: the type backends return, and the few
operations the pipeline needs (resample, fit to the video's length, join, mix down)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

MAX_CHANNELS = 8
"""More rows than this are taken for a (n, channels) array passed the wrong way round."""
AAC_RATE = 48_000
"""The sample rate every MP4 carries (AAC at 48 kHz, the rate browsers and editors expect)."""


def audio_requested(options: Mapping[str, object]) -> bool:
    """Whether a request wants sound: ``options["audio"]`` is true unless set to false
    (``--no-audio``, ``"audio": false`` in the API)."""
    value = options.get("audio", True)
    if isinstance(value, str):
        return value.strip().lower() not in ("false", "0", "no", "off")
    return bool(value)


@dataclass(frozen=True, eq=False)
class AudioTrack:
    """Float32 samples shaped (channels, n), nominally in [-1, 1], at ``sample_rate`` Hz.

    A 1-D array is taken as mono. Values outside [-1, 1] are clipped when encoded.
    """

    samples: np.ndarray
    sample_rate: int

    def __post_init__(self) -> None:
        samples = np.asarray(self.samples, dtype=np.float32)
        if samples.ndim == 1:
            samples = samples[None, :]
        if samples.ndim != 2 or samples.shape[0] < 1:
            raise ValueError(f"audio samples must be (channels, n), got {samples.shape}")
        if samples.shape[0] > MAX_CHANNELS and samples.shape[1] <= MAX_CHANNELS:
            raise ValueError(
                f"audio samples must be (channels, n), got {samples.shape}: transpose "
                "samples laid out as (n, channels)"
            )
        if int(self.sample_rate) <= 0:
            raise ValueError(f"sample_rate must be positive (got {self.sample_rate})")
        object.__setattr__(self, "samples", samples)
        object.__setattr__(self, "sample_rate", int(self.sample_rate))

    @property
    def channels(self) -> int:
        return int(self.samples.shape[0])

    @property
    def length(self) -> int:
        """Samples per channel."""
        return int(self.samples.shape[1])

    @property
    def duration(self) -> float:
        return self.length / self.sample_rate

    @classmethod
    def silence(
        cls, seconds: float, *, sample_rate: int = AAC_RATE, channels: int = 1
    ) -> AudioTrack:
        n = max(0, round(seconds * sample_rate))
        return cls(np.zeros((channels, n), dtype=np.float32), sample_rate)

    def resampled(self, rate: int) -> AudioTrack:
        """The same sound at ``rate`` Hz (FFmpeg's libswresample, band-limited, through PyAV;
        the length scales exactly)."""
        if rate == self.sample_rate:
            return self
        if self.length == 0:
            return AudioTrack(self.samples, rate)
        import av  # only here: this module is imported where PyAV is not needed

        channels = []
        for channel in self.samples:
            resampler = av.AudioResampler(format="fltp", layout="mono", rate=rate)
            frame = av.AudioFrame.from_ndarray(
                np.ascontiguousarray(channel[None, :]), format="fltp", layout="mono"
            )
            frame.sample_rate = self.sample_rate
            frames = [*resampler.resample(frame), *resampler.resample(None)]
            parts = [f.to_ndarray()[0] for f in frames]
            channels.append(np.concatenate(parts) if parts else np.zeros(0, np.float32))
        n = round(self.length * rate / self.sample_rate)
        out = np.zeros((len(channels), n), dtype=np.float32)
        for i, channel in enumerate(channels):
            out[i, : min(n, len(channel))] = channel[:n]
        return AudioTrack(out, rate)

    def with_channels(self, channels: int) -> AudioTrack:
        """Mix down to mono, or copy mono out to ``channels``."""
        if channels == self.channels:
            return self
        if channels == 1:
            return AudioTrack(self.samples.mean(axis=0, keepdims=True), self.sample_rate)
        if self.channels == 1:
            return AudioTrack(np.repeat(self.samples, channels, axis=0), self.sample_rate)
        raise ValueError(f"cannot map {self.channels} audio channels to {channels}")

    def fitted(self, seconds: float) -> AudioTrack:
        """Exactly ``seconds`` long: trailing silence added, or the tail cut (with a 5 ms
        fade so the cut does not click)."""
        n = max(0, round(seconds * self.sample_rate))
        if n == self.length:
            return self
        if n > self.length:
            pad = np.zeros((self.channels, n - self.length), dtype=np.float32)
            return AudioTrack(np.concatenate([self.samples, pad], axis=1), self.sample_rate)
        out = self.samples[:, :n].copy()
        fade = min(n, self.sample_rate // 200)
        if fade:
            out[:, n - fade :] *= np.linspace(1.0, 0.0, fade, dtype=np.float32)
        return AudioTrack(out, self.sample_rate)

    def then(self, other: AudioTrack) -> AudioTrack:
        """This track followed by ``other`` (at this track's rate and the wider channel count)."""
        channels = max(self.channels, other.channels)
        first = self.with_channels(channels)
        second = other.resampled(self.sample_rate).with_channels(channels)
        return AudioTrack(np.concatenate([first.samples, second.samples], axis=1), self.sample_rate)


def join(parts: list[tuple[AudioTrack | None, float]]) -> AudioTrack | None:
    """Concatenate (track, seconds) segments, silence standing in for a segment without sound
    and each segment fitted to its ``seconds``; ``None`` when no segment has sound."""
    present = [t for t, _ in parts if t is not None]
    if not present:
        return None
    rate, channels = present[0].sample_rate, max(t.channels for t in present)
    out = AudioTrack.silence(0, sample_rate=rate, channels=channels)
    for track, seconds in parts:
        piece = track or AudioTrack.silence(seconds, sample_rate=rate, channels=channels)
        out = out.then(piece.resampled(rate).fitted(seconds))
    return out
