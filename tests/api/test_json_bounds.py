"""A JSON body too deep or too large answers a 400 in JSON on every API URL, for anyone, and
changes nothing: never a 500 from the parser."""

from __future__ import annotations

import json

import pytest

from intake.api.parsers import MAX_DEPTH
from intake.models import Patient, Prescription, PrescriptionEvent, Questionnaire
from tests.api.conftest import PRESCRIPTIONS, action_url, persona_client
from tests.factories import api_payload, clean_answers, make_prescription
from tests.security.url_inventory import all_routes

# Past Python's recursion limit: json.load itself fails on this.
ABYSS = "[" * 100_000 + "]" * 100_000
# Well within the recursion limit, just past the API's own bound, inside a real field.
JUST_TOO_DEEP = json.dumps({"patient": json.loads("[" * MAX_DEPTH + "]" * MAX_DEPTH)})

API_ROUTES = [route for route in all_routes() if route.path.startswith("/api/v1/")]
PERSONAS = ["anonymous", "prescriber", "pharmacist"]


def client_of(request: pytest.FixtureRequest, persona: str):
    return request.getfixturevalue("api") if persona == "anonymous" else persona_client(request, persona)


def changes() -> tuple[int, ...]:
    """What a request could have written (the audit trail aside: a denied call may be recorded)."""
    return (
        Prescription.objects.count(),
        Patient.objects.count(),
        PrescriptionEvent.objects.count(),
        Questionnaire.objects.count(),
    )


def test_the_inventory_reaches_the_api():
    assert len(API_ROUTES) > 20


@pytest.mark.parametrize("persona", PERSONAS)
@pytest.mark.parametrize("route", API_ROUTES, ids=lambda route: route.path)
def test_a_deeply_nested_body_never_answers_a_server_error(request, route, persona, prescriber):
    prescription = make_prescription(prescriber)
    path = route.fill(
        pk=prescription.pk,
        renewal_id=1,
        webhook_id=1,
        batch_id=1,
        recall_id=1,
        lot="NO-SUCH-LOT",
        token=prescription.questionnaire_token,
        check_in_token="unknown-token",
    )
    client = client_of(request, persona)
    before = changes()

    for method in ("POST", "PUT", "PATCH"):
        response = client.generic(method, path, ABYSS, content_type="application/json")

        assert 400 <= response.status_code < 500, (method, path, response.status_code)
        assert response["Content-Type"].startswith("application/json")
    assert changes() == before


@pytest.mark.parametrize(
    ("persona", "url"),
    [
        ("anonymous", "/api/v1/status/"),
        ("anonymous", "/api/v1/status/refill/"),
        ("anonymous", "/api/v1/status/renewal/"),
        ("anonymous", "/api/v1/status/consent/"),
        ("anonymous", "/api/v1/auth/token/"),
        ("anonymous", "questionnaire"),
        ("prescriber", PRESCRIPTIONS),
    ],
)
@pytest.mark.parametrize("body", [ABYSS, JUST_TOO_DEEP], ids=["past-the-recursion-limit", "one-past-the-bound"])
def test_where_the_body_is_read_a_deep_one_is_a_400_naming_the_problem(request, persona, url, body, prescriber):
    prescription = make_prescription(prescriber)
    if url == "questionnaire":
        url = f"/api/v1/questionnaires/{prescription.questionnaire_token}/"
    before = changes()

    response = client_of(request, persona).post(url, body, content_type="application/json")

    assert response.status_code == 400
    assert f"more than {MAX_DEPTH} deep" in response.json()["detail"]
    assert changes() == before
    assert Prescription.objects.get().status == "awaiting_questionnaire"


def test_a_workflow_action_refuses_a_deep_body_and_changes_nothing(pharmacist_api, rx_at):
    prescription = rx_at("in_review")
    events = PrescriptionEvent.objects.count()

    response = pharmacist_api.post(action_url(prescription, "reject"), ABYSS, content_type="application/json")

    assert response.status_code == 400
    assert "deep" in response.json()["detail"]
    assert Prescription.objects.get().status == "in_review"
    assert PrescriptionEvent.objects.count() == events


def test_nesting_up_to_the_bound_is_parsed_as_before(api, prescriber):
    # The deepest real body (a prescription's titration steps) is four levels: the bound leaves room.
    prescription = make_prescription(prescriber)
    nested = json.loads("[" * (MAX_DEPTH - 1) + "]" * (MAX_DEPTH - 1))
    body = {**clean_answers(), "current_medications": nested}

    response = api.post(f"/api/v1/questionnaires/{prescription.questionnaire_token}/", body, format="json")

    assert response.status_code == 400
    assert "current_medications" in response.json()
    assert Prescription.objects.get().status == "awaiting_questionnaire"


def test_a_body_over_the_upload_limit_is_refused_unread(prescriber_api, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 4096
    body = api_payload(directions="Take 1 capsule by mouth at bedtime", prescriber_notes="x" * 5000)

    response = prescriber_api.post(PRESCRIPTIONS, json.dumps(body), content_type="application/json")

    assert response.status_code == 400
    assert response.json() == {"detail": "The body is larger than 4096 bytes."}
    assert not Prescription.objects.exists()
