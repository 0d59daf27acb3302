"""A FHIR client library, over HTTP, submits a prescription with a transaction Bundle."""

from __future__ import annotations

import pytest
import requests
from fhirpy import SyncFHIRClient
from fhirpy.base.exceptions import OperationOutcome as OutcomeRaised

from intake.models import Prescription
from tests.factories import PASSWORD
from tests.fhir.bundles import transaction_bundle


@pytest.fixture
def fhir_client(live_server, prescriber) -> SyncFHIRClient:
    """A fhirpy client with the prescriber's bearer token from the token endpoint, as an EHR signs in."""
    answer = requests.post(f"{live_server.url}/api/v1/auth/token/", timeout=30,
                           json={"email": prescriber.user.email, "password": PASSWORD})  # fmt: skip
    assert answer.status_code == 200, answer.text
    return SyncFHIRClient(f"{live_server.url}/fhir/R4", authorization=f"Bearer {answer.json()['token']}")


def test_fhirpy_posts_the_transaction_and_the_prescription_exists(fhir_client, prescriber):
    answer = fhir_client.execute("", method="post", data=transaction_bundle())

    assert answer["type"] == "transaction-response"
    location = answer["entry"][1]["response"]["location"]
    prescription = Prescription.objects.get(pk=int(location.removeprefix("MedicationRequest/")))
    assert prescription.prescriber == prescriber
    assert prescription.titration_steps.count() == 2


def test_fhirpy_raises_the_operation_outcome_of_a_bad_bundle(fhir_client):
    bundle = transaction_bundle()
    bundle["type"] = "batch"

    with pytest.raises(OutcomeRaised) as raised:
        fhir_client.execute("", method="post", data=bundle)

    assert "Bundle.type" in str(raised.value)
    assert not Prescription.objects.exists()
