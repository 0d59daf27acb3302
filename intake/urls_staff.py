from django.urls import path
from django.views.generic import TemplateView

app_name = "staff"
# Placeholder until the staff pages land.
urlpatterns = [
    path("queue/", TemplateView.as_view(template_name="404.html"), name="queue"),
]
