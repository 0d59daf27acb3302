"""FHIR search parameters read into querysets: MedicationRequest's identifier, status and
_lastUpdated, a reference parameter (`MedicationRequest/{id}`), and the _count/_offset pages.

Unknown parameters are ignored, FHIR's lenient handling, unless the caller sends
`Prefer: handling=strict`; then they answer 400. A known parameter with a bad value always does.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Final

from django.db.models import Q, QuerySet
from django.db.models.functions import Greatest
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.http import urlencode
from rest_framework import status
from rest_framework.request import Request

from intake.api.fhir import codes
from intake.api.fhir.outcome import FhirError, Issue
from intake.models import IdempotencyKey, Prescription, PrescriptionStatus

DEFAULT_COUNT: Final = 25
MAX_COUNT: Final = 100
# Paging and format parameters: they shape the answer, not what matches.
RESULT_PARAMETERS: Final = frozenset({"_count", "_offset", "_format", "_pretty"})
# When a MedicationRequest last changed: its prescription's row or its patient's (resources.last_updated).
LAST_UPDATED: Final = Greatest("updated_at", "patient__updated_at")


def bad_parameter(name: str, diagnostics: str) -> FhirError:
    return FhirError(status.HTTP_400_BAD_REQUEST, [Issue(diagnostics=diagnostics, expression=(name,))])


def strict(request: Request) -> bool:
    return "handling=strict" in request.headers.get("Prefer", "").replace(" ", "").lower()


def check_unknown(request: Request, known: frozenset[str]) -> None:
    """Under `Prefer: handling=strict`, a parameter this search does not know answers 400."""
    if not strict(request):
        return
    unknown = sorted(set(request.query_params) - known - RESULT_PARAMETERS)
    if unknown:
        raise FhirError(
            status.HTTP_400_BAD_REQUEST,
            [Issue(diagnostics=f"Unknown search parameter: {name}.", code="not-supported", expression=(name,))
             for name in unknown],
        )  # fmt: skip


# --- Reference parameters ----------------------------------------------------------------------------

_REFERENCE = re.compile(r"^(?:.*/)?(?:MedicationRequest/)?([0-9]{1,18})$")


def required(request: Request, name: str) -> str:
    value = request.query_params.get(name, "").strip()
    if not value:
        raise bad_parameter(name, f"Search by {name}=MedicationRequest/{{id}}: it is required here.")
    return value


def prescription_id(request: Request, name: str) -> int:
    """The id in `MedicationRequest/{id}` (or a bare id, or a full URL ending so)."""
    value = required(request, name)
    found = _REFERENCE.match(value)
    if found is None or ("/" in value and "MedicationRequest/" not in value):
        raise bad_parameter(name, f"{name} names a MedicationRequest: MedicationRequest/{{id}}.")
    return int(found.group(1))


# --- MedicationRequest --------------------------------------------------------------------------------

MEDICATION_REQUEST_PARAMETERS: Final = frozenset({"identifier", "status", "_lastUpdated"})


def _values(raw: str) -> list[str]:
    return [value.strip() for value in raw.split(",") if value.strip()]


def _identifier_condition(token: str) -> Q:
    """`value`, `system|value` or `|value` (no system): the order number, or the identifier the EHR sent."""
    keys = IdempotencyKey.objects.values("prescription_id")
    if "|" not in token:
        sent = keys.filter(key__startswith="fhir:", key__endswith=f"|{token}")
        return Q(reference=token.upper()) | Q(pk__in=sent)
    system, _, value = token.partition("|")
    if system == codes.ORDER_NUMBER_SYSTEM:
        return Q(reference=value.upper())
    return Q(pk__in=keys.filter(key=codes.identifier_key(system, value)))


def _status_condition(raw: str) -> Q:
    wanted = _values(raw)
    unknown = [value for value in wanted if value not in codes.MEDICATION_REQUEST_STATUSES]
    if unknown or not wanted:
        raise bad_parameter(
            "status", f"Not a MedicationRequest status: {', '.join(unknown) or raw!r}. "
            f"Use one or more of {', '.join(sorted(codes.MEDICATION_REQUEST_STATUSES))}.",
        )  # fmt: skip
    mapped = set().union(*(codes.STATUS_FROM_FHIR.get(value, ()) for value in wanted))
    if codes.STATUS_TO_FHIR_DEFAULT in wanted:
        mapped |= set(PrescriptionStatus.values) - set(codes.STATUS_TO_FHIR)
    return Q(status__in=sorted(mapped))


_PREFIXED = re.compile(r"^(eq|gt|lt|ge|le)?(\d{4}(?:-\d{2}(?:-\d{2})?)?)(T.*)?$")


def _day_start(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


def _period(text: str, time_part: str | None) -> tuple[datetime, datetime]:
    """The moments a date or dateTime stands for, [start, end): a day, month or year in the
    pharmacy's time zone, or the second named (a dateTime without a zone being the pharmacy's)."""
    if time_part:
        moment = parse_datetime(text + time_part)
        if moment is None:
            raise ValueError(text)
        if timezone.is_naive(moment):
            moment = timezone.make_aware(moment)
        return moment, moment + timedelta(seconds=1)
    parts = [int(part) for part in text.split("-")]
    if len(parts) == 3:
        start = date(parts[0], parts[1], parts[2])
        return _day_start(start), _day_start(start + timedelta(days=1))
    if len(parts) == 2:
        start = date(parts[0], parts[1], 1)
        following = date(parts[0] + parts[1] // 12, parts[1] % 12 + 1, 1)
        return _day_start(start), _day_start(following)
    return _day_start(date(parts[0], 1, 1)), _day_start(date(parts[0] + 1, 1, 1))


def _last_updated_condition(raw: str) -> Q:
    found = _PREFIXED.match(raw.strip())
    try:
        if found is None:
            raise ValueError(raw)
        prefix, text, time_part = found.group(1) or "eq", found.group(2), found.group(3)
        start, end = _period(text, time_part)
    except (ValueError, OverflowError):
        raise bad_parameter(
            "_lastUpdated",
            "A date or dateTime with an optional prefix eq, gt, ge, lt, le: ge2026-01-01, lt2026-01-01T12:00:00Z.",
        ) from None
    return {
        "eq": Q(last_updated__gte=start, last_updated__lt=end),
        "gt": Q(last_updated__gte=end),
        "ge": Q(last_updated__gte=start),
        "lt": Q(last_updated__lt=start),
        "le": Q(last_updated__lt=end),
    }[prefix]


def medication_requests_matching(
    queryset: QuerySet[Prescription], request: Request
) -> tuple[QuerySet[Prescription], list[tuple[str, str]]]:
    """The prescriptions matching the search, newest first, and the parameters applied (for the
    self link). Repeated parameters all apply; commas inside one mean "any of"."""
    check_unknown(request, MEDICATION_REQUEST_PARAMETERS)
    queryset = queryset.annotate(last_updated=LAST_UPDATED)
    applied: list[tuple[str, str]] = []
    for raw in request.query_params.getlist("identifier"):
        tokens = _values(raw)
        if not tokens:
            raise bad_parameter("identifier", "An identifier: value, or system|value.")
        condition = Q()
        for token in tokens:
            condition |= _identifier_condition(token)
        queryset = queryset.filter(condition)
        applied.append(("identifier", raw))
    for raw in request.query_params.getlist("status"):
        queryset = queryset.filter(_status_condition(raw))
        applied.append(("status", raw))
    for raw in request.query_params.getlist("_lastUpdated"):
        queryset = queryset.filter(_last_updated_condition(raw))
        applied.append(("_lastUpdated", raw))
    return queryset.order_by("-submitted_at", "-id"), applied


# --- Pages --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Page:
    count: int
    offset: int

    def links(self, *, base: str, applied: Sequence[tuple[str, str]], total: int) -> dict[str, str]:
        def url(offset: int) -> str:
            return f"{base}?{urlencode([*applied, ('_count', str(self.count)), ('_offset', str(offset))])}"

        links = {"self": url(self.offset)}
        if self.count == 0:  # the total alone: no page to go on to
            return links
        if self.offset + self.count < total:
            links["next"] = url(self.offset + self.count)
        if self.offset > 0:
            links["previous"] = url(max(self.offset - self.count, 0))
        return links


def _whole_number(request: Request, name: str, default: int, minimum: int) -> int:
    raw = request.query_params.get(name)
    if raw is None:
        return default
    if not (raw.isascii() and raw.isdigit()) or int(raw) < minimum or len(raw) > 9:
        raise bad_parameter(name, f"{name}: a whole number from {minimum}.")
    return int(raw)


def page_of(request: Request) -> Page:
    """_count (25 unless asked; more than 100 is answered with 100, as FHIR lets a server; 0 asks for
    the total alone) and _offset."""
    count = min(_whole_number(request, "_count", DEFAULT_COUNT, 0), MAX_COUNT)
    return Page(count=count, offset=_whole_number(request, "_offset", 0, 0))
