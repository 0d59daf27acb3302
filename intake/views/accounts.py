"""Sign-in with an email address, and the home page that sends each person to their work."""

from __future__ import annotations

from django import forms
from django.contrib.auth.forms import AuthenticationForm
from django.contrib.auth.views import LoginView
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect


class EmailAuthenticationForm(AuthenticationForm):
    username = forms.EmailField(
        label="Email address", widget=forms.EmailInput(attrs={"autofocus": True, "autocomplete": "email"})
    )
    error_messages = {
        **AuthenticationForm.error_messages,
        "invalid_login": "That email address and password do not match an account. Both are case-sensitive.",
        "inactive": "This account is switched off. Call the pharmacy.",
    }


class EmailLoginView(LoginView):
    form_class = EmailAuthenticationForm
    template_name = "registration/login.html"
    redirect_authenticated_user = True


def home(request: HttpRequest) -> HttpResponse:
    user = request.user
    if not user.is_authenticated:
        return redirect("login")
    if user.is_pharmacy_staff:  # type: ignore[union-attr]
        return redirect("staff:queue")
    if user.is_prescriber:  # type: ignore[union-attr]
        return redirect("prescriber:home")
    return redirect("login")
