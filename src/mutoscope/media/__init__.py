"""Video files: encode, decode, thumbnails, spritesheets."""

from mutoscope.media.video import (
    VideoInfo,
    decode_mp4,
    encode_mp4,
    probe,
    resize_frames,
    spritesheet,
    thumbnail,
)

__all__ = [
    "VideoInfo",
    "decode_mp4",
    "encode_mp4",
    "probe",
    "resize_frames",
    "spritesheet",
    "thumbnail",
]
