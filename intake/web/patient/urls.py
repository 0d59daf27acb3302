"""The patient's pages, at the site root: the private questionnaire link, the order status with its
refill and renewal buttons, and the side-effect check-in."""

from django.urls import path, re_path

from intake.web.patient import check_in, views

app_name = "patient"

# The token as new_questionnaire_token() makes it (URL-safe base64). questionnaire_url() has no
# trailing slash; both spellings answer.
LINK_SEGMENT = r"(?P<token>[A-Za-z0-9_-]{1,64})"
# The side-effect check-in's own token, made the same way (named apart: it opens a different page).
CHECK_IN_SEGMENT = r"(?P<check_in_token>[A-Za-z0-9_-]{1,64})"

urlpatterns = [
    re_path(rf"^questionnaire/{LINK_SEGMENT}/?$", views.questionnaire, name="questionnaire"),
    re_path(rf"^questionnaire/{LINK_SEGMENT}/thanks/?$", views.questionnaire_thanks, name="questionnaire_thanks"),
    path("status/", views.status_lookup_page, name="status"),
    # Before the link pattern, which would take "refill" for a token.
    path("status/refill/", views.status_refill, name="status_refill"),
    path("status/renewal/", views.status_renewal, name="status_renewal"),
    path("status/price/", views.status_price, name="status_price"),
    re_path(rf"^status/{LINK_SEGMENT}/?$", views.status_by_link, name="status_link"),
    re_path(rf"^status/{LINK_SEGMENT}/refill/?$", views.status_link_refill, name="status_link_refill"),
    re_path(rf"^status/{LINK_SEGMENT}/renewal/?$", views.status_link_renewal, name="status_link_renewal"),
    re_path(rf"^status/{LINK_SEGMENT}/price/?$", views.status_link_price, name="status_link_price"),
    re_path(rf"^check-in/{CHECK_IN_SEGMENT}/?$", check_in.check_in, name="check_in"),
    re_path(rf"^check-in/{CHECK_IN_SEGMENT}/thanks/?$", check_in.check_in_thanks, name="check_in_thanks"),
]
