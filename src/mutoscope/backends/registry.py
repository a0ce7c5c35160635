"""Finds backends through the ``mutoscope.backends`` entry-point group.

Each entry point names a function ``register_backends(register, settings)`` which calls
``register(backend)`` for every backend it provides, like simonw/llm's ``register_models``.
Built-in backends load through the same hook as third-party plugins.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from importlib.metadata import entry_points
from typing import TYPE_CHECKING

from mutoscope.backends.base import VideoBackend
from mutoscope.config import DEFAULT_ALIASES
from mutoscope.errors import InvalidRequest

if TYPE_CHECKING:
    from mutoscope.config import Settings

log = logging.getLogger(__name__)

Register = Callable[[VideoBackend], None]
RegisterHook = Callable[[Register, "Settings"], None]


class BackendRegistry:
    """Installed backends by name, plus OpenAI-style aliases."""

    def __init__(self, settings: Settings):
        self.settings = settings
        self._backends: dict[str, VideoBackend] = {}
        self._aliases: dict[str, str] = {}

    def register(self, backend: VideoBackend) -> None:
        if not backend.name:
            raise ValueError(f"{type(backend).__name__} has no name")
        self._backends[backend.name] = backend
        for alias in backend.aliases:
            self._aliases.setdefault(alias, backend.name)

    def __iter__(self) -> Iterator[VideoBackend]:
        return iter(self._backends.values())

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and self.resolve_name(name) in self._backends

    def resolve_name(self, name: str | None) -> str:
        """Explicit settings aliases, then aliases models declare, then the built-in defaults."""
        name = self.settings.resolve_model(name)
        if name in self._aliases:
            return self._aliases[name]
        if name in DEFAULT_ALIASES and name not in self._backends:
            return self.settings.default_model
        return name

    def get(self, name: str | None) -> VideoBackend:
        """The backend for a model name or alias; raises ``InvalidRequest`` listing choices."""
        resolved = self.resolve_name(name)
        backend = self._backends.get(resolved)
        if backend is None:
            choices = sorted({*self._backends, *self.aliases()})
            raise InvalidRequest(
                f"model '{name}' is not installed; available models: {', '.join(choices)}",
                param="model",
            )
        return backend

    def aliases(self) -> dict[str, str]:
        """Every alias that resolves to an installed backend."""
        defaults = {a: self.settings.default_model for a in DEFAULT_ALIASES}
        merged = {**defaults, **self._aliases, **self.settings.model_aliases}
        return {
            a: self.resolve_name(t)
            for a, t in merged.items()
            if self.resolve_name(t) in self._backends
        }

    def forget(self, name: str, provenance: object) -> None:
        """A video backend ``name`` made is deleted or expired: let it drop what it keeps
        elsewhere (an engine's copy), given the video's ``provenance["engine"]``."""
        backend = self._backends.get(name)
        if backend is not None and isinstance(provenance, dict):
            backend.forget(provenance)

    def close(self) -> None:
        for backend in self._backends.values():
            backend.close()


def load_backends(settings: Settings, hooks: list[RegisterHook] | None = None) -> BackendRegistry:
    """Build a registry from the installed entry points (or from ``hooks``, for tests)."""
    registry = BackendRegistry(settings)
    if hooks is None:
        hooks = []
        for ep in entry_points(group="mutoscope.backends"):
            try:
                hooks.append(ep.load())
            except Exception:  # a broken plugin must not take the server down
                log.exception("could not load backend plugin %s", ep.name)
    for hook in hooks:
        hook(registry.register, settings)
    return registry
