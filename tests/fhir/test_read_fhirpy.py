"""A FHIR client library (fhirpy) reads and searches against a running server."""

from __future__ import annotations

from fhirpy import SyncFHIRClient
from rest_framework.authtoken.models import Token

from tests.factories import make_prescription


def test_fhirpy_reads_and_searches(live_server, prescriber, other_prescriber):
    mine = make_prescription(prescriber)
    make_prescription(other_prescriber, patient={"first_name": "Mary"})
    token, _ = Token.objects.get_or_create(user=prescriber.user)
    client = SyncFHIRClient(f"{live_server.url}/fhir/R4", authorization=f"Bearer {token.key}")

    resource = client.reference("MedicationRequest", str(mine.pk)).to_resource()
    found = client.resources("MedicationRequest").search(status="active").fetch()

    assert resource["id"] == str(mine.pk)
    assert resource["status"] == "active"
    assert resource["identifier"][0]["value"] == mine.reference
    assert [item["id"] for item in found] == [str(mine.pk)]
    assert client.resources("MedicationRequest").search(status="active").count() == 1
