from django.urls import path

from intake.views import dashboard

app_name = "dashboard"
urlpatterns = [
    path("", dashboard.dashboard, name="index"),
    path("status/", dashboard.status_counts_partial, name="status"),
]
