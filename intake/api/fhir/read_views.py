"""GET /fhir/R4/…: the capability statement and the resources a caller may read.

Access is the JSON API's (intake.selectors): a prescriber reads their own prescriptions, pharmacy
staff all, and an id the caller may not see answers the same 404 as one that does not exist.
Every read of patient data writes an audit row, as the JSON API's reads do.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, cast

from django.db.models import Prefetch
from django.urls import reverse
from rest_framework import status
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.models import User
from intake.api.fhir import codes, resources, search
from intake.api.fhir.base import FhirView
from intake.api.fhir.outcome import FhirError, Issue, not_found
from intake.audit import AuditAction, Shown, audit, audit_list
from intake.errors import NotFound
from intake.models import (
    Action,
    CompoundingRecord,
    Fill,
    IdempotencyKey,
    IngredientLot,
    Prescription,
    PrescriptionEvent,
    Questionnaire,
)
from intake.selectors import (
    prescription_for_user,
    prescriptions_visible_to,
    shown_rows_read,
    shown_steps,
    with_shown_rows,
)


def _user(request: Request) -> User:
    return cast(User, request.user)


def _base_url(request: Request) -> str:
    return request.build_absolute_uri(reverse("fhir-transaction"))


def _visible(request: Request, pk: int | str) -> Prescription:
    try:
        return prescription_for_user(_user(request), pk)
    except NotFound:
        raise not_found() from None


def _fhir_identifiers(prescription_ids: list[int]) -> dict[int, list[tuple[str, str]]]:
    """The identifiers each prescription's EHR sent with it, one query for a page."""
    found: dict[int, list[tuple[str, str]]] = {}
    keys = IdempotencyKey.objects.filter(prescription_id__in=prescription_ids, key__startswith="fhir:")
    for prescription_id, key in keys.order_by("id").values_list("prescription_id", "key"):
        identifier = codes.identifier_from_key(key)
        if identifier is not None:
            found.setdefault(prescription_id, []).append(identifier)
    return found


def _medication_request(prescription: Prescription, identifiers: Mapping[int, list[tuple[str, str]]]) -> Any:
    return resources.medication_request(
        prescription, steps=shown_steps(prescription), identifiers=identifiers.get(prescription.pk, ())
    )


def _answer(resource: Any) -> Response:
    return Response(resources.dumped(resource))


def _searchset(request: Request, matches: list[resources.Match]) -> Response:
    """A search that names one prescription: every match on one page."""
    return _answer(resources.searchset(matches, total=len(matches), links={"self": request.build_absolute_uri()}))


class MetadataView(FhirView):
    """The CapabilityStatement: readable without a token, as FHIR clients ask for it first."""

    authentication_classes = []
    permission_classes = [AllowAny]

    def get(self, request: Request) -> Response:
        return _answer(resources.capability_statement(base_url=_base_url(request)))


class MedicationRequestSearchView(FhirView):
    def get(self, request: Request) -> Response:
        page = search.page_of(request)
        matching, applied = search.medication_requests_matching(prescriptions_visible_to(_user(request)), request)
        total = matching.count()
        shown = list(with_shown_rows(matching)[page.offset : page.offset + page.count])
        identifiers = _fhir_identifiers([prescription.pk for prescription in shown])
        base = _base_url(request)
        matches = [
            resources.Match(f"{base}MedicationRequest/{p.pk}", _medication_request(p, identifiers)) for p in shown
        ]
        audit_list(
            request,
            [Shown.prescription(p.pk, p.reference) for p in shown],
            object_type="prescription",
            description=f"{len(shown)} shown through FHIR; {request.query_params.urlencode()}"[:200],
        )
        links = page.links(base=f"{base}MedicationRequest", applied=applied, total=total)
        return _answer(resources.searchset(matches, total=total, links=links))


class MedicationRequestReadView(FhirView):
    def get(self, request: Request, pk: str) -> Response:
        prescription = shown_rows_read(_visible(request, pk))
        audit(request, AuditAction.VIEW, prescription=prescription, description="read through FHIR")
        return _answer(_medication_request(prescription, _fhir_identifiers([prescription.pk])))


def _detected_issues(request: Request, prescription: Prescription) -> list[resources.Match]:
    approval = (
        PrescriptionEvent.objects.filter(prescription=prescription, action=Action.APPROVE)
        .select_related("actor")
        .order_by("-created_at", "-id")
        .first()
    )
    overrides: dict[str, resources.Override] = {}
    if approval is not None:
        reasons = approval.details.get("override_reasons") or {}
        overrides = {
            str(code): resources.Override(reason=str(reason), at=approval.created_at, by=approval.actor_display)
            for code, reason in reasons.items()
        }
    base = _base_url(request)
    return [
        resources.Match(f"{base}DetectedIssue/{issue.id}", issue)
        for issue in resources.detected_issues(prescription, overrides=overrides)
    ]


def _one(matches: list[resources.Match], resource_id: str, what: str) -> Response:
    for match in matches:
        if match.resource.id == resource_id:
            return _answer(match.resource)
    raise not_found(f"No such {what}.")


class DetectedIssueSearchView(FhirView):
    def get(self, request: Request) -> Response:
        search.check_unknown(request, frozenset({"implicated"}))
        prescription = _visible(request, search.prescription_id(request, "implicated"))
        matches = _detected_issues(request, prescription)
        audit(request, AuditAction.VIEW, prescription=prescription, description="flags read through FHIR")
        return _searchset(request, matches)


class DetectedIssueReadView(FhirView):
    """One flag, as a search's entry names it: `{prescription id}-{position}`."""

    def get(self, request: Request, pk: str, position: str) -> Response:
        prescription = _visible(request, pk)
        matches = _detected_issues(request, prescription)
        audit(request, AuditAction.VIEW, prescription=prescription, description="a flag read through FHIR")
        return _one(matches, f"{pk}-{position}", "DetectedIssue")


def _dispenses(request: Request, prescription: Prescription) -> list[resources.Match]:
    batches = CompoundingRecord.objects.order_by("-compounded_at", "-id").prefetch_related(
        Prefetch("lots", queryset=IngredientLot.objects.select_related("container").order_by("id")), "batch__lots"
    )
    fills = Fill.objects.filter(prescription=prescription, compounding_records__isnull=False).distinct()
    fills = fills.order_by("number").prefetch_related(Prefetch("compounding_records", queryset=batches))
    base = _base_url(request)
    matches = []
    for fill in fills:
        # The latest batch: a fill made again (past its beyond-use date, or a recalled lot) is dispensed from it.
        record = fill.compounding_records.all()[0]
        # A fill taken from an anticipatory batch: the batch's lots are its own.
        lots = record.batch.lots.all() if record.batch_id and record.batch else record.lots.all()
        dispense = resources.medication_dispense(prescription, fill=fill, record=record, lots=lots)
        matches.append(resources.Match(f"{base}MedicationDispense/{dispense.id}", dispense))
    return matches


class MedicationDispenseSearchView(FhirView):
    def get(self, request: Request) -> Response:
        search.check_unknown(request, frozenset({"prescription"}))
        prescription = _visible(request, search.prescription_id(request, "prescription"))
        matches = _dispenses(request, prescription)
        audit(request, AuditAction.VIEW, prescription=prescription, description="dispenses read through FHIR")
        return _searchset(request, matches)


class MedicationDispenseReadView(FhirView):
    """One fill, as a search's entry names it: `{prescription id}-{fill number}`."""

    def get(self, request: Request, pk: str, position: str) -> Response:
        prescription = _visible(request, pk)
        matches = _dispenses(request, prescription)
        audit(request, AuditAction.VIEW, prescription=prescription, description="a dispense read through FHIR")
        return _one(matches, f"{pk}-{position}", "MedicationDispense")


class QuestionnaireReadView(FhirView):
    """The patient's questionnaire, for any signed-in caller: it holds no patient data, and an EHR
    that shows it needs no pharmacy role."""

    def get(self, request: Request, questionnaire_id: str) -> Response:
        if questionnaire_id != codes.QUESTIONNAIRE_ID:
            raise not_found("No such Questionnaire.")
        return _answer(resources.questionnaire())


def _staff_only(request: Request) -> None:
    """A prescriber is refused (403) before any lookup, so the answer says nothing about whether the id exists."""
    user = _user(request)
    if user.is_prescriber and not user.is_pharmacy_staff:
        raise FhirError(
            status.HTTP_403_FORBIDDEN,
            [Issue("The patient's answers are read by the pharmacy's staff only.", code="forbidden")],
        )


def _answers(request: Request, prescription: Prescription, answered: Questionnaire) -> resources.Match:
    response = resources.questionnaire_response(prescription, answered)
    return resources.Match(f"{_base_url(request)}QuestionnaireResponse/{response.id}", response)


class QuestionnaireResponseSearchView(FhirView):
    """The patient's answers: pharmacy staff only."""

    def get(self, request: Request) -> Response:
        _staff_only(request)
        search.check_unknown(request, frozenset({"based-on"}))
        prescription = _visible(request, search.prescription_id(request, "based-on"))
        answered = Questionnaire.objects.filter(prescription=prescription).first()
        matches = [] if answered is None else [_answers(request, prescription, answered)]
        audit(request, AuditAction.VIEW, prescription=prescription,
              description="questionnaire answers read through FHIR")  # fmt: skip
        return _searchset(request, matches)


class QuestionnaireResponseReadView(FhirView):
    """One set of answers by its id, as a search's entry names it: pharmacy staff only."""

    def get(self, request: Request, answers_id: str) -> Response:
        _staff_only(request)
        answered = Questionnaire.objects.filter(pk=answers_id).first()
        if answered is None:
            raise not_found()
        prescription = _visible(request, answered.prescription_id)
        audit(request, AuditAction.VIEW, prescription=prescription,
              description="questionnaire answers read through FHIR")  # fmt: skip
        return _answer(_answers(request, prescription, answered).resource)


class NotFoundView(FhirView):
    """Anything else under /fhir/R4/: an OperationOutcome 404 whatever the method."""

    authentication_classes = []
    permission_classes = [AllowAny]

    def get(self, request: Request, **kwargs: Any) -> Response:
        raise not_found("No such FHIR endpoint here.")

    post = put = patch = delete = get
