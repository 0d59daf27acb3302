"""Webhooks for prescribers' systems on the API: subscribe, list, end, ping.

Each view parses, calls one service of intake/services/webhooks.py and renders. Another prescriber's
subscription answers 404, as one that does not exist.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.permissions import BasePermission
from rest_framework.request import Request
from rest_framework.response import Response

from intake.api import webhook_serializers as hooks
from intake.api.views import FIELD_ERRORS, UNAUTHENTICATED, JsonApiView, refusal, signed_in
from intake.audit import AuditAction, audit
from intake.selectors import webhook_subscriptions_of
from intake.services.webhooks import webhook_ping, webhook_subscribe, webhook_unsubscribe

OBJECT_TYPE = "webhook_subscription"
NOT_PRESCRIBER = refusal("Only prescribers have webhooks (and only a verified one may subscribe).")
SUBSCRIPTION_NOT_FOUND = refusal("No such subscription, or not the caller's (the same answer for both).")
WEBHOOK_ID = OpenApiParameter(
    "webhook_id", OpenApiTypes.INT, OpenApiParameter.PATH, description="The subscription's id."
)


class IsPrescriberAccount(BasePermission):
    """A signed-in prescriber; the service checks verification where it matters (subscribing)."""

    message = "Only prescribers have webhooks."

    def has_permission(self, request: Request, view: Any) -> bool:
        user = request.user
        return bool(user and user.is_authenticated and user.is_prescriber and hasattr(user, "prescriber"))


class WebhookListCreateView(JsonApiView):
    permission_classes = [IsPrescriberAccount]

    @extend_schema(
        operation_id="webhooks_list",
        summary="The caller's active webhook subscriptions (a prescriber)",
        responses={
            200: hooks.WebhookSubscriptionSerializer(many=True),
            401: UNAUTHENTICATED,
            403: NOT_PRESCRIBER,
        },
        tags=["webhooks"],
    )
    def get(self, request: Request) -> Response:
        subscriptions = list(webhook_subscriptions_of(signed_in(request)))
        audit(request, AuditAction.LIST, object_type=OBJECT_TYPE, description=f"{len(subscriptions)} shown (API)")
        return Response(hooks.WebhookSubscriptionSerializer(subscriptions, many=True).data)

    @extend_schema(
        operation_id="webhooks_create",
        summary="Subscribe an endpoint to the status changes of the caller's prescriptions (a verified prescriber)",
        description=(
            "On every status change of the caller's prescriptions the pharmacy POSTs "
            '`{"id", "event": "prescription.status_changed", "prescription", "reference", "status", "at"}` '
            "with `X-Pharmacy-Signature: sha256=<hex HMAC-SHA256 of the raw body with the secret>`, "
            "`X-Pharmacy-Event` and `X-Pharmacy-Delivery` (the event's id), retrying with backoff until a 2xx. "
            "The URL must be https and resolve to public addresses only. The secret is never answered back."
        ),
        request=hooks.WebhookSubscribeSerializer,
        responses={
            201: hooks.WebhookSubscriptionSerializer,
            400: FIELD_ERRORS,
            401: UNAUTHENTICATED,
            403: NOT_PRESCRIBER,
            415: refusal("The body is not JSON."),
        },
        tags=["webhooks"],
    )
    def post(self, request: Request) -> Response:
        body = hooks.WebhookSubscribeSerializer(data=request.data if request.data is not None else {})
        body.is_valid(raise_exception=True)
        subscription = webhook_subscribe(actor=signed_in(request), **body.validated_data)
        audit(request, AuditAction.CREATE, object_type=OBJECT_TYPE, object_id=subscription.pk,
              description="webhook subscribed (API)")  # fmt: skip
        return Response(hooks.WebhookSubscriptionSerializer(subscription).data, status=status.HTTP_201_CREATED)


class WebhookDetailView(JsonApiView):
    permission_classes = [IsPrescriberAccount]

    @extend_schema(
        operation_id="webhooks_delete",
        summary="End one of the caller's subscriptions: nothing more is sent to it",
        parameters=[WEBHOOK_ID],
        responses={204: None, 401: UNAUTHENTICATED, 403: NOT_PRESCRIBER, 404: SUBSCRIPTION_NOT_FOUND},
        tags=["webhooks"],
    )
    def delete(self, request: Request, webhook_id: str) -> Response:
        subscription = webhook_unsubscribe(actor=signed_in(request), subscription_id=int(webhook_id))
        audit(request, AuditAction.UPDATE, object_type=OBJECT_TYPE, object_id=subscription.pk,
              description="webhook ended (API)")  # fmt: skip
        return Response(status=status.HTTP_204_NO_CONTENT)


class WebhookPingView(JsonApiView):
    permission_classes = [IsPrescriberAccount]

    @extend_schema(
        operation_id="webhooks_ping",
        summary="Send a test event to one of the caller's subscriptions",
        description='The endpoint receives `{"id", "event": "webhook.ping", "at"}`, signed like every event.',
        parameters=[WEBHOOK_ID],
        request=None,
        responses={
            202: hooks.WebhookPingSerializer,
            401: UNAUTHENTICATED,
            403: NOT_PRESCRIBER,
            404: SUBSCRIPTION_NOT_FOUND,
            415: refusal("The body is not JSON."),
        },
        tags=["webhooks"],
    )
    def post(self, request: Request, webhook_id: str) -> Response:
        delivery = webhook_ping(actor=signed_in(request), subscription_id=int(webhook_id))
        audit(request, AuditAction.ACTION, object_type=OBJECT_TYPE, object_id=delivery.subscription_id,
              description="webhook ping (API)")  # fmt: skip
        return Response(hooks.WebhookPingSerializer(delivery).data, status=status.HTTP_202_ACCEPTED)
