"""The price on the patient's status page, written by babel in the page's language: US Spanish
groups and marks decimals as American English does ("$1,237.45", never "$1237,45")."""

import re
from decimal import Decimal

import pytest
from django.test import Client
from django.utils import translation

from intake.models import Language, Prescription, PrescriptionStatus
from intake.money import money_words
from tests.factories import make_prescription
from tests.workflow_helpers import advance

pytestmark = pytest.mark.django_db

BIRTH = "1980-02-29"
PRICE = re.compile(r'data-testid="price-amount">([^<]*)</p>')


@pytest.fixture
def quoted(settings, prescriber, pharmacist, technician) -> Prescription:
    """Approved while the pharmacy asks for consent, at a price with a thousands separator."""
    settings.PRICE_CONSENT_REQUIRED = True
    prescription = make_prescription(prescriber, patient={"language": Language.SPANISH})
    prescription = advance(prescription, PrescriptionStatus.APPROVED, pharmacist=pharmacist, technician=technician)
    Prescription.objects.filter(pk=prescription.pk).update(price_amount=Decimal("1237.45"), price_currency="USD")
    return prescription


@pytest.mark.parametrize(("lang", "words"), [("es", "Precio"), ("en", "Price")])
def test_the_status_page_writes_the_price_in_the_pages_language(client: Client, quoted: Prescription, lang, words):
    page = f"/status/{quoted.questionnaire_token}"
    assert client.post(page, {"date_of_birth": BIRTH}).status_code == 302

    body = client.get(page, {"lang": lang}).content.decode()

    assert words in body  # the page is in that language
    assert PRICE.findall(body) == ["$1,237.45"]


@pytest.mark.parametrize(
    ("language", "amount", "currency", "expected"),
    [
        ("en", "1237.45", "USD", "$1,237.45"),
        ("es", "1237.45", "USD", "$1,237.45"),
        ("es", "45.4", "USD", "$45.40"),
        ("en", "0", "USD", "$0.00"),
        ("en", "1237.45", "EUR", "€1,237.45"),
    ],
)
def test_money_words(language, amount, currency, expected):
    with translation.override(language):
        assert money_words(Decimal(amount), currency) == expected
