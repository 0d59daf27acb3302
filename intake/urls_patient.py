"""The patient's pages, at the site root: the private questionnaire link and the order status."""

from django.urls import path, re_path

from intake.views import patient

app_name = "patient"

# The token as new_questionnaire_token() makes it (URL-safe base64). questionnaire_url() has no
# trailing slash; both spellings answer.
LINK_SEGMENT = r"(?P<token>[A-Za-z0-9_-]{1,64})"

urlpatterns = [
    re_path(rf"^questionnaire/{LINK_SEGMENT}/?$", patient.questionnaire, name="questionnaire"),
    re_path(rf"^questionnaire/{LINK_SEGMENT}/thanks/?$", patient.questionnaire_thanks, name="questionnaire_thanks"),
    path("status/", patient.status_lookup_page, name="status"),
    re_path(rf"^status/{LINK_SEGMENT}/?$", patient.status_by_link, name="status_link"),
]
