"""Settings, read once from the environment (``MUTOSCOPE_`` prefix) and passed down."""

from __future__ import annotations

from functools import cached_property
from pathlib import Path

from platformdirs import user_data_dir
from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_ALIASES = ("sora-2", "sora-2-pro")
"""OpenAI model names that fall back to the default model unless something else claims them."""


class Settings(BaseSettings):
    """Everything an operator can configure. Build it once (``Settings()``) and pass it down."""

    model_config = SettingsConfigDict(env_prefix="MUTOSCOPE_", extra="ignore")

    home: Path = Field(default_factory=lambda: Path(user_data_dir("mutoscope", appauthor=False)))
    database_url: str | None = None
    """SQLAlchemy URL; defaults to SQLite at ``home/mutoscope.db``."""

    default_model: str = "mutoscope-tiny"
    model_aliases: dict[str, str] = Field(default_factory=dict)
    """OpenAI model names mapped onto installed backends, so unmodified clients work.

    These win over aliases that installed models declare (``models.toml``), which win over the
    built-in ``DEFAULT_ALIASES`` (``sora-2``/``sora-2-pro`` -> the default model)."""

    strict_prompts: list[str] = Field(default_factory=list)
    """Models that refuse (400) a prompt they cannot draw instead of making a clip with a
    warning, e.g. ``MUTOSCOPE_STRICT_PROMPTS='["mutoscope-tiny"]'``. Only models that know their
    vocabulary (the embedded ``mutoscope-tiny``) can tell."""

    models_file: Path | None = None
    """Installed diffusers models (TOML); defaults to ``home/models.toml``."""

    workers: int = 1
    """Jobs generated at once inside the server process."""
    max_attempts: int = 3
    retry_base_delay: float = 1.0
    """Seconds before the first retry of a crashed job (doubling after each attempt)."""
    lease_seconds: float = 15.0
    poll_after_ms: int = 1000
    video_ttl_seconds: int | None = None
    """Videos expire (``expires_at``) this long after completion; ``None`` keeps them."""

    max_upload_bytes: int = 20 * 1024 * 1024
    enable_test_backend: bool = False
    """Register the deterministic ``mutoscope-test`` backend (tests and benchmarks only)."""

    secret_key: str | None = None
    """Signs studio sessions; generated under ``home`` when unset."""

    # Provenance
    signing_cert: Path | None = None
    signing_key: Path | None = None
    timestamp_url: str | None = None
    watermark: bool = True
    visible_watermark_text: str = "Made with Mutoscope"

    # Rights
    rights_file: Path | None = None
    """A registry YAML imported at start-up (optional)."""

    @cached_property
    def db_url(self) -> str:
        return self.database_url or f"sqlite:///{self.home / 'mutoscope.db'}"

    @property
    def media_dir(self) -> Path:
        return self.home / "media"

    @property
    def keys_dir(self) -> Path:
        return self.home / "keys"

    @property
    def models_path(self) -> Path:
        return self.models_file or self.home / "models.toml"

    def resolve_model(self, name: str | None) -> str:
        """Apply the operator's explicit aliases; ``None`` means the default model."""
        name = name or self.default_model
        return self.model_aliases.get(name, name)

    def ensure_dirs(self) -> None:
        for path in (self.home, self.media_dir, self.keys_dir):
            path.mkdir(parents=True, exist_ok=True)
