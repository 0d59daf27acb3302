"""What a patient may read about their order without a login: its status in plain words, what
happens next, when it should be ready and how to track the package. Nothing clinical: no drug,
strength, dosage form, indication, flag or pharmacist note ever leaves this module.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any
from urllib.parse import quote

from django.conf import settings
from django.db.models import Case, Exists, IntegerField, OuterRef, QuerySet, Subquery, Value, When
from django.utils import timezone
from django.utils.functional import Promise as StrPromise
from django.utils.translation import gettext, gettext_lazy, pgettext_lazy

from intake.clinical.verification import hard_stops_blocking
from intake.errors import NotFound
from intake.models import (
    OPEN_STATUSES,
    CarrierStatus,
    Prescription,
    PrescriptionStatus,
    PriceConsent,
    RecallAffected,
    RecallOutcome,
    TrackingEvent,
)
from intake.services.pricing import payment_url
from intake.throttles import normalize_reference

S = PrescriptionStatus
PATIENT_STATUS_LOOKUP = "patient (status lookup)"

# Business days from the questionnaire's answers to "ready", when nothing holds the order up.
READY_BUSINESS_DAYS = 3
RUSH_READY_BUSINESS_DAYS = 1

# Carrier tracking pages; {number} is the URL-quoted tracking number. Keys are compared with
# the carrier's name lower-cased without spaces or punctuation, by prefix ("FedEx Ground" -> fedex).
TRACKING_URLS: dict[str, str] = {
    "ups": "https://www.ups.com/track?tracknum={number}",
    "usps": "https://tools.usps.com/go/TrackConfirmAction?tLabels={number}",
    "unitedstatespostalservice": "https://tools.usps.com/go/TrackConfirmAction?tLabels={number}",
    "fedex": "https://www.fedex.com/fedextrack/?trknbr={number}",
    "dhl": "https://www.dhl.com/us-en/home/tracking/tracking-express.html?submit=1&tracking-id={number}",
}

# Per status: (what it means, what happens next), in the language the page is shown in. "{phone}" is
# the pharmacy's phone number, "{days}" the business days to ready.
STATUS_WORDS: dict[str, tuple[StrPromise, StrPromise]] = {
    S.AWAITING_QUESTIONNAIRE: (
        gettext_lazy("We have your prescription and are waiting for your answers to our health questions."),
        gettext_lazy(
            "Open the private link we sent you, confirm your date of birth and answer the questions. "
            "We start on your order once we have your answers, and it is usually ready "
            "{days} business days after that."
        ),
    ),
    S.PENDING_REVIEW: (
        gettext_lazy("We have your answers. Your prescription is waiting for a pharmacist to review it."),
        gettext_lazy(
            "A pharmacist checks your prescription and your answers. If anything needs clarifying we "
            "contact your prescriber; otherwise we start preparing your order."
        ),
    ),
    S.IN_REVIEW: (
        gettext_lazy("A pharmacist is reviewing your prescription."),
        gettext_lazy(
            "Once the review is done we start preparing your order. If anything needs clarifying we "
            "contact your prescriber."
        ),
    ),
    S.ON_HOLD: (
        gettext_lazy("On hold: we have asked your prescriber a question about your prescription."),
        gettext_lazy(
            "We continue as soon as your prescriber answers. You can help by reminding their office. "
            "Questions? Call us at {phone}."
        ),
    ),
    S.APPROVED: (
        gettext_lazy("Your prescription has been approved."),
        gettext_lazy("We prepare your order next, then a pharmacist checks it before it is ready."),
    ),
    S.COMPOUNDING: (
        gettext_lazy("Your order is being prepared."),
        gettext_lazy("When it is made, a pharmacist checks it before it is ready."),
    ),
    S.FINAL_CHECK: (
        gettext_lazy("Your order is made and a pharmacist is doing the final check."),
        gettext_lazy("After the check your order is ready for pickup or shipping."),
    ),
    S.READY: (
        gettext_lazy("Your order is ready."),
        gettext_lazy(
            "Pick it up at the pharmacy, or we ship it to you and send you the tracking number. "
            "Questions? Call us at {phone}."
        ),
    ),
    S.SHIPPED: (
        gettext_lazy("Your order is on its way."),
        gettext_lazy("Follow the package with the carrier's tracking link. Call us at {phone} if it does not arrive."),
    ),
    S.COMPLETED: (
        gettext_lazy("Your order is complete: it was picked up or delivered."),
        gettext_lazy(
            "Nothing more to do now. When a refill is possible you can ask for it here, or call us at {phone}."
        ),
    ),
    S.REJECTED: (
        gettext_lazy("We could not fill this prescription."),
        gettext_lazy("Your prescriber has been told why. Talk to your prescriber, or call us at {phone}."),
    ),
    S.CANCELLED: (
        gettext_lazy("This prescription was cancelled."),
        gettext_lazy("If you did not expect this, talk to your prescriber or call us at {phone}."),
    ),
}

# The journey as a patient sees it: (label, the statuses that mean this step is under way).
PROGRESS_STEPS: tuple[tuple[StrPromise, frozenset[str]], ...] = (
    (gettext_lazy("Your answers"), frozenset({S.AWAITING_QUESTIONNAIRE})),
    (gettext_lazy("Pharmacist review"), frozenset({S.PENDING_REVIEW, S.IN_REVIEW, S.ON_HOLD, S.APPROVED})),
    (gettext_lazy("Preparing"), frozenset({S.COMPOUNDING, S.FINAL_CHECK})),
    (pgettext_lazy("progress step", "Ready"), frozenset({S.READY})),
    (gettext_lazy("Shipped or picked up"), frozenset({S.SHIPPED, S.COMPLETED})),
)

# Statuses whose expected ready date is counted from the answers (before "ready").
_IN_PROGRESS = frozenset({S.PENDING_REVIEW, S.IN_REVIEW, S.APPROVED, S.COMPOUNDING, S.FINAL_CHECK})
_READY_OR_LATER = frozenset({S.READY, S.SHIPPED, S.COMPLETED})


@dataclass(frozen=True)
class PatientStatus:
    reference: str
    status: str
    status_text: str
    next_step: str
    expected_ready_date: date | None
    carrier: str | None
    tracking_number: str | None
    tracking_url: str | None
    # A recall reached what the patient has: whom to call, and to keep it until then.
    recall_notice: str | None = None
    # The carrier's latest news of the parcel, in words, and when the carrier saw it.
    carrier_status: str | None = None
    carrier_status_text: str | None = None
    carrier_status_at: datetime | None = None
    # The carrier said it cannot deliver to the patient's address, while the order is still to be sent.
    address_notice: str | None = None
    # The cash price of the current fill once quoted, the patient's answer, and the pharmacy's
    # payment page once they agreed (PAYMENT_LINK_URL). Never card data.
    price_amount: Decimal | None = None
    price_currency: str | None = None
    price_consent: str | None = None
    price_consent_at: datetime | None = None
    payment_url: str | None = None

    @property
    def price_to_answer(self) -> bool:
        """The patient may agree to or decline the price now."""
        return self.price_consent == PriceConsent.PENDING and self.status == S.APPROVED

    @property
    def is_ready(self) -> bool:
        return self.status in _READY_OR_LATER

    @property
    def progress(self) -> list[tuple[str, str]]:
        """(label, "done" | "current" | "todo") per step; empty for a closed prescription that was not filled."""
        if self.status in (S.REJECTED, S.CANCELLED):
            return []
        current = next(i for i, (_label, statuses) in enumerate(PROGRESS_STEPS) if self.status in statuses)
        if self.status == S.COMPLETED:
            current += 1  # the last step is done, not under way
        return [
            (str(label), "done" if i < current else "current" if i == current else "todo")
            for i, (label, _statuses) in enumerate(PROGRESS_STEPS)
        ]

    def as_json(self) -> dict[str, Any]:
        return {
            "reference": self.reference,
            "status": self.status,
            "status_text": self.status_text,
            "next_step": self.next_step,
            "expected_ready_date": self.expected_ready_date.isoformat() if self.expected_ready_date else None,
            "carrier": self.carrier,
            "tracking_number": self.tracking_number,
            "tracking_url": self.tracking_url,
            "recall_notice": self.recall_notice,
            "carrier_status": self.carrier_status,
            "carrier_status_text": self.carrier_status_text,
            "carrier_status_at": self.carrier_status_at.isoformat() if self.carrier_status_at else None,
            "address_notice": self.address_notice,
            "price_amount": None if self.price_amount is None else f"{self.price_amount:.2f}",
            "price_currency": self.price_currency,
            "price_consent": self.price_consent,
            "price_consent_at": self.price_consent_at.isoformat() if self.price_consent_at else None,
            "payment_url": self.payment_url,
        }


# Statuses where the medicine has not left the pharmacy and a delivery address still matters.
_TO_BE_SENT = frozenset(OPEN_STATUSES - {PrescriptionStatus.SHIPPED})


def status_lookup(*, reference: str, date_of_birth: date) -> Prescription:
    """The prescription with this reference and patient birth date.

    NotFound both for an unknown reference and for a wrong birth date, so a miss says nothing.
    """
    # The questionnaire with it: the expected date and the refill rules read when it was answered.
    # The carrier's latest news rides in the same query.
    latest = _carrier_news(OuterRef("pk"), OuterRef("tracking_number"))
    prescriptions = Prescription.objects.select_related("patient", "questionnaire").annotate(
        recall_reached=Exists(_recall_reaching(OuterRef("pk"))),
        carrier_status=Subquery(latest.values("status")[:1]),
        carrier_status_at=Subquery(latest.values("occurred_at")[:1]),
    )
    try:
        return prescriptions.get(reference=normalize_reference(reference), patient__date_of_birth=date_of_birth)
    except Prescription.DoesNotExist:
        raise NotFound("No prescription matches this reference and date of birth.") from None


def add_business_days(start: date, days: int) -> date:
    day = start
    while days > 0:
        day += timedelta(days=1)
        if day.weekday() < 5:
            days -= 1
    return day


def next_business_day_from(day: date) -> date:
    while day.weekday() >= 5:
        day += timedelta(days=1)
    return day


def expected_ready_date(prescription: Prescription, today: date | None = None) -> date | None:
    """The ready date once ready; before that, business days from the answers (None when unknown)."""
    today = today or timezone.localdate()
    if prescription.status in _READY_OR_LATER:
        return timezone.localdate(prescription.ready_at) if prescription.ready_at else None
    if prescription.status not in _IN_PROGRESS:
        # Waiting for the answers or the prescriber, or closed: no honest date to give.
        return None
    if prescription.status == S.APPROVED and prescription.price_consent == PriceConsent.PENDING:
        # Nothing is made before the patient agrees to the price: no date to promise yet.
        return None
    if hard_stops_blocking(prescription.flags):
        # A hard stop not verified may end in a rejection: no date until a pharmacist clears it.
        return None
    questionnaire = getattr(prescription, "questionnaire", None)
    answered_at = questionnaire.submitted_at if questionnaire is not None else prescription.submitted_at
    if prescription.fill_number > 1:
        # A refill starts when it was asked for, not when the (older) answers were given.
        requested_at = (
            prescription.fills.filter(number=prescription.fill_number).values_list("requested_at", flat=True).first()
        )
        answered_at = max(answered_at, requested_at or answered_at)
    days = RUSH_READY_BUSINESS_DAYS if prescription.rush else READY_BUSINESS_DAYS
    expected = add_business_days(timezone.localdate(answered_at), days)
    # Running late is not "ready in the past": the next working day is the honest estimate.
    return max(expected, next_business_day_from(today))


def tracking_url(carrier: str, tracking_number: str) -> str | None:
    name = "".join(ch for ch in carrier.lower() if ch.isalnum())
    if not name or not tracking_number:
        return None
    for prefix, pattern in TRACKING_URLS.items():
        if name.startswith(prefix):
            return pattern.format(number=quote(tracking_number.strip(), safe=""))
    return None


PRICE_NEXT_STEP = gettext_lazy(
    "Please look at the price of your order below and agree to it, or decline it. We start preparing your "
    "order once you agree."
)


def patient_status(prescription: Prescription, today: date | None = None) -> PatientStatus:
    status_text, next_step = STATUS_WORDS[prescription.status]
    if prescription.status == S.APPROVED and prescription.price_consent == PriceConsent.PENDING:
        next_step = PRICE_NEXT_STEP
    shipped = bool(prescription.carrier and prescription.tracking_number)
    return PatientStatus(
        reference=prescription.reference,
        status=prescription.status,
        status_text=str(status_text),
        next_step=str(next_step).format(phone=settings.PHARMACY_PHONE, days=READY_BUSINESS_DAYS),
        expected_ready_date=expected_ready_date(prescription, today),
        carrier=prescription.carrier if shipped else None,
        tracking_number=prescription.tracking_number if shipped else None,
        tracking_url=tracking_url(prescription.carrier, prescription.tracking_number) if shipped else None,
        recall_notice=recall_notice(prescription),
        address_notice=address_notice(prescription),
        **carrier_news(prescription),
        **price_words(prescription),
    )


def price_words(prescription: Prescription) -> dict[str, Any]:
    """The price as PatientStatus fields, once the fill was quoted."""
    if prescription.price_amount is None:
        return {}
    return {
        "price_amount": Decimal(prescription.price_amount),
        "price_currency": prescription.price_currency,
        "price_consent": prescription.price_consent or None,
        "price_consent_at": prescription.price_consent_at,
        "payment_url": payment_url(prescription),
    }


def address_notice(prescription: Prescription) -> str | None:
    """Words for the patient when the carrier cannot deliver to their address and the medicine has
    not left yet; the carrier's own reason stays with the staff."""
    if prescription.patient.address_deliverable is not False or prescription.status not in _TO_BE_SENT:
        return None
    return gettext(
        "The carrier tells us it cannot deliver to the address we have for you. Please call us at "
        "{phone} to check it, so your medicine reaches you."
    ).format(phone=settings.PHARMACY_PHONE)


def _carrier_news(prescription: Any, tracking_number: Any) -> QuerySet[TrackingEvent]:
    """The carrier's events for the shipment under way, the latest first; once delivered, delivered
    stays the news (a late event from before the delivery does not move the parcel back)."""
    delivered_first = Case(
        When(status=CarrierStatus.DELIVERED, then=Value(1)), default=Value(0), output_field=IntegerField()
    )
    return (
        TrackingEvent.objects.filter(prescription=prescription, tracking_code=tracking_number)
        .exclude(status=CarrierStatus.UNKNOWN)
        .order_by(delivered_first.desc(), "-occurred_at", "-pk")
    )


def carrier_news(prescription: Prescription) -> dict[str, Any]:
    """The carrier's latest news of a shipped prescription, as PatientStatus fields."""
    if not prescription.tracking_number:
        return {}
    if hasattr(prescription, "carrier_status"):
        # status_lookup read it with the prescription; a prescription found another way asks here.
        status, at = prescription.carrier_status, getattr(prescription, "carrier_status_at", None)
    else:
        found = _carrier_news(prescription.pk, prescription.tracking_number).values_list("status", "occurred_at")
        status, at = found.first() or (None, None)
    if not status:
        return {}
    return {"carrier_status": status, "carrier_status_text": str(CarrierStatus(status).label), "carrier_status_at": at}


RECALL_NOTICE = gettext_lazy(
    "Please contact the pharmacy at {phone} about the medicine you received for this order. "
    "Keep it until we have spoken with you."
)


def _recall_reaching(prescription: Any) -> QuerySet[RecallAffected]:
    """An open recall reached this handed-over fill and the patient has not called back yet."""
    return RecallAffected.objects.filter(
        prescription=prescription, outcome=RecallOutcome.PATIENT_TOLD, resolved_at__isnull=True,
        recall__closed_at__isnull=True,
    )  # fmt: skip


def recall_notice(prescription: Prescription) -> str | None:
    """The words for a patient whose handed-over medicine a recall reached, until they call back."""
    # status_lookup reads it with the prescription; a prescription found another way asks here.
    reached = getattr(prescription, "recall_reached", None)
    if reached is None:
        reached = _recall_reaching(prescription).exists()
    return str(RECALL_NOTICE).format(phone=settings.PHARMACY_PHONE) if reached else None
