"""Whether a US address's ZIP code and state agree, read from the `zipcodes` package (USPS data).

Plain Python with no Django import. The package answers one ZIP by scanning all 42,000 of them;
the table here is built from it once per process and then answers in a dictionary lookup.
"""

from __future__ import annotations

import functools
import re

import zipcodes

_ZIP5 = re.compile(r"(\d{5})(?:-?\d{4})?")


@functools.cache
def _state_by_zip() -> dict[str, str]:
    return {entry["zip_code"]: entry["state"] for entry in zipcodes.list_all()}


def zip_state(postal_code: str) -> str | None:
    """The state a ZIP code (5 digits, or ZIP+4) belongs to; None when it is not a known ZIP code."""
    matched = _ZIP5.fullmatch(postal_code.strip())
    if matched is None:
        return None
    return _state_by_zip().get(matched.group(1))


def postal_code_disagreement(state: str, postal_code: str) -> str:
    """Words for the person who typed the address when the ZIP code belongs to another state; ""
    when they agree or the ZIP code is not in the data (a new one: the carrier's check decides)."""
    found = zip_state(postal_code)
    state = state.strip().upper()
    if found is None or not state or found == state:
        return ""
    return f"ZIP code {postal_code.strip()} is in {found}, not {state}: check the state or the ZIP code."
