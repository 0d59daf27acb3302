"""Signing in and out, the second factor, and the home page that sends each person to their work."""

from django.contrib.auth import views as auth_views
from django.urls import include, path

from intake.web.accounts import views

# The second factor's pages keep their own namespace: "security:totp_enrol", "security:totp_verify".
security_patterns = (
    [
        path("two-factor/", views.totp_enrol, name="totp_enrol"),
        path("two-factor/verify/", views.totp_verify, name="totp_verify"),
    ],
    "security",
)

urlpatterns = [
    path("", views.home, name="home"),
    path("accounts/login/", views.EmailLoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("accounts/session/stay-signed-in/", views.stay_signed_in, name="session_extend"),
    path("accounts/", include(security_patterns)),
]
