"""Refills, renewals and the check-in on the JSON API: prescriber, pharmacy and patient."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

from intake.links import questionnaire_url
from intake.models import (
    Fill,
    FollowUp,
    Notification,
    NotificationEvent,
    Prescription,
    RenewalRequest,
    RenewalStatus,
)
from intake.services.prescriptions import Signature
from intake.services.refills import renewal_approve, renewal_deny
from intake.services.timers import follow_ups_send
from tests.conftest import api_client_for, api_client_signed_in_now
from tests.factories import api_payload, make_prescription
from tests.refills.dispensing import REFILL_AFTER_DAYS, days_later, dispensed, waiting_renewal

BIRTH_DATE = "1980-02-29"  # tests.factories.patient_details


def refill_url(prescription: Prescription) -> str:
    return f"/api/v1/prescriptions/{prescription.pk}/refill/"


def renewal_request_url(prescription: Prescription) -> str:
    return f"/api/v1/prescriptions/{prescription.pk}/renewal-request/"


def approve_url(renewal: RenewalRequest) -> str:
    return f"/api/v1/renewals/{renewal.pk}/approve/"


def deny_url(renewal: RenewalRequest) -> str:
    return f"/api/v1/renewals/{renewal.pk}/deny/"


def fills_of(prescription: Prescription) -> list[tuple[int, str]]:
    return list(Fill.objects.filter(prescription=prescription).values_list("number", "status"))


def state_of(prescription: Prescription) -> tuple[object, ...]:
    fresh = Prescription.objects.get(pk=prescription.pk)
    return fresh.status, fresh.fill_number, fresh.refills_used, fills_of(fresh), fresh.events.count()


@pytest.fixture
def handed_over(prescriber, pharmacist, technician) -> Prescription:
    return dispensed(prescriber, pharmacist=pharmacist, technician=technician, refills=3)


@pytest.fixture
def out_of_refills(prescriber, pharmacist, technician) -> Prescription:
    return dispensed(prescriber, pharmacist=pharmacist, technician=technician, refills=0)


# --- The prescription's JSON -------------------------------------------------------------------


def test_the_prescription_json_shows_fills_refills_and_expiry(prescriber_api, handed_over):
    response = prescriber_api.get(f"/api/v1/prescriptions/{handed_over.pk}/")

    assert response.status_code == 200
    body = response.json()
    assert body["fill_number"] == 1
    assert body["refills_used"] == 0
    assert body["refills_left"] == 3
    assert body["renewed_from"] is None
    written = timezone.localdate(handed_over.signed_at)
    assert body["expires_on"] == written.replace(year=written.year + 1).isoformat()
    [fill] = body["fills"]
    assert fill["number"] == 1
    assert fill["status"] == "completed"
    assert fill["requested_by"] == "prescription"
    assert fill["dispensed_at"] is not None
    assert fill["beyond_use_date"] == handed_over.beyond_use_date.isoformat()
    # The prescription's own keys are still there beside the refill ones.
    assert {"id", "reference", "status", "flags", "questionnaire_url", "beyond_use_date"} <= set(body)


def test_the_create_answer_carries_the_first_fill(prescriber_api):
    response = prescriber_api.post("/api/v1/prescriptions/", api_payload(), format="json")

    assert response.status_code == 201
    body = response.json()
    assert body["fill_number"] == 1
    assert body["refills_left"] == 3
    assert [f["status"] for f in body["fills"]] == ["awaiting_questionnaire"]


def _list_queries(client: APIClient) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get("/api/v1/prescriptions/", {"page_size": 100})
    assert response.status_code == 200
    return len(queries)


def test_the_list_costs_the_same_queries_for_1_and_20_prescriptions(prescriber, prescriber_api, pharmacist, technician):
    # given one prescription, measured; then 19 more, among them a handed-over one and its renewal
    make_prescription(prescriber)
    one = _list_queries(prescriber_api)
    old = dispensed(prescriber, pharmacist=pharmacist, technician=technician, refills=0)
    renewal_approve(renewal_id=waiting_renewal(old).pk, actor=prescriber.user, refills=2,
                    signature=Signature(name="Grace Hopper", attested=True))  # fmt: skip
    for _ in range(17):
        make_prescription(prescriber)

    # when
    twenty = _list_queries(prescriber_api)

    # then
    assert Prescription.objects.filter(prescriber=prescriber).count() == 20
    assert twenty == one


# --- Refills -----------------------------------------------------------------------------------


def test_the_prescriber_asks_for_a_refill_once_75_percent_has_passed(prescriber_api, handed_over):
    with time_machine.travel(days_later(REFILL_AFTER_DAYS), tick=False):
        response = prescriber_api.post(refill_url(handed_over), format="json")

    # Every refill waits for the patient's short re-screen first, through a new link.
    assert response.status_code == 201
    body = response.json()
    assert body["status"] == "awaiting_questionnaire"
    assert body["questionnaire_url"] != questionnaire_url(handed_over)
    assert body["fill_number"] == 2
    assert body["refills_used"] == 1
    assert body["refills_left"] == 2
    assert [(f["number"], f["status"], f["requested_by"]) for f in body["fills"]] == [
        (1, "completed", "prescription"),
        (2, "awaiting_questionnaire", "prescriber"),
    ]


@pytest.mark.parametrize("persona", ["pharmacist", "technician"])
def test_pharmacy_staff_ask_for_a_refill_for_the_pharmacy(request, persona, handed_over):
    staff = request.getfixturevalue(persona)

    with time_machine.travel(days_later(REFILL_AFTER_DAYS), tick=False):
        response = api_client_signed_in_now(staff).post(refill_url(handed_over), format="json")

    assert response.status_code == 201
    assert response.json()["fills"][-1]["requested_by"] == "pharmacy"


def test_too_soon_answers_409_with_the_date_and_changes_nothing(prescriber_api, handed_over):
    before = state_of(handed_over)
    possible = timezone.localdate() + timedelta(days=REFILL_AFTER_DAYS)

    with time_machine.travel(days_later(REFILL_AFTER_DAYS - 1), tick=False):
        response = prescriber_api.post(refill_url(handed_over), format="json")

    assert response.status_code == 409
    detail = response.json()["detail"]
    assert "Too soon" in detail
    assert possible.strftime("%B") in detail and str(possible.day) in detail and str(possible.year) in detail
    assert state_of(handed_over) == before


def test_no_refill_after_one_year(prescriber, handed_over):
    before = state_of(handed_over)

    with time_machine.travel(days_later(366), tick=False):
        response = api_client_signed_in_now(prescriber.user).post(refill_url(handed_over), format="json")

    assert response.status_code == 409
    assert "valid until" in response.json()["detail"]
    assert state_of(handed_over) == before


def test_no_refill_left_points_to_a_renewal(prescriber_api, out_of_refills):
    before = state_of(out_of_refills)

    with time_machine.travel(days_later(REFILL_AFTER_DAYS), tick=False):
        response = prescriber_api.post(refill_url(out_of_refills), format="json")

    assert response.status_code == 409
    assert "renew" in response.json()["detail"]
    assert state_of(out_of_refills) == before


def test_another_prescriber_gets_404_like_an_unknown_id(other_prescriber_api, handed_over):
    before = state_of(handed_over)

    with time_machine.travel(days_later(REFILL_AFTER_DAYS), tick=False):
        theirs = other_prescriber_api.post(refill_url(handed_over), format="json")
        unknown = other_prescriber_api.post("/api/v1/prescriptions/987654321/refill/", format="json")

    assert theirs.status_code == unknown.status_code == 404
    assert theirs.json() == unknown.json()
    assert state_of(handed_over) == before


def test_the_pharmacy_admin_may_not_ask_for_a_refill(pharmacy_admin, handed_over):
    before = state_of(handed_over)

    with time_machine.travel(days_later(REFILL_AFTER_DAYS), tick=False):
        response = api_client_for(pharmacy_admin).post(refill_url(handed_over), format="json")

    assert response.status_code == 403
    assert state_of(handed_over) == before


def test_asking_twice_opens_one_fill(prescriber_api, pharmacist, handed_over):
    with time_machine.travel(days_later(REFILL_AFTER_DAYS), tick=False):
        first = prescriber_api.post(refill_url(handed_over), format="json")
        second = api_client_signed_in_now(pharmacist).post(refill_url(handed_over), format="json")

    assert first.status_code == 201
    assert second.status_code == 409
    assert [number for number, _ in fills_of(handed_over)] == [1, 2]


def test_without_a_token_401(api, handed_over):
    response = api.post(refill_url(handed_over), format="json")

    assert response.status_code == 401


# --- Renewal requests --------------------------------------------------------------------------


def test_the_prescriber_asks_for_a_renewal_and_asking_again_answers_the_same(prescriber_api, out_of_refills):
    first = prescriber_api.post(renewal_request_url(out_of_refills), format="json")
    second = prescriber_api.post(renewal_request_url(out_of_refills), format="json")

    assert first.status_code == 201
    body = first.json()
    assert set(body) >= {"id", "status", "requested_at", "requested_by", "new_prescription", "denial_reason"}
    assert body["status"] == "pending"
    assert body["requested_by"] == "prescriber"
    assert body["new_prescription"] is None
    assert body["prescription"] == out_of_refills.reference
    assert second.status_code == 200
    assert second.json()["id"] == body["id"]
    assert RenewalRequest.objects.filter(prescription=out_of_refills).count() == 1


def test_the_pharmacy_asks_for_a_renewal(technician_api, out_of_refills):
    response = technician_api.post(renewal_request_url(out_of_refills), format="json")

    assert response.status_code == 201
    assert response.json()["requested_by"] == "pharmacy"
    assert Notification.objects.filter(prescription=out_of_refills, event=NotificationEvent.RENEWAL_REQUESTED).exists()


def test_no_renewal_while_refills_are_left(prescriber_api, handed_over):
    response = prescriber_api.post(renewal_request_url(handed_over), format="json")

    assert response.status_code == 409
    assert "refill" in response.json()["detail"]
    assert not RenewalRequest.objects.exists()


def test_another_prescriber_cannot_ask_for_a_renewal(other_prescriber_api, out_of_refills):
    response = other_prescriber_api.post(renewal_request_url(out_of_refills), format="json")

    assert response.status_code == 404
    assert not RenewalRequest.objects.exists()


def test_the_renewal_list_shows_each_prescriber_their_own_and_staff_all(
    prescriber_api, other_prescriber_api, pharmacist_api, out_of_refills
):
    renewal = waiting_renewal(out_of_refills)

    mine = prescriber_api.get("/api/v1/renewals/")
    theirs = other_prescriber_api.get("/api/v1/renewals/")
    staff = pharmacist_api.get("/api/v1/renewals/")

    assert mine.status_code == theirs.status_code == staff.status_code == 200
    assert [r["id"] for r in mine.json()] == [renewal.pk]
    assert theirs.json() == []
    assert [r["id"] for r in staff.json()] == [renewal.pk]
    assert mine.json()[0]["requested_by"] == "patient"


# --- Deciding a renewal ------------------------------------------------------------------------


def test_approving_signs_a_new_prescription_linked_to_the_old(prescriber_api, out_of_refills):
    renewal = waiting_renewal(out_of_refills)

    response = prescriber_api.post(
        approve_url(renewal), {"signature_name": "Grace Hopper", "attestation": True, "refills": 5}, format="json"
    )

    assert response.status_code == 201
    body = response.json()
    new = Prescription.objects.get(pk=body["id"])
    assert body["renewed_from"] == out_of_refills.reference
    assert body["altered"] is False and not new.is_altered
    assert body["refills"] == 5 and body["refills_left"] == 5
    assert body["status"] == "awaiting_questionnaire"
    assert body["titration"] == []
    assert new.renewed_from_id == out_of_refills.pk
    assert new.signature_name == "Grace Hopper"
    renewal.refresh_from_db()
    assert renewal.status == RenewalStatus.APPROVED
    assert renewal.new_prescription_id == new.pk
    assert Notification.objects.filter(prescription=new, event=NotificationEvent.QUESTIONNAIRE_INVITATION).exists()


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"signature_name": "Grace Hopper", "attestation": False, "refills": 1}, "attestation"),
        ({"signature_name": "Someone Else", "attestation": True, "refills": 1}, "signature_name"),
        ({"signature_name": "Grace Hopper", "attestation": True, "refills": 12}, "refills"),
        ({"attestation": True, "refills": 1}, "signature_name"),
    ],
)
def test_a_wrong_approval_says_which_field_and_changes_nothing(prescriber_api, out_of_refills, body, field):
    renewal = waiting_renewal(out_of_refills)
    count = Prescription.objects.count()

    response = prescriber_api.post(approve_url(renewal), body, format="json")

    assert response.status_code == 400
    assert field in response.json()
    assert Prescription.objects.count() == count
    renewal.refresh_from_db()
    assert renewal.status == RenewalStatus.PENDING


@pytest.mark.parametrize("persona", ["other_prescriber", "pharmacist", "technician"])
def test_only_the_prescriber_decides(request, persona, out_of_refills):
    renewal = waiting_renewal(out_of_refills)
    client = request.getfixturevalue(f"{persona}_api")
    count = Prescription.objects.count()

    approve = client.post(approve_url(renewal), {"signature_name": "X Hopper", "attestation": True, "refills": 1},
                          format="json")  # fmt: skip
    deny = client.post(deny_url(renewal), {"reason": "No."}, format="json")

    assert approve.status_code == deny.status_code == 404
    assert Prescription.objects.count() == count
    renewal.refresh_from_db()
    assert renewal.status == RenewalStatus.PENDING


def test_a_decided_renewal_answers_409(prescriber_api, out_of_refills):
    renewal = waiting_renewal(out_of_refills)
    body = {"signature_name": "Grace Hopper", "attestation": True, "refills": 1}
    assert prescriber_api.post(approve_url(renewal), body, format="json").status_code == 201
    count = Prescription.objects.count()

    again = prescriber_api.post(approve_url(renewal), body, format="json")
    deny = prescriber_api.post(deny_url(renewal), {"reason": "Changed my mind."}, format="json")

    assert again.status_code == deny.status_code == 409
    assert Prescription.objects.count() == count


def test_denying_records_the_reason_and_tells_the_patient(prescriber_api, out_of_refills):
    renewal = waiting_renewal(out_of_refills)

    response = prescriber_api.post(deny_url(renewal), {"reason": "Needs a visit first."}, format="json")

    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "denied"
    assert body["denial_reason"] == "Needs a visit first."
    assert Notification.objects.filter(
        prescription=out_of_refills, event=NotificationEvent.RENEWAL_DENIED, audience="patient"
    ).exists()


def test_denying_needs_a_reason(prescriber_api, out_of_refills):
    renewal = waiting_renewal(out_of_refills)

    response = prescriber_api.post(deny_url(renewal), {"reason": "  "}, format="json")

    assert response.status_code == 400
    assert "reason" in response.json()
    renewal.refresh_from_db()
    assert renewal.status == RenewalStatus.PENDING


# --- The patient's twins -----------------------------------------------------------------------


def test_the_status_json_tells_the_patient_when_a_refill_is_possible(api, handed_over):
    response = api.get("/api/v1/status/", {"reference": handed_over.reference, "date_of_birth": BIRTH_DATE})

    assert response.status_code == 200
    body = response.json()
    assert body["fill_number"] == 1
    assert body["refills_left"] == 3
    assert body["refill_possible_from"] == (timezone.localdate() + timedelta(days=REFILL_AFTER_DAYS)).isoformat()
    assert body["renewal"] is None


def test_the_patient_asks_for_a_refill_with_reference_and_birth_date(api, handed_over):
    with time_machine.travel(days_later(REFILL_AFTER_DAYS), tick=False):
        response = api.post("/api/v1/status/refill/", {"reference": handed_over.reference,
                                                        "date_of_birth": BIRTH_DATE}, format="json")  # fmt: skip

    assert response.status_code == 201
    body = response.json()
    assert body["status"] == "awaiting_questionnaire"
    assert body["fill_number"] == 2
    assert body["refills_left"] == 2
    assert body["refill_possible_from"] is None
    assert Fill.objects.get(prescription=handed_over, number=2).requested_by == "patient"


def test_a_wrong_pair_answers_404_and_changes_nothing(api, handed_over):
    before = state_of(handed_over)

    with time_machine.travel(days_later(REFILL_AFTER_DAYS), tick=False):
        refill = api.post("/api/v1/status/refill/", {"reference": handed_over.reference,
                                                      "date_of_birth": "1980-03-01"}, format="json")  # fmt: skip
        renewal = api.post("/api/v1/status/renewal/", {"reference": "RX-0000000", "date_of_birth": BIRTH_DATE},
                           format="json")  # fmt: skip

    assert refill.status_code == renewal.status_code == 404
    assert state_of(handed_over) == before
    assert not RenewalRequest.objects.exists()


def test_the_patient_is_told_when_it_is_too_soon(api, handed_over):
    response = api.post("/api/v1/status/refill/", {"reference": handed_over.reference, "date_of_birth": BIRTH_DATE},
                        format="json")  # fmt: skip

    assert response.status_code == 409
    assert "you can ask for one from" in response.json()["detail"]


def test_the_patient_asks_for_a_renewal_once(api, out_of_refills):
    body = {"reference": out_of_refills.reference, "date_of_birth": BIRTH_DATE}

    first = api.post("/api/v1/status/renewal/", body, format="json")
    second = api.post("/api/v1/status/renewal/", body, format="json")

    assert first.status_code == second.status_code == 201
    assert first.json()["renewal"] == "pending"
    assert first.json()["refills_left"] == 0
    assert RenewalRequest.objects.filter(prescription=out_of_refills).count() == 1
    assert Notification.objects.filter(prescription=out_of_refills, event=NotificationEvent.RENEWAL_REQUESTED).count()


def test_the_patient_cannot_ask_for_a_renewal_while_refills_are_left(api, handed_over):
    response = api.post("/api/v1/status/renewal/", {"reference": handed_over.reference, "date_of_birth": BIRTH_DATE},
                        format="json")  # fmt: skip

    assert response.status_code == 409
    assert not RenewalRequest.objects.exists()


# --- The check-in's JSON twin ------------------------------------------------------------------


@pytest.fixture
def check_in(handed_over) -> FollowUp:
    follow_ups_send(now=days_later(15))
    return FollowUp.objects.get(prescription=handed_over)


def answers(**overrides: object) -> dict[str, object]:
    body: dict[str, object] = {
        "date_of_birth": BIRTH_DATE, "sleep_problems": "none", "vivid_dreams": "none", "nausea": "none",
        "headache": "none", "other_effects": "", "wants_call": False,
    }  # fmt: skip
    body.update(overrides)
    return body


def test_the_check_in_answers_with_the_advice(api, check_in):
    response = api.post(f"/api/v1/check-ins/{check_in.token}/", answers(sleep_problems="mild"), format="json")

    assert response.status_code == 200
    body = response.json()
    assert body["needs_pharmacist"] is False
    assert any("morning" in text.lower() for text in body["advice"])
    check_in.refresh_from_db()
    assert check_in.answered_at is not None
    assert check_in.sleep_problems == "mild"


def test_a_bothersome_symptom_needs_a_pharmacist(api, check_in):
    response = api.post(f"/api/v1/check-ins/{check_in.token}/", answers(nausea="bothersome"), format="json")

    assert response.status_code == 200
    assert response.json()["needs_pharmacist"] is True


def test_a_wrong_birth_date_answers_400_and_changes_nothing(api, check_in):
    response = api.post(f"/api/v1/check-ins/{check_in.token}/", answers(date_of_birth="1980-03-01"), format="json")

    assert response.status_code == 400
    assert "date_of_birth" in response.json()
    check_in.refresh_from_db()
    assert check_in.answered_at is None


def test_a_wrong_level_says_which_field(api, check_in):
    response = api.post(f"/api/v1/check-ins/{check_in.token}/", answers(headache="terrible"), format="json")

    assert response.status_code == 400
    assert "headache" in response.json()


def test_an_unknown_check_in_answers_404(api, check_in):
    response = api.post("/api/v1/check-ins/unknown-token-0123456789/", answers(), format="json")

    assert response.status_code == 404


def test_an_expired_check_in_answers_410(api, check_in):
    with time_machine.travel(check_in.expires_at + timedelta(minutes=1), tick=False):
        response = api.post(f"/api/v1/check-ins/{check_in.token}/", answers(), format="json")

    assert response.status_code == 410
    check_in.refresh_from_db()
    assert check_in.answered_at is None


# --- The schema --------------------------------------------------------------------------------


def test_the_schema_documents_the_new_endpoints(db, api):
    paths = api.get("/api/schema/", {"format": "json"}).json()["paths"]

    assert "post" in paths["/api/v1/prescriptions/{id}/refill/"]
    assert "post" in paths["/api/v1/prescriptions/{id}/renewal-request/"]
    assert "get" in paths["/api/v1/renewals/"]
    assert "post" in paths["/api/v1/renewals/{renewal_id}/approve/"]
    assert "post" in paths["/api/v1/renewals/{renewal_id}/deny/"]
    assert "post" in paths["/api/v1/status/refill/"]
    assert "post" in paths["/api/v1/status/renewal/"]
    assert "post" in paths["/api/v1/check-ins/{check_in_token}/"]
    assert "409" in paths["/api/v1/prescriptions/{id}/refill/"]["post"]["responses"]


def test_the_status_json_names_the_newest_renewal_and_its_prescription(api, prescriber, out_of_refills):
    # given a renewal denied, then asked again and approved
    renewal_deny(renewal_id=waiting_renewal(out_of_refills).pk, actor=prescriber.user, reason="Seen in clinic first")
    with time_machine.travel(days_later(1), tick=False):
        new = renewal_approve(renewal_id=waiting_renewal(out_of_refills).pk, actor=prescriber.user, refills=2,
                              signature=Signature(name="Grace Hopper", attested=True))  # fmt: skip

    # when
    with time_machine.travel(days_later(2), tick=False):
        body = api.get("/api/v1/status/", {"reference": out_of_refills.reference, "date_of_birth": BIRTH_DATE}).json()

    # then the approved request, the newer of the two, is the one the patient reads
    assert body["renewal"] == "approved"
    assert body["renewed_as"] == new.reference
    assert body["refills_left"] == 0
