from django.urls import path

from intake.views import notifications

app_name = "notifications"
urlpatterns = [
    path("", notifications.undelivered, name="list"),
    path("<int:notification_id>/resend/", notifications.resend, name="resend"),
]
