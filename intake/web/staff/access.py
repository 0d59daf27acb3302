"""Who may open the staff pages, and the small helpers every staff view shares."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render

from accounts.models import User
from intake.audit import AuditAction, audit
from intake.errors import WorkflowError
from intake.models import Prescription
from intake.selectors import prescription_for_user

View = Callable[..., HttpResponse]


def _denied(request: HttpRequest) -> HttpResponse:
    audit(request, AuditAction.DENIED, object_type="staff_page", description="not pharmacy staff")
    return render(request, "403.html", status=403)


def staff_required(view: View) -> View:
    """Signed in as pharmacy staff; anyone else gets 403 (prescribers) or the login page (anonymous)."""

    @login_required
    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not request.user.is_pharmacy_staff:  # type: ignore[union-attr]
            return _denied(request)
        return view(request, *args, **kwargs)

    return wrapped


def pharmacist_required(view: View) -> View:
    @login_required
    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not request.user.is_pharmacist:  # type: ignore[union-attr]
            return _denied(request)
        return view(request, *args, **kwargs)

    return wrapped


def privacy_officer_required(view: View) -> View:
    """Who answers a patient's "who has seen my record?": a pharmacist, or a pharmacy administrator
    (who holds the audit trail)."""

    @login_required
    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        user = request.user
        if not (user.is_pharmacist or user.is_pharmacy_admin):  # type: ignore[union-attr]
            return _denied(request)
        return view(request, *args, **kwargs)

    return wrapped


def bench_staff_required(view: View) -> View:
    """Pharmacists and technicians: the people at the bench (not the pharmacy's administrators)."""

    @login_required
    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        user = request.user
        if not (user.is_pharmacist or user.is_technician):  # type: ignore[union-attr]
            return _denied(request)
        return view(request, *args, **kwargs)

    return wrapped


def staff_user(request: HttpRequest) -> User:
    return request.user  # type: ignore[return-value]


def get_prescription(request: HttpRequest, prescription_id: int) -> Prescription:
    try:
        return prescription_for_user(staff_user(request), prescription_id)
    except WorkflowError:
        raise Http404("No such prescription") from None


def error_text(exc: ValidationError | WorkflowError) -> str:
    if isinstance(exc, WorkflowError):
        return exc.message
    if hasattr(exc, "error_dict"):
        return " ".join(message for problems in exc.message_dict.values() for message in problems)
    return " ".join(exc.messages)
