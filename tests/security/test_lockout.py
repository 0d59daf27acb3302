"""Ten wrong passwords lock that account on the web login; other accounts stay open."""

from __future__ import annotations

from datetime import timedelta

import pytest
from axes.models import AccessAttempt
from django.conf import settings

from tests.factories import PASSWORD

LOGIN_URL = "/accounts/login/"


@pytest.fixture(autouse=True)
def fast_hashing(settings):
    # Autouse fixtures run first, so the personas' passwords are hashed cheaply too.
    settings.PASSWORD_HASHERS = ["tests.security.hashers.FastArgon2PasswordHasher"]


def _sign_in(client, email: str, password: str):
    return client.post(LOGIN_URL, {"username": email, "password": password})


def _signed_in(client) -> bool:
    return "_auth_user_id" in client.session


def test_ten_wrong_passwords_lock_the_account_even_for_the_right_password(client, pharmacist):
    # given
    for _ in range(settings.AXES_FAILURE_LIMIT):
        _sign_in(client, pharmacist.email, "not-the-password")

    # when
    response = _sign_in(client, pharmacist.email, PASSWORD)

    # then
    assert response.status_code in {403, 429}
    assert "registration/locked_out.html" in [t.name for t in response.templates]
    assert not _signed_in(client)


def test_nine_wrong_passwords_do_not_lock(client, pharmacist):
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        response = _sign_in(client, pharmacist.email, "not-the-password")
        assert response.status_code == 200

    response = _sign_in(client, pharmacist.email, PASSWORD)

    assert response.status_code == 302
    assert _signed_in(client)


def test_a_locked_account_does_not_lock_another(client, pharmacist, technician):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        _sign_in(client, pharmacist.email, "not-the-password")

    # Same browser, same address: the lock is on the account, not the client.
    response = _sign_in(client, technician.email, PASSWORD)

    assert response.status_code == 302
    assert int(client.session["_auth_user_id"]) == technician.pk


def test_a_success_resets_the_count(client, pharmacist):
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        _sign_in(client, pharmacist.email, "not-the-password")
    assert _sign_in(client, pharmacist.email, PASSWORD).status_code == 302
    client.post("/accounts/logout/")

    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        _sign_in(client, pharmacist.email, "not-the-password")
    response = _sign_in(client, pharmacist.email, PASSWORD)

    assert response.status_code == 302
    assert _signed_in(client)


def test_the_lock_ends_after_the_cool_off(client, pharmacist):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        _sign_in(client, pharmacist.email, "not-the-password")
    assert _sign_in(client, pharmacist.email, PASSWORD).status_code in {403, 429}

    # when: the last failure is older than the cool-off
    AccessAttempt.objects.update(attempt_time=AccessAttempt.objects.get().attempt_time - settings.AXES_COOLOFF_TIME
                                 - timedelta(minutes=1))  # fmt: skip
    response = _sign_in(client, pharmacist.email, PASSWORD)

    assert response.status_code == 302
    assert _signed_in(client)


def test_the_locked_page_names_no_account(client, pharmacist):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        response = _sign_in(client, pharmacist.email, "not-the-password")

    assert response.status_code in {403, 429}
    assert pharmacist.email not in response.content.decode()
