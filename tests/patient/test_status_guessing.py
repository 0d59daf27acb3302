"""Guessing a patient's birth date at the status lookup: slow for a guesser, never a lock on the patient.

Addresses: the patient reads from PATIENT; strangers guess from 203.0.113.x.
"""

from __future__ import annotations

import re
from datetime import timedelta
from unittest import mock

import pytest
from django.core.cache import cache
from django.db import connection
from django.test import Client, RequestFactory
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

from intake.models import AuditAction, AuditRecord, Prescription
from intake.throttles import birth_date_try
from tests.factories import make_prescription

PATIENT = "198.51.100.7"
RIGHT = "1980-02-29"
WRONG = "1970-01-01"


def stranger(n: int) -> str:
    return f"203.0.113.{n + 1}"


def unknown_reference(n: int) -> str:
    return f"RX-{n:07d}"


def rate(settings, scope: str) -> int:
    return int(settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"][scope].split("/")[0])


def api_post(reference: str, date_of_birth: str = RIGHT, *, address: str = PATIENT):
    return APIClient().post(
        "/api/v1/status/", {"reference": reference, "date_of_birth": date_of_birth}, format="json", REMOTE_ADDR=address
    )


def api_get(reference: str, date_of_birth: str = RIGHT, *, address: str = PATIENT):
    return APIClient().get("/api/v1/status/", {"reference": reference, "date_of_birth": date_of_birth},
                           REMOTE_ADDR=address)  # fmt: skip


def page(reference: str, date_of_birth: str = RIGHT, *, address: str = PATIENT):
    return Client().post("/status/", {"reference": reference, "date_of_birth": date_of_birth}, REMOTE_ADDR=address)


DOORS = {"api": api_post, "api_get": api_get, "page": page}


# --- strangers cannot lock the patient out ---------------------------------------------------------------


def test_strangers_guessing_never_stop_the_patient_reading_their_status(prescription: Prescription, settings) -> None:
    # given many strangers, each guessing until refused, far past the number's mark
    for n in range(3 * rate(settings, "patient_reference")):
        for day in range(1, 4):
            assert page(prescription.reference, f"1970-01-{day:02d}", address=stranger(n)).status_code in (404, 429)

    # then the patient, from their own address, reads the status at every door
    for door in DOORS.values():
        response = door(prescription.reference)
        assert response.status_code == 200, door.__name__
    link = Client(REMOTE_ADDR=PATIENT).post(f"/status/{prescription.questionnaire_token}", {"date_of_birth": RIGHT})
    assert link.status_code == 302


def test_one_stranger_missing_a_number_does_not_refuse_it_to_anyone_else(prescription: Prescription, settings) -> None:
    for _ in range(rate(settings, "patient_lookup")):
        assert api_post(prescription.reference, WRONG, address=stranger(0)).status_code == 404

    assert api_post(prescription.reference, address=stranger(0)).status_code == 429
    assert api_post(prescription.reference).status_code == 200


# --- one address: a short window and a daily cap ----------------------------------------------------------


@pytest.mark.parametrize("door", DOORS.values(), ids=DOORS.keys())
def test_an_address_is_refused_after_its_misses_the_right_answer_too(
    door, prescription: Prescription, settings
) -> None:
    for n in range(rate(settings, "patient_lookup")):
        assert door(unknown_reference(n), WRONG).status_code == 404

    response = door(prescription.reference)

    assert response.status_code == 429
    assert response["Retry-After"] == "900"
    assert prescription.reference not in response.content.decode()
    assert door(prescription.reference, address=stranger(0)).status_code == 200


def test_the_page_says_how_long_to_wait(prescription: Prescription, settings) -> None:
    for n in range(rate(settings, "patient_lookup")):
        page(unknown_reference(n), WRONG)

    response = page(prescription.reference)

    assert response.status_code == 429
    assert "Wait 15 minutes and try again." in response.content.decode()


def test_an_address_guesses_at_most_its_daily_cap(prescription: Prescription, settings, time_machine) -> None:
    per_window, per_day = rate(settings, "patient_lookup"), rate(settings, "patient_lookup_daily")
    time_machine.move_to(timezone.now(), tick=False)
    misses = 0
    while misses < per_day:
        for _ in range(per_window):
            assert api_post(unknown_reference(misses), WRONG).status_code == 404
            misses += 1
        time_machine.shift(timedelta(minutes=16))

    refused = api_post(prescription.reference)

    assert refused.status_code == 429
    assert refused["Retry-After"] == str(24 * 3600)
    assert "Try again tomorrow." in page(prescription.reference).content.decode()
    time_machine.shift(timedelta(hours=24))
    assert api_post(prescription.reference).status_code == 200


def test_web_and_api_share_the_counters(prescription: Prescription, settings) -> None:
    limit = rate(settings, "patient_lookup")
    for n in range(limit):
        door = (page, api_post, api_get)[n % 3]
        assert door(unknown_reference(n), WRONG).status_code == 404

    assert api_post(prescription.reference).status_code == 429
    assert api_get(prescription.reference).status_code == 429
    assert page(prescription.reference).status_code == 429


def test_private_link_misses_count_for_the_lookup_too(prescription: Prescription, settings) -> None:
    browser = Client(REMOTE_ADDR=PATIENT)
    for _ in range(rate(settings, "patient_lookup")):
        assert (
            browser.post(f"/questionnaire/{prescription.questionnaire_token}", {"date_of_birth": WRONG}).status_code
            == 200
        )

    assert api_post(prescription.reference).status_code == 429


def test_an_ipv6_subscriber_is_one_client(prescription: Prescription, settings) -> None:
    for n in range(rate(settings, "patient_lookup")):
        assert api_post(prescription.reference, WRONG, address=f"2001:db8:1:2::{n + 1:x}").status_code == 404

    assert api_post(prescription.reference, address="2001:db8:1:2:ffff::1").status_code == 429
    assert api_post(prescription.reference, address="2001:db8:1:3::1").status_code == 200


def test_the_right_answer_does_not_count_as_a_miss(prescription: Prescription, settings) -> None:
    limit = rate(settings, "patient_lookup")
    for _ in range(2 * limit):
        assert api_post(prescription.reference).status_code == 200

    for n in range(limit - 1):
        assert api_post(unknown_reference(n), WRONG).status_code == 404
    assert api_post(prescription.reference).status_code == 200


def test_tries_sent_together_cannot_outrun_the_count(db, settings) -> None:
    # Requests in flight at once: each try is counted before its birth date is compared.
    request = RequestFactory().post("/api/v1/status/", REMOTE_ADDR=PATIENT)
    limit = rate(settings, "patient_lookup")
    in_flight = [birth_date_try(request, unknown_reference(n)).__enter__() for n in range(limit)]

    late = birth_date_try(request, unknown_reference(limit)).__enter__()

    assert not any(attempt.refused for attempt in in_flight)
    assert late.refused


# --- one number, many addresses: one try each past the mark -----------------------------------------------


def test_guessing_one_number_from_many_addresses_gets_one_try_per_address(prescription: Prescription, settings) -> None:
    mark = rate(settings, "patient_reference")
    for n in range(mark):
        assert api_post(prescription.reference, WRONG, address=stranger(n)).status_code == 404

    # past the mark, an address that missed this number is refused it, the right date included
    assert api_post(prescription.reference, address=stranger(0)).status_code == 429
    assert page(prescription.reference, address=stranger(1)).status_code == 429
    # a fresh address gets one try, then none
    for n in range(mark, mark + 5):
        assert api_post(prescription.reference, WRONG, address=stranger(n)).status_code == 404
        assert api_post(prescription.reference, "1970-01-02", address=stranger(n)).status_code == 429
    # the guessers may still look up another number: only this one is guarded
    assert api_post(unknown_reference(1), WRONG, address=stranger(0)).status_code == 404
    # and the pharmacy is told once that this number is being guessed
    told = AuditRecord.objects.filter(object_type="order number", action=AuditAction.DENIED)
    assert list(told.values_list("object_id", flat=True)) == [prescription.reference]


def test_an_unknown_number_is_guarded_the_same_way(db, settings) -> None:
    mark = rate(settings, "patient_reference")
    for n in range(mark):
        assert api_post(unknown_reference(0), WRONG, address=stranger(n)).status_code == 404

    assert api_post(unknown_reference(0), WRONG, address=stranger(0)).status_code == 429
    assert AuditRecord.objects.filter(object_type="order number", object_id=unknown_reference(0)).count() == 1


# --- a miss costs the same whether the number exists or not ----------------------------------------------


def _shape(sql: str) -> str:
    return re.sub(r"'[^']*'|\b\d+\b", "?", sql)


def _traced(send) -> tuple[int, list[str], list[str]]:
    """The status, the SQL (literals blanked) and the cache calls of one request."""
    with (
        CaptureQueriesContext(connection) as queries,
        mock.patch("intake.throttles.cache", wraps=cache) as cache_calls,
    ):
        response = send()
    return response.status_code, [_shape(q["sql"]) for q in queries], [call[0] for call in cache_calls.method_calls]


@pytest.mark.parametrize("door", DOORS.values(), ids=DOORS.keys())
def test_an_unknown_number_and_a_wrong_birth_date_cost_the_same(door, prescription: Prescription) -> None:
    unknown = _traced(lambda: door(unknown_reference(1), RIGHT, address=stranger(1)))
    wrong_date = _traced(lambda: door(prescription.reference, WRONG, address=stranger(2)))

    assert unknown[0] == wrong_date[0] == 404
    assert unknown[1] == wrong_date[1]
    assert unknown[2] == wrong_date[2]


def test_a_status_page_button_costs_the_same_for_an_unknown_number(prescription: Prescription, prescriber) -> None:
    # A browser with a session: it proved another order's birth date.
    browser = Client(REMOTE_ADDR=PATIENT)
    other = make_prescription(
        prescriber, patient={"first_name": "Otto", "date_of_birth": prescription.patient.date_of_birth}
    )
    assert browser.post("/status/", {"reference": other.reference, "date_of_birth": RIGHT}).status_code == 200

    unknown = _traced(lambda: browser.post("/status/refill/", {"reference": unknown_reference(1)}))
    unproven = _traced(lambda: browser.post("/status/refill/", {"reference": prescription.reference}))

    assert unknown[0] == unproven[0] == 404
    assert unknown[1] == unproven[1]
    assert unknown[2] == unproven[2]


# --- the birth date stays out of addresses ---------------------------------------------------------------


def test_the_status_page_form_posts(db) -> None:
    body = Client().get("/status/").content.decode()

    assert re.search(r'<form method="post"', body)
    assert 'method="get"' not in body.lower()


def test_the_birth_date_never_reaches_an_address(prescription: Prescription) -> None:
    browser = Client()

    found = browser.post("/status/", {"reference": prescription.reference, "date_of_birth": RIGHT}, follow=True)
    missed = browser.post("/status/", {"reference": prescription.reference, "date_of_birth": WRONG}, follow=True)

    assert found.status_code == 200 and prescription.reference in found.content.decode()
    assert missed.status_code == 404
    for response in (found, missed):
        assert response.redirect_chain == []
        assert response.request["PATH_INFO"] == "/status/"
        assert not response.request.get("QUERY_STRING")


def test_an_old_link_with_the_birth_date_goes_to_the_bare_page(prescription: Prescription) -> None:
    browser = Client()

    response = browser.get("/status/", {"reference": prescription.reference, "date_of_birth": RIGHT})

    assert response.status_code == 302
    assert response["Location"] == "/status/"
    shown = browser.get(response["Location"]).content.decode()
    # the pair in the old link is not read: the page asks for it again
    assert prescription.reference not in shown
    assert 'name="date_of_birth"' in shown
    assert not AuditRecord.objects.filter(prescription_reference=prescription.reference).exists()


def test_the_api_reads_the_status_by_post_and_still_by_get(prescription: Prescription) -> None:
    by_post = api_post(prescription.reference)
    by_get = api_get(prescription.reference)

    assert by_post.status_code == by_get.status_code == 200
    assert by_post.json() == by_get.json()
    assert by_post.json()["reference"] == prescription.reference
