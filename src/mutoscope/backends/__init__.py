"""Video backends: the interface, the registry and one module per model family."""

from mutoscope.backends.base import (
    GeneratedVideo,
    GenerationRequest,
    ProgressCallback,
    VideoBackend,
)
from mutoscope.backends.registry import BackendRegistry, load_backends

__all__ = [
    "BackendRegistry",
    "GeneratedVideo",
    "GenerationRequest",
    "ProgressCallback",
    "VideoBackend",
    "load_backends",
]
