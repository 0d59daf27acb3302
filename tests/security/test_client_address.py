"""One client address for the throttles, the audit trail and the sign-in lockout: REMOTE_ADDR, or
behind one trusted proxy (TRUST_X_FORWARDED_FOR) the last X-Forwarded-For entry, the one it added."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import date

import pytest
from axes.models import AccessAttempt
from django.conf import settings as django_settings
from rest_framework.test import APIClient

from intake.models import AuditRecord, Prescription
from tests.factories import PASSWORD, make_prescription

PROXY = "10.0.0.2"
CLIENT = "203.0.113.50"
OTHER_CLIENT = "198.51.100.7"
BIRTH_DATE = "1980-02-29"


def _setting_in_a_fresh_process(**env: str) -> str:
    passed = {key: os.environ[key] for key in ("PATH", "HOME", "LANG", "TMPDIR", "VIRTUAL_ENV") if key in os.environ}
    script = "import django; from django.conf import settings; django.setup(); print(settings.TRUST_X_FORWARDED_FOR)"
    result = subprocess.run(  # noqa: S603 - fixed arguments, our own interpreter
        [sys.executable, "-c", script],
        cwd=django_settings.BASE_DIR,
        env={**passed, "DJANGO_SETTINGS_MODULE": "pharmacy.settings", **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.strip().splitlines()[-1]


@pytest.fixture
def prescription(prescriber) -> Prescription:
    return make_prescription(prescriber, patient={"date_of_birth": date.fromisoformat(BIRTH_DATE)})


def _client(forwarded_for: str | None = None) -> APIClient:
    headers = {"HTTP_X_FORWARDED_FOR": forwarded_for} if forwarded_for is not None else {}
    return APIClient(REMOTE_ADDR=PROXY, **headers)


def _status_lookup(api: APIClient, reference: str, date_of_birth: str = BIRTH_DATE):
    return api.post("/api/v1/status/", {"reference": reference, "date_of_birth": date_of_birth}, format="json")


def _lookup_limit(settings) -> int:
    return int(settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]["patient_lookup"].split("/")[0])


def test_the_setting_is_read_from_the_environment_and_off_by_default():
    assert _setting_in_a_fresh_process(TRUST_X_FORWARDED_FOR="1") == "True"
    assert _setting_in_a_fresh_process() == "False"


# Without the setting: the header is the client's to write, and changes nothing ----------------------


def test_without_the_setting_the_audit_trail_keeps_the_connecting_address(prescription, settings):
    settings.TRUST_X_FORWARDED_FOR = False

    response = _status_lookup(_client(forwarded_for=OTHER_CLIENT), prescription.reference)

    assert response.status_code == 200
    assert AuditRecord.objects.get(prescription_reference=prescription.reference, action="view").ip_address == PROXY


def test_without_the_setting_a_forged_header_does_not_escape_the_throttle(prescription, settings):
    settings.TRUST_X_FORWARDED_FOR = False
    for n in range(_lookup_limit(settings)):
        # every miss claims to come from somewhere else
        assert _status_lookup(_client(forwarded_for=f"192.0.2.{n + 1}"), f"RX-{n:07d}").status_code == 404

    response = _status_lookup(_client(forwarded_for="192.0.2.200"), prescription.reference)

    assert response.status_code == 429


def test_without_the_setting_a_forged_header_does_not_move_the_sign_in_lockout(client, pharmacist, settings):
    settings.TRUST_X_FORWARDED_FOR = False

    client.post("/accounts/login/", {"username": pharmacist.email, "password": "not-the-password"},
                REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR=OTHER_CLIENT)  # fmt: skip

    assert list(AccessAttempt.objects.values_list("ip_address", flat=True)) == [PROXY]


# With the setting: the last entry, the one the trusted proxy added -----------------------------------


def test_with_the_setting_the_audit_trail_records_the_last_address_the_proxy_added(prescription, settings):
    settings.TRUST_X_FORWARDED_FOR = True
    # The client wrote the first two entries itself; the proxy appended the address it saw.
    forwarded = f"10.9.9.9, {OTHER_CLIENT}, {CLIENT}"

    response = _status_lookup(_client(forwarded_for=forwarded), prescription.reference)

    assert response.status_code == 200
    assert AuditRecord.objects.get(prescription_reference=prescription.reference, action="view").ip_address == CLIENT


def test_with_the_setting_each_client_behind_the_proxy_has_its_own_throttle(prescription, settings):
    settings.TRUST_X_FORWARDED_FOR = True
    for n in range(_lookup_limit(settings)):
        assert _status_lookup(_client(forwarded_for=f"{OTHER_CLIENT}, {CLIENT}"), f"RX-{n:07d}").status_code == 404

    held_back = _status_lookup(_client(forwarded_for=CLIENT), prescription.reference)
    # The first entry is the client's own claim: naming another address does not escape.
    still_held_back = _status_lookup(_client(forwarded_for=f"{OTHER_CLIENT}, {CLIENT}"), prescription.reference)
    another_client = _status_lookup(_client(forwarded_for=f"{CLIENT}, {OTHER_CLIENT}"), prescription.reference)

    assert held_back.status_code == 429
    assert still_held_back.status_code == 429
    assert another_client.status_code == 200


def test_with_the_setting_the_sign_in_lockout_counts_per_client_not_per_proxy(client, pharmacist, technician,
                                                                             settings):  # fmt: skip
    settings.TRUST_X_FORWARDED_FOR = True
    accounts = [pharmacist.email, technician.email, "nobody@example.test", "nobody-else@example.test"]
    for n in range(settings.LOCKOUT_FAILURES_PER_ADDRESS):
        client.post("/accounts/login/", {"username": accounts[n % len(accounts)], "password": "not-the-password"},
                    REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR=CLIENT)  # fmt: skip

    # when: the same proxy brings the locked client and then another one
    locked = client.post("/accounts/login/", {"username": technician.email, "password": PASSWORD},
                         REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR=f"{OTHER_CLIENT}, {CLIENT}")  # fmt: skip
    other = client.post("/accounts/login/", {"username": technician.email, "password": PASSWORD},
                        REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR=OTHER_CLIENT)  # fmt: skip

    # then
    assert set(AccessAttempt.objects.values_list("ip_address", flat=True)) == {CLIENT}
    assert locked.status_code == 429
    assert other.status_code == 302
    assert int(client.session["_auth_user_id"]) == technician.pk


@pytest.mark.parametrize("forwarded", ["", "not-an-address", f"{CLIENT}, ", "unknown"])
def test_with_the_setting_a_header_without_an_address_falls_back_to_the_connection(prescription, settings,
                                                                                   forwarded):  # fmt: skip
    settings.TRUST_X_FORWARDED_FOR = True

    response = _status_lookup(_client(forwarded_for=forwarded), prescription.reference)

    assert response.status_code == 200
    assert AuditRecord.objects.get(prescription_reference=prescription.reference, action="view").ip_address == PROXY
