"""The prescriber's webhooks page: their subscriptions, add one, send a test ping, remove one, and the
latest deliveries to their own endpoints."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from intake.audit import AuditAction, audit
from intake.errors import NotFound, WorkflowError
from intake.models import WebhookSubscription
from intake.selectors import webhook_deliveries_recent, webhook_subscriptions_of
from intake.services.webhooks import webhook_ping, webhook_subscribe, webhook_unsubscribe
from intake.web.form_errors import service_errors_on_form
from intake.web.prescriber.forms import WebhookSubscriptionForm
from intake.web.prescriber.views import prescriber_required

OBJECT_TYPE = "webhook_subscription"
# The secret the pharmacy made, kept in the session (never a cookie nor a URL) until the page shows it once.
SHOW_ONCE_KEY = "webhook_made_for_you"


def _page(request: HttpRequest, *, form: WebhookSubscriptionForm | None = None, status: int = 200) -> HttpResponse:
    user = request.user
    new_secret: dict[str, Any] | None = request.session.pop(SHOW_ONCE_KEY, None)
    return render(
        request,
        "prescriber/webhooks.html",
        {
            "subscriptions": webhook_subscriptions_of(user),  # type: ignore[arg-type]
            "deliveries": webhook_deliveries_recent(user, limit=20),  # type: ignore[arg-type]
            "form": form or WebhookSubscriptionForm(prefix="hook"),
            "new_secret": new_secret,
        },
        status=status,
    )


def _own(request: HttpRequest, subscription_id: int) -> WebhookSubscription:
    found = webhook_subscriptions_of(request.user).filter(pk=subscription_id).first()  # type: ignore[arg-type]
    if found is None:
        raise Http404("No such subscription")
    return found


@prescriber_required
def webhooks(request: HttpRequest) -> HttpResponse:
    audit(request, AuditAction.LIST, object_type=OBJECT_TYPE, description="prescriber webhooks page")
    return _page(request)


@prescriber_required
@require_POST
def webhook_add(request: HttpRequest) -> HttpResponse:
    form = WebhookSubscriptionForm(request.POST, prefix="hook")
    if form.is_valid():
        try:
            subscription = webhook_subscribe(
                actor=request.user,  # type: ignore[arg-type]
                url=form.cleaned_data["url"],
                secret=form.cleaned_data["secret"],
            )
        except ValidationError as exc:
            service_errors_on_form(form, exc)
        except WorkflowError as exc:
            messages.error(request, exc.message)
            return redirect("prescriber:webhooks")
        else:
            audit(request, AuditAction.CREATE, object_type=OBJECT_TYPE, object_id=subscription.pk,
                  description="webhook subscribed")  # fmt: skip
            if form.cleaned_data["generate"]:
                request.session[SHOW_ONCE_KEY] = {"url": subscription.url, "secret": subscription.secret}
            messages.success(request, f"Subscribed {subscription.url}. Send it a test ping to check it.")
            return redirect("prescriber:webhooks")
    return _page(request, form=form, status=400)


@prescriber_required
@require_POST
def webhook_ping_view(request: HttpRequest, subscription_id: int) -> HttpResponse:
    try:
        webhook_ping(actor=request.user, subscription_id=subscription_id)  # type: ignore[arg-type]
    except NotFound:
        raise Http404("No such subscription") from None
    audit(request, AuditAction.ACTION, object_type=OBJECT_TYPE, object_id=subscription_id, description="webhook ping")
    messages.success(request, "Test ping queued: its delivery shows below within a few seconds.")
    return redirect("prescriber:webhooks")


@prescriber_required
@require_http_methods(["GET", "POST"])
def webhook_remove(request: HttpRequest, subscription_id: int) -> HttpResponse:
    """A page that asks first; its form POSTs the removal."""
    subscription = _own(request, subscription_id)
    if request.method == "GET":
        return render(request, "prescriber/webhook_remove.html", {"subscription": subscription})
    try:
        webhook_unsubscribe(actor=request.user, subscription_id=subscription.pk)  # type: ignore[arg-type]
    except NotFound:
        raise Http404("No such subscription") from None
    audit(request, AuditAction.UPDATE, object_type=OBJECT_TYPE, object_id=subscription.pk,
          description="webhook ended")  # fmt: skip
    messages.success(request, f"Removed {subscription.url}: nothing more is sent to it.")
    return redirect("prescriber:webhooks")
