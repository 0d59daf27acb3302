"""Submitting a prescription through the API, whichever body carried it: the JSON API's or a FHIR Bundle.

Both validate with the one PrescriptionCreateSerializer and submit through `prescription_submit`,
so the rules, the screening and the idempotency are the same whatever the door.
"""

from __future__ import annotations

from typing import Any, cast

from rest_framework import exceptions
from rest_framework.exceptions import ErrorDetail
from rest_framework.request import Request
from rest_framework.settings import api_settings

from accounts.models import User
from intake.api import serializers as api
from intake.audit import AuditEntry, client_ip
from intake.models import Prescription
from intake.services.prescriptions import Signature, prescription_submit

# One serializer for reading every submission: DRF deep-copies a serializer's declared fields, nested
# ones included, each time one is made, which cost more than the database work. Validating
# (run_validation) keeps no state on the serializer, and it needs no context, so its fields are bound once.
SUBMISSION_IN = api.PrescriptionCreateSerializer()


def validated_submission(data: Any) -> dict[str, Any]:
    """The submission's fields, or a 400 with every field's errors, as `is_valid` would answer."""
    try:
        return SUBMISSION_IN.run_validation(data)  # type: ignore[no-any-return]
    except exceptions.ValidationError as exc:
        if isinstance(exc.detail, list):  # a null body: is_valid answers this in the same shape
            raise exceptions.ValidationError(
                {api_settings.NON_FIELD_ERRORS_KEY: [ErrorDetail("No data provided", code="null")]}
            ) from None
        raise


def submission_submit(
    request: Request, data: dict[str, Any], *, idempotency_key: str, through: str
) -> tuple[Prescription, bool]:
    """Submit a validated submission as the signed-in prescriber. Returns it and whether it was created."""
    user = cast(User, request.user)
    signed = data.get("signature") or {"name": user.get_full_name()}
    return prescription_submit(
        prescriber=user.prescriber,
        patient=api.patient_details(data),
        content=api.prescribed_content(data),
        # The authenticated call is the prescriber's attestation; with no signature, the account's name signs.
        signature=Signature(name=signed["name"], attested=True, ip_address=client_ip(request)),
        idempotency_key=idempotency_key,
        audit=AuditEntry.of(request, description=f"submitted through {through}"),
    )
