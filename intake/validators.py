"""Field validators that speak to the person who typed the value."""

from __future__ import annotations

import re

from django.core.exceptions import ValidationError
from django.utils.translation import gettext, gettext_noop
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


# C0 controls (NUL, tab, CR, LF, ESC…), DEL and the C1 controls; the Unicode line and paragraph
# separators; the bidirectional embeddings, overrides and isolates, which make a name or a lot
# number read differently on screen from what is stored.
_BIDI_CONTROLS = "\u202a-\u202e\u2066-\u2069"
_NOT_ON_ONE_LINE = re.compile(f"[\x00-\x1f\x7f-\x9f\u2028\u2029{_BIDI_CONTROLS}]")
# Free text keeps its line breaks and tabs.
_NOT_IN_FREE_TEXT = re.compile(f"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f{_BIDI_CONTROLS}]")

# Patient forms show these too (a questionnaire's medicine line, a check-in's free text): marked for
# the catalogue here, translated when raised. The constants stay the English str that callers compare.
SINGLE_LINE_MESSAGE = gettext_noop("Use letters, digits and punctuation only: no line breaks or control characters.")
FREE_TEXT_MESSAGE = gettext_noop(
    "Remove the control characters: only letters, digits, punctuation, line breaks and tabs."
)


def validate_single_line(value: str) -> None:
    """A name, an address line, a code or a number: one line of printable text."""
    if _NOT_ON_ONE_LINE.search(str(value)):
        raise ValidationError(gettext(SINGLE_LINE_MESSAGE), code="control_characters")


def validate_free_text(value: str) -> None:
    """Directions, notes, messages and reasons: line breaks and tabs allowed, other controls not."""
    if _NOT_IN_FREE_TEXT.search(str(value)):
        raise ValidationError(gettext(FREE_TEXT_MESSAGE), code="control_characters")
