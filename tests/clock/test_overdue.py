"""The queue marks a prescription overdue once it has idled in a staff status too long."""

from __future__ import annotations

import pytest
from django.urls import reverse

from intake.models import Prescription, PrescriptionStatus
from intake.queue import queue_for_staff
from intake.services.workflow import prescription_claim
from tests.clock.conftest import at_status

S = PrescriptionStatus


@pytest.fixture(autouse=True)
def overdue_after_a_day(settings):
    settings.QUEUE_OVERDUE_HOURS = 24


def overdue_references(user, **params):
    _filter, page = queue_for_staff(user=user, params={"overdue": "on", **params})
    return [row.reference for row in page.rows]


def test_overdue_after_the_configured_hours_in_a_staff_status(clock, prescriber, pharmacist, technician):
    waiting = at_status(prescriber, S.PENDING_REVIEW, pharmacist=pharmacist, technician=technician)

    clock.at(hours=23, minutes=59)
    assert not Prescription.objects.get(pk=waiting.pk).is_overdue
    assert overdue_references(pharmacist) == []

    clock.at(hours=24, minutes=1)
    assert Prescription.objects.get(pk=waiting.pk).is_overdue
    assert overdue_references(pharmacist) == [waiting.reference]


def test_a_status_change_restarts_the_count(clock, prescriber, pharmacist, technician):
    waiting = at_status(prescriber, S.PENDING_REVIEW, pharmacist=pharmacist, technician=technician)
    clock.at(hours=30)
    claimed = prescription_claim(prescription_id=waiting.pk, actor=pharmacist)

    assert not claimed.is_overdue
    assert overdue_references(pharmacist, status=S.IN_REVIEW) == []


@pytest.mark.parametrize("status", [S.AWAITING_QUESTIONNAIRE, S.ON_HOLD, S.READY, S.SHIPPED])
def test_waiting_on_someone_else_is_never_overdue(status, clock, prescriber, pharmacist, technician):
    # The patient, the prescriber or the carrier holds these; their own timers remind them.
    prescription = at_status(prescriber, status, pharmacist=pharmacist, technician=technician)
    clock.at(days=10)

    assert not Prescription.objects.get(pk=prescription.pk).is_overdue
    assert overdue_references(pharmacist, status=status) == []


def test_the_queue_page_shows_the_overdue_mark(clock, client, login, prescriber, pharmacist, technician):
    late = at_status(prescriber, S.PENDING_REVIEW, pharmacist=pharmacist, technician=technician)
    clock.at(hours=2)
    fresh = at_status(prescriber, S.PENDING_REVIEW, pharmacist=pharmacist, technician=technician,
                      patient={"first_name": "Grace"})  # fmt: skip
    clock.at(hours=25)
    login(client, pharmacist)

    page = client.get(reverse("staff:queue")).content.decode()

    late_row = page[page.index(late.reference) :][:1200]
    fresh_row = page[page.index(fresh.reference) :][:1200]
    assert "Overdue" in late_row.split("</tr>")[0]
    assert "Overdue" not in fresh_row.split("</tr>")[0]
