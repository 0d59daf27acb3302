"""The staff page of undelivered notifications and its re-send button."""

from __future__ import annotations

import pytest
from django.urls import reverse

from intake.models import AuditRecord, DeliveryStatus, Notification, NotificationEvent
from tests.factories import make_prescription

LIST = reverse("notifications:list")


@pytest.fixture
def failed(prescriber) -> Notification:
    prescription = make_prescription(prescriber, patient={"email": "ada@example.com"})
    row = prescription.notifications.get(event=NotificationEvent.QUESTIONNAIRE_INVITATION)
    Notification.objects.filter(pk=row.pk).update(
        status=DeliveryStatus.FAILED, attempts=5, last_error="ConnectionRefusedError: [Errno 111] Connection refused"
    )
    row.refresh_from_db()
    return row


def test_staff_see_failed_notifications_with_a_masked_address(client, login, pharmacist, failed):
    login(client, pharmacist)

    response = client.get(LIST)

    assert response.status_code == 200
    body = response.content.decode()
    assert failed.prescription.reference in body
    assert "ConnectionRefusedError" in body
    assert reverse("notifications:resend", args=[failed.pk]) in body
    assert "a***@example.com" in body
    assert "ada@example.com" not in body
    assert AuditRecord.objects.filter(actor=pharmacist, object_type="notification").exists()


@pytest.mark.parametrize("persona", ["pharmacist", "technician"])
def test_staff_re_send_a_failed_notification_and_it_arrives(
    client, login, request, persona, failed, smtp_server, django_capture_on_commit_callbacks
):
    login(client, request.getfixturevalue(persona))

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("notifications:resend", args=[failed.pk]))

    assert response.status_code == 302
    failed.refresh_from_db()
    assert failed.status == DeliveryStatus.SENT
    assert failed.attempts == 1
    assert failed.last_error == ""
    assert len(smtp_server.to("ada@example.com")) == 1


def test_re_sending_a_row_that_has_not_failed_changes_nothing(client, login, pharmacist, prescriber):
    prescription = make_prescription(prescriber)
    row = prescription.notifications.first()
    login(client, pharmacist)

    response = client.post(reverse("notifications:resend", args=[row.pk]), follow=True)

    assert "has not failed" in response.content.decode()
    row.refresh_from_db()
    assert row.status == DeliveryStatus.PENDING
    assert row.attempts == 0


def test_a_prescriber_gets_403_and_changes_nothing(client, login, prescriber, failed):
    login(client, prescriber.user)

    listing = client.get(LIST)
    resend = client.post(reverse("notifications:resend", args=[failed.pk]))

    assert listing.status_code == 403
    assert resend.status_code == 403
    assert failed.prescription.reference not in listing.content.decode()
    failed.refresh_from_db()
    assert failed.status == DeliveryStatus.FAILED


def test_anonymous_visitors_are_sent_to_sign_in(client, failed):
    response = client.get(LIST)

    assert response.status_code == 302
    assert reverse("login") in response["Location"]
