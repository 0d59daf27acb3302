"""The prescriber's pages: home, new prescription form, detail, answers, cancel."""

from datetime import date, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from intake.models import AuditRecord, Clarification, Prescription, PrescriptionStatus
from intake.services.workflow import prescription_claim, prescription_request_clarification
from tests.factories import clean_answers, make_prescription

NEW = reverse("prescriber:new")


def form_data(**overrides):
    data = {
        "patient-first_name": "Ada", "patient-last_name": "Lovelace", "patient-date_of_birth": "1980-02-29",
        "patient-sex": "F", "patient-weight_kg": "", "patient-email": "ada@example.com",
        "patient-phone": "+15555550123", "patient-contact_preference": "email", "patient-language": "en",
        "patient-address_line1": "1 Main St", "patient-address_line2": "", "patient-city": "Austin",
        "patient-state": "TX", "patient-postal_code": "78701",
        "rx-dosage_form": "capsule", "rx-strength_mg": "4.5", "rx-directions": "Take 1 capsule by mouth at bedtime",
        "rx-dose_timing": "bedtime", "rx-quantity": "30", "rx-days_supply": "30", "rx-refills": "3",
        "rx-indication": "fibromyalgia", "rx-icd10": "M79.7", "rx-prescriber_notes": "",
        "titration-TOTAL_FORMS": "2", "titration-INITIAL_FORMS": "0", "titration-MIN_NUM_FORMS": "0",
        "titration-MAX_NUM_FORMS": "10",
        "titration-0-strength_mg": "1.5", "titration-0-days": "14",
        "titration-1-strength_mg": "3", "titration-1-days": "14",
        "sign-signature_name": "Grace Hopper", "sign-signature_attestation": "on",
    }  # fmt: skip
    data.update(overrides)
    return data


@pytest.fixture
def prescriber_client(client, login, prescriber):
    login(client, prescriber.user)
    return client


def test_new_prescription_form_renders_every_part(prescriber_client):
    response = prescriber_client.get(NEW)

    assert response.status_code == 200
    html = response.content.decode()
    for name in ("patient-first_name", "rx-strength_mg", "titration-TOTAL_FORMS", "sign-signature_name"):
        assert f'name="{name}"' in html
    assert 'data-formset-add="titration"' in html


def test_valid_submission_shows_reference_and_questionnaire_link(prescriber_client, prescriber):
    response = prescriber_client.post(NEW, form_data(), follow=True)

    prescription = Prescription.objects.get()
    assert prescription.prescriber == prescriber
    assert prescription.titration_steps.count() == 2
    assert prescription.signed_from_ip == "127.0.0.1"
    html = response.content.decode()
    assert prescription.reference in html
    assert f"/questionnaire/{prescription.questionnaire_token}" in html


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("rx-strength_mg", "0", "more than 0 mg"),
        ("rx-strength_mg", "abc", "Enter a number"),
        ("rx-strength_mg", "1.555", "2 decimal places"),
        ("rx-refills", "12", "less than or equal to 11"),
        ("rx-quantity", "0", "greater than or equal to 1"),
        ("rx-days_supply", "", "This field is required"),
        ("rx-icd10", "fibro", "ICD-10 code"),
        ("rx-directions", "x" * 1001, "at most 1000 characters"),
        ("patient-first_name", "", "This field is required"),
        ("patient-postal_code", "787", "ZIP code"),
        ("patient-date_of_birth", "2020-02-30", "valid date"),
        ("patient-phone", "call me", "phone number"),
        ("sign-signature_attestation", "", "Confirm the attestation"),
    ],
)
def test_a_wrong_field_gets_its_own_message_and_nothing_is_saved(prescriber_client, field, value, message):
    data = form_data(**{field: value})
    if value == "":
        data.pop(field)

    response = prescriber_client.post(NEW, data)

    assert response.status_code == 200
    html = response.content.decode()
    assert message in html
    assert 'aria-invalid="true"' in html or "is-invalid" in html
    assert Prescription.objects.count() == 0


@pytest.mark.parametrize(("state", "postal_code"), [("AK", "78701"), ("CA", "10001"), ("TX", "99501-1234")])
def test_a_zip_code_of_another_state_is_refused_on_the_zip_code(prescriber_client, state, postal_code):
    response = prescriber_client.post(NEW, form_data(**{"patient-state": state, "patient-postal_code": postal_code}))

    assert response.status_code == 200
    errors = response.context["patient_form"].errors
    assert list(errors) == ["postal_code"]
    assert (
        f"is in {'TX' if postal_code == '78701' else 'NY' if postal_code == '10001' else 'AK'}, not {state}"
        in (errors["postal_code"][0])
    )
    assert Prescription.objects.count() == 0


@pytest.mark.parametrize(("state", "postal_code"), [("AK", "99501"), ("TX", "78701-1234"), ("NY", "00000")])
def test_a_zip_code_of_the_state_or_not_in_the_data_is_taken(prescriber_client, state, postal_code):
    prescriber_client.post(NEW, form_data(**{"patient-state": state, "patient-postal_code": postal_code}))

    assert Prescription.objects.get().patient.postal_code == postal_code


def test_titration_error_is_shown_above_the_steps(prescriber_client):
    response = prescriber_client.post(NEW, form_data(**{"titration-1-days": "20"}))

    assert "more than the 30-day supply" in response.content.decode()
    assert Prescription.objects.count() == 0


def test_child_without_weight_gets_a_message_on_weight(prescriber_client):
    born = timezone.localdate().replace(year=timezone.localdate().year - 6).isoformat()

    response = prescriber_client.post(NEW, form_data(**{"patient-date_of_birth": born}))

    assert "needs a weight" in response.content.decode()
    assert Prescription.objects.count() == 0


def test_unverified_prescriber_is_told_why_and_cannot_submit(prescriber_client, prescriber):
    prescriber.verified_at = None
    prescriber.save()

    page = prescriber_client.get(NEW)
    post = prescriber_client.post(NEW, form_data())

    assert "not been verified" in page.content.decode()
    assert post.status_code == 403
    assert Prescription.objects.count() == 0


def test_expired_licence_is_told_on_home(prescriber_client, prescriber):
    prescriber.license_expires = timezone.localdate() - timedelta(days=3)
    prescriber.save()

    response = prescriber_client.get(reverse("prescriber:home"))

    assert "expired" in response.content.decode()


def test_home_lists_own_prescriptions_only(prescriber_client, prescriber, other_prescriber):
    mine = make_prescription(prescriber)
    theirs = make_prescription(other_prescriber, patient={"first_name": "Alan", "last_name": "Turing"})

    html = prescriber_client.get(reverse("prescriber:home")).content.decode()

    assert mine.reference in html
    assert theirs.reference not in html and "Turing" not in html
    assert AuditRecord.objects.filter(actor=prescriber.user, action="list").exists()


def test_home_has_an_empty_state(prescriber_client):
    html = prescriber_client.get(reverse("prescriber:home")).content.decode()

    assert "No prescriptions" in html


def test_another_prescribers_prescription_is_not_found(prescriber_client, other_prescriber):
    theirs = make_prescription(other_prescriber)

    for name in ("prescriber:detail", "prescriber:submitted"):
        assert prescriber_client.get(reverse(name, args=[theirs.pk])).status_code == 404
    assert (
        prescriber_client.post(reverse("prescriber:cancel", args=[theirs.pk]), {"cancel-reason": "x"}).status_code
        == 404
    )
    assert Prescription.objects.get(pk=theirs.pk).status == PrescriptionStatus.AWAITING_QUESTIONNAIRE


def test_detail_shows_flags_and_is_audited(prescriber_client, prescriber):
    prescription = make_prescription(prescriber, strength_mg="6", titration=())

    html = prescriber_client.get(reverse("prescriber:detail", args=[prescription.pk])).content.decode()

    assert "Strength outside the LDN range" in html and "dose_range" not in html
    assert AuditRecord.objects.filter(prescription_reference=prescription.reference, action="view").exists()


def test_staff_and_anonymous_cannot_use_prescriber_pages(client, login, pharmacist):
    anonymous = client.get(reverse("prescriber:home"))
    assert anonymous.status_code == 302 and "/accounts/login/" in anonymous["Location"]

    login(client, pharmacist)
    assert client.get(reverse("prescriber:home")).status_code == 403
    assert client.get(NEW).status_code == 403


def test_question_on_home_and_answer_with_correction_returns_to_review(prescriber_client, prescriber, pharmacist):
    from intake.services.questionnaire import questionnaire_submit

    prescription = make_prescription(prescriber, strength_mg="6", titration=())
    questionnaire_submit(
        token=prescription.questionnaire_token, date_of_birth=date(1980, 2, 29), answers=clean_answers()
    )
    prescription_claim(prescription_id=prescription.pk, actor=pharmacist)
    prescription_request_clarification(
        prescription_id=prescription.pk, actor=pharmacist, message="Did you mean 4.5 mg?"
    )
    old_digest = Prescription.objects.get(pk=prescription.pk).content_digest

    home = prescriber_client.get(reverse("prescriber:home")).content.decode()
    assert "Did you mean 4.5 mg?" in home

    response = prescriber_client.post(
        reverse("prescriber:respond", args=[prescription.pk]),
        {
            "respond-message": "Yes, 4.5 mg.",
            "respond-correct": "on",
            "respond-strength_mg": "4.5",
            "respond-directions": prescription.directions,
            "respond-quantity": "30",
            "respond-days_supply": "30",
            "respond-refills": "3",
            "respond-signature_name": "Grace Hopper",
        },  # fmt: skip
    )

    assert response.status_code == 302
    prescription.refresh_from_db()
    assert prescription.status == PrescriptionStatus.PENDING_REVIEW
    assert str(prescription.strength_mg) == "4.50"
    assert prescription.content_digest != old_digest and not prescription.is_altered
    assert not [f for f in prescription.flags if f["code"] == "dose_range"]  # re-screened
    assert Clarification.objects.get().response == "Yes, 4.5 mg."


def test_prescriber_cancels_own_prescription_with_reason(prescriber_client, prescriber):
    prescription = make_prescription(prescriber)

    prescriber_client.post(reverse("prescriber:cancel", args=[prescription.pk]), {"cancel-reason": "Patient moved"})

    prescription.refresh_from_db()
    assert prescription.status == PrescriptionStatus.CANCELLED
    assert prescription.events.last().message == "Patient moved"
