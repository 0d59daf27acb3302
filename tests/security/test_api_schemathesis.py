"""Schemathesis against /api/schema/: no input gives a 500, and every answer matches the schema.

The schema is loaded from the WSGI application itself (no server), inside the test database, and
every call carries a verified prescriber's token so that the operations behind a login are
reached, not just refused. Bounded and derandomised, so it runs the same way in CI every time.
"""

from __future__ import annotations

import pytest
import schemathesis
from django.core import signals
from django.core.cache import cache
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from rest_framework.authtoken.models import Token
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance, status_code_conformance

from pharmacy.wsgi import application

CHECKS = [not_a_server_error, response_schema_conformance, status_code_conformance]


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
def prescriber_token(prescriber) -> str:
    token, _ = Token.objects.get_or_create(user=prescriber.user)
    return token.key


# Loaded at collection, as schemathesis' pytest plugin makes one test per operation from it; the
# schema view reads no database. (The lazy `schemathesis.pytest.from_fixture` loader does not work
# with pytest 9.2: it sets a node attribute that pytest no longer has.)
schema = schemathesis.openapi.from_wsgi("/api/schema/", application)


@schema.parametrize()
@settings(max_examples=25, derandomize=True, deadline=None, database=None, suppress_health_check=list(HealthCheck))
@pytest.mark.usefixtures("_keep_the_test_transaction")
def test_the_api_answers_every_generated_request_within_its_schema(case, prescriber_token):
    # Throttle counters live in the cache: without this, the patient endpoints would answer 429
    # after their first few examples and the rest would test nothing.
    cache.clear()
    case.call_and_validate(headers={"Authorization": f"Token {prescriber_token}"}, checks=CHECKS)
