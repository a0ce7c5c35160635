"""Settings, read once from the environment (``MUTOSCOPE_`` prefix) and passed down."""

from __future__ import annotations

from functools import cached_property
from pathlib import Path
from typing import Literal

from platformdirs import user_data_dir
from pydantic import Field, SecretStr
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
    crash_backoff_seconds: float = 5.0
    """After a worker dies, its job waits this long past the lease before another worker takes
    it, doubling with each attempt (5 s, 10 s, 20 s, ... up to 64x), so a job that crashes its
    worker does not take down the next one at once."""
    poll_after_ms: int = 1000
    video_ttl_seconds: int | None = None
    """Videos expire (``expires_at``) this long after completion; ``None`` keeps them. From
    then on downloads answer 410 ``video_expired`` and the retention sweep deletes the files."""
    retention_sweep_seconds: float = 60.0
    """How often each worker process deletes the files of expired videos."""
    file_ttl_seconds: int = Field(default=7 * 24 * 3600, ge=0)
    """Uploads to /v1/files expire this long after upload (0 keeps them): then they answer
    404 ``file_expired`` and the retention sweep deletes them. Videos keep their own copy."""

    storage_url: str | None = None
    """Where media lives: unset keeps it under ``home/media``; ``s3://bucket/prefix`` uses any
    S3-compatible store (``AWS_ENDPOINT_URL``, ``AWS_ACCESS_KEY_ID``, ... as boto3 reads them)."""
    storage_redirect: bool = False
    """Downloads from an S3 store answer with a redirect to a presigned URL instead of
    streaming through the API process."""
    storage_presign_seconds: int = 300

    max_upload_bytes: int = 20 * 1024 * 1024
    """Largest request body (counted as read, chunked bodies too) on every route but verify."""
    verify_max_bytes: int = 512 * 1024 * 1024
    """Largest file ``POST /v1/provenance/verify`` accepts (spooled to disk, never in RAM)."""
    verify_concurrency: int = 2
    """Verifications run at once; further ones wait up to a minute, then get a 429."""
    max_image_pixels: int = 40_000_000
    """Reference images with more pixels are refused before decoding (decompression bombs)."""
    fetch_allow_private: bool = False
    """Let URL inputs reach private and loopback addresses (on-premises use). Link-local
    (cloud metadata), multicast and reserved addresses stay refused."""
    fetch_timeout_seconds: float = 10.0
    """Whole-request deadline for fetching a URL input (connect, redirects, body)."""
    max_total_seconds: float = 60.0
    """Longest video an extension chain may reach (parent plus the new seconds)."""
    retry_max_seconds: float = 600.0
    """How long transient faults (full disk, storage 5xx, engine down) are retried."""
    max_characters_per_video: int = Field(default=2, ge=1, le=16)
    """How many characters (``characters`` and ``@handle`` mentions) one video may use."""
    enable_test_backend: bool = False
    """Register the deterministic ``mutoscope-test`` backend (tests and benchmarks only)."""

    secret_key: str | None = None
    """Signs studio sessions; generated under ``home`` when unset."""
    allowed_hosts: list[str] = Field(default_factory=list)
    """``Host`` names the server answers (``*.example.com`` allowed); empty: any. Keyless
    loopback mode always answers only 127.0.0.1, localhost and ::1 (DNS rebinding)."""

    # Rate limits (``limits`` notation: "10/minute", "30 per 5 minutes")
    rate_limits: bool = True
    rate_limit_storage: Literal["auto", "memory", "database"] = "auto"
    """Where counters live: ``memory`` (one process), ``database`` (shared by every process
    of the install), ``auto`` = database on PostgreSQL, memory on SQLite."""
    rate_limit_signin_account: str = "10/5minutes"
    """Failed studio sign-ins per account name (then even the right password waits)."""
    rate_limit_signin_ip: str = "30/5minutes"
    """Failed studio sign-ins per client address."""
    rate_limit_signup_ip: str = "20/hour"
    rate_limit_videos: str = "120/minute"
    """Videos created (create, remix, extend) per API key, studio session or keyless address."""
    rate_limit_verify_ip: str = "30/minute"

    # Audit log (rights decisions): keys and checkpoints live outside the database
    audit_key_file: Path | None = None
    """HMAC key that chains audit rows; defaults to ``home/keys/audit_mac_key``."""
    audit_signing_key_file: Path | None = None
    """Ed25519 key that signs audit checkpoints; defaults to ``home/keys/audit_ed25519.pem``."""
    audit_checkpoint_dir: Path | None = None
    """Where the signed head and checkpoints are written; defaults to ``home/audit``."""
    audit_checkpoint_every: int = 100

    # Provenance
    signing_cert: Path | None = None
    signing_key: Path | None = None
    signing_cert_pem: SecretStr | None = None
    """The PEM chain itself (e.g. from a secret store), instead of ``signing_cert``."""
    signing_key_pem: SecretStr | None = None
    """The PEM private key itself, instead of ``signing_key``."""
    trust_anchors_file: Path | None = None
    """Extra PEM root certificates that verify trusts (e.g. the operator's root when the
    signing chain is configured without it)."""
    timestamp_url: str | None = None
    watermark: bool = True
    visible_watermark_text: str = "Made with Mutoscope"

    # Rights
    rights_file: Path | None = None
    """A registry YAML imported at start-up (optional)."""
    rights_starter: bool = True
    """Screen against the starter registry packaged with Mutoscope (loaded into the database
    at start-up, upgraded when the package's copy changes). ``false`` turns it off."""
    rights_starter_file: Path | None = None
    """Load the starter registry from this YAML instead of the packaged one (tests, forks)."""

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
