"""Helpers for the API tests: URLs, payload editing, prescriptions at any status."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import pytest
from rest_framework.test import APIClient

from intake.models import Prescription, PrescriptionEvent
from tests.conftest import api_client_for
from tests.factories import make_prescription
from tests.workflow_helpers import advance

PRESCRIPTIONS = "/api/v1/prescriptions/"


def detail_url(prescription_or_id: Prescription | int | str) -> str:
    pk = prescription_or_id.pk if isinstance(prescription_or_id, Prescription) else prescription_or_id
    return f"{PRESCRIPTIONS}{pk}/"


def action_url(prescription_or_id: Prescription | int | str, action: str) -> str:
    return f"{detail_url(prescription_or_id)}actions/{action}/"


def with_value(payload: dict[str, Any], dotted: str, value: Any) -> dict[str, Any]:
    """A copy of the payload with the value at "patient.address.city" replaced."""
    body = copy.deepcopy(payload)
    *parents, leaf = dotted.split(".")
    node = body
    for part in parents:
        node = node[part]
    node[leaf] = value
    return body


def without(payload: dict[str, Any], dotted: str) -> dict[str, Any]:
    body = copy.deepcopy(payload)
    *parents, leaf = dotted.split(".")
    node = body
    for part in parents:
        node = node[part]
    del node[leaf]
    return body


def error_at(body: Any, dotted: str) -> Any:
    """The error messages at a dotted path of an error body (KeyError when absent)."""
    node = body
    for part in dotted.split("."):
        node = node[int(part)] if isinstance(node, list) else node[part]
    return node


def snapshot(prescription: Prescription) -> tuple[Any, ...]:
    """What an action changes: status, claim, and the number of events."""
    fresh = Prescription.objects.get(pk=prescription.pk)
    events = PrescriptionEvent.objects.filter(prescription=fresh).count()
    return fresh.status, fresh.claimed_by_id, fresh.beyond_use_date, fresh.carrier, events


def persona_client(request: pytest.FixtureRequest, persona: str) -> APIClient:
    """The API client of a persona fixture: "prescriber", "pharmacist", "pharmacy_admin"…"""
    if persona == "pharmacy_admin":
        return api_client_for(request.getfixturevalue(persona))
    return request.getfixturevalue(f"{persona}_api")


@pytest.fixture
def rx_at(prescriber, pharmacist, technician) -> Callable[..., Prescription]:
    """rx_at("approved", answers=...): one of the prescriber's prescriptions, moved to that status."""

    def _at(status: str, *, answers: dict[str, Any] | None = None, **content: Any) -> Prescription:
        prescription = make_prescription(prescriber, **content)
        if status == "awaiting_questionnaire":
            return prescription
        return advance(prescription, status, pharmacist=pharmacist, technician=technician, answers=answers)

    return _at
