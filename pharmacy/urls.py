from django.contrib import admin
from django.urls import include, path

from intake.api.carrier_views import easypost_webhook
from intake.api.sms_views import twilio_status_webhook
from pharmacy import operations

urlpatterns = [
    path("admin/", admin.site.urls),
    path("health/", operations.health, name="health"),
    path("health/live/", operations.live, name="health-live"),
    path("health/ready/", operations.ready, name="health-ready"),
    path("webhooks/easypost/", easypost_webhook, name="easypost-webhook"),
    path("webhooks/twilio/status/", twilio_status_webhook, name="twilio-status"),
    path("fhir/R4/", include("intake.api.fhir.urls")),
    path("metrics", operations.metrics, name="metrics"),
    path("", include("intake.web.urls")),
]
