"""One JSON shape for every API error, whoever raised it.

- 400: the fields that are wrong, nested like the request ({"patient": {"weight_kg": ["…"]}}),
  or {"detail": "…"} for a body that is not JSON, nests too deep or is too large.
- 403, 404, 409, 410, 415, 422, 429: {"detail": "…"}.

Services raise django's ValidationError (keys such as "patient.weight_kg") and the errors of
intake.errors (NotFound, Forbidden, Conflict, each with its status); this module maps both.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from django.conf import settings
from django.core.exceptions import NON_FIELD_ERRORS, RequestDataTooBig
from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.views import exception_handler as drf_exception_handler

from intake.errors import WorkflowError

# Service field names that the API spells differently.
FIELD_ALIASES = {
    "signature_name": "signature.name",
    "signature_attestation": "signature.attestation",
    "master_formulation": "master_formulation_id",
}

# A refusal that is not about the body's fields: an Idempotency-Key reused for another request
# (422, as the IETF draft "The Idempotency-Key HTTP Header Field" recommends).
STATUS_FOR_FIELD = {"idempotency_key": status.HTTP_422_UNPROCESSABLE_ENTITY}


class ServiceError(exceptions.APIException):
    """A WorkflowError (or any status a service chose) carried through DRF's handler."""

    def __init__(self, detail: Any, status_code: int, code: str | None = None) -> None:
        super().__init__(detail=detail, code=code)
        self.status_code = status_code


def nest_errors(errors: Mapping[str, Iterable[str]]) -> dict[str, Any]:
    """{"patient.weight_kg": [m]} -> {"patient": {"weight_kg": [m]}}; "__all__" -> non_field_errors."""
    nested: dict[str, Any] = {}
    for key, messages in errors.items():
        name = api_settings.NON_FIELD_ERRORS_KEY if key == NON_FIELD_ERRORS else FIELD_ALIASES.get(key, key)
        *parents, leaf = name.split(".")
        node = nested
        for part in parents:
            child = node.get(part)
            if not isinstance(child, dict):
                # Messages already there for the parent itself move under its non-field key.
                child = {api_settings.NON_FIELD_ERRORS_KEY: list(child)} if child else {}
                node[part] = child
            node = child
        existing = node.get(leaf)
        if isinstance(existing, dict):
            existing.setdefault(api_settings.NON_FIELD_ERRORS_KEY, []).extend(messages)
        else:
            node[leaf] = [*(existing or []), *messages]
    return nested


def api_exception_for(exc: Exception) -> Exception:
    """The DRF exception that stands for a service's error; other exceptions unchanged."""
    if isinstance(exc, DjangoValidationError):
        if hasattr(exc, "error_dict"):
            errors = exc.message_dict
            if len(errors) == 1:
                (field,) = errors
                if field in STATUS_FOR_FIELD:
                    return ServiceError(" ".join(errors[field]), STATUS_FOR_FIELD[field], code=field)
            return exceptions.ValidationError(nest_errors(errors))
        return exceptions.ValidationError({api_settings.NON_FIELD_ERRORS_KEY: exc.messages})
    if isinstance(exc, RequestDataTooBig):
        return exceptions.ParseError(f"The body is larger than {settings.DATA_UPLOAD_MAX_MEMORY_SIZE} bytes.")
    if isinstance(exc, WorkflowError):
        return ServiceError(exc.message, exc.status_code, code=type(exc).__name__.lower())
    return exc


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """REST_FRAMEWORK["EXCEPTION_HANDLER"]: DRF's handler, after mapping the services' errors."""
    return drf_exception_handler(api_exception_for(exc), context)
