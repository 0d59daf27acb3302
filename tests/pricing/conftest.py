"""Personas and prescriptions for price and consent: an approved prescription, with and without the
pharmacy asking for the patient's consent."""

from __future__ import annotations

import pytest
from django.core.cache import cache

from intake.models import Prescriber, Prescription, PrescriptionStatus
from tests.factories import make_prescription
from tests.workflow_helpers import advance

S = PrescriptionStatus
BIRTH = "1980-02-29"


@pytest.fixture(autouse=True)
def _clear_cache():
    # The throttles count in the cache; each test starts with none.
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def consent_required(settings) -> None:
    settings.PRICE_CONSENT_REQUIRED = True


@pytest.fixture
def approved(consent_required, prescriber: Prescriber, pharmacist, technician) -> Prescription:
    """Approved while the pharmacy asks for consent: the price waits for the patient."""
    return advance(make_prescription(prescriber), S.APPROVED, pharmacist=pharmacist, technician=technician)
