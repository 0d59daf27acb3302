"""Simultaneous requests (PostgreSQL: real row locks and concurrent transactions)."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable

import pytest
from django.db import connection, connections

from intake.models import IdempotencyKey, Patient, Prescription, PrescriptionEvent
from tests.api.conftest import PRESCRIPTIONS, action_url
from tests.conftest import api_client_for
from tests.factories import api_payload, make_prescription
from tests.workflow_helpers import advance

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL's row locks"),
    # serialized_rollback: the roles (groups) installed by migrations survive the flush.
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def at_once(*calls: Callable[[], object]) -> list[object]:
    """Run the calls in threads released together; their results in order."""
    barrier = threading.Barrier(len(calls))
    results: list[object] = [None] * len(calls)

    def run(index: int, call: Callable[[], object]) -> None:
        try:
            barrier.wait()
            results[index] = call()
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i, call)) for i, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def test_two_simultaneous_claims_one_wins_the_other_gets_409(prescriber, pharmacist, second_pharmacist, technician):
    prescription = advance(
        make_prescription(prescriber), "pending_review", pharmacist=pharmacist, technician=technician
    )
    clients = [api_client_for(pharmacist), api_client_for(second_pharmacist)]

    responses = at_once(*(lambda c=c: c.post(action_url(prescription, "claim")) for c in clients))

    assert sorted(r.status_code for r in responses) == [200, 409]
    assert PrescriptionEvent.objects.filter(prescription=prescription, action="claim").count() == 1


def test_two_simultaneous_posts_with_one_key_make_one_prescription(prescriber):
    clients = [api_client_for(prescriber.user), api_client_for(prescriber.user)]
    body = json.dumps(api_payload())

    def submit(client):
        return client.post(PRESCRIPTIONS, body, content_type="application/json", headers={"Idempotency-Key": "ehr-7"})

    responses = at_once(*(lambda c=c: submit(c) for c in clients))

    assert all(r.status_code in (200, 201) for r in responses), [r.content for r in responses]
    assert len({r.json()["id"] for r in responses}) == 1
    assert Prescription.objects.count() == 1
    assert IdempotencyKey.objects.count() == 1


def test_two_simultaneous_first_prescriptions_for_one_new_patient_make_one_patient(prescriber):
    # given: two EHR requests for the same new patient at the same moment, each its own prescription
    clients = [api_client_for(prescriber.user), api_client_for(prescriber.user)]
    body = json.dumps(api_payload())

    responses = at_once(*(lambda c=c: c.post(PRESCRIPTIONS, body, content_type="application/json") for c in clients))

    # then: both are taken, for one patient record with one "created" history row
    assert [r.status_code for r in responses] == [201, 201], [r.content for r in responses]
    assert Prescription.objects.count() == 2
    patient = Patient.objects.get()
    assert set(Prescription.objects.values_list("patient_id", flat=True)) == {patient.pk}
    assert list(patient.history.values_list("history_type", flat=True)) == ["+"]
