"""Domain errors. Raised in the domain, translated to HTTP (OpenAI error shape) in one place."""

from __future__ import annotations


class MutoscopeError(Exception):
    """Base class. ``status``/``type``/``code`` say how the API reports it."""

    status = 400
    type = "invalid_request_error"
    code: str | None = None

    def __init__(self, message: str, *, param: str | None = None, code: str | None = None):
        super().__init__(message)
        self.message = message
        self.param = param
        if code is not None:
            self.code = code


class InvalidRequest(MutoscopeError):
    """A request value is wrong; the message says what would work."""

    code = "invalid_value"


class Unauthorized(MutoscopeError):
    status = 401
    type = "authentication_error"
    code = "invalid_api_key"


class Forbidden(MutoscopeError):
    status = 403
    type = "permission_error"
    code = "forbidden"


class NotFound(MutoscopeError):
    status = 404
    code = "not_found"


class VideoNotFound(NotFound):
    def __init__(self, video_id: str):
        super().__init__(f"No video found with id '{video_id}'.", param="video_id")


class Gone(MutoscopeError):
    status = 410
    code = "gone"


class VideoExpired(Gone):
    """The video's retention (``expires_at``) passed: its files are deleted or about to be."""

    code = "video_expired"

    def __init__(self, video_id: str, expires_at: int):
        from datetime import UTC, datetime

        when = datetime.fromtimestamp(expires_at, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
        super().__init__(
            f"video '{video_id}' expired at {when} (expires_at {expires_at}): this server keeps "
            "videos for a limited time after they complete, and its files were deleted. "
            "Download videos before their expires_at, or generate it again.",
            param="video_id",
        )


class PayloadTooLarge(MutoscopeError):
    status = 413
    code = "file_too_large"


class UnsupportedMediaType(MutoscopeError):
    status = 415
    code = "unsupported_media_type"


class Conflict(MutoscopeError):
    status = 409
    code = "conflict"


class RateLimited(MutoscopeError):
    """Too many attempts in a window; ``retry_after`` seconds until the next one counts."""

    status = 429
    type = "requests"
    code = "rate_limit_exceeded"

    def __init__(self, message: str, *, retry_after: int):
        super().__init__(message)
        self.retry_after = retry_after
        self.headers = {"Retry-After": str(retry_after)}


class PromptRejected(MutoscopeError):
    """The rights layer refused a prompt or reference before it was queued."""

    code = "moderation_blocked"

    def __init__(self, message: str, *, param: str | None = "prompt", decision: object = None):
        super().__init__(message, param=param)
        self.decision = decision


class OutputBlocked(MutoscopeError):
    """A generated output matched a protected reference; the job fails with this code."""

    code = "moderation_blocked"

    def __init__(self, message: str, *, evidence: object = None):
        super().__init__(message)
        self.evidence = evidence


class CharacterRevoked(MutoscopeError):
    """A character the video uses was revoked (or its use no longer allowed) by its owner."""

    status = 403
    type = "permission_error"
    code = "character_revoked"


class JobCancelled(Exception):
    """Raised from a progress callback to stop a backend at its next step."""


class GenerationFailed(MutoscopeError):
    """A backend failed for a reason the user should see (``error.code`` on the video)."""

    status = 500
    type = "server_error"
    code = "generation_failed"
