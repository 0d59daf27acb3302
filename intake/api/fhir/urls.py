"""/fhir/R4/: the FHIR interface's routes. Ids are the JSON API's ids."""

from django.urls import re_path

from intake.api.fhir import read_views, transaction

ID = r"(?P<pk>[0-9]{1,18})"

urlpatterns = [
    re_path(r"^metadata/?$", read_views.MetadataView.as_view(), name="fhir-metadata"),
    re_path(r"^$", transaction.TransactionView.as_view(), name="fhir-transaction"),
    re_path(r"^MedicationRequest/?$", read_views.MedicationRequestSearchView.as_view(), name="fhir-medicationrequests"),
    re_path(
        rf"^MedicationRequest/{ID}/?$", read_views.MedicationRequestReadView.as_view(), name="fhir-medicationrequest"
    ),
    re_path(r"^DetectedIssue/?$", read_views.DetectedIssueSearchView.as_view(), name="fhir-detectedissues"),
    re_path(
        rf"^DetectedIssue/{ID}-(?P<position>[0-9]{{1,4}})/?$",
        read_views.DetectedIssueReadView.as_view(),
        name="fhir-detectedissue",
    ),
    re_path(r"^MedicationDispense/?$", read_views.MedicationDispenseSearchView.as_view(), name="fhir-dispenses"),
    re_path(
        rf"^MedicationDispense/{ID}-(?P<position>[0-9]{{1,4}})/?$",
        read_views.MedicationDispenseReadView.as_view(),
        name="fhir-dispense",
    ),
    re_path(
        r"^Questionnaire/(?P<questionnaire_id>[A-Za-z0-9\-.]{1,64})/?$",
        read_views.QuestionnaireReadView.as_view(),
        name="fhir-questionnaire",
    ),
    re_path(
        r"^QuestionnaireResponse/?$",
        read_views.QuestionnaireResponseSearchView.as_view(),
        name="fhir-questionnaireresponses",
    ),
    re_path(
        r"^QuestionnaireResponse/(?P<answers_id>[0-9]{1,18})/?$",
        read_views.QuestionnaireResponseReadView.as_view(),
        name="fhir-questionnaireresponse",
    ),
    # Anything else under the base (the base itself is the transaction endpoint).
    re_path(r"^(?P<unknown>.+)$", read_views.NotFoundView.as_view(), name="fhir-not-found"),
]
