"""Mutoscope: an open, self-hostable AI video platform."""

from typing import Any

__all__ = ["__version__"]


def __getattr__(name: str) -> Any:
    # Looked up on first use: importlib.metadata costs ~0.1 s, too much for `mutoscope --help`.
    if name == "__version__":
        from importlib.metadata import PackageNotFoundError, version

        try:
            value = version("mutoscope")
        except PackageNotFoundError:  # running from a source tree without install
            value = "0.0.0"
        globals()["__version__"] = value
        return value
    raise AttributeError(f"module 'mutoscope' has no attribute {name!r}")
