"""The quote at approval, the patient's consent or decline, and the compounding gate."""

from __future__ import annotations

from decimal import Decimal

import pytest
import time_machine
from django.core.exceptions import ValidationError

from intake.errors import Conflict
from intake.models import (
    Action,
    Audience,
    Fill,
    Notification,
    NotificationEvent,
    Prescription,
    PrescriptionEvent,
    PrescriptionStatus,
    PriceConsent,
    Requester,
)
from intake.notifications.rendering import notification_render
from intake.services import workflow
from intake.services.batches import prescription_fill_from_batch
from intake.services.price_consent import price_consent_decline, price_consent_give
from intake.services.pricing import payment_url
from intake.services.refills import refill_request
from intake.services.status import patient_status
from tests.factories import make_prescription
from tests.refills.dispensing import REFILL_AFTER_DAYS, days_later
from tests.workflow_helpers import advance, warning_reasons

S = PrescriptionStatus
PATIENT = "patient (private link)"
KIT_PRICE = Decimal("45.40")  # 12.00 + 2 x 5.00 + 14 x 0.70 + 14 x 0.85 + 2 x 0.85 (tests/clinical/test_pricing.py)


def _events(prescription: Prescription, action: str) -> int:
    return PrescriptionEvent.objects.filter(prescription=prescription, action=action).count()


# --- the quote --------------------------------------------------------------------------------------


def test_approval_quotes_the_fill_without_asking_when_the_setting_is_off(prescriber, pharmacist, technician):
    # given / when
    prescription = advance(make_prescription(prescriber), S.APPROVED, pharmacist=pharmacist, technician=technician)

    # then
    assert prescription.price_amount == KIT_PRICE
    assert prescription.price_currency == "USD"
    assert prescription.price_quoted_at is not None
    assert prescription.price_consent == PriceConsent.NOT_ASKED
    event = PrescriptionEvent.objects.get(prescription=prescription, action=Action.APPROVE)
    assert event.details["price"]["amount"] == "45.40"
    assert event.details["price"]["consent_asked"] is False
    # Nothing waits: compounding starts at once.
    started = workflow.prescription_start_compounding(prescription_id=prescription.pk, actor=technician)
    assert started.status == S.COMPOUNDING


def test_approval_asks_the_patient_when_the_setting_is_on(approved: Prescription):
    assert approved.price_consent == PriceConsent.PENDING
    assert approved.price_consent_at is None
    event = PrescriptionEvent.objects.get(prescription=approved, action=Action.APPROVE)
    assert event.details["price"]["consent_asked"] is True
    assert patient_status(approved).price_to_answer
    # The patient hears that a price waits, never its amount.
    (to_patient,) = Notification.objects.filter(
        prescription=approved, event=NotificationEvent.APPROVED, audience=Audience.PATIENT, channel="email"
    )
    text = notification_render(notification=to_patient).text
    assert "price" in text
    assert "45.40" not in text


def test_a_liquid_is_priced_per_ml(prescriber, pharmacist, technician):
    prescription = make_prescription(
        prescriber, dosage_form="oral_liquid", strength_mg=Decimal("4.5"), quantity=120, days_supply=30, titration=(),
        directions="Take 4.5 mL by mouth at bedtime",
    )  # fmt: skip

    approved = advance(prescription, S.APPROVED, pharmacist=pharmacist, technician=technician)

    assert approved.price_amount == Decimal("45.00")  # 15.00 + 120 mL x 0.25


def test_a_refused_approval_quotes_nothing(prescriber, pharmacist, technician):
    prescription = advance(make_prescription(prescriber, strength_mg=Decimal("6")), S.IN_REVIEW,
                           pharmacist=pharmacist, technician=technician)  # fmt: skip

    with pytest.raises(ValidationError):
        workflow.prescription_approve(prescription_id=prescription.pk, actor=pharmacist, override_reasons={})

    fresh = Prescription.objects.get(pk=prescription.pk)
    assert (fresh.status, fresh.price_amount, fresh.price_consent) == (S.IN_REVIEW, None, "")


# --- the gate ---------------------------------------------------------------------------------------


def test_compounding_waits_for_consent_and_nothing_changes(approved: Prescription, technician):
    with pytest.raises(Conflict, match="not agreed to the price"):
        workflow.prescription_start_compounding(prescription_id=approved.pk, actor=technician)

    fresh = Prescription.objects.get(pk=approved.pk)
    assert fresh.status == S.APPROVED
    assert _events(approved, Action.START_COMPOUNDING) == 0


def test_filling_from_a_batch_waits_for_consent_too(approved: Prescription, technician):
    # The gate comes before the batch is even looked up.
    with pytest.raises(Conflict, match="not agreed to the price"):
        prescription_fill_from_batch(prescription_id=approved.pk, actor=technician, batch_id=999_999)

    assert Prescription.objects.get(pk=approved.pk).status == S.APPROVED


def test_a_fill_approved_before_the_setting_was_turned_on_does_not_wait(prescriber, pharmacist, technician, settings):
    prescription = advance(make_prescription(prescriber), S.APPROVED, pharmacist=pharmacist, technician=technician)
    settings.PRICE_CONSENT_REQUIRED = True

    started = workflow.prescription_start_compounding(prescription_id=prescription.pk, actor=technician)

    assert started.status == S.COMPOUNDING


# --- consent ----------------------------------------------------------------------------------------


def test_consent_lets_compounding_start_and_tells_the_pharmacy(
    approved: Prescription, technician, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        consented = price_consent_give(prescription_id=approved.pk, actor_label=PATIENT)

    assert consented.price_consent == PriceConsent.CONSENTED
    assert consented.price_consent_at is not None
    assert consented.status == S.APPROVED
    event = PrescriptionEvent.objects.get(prescription=approved, action=Action.PRICE_CONSENT)
    assert (event.actor_id, event.actor_label, event.details["amount"]) == (None, PATIENT, "45.40")
    (told,) = Notification.objects.filter(prescription=approved, event=NotificationEvent.PRICE_CONSENTED)
    assert told.audience == Audience.PHARMACY
    assert consented.history.filter(price_consent=PriceConsent.CONSENTED).exists()
    started = workflow.prescription_start_compounding(prescription_id=approved.pk, actor=technician)
    assert started.status == S.COMPOUNDING


def test_consent_twice_is_recorded_once(approved: Prescription):
    first = price_consent_give(prescription_id=approved.pk, actor_label=PATIENT)
    second = price_consent_give(prescription_id=approved.pk, actor_label=PATIENT)

    assert second.price_consent_at == first.price_consent_at
    assert _events(approved, Action.PRICE_CONSENT) == 1
    assert Notification.objects.filter(prescription=approved, event=NotificationEvent.PRICE_CONSENTED).count() == 1


def test_consent_without_a_price_waiting_is_refused(prescriber, pharmacist, technician):
    prescription = advance(make_prescription(prescriber), S.APPROVED, pharmacist=pharmacist, technician=technician)

    with pytest.raises(Conflict, match="no price waiting"):
        price_consent_give(prescription_id=prescription.pk, actor_label=PATIENT)

    assert Prescription.objects.get(pk=prescription.pk).price_consent == ""
    assert _events(prescription, Action.PRICE_CONSENT) == 0


def test_the_payment_link_appears_once_agreed(approved: Prescription, settings):
    settings.PAYMENT_LINK_URL = "https://pay.example.com/ldn?order={reference}"
    assert payment_url(approved) is None
    assert patient_status(approved).payment_url is None

    consented = price_consent_give(prescription_id=approved.pk, actor_label=PATIENT)

    assert payment_url(consented) == f"https://pay.example.com/ldn?order={approved.reference}"
    settings.PAYMENT_LINK_URL = ""
    assert payment_url(consented) is None


# --- decline ----------------------------------------------------------------------------------------


def test_decline_cancels_the_first_fill_and_tells_the_prescriber(
    approved: Prescription, technician, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        declined = price_consent_decline(prescription_id=approved.pk, actor_label=PATIENT,
                                         reason="Too expensive for me right now.")  # fmt: skip

    assert (declined.status, declined.price_consent) == (S.CANCELLED, PriceConsent.DECLINED)
    assert declined.closed_at is not None
    event = PrescriptionEvent.objects.get(prescription=approved, action=Action.PRICE_DECLINE)
    assert (event.from_status, event.to_status, event.message) == (S.APPROVED, S.CANCELLED,
                                                                   "Too expensive for me right now.")  # fmt: skip
    (told,) = Notification.objects.filter(prescription=approved, event=NotificationEvent.PRICE_DECLINED)
    assert told.audience == Audience.PRESCRIBER
    assert told.recipient == approved.prescriber.user.email
    rendered = notification_render(notification=told)
    assert approved.reference in rendered.subject
    assert "declined the price" in rendered.text
    assert Fill.objects.get(prescription=approved, number=1).status == S.CANCELLED
    with pytest.raises(Conflict):
        workflow.prescription_start_compounding(prescription_id=approved.pk, actor=technician)


def test_decline_without_a_reason_says_so(approved: Prescription):
    price_consent_decline(prescription_id=approved.pk, actor_label=PATIENT)

    event = PrescriptionEvent.objects.get(prescription=approved, action=Action.PRICE_DECLINE)
    assert event.message == "The patient declined the price."


def test_decline_twice_changes_nothing_the_second_time(approved: Prescription):
    price_consent_decline(prescription_id=approved.pk, actor_label=PATIENT)
    again = price_consent_decline(prescription_id=approved.pk, actor_label=PATIENT)

    assert again.status == S.CANCELLED
    assert _events(approved, Action.PRICE_DECLINE) == 1
    assert Notification.objects.filter(prescription=approved, event=NotificationEvent.PRICE_DECLINED).count() == 1


def test_the_other_answer_after_one_is_refused(approved: Prescription):
    price_consent_give(prescription_id=approved.pk, actor_label=PATIENT)

    with pytest.raises(Conflict, match="already agreed"):
        price_consent_decline(prescription_id=approved.pk, actor_label=PATIENT)

    fresh = Prescription.objects.get(pk=approved.pk)
    assert (fresh.status, fresh.price_consent) == (S.APPROVED, PriceConsent.CONSENTED)


def test_a_reason_too_long_is_refused_and_nothing_changes(approved: Prescription):
    with pytest.raises(ValidationError):
        price_consent_decline(prescription_id=approved.pk, actor_label=PATIENT, reason="x" * 1001)

    fresh = Prescription.objects.get(pk=approved.pk)
    assert (fresh.status, fresh.price_consent) == (S.APPROVED, PriceConsent.PENDING)


def test_a_declined_refill_lapses_and_gives_its_refill_back(settings, prescriber, pharmacist, technician):
    # given: handed over, a refill asked for, re-screened and approved while consent is asked
    first = advance(make_prescription(prescriber, days_supply=30), S.COMPLETED, pharmacist=pharmacist,
                    technician=technician)  # fmt: skip
    settings.PRICE_CONSENT_REQUIRED = True
    with time_machine.travel(days_later(REFILL_AFTER_DAYS), tick=False):
        refill_request(prescription_id=first.pk, actor=None, requester=Requester.PATIENT)
    refill = advance(first, S.APPROVED, pharmacist=pharmacist, technician=technician)
    assert (refill.fill_number, refill.refills_used, refill.price_consent) == (2, 1, PriceConsent.PENDING)
    # A refill of a titration is the maintenance strength only: 30 x 4.5 mg capsules.
    assert refill.price_amount == Decimal("37.50")

    # when
    lapsed = price_consent_decline(prescription_id=refill.pk, actor_label=PATIENT)

    # then: back to the handed-over first fill, the refill given back
    assert (lapsed.status, lapsed.fill_number, lapsed.refills_used) == (S.COMPLETED, 1, 0)
    assert Fill.objects.get(prescription=refill, number=2).status == S.CANCELLED
    assert Fill.objects.get(prescription=refill, number=1).status == S.COMPLETED
    assert _events(refill, Action.PRICE_DECLINE_REFILL) == 1
    assert Notification.objects.filter(prescription=refill, event=NotificationEvent.PRICE_DECLINED).exists()


def test_only_an_approved_fill_can_be_declined(consent_required, prescriber, pharmacist, technician):
    prescription = advance(make_prescription(prescriber), S.IN_REVIEW, pharmacist=pharmacist, technician=technician)

    with pytest.raises(Conflict):
        price_consent_decline(prescription_id=prescription.pk, actor_label=PATIENT)

    assert Prescription.objects.get(pk=prescription.pk).status == S.IN_REVIEW


def test_warning_reasons_helper_still_approves(prescriber, pharmacist, technician):
    # The approve service keeps its override reasons beside the price in its event.
    prescription = advance(make_prescription(prescriber), S.IN_REVIEW, pharmacist=pharmacist, technician=technician)
    workflow.prescription_approve(prescription_id=prescription.pk, actor=pharmacist,
                                  override_reasons=warning_reasons(prescription))  # fmt: skip

    event = PrescriptionEvent.objects.get(prescription=prescription, action=Action.APPROVE)
    assert set(event.details) >= {"override_reasons", "price", "fill"}
