"""The pharmacy's side of the repeat business: fills on the review page, refills and renewals asked
by the pharmacy, the labels of past fills, a ready fill past its beyond-use date, the follow-up list."""

from __future__ import annotations

import secrets
from datetime import timedelta
from io import StringIO

import time_machine
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from intake.models import (
    AuditRecord,
    CompoundingRecord,
    Fill,
    FollowUp,
    Prescriber,
    Prescription,
    PrescriptionEvent,
    PrescriptionStatus,
    RenewalRequest,
    Requester,
    StateLicence,
)
from intake.services.follow_up import follow_ups_for_pharmacist
from intake.services.refills import refill_request
from tests.factories import make_prescription
from tests.pdf_layout import text as pdf_text
from tests.refills.dispensing import REFILL_AFTER_DAYS, days_later, dispensed
from tests.workflow_helpers import advance

S = PrescriptionStatus


def in_pdf(text: str) -> bytes:
    """How ReportLab writes a line of text into an uncompressed page (the middle dot as an octal escape)."""
    return text.replace("·", "\\267").encode()


def page(client, prescription: Prescription) -> str:
    response = client.get(reverse("staff:review", args=[prescription.pk]))
    assert response.status_code == 200
    return response.content.decode()


def test_review_shows_the_fills_and_why_a_refill_is_too_soon(client, login, prescriber, pharmacist, technician):
    prescription = dispensed(prescriber, pharmacist=pharmacist, technician=technician)
    login(client, pharmacist)

    body = page(client, prescription)

    assert "Fills" in body
    assert "First fill" in body
    assert "Refills: 0 used of 3, valid until" in body
    assert "Too soon for a refill" in body
    assert "Start a refill" not in body
    assert reverse("staff:fill_label_pdf", args=[prescription.pk, 1]) in body


def test_staff_start_a_refill_once_75_percent_of_the_supply_has_passed(
    client, login, prescriber, pharmacist, technician
):
    prescription = dispensed(prescriber, pharmacist=pharmacist, technician=technician)

    with time_machine.travel(days_later(REFILL_AFTER_DAYS), tick=False):
        login(client, technician)
        assert "Start a refill" in page(client, prescription)
        response = client.post(reverse("staff:refill_start", args=[prescription.pk]), follow=True)

    body = response.content.decode()
    fresh = Prescription.objects.get(pk=prescription.pk)
    assert fresh.status == S.AWAITING_QUESTIONNAIRE  # the patient's short re-screen comes first
    assert fresh.questionnaire_token != prescription.questionnaire_token
    assert (fresh.fill_number, fresh.refills_used) == (2, 1)
    fill = Fill.objects.get(prescription=prescription, number=2)
    assert (fill.requested_by, fill.requested_by_user) == (Requester.PHARMACY, technician)
    assert "Fill 2 started: the patient was sent the re-screening questions" in body
    assert "Refill 1 of 3" in body
    assert AuditRecord.objects.filter(
        prescription_reference=prescription.reference, description="refill started (fill 2)"
    ).exists()


def test_a_refill_too_soon_is_refused_with_the_date_and_nothing_changes(
    client, login, prescriber, pharmacist, technician
):
    prescription = dispensed(prescriber, pharmacist=pharmacist, technician=technician)
    events = PrescriptionEvent.objects.filter(prescription=prescription).count()
    login(client, pharmacist)

    response = client.post(reverse("staff:refill_start", args=[prescription.pk]), follow=True)

    assert "Too soon for a refill: you can ask for one from" in response.content.decode()
    fresh = Prescription.objects.get(pk=prescription.pk)
    assert (fresh.status, fresh.fill_number, fresh.refills_used) == (S.COMPLETED, 1, 0)
    assert PrescriptionEvent.objects.filter(prescription=prescription).count() == events


def test_no_refill_left_asks_the_prescriber_to_renew(client, login, prescriber, pharmacist, technician):
    prescription = dispensed(prescriber, pharmacist=pharmacist, technician=technician, refills=0)
    login(client, pharmacist)
    assert "Ask the prescriber to renew" in page(client, prescription)

    response = client.post(reverse("staff:renewal_ask", args=[prescription.pk]), follow=True)

    renewal = RenewalRequest.objects.get(prescription=prescription)
    assert (renewal.status, renewal.requested_by, renewal.requested_by_user) == ("pending", "pharmacy", pharmacist)
    body = response.content.decode()
    assert "The prescriber was asked to renew it" in body
    assert "waiting for the answer" in body
    assert "Ask the prescriber to renew" not in body


def test_ready_past_bud_is_flagged_and_cannot_be_handed_over(client, login, prescriber, pharmacist, technician):
    prescription = advance(make_prescription(prescriber), S.READY, pharmacist=pharmacist, technician=technician)
    bud = prescription.beyond_use_date
    assert bud is not None

    with time_machine.travel(timezone.now() + (bud - timezone.localdate() + timedelta(days=1)), tick=False):
        login(client, technician)
        body = page(client, prescription)
        shipped = client.post(reverse("staff:ship", args=[prescription.pk]),
                              {"ship-carrier": "UPS", "ship-tracking_number": "1Z1"}, follow=True)  # fmt: skip
        completed = client.post(reverse("staff:complete", args=[prescription.pk]), follow=True)

    assert "Past its beyond-use date: do not hand over" in body
    assert "Compound again" not in body  # a technician cannot send it back
    for response in (shipped, completed):
        assert "passed its beyond-use date" in response.content.decode()
    fresh = Prescription.objects.get(pk=prescription.pk)
    assert (fresh.status, fresh.shipped_at, fresh.tracking_number) == (S.READY, None, "")
    assert Fill.objects.get(prescription=prescription, number=1).dispensed_at is None


def test_a_pharmacist_compounds_a_ready_fill_again(client, login, prescriber, pharmacist, technician):
    prescription = advance(make_prescription(prescriber), S.READY, pharmacist=pharmacist, technician=technician)
    login(client, technician)
    refused = client.post(reverse("staff:recompound", args=[prescription.pk]), {"recompound-reason": "Past BUD"},
                          follow=True)  # fmt: skip
    assert Prescription.objects.get(pk=prescription.pk).status == S.READY
    assert "Your role does not allow this action." in refused.content.decode()
    login(client, pharmacist)

    blank = client.post(reverse("staff:recompound", args=[prescription.pk]), {"recompound-reason": ""})
    response = client.post(reverse("staff:recompound", args=[prescription.pk]),
                           {"recompound-reason": "Past its beyond-use date"}, follow=True)  # fmt: skip

    assert blank.status_code == 400
    fresh = Prescription.objects.get(pk=prescription.pk)
    assert (fresh.status, fresh.beyond_use_date) == (S.COMPOUNDING, None)
    assert "record a new one" in response.content.decode()


def test_a_past_fill_keeps_its_own_label(client, login, prescriber, pharmacist, technician):
    prescription = dispensed(prescriber, pharmacist=pharmacist, technician=technician)
    first_batch = CompoundingRecord.objects.get(prescription=prescription)
    with time_machine.travel(days_later(REFILL_AFTER_DAYS), tick=False):
        refill_request(prescription_id=prescription.pk, actor=pharmacist, requester=Requester.PHARMACY)
        login(client, pharmacist)
        past = client.get(reverse("staff:fill_label_pdf", args=[prescription.pk, 1]))
        current = client.get(reverse("staff:label_pdf", args=[prescription.pk]))
        missing = client.get(reverse("staff:fill_label_pdf", args=[prescription.pk, 7]))

    assert past.status_code == 200
    assert past["Content-Type"] == "application/pdf"
    assert past["Cache-Control"] == "no-store, private"
    labels = pdf_text(past.content)
    assert "Fill 1 · refills left 3" in labels
    assert f"{first_batch.beyond_use_date:%m/%d/%Y}" in labels
    assert f"Batch {first_batch.pk} · " in labels
    # Fill 2 is not compounded yet: there is no current label, rather than fill 1's under fill 2's name.
    assert current.status_code == 404
    assert missing.status_code == 404
    assert AuditRecord.objects.filter(prescription_reference=prescription.reference, action="download",
                                      description="label PDF (fill 1)").exists()  # fmt: skip


def test_a_refill_is_compounded_with_its_own_batch_and_label(
    client, login, prescriber, pharmacist, technician, django_assert_max_num_queries
):
    prescription = dispensed(prescriber, pharmacist=pharmacist, technician=technician)
    with time_machine.travel(days_later(REFILL_AFTER_DAYS), tick=False):
        refill_request(prescription_id=prescription.pk, actor=pharmacist, requester=Requester.PHARMACY)
        advance(prescription, S.READY, pharmacist=pharmacist, technician=technician)
        login(client, pharmacist)
        with django_assert_max_num_queries(20):  # as for one fill: no query per fill or batch
            body = page(client, prescription)
        label = client.get(reverse("staff:label_pdf", args=[prescription.pk]))

    second = CompoundingRecord.objects.get(prescription=prescription, fill__number=2)
    assert in_pdf(" 2 · refills left 2") in label.content
    assert f"{second.beyond_use_date:%m/%d/%Y}".encode() in label.content
    assert reverse("staff:fill_label_pdf", args=[prescription.pk, 2]) in body
    # The history names the fill of each event once there are two.
    assert "Refill 1 of 3</span>" in body
    assert "First fill</span>" in body


def answered_check_in(prescription: Prescription) -> FollowUp:
    now = timezone.now()
    return FollowUp.objects.create(
        prescription=prescription, token=secrets.token_urlsafe(32), sent_at=now - timedelta(days=2),
        expires_at=now + timedelta(days=28), answered_at=now, sleep_problems="bothersome", vivid_dreams="mild",
        nausea="none", headache="none", wants_call=True, needs_pharmacist=True,
        reasons=["Sleep problems: bothers the patient", "Asked for a call"],
    )  # fmt: skip


def test_follow_up_list_shows_check_ins_for_a_pharmacist(client, login, prescriber, pharmacist, technician):
    prescription = dispensed(prescriber, pharmacist=pharmacist, technician=technician)
    answered_check_in(prescription)
    login(client, technician)

    response = client.get(reverse("staff:follow_ups"))

    body = response.content.decode()
    assert response.status_code == 200
    assert prescription.reference in body
    assert "Ada Lovelace" in body
    assert "Sleep problems: bothers the patient" in body
    assert "Asked for a call" in body
    assert "Mark reviewed" not in body  # a technician sees the list, a pharmacist reviews
    assert AuditRecord.objects.filter(actor=technician, action="list", object_type="follow_up").exists()


def test_only_a_pharmacist_marks_a_check_in_reviewed(client, login, prescriber, pharmacist, technician):
    prescription = dispensed(prescriber, pharmacist=pharmacist, technician=technician)
    follow_up = answered_check_in(prescription)
    url = reverse("staff:follow_up_review", args=[follow_up.pk])
    login(client, technician)

    refused = client.post(url, {"note": "Called her."}, follow=True)

    assert "Only a pharmacist can mark a check-in as reviewed." in refused.content.decode()
    follow_up.refresh_from_db()
    assert (follow_up.reviewed_at, follow_up.review_note) == (None, "")


def test_a_pharmacist_reviews_a_check_in_and_it_leaves_the_list(client, login, prescriber, pharmacist, technician):
    prescription = dispensed(prescriber, pharmacist=pharmacist, technician=technician)
    follow_up = answered_check_in(prescription)
    url = reverse("staff:follow_up_review", args=[follow_up.pk])
    login(client, pharmacist)

    blank = client.post(url, {"note": "  "})
    done = client.post(url, {"note": "Called her: dose moved to the morning."}, follow=True)

    assert blank.status_code == 400
    follow_up.refresh_from_db()
    assert follow_up.reviewed_by == pharmacist
    assert follow_up.review_note == "Called her: dose moved to the morning."
    body = done.content.decode()
    assert "marked as reviewed" in body
    assert "No check-in is waiting for a pharmacist." in body
    assert "Follow-ups" in body  # the nav link


def test_seed_demo_shows_the_repeat_business_and_is_idempotent(db, client, login, settings, no_licences):
    settings.DEBUG = True
    call_command("seed_demo", stdout=StringIO())
    call_command("seed_demo", stdout=StringIO())
    # The pharmacy's licences: every state and DC but Alaska and Hawaii, once each.
    licensed = list(StateLicence.objects.values_list("state", flat=True))
    assert len(licensed) == len(set(licensed)) == 49
    assert "DC" in licensed and "AK" not in licensed and "HI" not in licensed
    prescriber = Prescriber.objects.get(user__email="prescriber@demo.test")
    mine = Prescription.objects.filter(prescriber=prescriber)

    refill = mine.get(patient__email="mary.jackson@example.com")
    assert (refill.status, refill.fill_number, refill.refills_used) == (S.PENDING_REVIEW, 2, 1)
    renewed = mine.get(patient__email="dorothy.vaughan@example.com")
    assert (renewed.status, renewed.refills_left) == (S.COMPLETED, 0)
    assert RenewalRequest.objects.filter(prescription=renewed, status="pending").count() == 1
    held = mine.get(patient__email="edsger.dijkstra@example.com")
    assert held.status == S.ON_HOLD
    assert (timezone.now() - held.status_changed_at).days == 4
    assert not held.is_altered
    assert [f.prescription.patient.email for f in follow_ups_for_pharmacist()] == ["barbara.liskov@example.com"]
    # Fill #1 of the demo's past work tells the same story as its prescription.
    for fill in Fill.objects.filter(number=1, prescription__fill_number=1).select_related("prescription"):
        assert fill.status == fill.prescription.status
        assert fill.beyond_use_date == fill.prescription.beyond_use_date
        assert (fill.dispensed_at is not None) == (fill.prescription.status in (S.SHIPPED, S.COMPLETED))
    login(client, User.objects.get(email="pharmacist@demo.test"))
    assert "Refill 1 of 3" in page(client, refill)
    assert "Barbara Liskov" in client.get(reverse("staff:follow_ups")).content.decode()
