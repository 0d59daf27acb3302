from django.urls import path  # noqa: F401

# The patient's endpoints (questionnaire twin, status lookup), under /api/v1/.
urlpatterns: list = []
