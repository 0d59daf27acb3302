from django.urls import path

from intake.web.prescriber import shortcuts, webhooks
from intake.web.prescriber import views as prescriber

app_name = "prescriber"
urlpatterns = [
    path("", prescriber.home, name="home"),
    path("prescriptions/new/", prescriber.new_prescription, name="new"),
    path("prescriptions/<int:prescription_id>/", prescriber.detail, name="detail"),
    path("prescriptions/<int:prescription_id>/submitted/", prescriber.submitted, name="submitted"),
    path("prescriptions/<int:prescription_id>/respond/", prescriber.respond, name="respond"),
    path("prescriptions/<int:prescription_id>/cancel/", prescriber.cancel, name="cancel"),
    path("prescriptions/<int:prescription_id>/refill/", prescriber.refill, name="refill"),
    path("prescriptions/<int:prescription_id>/renew/", prescriber.renew, name="renew"),
    path("renewals/<int:renewal_id>/", prescriber.renewal, name="renewal"),
    path("renewals/<int:renewal_id>/approve/", prescriber.renewal_approve_view, name="renewal_approve"),
    path("renewals/<int:renewal_id>/deny/", prescriber.renewal_deny_view, name="renewal_deny"),
    path("prescriptions/<int:prescription_id>/documents/", shortcuts.document_add, name="document_add"),
    path(
        "prescriptions/<int:prescription_id>/save-template/",
        shortcuts.template_from_prescription,
        name="template_from_prescription",
    ),
    path("templates/", shortcuts.templates, name="templates"),
    path("templates/save/", shortcuts.template_save, name="template_save"),
    path("templates/<int:template_id>/delete/", shortcuts.template_delete, name="template_delete"),
    path("webhooks/", webhooks.webhooks, name="webhooks"),
    path("webhooks/add/", webhooks.webhook_add, name="webhook_add"),
    path("webhooks/<int:subscription_id>/ping/", webhooks.webhook_ping_view, name="webhook_ping"),
    path("webhooks/<int:subscription_id>/remove/", webhooks.webhook_remove, name="webhook_remove"),
]
