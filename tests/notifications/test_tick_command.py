from datetime import timedelta
from io import StringIO

from django.core.management import call_command
from django.utils import timezone

from intake.models import DeliveryStatus, Notification, Prescription
from tests.factories import make_prescription


def test_tick_records_due_reminders_and_requeues_undelivered_rows(
    prescriber, mailoutbox, django_capture_on_commit_callbacks
):
    prescription = make_prescription(prescriber)
    long_ago = timezone.now() - timedelta(hours=49)
    Prescription.objects.filter(pk=prescription.pk).update(submitted_at=long_ago, status_changed_at=long_ago)
    Notification.objects.update(created_at=long_ago)  # never delivered: as if the broker had been down
    out = StringIO()

    with django_capture_on_commit_callbacks(execute=True):
        call_command("notifications_tick", stdout=out)

    assert "1 reminder(s) recorded" in out.getvalue()
    assert Notification.objects.filter(event="questionnaire_reminder", prescription=prescription).count() == 1
    assert not Notification.objects.exclude(status=DeliveryStatus.SENT).exists()
    assert any("reminder" in message.subject.lower() or "questionnaire" in message.subject.lower()
               for message in mailoutbox)  # fmt: skip
