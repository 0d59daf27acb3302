"""The new-prescription form filled from a template, or from a past prescription sent again or
renewed: the values come back, the signature never does, and what is sent is signed anew."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.urls import reverse

from intake.models import Prescription
from tests.factories import make_prescription
from tests.shortcuts.helpers import PATIENT, SIGNED, page_as_posted

NEW = reverse("prescriber:new")


def test_apply_fills_the_form_with_the_template(prescriber_client, template):
    response = prescriber_client.get(NEW, {"template": template.pk})

    assert response.status_code == 200
    rx = response.context["prescription_form"]
    assert {name: rx[name].value() for name in ("dosage_form", "strength_mg", "quantity", "days_supply", "refills",
                                                "directions", "indication", "icd10", "prescriber_notes")} == {
        "dosage_form": "capsule", "strength_mg": Decimal("4.50"), "quantity": 90, "days_supply": 90, "refills": 2,
        "directions": template.directions, "indication": "fibromyalgia", "icd10": "M79.7",
        "prescriber_notes": "Mix with MCC only.",
    }  # fmt: skip
    steps = [(form["strength_mg"].value(), form["days"].value()) for form in response.context["formset"].forms]
    assert steps == [(Decimal("1.50"), 14), (Decimal("3.00"), 14)]
    assert response.context["signature_form"]["signature_name"].value() is None


def test_applied_template_signed_and_sent_is_the_template(prescriber_client, prescriber, template):
    # given the form as the template filled it
    page = prescriber_client.get(NEW, {"template": template.pk})
    posted = {**page_as_posted(page.context), **PATIENT}

    # when the prescriber sends it without signing, nothing is made
    unsigned = prescriber_client.post(NEW, posted)
    assert unsigned.status_code == 200
    assert not Prescription.objects.exists()

    # when they sign it
    response = prescriber_client.post(NEW, {**posted, **SIGNED})

    # then the prescription is the template's medication
    assert response.status_code == 302
    made = Prescription.objects.get()
    assert (made.dosage_form, made.strength_mg, made.quantity, made.days_supply, made.refills) == (
        "capsule", Decimal("4.50"), 90, 90, 2)  # fmt: skip
    assert made.directions == template.directions
    assert made.prescriber_notes == "Mix with MCC only."
    steps = [(s.strength_mg, s.days) for s in made.titration_steps.all()]
    assert steps == [(Decimal("1.50"), 14), (Decimal("3.00"), 14)]
    assert made.signature_name == "Grace Hopper"


def test_another_prescribers_template_is_404(client, login, other_prescriber, template):
    login(client, other_prescriber.user)

    assert client.get(NEW, {"template": template.pk}).status_code == 404
    assert client.get(NEW, {"template": "not-a-number"}).status_code == 404


@pytest.fixture
def past(prescriber) -> Prescription:
    return make_prescription(prescriber, refills=1, prescriber_notes="Sensitive to fillers.",
                             allergies=("penicillin: rash",))  # fmt: skip


def test_send_again_fills_patient_and_medication_but_not_the_signature(prescriber_client, past):
    response = prescriber_client.get(NEW, {"from": past.pk})

    assert response.status_code == 200
    context = response.context
    assert context["patient_form"]["last_name"].value() == "Lovelace"
    assert context["patient_form"]["date_of_birth"].value() == past.patient.date_of_birth
    assert context["prescription_form"]["prescriber_notes"].value() == "Sensitive to fillers."
    assert context["prescription_form"]["allergies"].value() == "penicillin: rash"
    assert len(context["formset"].forms) == 2
    assert context["signature_form"]["signature_name"].value() is None
    assert 'name="sign-signature_attestation" ' in response.content.decode()
    assert "checked" not in str(context["signature_form"]["signature_attestation"])


def test_send_again_signed_anew_makes_a_second_prescription(prescriber_client, past):
    page = prescriber_client.get(NEW, {"from": past.pk})

    response = prescriber_client.post(NEW, {**page_as_posted(page.context), **SIGNED})

    assert response.status_code == 302
    again = Prescription.objects.exclude(pk=past.pk).get()
    assert again.patient_id == past.patient_id
    assert again.signed_at > past.signed_at
    assert again.content_digest != past.content_digest
    assert [(s.strength_mg, s.days) for s in again.titration_steps.all()] == [
        (s.strength_mg, s.days) for s in past.titration_steps.all()]  # fmt: skip


def test_renew_fills_the_maintenance_dose_without_the_titration(prescriber_client, past):
    response = prescriber_client.get(NEW, {"renew": past.pk})

    assert response.status_code == 200
    assert response.context["prescription_form"]["strength_mg"].value() == Decimal("4.50")
    assert response.context["formset"].forms == []
    assert response.context["signature_form"]["signature_name"].value() is None


def test_renew_unsigned_sends_nothing(prescriber_client, past):
    page = prescriber_client.get(NEW, {"renew": past.pk})
    posted = page_as_posted(page.context)

    response = prescriber_client.post(NEW, posted)

    assert response.status_code == 200
    assert "Confirm the attestation" in response.content.decode()
    assert Prescription.objects.count() == 1


@pytest.mark.parametrize("key", ["from", "renew"])
def test_another_prescribers_prescription_is_404(client, login, other_prescriber, past, key):
    login(client, other_prescriber.user)

    response = client.get(NEW, {key: past.pk})

    assert response.status_code == 404
    assert "Lovelace" not in response.content.decode()


def test_detail_page_offers_send_again_and_renew(prescriber_client, past):
    html = prescriber_client.get(reverse("prescriber:detail", args=[past.pk])).content.decode()

    assert f"?from={past.pk}" in html
    assert f"?renew={past.pk}" in html


def test_send_again_keeps_the_patients_language(prescriber_client, prescriber):
    spanish = make_prescription(prescriber, patient={"language": "es"})

    page = prescriber_client.get(NEW, {"from": spanish.pk})
    response = prescriber_client.post(NEW, {**page_as_posted(page.context), **SIGNED})

    assert page.context["patient_form"]["language"].value() == "es"
    assert response.status_code == 302
    again = Prescription.objects.exclude(pk=spanish.pk).get()
    assert again.patient.language == "es"
