"""The FHIR reads cost the same few queries for one prescription as for a page of twenty."""

from __future__ import annotations

from django.db import connection
from django.test.utils import CaptureQueriesContext

from intake.api.fhir import codes
from intake.models import IdempotencyKey
from tests.factories import make_prescription
from tests.fhir.reading import fhir_get

# The token's user and roles (2), count, page, titration steps, fills, clarifications, the EHR's
# identifiers, the audit row.
SEARCH_QUERIES = 9


def _made(prescriber, how_many, start=0):
    for n in range(start, start + how_many):
        prescription = make_prescription(prescriber, patient={"first_name": f"Pat{n}"})
        IdempotencyKey.objects.create(prescriber=prescriber, key=codes.identifier_key("urn:ehr", f"E-{n}"),
                                      request_digest="0" * 64, prescription=prescription)  # fmt: skip


def _queries_for_search(client):
    with CaptureQueriesContext(connection) as captured:
        response = fhir_get(client, "MedicationRequest")
    assert response.status_code == 200
    return len(captured), response.json()["total"]


def test_a_search_costs_the_same_for_one_and_for_twenty(prescriber_api, prescriber, django_assert_max_num_queries):
    _made(prescriber, 1)
    one, total = _queries_for_search(prescriber_api)
    assert total == 1
    _made(prescriber, 19, start=1)

    with django_assert_max_num_queries(SEARCH_QUERIES):
        response = fhir_get(prescriber_api, "MedicationRequest")

    twenty, total = _queries_for_search(prescriber_api)
    assert response.json()["total"] == total == 20
    assert one == twenty <= SEARCH_QUERIES
    assert all(len(entry["resource"]["identifier"]) == 2 for entry in response.json()["entry"])


def test_a_read_costs_a_few_queries(prescriber_api, prescriber, django_assert_max_num_queries):
    _made(prescriber, 1)
    (prescription,) = prescriber.prescriptions.all()

    # The token's user and roles (2), the prescription with its patient and prescriber, steps, fills,
    # clarifications, identifiers, the audit row.
    with django_assert_max_num_queries(8):
        response = fhir_get(prescriber_api, f"MedicationRequest/{prescription.pk}")

    assert response.status_code == 200
