"""Ten wrong passwords lock that account on the web login; other accounts stay open. More from one
client address lock that address; an administrator can unlock an account."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from axes.models import AccessAttempt
from django.conf import settings
from django.contrib.auth.models import Permission
from django.test import Client
from django.utils import timezone

from intake.models import AuditAction, AuditRecord
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
    for _ in range(settings.LOCKOUT_FAILURES_PER_ACCOUNT):
        _sign_in(client, pharmacist.email, "not-the-password")

    # when
    response = _sign_in(client, pharmacist.email, PASSWORD)

    # then
    assert response.status_code in {403, 429}
    assert "registration/locked_out.html" in [t.name for t in response.templates]
    assert not _signed_in(client)


def test_nine_wrong_passwords_do_not_lock(client, pharmacist):
    for _ in range(settings.LOCKOUT_FAILURES_PER_ACCOUNT - 1):
        response = _sign_in(client, pharmacist.email, "not-the-password")
        assert response.status_code == 200

    response = _sign_in(client, pharmacist.email, PASSWORD)

    assert response.status_code == 302
    assert _signed_in(client)


def test_a_locked_account_does_not_lock_another(client, pharmacist, technician):
    for _ in range(settings.LOCKOUT_FAILURES_PER_ACCOUNT):
        _sign_in(client, pharmacist.email, "not-the-password")

    # Same browser, same address: the lock is on the account, not the client.
    response = _sign_in(client, technician.email, PASSWORD)

    assert response.status_code == 302
    assert int(client.session["_auth_user_id"]) == technician.pk


def test_a_success_resets_the_count(client, pharmacist):
    for _ in range(settings.LOCKOUT_FAILURES_PER_ACCOUNT - 1):
        _sign_in(client, pharmacist.email, "not-the-password")
    assert _sign_in(client, pharmacist.email, PASSWORD).status_code == 302
    client.post("/accounts/logout/")

    for _ in range(settings.LOCKOUT_FAILURES_PER_ACCOUNT - 1):
        _sign_in(client, pharmacist.email, "not-the-password")
    response = _sign_in(client, pharmacist.email, PASSWORD)

    assert response.status_code == 302
    assert _signed_in(client)


def test_the_lock_ends_after_the_cool_off(client, pharmacist):
    for _ in range(settings.LOCKOUT_FAILURES_PER_ACCOUNT):
        _sign_in(client, pharmacist.email, "not-the-password")
    assert _sign_in(client, pharmacist.email, PASSWORD).status_code in {403, 429}

    # when: the last failure is older than the cool-off
    AccessAttempt.objects.update(attempt_time=AccessAttempt.objects.get().attempt_time - settings.AXES_COOLOFF_TIME
                                 - timedelta(minutes=1))  # fmt: skip
    response = _sign_in(client, pharmacist.email, PASSWORD)

    assert response.status_code == 302
    assert _signed_in(client)


def test_the_locked_page_names_no_account(client, pharmacist):
    for _ in range(settings.LOCKOUT_FAILURES_PER_ACCOUNT):
        response = _sign_in(client, pharmacist.email, "not-the-password")

    assert response.status_code in {403, 429}
    assert pharmacist.email not in response.content.decode()


# One client address over many accounts ------------------------------------------------------------

ATTACKER = "198.51.100.66"
ELSEWHERE = "203.0.113.7"


def _fail_from(client, email: str, address: str):
    return client.post(LOGIN_URL, {"username": email, "password": "not-the-password"}, REMOTE_ADDR=address)


def _sign_in_from(client, email: str, address: str):
    return client.post(LOGIN_URL, {"username": email, "password": PASSWORD}, REMOTE_ADDR=address)


def test_wrong_passwords_over_several_accounts_lock_the_address(client, pharmacist, second_pharmacist, technician,
                                                                 pharmacy_admin, settings):  # fmt: skip
    # given: never nine in a row for one account, but the address's limit in all
    accounts = [pharmacist, second_pharmacist, technician, pharmacy_admin]
    per_account, per_address = settings.LOCKOUT_FAILURES_PER_ACCOUNT, settings.LOCKOUT_FAILURES_PER_ADDRESS
    assert len(accounts) * (per_account - 1) >= per_address
    for n in range(per_address):
        _fail_from(client, accounts[n % len(accounts)].email, ATTACKER)

    # when
    from_the_address = _sign_in_from(client, pharmacist.email, ATTACKER)
    from_elsewhere = _sign_in_from(client, pharmacist.email, ELSEWHERE)

    # then: the address is locked for every account; the accounts themselves are not
    assert from_the_address.status_code == 429
    assert "registration/locked_out.html" in [t.name for t in from_the_address.templates]
    assert from_elsewhere.status_code == 302
    assert int(client.session["_auth_user_id"]) == pharmacist.pk


def test_an_address_may_fail_more_often_than_one_account(client, pharmacist, second_pharmacist, technician, settings):
    # A pharmacy's staff share one address: their typos together do not lock them all out.
    per_account, per_address = settings.LOCKOUT_FAILURES_PER_ACCOUNT, settings.LOCKOUT_FAILURES_PER_ADDRESS
    assert per_address > 2 * (per_account - 1)
    for colleague in (pharmacist, second_pharmacist):
        for _ in range(per_account - 1):
            _fail_from(client, colleague.email, ATTACKER)

    response = _sign_in_from(client, technician.email, ATTACKER)

    assert response.status_code == 302


def test_a_locked_address_adds_nothing_to_the_accounts_it_names(client, pharmacist, technician, settings):
    # given: an address locked by wrong passwords for accounts that do not exist
    for n in range(settings.LOCKOUT_FAILURES_PER_ADDRESS):
        _fail_from(client, f"nobody{n}@example.test", ATTACKER)
    attempts = AccessAttempt.objects.count()

    # when: it goes on naming a real account
    for _ in range(settings.LOCKOUT_FAILURES_PER_ACCOUNT):
        assert _fail_from(client, technician.email, ATTACKER).status_code == 429

    # then: refused without being counted, so one address cannot lock the accounts it names
    assert AccessAttempt.objects.count() == attempts
    assert not AccessAttempt.objects.filter(username=technician.email).exists()
    assert _sign_in_from(client, technician.email, ELSEWHERE).status_code == 302


def test_tries_refused_during_a_lock_do_not_prolong_it(client, pharmacist, settings):
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        for _ in range(settings.LOCKOUT_FAILURES_PER_ACCOUNT):
            _fail_from(client, pharmacist.email, ATTACKER)
    with time_machine.travel(start + settings.AXES_COOLOFF_TIME - timedelta(minutes=1), tick=False):
        assert _fail_from(client, pharmacist.email, ATTACKER).status_code == 429

    with time_machine.travel(start + settings.AXES_COOLOFF_TIME + timedelta(minutes=1), tick=False):
        response = _sign_in_from(client, pharmacist.email, ELSEWHERE)

    assert response.status_code == 302


def test_a_sign_in_clears_its_own_accounts_failures_not_its_addresss(client, pharmacist, technician, settings):
    # given: a guesser one wrong password short of locking a colleague's account
    for _ in range(settings.LOCKOUT_FAILURES_PER_ACCOUNT - 1):
        _fail_from(client, pharmacist.email, ATTACKER)

    # when: the guesser signs in to an account of their own from the same address
    assert _sign_in_from(client, technician.email, ATTACKER).status_code == 302
    client.post("/accounts/logout/")
    _fail_from(client, pharmacist.email, ATTACKER)

    # then: the colleague's count was not cleared: the account is locked
    assert _sign_in_from(client, pharmacist.email, ELSEWHERE).status_code == 429


# An administrator unlocks an account --------------------------------------------------------------

USERS_ADMIN = "/admin/accounts/user/"


def _locked(client, user, settings) -> None:
    for _ in range(settings.LOCKOUT_FAILURES_PER_ACCOUNT):
        _fail_from(client, user.email, ATTACKER)


def _unlock(admin_client, user):
    return admin_client.post(USERS_ADMIN, {"action": "unlock_sign_in", "_selected_action": [user.pk]},
                             REMOTE_ADDR=ELSEWHERE)  # fmt: skip


@pytest.fixture
def site_admin(pharmacy_admin):
    """The pharmacy's administrator with access to the Django admin, as seed_demo makes them."""
    pharmacy_admin.is_staff = True
    pharmacy_admin.save()
    return pharmacy_admin


@pytest.fixture
def staff_with_user_rights(technician):
    """Django admin access and every model permission on accounts, but not a pharmacy administrator."""
    technician.is_staff = True
    technician.save()
    technician.user_permissions.set(Permission.objects.filter(content_type__app_label="accounts"))
    return technician


def test_an_administrator_unlocks_an_account_and_it_is_audited(client, login, site_admin, pharmacist, settings):
    _locked(client, pharmacist, settings)
    assert _sign_in_from(client, pharmacist.email, ELSEWHERE).status_code == 429
    admin_client = Client()
    login(admin_client, site_admin)

    response = _unlock(admin_client, pharmacist)

    assert response.status_code == 302
    assert not AccessAttempt.objects.filter(username=pharmacist.email).exists()
    record = AuditRecord.objects.get(action=AuditAction.UPDATE, object_type="user", object_id=str(pharmacist.pk))
    assert record.actor == site_admin
    assert record.ip_address == ELSEWHERE
    assert "unlocked" in record.description
    assert _sign_in_from(client, pharmacist.email, ELSEWHERE).status_code == 302


def test_a_superuser_may_unlock(client, login, superuser, pharmacist, settings):
    _locked(client, pharmacist, settings)
    admin_client = Client()
    login(admin_client, superuser)

    _unlock(admin_client, pharmacist)

    assert _sign_in_from(client, pharmacist.email, ELSEWHERE).status_code == 302
    assert AuditRecord.objects.filter(actor=superuser, object_type="user", object_id=str(pharmacist.pk)).exists()


def test_staff_who_are_not_administrators_cannot_unlock(client, login, staff_with_user_rights, pharmacist, settings):
    _locked(client, pharmacist, settings)
    attempts = AccessAttempt.objects.count()
    staff_client = Client()
    login(staff_client, staff_with_user_rights)

    staff_client.post(USERS_ADMIN, {"action": "unlock_sign_in", "_selected_action": [pharmacist.pk]})

    assert AccessAttempt.objects.count() == attempts
    assert not AuditRecord.objects.filter(object_type="user").exists()
    assert _sign_in_from(client, pharmacist.email, ELSEWHERE).status_code == 429


def test_a_pharmacist_cannot_unlock(client, login, pharmacist, technician, settings):
    _locked(client, technician, settings)
    attempts = AccessAttempt.objects.count()
    pharmacist_client = Client()
    login(pharmacist_client, pharmacist)

    response = pharmacist_client.post(USERS_ADMIN, {"action": "unlock_sign_in", "_selected_action": [technician.pk]})

    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")
    assert AccessAttempt.objects.count() == attempts
    assert not AuditRecord.objects.filter(object_type="user").exists()
