"""GET /api/schema/ (OpenAPI 3) and /api/docs/ (Swagger UI under the strict CSP)."""

from __future__ import annotations

import re

import pytest
import yaml
from drf_spectacular.validation import validate_schema

from intake.api import batch_views
from intake.api.views import ACTION_VIEWS
from intake.models import API_ACTIONS

ACTIONS = ["claim", "request_clarification", "respond", "approve", "reject", "start_compounding",
           "record_compounding", "final_check", "ship", "complete", "cancel", "verify_flag",
           "request_rescreen", "fill_from_batch"]  # fmt: skip
WITH_BODY = {"request_clarification", "respond", "approve", "reject", "record_compounding", "ship", "cancel",
             "final_check", "verify_flag", "request_rescreen", "fill_from_batch"}  # fmt: skip


@pytest.fixture
def schema(db, api) -> dict:
    response = api.get("/api/schema/", {"format": "json"})
    assert response.status_code == 200
    return response.json()


def test_the_schema_is_valid_openapi_3(schema):
    assert schema["openapi"].startswith("3.")
    validate_schema(schema)


def test_the_schema_is_public_and_served_as_yaml_too(db, api):
    response = api.get("/api/schema/")

    assert response.status_code == 200
    assert yaml.safe_load(response.content)["openapi"].startswith("3.")


def test_every_contract_endpoint_is_documented(schema):
    paths = schema["paths"]

    assert "post" in paths["/api/v1/auth/token/"]
    assert {"get", "post"} <= set(paths["/api/v1/prescriptions/"])
    assert "get" in paths["/api/v1/prescriptions/{id}/"]
    for action in ACTIONS:
        assert "post" in paths[f"/api/v1/prescriptions/{{id}}/actions/{action}/"], action
    assert set(ACTION_VIEWS) | set(batch_views.ACTION_VIEWS) == set(ACTIONS) == set(API_ACTIONS)
    assert {"get", "post"} <= set(paths["/api/v1/batches/"])
    assert "get" in paths["/api/v1/batches/{batch_id}/"]
    assert "post" in paths["/api/v1/batches/{batch_id}/release/"]


@pytest.mark.parametrize("action", ACTIONS)
def test_each_action_documents_its_body_and_refusals(schema, action):
    operation = schema["paths"][f"/api/v1/prescriptions/{{id}}/actions/{action}/"]["post"]

    assert {"200", "400", "401", "403", "404", "409"} <= set(operation["responses"])
    assert ("requestBody" in operation) == (action in WITH_BODY)
    assert operation["responses"]["200"]["content"]["application/json"]["schema"]["$ref"].endswith("/Prescription")


def test_the_final_checks_body_is_optional(schema):
    # The checklist and scans are checked when sent; the bare action still works.
    operation = schema["paths"]["/api/v1/prescriptions/{id}/actions/final_check/"]["post"]

    assert not operation["requestBody"].get("required", False)


def test_the_create_body_is_the_contracts(schema):
    components = schema["components"]["schemas"]
    create = components["PrescriptionCreateRequest"]
    patient = components[create["properties"]["patient"]["$ref"].rsplit("/", 1)[-1]]

    assert set(create["required"]) == {
        "patient", "dosage_form", "strength_mg", "directions", "quantity", "days_supply", "refills",
        "indication", "dose_timing",
    }  # fmt: skip
    assert {"titration", "icd10", "prescriber_notes"} <= set(create["properties"])
    assert "weight_kg" not in patient["required"] and "phone" not in patient["required"]
    assert components["DosageFormEnum"]["enum"] == ["capsule", "oral_liquid", "sublingual_drops", "topical_cream"]


def test_the_answer_documents_the_promised_fields(schema):
    answer = schema["components"]["schemas"]["Prescription"]["properties"]

    assert {"id", "reference", "status", "flags", "questionnaire_url", "beyond_use_date", "carrier",
            "tracking_number", "altered", "patient", "prescriber", "titration"} <= set(answer)  # fmt: skip


def test_the_docs_page_loads_its_scripts_from_urls(db, client):
    response = client.get("/api/docs/")

    assert response.status_code == 200
    html = response.content.decode()
    assert "swagger-ui" in html
    # The strict CSP (script-src 'self') allows only scripts loaded from a URL, none inline.
    scripts = re.findall(r"<script([^>]*)>(.*?)</script>", html, flags=re.S)
    assert scripts
    assert all("src=" in attrs and not body.strip() for attrs, body in scripts)
    assert "'unsafe-inline'" not in response.get("Content-Security-Policy", "")
    init_script = next(src for src in re.findall(r'<script src="([^"]+)"', html) if src.startswith("/api/docs/"))
    script = client.get(init_script)
    assert script.status_code == 200
    assert "javascript" in script["Content-Type"]
