"""POST /api/v1/auth/token/: a token for the right password, the same lockout as the web login."""

from __future__ import annotations

import pytest
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from tests.factories import PASSWORD

TOKEN = "/api/v1/auth/token/"


def sign_in(email: str, password: str):
    return APIClient().post(TOKEN, {"email": email, "password": password}, format="json")


def test_right_password_gives_the_users_token(pharmacist):
    response = sign_in(pharmacist.email, PASSWORD)

    assert response.status_code == 200
    assert response.json() == {"token": Token.objects.get(user=pharmacist).key}


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
