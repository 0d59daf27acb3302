"""Schemathesis against /api/schema/: no input gives a 500, and every answer matches the schema
(status code, content type, headers and body), and data that breaks the schema is refused.

The schema is loaded from the WSGI application itself (no server), inside the test database. Every
operation is called three ways: with a verified prescriber's token, with a pharmacist's (the staff
actions, the access log) and with none (the patient's endpoints, and the 401s of the others). A
prescription of that prescriber exists, and valid requests name it, so reads and actions reach a
real prescription instead of a 404. Bounded and derandomised, so it runs the same way in CI.

positive_data_acceptance is left out: a request that fits the schema may still be refused with a
400 the schema cannot express (a reason that is not a sentence, a birth date that does not match).
"""

from __future__ import annotations

import pytest
import schemathesis
from django.core import signals
from django.core.cache import cache
from django.core.handlers.wsgi import WSGIHandler
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from rest_framework.authtoken.models import Token
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from intake.models import Prescription
from tests.factories import make_prescription

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    negative_data_rejection,
]
EXAMPLES = 5  # per operation, persona and mode: 30 operations × 3 personas × 2 modes × 5 calls at most


@pytest.fixture
def _keep_the_test_transaction():
    # Django's WSGI handler closes "old" connections at each request's start and end, which would
    # end the test's transaction; its own test client unhooks the same signal for the same reason.
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@pytest.fixture
def prescription(prescriber) -> Prescription:
    return make_prescription(prescriber)


@pytest.fixture(params=["prescriber", "pharmacist", "anonymous"])
def authorization(request, prescriber, pharmacist) -> dict[str, str]:
    user = {"prescriber": prescriber.user, "pharmacist": pharmacist, "anonymous": None}[request.param]
    if user is None:
        return {}
    token, _ = Token.objects.get_or_create(user=user)
    return {"Authorization": f"Token {token.key}"}


# Loaded at collection, as schemathesis' pytest plugin makes one test per operation from it; the
# schema view reads no database. (The lazy `schemathesis.pytest.from_fixture` loader does not work
# with pytest 9.2: it sets a node attribute that pytest no longer has.)
# pharmacy.wsgi's get_wsgi_application() would run django.setup() again, whose logging dictConfig
# takes every handler off the root logger, the session's log scan included: the handler it builds is
# the same WSGI application, without the second setup.
schema = schemathesis.openapi.from_wsgi("/api/schema/", WSGIHandler())
schema.config.generation.update(modes=[GenerationMode.POSITIVE, GenerationMode.NEGATIVE])


def aimed_at(case, prescription: Prescription) -> None:
    """A valid request names the prescription that exists (an invalid one keeps its broken values)."""
    if case.meta is None or not case.meta.generation.mode.is_positive or not case.path_parameters:
        return
    if "id" in case.path_parameters:
        case.path_parameters["id"] = prescription.pk
    if "token" in case.path_parameters:
        case.path_parameters["token"] = prescription.questionnaire_token


@schema.parametrize()
@settings(
    max_examples=EXAMPLES, derandomize=True, deadline=None, database=None, suppress_health_check=list(HealthCheck)
)
@pytest.mark.usefixtures("_keep_the_test_transaction")
def test_the_api_answers_every_generated_request_within_its_schema(case, authorization, prescription):
    # Throttle counters live in the cache: without this, the patient endpoints would answer 429
    # after their first few examples and the rest would test nothing.
    cache.clear()
    aimed_at(case, prescription)
    case.call_and_validate(headers=authorization, checks=CHECKS)
