"""Names, addresses, codes and numbers are one line of printable text, wherever they are typed (the
API, the prescriber's and the staff's forms, the admin through the models); free text (directions,
notes, messages, reasons) keeps its line breaks and tabs but no other control character."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from intake.models import Patient, Prescription
from intake.validators import FREE_TEXT_MESSAGE, SINGLE_LINE_MESSAGE, validate_free_text, validate_single_line
from intake.web.staff.forms import LotForm, MasterFormulationForm, ShipForm, StateLicenceForm
from tests.factories import make_prescription
from tests.prescriptions.test_prescriber_web import NEW, form_data
from tests.workflow_helpers import advance

CONTROL_CHARACTERS = {
    "crlf": "Ada\r\nBcc: x",
    "lf": "Ada\nLovelace",
    "tab": "Aus\ttin",
    "nul": "Ada\x00x",
    "esc": "Austin\x1b[2J",
    "del": "Ada\x7fx",
    "c1": "Ada\x85x",
    "line-separator": "Ada\u2028Lovelace",
    "bidi-override": "Ada\u202egnirts",
}


@pytest.mark.parametrize("value", CONTROL_CHARACTERS.values(), ids=CONTROL_CHARACTERS.keys())
def test_one_line_of_text_refuses_every_control_character(value):
    with pytest.raises(ValidationError) as refused:
        validate_single_line(value)

    assert refused.value.messages == [SINGLE_LINE_MESSAGE]


@pytest.mark.parametrize("value", ["Ada Lovelace", "O'Brien-Smith", "Zoë Ångström", "李小龙", "Apt #4, 2/F", "M79.7"])
def test_one_line_of_text_keeps_names_as_people_write_them(value):
    validate_single_line(value)


def test_free_text_keeps_line_breaks_and_tabs_but_not_other_controls():
    validate_free_text("Take 1 capsule at bedtime.\r\nThen 2 capsules\tafter 14 days.\u2028Call if unwell.")

    for value in ("Take\x00 one", "Take \x1b[31mone", "Take\x0b one", "Take \u202eone"):
        with pytest.raises(ValidationError) as refused:
            validate_free_text(value)
        assert refused.value.messages == [FREE_TEXT_MESSAGE]


# --- The prescriber's and the staff's forms --------------------------------------------------


@pytest.fixture
def prescriber_client(client, login, prescriber):
    login(client, prescriber.user)
    return client


@pytest.mark.parametrize("character", ["crlf", "tab", "nul", "esc", "line-separator"])
@pytest.mark.parametrize(
    "field", ["patient-first_name", "patient-last_name", "patient-city", "patient-address_line1", "rx-indication",
              "sign-signature_name"],
)  # fmt: skip
def test_the_prescription_form_refuses_a_control_character_in_a_one_line_field(prescriber_client, field, character):
    response = prescriber_client.post(NEW, form_data(**{field: CONTROL_CHARACTERS[character]}))

    assert response.status_code == 200  # the form again, with the error
    assert SINGLE_LINE_MESSAGE in response.content.decode()
    assert not Prescription.objects.exists()
    assert not Patient.objects.exists()


def test_the_prescription_form_keeps_line_breaks_in_directions(prescriber_client):
    directions = "Take 1 capsule at bedtime.\r\nAfter 14 days, 2 capsules."

    prescriber_client.post(NEW, form_data(**{"rx-directions": directions}))

    assert Prescription.objects.get().directions == directions


def test_the_prescription_form_refuses_an_escape_in_directions(prescriber_client):
    response = prescriber_client.post(NEW, form_data(**{"rx-directions": "Take 1 capsule\x1b[2J at bedtime"}))

    assert FREE_TEXT_MESSAGE in response.content.decode()
    assert not Prescription.objects.exists()


def test_shipping_on_the_staff_page_refuses_a_line_break_and_changes_nothing(
    client, login, prescriber, pharmacist, technician
):
    prescription = advance(make_prescription(prescriber), "ready", pharmacist=pharmacist, technician=technician)
    login(client, pharmacist)

    client.post(
        reverse("staff:ship", args=[prescription.pk]),
        {"ship-carrier": "UPS", "ship-tracking_number": "1Z999\r\nAA10123456784"},
    )

    prescription.refresh_from_db()
    assert prescription.status == "ready"
    assert prescription.tracking_number == ""


@pytest.mark.parametrize(
    ("form_class", "field", "valid"),
    [
        (ShipForm, "carrier", {"carrier": "UPS", "tracking_number": "1Z999AA10123456784"}),
        (ShipForm, "tracking_number", {"carrier": "UPS", "tracking_number": "1Z999AA10123456784"}),
        (LotForm, "lot", {"ingredient": "Naltrexone HCl", "lot": "L-1", "expires": "2099-01-01"}),
        (LotForm, "ingredient", {"ingredient": "Naltrexone HCl", "lot": "L-1", "expires": "2099-01-01"}),
        (StateLicenceForm, "licence_number", None),
        (MasterFormulationForm, "name", None),
    ],
)
@pytest.mark.parametrize("character", ["crlf", "tab", "nul", "esc", "line-separator"])
def test_staff_forms_refuse_a_control_character_in_a_one_line_field(form_class, field, valid, character):
    form = form_class(data={**(valid or {}), field: CONTROL_CHARACTERS[character]})

    assert not form.is_valid()
    assert SINGLE_LINE_MESSAGE in form.errors[field]


# --- The models: the admin and anything else that validates them -----------------------------


def test_the_patient_model_refuses_a_line_break_in_a_name(prescriber):
    patient = make_prescription(prescriber).patient
    patient.first_name = "Ada\r\nBcc: x"
    patient.city = "Aus\ttin\x1b"

    with pytest.raises(ValidationError) as refused:
        patient.full_clean()

    assert refused.value.message_dict["first_name"] == [SINGLE_LINE_MESSAGE]
    assert refused.value.message_dict["city"] == [SINGLE_LINE_MESSAGE]


@pytest.mark.parametrize("field", ["first_name", "last_name"])
def test_an_account_name_refuses_a_line_break(pharmacist, field):
    setattr(pharmacist, field, "Pat\r\nBcc: x")

    with pytest.raises(ValidationError) as refused:
        pharmacist.full_clean()

    assert refused.value.message_dict[field] == [SINGLE_LINE_MESSAGE]
