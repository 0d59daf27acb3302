from django.urls import path

from intake.views import security

app_name = "security"
urlpatterns = [
    path("two-factor/", security.totp_enrol, name="totp_enrol"),
    path("two-factor/verify/", security.totp_verify, name="totp_verify"),
]
