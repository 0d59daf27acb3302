"""Render one outbox row into a subject, a text body, an HTML body and an SMS line.

Rendered at delivery time from the row's ids, so a task never carries message content. The
template context is built here field by field and holds no clinical detail: never the drug, the
strength, the dosage form, the indication, the birth date or the answers. Only the recipient's
first name, the reference, the status in plain words and a link (CLINICAL.md, Privacy).
A patient's message is written in the patient's language; a prescriber's or the staff's in English.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation
from django.utils.functional import Promise
from django.utils.translation import gettext, gettext_lazy

from intake.links import follow_up_url, questionnaire_url, status_url
from intake.models import Audience, Language, Notification, NotificationEvent, PriceConsent

E = NotificationEvent

SUBJECTS: dict[str, Promise] = {
    E.PRESCRIPTION_RECEIVED: gettext_lazy("Prescription {reference} received"),
    E.QUESTIONNAIRE_INVITATION: gettext_lazy("Please answer a few questions for prescription {reference}"),
    E.QUESTIONNAIRE_REMINDER: gettext_lazy("Reminder: a few questions for prescription {reference}"),
    E.CLARIFICATION_REQUESTED: gettext_lazy("A question from the pharmacy about prescription {reference}"),
    E.CLARIFICATION_ANSWERED: gettext_lazy("The prescriber answered about prescription {reference}"),
    E.APPROVED: gettext_lazy("Prescription {reference} approved"),
    E.REJECTED: gettext_lazy("Prescription {reference} could not be filled"),
    E.CANCELLED: gettext_lazy("Prescription {reference} cancelled"),
    E.READY_FOR_PICKUP: gettext_lazy("Prescription {reference} is ready for pickup"),
    E.SHIPPED: gettext_lazy("Prescription {reference} has shipped"),
    E.REFILL_STARTED: gettext_lazy("We are preparing a refill of prescription {reference}"),
    E.RESCREEN_INVITATION: gettext_lazy("A few questions before we refill prescription {reference}"),
    E.QUESTIONNAIRE_EXPIRED: gettext_lazy("The questionnaire link for prescription {reference} expired"),
    E.REFILL_REMINDER: gettext_lazy("Time to ask for a refill of prescription {reference}"),
    E.RENEWAL_REQUESTED: gettext_lazy("Renewal requested for prescription {reference}"),
    E.RENEWAL_APPROVED: gettext_lazy("Your prescriber renewed prescription {reference}"),
    E.RENEWAL_DENIED: gettext_lazy("Your prescriber did not renew prescription {reference}"),
    E.CLARIFICATION_REMINDER: gettext_lazy(
        "Reminder: the pharmacy is waiting for your answer on prescription {reference}"
    ),
    E.HOLD_ESCALATED: gettext_lazy("Escalation: prescription {reference} has been on hold for days"),
    E.BUD_PASSED: gettext_lazy("Do not hand over: prescription {reference} is past its beyond-use date"),
    E.FOLLOW_UP_INVITATION: gettext_lazy("How are you getting on? A short check-in about prescription {reference}"),
    E.FOLLOW_UP_FLAGGED: gettext_lazy("Check-in answers for a pharmacist: prescription {reference}"),
    E.RESCREEN_REQUESTED: gettext_lazy("Please answer our health questions again for prescription {reference}"),
    E.RECALL_CONTACT: gettext_lazy("Please contact the pharmacy about prescription {reference}"),
    E.RECALL_REMADE: gettext_lazy("We are preparing prescription {reference} again"),
    E.OUT_FOR_DELIVERY: gettext_lazy("Prescription {reference} is out for delivery today"),
    E.ADDRESS_UNDELIVERABLE: gettext_lazy("Please check your address for prescription {reference}"),
    E.DELIVERED: gettext_lazy("Prescription {reference} was delivered"),
    E.PRICE_CONSENTED: gettext_lazy("Price agreed: prescription {reference} can be prepared"),
    E.PRICE_DECLINED: gettext_lazy("The patient declined the price: prescription {reference} will not be prepared"),
}

# The patient's link is their questionnaire for these events, the status page otherwise.
QUESTIONNAIRE_EVENTS = frozenset(
    {E.QUESTIONNAIRE_INVITATION, E.QUESTIONNAIRE_REMINDER, E.RESCREEN_INVITATION, E.RESCREEN_REQUESTED}
)


@dataclass(frozen=True)
class RenderedMessage:
    subject: str
    text: str
    html: str
    sms: str


def _absolute(path: str) -> str:
    return f"{settings.SITE_URL}{path}"


def notification_link(*, notification: Notification) -> str:
    prescription = notification.prescription
    if notification.audience == Audience.PATIENT:
        if notification.event == E.FOLLOW_UP_INVITATION:
            return follow_up_url(prescription)
        return questionnaire_url(prescription) if notification.event in QUESTIONNAIRE_EVENTS else status_url()
    if notification.audience == Audience.PRESCRIBER:
        return _absolute(reverse("prescriber:detail", kwargs={"prescription_id": prescription.pk}))
    return _absolute(reverse("staff:review", kwargs={"prescription_id": prescription.pk}))


def _recipient_name(notification: Notification) -> str:
    prescription = notification.prescription
    if notification.audience == Audience.PATIENT:
        return prescription.patient.first_name
    if notification.audience == Audience.PRESCRIBER:
        return prescription.prescriber.user.first_name
    return ""


def notification_context(*, notification: Notification) -> dict[str, Any]:
    """Everything a notification template may show. Add nothing clinical here."""
    prescription = notification.prescription
    shipped = notification.event == E.SHIPPED
    return {
        "event": notification.event,
        "audience": notification.audience,
        "recipient_name": _recipient_name(notification),
        "reference": prescription.reference,
        "link": notification_link(notification=notification),
        "carrier": prescription.carrier if shipped else "",
        "tracking_number": prescription.tracking_number if shipped else "",
        "pharmacy_name": settings.PHARMACY_NAME,
        "pharmacy_phone": settings.PHARMACY_PHONE,
        "pharmacy_address": settings.PHARMACY_ADDRESS,
        "questionnaire_days": settings.QUESTIONNAIRE_LINK_DAYS,
        # Whether a price waits for the patient's answer; never the amount.
        "price_to_answer": prescription.price_consent == PriceConsent.PENDING,
    }


def notification_language(*, notification: Notification) -> str:
    """The patient's language for a patient's message; English for the prescriber and the staff."""
    if notification.audience == Audience.PATIENT:
        return notification.prescription.patient.language or Language.ENGLISH
    return Language.ENGLISH


def notification_render(*, notification: Notification) -> RenderedMessage:
    language = notification_language(notification=notification)
    with translation.override(language):
        context = notification_context(notification=notification)
        context["language"] = language
        context["subject"] = str(SUBJECTS[notification.event]).format(reference=context["reference"])
        name = f"notifications/{notification.event}"
        sms = f"{context['pharmacy_name']}: {context['subject']}."
        if context["tracking_number"]:
            sms += " " + gettext("Tracking: {carrier} {number}.").format(
                carrier=context["carrier"], number=context["tracking_number"]
            )
        return RenderedMessage(
            subject=context["subject"],
            text=render_to_string(f"{name}.txt", context).strip() + "\n",
            html=render_to_string(f"{name}.html", context),
            sms=f"{sms} {context['link']}",
        )
