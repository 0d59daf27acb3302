"""The staff page of notifications that are not delivered yet, and the re-send button."""

from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from intake.audit import AuditAction, Shown, audit, audit_list
from intake.errors import WorkflowError
from intake.models import DeliveryStatus
from intake.notifications.outbox import notification_resend
from intake.notifications.selectors import masked_recipient, notifications_undelivered
from intake.web.staff.access import staff_required


@staff_required
@require_GET
def undelivered(request: HttpRequest) -> HttpResponse:
    page = Paginator(notifications_undelivered(), 50).get_page(request.GET.get("page"))
    rows = [
        {"notification": row, "recipient": masked_recipient(channel=row.channel, recipient=row.recipient)}
        for row in page
    ]
    shown = [Shown("notification", row.pk, row.prescription.reference) for row in page]
    audit_list(request, shown, object_type="notification", description="undelivered notifications")
    return render(
        request,
        "staff/notifications.html",
        {"page": page, "rows": rows, "failed": DeliveryStatus.FAILED},
    )


@staff_required
@require_POST
def resend(request: HttpRequest, notification_id: int) -> HttpResponse:
    try:
        notification = notification_resend(notification_id=notification_id, actor=request.user)  # type: ignore[arg-type]
    except WorkflowError as exc:
        messages.error(request, exc.message)
    else:
        audit(request, AuditAction.ACTION, prescription=notification.prescription, object_type="notification",
              object_id=notification.pk, description=f"re-sent {notification.event} notification")  # fmt: skip
        messages.success(
            request, f"The {notification.get_event_display().lower()} message for {notification.prescription.reference}"
            " is queued again."
        )  # fmt: skip
    return redirect("notifications:list")
