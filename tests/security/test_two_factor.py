"""The TOTP second factor: enrolment, verification, and the pharmacist requirement."""

from __future__ import annotations

import base64
from binascii import unhexlify

import pytest
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from intake.models import AuditRecord
from intake.security import ENROL_KEY_SESSION_KEY

ENROL_URL = "/accounts/two-factor/"
VERIFY_URL = "/accounts/two-factor/verify/"
STAFF_PAGE = "/pharmacy/queue/"


def _code(hex_key: str) -> str:
    # Computed from the key the way an authenticator app does (RFC 6238, 30-second steps).
    return str(totp(unhexlify(hex_key), step=30, t0=0, digits=6, drift=0)).zfill(6)


def _confirmed_device(user) -> TOTPDevice:
    return TOTPDevice.objects.create(user=user, name="Authenticator app", confirmed=True)


def test_staff_see_the_enrolment_link_and_qr_code(client, login, technician):
    login(client, technician)

    response = client.get(ENROL_URL)

    assert response.status_code == 200
    body = response.content.decode()
    assert "otpauth://totp/" in body
    prefix = 'src="data:image/svg+xml;base64,'
    assert prefix in body
    encoded = body.split(prefix, 1)[1].split('"', 1)[0]
    assert b"<svg" in base64.b64decode(encoded)
    assert not TOTPDevice.objects.filter(user=technician).exists()  # nothing saved until a code proves it


def test_enrolment_with_a_real_code_confirms_a_device_and_verifies_the_session(client, login, pharmacist):
    login(client, pharmacist)
    client.get(ENROL_URL)
    hex_key = client.session[ENROL_KEY_SESSION_KEY]

    response = client.post(ENROL_URL, {"code": _code(hex_key)})

    assert response.status_code == 302
    device = TOTPDevice.objects.get(user=pharmacist)
    assert device.confirmed
    assert device.key == hex_key
    assert client.session[DEVICE_ID_SESSION_KEY] == device.persistent_id
    assert ENROL_KEY_SESSION_KEY not in client.session
    assert AuditRecord.objects.filter(actor=pharmacist, object_type="totp_device").exists()


def test_enrolment_with_a_wrong_code_saves_nothing(client, login, pharmacist):
    login(client, pharmacist)
    client.get(ENROL_URL)
    hex_key = client.session[ENROL_KEY_SESSION_KEY]
    wrong = str((int(_code(hex_key)) + 1) % 1_000_000).zfill(6)

    response = client.post(ENROL_URL, {"code": wrong})

    assert response.status_code == 200
    assert "does not match" in response.content.decode()
    assert not TOTPDevice.objects.filter(user=pharmacist).exists()


@pytest.mark.parametrize("code", ["", "12345", "1234567", "abcdef", "12 34 5x"])
def test_malformed_codes_are_refused(client, login, pharmacist, code):
    login(client, pharmacist)
    client.get(ENROL_URL)

    response = client.post(ENROL_URL, {"code": code})

    assert response.status_code == 200
    assert not TOTPDevice.objects.filter(user=pharmacist).exists()


def test_prescribers_cannot_enrol(client, login, prescriber):
    login(client, prescriber.user)

    assert client.get(ENROL_URL).status_code == 403
    assert client.get(VERIFY_URL).status_code == 403


def test_anonymous_visitors_are_sent_to_sign_in(client):
    assert client.get(ENROL_URL)["Location"].startswith("/accounts/login/")


def test_an_enrolled_person_must_verify_before_staff_pages(client, login, technician):
    device = _confirmed_device(technician)
    login(client, technician)

    response = client.get(STAFF_PAGE)

    assert response.status_code == 302
    assert response["Location"].startswith(VERIFY_URL)

    response = client.post(VERIFY_URL, {"code": _code(device.key), "next": STAFF_PAGE})

    assert response.status_code == 302
    assert response["Location"] == STAFF_PAGE
    assert client.get(STAFF_PAGE).status_code == 200


def test_a_wrong_or_reused_code_does_not_verify(client, login, technician, django_user_model):
    device = _confirmed_device(technician)
    login(client, technician)
    code = _code(device.key)
    assert client.post(VERIFY_URL, {"code": code}).status_code == 302

    client.post("/accounts/logout/")
    login(client, technician)
    response = client.post(VERIFY_URL, {"code": code})

    assert response.status_code == 200
    assert DEVICE_ID_SESSION_KEY not in client.session
    assert client.get(STAFF_PAGE).status_code == 302


def test_a_password_alone_cannot_enrol_a_second_app(client, login, technician):
    _confirmed_device(technician)
    login(client, technician)

    response = client.get(ENROL_URL)

    assert response.status_code == 302
    assert response["Location"].startswith(VERIFY_URL)
    assert TOTPDevice.objects.filter(user=technician).count() == 1


def test_pharmacists_must_enrol_when_the_setting_says_so(client, login, pharmacist, settings):
    settings.PHARMACIST_TOTP_REQUIRED = True
    login(client, pharmacist)

    response = client.get(STAFF_PAGE)

    assert response.status_code == 302
    assert response["Location"].startswith(ENROL_URL)
    # Enrolling with a real code opens the staff pages.
    client.get(ENROL_URL)
    client.post(ENROL_URL, {"code": _code(client.session[ENROL_KEY_SESSION_KEY])})
    assert client.get(STAFF_PAGE).status_code == 200


def test_pharmacists_are_not_asked_when_the_setting_is_off(client, login, pharmacist, settings):
    settings.PHARMACIST_TOTP_REQUIRED = False
    login(client, pharmacist)

    assert client.get(STAFF_PAGE).status_code == 200


def test_other_staff_are_not_forced_to_enrol(client, login, technician, settings):
    settings.PHARMACIST_TOTP_REQUIRED = True
    login(client, technician)

    assert client.get(STAFF_PAGE).status_code == 200


def test_an_unverified_web_session_cannot_use_the_api(client, login, pharmacist, settings):
    settings.PHARMACIST_TOTP_REQUIRED = True
    login(client, pharmacist)

    response = client.get("/api/v1/prescriptions/")

    assert response.status_code == 403
    assert response["Content-Type"].startswith("application/json")


def test_signing_in_with_a_password_leads_to_the_code_page(client, technician, settings):
    from tests.factories import PASSWORD

    settings.PASSWORD_HASHERS = ["tests.security.hashers.FastArgon2PasswordHasher"]
    technician.set_password(PASSWORD)
    technician.save()
    _confirmed_device(technician)

    response = client.post("/accounts/login/", {"username": technician.email, "password": PASSWORD}, follow=True)

    assert response.redirect_chain[-1][0].startswith(VERIFY_URL)
    assert "accounts/totp_verify.html" in [t.name for t in response.templates]
