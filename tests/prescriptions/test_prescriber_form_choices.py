"""The new-prescription form: nothing chosen for the prescriber, and the patient's allergies screened."""

import re

import pytest
from django.urls import reverse

from intake.models import Prescription
from intake.services.screening import screen_prescription
from tests.api.conftest import PRESCRIPTIONS
from tests.factories import api_payload, clean_answers
from tests.prescriptions.test_prescriber_web import NEW, form_data


@pytest.fixture
def prescriber_client(client, login, prescriber):
    login(client, prescriber.user)
    return client


def selected_option(html: str, name: str) -> str:
    """The value of the option the browser would submit for a select: the selected one, else the first."""
    select = re.search(rf'<select name="{name}"[^>]*>(.*?)</select>', html, re.S)
    assert select is not None, name
    options = re.findall(r'<option value="([^"]*)"([^>]*)>', select.group(1))
    chosen = [value for value, attributes in options if "selected" in attributes]
    return chosen[0] if chosen else options[0][0]


@pytest.mark.parametrize("name", ["patient-sex", "patient-state", "rx-dosage_form"])
def test_the_choices_the_prescriber_must_make_start_empty(prescriber_client, name):
    html = prescriber_client.get(NEW).content.decode()

    assert selected_option(html, name) == ""


@pytest.mark.parametrize(
    ("field", "message"),
    [
        ("patient-sex", "Choose the patient&#x27;s sex."),
        ("patient-state", "Choose the state of the patient&#x27;s address."),
        ("rx-dosage_form", "Choose the dosage form."),
    ],
)
def test_a_choice_left_empty_is_named_and_nothing_is_saved(prescriber_client, field, message):
    response = prescriber_client.post(NEW, form_data(**{field: ""}))

    assert response.status_code == 200
    assert message in response.content.decode()
    assert not Prescription.objects.exists()


def test_dose_timing_keeps_bedtime_the_usual_ldn_timing(prescriber_client):
    html = prescriber_client.get(NEW).content.decode()

    assert selected_option(html, "rx-dose_timing") == "bedtime"


def test_a_naltrexone_allergy_written_by_the_prescriber_is_a_hard_stop(prescriber_client):
    prescriber_client.post(NEW, form_data(**{"rx-allergies": "penicillin: rash\nRevia (hives)"}))

    prescription = Prescription.objects.get()
    assert prescription.prescriber_allergies == ["penicillin: rash", "Revia (hives)"]
    stops = [flag for flag in prescription.flags if flag["code"] == "naltrexone_allergy"]
    assert [(flag["severity"], flag["source"], flag["value"]) for flag in stops] == [
        ("hard_stop", "prescription", "Revia (hives)")
    ]
    assert not prescription.is_altered


@pytest.mark.parametrize("written", ["none known", "NKDA", "", "penicillin, sulfa"])
def test_allergies_that_are_not_naltrexone_raise_nothing(prescriber_client, written):
    prescriber_client.post(NEW, form_data(**{"rx-allergies": written}))

    prescription = Prescription.objects.get()
    assert not [flag for flag in prescription.flags if flag["code"] == "naltrexone_allergy"]


def test_a_comma_list_is_split_into_allergies(prescriber_client):
    prescriber_client.post(NEW, form_data(**{"rx-allergies": "penicillin, sulfa , latex"}))

    assert Prescription.objects.get().prescriber_allergies == ["penicillin", "sulfa", "latex"]


def test_the_allergy_stop_stays_when_the_questionnaire_is_screened(prescriber_client):
    prescriber_client.post(NEW, form_data(**{"rx-allergies": "naltrexone"}))
    prescription = Prescription.objects.get()

    flags = screen_prescription(prescription, clean_answers())

    assert [flag["source"] for flag in flags if flag["code"] == "naltrexone_allergy"] == ["prescription"]


def test_the_pharmacist_reads_the_allergies_on_the_review_page(prescriber_client, client, login, pharmacist):
    prescriber_client.post(NEW, form_data(**{"rx-allergies": "penicillin: rash\nsulfa"}))
    prescription = Prescription.objects.get()
    login(client, pharmacist)

    html = client.get(reverse("staff:review", args=[prescription.pk])).content.decode()

    assert "penicillin: rash; sulfa" in html


def test_an_allergy_line_with_control_characters_is_refused(prescriber_client):
    response = prescriber_client.post(NEW, form_data(**{"rx-allergies": "latex\x07"}))

    assert response.status_code == 200
    assert not Prescription.objects.exists()


def test_the_api_takes_the_patients_allergies(prescriber_api):
    body = api_payload()
    body["patient"]["allergies"] = ["naltrexone (Vivitrol): anaphylaxis", "none known"]

    response = prescriber_api.post(PRESCRIPTIONS, body, format="json")

    assert response.status_code == 201, response.content
    prescription = Prescription.objects.get()
    assert prescription.prescriber_allergies == ["naltrexone (Vivitrol): anaphylaxis", "none known"]
    assert [(f["code"], f["source"]) for f in response.json()["flags"] if f["code"] == "naltrexone_allergy"] == [
        ("naltrexone_allergy", "prescription")
    ]
