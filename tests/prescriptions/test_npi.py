import pytest
from django.core.exceptions import ValidationError

from intake.validators import validate_npi
from tests.factories import valid_npi


@pytest.mark.parametrize("npi", ["1234567893", "1245319599", "1003000126", valid_npi(1), valid_npi(2)])
def test_valid_npi_is_accepted(npi):
    validate_npi(npi)


@pytest.mark.parametrize(
    ("npi", "code"),
    [
        ("1234567890", "npi_checksum"),  # wrong check digit
        ("1245319598", "npi_checksum"),
        ("123456789", "npi_format"),  # nine digits
        ("12345678933", "npi_format"),  # eleven digits
        ("12345678a3", "npi_format"),
        ("3234567893", "npi_format"),  # must start with 1 or 2
        ("", "npi_format"),
    ],
)
def test_invalid_npi_is_refused_with_a_reason(npi, code):
    with pytest.raises(ValidationError) as error:
        validate_npi(npi)

    assert error.value.code == code
