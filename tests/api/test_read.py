"""GET /api/v1/prescriptions/ and /{id}/: what each caller may see; anything else is 404."""

from __future__ import annotations

import pytest

from intake.models import AuditRecord
from tests.api.conftest import PRESCRIPTIONS, detail_url
from tests.conftest import api_client_for
from tests.factories import make_prescription


def ids(response) -> set[int]:
    return {item["id"] for item in response.json()["results"]}


def test_a_prescriber_lists_only_their_own(prescriber_api, prescriber, other_prescriber):
    mine = make_prescription(prescriber)
    make_prescription(other_prescriber)

    response = prescriber_api.get(PRESCRIPTIONS)

    assert response.status_code == 200
    assert response.json()["count"] == 1
    assert ids(response) == {mine.pk}


@pytest.mark.parametrize("persona", ["pharmacist", "technician", "pharmacy_admin"])
def test_pharmacy_staff_list_all(request, persona, prescriber, other_prescriber):
    made = {make_prescription(prescriber).pk, make_prescription(other_prescriber).pk}

    response = api_client_for(request.getfixturevalue(persona)).get(PRESCRIPTIONS)

    assert ids(response) == made


def test_the_list_is_paginated_by_25(pharmacist_api, prescriber):
    for _ in range(27):
        make_prescription(prescriber)

    first = pharmacist_api.get(PRESCRIPTIONS).json()
    second = pharmacist_api.get(PRESCRIPTIONS, {"page": 2}).json()

    assert first["count"] == 27
    assert len(first["results"]) == 25
    assert first["next"] and first["previous"] is None
    assert len(second["results"]) == 2


def test_the_list_filters_by_status(pharmacist_api, rx_at):
    waiting = rx_at("awaiting_questionnaire")
    pending = rx_at("pending_review")

    assert ids(pharmacist_api.get(PRESCRIPTIONS, {"status": "pending_review"})) == {pending.pk}
    assert ids(pharmacist_api.get(PRESCRIPTIONS, {"status": "awaiting_questionnaire"})) == {waiting.pk}


@pytest.mark.parametrize("query", [{"status": "lost"}, {"page": "x"}, {"page": 99}, {"dosage_form": "tablet"}])
def test_bad_list_queries_answer_4xx_in_json(pharmacist_api, prescriber, query):
    make_prescription(prescriber)

    response = pharmacist_api.get(PRESCRIPTIONS, query)

    assert 400 <= response.status_code < 500
    assert response.json()


def test_a_list_is_audited(pharmacist_api, pharmacist, prescriber):
    make_prescription(prescriber)

    pharmacist_api.get(PRESCRIPTIONS)

    assert AuditRecord.objects.filter(actor=pharmacist, action="list").exists()


def test_owner_and_staff_read_a_prescription(prescriber_api, pharmacist_api, prescriber, pharmacist):
    prescription = make_prescription(prescriber)

    for client in (prescriber_api, pharmacist_api):
        response = client.get(detail_url(prescription))
        assert response.status_code == 200
        assert response.json()["reference"] == prescription.reference
    assert AuditRecord.objects.filter(actor=pharmacist, action="view", object_id=str(prescription.pk)).exists()


def test_another_prescribers_prescription_and_an_unknown_one_answer_the_same_404(other_prescriber_api, prescriber):
    prescription = make_prescription(prescriber)

    theirs = other_prescriber_api.get(detail_url(prescription))
    unknown = other_prescriber_api.get(detail_url(prescription.pk + 1000))

    assert theirs.status_code == unknown.status_code == 404
    assert theirs.json() == unknown.json()
    assert prescription.patient.last_name not in theirs.content.decode()


@pytest.mark.parametrize("bad_id", ["abc", "1.5", "-1", "0", "%20", "99999999999999999999999999", "1;DROP"])
def test_odd_ids_answer_404_never_500(prescriber_api, prescriber, bad_id):
    make_prescription(prescriber)

    response = prescriber_api.get(f"{PRESCRIPTIONS}{bad_id}/")

    assert response.status_code == 404
    assert response.json()


def test_anonymous_gets_401(db, api, prescriber):
    prescription = make_prescription(prescriber)

    assert api.get(PRESCRIPTIONS).status_code == 401
    assert api.get(detail_url(prescription)).status_code == 401


def test_a_bad_token_gets_401(db, api):
    api.credentials(HTTP_AUTHORIZATION="Token not-a-token")

    assert api.get(PRESCRIPTIONS).status_code == 401


def test_paths_without_the_trailing_slash_work(prescriber_api, prescriber):
    prescription = make_prescription(prescriber)

    assert prescriber_api.get(PRESCRIPTIONS.rstrip("/")).status_code == 200
    assert prescriber_api.get(detail_url(prescription).rstrip("/")).status_code == 200


@pytest.mark.parametrize("page_size", ["null", "0", "101", "-1", "2.5", "٣"])
def test_a_page_size_outside_the_schema_is_refused_not_ignored(prescriber_api, prescriber, page_size):
    make_prescription(prescriber)

    response = prescriber_api.get(PRESCRIPTIONS, {"page_size": page_size})

    assert response.status_code == 400
    assert response.json() == {"page_size": ["A whole number from 1 to 100."]}


def test_a_page_size_within_the_schema_is_kept(prescriber_api, prescriber):
    for _ in range(3):
        make_prescription(prescriber)

    response = prescriber_api.get(PRESCRIPTIONS, {"page_size": "2"})

    assert response.status_code == 200
    assert len(response.json()["results"]) == 2
    assert response.json()["count"] == 3
