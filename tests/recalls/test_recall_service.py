"""Opening, closing and resolving a recall: the quarantine, the remake or the call by status, the
notifications, the batches, the audit rows."""

from __future__ import annotations

import re

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from intake.errors import Conflict, Forbidden
from intake.models import (
    Action,
    AuditRecord,
    BatchStatus,
    Notification,
    NotificationEvent,
    Prescription,
    PrescriptionEvent,
    PrescriptionStatus,
    Recall,
    RecallAffected,
    RecallOutcome,
)
from intake.notifications.rendering import notification_render
from intake.services.compounding import compounding_record_create
from intake.services.recalls import recall_affected_resolve, recall_close, recall_open
from tests.factories import make_prescription
from tests.recalls.helpers import RECALLED, fill_from_batch, make_batch
from tests.workflow_helpers import advance, default_lots

S = PrescriptionStatus
REASON = "Supplier notice: the lot failed its assay for potency."
CLINICAL = ("naltrexone", "4.5", "capsule", "mg", "fibromyalgia", "bedtime")


def at(status, prescriber, pharmacist, technician, **patient):
    prescription = make_prescription(prescriber, patient=patient or None)
    return advance(prescription, status, pharmacist=pharmacist, technician=technician)


def open_recall(pharmacist, lot=RECALLED, **kwargs):
    return recall_open(actor=pharmacist, ingredient="Naltrexone HCl USP", lot=lot, reason=REASON,
                       recall_class=kwargs.pop("recall_class", "I"), **kwargs)  # fmt: skip


def test_a_ready_fill_goes_back_to_compounding_and_the_patient_is_told(
    prescriber, pharmacist, technician, django_capture_on_commit_callbacks
):
    # given
    ready = at(S.READY, prescriber, pharmacist, technician)
    checking = at(S.FINAL_CHECK, prescriber, pharmacist, technician)

    # when
    with django_capture_on_commit_callbacks(execute=False):
        recall = open_recall(pharmacist, lot=RECALLED.lower())

    # then
    for prescription in (ready, checking):
        fresh = Prescription.objects.get(pk=prescription.pk)
        assert fresh.status == S.COMPOUNDING
        assert fresh.beyond_use_date is None
        event = PrescriptionEvent.objects.filter(prescription=prescription).latest("id")
        assert (event.action, event.to_status, event.actor) == (Action.RECALL_REMAKE, S.COMPOUNDING, pharmacist)
        assert Notification.objects.filter(prescription=prescription, event=NotificationEvent.RECALL_REMADE).exists()
    outcomes = {row.prescription_id: row.outcome for row in recall.affected.all()}
    assert outcomes == {ready.pk: RecallOutcome.REMADE, checking.pk: RecallOutcome.REMADE}


def test_a_handed_over_fill_stays_and_its_patient_is_asked_to_call(prescriber, pharmacist, technician):
    shipped = at(S.SHIPPED, prescriber, pharmacist, technician)
    completed = at(S.COMPLETED, prescriber, pharmacist, technician)

    recall = open_recall(pharmacist)

    for prescription, status in ((shipped, S.SHIPPED), (completed, S.COMPLETED)):
        fresh = Prescription.objects.get(pk=prescription.pk)
        assert fresh.status == status
        event = PrescriptionEvent.objects.filter(prescription=prescription).latest("id")
        assert (event.action, event.from_status, event.to_status) == (Action.RECALL_CONTACT, status, status)
        told = Notification.objects.filter(prescription=prescription, event=NotificationEvent.RECALL_CONTACT)
        assert told.exists()
        assert not Notification.objects.filter(prescription=prescription, event=NotificationEvent.RECALL_REMADE)
    affected = recall.affected.get(prescription=shipped)
    assert affected.outcome == RecallOutcome.PATIENT_TOLD
    assert affected.handed_over_at is not None


def test_the_recall_messages_hold_nothing_clinical(prescriber, pharmacist, technician):
    at(S.SHIPPED, prescriber, pharmacist, technician)
    at(S.READY, prescriber, pharmacist, technician)

    open_recall(pharmacist)

    rows = Notification.objects.filter(event__in=[NotificationEvent.RECALL_CONTACT, NotificationEvent.RECALL_REMADE])
    assert {row.event for row in rows} == {NotificationEvent.RECALL_CONTACT, NotificationEvent.RECALL_REMADE}
    for row in rows:
        message = notification_render(notification=row)
        for part in (message.subject, message.text, message.html, message.sms):
            found = [word for word in CLINICAL if re.search(rf"(?i)(?<![\w.]){re.escape(word)}\b", part)]
            assert found == [], f"{row.event} by {row.channel}: {found}"
            assert RECALLED not in part


def test_fills_not_reached_and_closed_ones_are_left_alone(prescriber, pharmacist, technician):
    approved = at(S.APPROVED, prescriber, pharmacist, technician)
    ready = at(S.READY, prescriber, pharmacist, technician)

    recall = open_recall(pharmacist, lot="OTHER-1")

    assert recall.affected.count() == 0
    assert Prescription.objects.get(pk=ready.pk).status == S.READY
    assert Prescription.objects.get(pk=approved.pk).status == S.APPROVED


def test_fills_through_a_batch_are_reached_and_the_batch_quarantined(
    prescriber, pharmacist, second_pharmacist, technician
):
    batch = make_batch(made_by=pharmacist, released_by=second_pharmacist, lot="NTX-B77")
    made = make_batch(made_by=pharmacist, released_by=None, lot="ntx-b77", number="B-0002",
                      status=BatchStatus.MADE)  # fmt: skip
    other = make_batch(made_by=pharmacist, released_by=second_pharmacist, lot="NTX-X", number="B-0003")
    shipped = at(S.SHIPPED, prescriber, pharmacist, technician)
    ready = at(S.READY, prescriber, pharmacist, technician)
    from intake.models import Fill

    # the shipped fill's record is the batch's (a later record than its own)
    fill_from_batch(shipped, batch, by=technician)
    fill_from_batch(ready, batch, by=technician)
    Fill.objects.filter(prescription=shipped).update(dispensed_at=timezone.now())

    recall = open_recall(pharmacist, lot="NTX-B77")

    outcomes = {row.prescription_id: (row.outcome, row.batch_id) for row in recall.affected.all()}
    assert outcomes == {shipped.pk: (RecallOutcome.PATIENT_TOLD, batch.pk), ready.pk: (RecallOutcome.REMADE, batch.pk)}
    batch.refresh_from_db()
    made.refresh_from_db()
    other.refresh_from_db()
    assert (batch.status, made.status, other.status) == (BatchStatus.QUARANTINED, BatchStatus.QUARANTINED,
                                                         BatchStatus.RELEASED)  # fmt: skip


def test_a_recalled_lot_is_refused_in_compounding_with_a_clear_message(prescriber, pharmacist, technician):
    compounding = at(S.COMPOUNDING, prescriber, pharmacist, technician)
    open_recall(pharmacist, recall_class="II")

    with pytest.raises(ValidationError) as caught:
        compounding_record_create(prescription_id=compounding.pk, actor=technician, lots=default_lots(),
                                  quantity_made=compounding.quantity)  # fmt: skip

    [message] = caught.value.message_dict["lots"]
    opened = timezone.localdate().isoformat()
    assert (
        message
        == f"Lot {RECALLED} of Naltrexone HCl USP is under recall (class II, opened {opened}): it may not be used."
    )
    fresh = Prescription.objects.get(pk=compounding.pk)
    assert fresh.status == S.COMPOUNDING
    assert fresh.compounding_records.count() == 0


def test_one_open_recall_per_lot_and_a_closed_one_frees_the_lot(prescriber, pharmacist, technician):
    recall = open_recall(pharmacist)

    with pytest.raises(ValidationError) as caught:
        open_recall(pharmacist, lot=RECALLED.lower())
    assert "already under an open recall" in caught.value.message_dict["lot"][0]
    assert Recall.objects.count() == 1

    closed = recall_close(actor=pharmacist, recall_id=recall.pk, note="Supplier withdrew the notice after retesting.")
    assert closed.closed_by == pharmacist and not closed.is_open
    with pytest.raises(Conflict):
        recall_close(actor=pharmacist, recall_id=recall.pk, note="Supplier withdrew the notice after retesting.")

    # the lot may be used again, and recalled again
    compounding = at(S.COMPOUNDING, prescriber, pharmacist, technician)
    compounding_record_create(prescription_id=compounding.pk, actor=technician, lots=default_lots(),
                              quantity_made=compounding.quantity)  # fmt: skip
    assert open_recall(pharmacist).pk != recall.pk


def test_closing_needs_a_note(pharmacist):
    recall = open_recall(pharmacist)
    with pytest.raises(ValidationError):
        recall_close(actor=pharmacist, recall_id=recall.pk, note="ok")
    assert Recall.objects.get(pk=recall.pk).is_open


@pytest.mark.parametrize(
    ("changes", "field"),
    [({"reason": " "}, "reason"), ({"recall_class": "IV"}, "recall_class"), ({"lot": " "}, "lot"),
     ({"ingredient": ""}, "ingredient"), ({"lot": "L" * 61}, "lot")],
)  # fmt: skip
def test_bad_input_is_refused_on_its_field_and_nothing_changes(prescriber, pharmacist, technician, changes, field):
    ready = at(S.READY, prescriber, pharmacist, technician)
    given = {"ingredient": "Naltrexone HCl USP", "lot": RECALLED, "reason": REASON, "recall_class": "I", **changes}

    with pytest.raises(ValidationError) as caught:
        recall_open(actor=pharmacist, **given)

    assert field in caught.value.message_dict
    assert Recall.objects.count() == 0
    assert Prescription.objects.get(pk=ready.pk).status == S.READY


def test_only_a_pharmacist_opens_or_closes_a_recall(prescriber, pharmacist, technician):
    ready = at(S.READY, prescriber, pharmacist, technician)

    with pytest.raises(Forbidden):
        open_recall(technician)
    assert Recall.objects.count() == 0
    assert Prescription.objects.get(pk=ready.pk).status == S.READY

    recall = open_recall(pharmacist)
    with pytest.raises(Forbidden):
        recall_close(actor=technician, recall_id=recall.pk, note="Supplier withdrew the notice after retesting.")
    assert Recall.objects.get(pk=recall.pk).is_open


def test_resolving_a_patient_and_the_audit_rows(prescriber, pharmacist, technician):
    from intake.audit import AuditEntry

    shipped = at(S.SHIPPED, prescriber, pharmacist, technician)
    entry = AuditEntry(actor=pharmacist, actor_label="", method="POST", path="/test/", ip_address=None,
                       user_agent="")  # fmt: skip
    recall = open_recall(pharmacist, entry=entry)
    affected = RecallAffected.objects.get(recall=recall)
    assert AuditRecord.objects.filter(object_type="recall", object_id=str(recall.pk), action="create").exists()
    assert AuditRecord.objects.filter(prescription_reference=shipped.reference, action="action").exists()

    resolved = recall_affected_resolve(actor=technician, recall_id=recall.pk, affected_id=affected.pk, entry=entry)

    assert resolved.resolved_at is not None
    with pytest.raises(Conflict):
        recall_affected_resolve(actor=technician, recall_id=recall.pk, affected_id=affected.pk)


def test_remake_is_a_workflow_action_from_final_check_and_ready_only(prescriber, pharmacist, technician):
    from intake.services.workflow import prescription_recall_remake

    shipped = at(S.SHIPPED, prescriber, pharmacist, technician)
    with pytest.raises(Conflict):
        prescription_recall_remake(prescription_id=shipped.pk, actor=pharmacist, message="Lot recalled by supplier.")
    assert Prescription.objects.get(pk=shipped.pk).status == S.SHIPPED
