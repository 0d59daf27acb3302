"""The patient's endpoints (questionnaire twin, status lookup), under /api/v1/.

Like the rest of the API, with or without the trailing slash (a POST cannot follow a redirect).
"""

from django.urls import re_path

from intake.api.patient_views import (
    CheckInAnswerView,
    PatientPriceAnswerView,
    PatientRefillView,
    PatientRenewalView,
    PatientStatusView,
    QuestionnaireAnswerView,
)

urlpatterns = [
    # The token as new_questionnaire_token() makes it; anything else falls through to the JSON 404.
    re_path(
        r"^questionnaires/(?P<token>[A-Za-z0-9_-]{1,64})/?$",
        QuestionnaireAnswerView.as_view(),
        name="api-questionnaire",
    ),
    re_path(r"^status/?$", PatientStatusView.as_view(), name="api-status"),
    re_path(r"^status/refill/?$", PatientRefillView.as_view(), name="api-status-refill"),
    re_path(r"^status/renewal/?$", PatientRenewalView.as_view(), name="api-status-renewal"),
    re_path(r"^status/consent/?$", PatientPriceAnswerView.as_view(), name="api-status-consent"),
    # The side-effect check-in's token, made like the questionnaire's.
    re_path(r"^check-ins/(?P<check_in_token>[A-Za-z0-9_-]{1,64})/?$", CheckInAnswerView.as_view(), name="api-check-in"),
]
