"""Bounded retry with exponential back-off for jobs whose worker crashed or hit a fault."""

from __future__ import annotations

from dataclasses import dataclass

from mutoscope.errors import JobCancelled, MutoscopeError


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 3
    base_delay: float = 1.0
    factor: float = 2.0
    max_delay: float = 60.0

    def delay(self, attempt: int) -> float:
        """Seconds to wait before attempt ``attempt + 1``."""
        return min(self.max_delay, self.base_delay * self.factor ** max(0, attempt - 1))

    def should_retry(self, error: BaseException, attempt: int) -> bool:
        """Domain errors (bad input, blocked output) are final; faults are retried."""
        if isinstance(error, MutoscopeError | JobCancelled):
            return False
        return attempt < self.max_attempts
