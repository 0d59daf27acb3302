"""Errors are JSON, 4xx, and name the field; no input gives a 500; a refusal saves nothing."""

from __future__ import annotations

import json

import pytest
from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework.test import APIRequestFactory

from intake.api.errors import exception_handler, nest_errors
from intake.errors import Conflict, Forbidden, NotFound
from intake.models import Prescription
from tests.api.conftest import PRESCRIPTIONS
from tests.factories import api_payload


def handled(exc):
    request = APIRequestFactory().get("/")
    return exception_handler(exc, {"request": request, "view": None})


# --- The mapping -----------------------------------------------------------------------------


def test_dotted_service_keys_become_nested_errors():
    errors = {"patient.weight_kg": ["Needs a weight."], "patient.address.state": ["Bad."], "titration": ["Long."]}

    assert nest_errors(errors) == {
        "patient": {"weight_kg": ["Needs a weight."], "address": {"state": ["Bad."]}},
        "titration": ["Long."],
    }


def test_a_parent_with_its_own_message_keeps_it_beside_the_nested_ones():
    nested = nest_errors({"patient": ["Whole patient wrong."], "patient.sex": ["Bad sex."]})

    assert nested == {"patient": {"non_field_errors": ["Whole patient wrong."], "sex": ["Bad sex."]}}


def test_django_validation_errors_answer_400_with_their_fields():
    response = handled(DjangoValidationError({"patient.date_of_birth": ["In the future."], "__all__": ["No."]}))

    assert response.status_code == 400
    assert response.data == {"patient": {"date_of_birth": ["In the future."]}, "non_field_errors": ["No."]}


def test_a_django_validation_error_without_fields_is_a_non_field_error():
    response = handled(DjangoValidationError("Something is off."))

    assert response.status_code == 400
    assert response.data == {"non_field_errors": ["Something is off."]}


@pytest.mark.parametrize(("exc", "code"), [(NotFound(), 404), (Forbidden("Not you."), 403), (Conflict("Late."), 409)])
def test_workflow_errors_answer_their_status_with_a_detail(exc, code):
    response = handled(exc)

    assert response.status_code == code
    assert response.data == {"detail": exc.message}


def test_a_reused_idempotency_key_answers_422():
    response = handled(DjangoValidationError({"idempotency_key": ["Already used for another prescription."]}))

    assert response.status_code == 422
    assert response.data["detail"]


# --- Through HTTP ----------------------------------------------------------------------------


def post_raw(client, body: str | bytes, content_type="application/json"):
    return client.post(PRESCRIPTIONS, body, content_type=content_type)


@pytest.mark.parametrize("body", ["{", '{"patient": }', "", "nul", '{"a": NaN}', '{"a": Infinity}', "\x00", "]["])
def test_malformed_json_answers_400_in_json(prescriber_api, body):
    response = post_raw(prescriber_api, body)

    assert response.status_code == 400
    assert response.json()
    assert not Prescription.objects.exists()


def test_invalid_utf8_answers_400(prescriber_api):
    response = post_raw(prescriber_api, b'{"directions": "\xff\xfe"}')

    assert response.status_code == 400
    assert not Prescription.objects.exists()


@pytest.mark.parametrize(
    "content_type", ["text/plain", "application/xml", "application/x-www-form-urlencoded", "multipart/form-data"]
)
def test_another_content_type_answers_415(prescriber_api, content_type):
    response = post_raw(prescriber_api, json.dumps(api_payload()), content_type=content_type)

    assert response.status_code == 415
    assert response.json()["detail"]
    assert not Prescription.objects.exists()


@pytest.mark.parametrize("body", ["[]", "null", "42", '"text"', "true", "[" + json.dumps(api_payload()) + "]"])
def test_a_body_that_is_not_an_object_answers_400(prescriber_api, body):
    response = post_raw(prescriber_api, body)

    assert response.status_code == 400
    # An object of errors, as for any other bad body (the field-error shape of the schema).
    assert isinstance(response.json(), dict) and response.json()
    assert not Prescription.objects.exists()


def test_a_null_body_says_no_data_was_provided(prescriber_api):
    response = post_raw(prescriber_api, "null")

    assert response.status_code == 400
    assert response.json() == {"non_field_errors": ["No data provided"]}


def test_a_post_without_the_trailing_slash_works(prescriber_api):
    response = prescriber_api.post(PRESCRIPTIONS.rstrip("/"), api_payload(), format="json")

    assert response.status_code == 201


@pytest.mark.parametrize("path", ["/api/v1/nothing/", "/api/v1/prescriptions/1/actions/", "/api/v2/prescriptions/"])
def test_unknown_api_paths_answer_a_json_404(prescriber_api, path):
    response = prescriber_api.post(path, {}, format="json")

    assert response.status_code == 404
    assert response.json()["detail"]


def test_numbers_far_too_big_are_refused_not_crashed(prescriber_api):
    body = api_payload(quantity=10**400, days_supply=-(10**400), refills=1e308, strength_mg=1e308)
    body["titration"] = [{"strength_mg": "9" * 900, "days": 10**50}]

    response = prescriber_api.post(PRESCRIPTIONS, body, format="json")

    assert response.status_code == 400
    assert set(response.json()) >= {"quantity", "days_supply", "refills", "strength_mg", "titration"}
    assert not Prescription.objects.exists()


def test_unknown_fields_are_ignored(prescriber_api):
    response = prescriber_api.post(PRESCRIPTIONS, api_payload(status="completed", id=1, flags=[]), format="json")

    assert response.status_code == 201
    assert response.json()["status"] == "awaiting_questionnaire"
