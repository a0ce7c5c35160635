"""Video files: encode, decode, thumbnails, spritesheets."""

from mutoscope.media.video import (
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
    resize_frames,
    spritesheet,
    thumbnail,
)

__all__ = [
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
    "resize_frames",
    "spritesheet",
    "thumbnail",
]
