from __future__ import annotations

import pytest

from intake.models import Prescriber, ProtocolTemplate
from intake.services.protocols import protocol_template_save
from tests.factories import prescribed_content


@pytest.fixture
def prescriber_client(client, login, prescriber):
    login(client, prescriber.user)
    return client


@pytest.fixture
def template(prescriber: Prescriber) -> ProtocolTemplate:
    """The usual titration kit, 90 days, with notes to the pharmacist."""
    return protocol_template_save(
        prescriber=prescriber,
        name="LDN 1.5→3→4.5 mg capsules, 90 days",
        content=prescribed_content(quantity=90, days_supply=90, refills=2, prescriber_notes="Mix with MCC only."),
    )
