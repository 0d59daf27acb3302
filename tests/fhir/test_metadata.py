"""GET /fhir/R4/metadata: the CapabilityStatement, readable without a token."""

from __future__ import annotations

from tests.fhir.reading import fhir_get, validated


def test_the_capability_statement_names_what_the_server_does(api):
    response = fhir_get(api, "metadata")

    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/fhir+json")
    body = validated(response.json())
    assert body["resourceType"] == "CapabilityStatement"
    assert (body["status"], body["kind"], body["fhirVersion"]) == ("active", "instance", "4.0.1")
    assert "json" in body["format"]
    (rest,) = body["rest"]
    assert rest["mode"] == "server"
    assert "/api/v1/auth/token/" in rest["security"]["description"]
    assert rest["interaction"] == [{"code": "transaction"}]
    by_type = {resource["type"]: resource for resource in rest["resource"]}
    assert set(by_type) == {
        "MedicationRequest", "DetectedIssue", "MedicationDispense", "Questionnaire", "QuestionnaireResponse",
        "Patient", "Observation",
    }  # fmt: skip

    def interactions(kind: str) -> set[str]:
        return {interaction["code"] for interaction in by_type[kind].get("interaction", ())}

    def parameters(kind: str) -> set[str]:
        return {parameter["name"] for parameter in by_type[kind].get("searchParam", ())}

    assert {"read", "search-type"} <= interactions("MedicationRequest")
    assert parameters("MedicationRequest") == {"identifier", "status", "_lastUpdated"}
    assert parameters("DetectedIssue") == {"implicated"}
    assert parameters("MedicationDispense") == {"prescription"}
    assert parameters("QuestionnaireResponse") == {"based-on"}
    assert interactions("Questionnaire") == {"read"}
    assert interactions("Patient") == interactions("Observation") == set()


def test_the_capability_statement_ignores_a_bad_token(api):
    api.credentials(HTTP_AUTHORIZATION="Bearer not-a-token")

    response = fhir_get(api, "metadata")

    assert response.status_code == 200
