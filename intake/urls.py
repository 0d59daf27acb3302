from django.contrib.auth import views as auth_views
from django.urls import include, path

from intake.views.accounts import EmailLoginView, home

urlpatterns = [
    path("", home, name="home"),
    path("accounts/login/", EmailLoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("prescriber/", include("intake.urls_prescriber")),
    path("", include("intake.urls_patient")),
    path("pharmacy/notifications/", include("intake.urls_notifications")),
    path("pharmacy/audit/", include("intake.urls_audit")),
    path("pharmacy/dashboard/", include("intake.urls_dashboard")),
    path("accounts/", include("intake.urls_security")),
    path("pharmacy/", include("intake.urls_staff")),
    path("api/", include("intake.api.urls")),
]
