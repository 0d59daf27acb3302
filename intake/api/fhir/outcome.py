"""OperationOutcome for every error the FHIR interface answers, whoever raised it.

Views raise `FhirError` with issues naming the element (`issue[].expression`, FHIRPath such as
`Bundle.entry[1].resource.birthDate`); DRF's own refusals (no token, 404, 405, 415, a body that
is not JSON) and the services' errors are turned into an OperationOutcome here too.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from fhir.resources.R4B.operationoutcome import OperationOutcome
from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from intake.api.errors import api_exception_for


@dataclass(frozen=True)
class Issue:
    """One OperationOutcome.issue: what is wrong (`diagnostics`) and where (`expression`)."""

    diagnostics: str
    expression: Sequence[str] = ()
    code: str = "invalid"  # http://hl7.org/fhir/issue-type
    severity: str = "error"


@dataclass
class FhirError(Exception):
    status_code: int
    issues: Sequence[Issue] = field(default_factory=tuple)


def operation_outcome(issues: Iterable[Issue]) -> dict[str, Any]:
    """A validated OperationOutcome as JSON-ready data."""
    resource = OperationOutcome.model_validate(
        {
            "resourceType": "OperationOutcome",
            "issue": [
                {
                    "severity": issue.severity,
                    "code": issue.code,
                    "diagnostics": issue.diagnostics,
                    **({"expression": list(issue.expression)} if issue.expression else {}),
                }
                for issue in issues
            ],
        }
    )
    return resource.model_dump(mode="json", exclude_none=True)


# DRF's refusals as FHIR issue types.
_ISSUE_CODE_FOR_STATUS = {
    status.HTTP_401_UNAUTHORIZED: "login",
    status.HTTP_403_FORBIDDEN: "forbidden",
    status.HTTP_404_NOT_FOUND: "not-found",
    status.HTTP_405_METHOD_NOT_ALLOWED: "not-supported",
    status.HTTP_406_NOT_ACCEPTABLE: "not-supported",
    status.HTTP_409_CONFLICT: "conflict",
    status.HTTP_415_UNSUPPORTED_MEDIA_TYPE: "not-supported",
    status.HTTP_422_UNPROCESSABLE_ENTITY: "business-rule",
    status.HTTP_429_TOO_MANY_REQUESTS: "throttled",
}


def _messages(detail: Any, path: str = "") -> list[tuple[str, str]]:
    """(field path, message) pairs from DRF's nested error detail."""
    if isinstance(detail, dict):
        found: list[tuple[str, str]] = []
        for key, value in detail.items():
            found.extend(_messages(value, f"{path}.{key}" if path else str(key)))
        return found
    if isinstance(detail, list):
        return [pair for item in detail for pair in _messages(item, path)]
    return [(path, str(detail))]


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """The FHIR views' exception handler: every error answered as an OperationOutcome."""
    if isinstance(exc, FhirError):
        return Response(operation_outcome(exc.issues), status=exc.status_code)
    response = drf_exception_handler(api_exception_for(exc), context)
    if response is None:
        return None
    code = _ISSUE_CODE_FOR_STATUS.get(response.status_code, "invalid" if response.status_code < 500 else "exception")
    issues = [
        Issue(diagnostics=message, code=code, expression=(path,) if path and path != "detail" else ())
        for path, message in _messages(response.data)
    ] or [Issue(diagnostics="The request was refused.", code=code)]
    response.data = operation_outcome(issues)
    return response


def not_found(what: str = "No such resource, or not one the caller may see.") -> FhirError:
    return FhirError(status.HTTP_404_NOT_FOUND, [Issue(diagnostics=what, code="not-found")])


__all__ = ["FhirError", "Issue", "exception_handler", "not_found", "operation_outcome"]
