"""POST /api/v1/prescriptions/{id}/actions/{action}/: each action's happy path, 409, 403 and 404."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.utils import timezone

from intake.models import AuditRecord, FinalCheck, FinalCheckMethod, Prescription, PrescriptionEvent
from intake.services.formulary import formulary_install_defaults
from tests.api.conftest import action_url, persona_client, snapshot
from tests.conftest import api_client_for
from tests.factories import clean_answers

ACTIONS = [
    "claim", "request_clarification", "respond", "approve", "reject", "start_compounding",
    "record_compounding", "final_check", "ship", "complete", "cancel", "verify_flag", "request_rescreen",
]  # fmt: skip


def lots_body(**overrides):
    today = timezone.localdate()
    body = {
        "lots": [
            {"ingredient": "Naltrexone HCl USP", "lot": "NTX-24001", "manufacturer": "Medisca",
             "expires": (today + timedelta(days=365)).isoformat()},
            {"ingredient": "Microcrystalline cellulose NF", "lot": "MCC-7781",
             "expires": (today + timedelta(days=400)).isoformat()},
        ],
        "quantity_made": 30,
    }  # fmt: skip
    body.update(overrides)
    return body


BODIES = {
    "claim": {},
    "request_clarification": {"message": "Please confirm the strength for this patient."},
    "respond": {"message": "Confirmed: 4.5 mg."},
    "approve": {"override_reasons": {}},
    "reject": {"reason": "Duplicate of an active order."},
    "start_compounding": {},
    "record_compounding": lots_body(),
    "final_check": {},
    "ship": {"carrier": "UPS", "tracking_number": "1Z999AA10123456784"},
    "complete": {},
    "cancel": {"reason": "The patient asked to cancel."},
    "verify_flag": {"code": "thyroid", "method": "patient_interview",
                    "note": "Spoke with the patient: levothyroxine 50 mcg, TSH checked last month."},
    "request_rescreen": {"message": "The patient says the opioid answer was a mistake."},
}  # fmt: skip
# A prescription to verify a flag on needs a flag: the patient takes thyroid medication (a warning).
FLAGGED = {"verify_flag": clean_answers(thyroid_medication=True)}


def rx_for(rx_at, action, start):
    """rx_at(start), with a flag to verify for verify_flag."""
    return rx_at(start, answers=FLAGGED.get(action))


@pytest.fixture(autouse=True)
def formulary(db):
    formulary_install_defaults()


def act(client, prescription, action, body=None):
    payload = BODIES[action] if body is None else body
    return client.post(action_url(prescription, action), json.dumps(payload), content_type="application/json")


# --- Happy paths -----------------------------------------------------------------------------

HAPPY = [
    ("claim", "pending_review", "pharmacist", "in_review"),
    ("claim", "pending_review", "technician", "in_review"),
    ("request_clarification", "in_review", "pharmacist", "on_hold"),
    ("request_clarification", "pending_review", "pharmacist", "on_hold"),
    ("respond", "on_hold", "prescriber", "pending_review"),
    ("approve", "in_review", "pharmacist", "approved"),
    ("reject", "in_review", "pharmacist", "rejected"),
    ("reject", "pending_review", "pharmacist", "rejected"),
    ("start_compounding", "approved", "technician", "compounding"),
    ("start_compounding", "approved", "pharmacist", "compounding"),
    ("record_compounding", "compounding", "technician", "final_check"),
    ("record_compounding", "compounding", "pharmacist", "final_check"),
    ("final_check", "final_check", "pharmacist", "ready"),
    ("ship", "ready", "technician", "shipped"),
    ("ship", "ready", "pharmacist", "shipped"),
    ("complete", "ready", "technician", "completed"),
    ("complete", "shipped", "pharmacist", "completed"),
    ("cancel", "awaiting_questionnaire", "prescriber", "cancelled"),
    ("cancel", "pending_review", "prescriber", "cancelled"),
    ("cancel", "approved", "pharmacist", "cancelled"),
    ("verify_flag", "in_review", "pharmacist", "in_review"),
    ("request_rescreen", "in_review", "pharmacist", "awaiting_questionnaire"),
    ("request_rescreen", "pending_review", "pharmacist", "awaiting_questionnaire"),
]


@pytest.mark.parametrize(("action", "start", "persona", "end"), HAPPY)
def test_each_action_moves_the_prescription_and_answers_its_json(request, rx_at, action, start, persona, end):
    # given
    prescription = rx_for(rx_at, action, start)

    # when
    response = act(persona_client(request, persona), prescription, action)

    # then
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["id"] == prescription.pk
    assert body["status"] == end
    assert Prescription.objects.get(pk=prescription.pk).status == end
    assert PrescriptionEvent.objects.filter(prescription=prescription, action=action, to_status=end).exists()
    assert AuditRecord.objects.filter(action="action", description=action, object_id=str(prescription.pk)).exists()


def test_every_contract_action_has_a_happy_path_here():
    assert {row[0] for row in HAPPY} == set(ACTIONS)


def test_record_compounding_sets_the_beyond_use_date_capped_by_the_earliest_lot(technician_api, rx_at):
    prescription = rx_at("compounding")
    soon = timezone.localdate() + timedelta(days=20)
    body = lots_body()
    body["lots"][1]["expires"] = soon.isoformat()

    response = act(technician_api, prescription, "record_compounding", body)

    assert response.status_code == 200
    assert response.json()["beyond_use_date"] == soon.isoformat()


def test_record_compounding_answers_a_beyond_use_date_within_usp_795(technician_api, rx_at):
    prescription = rx_at("compounding")

    response = act(technician_api, prescription, "record_compounding")

    bud = response.json()["beyond_use_date"]
    # Capsules are a non-aqueous solid: at most 180 days (USP <795>).
    assert bud is not None
    assert bud <= (timezone.localdate() + timedelta(days=180)).isoformat()


def test_an_expired_lot_is_refused_on_lots(technician_api, rx_at):
    prescription = rx_at("compounding")
    before = snapshot(prescription)
    body = lots_body()
    body["lots"][0]["expires"] = (timezone.localdate() - timedelta(days=1)).isoformat()

    response = act(technician_api, prescription, "record_compounding", body)

    assert response.status_code == 400
    assert response.json()["lots"]
    assert snapshot(prescription) == before


def test_ship_records_carrier_and_tracking(technician_api, rx_at):
    response = act(technician_api, rx_at("ready"), "ship")

    assert response.json()["carrier"] == "UPS"
    assert response.json()["tracking_number"] == "1Z999AA10123456784"


def test_the_prescriber_sees_the_question_and_answers_with_a_correction(prescriber_api, rx_at, prescriber):
    prescription = rx_at("on_hold")
    assert prescriber_api.get(f"/api/v1/prescriptions/{prescription.pk}/").json()["clarifications"][0]["question"]

    response = act(prescriber_api, prescription, "respond",
                   {"message": "Use 3 mg.", "strength_mg": "3",
                    "titration": [{"strength_mg": "1.5", "days": 14}]})  # fmt: skip

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["status"] == "pending_review"
    assert body["strength_mg"] == "3.00"
    assert body["titration"] == [{"strength_mg": "1.50", "days": 14}]
    assert body["altered"] is False
    assert body["clarifications"][0]["response"] == "Use 3 mg."
    assert body["signature_name"] == prescriber.user.get_full_name()


def test_corrections_may_also_come_inside_corrections(prescriber_api, rx_at):
    prescription = rx_at("on_hold")

    response = act(prescriber_api, prescription, "respond", {"message": "Fixed.", "corrections": {"refills": 1}})

    assert response.status_code == 200
    assert response.json()["refills"] == 1


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"message": "Fixed.", "titration": [{"strength_mg": "1.5", "days": 40}]}, "titration"),
        ({"message": "Fixed.", "strength_mg": "0"}, "strength_mg"),
        ({"message": "Fixed.", "refills": 12}, "refills"),
        ({"message": ""}, "message"),
        ({"message": "x" * 1001}, "message"),
        ({"message": "Fixed.", "corrections": {"quantity": 0}}, "corrections.quantity"),
        ({"message": "Fixed.", "refills": 1, "corrections": {"refills": 2}}, "refills"),
        ({"message": "Fixed.", "corrections": "refills=1"}, "corrections.non_field_errors"),
    ],
)
def test_a_wrong_answer_or_correction_is_refused_and_changes_nothing(prescriber_api, rx_at, body, field):
    prescription = rx_at("on_hold")
    before = snapshot(prescription)

    response = act(prescriber_api, prescription, "respond", body)

    assert response.status_code == 400, response.content
    node = response.json()
    for part in field.split("."):
        node = node[part]
    assert node
    assert snapshot(prescription) == before
    assert Prescription.objects.get(pk=prescription.pk).strength_mg == prescription.strength_mg


# --- Approve ---------------------------------------------------------------------------------


def test_approve_with_a_hard_stop_answers_409_and_changes_nothing(pharmacist_api, rx_at):
    prescription = rx_at("in_review", answers=clean_answers(current_medications=["Norco 5/325 prn"]))
    before = snapshot(prescription)

    response = act(pharmacist_api, prescription, "approve", {"override_reasons": {"opioid_use": "I insist."}})

    assert response.status_code == 409
    assert "opioid_use" in response.json()["detail"]
    assert snapshot(prescription) == before


def test_approve_with_a_warning_and_no_reason_answers_400_on_override_reasons(pharmacist_api, rx_at):
    prescription = rx_at("in_review", answers=clean_answers(pregnancy="planning"))
    before = snapshot(prescription)

    for body in ({}, {"override_reasons": {}}, {"override_reasons": {"pregnancy": "  "}}):
        response = act(pharmacist_api, prescription, "approve", body)
        assert response.status_code == 400
        assert "pregnancy" in " ".join(response.json()["override_reasons"])
    assert snapshot(prescription) == before


def test_approve_with_a_reason_for_each_warning_succeeds_and_keeps_the_reasons(pharmacist_api, rx_at):
    prescription = rx_at("in_review", answers=clean_answers(pregnancy="planning"))
    reasons = {"pregnancy": "Discussed contraception; LDN continued with monitoring."}

    response = act(pharmacist_api, prescription, "approve", {"override_reasons": reasons})

    assert response.status_code == 200
    event = PrescriptionEvent.objects.get(prescription=prescription, action="approve")
    assert event.details["override_reasons"] == reasons


@pytest.mark.parametrize("reasons", [["pregnancy"], "because", {"pregnancy": 5}, {"pregnancy": "x" * 1001}, None])
def test_malformed_override_reasons_answer_400(pharmacist_api, rx_at, reasons):
    prescription = rx_at("in_review", answers=clean_answers(pregnancy="planning"))

    response = act(pharmacist_api, prescription, "approve", {"override_reasons": reasons})

    assert response.status_code == 400
    assert response.json()["override_reasons"]


# --- Wrong status: 409, nothing changes ------------------------------------------------------

WRONG_STATUS = [
    ("claim", "awaiting_questionnaire", "pharmacist"),
    ("claim", "in_review", "technician"),
    ("request_clarification", "approved", "pharmacist"),
    ("respond", "pending_review", "prescriber"),
    ("approve", "pending_review", "pharmacist"),
    ("reject", "approved", "pharmacist"),
    ("start_compounding", "in_review", "technician"),
    ("record_compounding", "approved", "technician"),
    ("final_check", "compounding", "pharmacist"),
    ("ship", "final_check", "technician"),
    ("ship", "shipped", "technician"),
    ("complete", "approved", "technician"),
    ("cancel", "compounding", "pharmacist"),
    ("cancel", "completed", "prescriber"),
    ("verify_flag", "pending_review", "pharmacist"),
    ("verify_flag", "approved", "pharmacist"),
    ("request_rescreen", "approved", "pharmacist"),
    ("request_rescreen", "awaiting_questionnaire", "pharmacist"),
]


@pytest.mark.parametrize(("action", "start", "persona"), WRONG_STATUS)
def test_an_action_from_the_wrong_status_answers_409(request, rx_at, action, start, persona):
    prescription = rx_for(rx_at, action, start)
    before = snapshot(prescription)

    response = act(persona_client(request, persona), prescription, action)

    assert response.status_code == 409
    assert response.json()["detail"]
    assert snapshot(prescription) == before


@pytest.mark.parametrize("action", ["request_clarification", "reject", "ship", "cancel", "record_compounding"])
def test_a_wrong_status_answers_409_even_without_a_body(pharmacist_api, rx_at, action):
    prescription = rx_at("completed")

    assert act(pharmacist_api, prescription, action, {}).status_code == 409


def test_every_contract_action_has_a_409_here():
    assert {row[0] for row in WRONG_STATUS} == set(ACTIONS)


# --- Wrong role: 403, nothing changes --------------------------------------------------------

WRONG_ROLE = [
    ("claim", "pending_review", "prescriber"),
    ("request_clarification", "in_review", "technician"),
    ("request_clarification", "in_review", "prescriber"),
    ("respond", "on_hold", "pharmacist"),
    ("approve", "in_review", "technician"),
    ("approve", "in_review", "prescriber"),
    ("approve", "in_review", "pharmacy_admin"),
    ("reject", "in_review", "technician"),
    ("start_compounding", "approved", "prescriber"),
    ("record_compounding", "compounding", "prescriber"),
    ("final_check", "final_check", "technician"),
    ("ship", "ready", "prescriber"),
    ("complete", "ready", "prescriber"),
    ("cancel", "pending_review", "technician"),
    ("verify_flag", "in_review", "technician"),
    ("verify_flag", "in_review", "prescriber"),
    ("verify_flag", "in_review", "pharmacy_admin"),
    ("request_rescreen", "in_review", "technician"),
    ("request_rescreen", "in_review", "prescriber"),
]


@pytest.mark.parametrize(("action", "start", "persona"), WRONG_ROLE)
def test_a_role_that_may_not_act_gets_403(request, rx_at, action, start, persona):
    prescription = rx_for(rx_at, action, start)
    before = snapshot(prescription)

    response = act(persona_client(request, persona), prescription, action)

    assert response.status_code == 403
    assert prescription.patient.last_name not in response.content.decode()
    assert snapshot(prescription) == before


@pytest.mark.parametrize("action", ["approve", "reject", "request_clarification", "verify_flag", "request_rescreen"])
def test_a_wrong_role_answers_403_even_without_a_body(technician_api, rx_at, action):
    assert act(technician_api, rx_at("in_review"), action, {}).status_code == 403


def test_every_contract_action_has_a_403_here():
    assert {row[0] for row in WRONG_ROLE} == set(ACTIONS)


def test_the_compounder_never_final_checks_even_alone_on_duty(pharmacist_api, rx_at, second_pharmacist):
    # given: the pharmacist recorded the compounding; nobody else has signed in for days
    prescription = rx_at("compounding")
    act(pharmacist_api, prescription, "record_compounding")
    before = snapshot(prescription)

    # when
    response = act(pharmacist_api, prescription, "final_check")

    # then: refused, whatever the staffing; the second pharmacist (never signed in) may check it
    assert response.status_code == 403
    assert "another pharmacist" in response.json()["detail"]
    assert snapshot(prescription) == before
    assert not FinalCheck.objects.exists()
    assert act(api_client_for(second_pharmacist), prescription, "final_check").status_code == 200


def test_a_final_check_through_the_api_without_a_body_is_recorded_as_such(rx_at, second_pharmacist):
    prescription = rx_at("final_check")

    response = act(api_client_for(second_pharmacist), prescription, "final_check")

    assert response.status_code == 200
    check = FinalCheck.objects.get(record__prescription=prescription)
    assert (check.checked_by, check.method) == (second_pharmacist, FinalCheckMethod.API)
    assert not check.items.exists()


# --- Not visible: 404 for everything ---------------------------------------------------------

VISIBLE_STATUS = {
    "claim": "pending_review", "request_clarification": "in_review", "respond": "on_hold",
    "approve": "in_review", "reject": "in_review", "start_compounding": "approved",
    "record_compounding": "compounding", "final_check": "final_check", "ship": "ready",
    "complete": "ready", "cancel": "pending_review", "verify_flag": "in_review", "request_rescreen": "in_review",
}  # fmt: skip


@pytest.mark.parametrize("action", ACTIONS)
@pytest.mark.parametrize("body", ["valid", "empty"])
def test_another_prescriber_gets_404_for_every_action(other_prescriber_api, rx_at, action, body):
    prescription = rx_for(rx_at, action, VISIBLE_STATUS[action])
    before = snapshot(prescription)

    response = act(other_prescriber_api, prescription, action, None if body == "valid" else {})

    assert response.status_code == 404
    assert prescription.reference not in response.content.decode()
    assert snapshot(prescription) == before


@pytest.mark.parametrize("action", ACTIONS)
def test_anonymous_gets_401_for_every_action(api, rx_at, action):
    prescription = rx_for(rx_at, action, VISIBLE_STATUS[action])
    before = snapshot(prescription)

    response = act(api, prescription, action)

    assert response.status_code in (401, 403)
    assert snapshot(prescription) == before


@pytest.mark.parametrize("action", ["claim", "approve"])
def test_an_unknown_prescription_answers_404(pharmacist_api, db, action):
    assert act(pharmacist_api, 987654, action).status_code == 404


@pytest.mark.parametrize("name", ["release", "submit", "questionnaire", "delete", "APPROVE", "approve2", ""])
def test_an_unknown_action_answers_404_in_json(pharmacist_api, rx_at, name):
    prescription = rx_at("in_review")

    response = pharmacist_api.post(f"/api/v1/prescriptions/{prescription.pk}/actions/{name}/", {}, format="json")

    assert response.status_code == 404
    assert response.json()["detail"]
    assert Prescription.objects.get(pk=prescription.pk).status == "in_review"


def test_a_non_numeric_id_answers_404(pharmacist_api, db):
    assert pharmacist_api.post("/api/v1/prescriptions/abc/actions/claim/", {}, format="json").status_code == 404


def test_actions_only_take_post(pharmacist_api, rx_at):
    prescription = rx_at("pending_review")

    assert pharmacist_api.get(action_url(prescription, "claim")).status_code == 405
    assert pharmacist_api.delete(action_url(prescription, "claim")).status_code == 405


# --- Bodies ----------------------------------------------------------------------------------

BAD_BODIES = [
    ("request_clarification", "in_review", {"message": ""}, "message"),
    ("request_clarification", "in_review", {"message": "x" * 1001}, "message"),
    ("request_clarification", "in_review", {"message": ["why?"]}, "message"),
    ("reject", "in_review", {}, "reason"),
    ("reject", "in_review", {"reason": None}, "reason"),
    ("cancel", "pending_review", {"reason": "   "}, "reason"),
    ("ship", "ready", {"carrier": "UPS"}, "tracking_number"),
    ("ship", "ready", {"carrier": "", "tracking_number": "1Z"}, "carrier"),
    ("ship", "ready", {"carrier": "UPS", "tracking_number": "x" * 61}, "tracking_number"),
    ("record_compounding", "compounding", {"quantity_made": 30}, "lots"),
    ("record_compounding", "compounding", lots_body(lots=[]), "lots"),
    ("record_compounding", "compounding", lots_body(quantity_made=0), "quantity_made"),
    ("record_compounding", "compounding", lots_body(quantity_made="thirty"), "quantity_made"),
    (
        "record_compounding",
        "compounding",
        lots_body(lots=[{"ingredient": "Naltrexone", "lot": "1", "expires": "2030-02-30"}]),
        "lots",
    ),  # fmt: skip
    ("record_compounding", "compounding", lots_body(lots="NTX-1"), "lots"),
    ("request_rescreen", "in_review", {"message": "  "}, "message"),
    ("request_rescreen", "in_review", {}, "message"),
    ("verify_flag", "in_review", {"method": "pdmp_reviewed", "note": "PDMP shows nothing for a year."}, "code"),
    (
        "verify_flag",
        "in_review",
        {"code": "opioid_use", "method": "telepathy", "note": "I just know it is fine."},
        "method",
    ),
    ("verify_flag", "in_review", {"code": "opioid_use", "method": "pdmp_reviewed"}, "note"),
    ("verify_flag", "in_review", {"code": "opioid_use", "method": "pdmp_reviewed", "note": ""}, "note"),
    (
        "record_compounding",
        "compounding",
        lots_body(lots=[{"ingredient": "Cellulose", "lot": "1", "expires": "2099-01-01"}]),
        "lots",
    ),  # fmt: skip
]


@pytest.mark.parametrize(("action", "start", "body", "field"), BAD_BODIES)
def test_a_bad_body_answers_400_on_its_field_and_changes_nothing(pharmacist_api, rx_at, action, start, body, field):
    prescription = rx_at(start)
    before = snapshot(prescription)

    response = act(pharmacist_api, prescription, action, body)

    assert response.status_code == 400, response.content
    assert response.json()[field]
    assert snapshot(prescription) == before


@pytest.mark.parametrize("body", ["[]", "null", "42", '"claim"', "{bad json"])
def test_odd_bodies_never_500(pharmacist_api, rx_at, body):
    prescription = rx_at("pending_review")

    response = pharmacist_api.post(action_url(prescription, "claim"), body, content_type="application/json")

    assert response.status_code in (200, 400)


def test_an_empty_body_is_fine_where_none_is_needed(pharmacist_api, rx_at):
    prescription = rx_at("pending_review")

    assert pharmacist_api.post(action_url(prescription, "claim")).status_code == 200
