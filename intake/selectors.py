"""Reads: who may see which prescription."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from django.contrib.auth.models import Group
from django.db.models import Prefetch, Q, QuerySet, prefetch_related_objects

from accounts.models import Role, User
from intake.errors import NotFound
from intake.models import (
    AuditRecord,
    Clarification,
    Fill,
    Patient,
    Prescriber,
    Prescription,
    PrescriptionDocument,
    ProtocolTemplate,
    TitrationStep,
    WebhookDelivery,
    WebhookSubscription,
)

# The rows an answer about a prescription shows, as lists under these names: read for a page of
# prescriptions with Prefetch(to_attr=...), or given by the service that has just written them.
SHOWN_STEPS = "shown_steps"
SHOWN_FILLS = "shown_fills"
SHOWN_CLARIFICATIONS = "shown_clarifications"


def _shown_rows() -> tuple[Prefetch, ...]:
    return (
        Prefetch("titration_steps", to_attr=SHOWN_STEPS),
        Prefetch("fills", to_attr=SHOWN_FILLS),
        Prefetch("clarifications", to_attr=SHOWN_CLARIFICATIONS),
    )


def with_shown_rows(queryset: QuerySet[Prescription]) -> QuerySet[Prescription]:
    """The titration, fills and clarifications of each prescription, one query each for a whole page."""
    return queryset.prefetch_related(*_shown_rows())


def shown_rows_read(prescription: Prescription) -> Prescription:
    """with_shown_rows for a prescription already read."""
    prefetch_related_objects([prescription], *_shown_rows())
    return prescription


def shown_rows_set(
    prescription: Prescription,
    *,
    steps: Sequence[TitrationStep],
    fills: Sequence[Fill],
    clarifications: Sequence[Clarification],
) -> None:
    """A new prescription's rows, just written, as with_shown_rows would read them: answering with it
    reads nothing back."""
    setattr(prescription, SHOWN_STEPS, sorted(steps, key=lambda step: step.position))
    setattr(prescription, SHOWN_FILLS, sorted(fills, key=lambda fill: fill.number))
    setattr(prescription, SHOWN_CLARIFICATIONS, list(clarifications))


def shown_steps(prescription: Prescription) -> list[TitrationStep]:
    return getattr(prescription, SHOWN_STEPS)  # type: ignore[no-any-return]


def prescriptions_visible_to(user: User) -> QuerySet[Prescription]:
    """Staff see every prescription, a prescriber only their own, anyone else none."""
    queryset = Prescription.objects.select_related("patient", "prescriber__user", "claimed_by")
    if not user.is_authenticated:
        return queryset.none()
    if user.is_pharmacy_staff:
        return queryset
    if user.is_prescriber and hasattr(user, "prescriber"):
        return queryset.filter(prescriber=user.prescriber)
    return queryset.none()


def prescription_for_user(user: User, prescription_id: int | str) -> Prescription:
    """The prescription, or NotFound whether it does not exist or is not this user's."""
    try:
        pk = int(prescription_id)
    except (TypeError, ValueError):
        raise NotFound() from None
    prescription = prescriptions_visible_to(user).filter(pk=pk).first()
    if prescription is None:
        raise NotFound()
    return prescription


def prescription_by_reference(user: User, reference: str) -> Prescription:
    prescription = prescriptions_visible_to(user).filter(reference=reference.strip().upper()).first()
    if prescription is None:
        raise NotFound()
    return prescription


def access_log(prescription: Prescription) -> QuerySet[AuditRecord]:
    """Every read and change of the prescription and of its patient's own record, newest first."""
    about_it = Q(prescription_reference=prescription.reference)
    about_the_patient = Q(object_type="patient", object_id=str(prescription.patient_id))
    return (
        AuditRecord.objects.select_related("actor").filter(about_it | about_the_patient).order_by("-created_at", "-id")
    )


# The roles of each person named on a page of the trail, one query for the page.
ACTOR_ROLES = "pharmacy_roles"


def patient_access_log(patient: Patient) -> QuerySet[AuditRecord]:
    """The patient's accounting of disclosures: every read and change of their own record and of
    any of their prescriptions, from any channel, newest first, with who acted and in what role."""
    their_prescriptions = Prescription.objects.filter(patient=patient).values("reference")
    about_them = Q(object_type="patient", object_id=str(patient.pk)) | Q(prescription_reference__in=their_prescriptions)
    roles = Group.objects.filter(name__in=Role.values).order_by("name")
    return (
        AuditRecord.objects.filter(about_them)
        .select_related("actor")
        .prefetch_related(Prefetch("actor__groups", queryset=roles, to_attr=ACTOR_ROLES))
        .order_by("-created_at", "-id")
    )


def actor_roles(record: AuditRecord) -> list[str]:
    """The pharmacy roles of the person who acted, in words, as patient_access_log read them."""
    if record.actor is None:
        return []
    named = [Role(group.name).label for group in getattr(record.actor, ACTOR_ROLES, [])]
    if not named and record.actor.is_superuser:
        named = ["Superuser"]
    return named


_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


@dataclass(frozen=True)
class AccessCursor:
    """A place in a newest-first trail: the last record shown, by time and id (ids settle equal times)."""

    at: dt.datetime
    id: int

    @classmethod
    def of(cls, record: AuditRecord) -> AccessCursor:
        return cls(at=record.created_at, id=record.pk)

    @classmethod
    def parse(cls, text: str) -> AccessCursor | None:
        """None for anything this class did not write."""
        micros, _, pk = text.partition("-")
        if not (micros.isascii() and micros.isdigit() and pk.isascii() and pk.isdigit()):
            return None
        if len(micros) > 18 or len(pk) > 18:
            return None
        try:
            at = _EPOCH + dt.timedelta(microseconds=int(micros))
        except OverflowError:
            return None
        return cls(at=at, id=int(pk))

    def __str__(self) -> str:
        # Whole microseconds, in integers: a float timestamp would round a record's time away.
        return f"{(self.at - _EPOCH) // dt.timedelta(microseconds=1)}-{self.id}"

    def older(self) -> Q:
        return Q(created_at__lt=self.at) | Q(created_at=self.at, id__lt=self.id)


@dataclass(frozen=True)
class AccessPage:
    records: list[AuditRecord]
    older: str  # the cursor of the next, older page; "" on the last

    @property
    def has_older(self) -> bool:
        return bool(self.older)


def access_page(records: QuerySet[AuditRecord], *, before: AccessCursor | None, page_size: int) -> AccessPage:
    """One page of a newest-first trail from the cursor: one query of page_size + 1 rows (and the
    queryset's prefetches), page 400 costing what page 1 does."""
    if before is not None:
        records = records.filter(before.older())
    rows = list(records[: page_size + 1])
    shown = rows[:page_size]
    return AccessPage(records=shown, older=str(AccessCursor.of(shown[-1])) if len(rows) > page_size else "")


def prescriptions_of_patient(patient: Patient) -> QuerySet[Prescription]:
    """The patient's prescriptions, newest first, as a list of references needs them."""
    return Prescription.objects.filter(patient=patient).order_by("-submitted_at", "-id").only("reference", "status")


def patients_named(*, last_name: str, first_name: str, date_of_birth: dt.date) -> QuerySet[Patient]:
    """Patients with this last name and birth date (case and accents aside), their first name
    starting as typed."""
    key = Patient.identity_key(first_name, last_name)
    return Patient.objects.filter(date_of_birth=date_of_birth, name_key__startswith=key).order_by(
        "last_name", "first_name", "id"
    )


def webhook_subscriptions_of(user: User) -> QuerySet[WebhookSubscription]:
    """A prescriber's active webhook subscriptions, oldest first; anyone else has none."""
    if not user.is_authenticated or not user.is_prescriber:
        return WebhookSubscription.objects.none()
    return WebhookSubscription.objects.filter(prescriber__user=user, ended_at__isnull=True).order_by("created_at", "id")


def webhook_deliveries_recent(user: User, *, limit: int = 20) -> list[WebhookDelivery]:
    """The latest deliveries to a prescriber's own subscriptions, ended ones included, newest first."""
    if not user.is_authenticated or not user.is_prescriber:
        return []
    return list(
        WebhookDelivery.objects.filter(subscription__prescriber__user=user)
        .select_related("subscription")
        .order_by("-created_at", "-id")[:limit]
    )


def protocol_templates_of(prescriber: Prescriber) -> QuerySet[ProtocolTemplate]:
    return ProtocolTemplate.objects.filter(owner=prescriber).order_by("name")


def protocol_template_of(prescriber: Prescriber, template_id: int | str) -> ProtocolTemplate:
    """One of the prescriber's own templates, or NotFound whether it does not exist or is another's."""
    try:
        return ProtocolTemplate.objects.get(owner=prescriber, pk=int(template_id))
    except (ProtocolTemplate.DoesNotExist, TypeError, ValueError):
        raise NotFound("No such template.") from None


def documents_of(prescription: Prescription) -> QuerySet[PrescriptionDocument]:
    """A prescription's documents, metadata only (the list pages and the API)."""
    return PrescriptionDocument.objects.filter(prescription=prescription).select_related("uploaded_by")


def document_for_staff(user: User, document_id: int) -> PrescriptionDocument:
    """A document for pharmacy staff to read; NotFound for anyone else, as for an unknown id."""
    if not (user.is_authenticated and user.is_pharmacy_staff):
        raise NotFound()
    document = PrescriptionDocument.objects.select_related("prescription").filter(pk=document_id).first()
    if document is None:
        raise NotFound()
    return document
