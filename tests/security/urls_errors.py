"""A test-only URLconf: views that fail with patient data in the exception, beside the real site."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.urls import include, path

PATIENT_DETAIL = "Ada Lovelace born 1980-02-29 ada@example.com +15555550123"


def explode(request: HttpRequest) -> HttpResponse:
    raise RuntimeError(f"database said no while saving {PATIENT_DETAIL}")


def not_found(request: HttpRequest) -> HttpResponse:
    raise Http404(f"No prescription for {PATIENT_DETAIL}")


def forbidden(request: HttpRequest) -> HttpResponse:
    raise PermissionDenied(f"Not yours: {PATIENT_DETAIL}")


urlpatterns = [
    path("test-errors/500/", explode),
    path("test-errors/404/", not_found),
    path("test-errors/403/", forbidden),
    path("", include("pharmacy.urls")),
]
