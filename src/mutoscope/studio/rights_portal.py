"""The rights portal: rights holders register entities and review decisions about them.

It drives the rights layer's own service (``mutoscope.rights.service.RightsService``); when
that layer is not installed the page says so instead.
"""

from __future__ import annotations

from typing import Any

from starlette.datastructures import FormData

from mutoscope.errors import InvalidRequest
from mutoscope.services import Services
from mutoscope.storage.records import UserRecord

NOT_INSTALLED = (
    "The rights layer is not installed in this server, so prompts are not screened and there "
    "is nothing to manage here."
)


def installed(services: Services) -> bool:
    return False


def context(services: Services, user: UserRecord) -> dict[str, Any]:
    return {"installed": installed(services), "not_installed": NOT_INSTALLED}


async def register(services: Services, user: UserRecord, form: FormData) -> str:
    raise InvalidRequest(NOT_INSTALLED)


def audit_export(services: Services, user: UserRecord) -> tuple[bytes, str]:
    raise InvalidRequest(NOT_INSTALLED)
