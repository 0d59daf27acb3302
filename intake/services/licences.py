"""State licences: the pharmacy's, recorded and changed by pharmacists, each change kept in history;
a prescriber's further ones."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from simple_history.utils import bulk_create_with_history

from accounts.models import User
from intake.errors import Forbidden, NotFound
from intake.models import Prescriber, PrescriberLicence, StateLicence, licences_forget
from intake.models.people import US_STATES

LICENCE_FIELDS = ("state", "licence_number", "expires_on", "active")
_STATES = frozenset(code for code, _name in US_STATES)


@transaction.atomic(durable=True)
def state_licence_save(*, actor: User, values: Mapping[str, Any], licence_id: int | None = None) -> StateLicence:
    """Record a licence (licence_id None) or change one; pharmacists only. One licence per state."""
    if not actor.is_pharmacist:
        raise Forbidden("Only a pharmacist may change the pharmacy's licences.")
    unknown = set(values) - set(LICENCE_FIELDS)
    if unknown:
        raise ValueError(f"Unknown licence fields: {sorted(unknown)}")
    errors: dict[str, list[str]] = {}
    state = str(values.get("state") or "")
    if state not in _STATES:
        errors["state"] = ["Choose a state."]
    number = str(values.get("licence_number") or "").strip()
    if not number:
        errors["licence_number"] = ["Enter the licence number."]
    if not isinstance(values.get("expires_on"), date):
        errors["expires_on"] = ["Enter the date the licence expires."]
    taken = StateLicence.objects.filter(state=state).exclude(pk=licence_id or 0).exists()
    if state and taken:
        errors["state"] = ["The pharmacy already has a licence recorded for this state: change that one."]
    if errors:
        raise ValidationError(errors)
    if licence_id is None:
        licence = StateLicence()
    else:
        found = StateLicence.objects.select_for_update().filter(pk=licence_id).first()
        if found is None:
            raise NotFound()
        licence = found
    licence.state, licence.licence_number = state, number
    licence.expires_on, licence.active = values["expires_on"], bool(values.get("active"))
    licence.save()
    return licence


def state_licences_record(licences: Iterable[tuple[str, str, date]]) -> int:
    """Record licences (state, number, expiry) for the states that have none; change nothing else.
    Returns how many were recorded. For seed_demo and the test suite's fixture."""
    held = set(StateLicence.objects.values_list("state", flat=True))
    new = [
        StateLicence(state=state, licence_number=number, expires_on=expires_on, active=True)
        for state, number, expires_on in licences
        if state not in held
    ]
    bulk_create_with_history(new, StateLicence)
    transaction.on_commit(licences_forget)
    licences_forget()
    return len(new)


# Every US state and DC except Alaska and Hawaii (the demo pharmacy's licences).
DEMO_LICENSED_STATES = tuple(code for code, _name in US_STATES if code not in ("AK", "HI", "PR", "GU", "VI"))


def demo_licences(*, expires_on: date) -> list[tuple[str, str, date]]:
    return [(state, f"PH-{state}-{number:05d}", expires_on) for number, state in enumerate(DEMO_LICENSED_STATES, 1)]


def prescriber_licences_record(prescriber: Prescriber, licences: Iterable[tuple[str, str, date]]) -> int:
    """Record a prescriber's further licences (state, number, expiry) for the states they have none
    in, beside the licence they registered with; change nothing else. For seed_demo and tests."""
    held = set(prescriber.licences.values_list("state", flat=True)) | {prescriber.license_state}
    new = [
        PrescriberLicence(prescriber=prescriber, state=state, licence_number=number, expires_on=expires_on)
        for state, number, expires_on in licences
        if state not in held
    ]
    bulk_create_with_history(new, PrescriberLicence)
    return len(new)
