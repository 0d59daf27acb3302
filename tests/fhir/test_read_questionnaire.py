"""GET /fhir/R4/Questionnaire/ldn-screening (any signed-in caller) and
GET /fhir/R4/QuestionnaireResponse?based-on=MedicationRequest/{id} (pharmacy staff only)."""

from __future__ import annotations

import pytest

from intake.api.fhir import codes
from intake.models import AuditAction, AuditRecord
from intake.web.patient.forms import AllergyRowForm, MedicationRowForm, QuestionnaireForm, birth_date_field
from tests.conftest import api_client_for
from tests.factories import UserFactory, clean_answers, make_prescription
from tests.fhir.reading import fhir_get, outcome_issue, prescription_at, resources_in, validated

# The keys of the contract's questionnaire answers, in the order the page asks them.
KEYS = [
    "date_of_birth", "takes_opioids", "opioid_treatment_program", "liver_condition", "pregnancy",
    "alcohol_drinks_per_week", "naltrexone_allergy", "thyroid_medication", "immunosuppressants",
    "surgery_within_14_days", "current_medications", "allergies", "attestation",
]  # fmt: skip


def test_the_questionnaire_asks_what_the_patient_page_asks(prescriber_api):
    response = fhir_get(prescriber_api, "Questionnaire/ldn-screening")

    assert response.status_code == 200
    body = validated(response.json())
    assert (body["id"], body["url"], body["status"]) == ("ldn-screening", codes.QUESTIONNAIRE_URL, "active")
    items = {item["linkId"]: item for item in body["item"]}
    assert list(items) == KEYS
    labels = {name: str(field.label) for name, field in QuestionnaireForm.base_fields.items()}
    labels["date_of_birth"] = str(birth_date_field().label)
    for key, label in labels.items():
        assert items[key]["text"] == label, key
    types = {key: item["type"] for key, item in items.items()}
    assert types == {
        "date_of_birth": "date", "takes_opioids": "boolean", "opioid_treatment_program": "boolean",
        "liver_condition": "choice", "pregnancy": "choice", "alcohol_drinks_per_week": "integer",
        "naltrexone_allergy": "boolean", "thyroid_medication": "boolean", "immunosuppressants": "boolean",
        "surgery_within_14_days": "boolean", "current_medications": "string", "allergies": "string",
        "attestation": "boolean",
    }  # fmt: skip
    assert {key for key, item in items.items() if item["repeats"]} == {"current_medications", "allergies"}
    assert {key for key, item in items.items() if not item["required"]} == {"current_medications", "allergies"}
    liver = [option["valueCoding"]["code"] for option in items["liver_condition"]["answerOption"]]
    pregnancy = [option["valueCoding"]["code"] for option in items["pregnancy"]["answerOption"]]
    assert liver == ["none", "acute_hepatitis", "liver_failure", "other"]
    assert pregnancy == ["no", "pregnant", "planning", "breastfeeding"]
    # The list rows' own labels are a line each; the item names the whole list.
    assert "Medicine" in str(MedicationRowForm.base_fields["text"].label)
    assert "Allerg" in str(AllergyRowForm.base_fields["text"].label)


@pytest.mark.parametrize("persona", ["prescriber_api", "pharmacist_api", "technician_api"])
def test_any_signed_in_caller_reads_the_questionnaire(request, persona):
    assert fhir_get(request.getfixturevalue(persona), "Questionnaire/ldn-screening").status_code == 200


def test_anonymous_callers_do_not(api):
    response = fhir_get(api, "Questionnaire/ldn-screening")

    assert response.status_code == 401
    assert outcome_issue(response)["code"] == "login"


def test_another_questionnaire_is_not_found(prescriber_api):
    response = fhir_get(prescriber_api, "Questionnaire/phq-9")

    assert response.status_code == 404
    assert outcome_issue(response)["code"] == "not-found"


def answers_of(client, prescription):
    return fhir_get(client, "QuestionnaireResponse", {"based-on": f"MedicationRequest/{prescription.pk}"})


def test_staff_read_the_patients_answers(pharmacist_api, prescriber, pharmacist, technician):
    given = clean_answers(current_medications=["Norco 5/325 prn", "vit D"], allergies=["penicillin"],
                          liver_condition="other", pregnancy="planning", alcohol_drinks_per_week=3)  # fmt: skip
    prescription = prescription_at("pending_review", prescriber, pharmacist=pharmacist, technician=technician,
                                   answers=given)  # fmt: skip

    response = answers_of(pharmacist_api, prescription)

    assert response.status_code == 200
    (answered,) = resources_in(validated(response.json()))
    assert answered["resourceType"] == "QuestionnaireResponse"
    assert (answered["questionnaire"], answered["status"]) == (codes.QUESTIONNAIRE_URL, "completed")
    assert answered["basedOn"] == [{"reference": f"MedicationRequest/{prescription.pk}"}]
    assert answered["authored"]
    items = {item["linkId"]: [next(iter(a.values())) for a in item["answer"]] for item in answered["item"]}
    assert items["date_of_birth"] == ["1980-02-29"]
    assert items["takes_opioids"] == [False]
    assert items["liver_condition"][0]["code"] == "other"
    assert items["pregnancy"][0]["code"] == "planning"
    assert items["alcohol_drinks_per_week"] == [3]
    assert items["current_medications"] == ["Norco 5/325 prn", "vit D"]
    assert items["allergies"] == ["penicillin"]
    assert items["attestation"] == [True]
    record = AuditRecord.objects.filter(action=AuditAction.VIEW, object_id=str(prescription.pk)).latest("id")
    assert record.description == "questionnaire answers read through FHIR"


def test_an_empty_list_is_left_out(technician_api, prescriber, pharmacist, technician):
    prescription = prescription_at("pending_review", prescriber, pharmacist=pharmacist, technician=technician)

    (answered,) = resources_in(validated(answers_of(technician_api, prescription).json()))

    assert "allergies" not in {item["linkId"] for item in answered["item"]}


def test_before_the_patient_answers_the_searchset_is_empty(pharmacist_api, prescriber):
    prescription = make_prescription(prescriber)

    bundle = validated(answers_of(pharmacist_api, prescription).json())

    assert bundle["total"] == 0


def test_a_prescriber_is_refused_even_for_their_own(prescriber_api, other_prescriber_api, prescriber, pharmacist,
                                                     technician):  # fmt: skip
    prescription = prescription_at("pending_review", prescriber, pharmacist=pharmacist, technician=technician)
    before = AuditRecord.objects.count()

    own = answers_of(prescriber_api, prescription)
    other = answers_of(other_prescriber_api, prescription)
    unknown = fhir_get(prescriber_api, "QuestionnaireResponse", {"based-on": "MedicationRequest/999999999"})

    assert own.status_code == other.status_code == unknown.status_code == 403
    assert own.json() == other.json() == unknown.json()
    assert outcome_issue(own)["code"] == "forbidden"
    assert "Lovelace" not in own.content.decode()
    assert AuditRecord.objects.count() == before


def test_unknown_ids_and_anonymous_callers(api, pharmacist_api, prescriber, db):
    prescription = make_prescription(prescriber)
    nobody = api_client_for(UserFactory(email="nobody@example.test"))

    assert (
        fhir_get(pharmacist_api, "QuestionnaireResponse", {"based-on": "MedicationRequest/999999999"}).status_code
        == 404
    )
    assert answers_of(nobody, prescription).status_code == 404
    assert answers_of(api, prescription).status_code == 401
    missing = fhir_get(pharmacist_api, "QuestionnaireResponse", {})
    assert missing.status_code == 400
    assert outcome_issue(missing)["expression"] == ["based-on"]
