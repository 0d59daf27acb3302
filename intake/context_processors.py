from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest


def pharmacy(request: HttpRequest) -> dict[str, Any]:
    return {
        "PHARMACY_NAME": settings.PHARMACY_NAME,
        "PHARMACY_PHONE": settings.PHARMACY_PHONE,
        "PHARMACY_ADDRESS": settings.PHARMACY_ADDRESS,
    }
