from django.urls import path

from intake.views import staff, staff_compounding, staff_fills, staff_formulary, staff_licences

app_name = "staff"
urlpatterns = [
    path("queue/", staff.queue, name="queue"),
    path("queue/counts/", staff.queue_counts_partial, name="queue_counts"),
    path("queue/next/", staff.claim_next, name="claim_next"),
    # The review page with the prescription's fills (staff_fills.review adds them to staff's context).
    path("prescriptions/<int:prescription_id>/", staff_fills.review, name="review"),
    path("prescriptions/<int:prescription_id>/claim/", staff.claim, name="claim"),
    path("prescriptions/<int:prescription_id>/release/", staff.release, name="release"),
    path("prescriptions/<int:prescription_id>/approve/", staff.approve, name="approve"),
    path("prescriptions/<int:prescription_id>/reject/", staff.reject, name="reject"),
    path("prescriptions/<int:prescription_id>/clarify/", staff.request_clarification, name="request_clarification"),
    path("prescriptions/<int:prescription_id>/cancel/", staff.cancel, name="cancel"),
    path("prescriptions/<int:prescription_id>/verify-flag/", staff.verify_flag, name="verify_flag"),
    path("prescriptions/<int:prescription_id>/rescreen/", staff.request_rescreen, name="request_rescreen"),
    path("prescriptions/<int:prescription_id>/start/", staff_compounding.start_compounding, name="start_compounding"),
    path("prescriptions/<int:prescription_id>/compounding/", staff_compounding.compounding_record, name="compounding"),
    path("prescriptions/<int:prescription_id>/final-check/", staff_compounding.final_check, name="final_check"),
    path("prescriptions/<int:prescription_id>/ship/", staff_compounding.ship, name="ship"),
    path("prescriptions/<int:prescription_id>/complete/", staff_compounding.complete, name="complete"),
    path("prescriptions/<int:prescription_id>/label.pdf", staff_compounding.label_pdf, name="label_pdf"),
    path("prescriptions/<int:prescription_id>/worksheet.pdf", staff_compounding.worksheet_pdf, name="worksheet_pdf"),
    path("prescriptions/<int:prescription_id>/recompound/", staff_compounding.recompound, name="recompound"),
    path(
        "prescriptions/<int:prescription_id>/fills/<int:number>/label.pdf",
        staff_compounding.fill_label_pdf,
        name="fill_label_pdf",
    ),
    path(
        "prescriptions/<int:prescription_id>/fills/<int:number>/worksheet.pdf",
        staff_compounding.fill_worksheet_pdf,
        name="fill_worksheet_pdf",
    ),
    path("prescriptions/<int:prescription_id>/refill/", staff_fills.refill_start, name="refill_start"),
    path("prescriptions/<int:prescription_id>/renewal/", staff_fills.renewal_ask, name="renewal_ask"),
    path("follow-ups/", staff_fills.follow_ups, name="follow_ups"),
    path("follow-ups/<int:follow_up_id>/review/", staff_fills.follow_up_reviewed, name="follow_up_review"),
    path("licences/", staff_licences.licences, name="licences"),
    path("licences/new/", staff_licences.licence_create, name="licence_new"),
    path("licences/<int:licence_id>/edit/", staff_licences.licence_edit, name="licence_edit"),
    path("formulary/", staff_formulary.formulary, name="formulary"),
    path("formulary/formulations/new/", staff_formulary.formulation_create, name="formulation_new"),
    path("formulary/formulations/<int:formulation_id>/", staff_formulary.formulation_detail, name="formulation"),
    path(
        "formulary/formulations/<int:formulation_id>/edit/", staff_formulary.formulation_edit, name="formulation_edit"
    ),  # fmt: skip
]
