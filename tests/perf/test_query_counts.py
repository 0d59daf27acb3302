"""Pinned query counts of the hot paths: a page that grows a query per row fails here.

The counts are those of the request alone; inside a test's transaction a service's own transaction
is a savepoint, which django_assert_num_queries counts too.
"""

from __future__ import annotations

import pytest
from django.core.cache import cache
from django.urls import reverse

from intake.models import Prescription, PrescriptionStatus
from intake.queue import COUNTS_CACHE_KEY, PAGE_SIZE
from intake.services.refills import renewal_deny
from tests.conftest import api_client_for
from tests.factories import api_payload, make_prescription
from tests.refills.dispensing import dispensed, waiting_renewal

S = PrescriptionStatus
PRESCRIPTIONS = "/api/v1/prescriptions/"
# session, user, roles, page rows, audit row, counts (second-factor enrolment is read once a session). The session
# is written at most once a minute (intake.middleware.SessionIdleRefreshMiddleware), not on each request.
QUEUE_QUERIES = 6


def signed_in(client, login, user) -> None:
    """Sign in and make a first request: it records the session's first idle refresh (one write a
    minute), so the counted request after it shows the steady state."""
    login(client, user)
    client.get(reverse("staff:queue_counts"))
    counts_not_cached()


def counts_not_cached() -> None:
    """The counts are cached for a few seconds; the pinned figures are for a miss, the GROUP BY included."""
    cache.delete(COUNTS_CACHE_KEY)


def queue_count(client, django_assert_num_queries, expected: int) -> str:
    counts_not_cached()
    with django_assert_num_queries(expected):
        response = client.get(reverse("staff:queue"), {"status": S.PENDING_REVIEW})
    assert response.status_code == 200
    return response.content.decode()


def test_queue_page_runs_the_same_queries_for_one_row_and_a_full_page(
    client, login, pending_many, pharmacist, django_assert_num_queries
):
    # given: one prescription waiting, then a full page and more
    made = pending_many(1)
    signed_in(client, login, pharmacist)

    # when / then: the same number of queries whatever the number of rows
    one = queue_count(client, django_assert_num_queries, QUEUE_QUERIES)
    made += pending_many(PAGE_SIZE + 1)
    full = queue_count(client, django_assert_num_queries, QUEUE_QUERIES)

    assert one.count('href="/pharmacy/prescriptions/') == 1
    assert full.count('href="/pharmacy/prescriptions/') == PAGE_SIZE
    assert made[0].reference in one


def test_queue_page_with_claims_and_flags_runs_the_same_queries(
    client, login, pending_many, pharmacist, technician, django_assert_num_queries
):
    made = pending_many(PAGE_SIZE)
    flags = [{"code": "pregnancy", "severity": "warning", "message": "planning"}]
    Prescription.objects.filter(pk__in=[rx.pk for rx in made[::2]]).update(
        status=S.IN_REVIEW, claimed_by=technician, flags=flags, flag_level="warning"
    )
    signed_in(client, login, pharmacist)

    with django_assert_num_queries(QUEUE_QUERIES):
        response = client.get(reverse("staff:queue"), {"status": S.IN_REVIEW})

    body = response.content.decode()
    assert body.count('href="/pharmacy/prescriptions/') == PAGE_SIZE // 2
    assert "Tom Technician" in body
    assert "flag-warning" in body


def test_a_deep_queue_page_runs_the_same_queries_as_the_first(
    client, login, pending_many, pharmacist, django_assert_num_queries
):
    pending_many(PAGE_SIZE * 2 + 5)
    signed_in(client, login, pharmacist)
    first = client.get(reverse("staff:queue"), {"status": S.PENDING_REVIEW})
    cursor = first.content.decode().split("after=")[1].split('"')[0].replace("&amp;", "&")
    counts_not_cached()

    with django_assert_num_queries(QUEUE_QUERIES):
        second = client.get(reverse("staff:queue"), {"status": S.PENDING_REVIEW, "after": cursor})

    assert second.content.decode().count('href="/pharmacy/prescriptions/') == PAGE_SIZE


def test_queue_counts_partial_runs_a_fixed_number_of_queries(
    client, login, pending_many, pharmacist, django_assert_num_queries
):
    pending_many(3)
    signed_in(client, login, pharmacist)

    # session, user, roles, counts
    with django_assert_num_queries(4):
        response = client.get(reverse("staff:queue_counts"), HTTP_HX_REQUEST="true")

    assert 'data-status-count="pending_review">3<' in response.content.decode()


@pytest.mark.parametrize("rows", [1, 20])
def test_api_list_runs_the_same_queries_whatever_the_number_of_rows(
    rows, prescriber, pharmacist, django_assert_num_queries
):
    for n in range(rows):
        make_prescription(prescriber, patient={"first_name": f"List{n}"})
    api = api_client_for(pharmacist)

    # token with user, roles, page count, page rows, titration steps, clarifications, fills, audit row
    with django_assert_num_queries(8):
        response = api.get(PRESCRIPTIONS)

    assert response.status_code == 200
    assert len(response.json()["results"]) == rows


def test_submission_runs_a_fixed_number_of_queries(prescriber, django_assert_num_queries):
    api = api_client_for(prescriber.user)
    api.post(PRESCRIPTIONS, api_payload(), format="json")  # the formulary and the token are read once

    # token with user and prescriber profile, roles, [savepoint], the patient looked up by its identity key
    # (locked: a returning patient's details may change), the new patient's save() and its history,
    # prescription (signed before its INSERT) and its history, first fill, titration steps, event, the
    # notification rows (one INSERT), the audit row (in the submission's transaction), [release]. The
    # offered dosage forms come from the process's copy. No read-back: the answer is rendered from what
    # was just written. The patient lives where the prescriber registered: that licence answers the
    # licensure check, no licence table is read.
    payload = api_payload()
    payload["patient"]["last_name"] = "Newpatient"
    assert payload["patient"]["address"]["state"] == prescriber.license_state
    with django_assert_num_queries(14):
        response = api.post(PRESCRIPTIONS, payload, format="json")

    assert response.status_code == 201
    body = response.json()
    stored = Prescription.objects.get(pk=body["id"])
    assert body["reference"] == stored.reference
    assert body["status"] == stored.status == S.AWAITING_QUESTIONNAIRE
    assert body["altered"] is False
    assert stored.content_digest == stored.compute_digest()
    assert [step["days"] for step in body["titration"]] == [14, 14]
    assert stored.history.count() == 1  # one row: the prescription as signed


def test_a_patient_in_another_state_reads_the_prescribers_licences_once(prescriber, django_assert_num_queries):
    api = api_client_for(prescriber.user)
    api.post(PRESCRIPTIONS, api_payload(), format="json")

    # The fourteen above and the prescriber's valid licence states (one UNION), named in the flag.
    payload = api_payload()
    payload["patient"]["last_name"] = "Elsewhere"
    payload["patient"]["address"].update(state="NY", city="Albany", postal_code="12207")
    with django_assert_num_queries(15):
        response = api.post(PRESCRIPTIONS, payload, format="json")

    assert response.status_code == 201
    assert "prescriber_licensure" in {flag["code"] for flag in response.json()["flags"]}


def test_a_new_idempotency_key_costs_only_its_own_insert(prescriber, django_assert_num_queries):
    api = api_client_for(prescriber.user)
    api.post(PRESCRIPTIONS, api_payload(), format="json", HTTP_IDEMPOTENCY_KEY="first")

    # The fourteen above and the key's INSERT: the key is not looked up first (a replay is caught by
    # its unique constraint, and its transaction rolls back).
    payload = api_payload()
    payload["patient"]["last_name"] = "Newpatient"
    with django_assert_num_queries(15):
        response = api.post(PRESCRIPTIONS, payload, format="json", HTTP_IDEMPOTENCY_KEY="second")
    assert response.status_code == 201

    # A replay of it: the same transaction, rolled back at the key, then the stored answer.
    again = api.post(PRESCRIPTIONS, payload, format="json", HTTP_IDEMPOTENCY_KEY="second")
    assert again.status_code == 201 and again["Idempotent-Replayed"] == "true"
    assert again.json()["id"] == response.json()["id"]
    assert Prescription.objects.filter(patient__last_name="Newpatient").count() == 1


def test_submission_answer_matches_a_later_read(prescriber):
    api = api_client_for(prescriber.user)

    created = api.post(PRESCRIPTIONS, api_payload(), format="json").json()
    read = api.get(f"{PRESCRIPTIONS}{created['id']}/").json()

    assert created == read


def test_status_lookup_runs_a_fixed_number_of_queries(prescriber, api, django_assert_num_queries):
    prescription = make_prescription(prescriber)

    # the prescription with its patient and answers, the audit row
    with django_assert_num_queries(2):
        response = api.get("/api/v1/status/", {"reference": prescription.reference, "date_of_birth": "1980-02-29"})

    assert response.status_code == 200
    assert response.json()["status"] == S.AWAITING_QUESTIONNAIRE


def test_status_lookup_of_a_handed_over_prescription_reads_its_refill_facts_in_two_queries(
    prescriber, pharmacist, technician, api, django_assert_num_queries
):
    # given most lookups' case: the order was handed over, and a renewal was asked for once
    prescription = dispensed(prescriber, pharmacist=pharmacist, technician=technician, refills=0)
    renewal_deny(renewal_id=waiting_renewal(prescription).pk, actor=prescriber.user, reason="Needs a visit")

    # the prescription with its patient and answers, the audit row, the last dispensed fill, the renewals
    with django_assert_num_queries(4):
        response = api.get("/api/v1/status/", {"reference": prescription.reference, "date_of_birth": "1980-02-29"})

    assert response.status_code == 200
    assert response.json()["renewal"] == "denied"


# session, user, roles, the patient, their prescriptions, the page of records, the roles of the people
# on it, the report's own audit row
ACCESS_REPORT_QUERIES = 8


@pytest.mark.parametrize("reads", [1, 60])
def test_patient_access_report_runs_the_same_queries_whatever_the_number_of_rows(
    reads, client, login, prescriber, pharmacist, technician, second_pharmacist, django_assert_num_queries
):
    # given: reads by several people in several roles, up to more than a page
    prescription = make_prescription(prescriber)
    readers = [api_client_for(user) for user in (technician, second_pharmacist, pharmacist)]
    for n in range(reads):
        readers[n % len(readers)].get(f"{PRESCRIPTIONS}{prescription.pk}/")
    signed_in(client, login, pharmacist)

    # when / then
    with django_assert_num_queries(ACCESS_REPORT_QUERIES):
        response = client.get(reverse("staff:patient_access", args=[prescription.patient_id]))

    assert response.status_code == 200
    assert "Pharmacy technician" in response.content.decode() or reads == 1
    assert len(response.context["rows"]) == min(reads, 50)
