"""Reads: who may see which prescription."""

from __future__ import annotations

from collections.abc import Sequence

from django.db.models import Prefetch, Q, QuerySet, prefetch_related_objects

from accounts.models import User
from intake.errors import NotFound
from intake.models import (
    AuditRecord,
    Clarification,
    Fill,
    Prescription,
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
