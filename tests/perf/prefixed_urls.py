"""The project's URLs under a prefix, for a test that a link follows the URLconf in use."""

from django.urls import include, path

urlpatterns = [path("pharmacy-app/", include("intake.web.urls"))]
