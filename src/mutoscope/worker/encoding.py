"""Encoding a clip while its later frames are still being watermarked.

The watermark marks a clip a run of frames at a time and the H.264 encoder takes frames in
order, so the two need not wait for each other: :class:`MarkedEncoder` codes each run in its
own thread as soon as the watermark hands it over (PyAV releases the interpreter while x264
works). On the embedded model's 4-s 720p clip this took the mark-then-encode-then-pictures
stretch from 1.41 to 1.10 s wall (median of 6, load 7 on 2 cores) for the same CPU time, and
the file is the one ``encode_mp4`` writes from the marked clip, with the same settings (usually
byte for byte; once, on a loaded machine, x264 coded a frame a few bytes differently).
"""

from __future__ import annotations

import queue
import threading
from pathlib import Path

import numpy as np

from mutoscope.media import AudioTrack, MP4Writer


class MarkedEncoder:
    """Writes ``path`` (as ``encode_mp4`` would) from runs of frames handed to :meth:`write`.

    Call :meth:`finish` once every frame was written (it re-raises the encoder's error, if
    any), or :meth:`abandon` to stop early; both wait for the thread.
    """

    def __init__(self, path: Path, *, fps: float, audio: AudioTrack | None = None) -> None:
        self.path = path
        self.count = 0
        """Frames handed over so far."""
        self._runs: queue.SimpleQueue[np.ndarray | None] = queue.SimpleQueue()
        self._error: BaseException | None = None
        self._abandoned = False
        self._thread = threading.Thread(
            target=self._encode, args=(fps, audio), name="mutoscope-encode", daemon=True
        )
        self._thread.start()

    def write(self, frames: np.ndarray) -> None:
        """Queue the next run of (T, H, W, 3) uint8 frames; they must not change from now on."""
        self.count += len(frames)
        self._runs.put(frames)

    def finish(self) -> None:
        """Wait until the file is written; raises what the encoder raised."""
        self._runs.put(None)
        self._thread.join()
        if self._error is not None:
            raise self._error

    def abandon(self) -> None:
        """Stop without finishing the file (the job failed or is retried from scratch)."""
        self._abandoned = True
        self._runs.put(None)
        self._thread.join()

    def _encode(self, fps: float, audio: AudioTrack | None) -> None:
        ended = False
        try:
            with MP4Writer(self.path, fps=fps, audio=audio) as writer:
                while (run := self._runs.get()) is not None:
                    if not self._abandoned:
                        writer.write(run)
                ended = True
                if self._abandoned:
                    raise _Abandoned
        except _Abandoned:
            pass
        except BaseException as exc:  # handed to finish()
            self._error = exc
            while not ended and self._runs.get() is not None:  # drain until the end
                pass


class _Abandoned(Exception):
    """Leaves the writer without its trailer (the file is discarded)."""
