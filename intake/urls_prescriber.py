from django.urls import path

from intake.views import prescriber

app_name = "prescriber"
urlpatterns = [
    path("", prescriber.home, name="home"),
    path("prescriptions/new/", prescriber.new_prescription, name="new"),
    path("prescriptions/<int:prescription_id>/", prescriber.detail, name="detail"),
    path("prescriptions/<int:prescription_id>/submitted/", prescriber.submitted, name="submitted"),
    path("prescriptions/<int:prescription_id>/respond/", prescriber.respond, name="respond"),
    path("prescriptions/<int:prescription_id>/cancel/", prescriber.cancel, name="cancel"),
]
