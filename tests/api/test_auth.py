"""POST /api/v1/auth/token/: a token for the right password (and the second factor's code where one
is enrolled), the same lockout as the web login; tokens expire and DELETE revokes the caller's own."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
import time_machine
from django.utils import timezone
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from tests.factories import PASSWORD

TOKEN = "/api/v1/auth/token/"


def sign_in(email: str, password: str):
    return APIClient().post(TOKEN, {"email": email, "password": password}, format="json")


def test_right_password_gives_the_users_token_and_when_it_expires(pharmacist):
    response = sign_in(pharmacist.email, PASSWORD)

    assert response.status_code == 200
    token = Token.objects.get(user=pharmacist)
    assert response.json()["token"] == token.key
    expires_at = datetime.fromisoformat(response.json()["expires_at"])
    assert expires_at == token.created + timedelta(hours=12)


def test_a_staff_token_lasts_at_most_a_day_a_prescribers_longer(pharmacist, prescriber, settings):
    settings.API_TOKEN_HOURS_STAFF = 24
    staff = datetime.fromisoformat(sign_in(pharmacist.email, PASSWORD).json()["expires_at"])
    ehr = datetime.fromisoformat(sign_in(prescriber.user.email, PASSWORD).json()["expires_at"])
    now = timezone.now()

    assert timedelta(hours=23) < staff - now <= timedelta(hours=24)
    assert ehr - now > timedelta(days=7)


def test_bearer_is_accepted_as_well_as_token(prescriber):
    token = sign_in(prescriber.user.email, PASSWORD).json()["token"]

    for keyword in ("Token", "Bearer", "bearer"):
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"{keyword} {token}")
        assert client.get("/api/v1/prescriptions/").status_code == 200, keyword
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Basic {token}")
    assert client.get("/api/v1/prescriptions/").status_code == 401


def test_an_expired_token_is_refused_and_signing_in_again_gives_a_new_one(pharmacist):
    old = sign_in(pharmacist.email, PASSWORD).json()["token"]
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {old}")

    with time_machine.travel(timezone.now() + timedelta(hours=12, minutes=1)):
        refused = client.get("/api/v1/prescriptions/")
        new = sign_in(pharmacist.email, PASSWORD).json()["token"]

    assert refused.status_code == 401
    assert "expired" in refused.json()["detail"]
    assert new != old
    assert not Token.objects.filter(key=old).exists()


def test_delete_revokes_the_callers_own_token_only(pharmacist, second_pharmacist):
    mine = sign_in(pharmacist.email, PASSWORD).json()["token"]
    theirs = sign_in(second_pharmacist.email, PASSWORD).json()["token"]
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {mine}")

    assert client.delete(TOKEN).status_code == 204
    assert client.get("/api/v1/prescriptions/").status_code == 401
    assert not Token.objects.filter(key=mine).exists()
    assert Token.objects.filter(key=theirs).exists()
    assert APIClient().delete(TOKEN).status_code == 401


def test_an_enrolled_second_factor_is_asked_for(pharmacist):
    # given: a pharmacist with an authenticator app
    device = TOTPDevice.objects.create(user=pharmacist, name="phone", confirmed=True)
    totp = TOTP(device.bin_key, step=device.step, t0=device.t0, digits=device.digits)

    # when: signing in with the password alone, with the current code, and with a wrong one
    alone = sign_in(pharmacist.email, PASSWORD)
    right = APIClient().post(TOKEN, {"email": pharmacist.email, "password": PASSWORD, "otp": f"{totp.token():06d}"},
                             format="json")  # fmt: skip
    wrong = APIClient().post(TOKEN, {"email": pharmacist.email, "password": PASSWORD, "otp": "000000"}, format="json")

    # then: a token only with the right code
    assert alone.status_code == 400 and "otp" in alone.json() and "token" not in alone.json()
    assert wrong.status_code == 400 and "otp" in wrong.json()
    assert right.status_code == 200 and right.json()["token"] == Token.objects.get(user=pharmacist).key


def _enrolled(user) -> TOTP:
    device = TOTPDevice.objects.create(user=user, name="phone", confirmed=True)
    return TOTP(device.bin_key, step=device.step, t0=device.t0, digits=device.digits)


@pytest.mark.parametrize("otp", [None, "", "   "])
def test_a_staff_account_with_a_second_factor_gets_no_token_without_a_code(technician, otp):
    _enrolled(technician)
    body = {"email": technician.email, "password": PASSWORD} | ({"otp": otp} if otp is not None else {})

    response = APIClient().post(TOKEN, body, format="json")

    assert response.status_code == 400
    assert "otp" in response.json()
    assert "token" not in response.json()
    assert not Token.objects.exists()


def test_a_staff_account_with_a_second_factor_gets_no_token_with_a_wrong_code(technician):
    totp = _enrolled(technician)
    wrong = f"{(totp.token() + 1) % 1_000_000:06d}"

    response = APIClient().post(TOKEN, {"email": technician.email, "password": PASSWORD, "otp": wrong}, format="json")

    assert response.status_code == 400
    assert "otp" in response.json()
    assert "token" not in response.json()
    assert not Token.objects.exists()


def test_a_right_code_with_a_wrong_password_gets_no_token(technician):
    totp = _enrolled(technician)

    response = APIClient().post(TOKEN, {"email": technician.email, "password": "wrong-password-123",
                                        "otp": f"{totp.token():06d}"}, format="json")  # fmt: skip

    assert response.status_code in (400, 401)
    assert not Token.objects.exists()


def test_the_token_authenticates_later_calls(prescriber):
    token = sign_in(prescriber.user.email, PASSWORD).json()["token"]
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")

    assert client.get("/api/v1/prescriptions/").status_code == 200


def test_email_is_matched_whatever_its_case(pharmacist):
    assert sign_in(pharmacist.email.upper(), PASSWORD).status_code == 200


def test_successful_sign_in_updates_last_login(pharmacist):
    # given: a pharmacist who never signed in
    assert pharmacist.last_login is None

    # when
    sign_in(pharmacist.email, PASSWORD)

    # then
    pharmacist.refresh_from_db()
    assert pharmacist.last_login is not None


@pytest.mark.parametrize(
    "body",
    [
        {"email": "pharmacist@example.test", "password": "wrong-password-123"},
        {"email": "nobody@example.test", "password": PASSWORD},
        {"email": "pharmacist@example.test"},
        {"password": PASSWORD},
        {"email": "", "password": ""},
        {"email": None, "password": None},
        {"email": ["pharmacist@example.test"], "password": {"x": 1}},
        {},
    ],
)
def test_wrong_or_missing_credentials_answer_400_without_a_token(pharmacist, body):
    response = APIClient().post(TOKEN, body, format="json")

    assert response.status_code in (400, 401)
    assert "token" not in response.json()
    assert not Token.objects.exists()


def test_inactive_account_gets_no_token(pharmacist):
    pharmacist.is_active = False
    pharmacist.save()

    response = sign_in(pharmacist.email, PASSWORD)

    assert response.status_code == 400
    assert "token" not in response.json()


def test_ten_wrong_passwords_lock_the_account_even_for_the_right_password(pharmacist, second_pharmacist):
    # given
    for _attempt in range(10):
        assert sign_in(pharmacist.email, "wrong-password-123").status_code in (400, 401, 403, 429)

    # when
    response = sign_in(pharmacist.email, PASSWORD)

    # then: locked, in JSON, with no token; another account is untouched
    assert response.status_code in (401, 403, 429)
    assert response["Content-Type"].startswith("application/json")
    assert "token" not in response.json()
    assert not Token.objects.filter(user=pharmacist).exists()
    assert sign_in(second_pharmacist.email, PASSWORD).status_code == 200


def test_nine_wrong_passwords_do_not_lock(pharmacist):
    for _attempt in range(9):
        sign_in(pharmacist.email, "wrong-password-123")

    assert sign_in(pharmacist.email, PASSWORD).status_code == 200


def test_api_failures_lock_the_web_login_too(client, pharmacist):
    for _attempt in range(10):
        sign_in(pharmacist.email, "wrong-password-123")

    response = client.post("/accounts/login/", {"username": pharmacist.email, "password": PASSWORD})

    assert response.status_code in (403, 429)
    assert "_auth_user_id" not in client.session


def test_web_failures_lock_the_api_too(client, pharmacist):
    for _attempt in range(10):
        client.post("/accounts/login/", {"username": pharmacist.email, "password": "wrong-password-123"})

    response = sign_in(pharmacist.email, PASSWORD)

    assert response.status_code in (401, 403, 429)
    assert "token" not in response.json()


def test_form_encoded_credentials_are_accepted(pharmacist):
    response = APIClient().post(TOKEN, {"email": pharmacist.email, "password": PASSWORD})

    assert response.status_code == 200
