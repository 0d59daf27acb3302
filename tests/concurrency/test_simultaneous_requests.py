"""Simultaneous requests, on PostgreSQL (row locks) and on SQLite (a write lock taken at BEGIN) alike:
one wins, the others get 409 (or, for one Idempotency-Key, the winner's answer), never a 500.

Threads with their own connections; on SQLite the test database is a file, so they wait for
each other as separate server processes would.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.contrib.messages import get_messages
from django.test import Client
from django.urls import reverse

from accounts.models import Role, User
from intake.models import IdempotencyKey, Patient, Prescription, PrescriptionEvent, PrescriptionStatus
from tests.api.conftest import PRESCRIPTIONS, action_url
from tests.conftest import api_client_for
from tests.factories import UserFactory, api_payload, make_prescription
from tests.simultaneous import at_once
from tests.workflow_helpers import advance

S = PrescriptionStatus
AT_ONCE = 4

pytestmark = [
    # Real commits, so that threads see each other's rows; the role groups and the formulary come
    # back after each flush through tests/conftest.py.
    pytest.mark.django_db(transaction=True),
]


@pytest.fixture
def pharmacists(pharmacist: User, second_pharmacist: User) -> list[User]:
    """Four pharmacists on duty, each at their own screen."""
    more = [UserFactory(email=f"pharmacist{n}@example.test", role=Role.PHARMACIST) for n in range(3, AT_ONCE + 1)]
    return [pharmacist, second_pharmacist, *more]


def statuses(responses: list[Any]) -> list[int]:
    return sorted(response.status_code for response in responses)


def test_simultaneous_claims_one_wins_the_others_get_409(prescriber, pharmacists, technician):
    prescription = advance(
        make_prescription(prescriber), S.PENDING_REVIEW, pharmacist=pharmacists[0], technician=technician
    )
    clients = [api_client_for(person) for person in pharmacists]

    responses = at_once(*(lambda c=c: c.post(action_url(prescription, "claim")) for c in clients))

    assert statuses(responses) == [200] + [409] * (AT_ONCE - 1), [r.content for r in responses]
    fresh = Prescription.objects.get(pk=prescription.pk)
    assert fresh.status == S.IN_REVIEW
    assert fresh.claimed_by_id in {person.pk for person in pharmacists}
    assert PrescriptionEvent.objects.filter(prescription=prescription, action="claim").count() == 1


def test_simultaneous_approvals_one_wins_the_others_get_409(prescriber, pharmacists, technician):
    prescription = advance(make_prescription(prescriber), S.IN_REVIEW, pharmacist=pharmacists[0], technician=technician)
    clients = [api_client_for(person) for person in pharmacists]

    responses = at_once(
        *(lambda c=c: c.post(action_url(prescription, "approve"), {"override_reasons": {}}, format="json")
          for c in clients)
    )  # fmt: skip

    assert statuses(responses) == [200] + [409] * (AT_ONCE - 1), [r.content for r in responses]
    assert Prescription.objects.get(pk=prescription.pk).status == S.APPROVED
    assert PrescriptionEvent.objects.filter(prescription=prescription, action="approve").count() == 1


def test_simultaneous_posts_with_one_key_make_one_prescription(prescriber):
    clients = [api_client_for(prescriber.user) for _ in range(AT_ONCE)]
    body = json.dumps(api_payload())

    def submit(client):
        return client.post(PRESCRIPTIONS, body, content_type="application/json", headers={"Idempotency-Key": "ehr-7"})

    responses = at_once(*(lambda c=c: submit(c) for c in clients))

    # then: one made it, the others answer the same, marked as replays
    assert statuses(responses) == [201] * AT_ONCE, [r.content for r in responses]
    assert len({r.json()["id"] for r in responses}) == 1
    assert sorted(r.headers.get("Idempotent-Replayed", "") for r in responses) == [""] + ["true"] * (AT_ONCE - 1)
    assert Prescription.objects.count() == 1
    assert IdempotencyKey.objects.count() == 1
    assert PrescriptionEvent.objects.filter(action="submit").count() == 1


def test_simultaneous_first_prescriptions_for_one_new_patient_make_one_patient(prescriber):
    # given: EHR requests for the same new patient at the same moment, each its own prescription
    clients = [api_client_for(prescriber.user) for _ in range(AT_ONCE)]
    body = json.dumps(api_payload())

    responses = at_once(*(lambda c=c: c.post(PRESCRIPTIONS, body, content_type="application/json") for c in clients))

    # then: all are taken, for one patient record with one "created" history row
    assert statuses(responses) == [201] * AT_ONCE, [r.content for r in responses]
    assert Prescription.objects.count() == AT_ONCE
    patient = Patient.objects.get()
    assert set(Prescription.objects.values_list("patient_id", flat=True)) == {patient.pk}
    assert list(patient.history.values_list("history_type", flat=True)) == ["+"]


def staff_clients(people: list[User]) -> list[Client]:
    clients = []
    for person in people:
        client = Client()
        client.force_login(person, backend="accounts.backends.PharmacyBackend")
        clients.append(client)
    return clients


def said(response) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


def test_simultaneous_claim_buttons_one_claims_the_others_are_told(prescriber, pharmacists, technician):
    prescription = advance(
        make_prescription(prescriber), S.PENDING_REVIEW, pharmacist=pharmacists[0], technician=technician
    )
    url = reverse("staff:claim", args=[prescription.pk])

    responses = at_once(*(lambda c=c: c.post(url) for c in staff_clients(pharmacists)))

    assert statuses(responses) == [302] * AT_ONCE
    told = [said(response) for response in responses]
    assert sorted(told) == [["Cannot claim a prescription that is in review."]] * (AT_ONCE - 1) + [
        ["You claimed this prescription."]
    ], told
    assert PrescriptionEvent.objects.filter(prescription=prescription, action="claim").count() == 1


def test_simultaneous_approve_buttons_one_approves_the_others_are_told(prescriber, pharmacists, technician):
    prescription = advance(make_prescription(prescriber), S.IN_REVIEW, pharmacist=pharmacists[0], technician=technician)
    url = reverse("staff:approve", args=[prescription.pk])

    responses = at_once(*(lambda c=c: c.post(url) for c in staff_clients(pharmacists)))

    assert statuses(responses) == [302] * AT_ONCE
    told = sorted(said(response) for response in responses)
    assert told == [["Cannot approve a prescription that is approved."]] * (AT_ONCE - 1) + [
        [f"{prescription.reference} approved."]
    ], told
    assert Prescription.objects.get(pk=prescription.pk).status == S.APPROVED
    assert PrescriptionEvent.objects.filter(prescription=prescription, action="approve").count() == 1
