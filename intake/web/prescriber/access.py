"""Who may open the prescriber's pages."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render


def prescriber_required(view):  # type: ignore[no-untyped-def]
    """Signed in as a prescriber; anyone else gets 403 (staff) or the login page (anonymous)."""

    @login_required
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not request.user.is_prescriber or not hasattr(request.user, "prescriber"):  # type: ignore[union-attr]
            return render(request, "403.html", status=403)
        return view(request, *args, **kwargs)

    wrapped.__name__ = view.__name__
    wrapped.__doc__ = view.__doc__
    return wrapped
