"""Every message, for every audience and channel: a first name, the reference, plain words, a link.
Never the drug, the strength, the dosage form, the indication, the birth date or the answers."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal

import pytest
from django.db.models import QuerySet

from intake.links import questionnaire_url, status_url
from intake.models import Audience, Channel, Notification, NotificationEvent, Prescription
from intake.notifications.delivery import notification_deliver
from intake.notifications.outbox import notification_record
from intake.notifications.rendering import QUESTIONNAIRE_EVENTS, notification_render
from intake.services.questionnaire import questionnaire_submit
from tests.factories import clean_answers, make_prescription
from tests.notifications.mail import html_body, text_body

BIRTH = date(1967, 11, 23)
CLINICAL = [
    "naltrexone", "fibromyalgia", "M79.7", "capsule", "4.37", "1.13", "2.25", "bedtime", "by mouth",
    "Lovelacequist", "1967", "11/23", "Nov", "November", "Zyrtecqx", "penicillinqx", "qx-note",
    "opioid", "pregnan", "liver", "hepat", "alcohol", "allerg", "thyroid", "surgery", "immuno",
    "dose", "strength", "diagnos", "indication", "mg",
]  # fmt: skip


@pytest.fixture
def distinctive(prescriber) -> Prescription:
    """A prescription whose clinical fields hold strings that no message may show, with answers."""
    from tests.factories import Step

    prescription = make_prescription(
        prescriber,
        patient={"first_name": "Ada", "last_name": "Lovelacequist", "date_of_birth": BIRTH,
                 "email": "ada@example.com", "phone": "+15555550123", "contact_preference": "both"},
        strength_mg=Decimal("4.37"),
        titration=(Step(Decimal("1.13"), 14), Step(Decimal("2.25"), 14)),
        indication="fibromyalgia",
        prescriber_notes="qx-note: started on naltrexone",
    )  # fmt: skip
    questionnaire_submit(
        token=prescription.questionnaire_token,
        date_of_birth=BIRTH,
        answers=clean_answers(
            date_of_birth=BIRTH.isoformat(), current_medications=["Zyrtecqx 10 mg"], allergies=["penicillinqx"]
        ),
    )
    Prescription.objects.filter(pk=prescription.pk).update(carrier="UPS", tracking_number="1Z999AA10123456784")
    prescription.refresh_from_db()
    for event in NotificationEvent.values:
        if not prescription.notifications.filter(event=event).exists():
            notification_record(prescription=prescription, event=event)
    return prescription


def _clinical_in(text: str) -> list[str]:
    return [word for word in CLINICAL if re.search(rf"(?i)(?<![\w.]){re.escape(word)}", text)]


def _rows(prescription: Prescription) -> QuerySet[Notification]:
    return prescription.notifications.select_related("prescription__patient", "prescription__prescriber__user")


def test_every_event_has_a_message_for_each_of_its_audiences(distinctive):
    rows = _rows(distinctive)

    assert {row.event for row in rows} == set(NotificationEvent.values)
    assert {(row.event, row.audience, row.channel) for row in rows if row.audience == Audience.PATIENT} >= {
        (NotificationEvent.QUESTIONNAIRE_REMINDER, Audience.PATIENT, Channel.EMAIL),
        (NotificationEvent.QUESTIONNAIRE_REMINDER, Audience.PATIENT, Channel.SMS),
    }


def test_no_message_holds_clinical_detail(distinctive):
    for row in _rows(distinctive):
        message = notification_render(notification=row)
        for part in (message.subject, message.text, message.html, message.sms):
            assert _clinical_in(part) == [], f"{row.event} to {row.audience} by {row.channel}"


def test_messages_name_the_recipient_the_reference_and_the_right_link(distinctive):
    for row in _rows(distinctive):
        message = notification_render(notification=row)
        assert distinctive.reference in message.subject
        assert distinctive.reference in message.sms
        if row.audience == Audience.PATIENT:
            assert "Ada" in message.text
            wanted = questionnaire_url(distinctive) if row.event in QUESTIONNAIRE_EVENTS else status_url()
        elif row.audience == Audience.PRESCRIBER:
            assert "Grace" in message.text
            wanted = f"/prescriber/prescriptions/{distinctive.pk}/"
        else:
            # The pharmacy and the lead pharmacist open the prescription's review page.
            wanted = f"/pharmacy/prescriptions/{distinctive.pk}/"
        assert wanted in message.text
        assert wanted in message.html
        assert wanted in message.sms
        # The questionnaire's private link goes to the patient only, and only where it is needed.
        if wanted != questionnaire_url(distinctive):
            assert distinctive.questionnaire_token not in message.text + message.html + message.sms


def test_the_shipping_message_carries_the_tracking_number(distinctive):
    for row in _rows(distinctive).filter(event=NotificationEvent.SHIPPED):
        message = notification_render(notification=row)
        assert "1Z999AA10123456784" in message.text
        assert "1Z999AA10123456784" in message.html
        assert "1Z999AA10123456784" in message.sms


def test_the_emails_as_received_hold_no_clinical_detail(distinctive, smtp_server, sms_outbox):
    # when
    for row in _rows(distinctive):
        notification_deliver(notification_id=row.pk)

    # then
    emails = smtp_server.messages
    assert len(emails) == _rows(distinctive).filter(channel=Channel.EMAIL).count()
    for message in emails:
        received = f"{message['Subject']}\n{text_body(message)}\n{html_body(message)}"
        assert _clinical_in(received) == []
    assert sms_outbox
    for _to, body in sms_outbox:
        assert _clinical_in(body) == []
