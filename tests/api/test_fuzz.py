"""Random JSON at POST /api/v1/prescriptions/: never a 500, and a refusal saves nothing."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from intake.models import IdempotencyKey, Patient, Prescription, TitrationStep
from intake.services import workflow
from tests.api.conftest import PRESCRIPTIONS, action_url
from tests.factories import api_payload

FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**30), max_value=10**30),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=40),
    st.sampled_from(["NaN", "Infinity", "-0", "1e999", "4.5", "0.001", "2023-02-30", "1980-02-29", "capsule",
                     "bedtime", "TX", "78701", "\x00", "\ud800", "ﬁ", "💊", "x" * 1200]),
)  # fmt: skip
json_values = st.recursive(
    scalars,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=5),
    max_leaves=12,
)

# Every key of the submission's body, nested ones as dotted paths.
PATHS = [
    "patient", "patient.first_name", "patient.last_name", "patient.date_of_birth", "patient.sex",
    "patient.email", "patient.phone", "patient.weight_kg", "patient.address", "patient.address.line1",
    "patient.address.city", "patient.address.state", "patient.address.postal_code", "dosage_form",
    "strength_mg", "directions", "quantity", "days_supply", "refills", "indication", "icd10", "titration",
    "dose_timing", "prescriber_notes", "titration.0", "titration.0.strength_mg", "titration.0.days",
]  # fmt: skip


def child(node: Any, part: str) -> Any:
    if isinstance(node, dict):
        return node.get(part)
    if isinstance(node, list) and part.isdigit() and int(part) < len(node):
        return node[int(part)]
    return None


def mutated(changes: list[tuple[str, Any]]) -> dict[str, Any]:
    """The reference submission with some values (anywhere in it) replaced by random JSON."""
    body: Any = copy.deepcopy(api_payload())
    for dotted, value in changes:
        *parents, leaf = dotted.split(".")
        node = body
        for part in parents:
            node = child(node, part)
        if isinstance(node, list) and leaf.isdigit() and int(leaf) < len(node):
            node[int(leaf)] = value
        elif isinstance(node, dict):
            node[leaf] = value
    return body


def post_and_check(client, body: Any) -> None:
    before = (Prescription.objects.count(), Patient.objects.count(), TitrationStep.objects.count(),
              IdempotencyKey.objects.count())  # fmt: skip
    # ensure_ascii: lone surrogates travel escaped, as an EHR's encoder may send them.
    response = client.post(PRESCRIPTIONS, json.dumps(body), content_type="application/json")
    assert response.status_code < 500, (body, response.content)
    if response.status_code >= 400:
        assert response.json()
        after = (Prescription.objects.count(), Patient.objects.count(), TitrationStep.objects.count(),
                 IdempotencyKey.objects.count())  # fmt: skip
        assert after == before, body
    else:
        assert response.status_code == 201
        assert Prescription.objects.count() == before[0] + 1


@FUZZ
@given(body=json_values)
def test_any_json_at_all_is_answered_below_500(prescriber_api, body):
    post_and_check(prescriber_api, body)


@FUZZ
@given(changes=st.lists(st.tuples(st.sampled_from(PATHS), json_values), min_size=1, max_size=4))
def test_the_example_with_random_values_is_answered_below_500(prescriber_api, changes):
    post_and_check(prescriber_api, mutated(changes))


@FUZZ
@given(extra=st.dictionaries(st.text(max_size=20), json_values, max_size=6))
def test_extra_keys_never_break_it(prescriber_api, extra):
    post_and_check(prescriber_api, {**api_payload(), **extra})


CORRECTABLE = ["strength_mg", "directions", "quantity", "days_supply", "refills", "indication", "icd10",
               "dose_timing", "prescriber_notes", "dosage_form", "titration", "weight_kg", "corrections",
               "signature", "message"]  # fmt: skip


@pytest.fixture
def held(rx_at) -> Prescription:
    return rx_at("on_hold")


@FUZZ
@given(fields=st.dictionaries(st.sampled_from(CORRECTABLE), json_values, max_size=5))
def test_random_corrections_in_a_response_are_answered_below_500(prescriber_api, held, pharmacist, fields):
    # One prescription for all examples (a function-scoped fixture): put back on hold after each success.
    before = Prescription.objects.get(pk=held.pk)
    body = {"message": "See corrections.", **fields}

    response = prescriber_api.post(action_url(held, "respond"), json.dumps(body), content_type="application/json")

    assert response.status_code < 500, (body, response.content)
    after = Prescription.objects.get(pk=held.pk)
    if response.status_code >= 400:
        assert (after.status, after.content_digest, after.strength_mg) == (
            before.status, before.content_digest, before.strength_mg,
        )  # fmt: skip
    else:
        assert not after.is_altered
        workflow.prescription_request_clarification(prescription_id=held.pk, actor=pharmacist,
                                                    message="Another question.")  # fmt: skip
