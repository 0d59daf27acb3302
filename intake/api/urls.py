"""The JSON API, mounted at /api/.

Paths take their trailing slash or not (a POST cannot follow a redirect); anything else under
/api/ answers a JSON 404.
"""

from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from intake.api import batch_views, document_views, recall_views, refill_views, views, webhook_views

ID = r"(?P<pk>[0-9]{1,18})"
RENEWAL_ID = r"(?P<renewal_id>[0-9]{1,18})"
WEBHOOK_ID = r"(?P<webhook_id>[0-9]{1,18})"
BATCH_ID = r"(?P<batch_id>[0-9]{1,18})"
RECALL_ID = r"(?P<recall_id>[0-9]{1,18})"
# A lot number as printed: anything but a slash, at most 60 characters.
LOT = r"(?P<lot>[^/]{1,60})"

urlpatterns = [
    re_path(r"^schema/?$", SpectacularAPIView.as_view(), name="api-schema"),
    # A page to read: its OPTIONS answer would need a template it does not have (a 500).
    re_path(
        r"^docs/?$",
        SpectacularSwaggerSplitView.as_view(url_name="api-schema", http_method_names=["get", "head"]),
        name="api-docs",
    ),
    re_path(r"^v1/auth/token/?$", views.TokenView.as_view(), name="api-token"),
    re_path(r"^v1/prescriptions/?$", views.PrescriptionListCreateView.as_view(), name="api-prescriptions"),
    re_path(rf"^v1/prescriptions/{ID}/?$", views.PrescriptionDetailView.as_view(), name="api-prescription"),
    re_path(rf"^v1/prescriptions/{ID}/access-log/?$", views.AccessLogView.as_view(), name="api-access-log"),
    re_path(
        rf"^v1/prescriptions/{ID}/documents/?$", document_views.DocumentListCreateView.as_view(), name="api-documents"
    ),
    *(
        re_path(rf"^v1/prescriptions/{ID}/actions/{action}/?$", view.as_view(), name=f"api-{action}")
        for action, view in {**views.ACTION_VIEWS, **batch_views.ACTION_VIEWS}.items()
    ),
    re_path(rf"^v1/prescriptions/{ID}/refill/?$", refill_views.RefillView.as_view(), name="api-refill"),
    re_path(
        rf"^v1/prescriptions/{ID}/renewal-request/?$",
        refill_views.RenewalRequestView.as_view(),
        name="api-renewal-request",
    ),
    re_path(r"^v1/renewals/?$", refill_views.RenewalListView.as_view(), name="api-renewals"),
    re_path(
        rf"^v1/renewals/{RENEWAL_ID}/approve/?$", refill_views.RenewalApproveView.as_view(), name="api-renewal-approve"
    ),
    re_path(rf"^v1/renewals/{RENEWAL_ID}/deny/?$", refill_views.RenewalDenyView.as_view(), name="api-renewal-deny"),
    re_path(r"^v1/webhooks/?$", webhook_views.WebhookListCreateView.as_view(), name="api-webhooks"),
    re_path(rf"^v1/webhooks/{WEBHOOK_ID}/?$", webhook_views.WebhookDetailView.as_view(), name="api-webhook"),
    re_path(rf"^v1/webhooks/{WEBHOOK_ID}/ping/?$", webhook_views.WebhookPingView.as_view(), name="api-webhook-ping"),
    re_path(r"^v1/batches/?$", batch_views.BatchListCreateView.as_view(), name="api-batches"),
    re_path(rf"^v1/batches/{BATCH_ID}/?$", batch_views.BatchDetailView.as_view(), name="api-batch"),
    re_path(rf"^v1/batches/{BATCH_ID}/release/?$", batch_views.BatchReleaseView.as_view(), name="api-batch-release"),
    re_path(rf"^v1/lots/{LOT}/?$", recall_views.LotTraceView.as_view(), name="api-lot"),
    re_path(r"^v1/recalls/?$", recall_views.RecallListCreateView.as_view(), name="api-recalls"),
    re_path(rf"^v1/recalls/{RECALL_ID}/?$", recall_views.RecallDetailView.as_view(), name="api-recall"),
    re_path(rf"^v1/recalls/{RECALL_ID}/close/?$", recall_views.RecallCloseView.as_view(), name="api-recall-close"),
    path("v1/", include("intake.api.patient_urls")),
    re_path(r"", views.NotFoundView.as_view(), name="api-not-found"),
]
