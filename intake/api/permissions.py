"""Who may call what. The workflow service checks again under its row lock; these answer early."""

from __future__ import annotations

from typing import Any

from rest_framework.permissions import BasePermission
from rest_framework.request import Request

from accounts.models import User
from intake.models import Prescription
from intake.services.workflow import transition_check


class IsPrescriber(BasePermission):
    """A signed-in prescriber with a prescriber profile (verification is the service's check)."""

    message = "Only prescribers can submit prescriptions."

    def has_permission(self, request: Request, view: Any) -> bool:
        user = request.user
        return bool(user and user.is_authenticated and user.is_prescriber and hasattr(user, "prescriber"))


def action_precheck(user: User, action: str, prescription: Prescription) -> None:
    """Refuse early, before reading the body: the wrong role (403), then the wrong status (409).

    The order matches the service's, so an empty or wrong body never hides a 403 or a 409.
    """
    transition_check(user, action, prescription)
