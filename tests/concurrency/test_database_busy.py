"""A request that cannot have its lock in time answers 503 "try again" and changes nothing, on the
API and on the pharmacy's pages alike: on SQLite the one write lock, on PostgreSQL the row another
request holds (lock_timeout)."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from django.db import connection, connections
from django.urls import reverse

from intake.models import Prescription, PrescriptionEvent, PrescriptionStatus
from tests.api.conftest import action_url
from tests.conftest import api_client_for
from tests.factories import make_prescription
from tests.workflow_helpers import advance

S = PrescriptionStatus

pytestmark = pytest.mark.django_db(transaction=True)


@contextmanager
def writer_elsewhere(prescription: Prescription) -> Iterator[None]:
    """Another connection holds the lock this request needs, longer than this one waits (shortened)."""
    if connection.vendor == "sqlite":
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
        return
    holder = connections.create_connection("default")
    holder.set_autocommit(False)
    with holder.cursor() as cursor:
        cursor.execute("SELECT id FROM intake_prescription WHERE id = %s FOR UPDATE", [prescription.pk])
    with connection.cursor() as cursor:
        cursor.execute("SET lock_timeout = 200")
    try:
        yield
    finally:
        holder.rollback()
        holder.close()
        connection.close()  # the next connection starts with the configured lock_timeout


@pytest.fixture
def waiting(prescriber, pharmacist, technician) -> Prescription:
    return advance(make_prescription(prescriber), S.PENDING_REVIEW, pharmacist=pharmacist, technician=technician)


def test_an_api_action_that_cannot_write_answers_503_and_changes_nothing(waiting, pharmacist):
    client = api_client_for(pharmacist)

    with writer_elsewhere(waiting):
        response = client.post(action_url(waiting, "claim"))

    assert response.status_code == 503
    assert response["Retry-After"] == "5"
    assert "try again" in response.json()["detail"]
    assert Prescription.objects.get(pk=waiting.pk).status == S.PENDING_REVIEW
    assert not PrescriptionEvent.objects.filter(prescription=waiting, action="claim").exists()


def test_a_button_that_cannot_write_answers_a_busy_page(client, login, waiting, pharmacist):
    login(client, pharmacist)

    with writer_elsewhere(waiting):
        response = client.post(reverse("staff:claim", args=[waiting.pk]))

    assert response.status_code == 503
    assert "try again" in response.content.decode()
    assert Prescription.objects.get(pk=waiting.pk).status == S.PENDING_REVIEW


def test_a_request_waits_for_a_lock_at_most_the_configured_time():
    connection.close()
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SHOW lock_timeout")
            assert cursor.fetchone()[0] == "10s"
        else:
            cursor.execute("PRAGMA busy_timeout")
            assert cursor.fetchone()[0] == 20_000
            cursor.execute("PRAGMA journal_mode")
            assert cursor.fetchone()[0] == "wal"
