"""Personas and clients shared by the whole suite."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from django.utils import timezone
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from accounts.models import Role, User
from intake.models import Prescriber
from tests.factories import PrescriberFactory, UserFactory


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """On SQLite the test database is a file (pharmacy/settings.py). Django deletes it at the end;
    its write-ahead log and index stay behind when a thread's connection outlived the run."""
    from django.conf import settings

    test_file = settings.DATABASES["default"].get("TEST", {}).get("NAME")
    if settings.DATABASES["default"]["ENGINE"].endswith("sqlite3") and test_file:
        for sidecar in ("-wal", "-shm"):
            Path(f"{test_file}{sidecar}").unlink(missing_ok=True)


@pytest.fixture(autouse=True)
def _reference_data_in_transactional_tests(request) -> None:
    """Role groups and the formulary exist in every transactional test.

    Not through serialized_rollback: its restore inserts the groups again with their first ids,
    which collides with the groups that post_migrate recreated after an earlier test's flush.
    """
    marker = request.node.get_closest_marker("django_db")
    if (marker and marker.kwargs.get("transaction")) or "transactional_db" in request.fixturenames:
        request.getfixturevalue("transactional_db")
        from intake.roles import ensure_reference_data

        ensure_reference_data()


@pytest.fixture(autouse=True)
def _state_licences(request) -> None:
    """The pharmacy's state licences, as seed_demo records them (every state and DC but AK and HI),
    in every test that uses the database, transactional ones included (their flush empties the
    table after each): without them every patient would raise a licensure warning and nothing
    could be shipped. A test about a missing licence deletes them (no_licences) or uses AK or HI."""
    names = request.fixturenames
    marker = request.node.get_closest_marker("django_db")
    if (marker and marker.kwargs.get("transaction")) or "transactional_db" in names or "live_server" in names:
        request.getfixturevalue("transactional_db")
    elif marker is not None or "db" in names:
        request.getfixturevalue("db")
    else:
        return
    from intake.services.licences import demo_licences, state_licences_record

    state_licences_record(demo_licences(expires_on=date(timezone.localdate().year + 5, 12, 31)))


@pytest.fixture
def no_licences(db) -> None:
    """The pharmacy holds no state licence at all."""
    from intake.models import StateLicence, licences_forget

    StateLicence.objects.all().delete()
    licences_forget()


@pytest.fixture(autouse=True)
def _cheap_argon2(settings) -> None:
    # Real Argon2 hashes at a test-sized cost: production's costs ~0.5 s a persona here.
    settings.PASSWORD_HASHERS = ["tests.security.hashers.FastArgon2PasswordHasher"]


@pytest.fixture
def pharmacist(db) -> User:
    return UserFactory(email="pharmacist@example.test", first_name="Paula", last_name="Pharmacist",
                       role=Role.PHARMACIST)  # fmt: skip


@pytest.fixture
def second_pharmacist(db) -> User:
    return UserFactory(email="pharmacist2@example.test", first_name="Peter", last_name="Checker",
                       role=Role.PHARMACIST)  # fmt: skip


@pytest.fixture
def technician(db) -> User:
    return UserFactory(email="technician@example.test", first_name="Tom", last_name="Technician",
                       role=Role.TECHNICIAN)  # fmt: skip


@pytest.fixture
def pharmacy_admin(db) -> User:
    return UserFactory(email="admin@example.test", first_name="Ada", last_name="Admin", role=Role.ADMIN)


@pytest.fixture
def prescriber(db) -> Prescriber:
    user = UserFactory(email="prescriber@example.test", first_name="Grace", last_name="Hopper", role=Role.PRESCRIBER)
    return PrescriberFactory(user=user)


@pytest.fixture
def other_prescriber(db) -> Prescriber:
    user = UserFactory(email="prescriber2@example.test", first_name="Jonas", last_name="Salk", role=Role.PRESCRIBER)
    return PrescriberFactory(user=user)


def api_client_for(user: User | None) -> APIClient:
    client = APIClient()
    if user is not None:
        token, _ = Token.objects.get_or_create(user=user)
        client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    return client


def api_client_signed_in_now(user: User) -> APIClient:
    """An API client with a token issued at the current (possibly travelled) time, as a fresh sign-in."""
    Token.objects.filter(user=user).delete()
    return api_client_for(user)


@pytest.fixture
def api() -> APIClient:
    """An anonymous API client."""
    return APIClient()


@pytest.fixture
def prescriber_api(prescriber: Prescriber) -> APIClient:
    return api_client_for(prescriber.user)


@pytest.fixture
def other_prescriber_api(other_prescriber: Prescriber) -> APIClient:
    return api_client_for(other_prescriber.user)


@pytest.fixture
def pharmacist_api(pharmacist: User) -> APIClient:
    return api_client_for(pharmacist)


@pytest.fixture
def technician_api(technician: User) -> APIClient:
    return api_client_for(technician)


@pytest.fixture
def login():
    """Sign a Django test client in as a user: login(client, user)."""

    def _login(client, user: User) -> None:
        # force_login: the password path (and its lockout) is tested on its own.
        client.force_login(user, backend="accounts.backends.PharmacyBackend")

    return _login


@pytest.fixture(autouse=True)
def _celery_tasks_in_process(request):
    """Tasks run in-process after the commit even where CI sets CELERY_BROKER_URL; broker tests excepted."""
    from pharmacy.celery import app as celery_app

    if request.node.get_closest_marker("broker"):
        yield
        return
    previous = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = True
    yield
    celery_app.conf.task_always_eager = previous


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Each test starts with an empty cache (queue counts, throttle counters, the offered dosage
    forms): a rolled-back test's rows leave no cached trace for the next one."""
    from django.core.cache import cache

    from intake.models import licences_forget
    from intake.models.formulary import dosage_forms_offered_forget

    cache.clear()
    dosage_forms_offered_forget()
    licences_forget()
    yield
    cache.clear()
    dosage_forms_offered_forget()
    licences_forget()
