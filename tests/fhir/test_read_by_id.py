"""Every search entry's fullUrl can be followed: DetectedIssue, MedicationDispense and
QuestionnaireResponse read by id answer the resource the search held, with the search's access
rules (another prescriber, and a prescriber for the answers, are refused) and an audit row."""

from __future__ import annotations

import pytest

from intake.models import AuditRecord, Questionnaire
from tests.factories import clean_answers
from tests.fhir.reading import FHIR, fhir_get, outcome_issue, prescription_at, validated

SEARCHES = [
    ("DetectedIssue", "implicated", "MedicationRequest/{pk}"),
    ("MedicationDispense", "prescription", "{pk}"),
    ("QuestionnaireResponse", "based-on", "MedicationRequest/{pk}"),
]


@pytest.fixture
def ready(prescriber, pharmacist, technician):
    # Flags to read (alcohol, thyroid), a questionnaire answered, a fill compounded.
    answers = clean_answers(alcohol_drinks_per_week=20, thyroid_medication=True)
    return prescription_at("ready", prescriber, pharmacist=pharmacist, technician=technician, answers=answers)


@pytest.mark.parametrize(("kind", "parameter", "value"), SEARCHES)
def test_each_entry_of_a_search_reads_back_by_its_full_url(pharmacist_api, ready, kind, parameter, value):
    found = validated(fhir_get(pharmacist_api, kind, {parameter: value.format(pk=ready.pk)}).json())
    assert found["entry"], f"the {kind} search found nothing to follow"

    for entry in found["entry"]:
        path = entry["fullUrl"].split(FHIR, 1)[1]
        response = fhir_get(pharmacist_api, path)

        assert response.status_code == 200, path
        assert validated(response.json()) == entry["resource"]


@pytest.mark.parametrize("kind", ["DetectedIssue", "MedicationDispense"])
def test_another_prescriber_reads_none_of_them(other_prescriber_api, prescriber_api, ready, kind):
    path = f"{kind}/{ready.pk}-1"
    assert fhir_get(prescriber_api, path).status_code == 200

    refused = fhir_get(other_prescriber_api, path)
    unknown = fhir_get(other_prescriber_api, f"{kind}/987654321-1")

    assert refused.status_code == unknown.status_code == 404
    assert refused.content == unknown.content
    assert outcome_issue(refused)["code"] == "not-found"


def test_a_position_past_the_last_answers_404(pharmacist_api, ready):
    assert fhir_get(pharmacist_api, f"DetectedIssue/{ready.pk}-99").status_code == 404
    assert fhir_get(pharmacist_api, f"MedicationDispense/{ready.pk}-2").status_code == 404


def test_the_answers_by_id_are_the_staffs_only(prescriber_api, pharmacist_api, ready):
    answers = Questionnaire.objects.get(prescription=ready)

    refused = fhir_get(prescriber_api, f"QuestionnaireResponse/{answers.pk}")
    unknown = fhir_get(pharmacist_api, "QuestionnaireResponse/987654321")

    assert refused.status_code == 403
    assert "Zephyr" not in refused.content.decode() and ready.patient.last_name not in refused.content.decode()
    assert unknown.status_code == 404


def test_each_read_by_id_is_audited(pharmacist_api, pharmacist, ready):
    before = AuditRecord.objects.filter(actor=pharmacist, prescription_reference=ready.reference).count()

    fhir_get(pharmacist_api, f"DetectedIssue/{ready.pk}-1")
    fhir_get(pharmacist_api, f"MedicationDispense/{ready.pk}-1")
    fhir_get(pharmacist_api, f"QuestionnaireResponse/{Questionnaire.objects.get(prescription=ready).pk}")

    assert AuditRecord.objects.filter(actor=pharmacist, prescription_reference=ready.reference).count() == before + 3
