"""The patient's status: GET /api/v1/status/, the /status/ page and the private-link status page."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

from intake.models import AuditAction, AuditRecord, Prescription, PrescriptionStatus
from intake.services.status import add_business_days, expected_ready_date, patient_status, tracking_url
from intake.when import date_words
from tests.patient.conftest import PATIENT_NAME, PATIENT_SURNAME, assert_nothing_clinical
from tests.workflow_helpers import advance

S = PrescriptionStatus
STATUS_KEYS = {"reference", "status", "status_text", "next_step", "expected_ready_date", "carrier",
               "tracking_number", "tracking_url",
               # The language of the texts: the patient's, or the one asked for with ?lang=.
               "language",
               # Set when a recall reached the medicine the patient has.
               "recall_notice",
               # The carrier's latest news of the parcel.
               "carrier_status", "carrier_status_text", "carrier_status_at",
               # The carrier cannot deliver to the address, and the medicine has not left yet.
               "address_notice",
               # What the patient can do about the next fill.
               "fill_number", "refills_left", "refill_possible_from", "renewal", "renewed_as",
               # The cash price once approved, the patient's answer, and the payment page once agreed.
               "price_amount", "price_currency", "price_consent", "price_consent_at", "payment_url"}  # fmt: skip


def lookup(api: APIClient, reference: str, date_of_birth: str = "1980-02-29"):
    return api.get("/api/v1/status/", {"reference": reference, "date_of_birth": date_of_birth})


# --- the API -----------------------------------------------------------------------------------


def test_right_pair_gives_the_status_and_nothing_clinical(api: APIClient, prescription: Prescription) -> None:
    response = lookup(api, prescription.reference)

    assert response.status_code == 200
    body = response.json()
    assert set(body) == STATUS_KEYS
    assert body["reference"] == prescription.reference
    assert body["status"] == "awaiting_questionnaire"
    assert "questions" in body["status_text"]
    assert body["expected_ready_date"] is None
    assert body["tracking_url"] is None
    assert_nothing_clinical(response.content.decode())
    assert PATIENT_NAME not in response.content.decode()
    assert AuditRecord.objects.filter(
        prescription_reference=prescription.reference, action=AuditAction.VIEW, actor_label="patient (status lookup)"
    ).exists()


def test_reference_is_read_as_people_type_it(api: APIClient, prescription: Prescription) -> None:
    response = lookup(api, f"  {prescription.reference.lower()} ")

    assert response.status_code == 200


def test_wrong_birth_date_and_unknown_reference_answer_the_same_404(api: APIClient, prescription: Prescription) -> None:
    wrong_date = lookup(api, prescription.reference, "1980-03-01")
    unknown = lookup(api, "RX-0000000")

    assert wrong_date.status_code == unknown.status_code == 404
    assert wrong_date.json() == unknown.json()
    assert not AuditRecord.objects.filter(action=AuditAction.VIEW, actor_label="patient (status lookup)").exists()


@pytest.mark.parametrize(
    "params",
    [
        {},
        {"reference": "RX-0000000"},
        {"date_of_birth": "1980-02-29"},
        {"reference": "RX-0000000", "date_of_birth": "02/29/1980"},
        {"reference": "RX-0000000", "date_of_birth": "1980-02-30"},
        {"reference": "RX 000; DROP", "date_of_birth": "1980-02-29"},
        {"reference": "RX-\x000000", "date_of_birth": "1980-02-29"},
        {"reference": "L" * 500, "date_of_birth": "1980-02-29"},
    ],
)
def test_missing_or_malformed_parameters_are_400(api: APIClient, db, params) -> None:
    response = api.get("/api/v1/status/", params)

    assert response.status_code == 400


def test_misses_are_throttled_per_client(api: APIClient, prescription: Prescription, settings) -> None:
    misses = int(settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]["patient_lookup"].split("/")[0])
    for n in range(misses):
        assert lookup(api, f"RX-{n:07d}").status_code == 404

    response = lookup(api, prescription.reference)

    assert response.status_code == 429
    assert "Retry-After" in response
    # another client is not held back
    assert lookup(APIClient(REMOTE_ADDR="10.9.9.9"), prescription.reference).status_code == 200


def test_misses_from_many_addresses_refuse_only_those_addresses(
    api: APIClient, prescription: Prescription, settings
) -> None:
    mark = int(settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]["patient_reference"].split("/")[0])
    guessers = [APIClient(REMOTE_ADDR=f"10.0.1.{n + 1}") for n in range(mark)]
    for n, guesser in enumerate(guessers):
        assert lookup(guesser, prescription.reference, f"1970-01-{n + 1:02d}").status_code == 404

    # a guesser is refused the right date too: otherwise it would confirm a guess
    assert lookup(guessers[0], prescription.reference).status_code == 429
    # the patient, who has not missed, is not
    assert lookup(api, prescription.reference).status_code == 200


def test_no_login_no_csrf(prescription: Prescription) -> None:
    response = lookup(APIClient(enforce_csrf_checks=True), prescription.reference)

    assert response.status_code == 200


@pytest.mark.parametrize("status", [S.PENDING_REVIEW, S.IN_REVIEW, S.ON_HOLD, S.COMPOUNDING, S.READY, S.SHIPPED,
                                    S.COMPLETED, S.REJECTED, S.CANCELLED])  # fmt: skip
def test_every_status_reads_without_clinical_words(
    api: APIClient, prescription: Prescription, pharmacist, technician, status
) -> None:
    advance(prescription, status, pharmacist=pharmacist, technician=technician)

    response = lookup(api, prescription.reference)

    assert response.status_code == 200
    assert response.json()["status"] == status
    assert_nothing_clinical(response.content.decode())
    for secret in ("Discussed with the prescriber", "Duplicate of an active order", "confirm the strength"):
        assert secret not in response.content.decode()  # pharmacists' words stay inside


def test_shipped_order_has_the_carriers_tracking_link(
    api: APIClient, prescription: Prescription, pharmacist, technician
) -> None:
    advance(prescription, S.SHIPPED, pharmacist=pharmacist, technician=technician)

    body = lookup(api, prescription.reference).json()

    assert body["carrier"] == "UPS"
    assert body["tracking_number"] == "1Z999AA10123456784"
    assert body["tracking_url"] == "https://www.ups.com/track?tracknum=1Z999AA10123456784"
    assert body["expected_ready_date"] == timezone.localdate().isoformat()


# --- the pages ---------------------------------------------------------------------------------


def test_status_page_shows_a_form(client: Client, db) -> None:
    response = client.get("/status/")

    assert response.status_code == 200
    body = response.content.decode()
    assert 'name="reference"' in body and 'name="date_of_birth"' in body


def test_status_page_right_pair(client: Client, prescription: Prescription, pharmacist, technician) -> None:
    advance(prescription, S.SHIPPED, pharmacist=pharmacist, technician=technician)

    response = client.post("/status/", {"reference": prescription.reference, "date_of_birth": "1980-02-29"})

    assert response.status_code == 200
    body = response.content.decode()
    assert "on its way" in body
    assert "What happens next" in body
    assert 'href="https://www.ups.com/track?tracknum=1Z999AA10123456784"' in body
    assert 'rel="noopener noreferrer"' in body
    assert PATIENT_NAME not in body and PATIENT_SURNAME not in body
    assert_nothing_clinical(body)
    assert AuditRecord.objects.filter(prescription_reference=prescription.reference, action=AuditAction.VIEW).exists()


def test_status_page_wrong_pair_is_404_and_neutral(client: Client, prescription: Prescription) -> None:
    wrong = client.post("/status/", {"reference": prescription.reference, "date_of_birth": "1980-03-01"})
    unknown = client.post("/status/", {"reference": "RX-0000000", "date_of_birth": "1980-03-01"})

    assert wrong.status_code == unknown.status_code == 404
    assert "could not find an order" in wrong.content.decode()
    assert "on its way" not in wrong.content.decode()
    assert "waiting for your answers" not in wrong.content.decode()


def test_status_page_malformed_shows_field_errors(client: Client, db) -> None:
    response = client.post("/status/", {"reference": "", "date_of_birth": "yesterday"})

    assert response.status_code == 200
    assert 'aria-invalid="true"' in response.content.decode()


def test_status_page_misses_are_throttled(client: Client, prescription: Prescription, settings) -> None:
    misses = int(settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]["patient_reference"].split("/")[0])
    for _ in range(misses):
        client.post("/status/", {"reference": prescription.reference, "date_of_birth": "1970-01-01"})

    response = client.post("/status/", {"reference": prescription.reference, "date_of_birth": "1980-02-29"})

    assert response.status_code == 429


def test_web_and_api_misses_add_up(client: Client, api: APIClient, prescription: Prescription, settings) -> None:
    misses = int(settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]["patient_lookup"].split("/")[0])
    for n in range(misses - 1):
        lookup(api, f"RX-{n:07d}", "1970-01-01")
    client.post(f"/questionnaire/{prescription.questionnaire_token}", {"date_of_birth": "1970-01-01"})

    assert lookup(api, prescription.reference).status_code == 429


def test_private_link_status_needs_the_birth_date(client: Client, prescription: Prescription) -> None:
    locked = client.get(f"/status/{prescription.questionnaire_token}")
    assert 'name="date_of_birth"' in locked.content.decode()
    assert prescription.reference not in locked.content.decode()

    client.post(f"/status/{prescription.questionnaire_token}", {"date_of_birth": "1980-02-29"})
    response = client.get(f"/status/{prescription.questionnaire_token}/")

    assert response.status_code == 200
    body = response.content.decode()
    assert prescription.reference in body
    assert "waiting for your answers" in body
    assert_nothing_clinical(body)


# --- the rules behind the words ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "days", "expected"),
    [
        (date(2025, 6, 2), 3, date(2025, 6, 5)),  # Monday -> Thursday
        (date(2025, 6, 5), 3, date(2025, 6, 10)),  # Thursday -> Tuesday, over the weekend
        (date(2025, 6, 7), 3, date(2025, 6, 11)),  # Saturday -> Wednesday
        (date(2025, 6, 6), 1, date(2025, 6, 9)),  # Friday -> Monday
    ],
)
def test_business_days(start: date, days: int, expected: date) -> None:
    assert add_business_days(start, days) == expected


def test_expected_ready_date_counts_from_the_answers(
    prescription: Prescription, pharmacist, technician, settings
) -> None:
    advance(prescription, S.PENDING_REVIEW, pharmacist=pharmacist, technician=technician)
    prescription = Prescription.objects.select_related("questionnaire").get(pk=prescription.pk)
    tz = ZoneInfo(settings.TIME_ZONE)
    prescription.questionnaire.submitted_at = datetime(2025, 6, 5, 10, tzinfo=tz)  # a Thursday

    assert expected_ready_date(prescription, today=date(2025, 6, 5)) == date(2025, 6, 10)
    # late: the next working day, never a date in the past
    assert expected_ready_date(prescription, today=date(2025, 6, 14)) == date(2025, 6, 16)
    prescription.rush = True
    assert expected_ready_date(prescription, today=date(2025, 6, 5)) == date(2025, 6, 6)


def test_no_date_while_waiting_for_answers_or_closed(prescription: Prescription) -> None:
    assert expected_ready_date(prescription) is None
    prescription.status = S.CANCELLED
    assert expected_ready_date(prescription) is None
    assert patient_status(prescription).progress == []


@pytest.mark.parametrize(
    ("carrier", "number", "expected"),
    [
        ("UPS", "1Z999AA10123456784", "https://www.ups.com/track?tracknum=1Z999AA10123456784"),
        ("usps", "9400 1000 0000 0000 0000 00",
         "https://tools.usps.com/go/TrackConfirmAction?tLabels=9400%201000%200000%200000%200000%2000"),
        ("FedEx Ground", "123456789012", "https://www.fedex.com/fedextrack/?trknbr=123456789012"),
        ("DHL Express", "1234567890",
         "https://www.dhl.com/us-en/home/tracking/tracking-express.html?submit=1&tracking-id=1234567890"),
        ("Local courier", "42", None),
        ("UPS", "", None),
        ("UPS", "a&b=<c>", "https://www.ups.com/track?tracknum=a%26b%3D%3Cc%3E"),
    ],
)  # fmt: skip
def test_tracking_url_per_carrier(carrier: str, number: str, expected: str | None) -> None:
    assert tracking_url(carrier, number) == expected


def test_progress_marks_the_current_step(prescription: Prescription) -> None:
    prescription.status = S.COMPOUNDING
    steps = dict(patient_status(prescription).progress)

    assert steps == {"Your answers": "done", "Pharmacist review": "done", "Preparing": "current", "Ready": "todo",
                     "Shipped or picked up": "todo"}  # fmt: skip


def test_the_status_can_be_read_with_a_post_keeping_the_birth_date_out_of_the_url(api, prescription) -> None:
    response = api.post("/api/v1/status/", {"reference": prescription.reference, "date_of_birth": "1980-02-29"},
                        format="json")  # fmt: skip
    wrong = api.post("/api/v1/status/", {"reference": prescription.reference, "date_of_birth": "1980-03-01"},
                     format="json")  # fmt: skip

    assert response.status_code == 200
    assert response.json()["reference"] == prescription.reference
    assert response["Cache-Control"].startswith("no-store") or "no-store" in response["Cache-Control"]
    assert wrong.status_code == 404 and "status" not in wrong.json()


# --- no estimate where none can be given, each message once ------------------------------------


def test_a_miss_on_the_status_page_is_said_once(client: Client, prescription: Prescription) -> None:
    response = client.post("/status/", {"reference": prescription.reference, "date_of_birth": "1980-03-01"})

    assert response.content.decode().count("could not find an order") == 1


HARD_STOP_FLAG = {"code": "opioid_use", "severity": "hard_stop", "message": "Reports opioid use.", "verification": None}


def test_no_ready_date_while_a_hard_stop_waits_for_verification(
    prescription: Prescription, pharmacist, technician
) -> None:
    advance(prescription, S.PENDING_REVIEW, pharmacist=pharmacist, technician=technician)
    prescription = Prescription.objects.select_related("questionnaire").get(pk=prescription.pk)
    prescription.flags = [HARD_STOP_FLAG]

    assert expected_ready_date(prescription) is None

    prescription.flags = [{**HARD_STOP_FLAG, "verification": {"method": "pdmp", "by": "P", "at": "2026-01-05"}}]
    assert expected_ready_date(prescription) is not None


@pytest.mark.parametrize("status", [S.AWAITING_QUESTIONNAIRE, S.ON_HOLD, S.REJECTED, S.CANCELLED])
def test_no_ready_date_on_hold_awaiting_answers_or_closed(
    prescription: Prescription, pharmacist, technician, status: str
) -> None:
    advance(prescription, S.PENDING_REVIEW, pharmacist=pharmacist, technician=technician)
    prescription = Prescription.objects.select_related("questionnaire").get(pk=prescription.pk)
    prescription.status = status

    assert expected_ready_date(prescription) is None


def test_the_status_page_of_a_hard_stopped_order_gives_no_date(
    client: Client, prescription: Prescription, pharmacist, technician
) -> None:
    advance(prescription, S.PENDING_REVIEW, pharmacist=pharmacist, technician=technician)
    Prescription.objects.filter(pk=prescription.pk).update(flags=[HARD_STOP_FLAG])

    response = client.post("/status/", {"reference": prescription.reference, "date_of_birth": "1980-02-29"})

    body = response.content.decode()
    assert response.status_code == 200
    assert "Expected ready by" not in body
    assert_nothing_clinical(body)


def test_the_status_page_gives_the_ready_date_in_words(
    client: Client, prescription: Prescription, pharmacist, technician
) -> None:
    advance(prescription, S.PENDING_REVIEW, pharmacist=pharmacist, technician=technician)
    prescription = Prescription.objects.select_related("questionnaire").get(pk=prescription.pk)
    expected = expected_ready_date(prescription)
    assert expected is not None

    response = client.post("/status/", {"reference": prescription.reference, "date_of_birth": "1980-02-29"})

    assert "Expected ready by" in response.content.decode()
    assert date_words(expected, weekday=True) in response.content.decode()
