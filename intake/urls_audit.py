from django.urls import path

from intake.views import audit

app_name = "audit"
urlpatterns = [
    path("", audit.audit_trail, name="list"),
]
