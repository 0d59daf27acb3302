"""Sign-in with an email address, the home page that sends each person to their work, and the
second-factor pages: enrol an authenticator app, and verify a code after signing in."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import AuthenticationForm
from django.contrib.auth.views import LoginView
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from accounts.models import User
from intake.audit import AuditAction, audit
from intake.middleware import session_extend
from intake.security import (
    otpauth_uri,
    pending_enrol_key,
    qr_svg_data_uri,
    second_factor_enrol,
    second_factor_forgotten,
    second_factor_verify,
    totp_device_for,
)
from intake.web.accounts.forms import EmailAuthenticationForm, TOTPCodeForm
from intake.web.drafts import forms_kept_drop_others


class EmailLoginView(LoginView):
    form_class = EmailAuthenticationForm
    template_name = "registration/login.html"
    redirect_authenticated_user = True

    def form_valid(self, form: AuthenticationForm) -> HttpResponse:
        response = super().form_valid(form)
        # A form kept when someone else's session ended on this browser is not this account's.
        forms_kept_drop_others(self.request.session, user_id=self.request.user.pk)  # type: ignore[arg-type]
        return response


@require_POST
def stay_signed_in(request: HttpRequest) -> HttpResponse:
    """A long form's "Stay signed in": push the session's end back, answer the seconds left."""
    if not request.user.is_authenticated:
        return JsonResponse({"detail": "Your session has ended. Sign in again.", "seconds_left": 0}, status=403)
    return JsonResponse({"seconds_left": session_extend(request.session)})


def home(request: HttpRequest) -> HttpResponse:
    user = request.user
    if not user.is_authenticated:
        return redirect("login")
    if user.is_pharmacy_staff:  # type: ignore[union-attr]
        return redirect("staff:queue")
    if user.is_prescriber:  # type: ignore[union-attr]
        return redirect("prescriber:home")
    return redirect("login")


# The second factor -------------------------------------------------------------------------------


def _staff_user(request: HttpRequest) -> User:
    user = request.user
    if not user.is_pharmacy_staff:  # type: ignore[union-attr]
        raise PermissionDenied
    return user  # type: ignore[return-value]


def _next_url(request: HttpRequest) -> str:
    candidate = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return "home"


@login_required
def totp_enrol(request: HttpRequest) -> HttpResponse:
    user = _staff_user(request)
    existing = totp_device_for(user)
    if existing is not None and not user.is_verified():  # type: ignore[attr-defined]
        # Replacing a device needs the old one: a password alone must not enrol a new app.
        return redirect("security:totp_verify")
    form = TOTPCodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        device = second_factor_enrol(request=request, user=user, code=form.cleaned_data["code"])
        if device is not None:
            request.session.cycle_key()
            audit(request, AuditAction.CREATE, object_type="totp_device", object_id=device.pk,
                  description="Enrolled an authenticator app for the second factor")  # fmt: skip
            messages.success(request, "Your authenticator app is set up. You will be asked for a code at each sign-in.")
            return redirect(_next_url(request))
        form.add_error("code", "That code does not match. Check the app's clock and try the newest code.")
    uri = otpauth_uri(user=user, hex_key=pending_enrol_key(request))
    context = {
        "form": form,
        "otpauth_uri": uri,
        "qr_data_uri": qr_svg_data_uri(uri),
        "replacing": existing is not None,
        "next": _next_url(request) if (request.POST.get("next") or request.GET.get("next")) else "",
    }
    return render(request, "accounts/totp_enrol.html", context)


@login_required
def totp_verify(request: HttpRequest) -> HttpResponse:
    user = _staff_user(request)
    if totp_device_for(user) is None:
        second_factor_forgotten(request)
        return redirect("security:totp_enrol")
    if user.is_verified():  # type: ignore[attr-defined]
        return redirect(_next_url(request))
    form = TOTPCodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if second_factor_verify(request=request, user=user, code=form.cleaned_data["code"]):
            # A new session key for the more trusted session, as after a password sign-in.
            request.session.cycle_key()
            return redirect(_next_url(request))
        form.add_error("code", "That code is not right, or was used already. Wait for the next code and try again.")
    next_value = _next_url(request) if (request.POST.get("next") or request.GET.get("next")) else ""
    return render(request, "accounts/totp_verify.html", {"form": form, "next": next_value})
