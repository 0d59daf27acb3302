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
from tests.log_scan import LogScan, Offence

SESSION_LOG_SCAN = pytest.StashKey[LogScan]()
LOG_OFFENCES = pytest.StashKey[list[Offence]]()
SCAN_DETACHED_BY = pytest.StashKey[list[str]]()


def pytest_sessionstart(session: pytest.Session) -> None:
    """Keep every log line of the run, as the configured handlers format it, to search at the end."""
    scan = LogScan()
    scan.start()
    session.config.stash[SESSION_LOG_SCAN] = scan
    session.config.stash[SCAN_DETACHED_BY] = []


@pytest.hookimpl(trylast=True)
def pytest_runtest_teardown(item: pytest.Item) -> None:
    """A test that took the scan off the root logger (a logging reconfiguration: Celery's, or
    dictConfig) would hide every later line from it: put it back, and fail the run naming the test."""
    import logging

    scan = item.config.stash.get(SESSION_LOG_SCAN, None)
    if scan is not None and scan.lines not in logging.getLogger().handlers:
        logging.getLogger().addHandler(scan.lines)
        item.config.stash[SCAN_DETACHED_BY].append(item.nodeid)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """A log line that names a patient the run made, or holds their birth date, medication or link
    token, fails the run (reported in the summary). Then: on SQLite the test database is a file
    (pharmacy/settings.py). Django deletes it at the end; its write-ahead log and index stay behind
    when a thread's connection outlived the run."""
    from django.conf import settings

    scan = session.config.stash.get(SESSION_LOG_SCAN, None)
    if scan is not None:
        scan.stop()
        offences = scan.offences()
        session.config.stash[LOG_OFFENCES] = offences
        if offences or session.config.stash.get(SCAN_DETACHED_BY, []):
            session.exitstatus = pytest.ExitCode.TESTS_FAILED

    test_file = settings.DATABASES["default"].get("TEST", {}).get("NAME")
    if settings.DATABASES["default"]["ENGINE"].endswith("sqlite3") and test_file:
        for sidecar in ("-wal", "-shm"):
            Path(f"{test_file}{sidecar}").unlink(missing_ok=True)


def pytest_terminal_summary(terminalreporter, exitstatus: int, config: pytest.Config) -> None:  # type: ignore[no-untyped-def]
    detached = config.stash.get(SCAN_DETACHED_BY, [])
    if detached:
        terminalreporter.section("the log scan was taken off the root logger", red=True)
        for nodeid in detached:
            terminalreporter.write_line(f"by {nodeid}: lines after it went unscanned until the scan was put back")
    offences = config.stash.get(LOG_OFFENCES, [])
    if offences:
        terminalreporter.section("patient data in log lines", red=True)
        for offence in dict.fromkeys(str(o) for o in offences):
            terminalreporter.write_line(offence)


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


@pytest.fixture(autouse=True, scope="session")
def _private_documents_in_a_tmp_dir(tmp_path_factory):
    """Uploaded documents go to a directory of the run, never into the project's own var/."""
    from django.conf import settings

    settings.PRIVATE_DOCUMENTS_ROOT = tmp_path_factory.mktemp("private-documents")
