"""The pharmacy staff's pages under /pharmacy/: the queue, the review, compounding and hand-over,
refills and follow-ups, licences, the formulary, and the notifications, audit trail and dashboard,
which keep their own namespaces."""

from django.urls import include, path

from intake.web.staff.views import (
    audit,
    batches,
    compounding,
    dashboard,
    documents,
    fills,
    formulary,
    licences,
    notifications,
    privacy,
    queue,
    recalls,
    review,
    shipping,
    stock,
)

staff_patterns = [
    path("queue/", queue.queue, name="queue"),
    path("queue/counts/", queue.queue_counts_partial, name="queue_counts"),
    path("queue/next/", queue.claim_next, name="claim_next"),
    path("prescriptions/<int:prescription_id>/", review.review, name="review"),
    path("prescriptions/<int:prescription_id>/claim/", review.claim, name="claim"),
    path("prescriptions/<int:prescription_id>/release/", review.release, name="release"),
    path("prescriptions/<int:prescription_id>/approve/", review.approve, name="approve"),
    path("prescriptions/<int:prescription_id>/reject/", review.reject, name="reject"),
    path("prescriptions/<int:prescription_id>/clarify/", review.request_clarification, name="request_clarification"),
    path("prescriptions/<int:prescription_id>/cancel/", review.cancel, name="cancel"),
    path("prescriptions/<int:prescription_id>/verify-flag/", review.verify_flag, name="verify_flag"),
    path("prescriptions/<int:prescription_id>/rescreen/", review.request_rescreen, name="request_rescreen"),
    path("documents/<int:document_id>/", documents.document, name="document"),
    path("prescriptions/<int:prescription_id>/start/", compounding.start_compounding, name="start_compounding"),
    path("prescriptions/<int:prescription_id>/compounding/", compounding.compounding_record, name="compounding"),
    path("prescriptions/<int:prescription_id>/final-check/", compounding.final_check, name="final_check"),
    path("prescriptions/<int:prescription_id>/ship/", compounding.ship, name="ship"),
    path("prescriptions/<int:prescription_id>/complete/", compounding.complete, name="complete"),
    path("prescriptions/<int:prescription_id>/label.pdf", compounding.label_pdf, name="label_pdf"),
    path("prescriptions/<int:prescription_id>/worksheet.pdf", compounding.worksheet_pdf, name="worksheet_pdf"),
    path("prescriptions/<int:prescription_id>/recompound/", compounding.recompound, name="recompound"),
    path(
        "prescriptions/<int:prescription_id>/fills/<int:number>/label.pdf",
        compounding.fill_label_pdf,
        name="fill_label_pdf",
    ),
    path(
        "prescriptions/<int:prescription_id>/fills/<int:number>/worksheet.pdf",
        compounding.fill_worksheet_pdf,
        name="fill_worksheet_pdf",
    ),
    path(
        "prescriptions/<int:prescription_id>/fill-from-batch/", batches.fill_from_batch, name="fill_from_batch"
    ),  # fmt: skip
    path("batches/", batches.batches, name="batches"),
    path("batches/new/", batches.batch_create, name="batch_new"),
    path("batches/<int:batch_id>/", batches.batch, name="batch"),
    path("batches/<int:batch_id>/release/", batches.batch_release_view, name="batch_release"),
    path("prescriptions/<int:prescription_id>/refill/", fills.refill_start, name="refill_start"),
    path("prescriptions/<int:prescription_id>/renewal/", fills.renewal_ask, name="renewal_ask"),
    path("follow-ups/", fills.follow_ups, name="follow_ups"),
    path("follow-ups/<int:follow_up_id>/review/", fills.follow_up_reviewed, name="follow_up_review"),
    path("licences/", licences.licences, name="licences"),
    path("licences/new/", licences.licence_create, name="licence_new"),
    path("licences/<int:licence_id>/edit/", licences.licence_edit, name="licence_edit"),
    path("stock/", stock.stock_list, name="stock"),
    path("stock/receive/", stock.stock_receive_lot, name="stock_receive"),
    path("stock/<int:stock_lot_id>/", stock.stock_lot, name="stock_lot"),
    path("stock/<int:stock_lot_id>/correct/", stock.stock_correct_count, name="stock_correct"),
    path("lots/", recalls.lot_trace, name="lot_trace"),
    path("lots/export.csv", recalls.lot_trace_csv, name="lot_trace_csv"),
    path("recalls/", recalls.recalls, name="recalls"),
    path("recalls/new/", recalls.recall_new, name="recall_new"),
    path("recalls/<int:recall_id>/", recalls.recall_detail, name="recall"),
    path("recalls/<int:recall_id>/close/", recalls.recall_close_view, name="recall_close"),
    path("recalls/<int:recall_id>/affected/<int:affected_id>/resolve/", recalls.recall_resolve, name="recall_resolve"),
    path("shipping-problems/", shipping.shipping_problems, name="shipping_problems"),
    path(
        "shipping-problems/<int:event_id>/handled/", shipping.shipping_problem_handled, name="shipping_problem_handled"
    ),
    path("patients/", privacy.patient_search, name="patient_search"),
    path("patients/<int:patient_id>/access/", privacy.patient_access, name="patient_access"),
    path("patients/<int:patient_id>/access.csv", privacy.patient_access_csv, name="patient_access_csv"),
    path("formulary/", formulary.formulary, name="formulary"),
    path("formulary/formulations/new/", formulary.formulation_create, name="formulation_new"),
    path("formulary/formulations/<int:formulation_id>/", formulary.formulation_detail, name="formulation"),
    path(
        "formulary/formulations/<int:formulation_id>/edit/", formulary.formulation_edit, name="formulation_edit"
    ),  # fmt: skip
]

notifications_patterns = [
    path("", notifications.undelivered, name="list"),
    path("<int:notification_id>/resend/", notifications.resend, name="resend"),
]

audit_patterns = [
    path("", audit.audit_trail, name="list"),
]

dashboard_patterns = [
    path("", dashboard.dashboard, name="index"),
    path("status/", dashboard.status_counts_partial, name="status"),
]

urlpatterns = [
    path("notifications/", include((notifications_patterns, "notifications"))),
    path("audit/", include((audit_patterns, "audit"))),
    path("dashboard/", include((dashboard_patterns, "dashboard"))),
    path("", include((staff_patterns, "staff"))),
]
