"""The web sign-in: the email matched whatever its case, one lockout count for every spelling (on
the web and the API together), and the second factor asked for after the password."""

from __future__ import annotations

import pytest
from django.test import Client
from django_otp.plugins.otp_totp.models import TOTPDevice
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from accounts.models import User
from tests.factories import PASSWORD

LOGIN_URL = "/accounts/login/"
TOKEN_URL = "/api/v1/auth/token/"


def _spellings(email: str) -> list[str]:
    local, domain = email.split("@")
    return [email.upper(), email.title(), f"{local}@{domain.upper()}", f" {local.capitalize()}@{domain} ", email]


@pytest.mark.parametrize("spelling", ["PHARMACIST@EXAMPLE.TEST", "Pharmacist@Example.test", "pharmacist@EXAMPLE.test"])
def test_the_web_sign_in_matches_the_email_whatever_its_case(client, pharmacist, spelling):
    response = client.post(LOGIN_URL, {"username": spelling, "password": PASSWORD})

    assert response.status_code == 302
    assert int(client.session["_auth_user_id"]) == pharmacist.pk


def test_the_api_matches_the_email_whatever_its_case(pharmacist):
    response = APIClient().post(TOKEN_URL, {"email": "Pharmacist@EXAMPLE.test", "password": PASSWORD}, format="json")

    assert response.status_code == 200
    assert response.json()["token"] == Token.objects.get(user=pharmacist).key


def test_the_password_stays_case_sensitive(client, pharmacist):
    response = client.post(LOGIN_URL, {"username": pharmacist.email, "password": PASSWORD.upper()})

    assert response.status_code == 200
    assert "_auth_user_id" not in client.session


def test_wrong_passwords_under_different_spellings_lock_one_account(client, pharmacist, settings):
    # given: the account's limit of wrong passwords, each spelt differently, on the web and the API
    spellings = _spellings(pharmacist.email)
    for n in range(settings.LOCKOUT_FAILURES_PER_ACCOUNT):
        spelling = spellings[n % len(spellings)]
        if n % 2:
            client.post(LOGIN_URL, {"username": spelling, "password": "not-the-password"})
        else:
            APIClient().post(TOKEN_URL, {"email": spelling, "password": "not-the-password"}, format="json")

    # when
    web = client.post(LOGIN_URL, {"username": pharmacist.email, "password": PASSWORD})
    api = APIClient().post(TOKEN_URL, {"email": pharmacist.email.upper(), "password": PASSWORD}, format="json")

    # then
    assert web.status_code == 429
    assert "_auth_user_id" not in client.session
    assert api.status_code == 429
    assert not Token.objects.filter(user=pharmacist).exists()


def test_the_web_sign_in_asks_an_enrolled_person_for_the_code_before_any_staff_page(client, pharmacist):
    TOTPDevice.objects.create(user=pharmacist, name="phone", confirmed=True)

    signed_in = client.post(LOGIN_URL, {"username": pharmacist.email, "password": PASSWORD})
    staff_page = client.get("/pharmacy/queue/")
    api = client.get("/api/v1/prescriptions/")

    assert signed_in.status_code == 302
    assert staff_page.status_code == 302
    assert staff_page["Location"].startswith("/accounts/two-factor/verify/")
    assert api.status_code == 403


def test_an_account_added_in_the_admin_is_stored_lower_case_and_signs_in(client, login, superuser):
    admin_client = Client()
    login(admin_client, superuser)
    form = {"email": "New.Person@Example.TEST", "usable_password": "true",
            "password1": "a-long-password-123", "password2": "a-long-password-123"}  # fmt: skip

    response = admin_client.post("/admin/accounts/user/add/", form)

    assert response.status_code == 302
    assert User.objects.filter(email="new.person@example.test").exists()
    signed_in = client.post(LOGIN_URL, {"username": "New.Person@Example.TEST", "password": "a-long-password-123"})
    assert signed_in.status_code == 302


def test_an_email_changed_to_another_spelling_of_an_existing_one_is_refused(login, superuser, pharmacist, technician):
    admin_client = Client()
    login(admin_client, superuser)
    change = f"/admin/accounts/user/{technician.pk}/change/"
    form = {"email": pharmacist.email.upper(), "first_name": technician.first_name, "last_name": technician.last_name,
            "is_active": "on", "date_joined_0": "2026-01-01", "date_joined_1": "09:00:00"}  # fmt: skip

    response = admin_client.post(change, form)

    assert response.status_code == 200
    assert "email" in response.context["adminform"].form.errors
    technician.refresh_from_db()
    assert technician.email == "technician@example.test"
