"""The refill facts read in one SQL query (intake.services.refills.refill_facts) against the ORM's reads."""

from __future__ import annotations

import time_machine

from intake.models import Fill, Prescription, RenewalRequest
from intake.services.prescriptions import Signature
from intake.services.refills import refill_facts, refill_request, refill_state, renewal_approve, renewal_deny
from tests.factories import make_prescription
from tests.refills.dispensing import REFILL_AFTER_DAYS, days_later, dispensed, waiting_renewal
from tests.workflow_helpers import advance


def orm_facts(prescription: Prescription) -> tuple[Fill | None, list[RenewalRequest], object]:
    last = Fill.objects.filter(prescription=prescription, dispensed_at__isnull=False).order_by("-number").first()
    renewals = list(prescription.renewal_requests.select_related("new_prescription").order_by("-requested_at"))
    answered = Prescription.objects.get(pk=prescription.pk).questionnaire.submitted_at
    return last, renewals, answered


def test_the_last_dispensed_fill_is_the_newest_handed_over(prescriber, pharmacist, technician):
    # given a first fill handed over, a refill handed over, and a third fill asked for, not yet dispensed
    prescription = dispensed(prescriber, pharmacist=pharmacist, technician=technician, refills=3)
    for days in (REFILL_AFTER_DAYS, 2 * REFILL_AFTER_DAYS):
        with time_machine.travel(days_later(days), tick=False):
            refill_request(prescription_id=prescription.pk, actor=pharmacist, requester="pharmacy")
            if days == REFILL_AFTER_DAYS:
                advance(Prescription.objects.get(pk=prescription.pk), "completed", pharmacist=pharmacist,
                        technician=technician)  # fmt: skip

    # when
    last, renewals, answered = refill_facts(prescription)

    # then the refill (fill 2), as the ORM reads it, field for field
    expected_last, expected_renewals, expected_answered = orm_facts(prescription)
    assert last is not None and expected_last is not None
    assert last.number == 2
    assert [getattr(last, f.attname) for f in Fill._meta.concrete_fields] == [
        getattr(expected_last, f.attname) for f in Fill._meta.concrete_fields
    ]
    assert last.dispensed_at is not None and last.dispensed_at.tzinfo is not None
    assert renewals == expected_renewals == []
    assert answered == expected_answered


def test_renewals_come_newest_first_with_the_new_prescriptions_reference(prescriber, pharmacist, technician):
    # given a renewal denied, then one approved a day later
    prescription = dispensed(prescriber, pharmacist=pharmacist, technician=technician, refills=0)
    renewal_deny(renewal_id=waiting_renewal(prescription).pk, actor=prescriber.user, reason="Needs a visit")
    with time_machine.travel(days_later(1), tick=False):
        new = renewal_approve(renewal_id=waiting_renewal(prescription).pk, actor=prescriber.user, refills=1,
                              signature=Signature(name="Grace Hopper", attested=True))  # fmt: skip

    # when
    last, renewals, _answered = refill_facts(prescription)
    state = refill_state(prescription)

    # then
    _expected_last, expected_renewals, _ = orm_facts(prescription)
    assert last is not None and last.number == 1
    assert [r.pk for r in renewals] == [r.pk for r in expected_renewals]
    assert [r.status for r in renewals] == ["approved", "denied"]
    assert [getattr(renewals[1], f.attname) for f in RenewalRequest._meta.concrete_fields] == [
        getattr(expected_renewals[1], f.attname) for f in RenewalRequest._meta.concrete_fields
    ]
    assert renewals[0].new_prescription is not None
    assert renewals[0].new_prescription.reference == new.reference
    assert renewals[0].prescription is prescription
    assert state.renewed_as is not None and state.renewed_as.pk == new.pk
    assert state.pending_renewal is None
    # the rest of the new prescription is read when it is used
    assert state.renewed_as.status == new.status


def test_a_prescription_never_answered_nor_dispensed_has_no_facts(prescriber):
    prescription = make_prescription(prescriber)

    last, renewals, answered = refill_facts(prescription)

    assert (last, renewals, answered) == (None, [], None)
