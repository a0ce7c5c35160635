"""Video files: encode, decode, thumbnails, spritesheets; the audio they carry."""

from mutoscope.media.audio import AudioTrack
from mutoscope.media.video import (
    AudioInfo,
    MP4Writer,
    VideoInfo,
    count_frames,
    decode_mp4,
    decode_sampled,
    decode_tail,
    encode_mp4,
    iter_mp4,
    probe,
    probe_header,
    read_audio,
    resize_frames,
    spritesheet,
    thumbnail,
)

__all__ = [
    "AudioInfo",
    "AudioTrack",
    "MP4Writer",
    "VideoInfo",
    "count_frames",
    "decode_mp4",
    "decode_sampled",
    "decode_tail",
    "encode_mp4",
    "iter_mp4",
    "probe",
    "probe_header",
    "read_audio",
    "resize_frames",
    "spritesheet",
    "thumbnail",
]
