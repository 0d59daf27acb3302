"""On SQLite, a request that cannot have the write lock within the timeout answers 503 "try again"
and changes nothing, on the API and on the pharmacy's pages alike."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from django.db import connection
from django.urls import reverse

from intake.models import Prescription, PrescriptionEvent, PrescriptionStatus
from tests.api.conftest import action_url
from tests.conftest import api_client_for
from tests.factories import make_prescription
from tests.workflow_helpers import advance

S = PrescriptionStatus

pytestmark = [
    pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite's single write lock"),
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


@contextmanager
def writer_elsewhere() -> Iterator[None]:
    """Another process holds the write lock, longer than this one's (shortened) timeout."""
    options = connection.settings_dict["OPTIONS"]
    usual = options["timeout"]
    connection.close()
    options["timeout"] = 0.2
    other = sqlite3.connect(connection.settings_dict["NAME"], isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    try:
        yield
    finally:
        other.execute("ROLLBACK")
        other.close()
        connection.close()
        options["timeout"] = usual


@pytest.fixture
def waiting(prescriber, pharmacist, technician) -> Prescription:
    return advance(make_prescription(prescriber), S.PENDING_REVIEW, pharmacist=pharmacist, technician=technician)


def test_an_api_action_that_cannot_write_answers_503_and_changes_nothing(waiting, pharmacist):
    client = api_client_for(pharmacist)

    with writer_elsewhere():
        response = client.post(action_url(waiting, "claim"))

    assert response.status_code == 503
    assert response["Retry-After"] == "5"
    assert "try again" in response.json()["detail"]
    assert Prescription.objects.get(pk=waiting.pk).status == S.PENDING_REVIEW
    assert not PrescriptionEvent.objects.filter(prescription=waiting, action="claim").exists()


def test_a_button_that_cannot_write_answers_a_busy_page(client, login, waiting, pharmacist):
    login(client, pharmacist)

    with writer_elsewhere():
        response = client.post(reverse("staff:claim", args=[waiting.pk]))

    assert response.status_code == 503
    assert "try again" in response.content.decode()
    assert Prescription.objects.get(pk=waiting.pk).status == S.PENDING_REVIEW
