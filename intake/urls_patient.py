from django.urls import path
from django.views.generic import TemplateView

app_name = "patient"
# Placeholder until the patient pages land.
urlpatterns = [
    path("status/", TemplateView.as_view(template_name="404.html"), name="status"),
]
