"""Every workflow action, allowed and refused, per role and per status (the TRANSITIONS table)."""

from __future__ import annotations

import pytest
from django.db import transaction

from accounts.models import Role
from intake.errors import Conflict, Forbidden, NotFound
from intake.models import OWNER, TRANSITIONS, Action, Notification, Prescription, PrescriptionEvent, PrescriptionStatus
from intake.services import workflow
from intake.services.batches import prescription_fill_from_batch
from intake.services.compounding import compounding_record_create
from tests.factories import make_prescription
from tests.workflow_helpers import advance, default_lots, released_batch, warning_reasons

S = PrescriptionStatus
ROLES = ("pharmacist", "technician", "admin", "owner", "other_prescriber")
# Taken by the patient, the clock or the carrier's tracking, and (refills) only once time has passed:
# tests/refills and tests/clock cover them with time travel, tests/shipping the carrier's delivery.
# The patient's answer to a price: tests/pricing. Here: no account may take them directly.
NOT_STAFF_ACTIONS = (
    Action.QUESTIONNAIRE, Action.EXPIRE, Action.REFILL_LAPSE, Action.DELIVERED,
    Action.PRICE_CONSENT, Action.PRICE_DECLINE, Action.PRICE_DECLINE_REFILL,
)  # fmt: skip
TIME_BOUND_ACTIONS = (Action.REFILL_RESCREEN,)
# A flag to verify: the patient takes thyroid medication (a warning).
FLAGGED_ANSWERS = {Action.VERIFY_FLAG: {"thyroid_medication": True}}
# A fill from a batch is of one strength: the prescription has no titration.
CONTENT = {Action.FILL_FROM_BATCH: {"titration": ()}}


def perform(action: str, prescription: Prescription, actor) -> Prescription:
    """Take one action through its public service, with valid input."""
    pk = prescription.pk
    calls = {
        Action.CLAIM: lambda: workflow.prescription_claim(prescription_id=pk, actor=actor),
        Action.RELEASE: lambda: workflow.prescription_release(prescription_id=pk, actor=actor),
        Action.REQUEST_CLARIFICATION: lambda: workflow.prescription_request_clarification(
            prescription_id=pk, actor=actor, message="Is 4.5 mg intended?"
        ),
        Action.RESPOND: lambda: workflow.prescription_respond(prescription_id=pk, actor=actor, message="Yes."),
        Action.APPROVE: lambda: workflow.prescription_approve(
            prescription_id=pk, actor=actor, override_reasons=warning_reasons(prescription)
        ),
        Action.REJECT: lambda: workflow.prescription_reject(
            prescription_id=pk, actor=actor, reason="Not LDN: the strength is the full 50 mg dose."
        ),
        Action.START_COMPOUNDING: lambda: workflow.prescription_start_compounding(prescription_id=pk, actor=actor),
        Action.RECORD_COMPOUNDING: lambda: compounding_record_create(
            prescription_id=pk, actor=actor, lots=default_lots(), quantity_made=30
        ),
        Action.FINAL_CHECK: lambda: workflow.prescription_final_check(prescription_id=pk, actor=actor),
        Action.SHIP: lambda: workflow.prescription_ship(
            prescription_id=pk, actor=actor, carrier="USPS", tracking_number="9400100000000000000000"
        ),
        Action.COMPLETE: lambda: workflow.prescription_complete(prescription_id=pk, actor=actor),
        Action.CANCEL: lambda: workflow.prescription_cancel(prescription_id=pk, actor=actor, reason="Not needed."),
        Action.RECOMPOUND: lambda: workflow.prescription_recompound(
            prescription_id=pk, actor=actor, reason="Vial cracked."
        ),
        Action.RECALL_REMAKE: lambda: workflow.prescription_recall_remake(
            prescription_id=pk, actor=actor, message="Naltrexone lot NTX-24001 recalled by the supplier."
        ),
        Action.VERIFY_FLAG: lambda: workflow.prescription_verify_flag(
            prescription_id=pk, actor=actor, code="thyroid", method="patient_interview",
            note="Spoke with the patient: levothyroxine 50 mcg, TSH checked last month.",
        ),
        Action.REQUEST_RESCREEN: lambda: workflow.prescription_request_rescreen(
            prescription_id=pk, actor=actor, message="The patient says the opioid answer was a mistake."
        ),
        Action.FILL_FROM_BATCH: lambda: prescription_fill_from_batch(
            prescription_id=pk, actor=actor, batch_id=released_batch().pk
        ),
    }  # fmt: skip
    if action in NOT_STAFF_ACTIONS:
        with transaction.atomic():
            return workflow.transition(prescription_id=pk, action=action, actor=actor, actor_label="test")
    return calls[action]()


def role_allowed(action: str, role: str) -> bool:
    actors = TRANSITIONS[action].actors
    return (role == "owner" and OWNER in actors) or (role in (Role.PHARMACIST, Role.TECHNICIAN) and role in actors)


def expected_refusal(action: str, status: str, role: str) -> type[Exception] | None:
    """None when the action succeeds; else the error the services answer with."""
    if role == "other_prescriber":
        return NotFound  # another prescriber's prescription does not exist for them
    if not role_allowed(action, role):
        return Forbidden
    if status not in TRANSITIONS[action].sources:
        return Conflict
    if action == Action.RELEASE and role == "technician":
        return Forbidden  # only the claimer (the pharmacist, in advance()) or a pharmacist releases
    return None


@pytest.fixture
def actors(pharmacist, technician, pharmacy_admin, prescriber, other_prescriber):
    return {
        "pharmacist": pharmacist,
        "technician": technician,
        "admin": pharmacy_admin,
        "owner": prescriber.user,
        "other_prescriber": other_prescriber.user,
    }


def snapshot(prescription: Prescription) -> tuple:
    fresh = Prescription.objects.get(pk=prescription.pk)
    return (
        fresh.status,
        fresh.claimed_by_id,
        fresh.beyond_use_date,
        fresh.carrier,
        PrescriptionEvent.objects.filter(prescription=prescription).count(),
        Notification.objects.filter(prescription=prescription).count(),
        fresh.compounding_records.count(),
        fresh.clarifications.count(),
    )


REFUSED_CASES = [
    (action, status)
    for action in TRANSITIONS
    if action not in TIME_BOUND_ACTIONS
    for status in S.values
    if any(expected_refusal(action, status, role) for role in ROLES)
]
ALLOWED_CASES = [
    (action, status, role)
    for action in TRANSITIONS
    if action not in TIME_BOUND_ACTIONS
    for status in sorted(TRANSITIONS[action].sources)
    for role in ROLES
    if expected_refusal(action, status, role) is None
]


@pytest.mark.parametrize(("action", "status"), REFUSED_CASES)
def test_refused_action_changes_nothing(action, status, actors, prescriber, pharmacist, technician):
    # given
    prescription = advance(make_prescription(prescriber, **CONTENT.get(action, {})), status, pharmacist=pharmacist,
                           technician=technician, answers=_answers(**FLAGGED_ANSWERS.get(action, {})))  # fmt: skip
    before = snapshot(prescription)
    refused_roles = [role for role in ROLES if expected_refusal(action, status, role)]

    for role in refused_roles:
        # when
        with pytest.raises(expected_refusal(action, status, role)):
            perform(action, prescription, actors[role])
        # then
        assert snapshot(prescription) == before, f"{role} changed something with {action} from {status}"


def test_questionnaire_action_needs_the_patients_link(prescriber, pharmacist):
    prescription = make_prescription(prescriber)
    before = snapshot(prescription)

    with pytest.raises(Forbidden):
        perform(Action.QUESTIONNAIRE, prescription, pharmacist)

    assert snapshot(prescription) == before


@pytest.mark.parametrize(("action", "status", "role"), [c for c in ALLOWED_CASES if c[0] not in NOT_STAFF_ACTIONS])
def test_allowed_action_moves_to_its_target_and_records_an_event(
    action, status, role, actors, prescriber, pharmacist, technician
):
    # given
    prescription = advance(make_prescription(prescriber, **CONTENT.get(action, {})), status, pharmacist=pharmacist,
                           technician=technician, answers=_answers(**FLAGGED_ANSWERS.get(action, {})))  # fmt: skip
    events = PrescriptionEvent.objects.filter(prescription=prescription).count()

    # when
    perform(action, prescription, actors[role])

    # then
    fresh = Prescription.objects.get(pk=prescription.pk)
    assert fresh.status == TRANSITIONS[action].target
    assert PrescriptionEvent.objects.filter(prescription=prescription).count() == events + 1
    event = PrescriptionEvent.objects.filter(prescription=prescription).latest("id")
    assert (event.action, event.from_status, event.to_status, event.actor) == (
        action, status, TRANSITIONS[action].target, actors[role]
    )  # fmt: skip


@pytest.mark.parametrize("status", S.values)
def test_the_carriers_delivery_completes_only_a_shipped_prescription(status, prescriber, pharmacist, technician):
    # given
    prescription = advance(make_prescription(prescriber), status, pharmacist=pharmacist, technician=technician)
    before = snapshot(prescription)

    # when
    def deliver() -> Prescription:
        with transaction.atomic():
            return workflow.transition(prescription_id=prescription.pk, action=Action.DELIVERED, actor=None,
                                       actor_label="carrier")  # fmt: skip

    # then
    if status == S.SHIPPED:
        assert deliver().status == S.COMPLETED
        event = PrescriptionEvent.objects.filter(prescription=prescription).latest("id")
        assert (event.action, event.from_status, event.actor_label) == (Action.DELIVERED, S.SHIPPED, "carrier")
    else:
        with pytest.raises(Conflict):
            deliver()
        assert snapshot(prescription) == before


def test_the_table_covers_every_action_and_status():
    assert {case[0] for case in ALLOWED_CASES} | set(NOT_STAFF_ACTIONS) | set(TIME_BOUND_ACTIONS) == set(TRANSITIONS)
    assert len(REFUSED_CASES) > 100


def test_approve_with_a_hard_stop_is_a_conflict_and_changes_nothing(prescriber, pharmacist, technician):
    prescription = make_prescription(prescriber)
    prescription = advance(prescription, S.IN_REVIEW, pharmacist=pharmacist, technician=technician,
                           answers={**_answers(), "current_medications": ["Norco 5/325 prn"]})  # fmt: skip
    before = snapshot(prescription)

    with pytest.raises(Conflict, match="opioid_use"):
        workflow.prescription_approve(prescription_id=prescription.pk, actor=pharmacist, override_reasons={})

    assert snapshot(prescription) == before


def test_approve_with_a_warning_needs_its_reason(prescriber, pharmacist, technician):
    prescription = advance(make_prescription(prescriber), S.IN_REVIEW, pharmacist=pharmacist, technician=technician,
                           answers={**_answers(), "pregnancy": "breastfeeding"})  # fmt: skip
    before = snapshot(prescription)

    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError) as caught:
        workflow.prescription_approve(prescription_id=prescription.pk, actor=pharmacist, override_reasons={})
    assert "pregnancy" in " ".join(caught.value.message_dict["override_reasons"])
    assert snapshot(prescription) == before

    reason = "Discussed with the prescriber; benefits outweigh the risk."
    result = workflow.prescription_approve(
        prescription_id=prescription.pk, actor=pharmacist, override_reasons={"pregnancy": reason}
    )
    assert result.status == S.APPROVED
    details = PrescriptionEvent.objects.filter(prescription=prescription).latest("id").details
    assert (details["override_reasons"], details["fill"]) == ({"pregnancy": reason}, 1)
    assert details["price"]["amount"] == str(result.price_amount)


def _answers(**overrides):
    from tests.factories import clean_answers

    return clean_answers(**overrides)
