"""The bodies of the webhook endpoints: a subscription in (URL and secret), out (never the secret)."""

from __future__ import annotations

from rest_framework import serializers

from intake.api.serializers import Text
from intake.models import WebhookDelivery, WebhookSubscription
from intake.models.webhooks import SECRET_MAX_LENGTH, SECRET_MIN_LENGTH, URL_MAX_LENGTH
from intake.services.webhooks import SECRET_RULE


class WebhookSubscribeSerializer(serializers.Serializer):
    url = Text(
        max_length=URL_MAX_LENGTH,
        help_text="Where the pharmacy POSTs events: https, a public address, at most 2,000 characters.",
    )
    # Kept exactly as sent: it is the key the prescriber's system checks the signature with.
    secret = Text(
        min_length=SECRET_MIN_LENGTH,
        max_length=SECRET_MAX_LENGTH,
        trim_whitespace=False,
        help_text=f"{SECRET_RULE} The HMAC-SHA256 key of X-Pharmacy-Signature; never shown again.",
        error_messages={"min_length": SECRET_RULE, "max_length": SECRET_RULE, "blank": SECRET_RULE},
    )


class WebhookSubscriptionSerializer(serializers.ModelSerializer[WebhookSubscription]):
    secret_hint = serializers.CharField(read_only=True, help_text="The secret's last four characters.")

    class Meta:
        model = WebhookSubscription
        fields = ("id", "url", "created_at", "secret_hint")
        read_only_fields = fields


class WebhookPingSerializer(serializers.ModelSerializer[WebhookDelivery]):
    id = serializers.UUIDField(source="event_id", read_only=True, help_text="The event's id (X-Pharmacy-Delivery).")

    class Meta:
        model = WebhookDelivery
        fields = ("id", "event", "status", "created_at")
        read_only_fields = fields
