"""Fixtures for the security suite."""

from __future__ import annotations

import pytest

from accounts.models import User
from tests.factories import UserFactory


@pytest.fixture
def superuser(db) -> User:
    return UserFactory(email="root@example.test", is_superuser=True, is_staff=True)
