"""A prescriber's webhook subscriptions: subscribe, end, ping. Delivery is intake/notifications/webhooks.py.

Each change locks the prescriber's row, so Prescriber.has_webhooks (which spares a status change of a
prescriber without subscriptions any read) always says whether one is active.
"""

from __future__ import annotations

import secrets

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from accounts.models import User
from intake.errors import Forbidden, NotFound
from intake.models import Prescriber, WebhookDelivery, WebhookSubscription
from intake.models.webhooks import SECRET_MAX_LENGTH, SECRET_MIN_LENGTH
from intake.notifications.webhooks import webhook_ping_record, webhook_url_problem

# Each subscription hears every status change: a bound keeps one prescriber's fan-out small.
MAX_SUBSCRIPTIONS = 10
SECRET_RULE = f"A secret of {SECRET_MIN_LENGTH} to {SECRET_MAX_LENGTH} characters, with no spaces at either end."


def webhook_secret_new() -> str:
    """A secret for a prescriber who asks the pharmacy to make one: 256 random bits."""
    return secrets.token_urlsafe(32)


def webhook_secret_problem(secret: str) -> str:
    if not (SECRET_MIN_LENGTH <= len(secret) <= SECRET_MAX_LENGTH) or secret != secret.strip():
        return SECRET_RULE
    return ""


def _locked_prescriber(actor: User) -> Prescriber:
    if not actor.is_prescriber:
        raise Forbidden("Only prescribers can subscribe to webhooks.")
    prescriber = Prescriber.objects.select_for_update().filter(user=actor).first()
    if prescriber is None:
        raise Forbidden("Only prescribers can subscribe to webhooks.")
    return prescriber


def _own_active(actor: User, subscription_id: int) -> WebhookSubscription:
    """The caller's active subscription; NotFound for anyone else's, an ended one or none."""
    subscription = (
        WebhookSubscription.objects.select_related("prescriber")
        .filter(pk=subscription_id, prescriber__user=actor, ended_at__isnull=True)
        .first()
        if actor.is_prescriber
        else None
    )
    if subscription is None:
        raise NotFound()
    return subscription


@transaction.atomic(durable=True)
def webhook_subscribe(*, actor: User, url: str, secret: str) -> WebhookSubscription:
    """A verified prescriber's new endpoint (400 naming `url` or `secret`; 403 for anyone else)."""
    prescriber = _locked_prescriber(actor)
    if not prescriber.is_verified:
        raise Forbidden("Your account has not been verified by the pharmacy yet.")
    url = (url or "").strip()
    errors: dict[str, list[str]] = {}
    url_problem = webhook_url_problem(url) if url else "Give the URL the pharmacy should POST events to."
    if url_problem:
        errors["url"] = [url_problem]
    secret_problem = webhook_secret_problem(secret or "")
    if secret_problem:
        errors["secret"] = [secret_problem]
    if errors:
        raise ValidationError(errors)
    if WebhookSubscription.objects.filter(prescriber=prescriber, ended_at__isnull=True).count() >= MAX_SUBSCRIPTIONS:
        raise ValidationError({"url": [f"At most {MAX_SUBSCRIPTIONS} subscriptions: end one first."]})
    subscription = WebhookSubscription.objects.create(prescriber=prescriber, url=url, secret=secret)
    if not prescriber.has_webhooks:
        Prescriber.objects.filter(pk=prescriber.pk).update(has_webhooks=True)
    return subscription


@transaction.atomic(durable=True)
def webhook_unsubscribe(*, actor: User, subscription_id: int) -> WebhookSubscription:
    """End one of the caller's subscriptions; nothing more is sent to it, pending tries included."""
    prescriber = _locked_prescriber(actor)
    subscription = _own_active(actor, subscription_id)
    subscription.ended_at = timezone.now()
    subscription.save(update_fields=["ended_at"])
    still = WebhookSubscription.objects.filter(prescriber=prescriber, ended_at__isnull=True).exists()
    Prescriber.objects.filter(pk=prescriber.pk).update(has_webhooks=still)
    return subscription


@transaction.atomic(durable=True)
def webhook_ping(*, actor: User, subscription_id: int) -> WebhookDelivery:
    """Send a test event to one of the caller's subscriptions (after the commit, as any other)."""
    return webhook_ping_record(subscription=_own_active(actor, subscription_id))
