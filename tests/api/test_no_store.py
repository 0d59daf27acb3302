"""Every answer under /api/, whatever the URL, method, caller or outcome, carries Cache-Control:
no-store: the rule is intake.middleware.NoStoreMiddleware's, not each view's."""

from __future__ import annotations

import pytest

from tests.api.conftest import persona_client
from tests.factories import make_prescription
from tests.security.url_inventory import all_routes

API_ROUTES = [route for route in all_routes() if route.path.startswith("/api/")]
METHODS = ["GET", "OPTIONS", "POST", "DELETE"]


def test_the_inventory_reaches_every_api_url():
    paths = {route.path for route in API_ROUTES}
    assert {"/api/schema/", "/api/v1/prescriptions/", "/api/v1/status/"} <= paths
    assert len(paths) > 20


@pytest.mark.parametrize("persona", ["anonymous", "pharmacist"])
@pytest.mark.parametrize("route", API_ROUTES, ids=lambda route: route.path)
def test_every_api_answer_is_kept_out_of_caches(request, route, persona, prescriber):
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
    client = request.getfixturevalue("api") if persona == "anonymous" else persona_client(request, persona)

    for method in METHODS:
        response = client.generic(method, path, "{}", content_type="application/json")

        assert response.status_code < 500, (method, path)
        assert "no-store" in response.get("Cache-Control", ""), (method, path, response.status_code)


def test_answers_with_patient_data_are_kept_out_of_caches(api, prescriber_api, pharmacist_api, prescriber):
    prescription = make_prescription(prescriber)
    patient = prescription.patient
    status_body = {"reference": prescription.reference, "date_of_birth": patient.date_of_birth.isoformat()}

    answers = [
        prescriber_api.get("/api/v1/prescriptions/"),
        prescriber_api.get(f"/api/v1/prescriptions/{prescription.pk}/"),
        pharmacist_api.get(f"/api/v1/prescriptions/{prescription.pk}/access-log/"),
        api.post("/api/v1/status/", status_body, format="json"),
        api.get("/api/v1/status/", status_body),
    ]

    for response in answers:
        assert response.status_code == 200, response.request["PATH_INFO"]
        assert "no-store" in response["Cache-Control"], response.request["PATH_INFO"]
