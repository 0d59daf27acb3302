"""The site's pages, one room per audience: accounts (sign-in, second factor, home), prescribers,
patients (at the site root) and pharmacy staff; the JSON API beside them."""

from django.urls import include, path

urlpatterns = [
    path("", include("intake.web.accounts.urls")),
    path("prescriber/", include("intake.web.prescriber.urls")),
    path("", include("intake.web.patient.urls")),
    path("pharmacy/", include("intake.web.staff.urls")),
    path("api/", include("intake.api.urls")),
]
