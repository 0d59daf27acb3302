"""The prescriber's web form: a dose outside the usual LDN range is confirmed, seeing the range, before
the prescription is signed; nothing is saved without the confirmation. The API takes such a dose and
flags it."""

from __future__ import annotations

from decimal import Decimal

import pytest

from intake.clinical.dose_confirmation import unusual_doses
from intake.models import Action, Prescription, PrescriptionEvent
from tests.prescriptions.test_prescriber_web import NEW, form_data

NO_STEPS = {"titration-TOTAL_FORMS": "0"}
RANGE = "LDN is usually 0.5–4.5 mg a day"


@pytest.fixture
def prescriber_client(client, login, prescriber):
    login(client, prescriber.user)
    return client


@pytest.mark.parametrize(
    ("overrides", "shown"),
    [
        ({"rx-strength_mg": "45", **NO_STEPS}, "The strength is 45 mg; " + RANGE),
        ({"rx-strength_mg": "0.45", **NO_STEPS}, "The strength is 0.45 mg; " + RANGE),
        ({"titration-0-strength_mg": "15"}, "Titration step 1 is 15 mg; " + RANGE),
        ({"rx-quantity": "60", **NO_STEPS}, "60 × 4.5 mg over 30 days is 9 mg a day"),
    ],
)
def test_an_unusual_dose_comes_back_for_confirmation_and_nothing_is_saved(prescriber_client, overrides, shown):
    response = prescriber_client.post(NEW, form_data(**overrides))

    assert response.status_code == 200
    html = response.content.decode()
    assert "Check the dose before you sign" in html
    assert shown in html
    assert 'name="rx-dose_confirmed"' in html
    assert "Confirm the dose outside the usual range, or correct it." in html
    assert not Prescription.objects.exists()


def test_a_confirmed_dose_is_signed_flagged_and_the_confirmation_recorded(prescriber_client):
    response = prescriber_client.post(NEW, form_data(**{"rx-strength_mg": "45", "rx-dose_confirmed": "on",
                                                        **NO_STEPS}))  # fmt: skip

    assert response.status_code == 302
    prescription = Prescription.objects.get()
    assert prescription.strength_mg == Decimal("45")
    assert {"dose_range", "daily_dose"} <= {flag["code"] for flag in prescription.flags}
    submitted = PrescriptionEvent.objects.get(prescription=prescription, action=Action.SUBMIT)
    assert submitted.details == {"dose_confirmed": True}


def test_a_usual_dose_asks_nothing(prescriber_client):
    response = prescriber_client.post(NEW, form_data())

    assert response.status_code == 302
    prescription = Prescription.objects.get()
    assert PrescriptionEvent.objects.get(prescription=prescription, action=Action.SUBMIT).details == {}


def test_a_ticked_box_with_a_usual_dose_records_nothing(prescriber_client):
    prescriber_client.post(NEW, form_data(**{"rx-dose_confirmed": "on"}))

    prescription = Prescription.objects.get()
    assert PrescriptionEvent.objects.get(prescription=prescription, action=Action.SUBMIT).details == {}


def test_the_confirmation_is_asked_again_when_the_dose_changes(prescriber_client):
    first = prescriber_client.post(NEW, form_data(**{"rx-strength_mg": "45", **NO_STEPS})).content.decode()

    corrected = prescriber_client.post(NEW, form_data(**{"rx-strength_mg": "4.5", **NO_STEPS}))

    assert "Check the dose before you sign" in first
    assert corrected.status_code == 302
    assert Prescription.objects.get().strength_mg == Decimal("4.5")


@pytest.mark.parametrize(
    ("strength", "steps", "quantity", "days", "count"),
    [
        ("4.5", (), 30, 30, 0),
        ("0.5", (), 30, 30, 0),
        ("4.51", (), 30, 30, 2),  # the strength, and the daily dose
        ("0.49", (), 30, 30, 1),
        ("3", ("1.5", "0.25"), 30, 30, 1),
        ("4.5", (), 31, 30, 1),  # 4.65 mg a day
        ("4.5", (), 1000, 30, 1),
    ],
)
def test_unusual_doses(strength, steps, quantity, days, count):
    found = unusual_doses(dosage_form="capsule", strength_mg=Decimal(strength),
                          titration_mg=[Decimal(step) for step in steps], quantity=quantity,
                          days_supply=days)  # fmt: skip

    assert len(found) == count


def test_a_liquids_quantity_is_not_a_daily_dose():
    assert unusual_doses(dosage_form="oral_liquid", strength_mg=Decimal("4.5"), quantity=150, days_supply=30) == []
