"""prescription_submit: validation, returning patients, signature digest, idempotency, records written."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from intake.errors import Forbidden
from intake.models import (
    DosageForm,
    IdempotencyKey,
    Notification,
    Patient,
    Prescription,
    PrescriptionEvent,
    PrescriptionStatus,
)
from intake.services.prescriptions import Signature, Step, prescription_submit
from tests.factories import make_prescription, patient_details, prescribed_content


def submit(prescriber, *, patient=None, signature=None, key="", **content):
    return prescription_submit(
        prescriber=prescriber,
        patient=patient_details(**(patient or {})),
        content=prescribed_content(**content),
        signature=signature or Signature(name=prescriber.user.get_full_name(), attested=True),
        idempotency_key=key,
    )


def test_submission_writes_prescription_steps_event_and_notifications(prescriber):
    prescription, created = submit(prescriber)

    assert created
    assert prescription.status == PrescriptionStatus.AWAITING_QUESTIONNAIRE
    assert [(s.strength_mg, s.days) for s in prescription.titration_steps.all()] == [
        (Decimal("1.50"), 14),
        (Decimal("3.00"), 14),
    ]
    event = PrescriptionEvent.objects.get(prescription=prescription)
    assert (event.action, event.from_status, event.to_status, event.actor) == (
        "submit", "", "awaiting_questionnaire", prescriber.user,
    )  # fmt: skip
    assert set(Notification.objects.filter(prescription=prescription).values_list("event", flat=True)) == {
        "prescription_received",
        "questionnaire_invitation",
    }


def test_reference_is_short_unique_and_token_unguessable(prescriber):
    first = make_prescription(prescriber)
    second = make_prescription(prescriber)

    assert first.reference != second.reference
    assert len(first.reference) == 10 and first.reference.startswith("RX-")
    # 32 random bytes, base64url: 43 characters, 256 bits.
    assert len(first.questionnaire_token) >= 43
    assert first.questionnaire_token != second.questionnaire_token
    assert first.questionnaire_expires_at - first.submitted_at == timedelta(days=30)


@pytest.mark.parametrize(
    ("first", "last"),
    [("ada", "LOVELACE"), ("Adá", "Lovelace"), ("  Ada ", "Love-lace"), ("ADA", "lovelacé")],
)
def test_returning_patient_is_one_record_whatever_case_or_accents(prescriber, first, last):
    original = make_prescription(prescriber)

    again = make_prescription(prescriber, patient={"first_name": first, "last_name": last, "email": "new@example.com"})

    assert again.patient_id == original.patient_id
    assert Patient.objects.count() == 1
    # The newest prescription's contact details win; history keeps the old ones.
    assert Patient.objects.get().email == "new@example.com"
    assert Patient.objects.get().history.count() == 2


def test_a_new_patients_record_and_its_history_name_the_prescriber(prescriber):
    prescription, _ = submit(prescriber)

    patient = Patient.objects.get()
    assert prescription.patient_id == patient.pk
    assert patient.name_key == Patient.identity_key("Ada", "Lovelace")
    assert patient.created_at is not None and patient.updated_at is not None
    (first,) = patient.history.all()
    assert (first.history_type, first.history_user, first.email) == ("+", prescriber.user, "ada@example.com")
    (signed,) = prescription.history.all()
    assert (signed.history_type, signed.history_user, signed.content_digest) == (
        "+", prescriber.user, prescription.content_digest,
    )  # fmt: skip


def test_a_returning_patient_with_nothing_new_writes_no_history(prescriber):
    make_prescription(prescriber)

    make_prescription(prescriber)

    assert Patient.objects.count() == 1
    assert Patient.objects.get().history.count() == 1


def test_same_name_other_birth_date_is_another_patient(prescriber):
    make_prescription(prescriber)

    make_prescription(prescriber, patient={"date_of_birth": date(1981, 3, 1)})

    assert Patient.objects.count() == 2


def test_child_needs_a_weight(prescriber):
    child = {"date_of_birth": timezone.localdate().replace(year=timezone.localdate().year - 8)}

    with pytest.raises(ValidationError) as error:
        submit(prescriber, patient=child)

    assert "patient.weight_kg" in error.value.message_dict
    assert Prescription.objects.count() == 0 and Patient.objects.count() == 0


def test_child_with_weight_is_accepted(prescriber):
    child = {
        "date_of_birth": timezone.localdate().replace(year=timezone.localdate().year - 8),
        "weight_kg": Decimal("25"),
    }

    prescription, _ = submit(prescriber, patient=child, strength_mg=Decimal("1.5"), titration=())

    assert prescription.weight_kg == Decimal("25.0")


def test_birth_date_in_the_future_is_refused(prescriber):
    with pytest.raises(ValidationError) as error:
        submit(prescriber, patient={"date_of_birth": timezone.localdate() + timedelta(days=1)})

    assert "patient.date_of_birth" in error.value.message_dict


@pytest.mark.parametrize(
    ("titration", "quantity", "days_supply", "fragment"),
    [
        ((Step(Decimal("1.5"), 20), Step(Decimal("3"), 15)), 30, 30, "more than the 30-day supply"),
        ((Step(Decimal("1.5"), 15), Step(Decimal("3"), 15)), 30, 30, "never reaches"),
        ((Step(Decimal("1.5"), 14), Step(Decimal("3"), 14)), 28, 30, "holds 30 capsules"),
    ],
)
def test_titration_that_does_not_add_up_is_refused_on_titration(prescriber, titration, quantity, days_supply, fragment):
    with pytest.raises(ValidationError) as error:
        submit(prescriber, titration=titration, quantity=quantity, days_supply=days_supply)

    messages = " ".join(error.value.message_dict["titration"])
    assert fragment in messages
    assert Prescription.objects.count() == 0


def test_contract_example_titration_is_accepted(prescriber):
    prescription, _ = submit(prescriber)

    assert prescription.quantity == 30


def test_inactive_dosage_form_is_refused(prescriber):
    DosageForm.objects.filter(code="topical_cream").update(active=False)

    with pytest.raises(ValidationError) as error:
        submit(prescriber, dosage_form="topical_cream", titration=())

    assert "dosage_form" in error.value.message_dict


@pytest.mark.parametrize(
    ("strength", "severity"), [("4.5", None), ("6", "warning"), ("0.25", "warning"), ("50", "hard_stop")]
)
def test_any_strength_is_taken_and_flagged_outside_the_ldn_range(prescriber, strength, severity):
    prescription, _ = submit(prescriber, strength_mg=Decimal(strength), titration=())

    dose_flags = [f["severity"] for f in prescription.flags if f["code"] == "dose_range"]
    assert dose_flags == ([severity] if severity else [])


def test_unverified_prescriber_cannot_submit_and_is_told_why(prescriber):
    prescriber.verified_at = None
    prescriber.save()

    with pytest.raises(Forbidden) as error:
        submit(prescriber)

    assert "not been verified" in error.value.message
    assert Prescription.objects.count() == 0


def test_expired_licence_cannot_submit_and_is_told_why(prescriber):
    prescriber.license_expires = timezone.localdate() - timedelta(days=1)
    prescriber.save()

    with pytest.raises(Forbidden) as error:
        submit(prescriber)

    assert "expired" in error.value.message


def test_signature_needs_attestation_and_own_name(prescriber):
    with pytest.raises(ValidationError) as error:
        submit(prescriber, signature=Signature(name="Somebody Else", attested=False))

    assert set(error.value.message_dict) >= {"signature_attestation", "signature_name"}
    assert Prescription.objects.count() == 0


def test_digest_detects_a_change_of_signed_content_outside_the_workflow(prescriber):
    prescription = make_prescription(prescriber)
    assert not Prescription.objects.get(pk=prescription.pk).is_altered

    Prescription.objects.filter(pk=prescription.pk).update(strength_mg=Decimal("45"))

    assert Prescription.objects.get(pk=prescription.pk).is_altered


def test_digest_detects_a_changed_titration_step(prescriber):
    prescription = make_prescription(prescriber)

    prescription.titration_steps.filter(position=1).update(days=7)

    assert Prescription.objects.get(pk=prescription.pk).is_altered


def test_idempotency_key_returns_the_first_prescription(prescriber):
    first, created_first = submit(prescriber, key="abc-123")
    again, created_again = submit(prescriber, key="abc-123")

    assert created_first and not created_again
    assert again.pk == first.pk
    assert Prescription.objects.count() == 1
    assert IdempotencyKey.objects.count() == 1


def test_idempotency_key_reused_for_another_body_is_refused(prescriber):
    submit(prescriber, key="abc-123")

    with pytest.raises(ValidationError) as error:
        submit(prescriber, key="abc-123", refills=1)

    assert "idempotency_key" in error.value.message_dict
    assert Prescription.objects.count() == 1


def test_same_idempotency_key_of_another_prescriber_is_independent(prescriber, other_prescriber):
    submit(prescriber, key="abc-123")

    other, created = submit(other_prescriber, key="abc-123")

    assert created and other.prescriber == other_prescriber
