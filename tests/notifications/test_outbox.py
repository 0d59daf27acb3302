"""Outbox rows: who hears by which channel, the one questionnaire reminder, the SMS log backend."""

from __future__ import annotations

import logging
from datetime import date, timedelta

from django.utils import timezone

from intake.models import Channel, NotificationEvent, Prescription
from intake.notifications.outbox import questionnaire_reminders_record
from intake.notifications.sms import LogSmsBackend, sms_backend
from intake.services.questionnaire import questionnaire_submit
from tests.factories import clean_answers, make_prescription

REMINDER = NotificationEvent.QUESTIONNAIRE_REMINDER


def _invitation_channels(prescription: Prescription) -> list[tuple[str, str]]:
    rows = prescription.notifications.filter(event=NotificationEvent.QUESTIONNAIRE_INVITATION)
    return sorted(rows.values_list("channel", "recipient"))


def test_the_patients_contact_preference_is_respected(prescriber):
    email_only = make_prescription(prescriber, patient={"first_name": "Eve", "contact_preference": "email"})
    sms_only = make_prescription(prescriber, patient={"first_name": "Sam", "contact_preference": "sms"})
    both = make_prescription(prescriber, patient={"first_name": "Bo", "contact_preference": "both"})

    assert _invitation_channels(email_only) == [(Channel.EMAIL, "ada@example.com")]
    assert _invitation_channels(sms_only) == [(Channel.SMS, "+15555550123")]
    assert _invitation_channels(both) == [(Channel.EMAIL, "ada@example.com"), (Channel.SMS, "+15555550123")]


def test_a_patient_who_wants_texts_but_gave_no_phone_hears_by_email(prescriber):
    prescription = make_prescription(prescriber, patient={"contact_preference": "sms", "phone": ""})

    assert _invitation_channels(prescription) == [(Channel.EMAIL, "ada@example.com")]


def _submitted_hours_ago(prescription: Prescription, hours: float) -> None:
    then = timezone.now() - timedelta(hours=hours)
    Prescription.objects.filter(pk=prescription.pk).update(submitted_at=then, status_changed_at=then)


def test_an_unanswered_questionnaire_is_reminded_once(
    prescriber, settings, smtp_server, django_capture_on_commit_callbacks
):
    # given
    settings.QUESTIONNAIRE_REMINDER_HOURS = 48
    prescription = make_prescription(prescriber)
    _submitted_hours_ago(prescription, 49)

    # when: the hourly job runs twice
    with django_capture_on_commit_callbacks(execute=True):
        first = questionnaire_reminders_record()
    second = questionnaire_reminders_record()

    # then
    assert first == [prescription.pk]
    assert second == []
    assert prescription.notifications.filter(event=REMINDER).count() == 1
    reminder = smtp_server.to("ada@example.com")
    assert len(reminder) == 1
    assert reminder[0]["Subject"].startswith("Reminder")


def test_no_reminder_before_its_time_or_once_answered_or_when_the_link_expired(prescriber, settings):
    settings.QUESTIONNAIRE_REMINDER_HOURS = 48
    too_soon = make_prescription(prescriber, patient={"first_name": "Early"})
    _submitted_hours_ago(too_soon, 47)
    answered = make_prescription(prescriber, patient={"first_name": "Done"})
    _submitted_hours_ago(answered, 60)
    questionnaire_submit(token=answered.questionnaire_token, date_of_birth=date(1980, 2, 29), answers=clean_answers())
    expired = make_prescription(prescriber, patient={"first_name": "Late"})
    _submitted_hours_ago(expired, 60)
    Prescription.objects.filter(pk=expired.pk).update(questionnaire_expires_at=timezone.now() - timedelta(hours=1))

    assert questionnaire_reminders_record() == []


def test_the_log_sms_backend_logs_a_masked_number_and_not_the_text(caplog, settings):
    settings.SMS_BACKEND = "intake.notifications.sms.LogSmsBackend"

    with caplog.at_level(logging.INFO, logger="intake.notifications.sms"):
        sms_backend().send("+1 555 555 0123", "Hello Ada, prescription RX-ABC1234 is ready")

    assert isinstance(sms_backend(), LogSmsBackend)
    assert "SMS to ***0123" in caplog.text
    assert "Ada" not in caplog.text
    assert "555 555" not in caplog.text
