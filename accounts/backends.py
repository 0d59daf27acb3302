"""The sign-in backend: Django's ModelBackend, loading the signed-in person once per request with
what every page asks of them (roles, second factor) in one query."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.backends import ModelBackend

from accounts.models import User


class PharmacyBackend(ModelBackend):
    def get_user(self, user_id: Any) -> User | None:  # type: ignore[override]
        user = User.objects.signed_in(pk=user_id)
        return user if user is not None and self.user_can_authenticate(user) else None
