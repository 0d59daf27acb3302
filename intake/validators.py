"""Field validators that speak to the person who typed the value."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from stdnum import luhn
from stdnum.exceptions import ValidationError as StdnumValidationError

# The NPI check digit is Luhn over the ten digits prefixed with the card issuer prefix 80840
# (CMS, "Requirements for NPI check digit").
NPI_LUHN_PREFIX = "80840"


def validate_npi(value: str) -> None:
    digits = str(value).strip()
    if len(digits) != 10 or not digits.isdigit():
        raise ValidationError("An NPI is exactly 10 digits.", code="npi_format")
    if digits[0] not in "12":
        raise ValidationError("An NPI starts with 1 or 2.", code="npi_format")
    try:
        luhn.validate(NPI_LUHN_PREFIX + digits)
    except StdnumValidationError as exc:
        raise ValidationError(
            "This NPI's check digit is wrong: check the number for a typo.", code="npi_checksum"
        ) from exc
