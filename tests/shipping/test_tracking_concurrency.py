"""The same delivered event sent twice at the same moment: one kept, one status change, no 500."""

from __future__ import annotations

import pytest
from django.test import Client

from intake.models import NotificationEvent, Prescription, PrescriptionEvent, PrescriptionStatus, TrackingEvent
from tests.shipping.helpers import SECRET, event, post, shipped
from tests.simultaneous import at_once

pytestmark = pytest.mark.django_db(transaction=True)
CODE = "9400111899223197428491"


def test_a_delivery_sent_twice_at_once_completes_once(settings, prescriber, pharmacist, technician):
    settings.EASYPOST_WEBHOOK_SECRET = SECRET
    parcel = shipped(prescriber, pharmacist=pharmacist, technician=technician, code=CODE)
    body = event("evt_same", CODE, "delivered")

    answers = at_once(lambda: post(Client(), body), lambda: post(Client(), body))

    assert sorted(a.status_code for a in answers) == [200, 200]
    assert TrackingEvent.objects.filter(event_id="evt_same").count() == 1
    assert Prescription.objects.get(pk=parcel.pk).status == PrescriptionStatus.COMPLETED
    assert PrescriptionEvent.objects.filter(prescription=parcel, action="delivered").count() == 1
    assert parcel.notifications.filter(event=NotificationEvent.DELIVERED).count() == 1


def test_an_unknown_code_sent_twice_at_once_is_kept_once(settings):
    settings.EASYPOST_WEBHOOK_SECRET = SECRET
    body = event("evt_lost", "NOBODYS", "in_transit")

    answers = at_once(lambda: post(Client(), body), lambda: post(Client(), body))

    assert sorted(a.status_code for a in answers) == [200, 200]
    assert TrackingEvent.objects.filter(event_id="evt_lost").count() == 1
