from django.contrib import admin
from django.urls import include, path

from intake.api.carrier_views import easypost_webhook
from pharmacy import operations

urlpatterns = [
    path("admin/", admin.site.urls),
    path("health/", operations.health, name="health"),
    path("health/live/", operations.live, name="health-live"),
    path("webhooks/easypost/", easypost_webhook, name="easypost-webhook"),
    path("fhir/R4/", include("intake.api.fhir.urls")),
    path("", include("django_prometheus.urls")),  # /metrics
    path("", include("intake.web.urls")),
]
