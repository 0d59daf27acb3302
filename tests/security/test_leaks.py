"""Nothing leaks: log lines are redacted, error pages hold no trace and no patient data."""

from __future__ import annotations

import io
import logging

import pytest
from django.conf import settings

from intake.logging import RedactPatientDataFilter, redact
from tests.factories import make_prescription
from tests.security.urls_errors import PATIENT_DETAIL

LINK_TOKEN = "Zr4m8K-x_7QpLr2Wq9sT1uVbN3cD5eF6gH7iJ8kL9mA"
API_TOKEN = "9944b09199c62bcf9418ad846dd0e4bbdfc6ee4b"


@pytest.mark.parametrize(
    ("line", "secret"),
    [
        ("notified ada.lovelace+ldn@example.co.uk", "ada.lovelace+ldn@example.co.uk"),
        ("sms to +15555550123 queued", "+15555550123"),
        ("sms to +1 512 555 0100 queued", "512 555 0100"),
        ("call (512) 555-0100 today", "555-0100"),
        ("call 512-555-0100 today", "512-555-0100"),
        ("call 512.555.0100 today", "512.555.0100"),
        ("call 5125550100 today", "5125550100"),
        ("patient dob 1980-02-29 checked", "1980-02-29"),
        ("patient born 02/29/1980 checked", "02/29/1980"),
        ("GET /api/v1/status/?reference=RX-7K2M9QX&date_of_birth=1980-02-29", "1980-02-29"),
        ('{"date_of_birth": "29 Feb 1980"}', "Feb 1980"),
        (f"Authorization: Token {API_TOKEN}", API_TOKEN),
        (f"header Bearer {API_TOKEN}", API_TOKEN),
        ("login password=hunter2&next=/", "hunter2"),
        ("{'password': 'correct horse battery'}", "correct horse"),
        ('{"token": "abc123xyz"}', "abc123xyz"),
        ("Cookie: sessionid=k3y5e55i0n; csrftoken=c5rf", "k3y5e55i0n"),
        ("SECRET_KEY=dev-only-insecure-key", "dev-only-insecure-key"),
        (f"opened https://pharmacy.example.com/questionnaire/{LINK_TOKEN}/", LINK_TOKEN),
        (f"POST /api/v1/questionnaires/{LINK_TOKEN}/ 400", LINK_TOKEN),
        ("GET /status/abcdefghijklmnopqrstuvwxyzABCDEF/refill", "abcdefghijklmnopqrstuvwxyzABCDEF"),
        ("GET /check-in/abcdefghijklmnopqrstuvwxyz_-/thanks", "abcdefghijklmnopqrstuvwxyz_-"),
        ("POST /api/v1/check-ins/abcdefghijklmnopqrstuvwx/", "abcdefghijklmnopqrstuvwx"),
        (f"bare key {LINK_TOKEN} in a message", LINK_TOKEN),
        (f"api token {API_TOKEN}", API_TOKEN),
    ],
)
def test_redact_removes_patient_data_and_secrets(line, secret):
    assert secret not in redact(line)


@pytest.mark.parametrize(
    "line",
    [
        "converged after 2.3e-05 s",
        "scores 1.0 2.3 4.5 6.7 8.9 10.11",
        "took 0.000123456 s, 1234567 bytes, 1,234,567 rows",
        "from 192.168.100.200:8000",
        "strength 4.5 mg x 30 capsules, 3 refills, 14 days",
        "epoch 1767225600 and 1234567890",
        "order RX-7K2M9QX moved to pending_review",
        "range 500-1000 mg",
        "Django 5.2.19 on Python 3.11.9",
        "NPI 1234567893 verified",
        "at 2026-03-01T10:00:00+00:00 job ran",
        "intake.services.prescriptions.prescription_submit finished",
        "prescription 42 claimed by user 7",
    ],
)
def test_redact_keeps_ordinary_text_and_numbers(line):
    assert redact(line) == line


def test_every_configured_log_handler_redacts():
    handlers = settings.LOGGING["handlers"]
    assert handlers
    for name, handler in handlers.items():
        assert "redact_phi" in handler.get("filters", []), f"log handler {name} does not redact"
    assert settings.LOGGING["filters"]["redact_phi"]["()"] == "intake.logging.RedactPatientDataFilter"


def test_the_filter_redacts_arguments_and_tracebacks():
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(RedactPatientDataFilter())
    handler.setFormatter(logging.Formatter("%(levelname)s %(message)s"))
    logger = logging.getLogger("tests.security.redaction")
    logger.addHandler(handler)
    logger.propagate = False
    try:
        logger.warning("sent to %s at %s", "ada@example.com", "+15555550123")
        try:
            raise ValueError("bad birth date 1980-02-29 for ada@example.com")
        except ValueError:
            logger.exception("failed for %(who)s", {"who": "ada@example.com"})
        logger.info("broken format %s %s", "only-one")  # must not lose the line
    finally:
        logger.removeHandler(handler)

    output = stream.getvalue()
    assert "ada@example.com" not in output
    assert "+15555550123" not in output
    assert "1980-02-29" not in output
    assert "ValueError" in output  # the traceback stays, its values go
    assert "broken format" in output


@pytest.fixture
def production_errors(settings, client):
    settings.DEBUG = False
    client.raise_request_exception = False
    return client


@pytest.mark.urls("tests.security.urls_errors")
def test_a_server_error_shows_the_plain_page_without_a_traceback(production_errors, caplog):
    response = production_errors.get("/test-errors/500/")

    body = response.content.decode()
    assert response.status_code == 500
    assert "Something went wrong" in body
    assert "Traceback" not in body
    assert "RuntimeError" not in body
    for part in PATIENT_DETAIL.split():
        assert part not in body


@pytest.mark.urls("tests.security.urls_errors")
@pytest.mark.parametrize(("path", "status"), [("/test-errors/404/", 404), ("/test-errors/403/", 403)])
def test_refusals_do_not_echo_the_exception(production_errors, path, status):
    response = production_errors.get(path)

    body = response.content.decode()
    assert response.status_code == status
    for part in PATIENT_DETAIL.split():
        assert part not in body


def test_another_prescribers_prescription_answers_404_without_patient_data(client, login, prescriber,
                                                                           other_prescriber, settings):  # fmt: skip
    settings.DEBUG = False
    prescription = make_prescription(prescriber)
    login(client, other_prescriber.user)

    response = client.get(f"/prescriber/prescriptions/{prescription.pk}/")

    body = response.content.decode()
    assert response.status_code == 404
    patient = prescription.patient
    for value in (patient.first_name, patient.last_name, patient.email, patient.phone,
                  patient.date_of_birth.isoformat(), prescription.reference):  # fmt: skip
        assert value not in body


def test_a_refused_page_answers_403_without_patient_data(client, login, technician, prescriber, settings):
    settings.DEBUG = False
    prescription = make_prescription(prescriber)
    login(client, technician)

    response = client.get("/pharmacy/audit/")

    body = response.content.decode()
    assert response.status_code == 403
    assert prescription.patient.last_name not in body
    assert prescription.reference not in body


def test_the_api_answers_404_for_another_prescribers_prescription_without_patient_data(prescriber, other_prescriber):
    from tests.conftest import api_client_for

    prescription = make_prescription(prescriber)

    response = api_client_for(other_prescriber.user).get(f"/api/v1/prescriptions/{prescription.pk}/")

    body = response.content.decode()
    assert response.status_code == 404
    assert prescription.patient.last_name not in body
    assert prescription.reference not in body
