from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from intake.models import AuditRecord, CompoundingRecord, MasterFormulation, Prescription, PrescriptionStatus
from intake.services.final_check import CHECKLIST
from tests.factories import clean_answers, make_prescription
from tests.workflow_helpers import advance

S = PrescriptionStatus


def at(status, prescriber, pharmacist, technician, answers=None, **content):
    return advance(make_prescription(prescriber, **content), status, pharmacist=pharmacist, technician=technician,
                   answers=answers)  # fmt: skip


def staff_urls(prescription_id, formulation_id):
    return [
        ("get", reverse("staff:queue")),
        ("get", reverse("staff:queue_counts")),
        ("post", reverse("staff:claim_next")),
        ("get", reverse("staff:review", args=[prescription_id])),
        ("post", reverse("staff:claim", args=[prescription_id])),
        ("post", reverse("staff:approve", args=[prescription_id])),
        ("post", reverse("staff:cancel", args=[prescription_id])),
        ("get", reverse("staff:compounding", args=[prescription_id])),
        ("get", reverse("staff:label_pdf", args=[prescription_id])),
        ("get", reverse("staff:worksheet_pdf", args=[prescription_id])),
        ("get", reverse("staff:formulary")),
        ("get", reverse("staff:formulation", args=[formulation_id])),
        ("get", reverse("staff:formulation_new")),
    ]


def test_anonymous_is_sent_to_the_login_page(client, prescriber, pharmacist, technician):
    prescription = at(S.READY, prescriber, pharmacist, technician)
    formulation = MasterFormulation.objects.first()

    for method, url in staff_urls(prescription.pk, formulation.pk):
        response = getattr(client, method)(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith(reverse("login")), url


def test_prescriber_gets_403_on_every_staff_page_and_nothing_changes(client, login, prescriber, pharmacist,
                                                                     technician):  # fmt: skip
    prescription = at(S.PENDING_REVIEW, prescriber, pharmacist, technician)
    formulation = MasterFormulation.objects.first()
    login(client, prescriber.user)

    for method, url in staff_urls(prescription.pk, formulation.pk):
        response = getattr(client, method)(url)
        assert response.status_code == 403, url
        assert prescription.patient.last_name not in response.content.decode()
    assert Prescription.objects.get(pk=prescription.pk).status == S.PENDING_REVIEW
    assert AuditRecord.objects.filter(actor=prescriber.user, action="denied").exists()


def test_unknown_prescription_is_404(client, login, pharmacist):
    login(client, pharmacist)

    assert client.get(reverse("staff:review", args=[999999])).status_code == 404
    assert client.post(reverse("staff:claim", args=[999999])).status_code == 404


def test_review_page_shows_everything_the_pharmacist_needs(client, login, prescriber, pharmacist, technician):
    answers = clean_answers(current_medications=["Norco 5/325 prn"], pregnancy="planning")
    prescription = at(S.IN_REVIEW, prescriber, pharmacist, technician, answers=answers)
    login(client, pharmacist)

    response = client.get(reverse("staff:review", args=[prescription.pk]))

    body = response.content.decode()
    assert response.status_code == 200
    assert prescription.reference in body
    assert "Ada Lovelace" in body
    assert "Norco 5/325 prn" in body  # questionnaire answer and the flag's source value
    assert "From the medication list, Current medications, line 1" in body
    assert "matched as" in body
    assert "Signed content intact" in body
    assert "A hard stop blocks approval until it is verified: Opioid use" in body
    assert 'name="approve-reason_pregnancy"' in body
    assert "Claimed for review" in body  # history
    assert AuditRecord.objects.filter(actor=pharmacist, action="view", prescription_reference=prescription.reference)


def test_review_page_shows_an_altered_prescription(client, login, prescriber, pharmacist, technician):
    prescription = at(S.IN_REVIEW, prescriber, pharmacist, technician)
    Prescription.objects.filter(pk=prescription.pk).update(directions="Take 10 capsules")
    login(client, pharmacist)

    body = client.get(reverse("staff:review", args=[prescription.pk])).content.decode()

    assert "Altered after signing" in body


def test_approve_without_the_warning_reason_shows_a_field_error(client, login, prescriber, pharmacist, technician):
    prescription = at(S.IN_REVIEW, prescriber, pharmacist, technician,
                      answers=clean_answers(pregnancy="breastfeeding"))  # fmt: skip
    login(client, pharmacist)

    response = client.post(reverse("staff:approve", args=[prescription.pk]), {"approve-reason_pregnancy": " "})

    assert response.status_code == 400
    assert "Write the reason for this warning, or verify it." in response.content.decode()
    assert Prescription.objects.get(pk=prescription.pk).status == S.IN_REVIEW


def test_approve_with_reasons_approves(client, login, prescriber, pharmacist, technician):
    prescription = at(S.IN_REVIEW, prescriber, pharmacist, technician,
                      answers=clean_answers(pregnancy="breastfeeding"))  # fmt: skip
    login(client, pharmacist)

    reason = "Infant exposure negligible at 4.5 mg; discussed."

    response = client.post(reverse("staff:approve", args=[prescription.pk]), {"approve-reason_pregnancy": reason})

    assert response.status_code == 302
    prescription.refresh_from_db()
    assert prescription.status == S.APPROVED
    assert prescription.events.latest("id").details["override_reasons"]["pregnancy"].startswith("Infant")


def test_approve_with_a_hard_stop_shows_a_message_not_an_error_page(client, login, prescriber, pharmacist, technician):
    prescription = at(S.IN_REVIEW, prescriber, pharmacist, technician,
                      answers=clean_answers(takes_opioids=True))  # fmt: skip
    login(client, pharmacist)

    response = client.post(reverse("staff:approve", args=[prescription.pk]), follow=True)

    assert response.status_code == 200
    assert "A hard stop blocks approval" in response.content.decode()
    assert Prescription.objects.get(pk=prescription.pk).status == S.IN_REVIEW


def test_technician_cannot_approve_through_the_page(client, login, prescriber, pharmacist, technician):
    prescription = at(S.IN_REVIEW, prescriber, pharmacist, technician)
    login(client, technician)

    response = client.post(reverse("staff:approve", args=[prescription.pk]), follow=True)

    assert "Your role does not allow this action." in response.content.decode()
    assert Prescription.objects.get(pk=prescription.pk).status == S.IN_REVIEW


def test_reject_needs_a_reason(client, login, prescriber, pharmacist, technician):
    prescription = at(S.IN_REVIEW, prescriber, pharmacist, technician)
    login(client, pharmacist)

    empty = client.post(reverse("staff:reject", args=[prescription.pk]), {"reject-reason": ""})
    assert empty.status_code == 400
    assert Prescription.objects.get(pk=prescription.pk).status == S.IN_REVIEW

    done = client.post(reverse("staff:reject", args=[prescription.pk]), {"reject-reason": "Opioid use reported."})
    assert done.status_code == 302
    prescription.refresh_from_db()
    assert prescription.status == S.REJECTED
    assert prescription.events.latest("id").message == "Opioid use reported."


def test_ask_the_prescriber_puts_it_on_hold(client, login, prescriber, pharmacist, technician):
    prescription = at(S.IN_REVIEW, prescriber, pharmacist, technician)
    login(client, pharmacist)

    client.post(reverse("staff:request_clarification", args=[prescription.pk]),
                {"clarify-message": "Confirm the titration schedule?"})  # fmt: skip

    prescription.refresh_from_db()
    assert prescription.status == S.ON_HOLD
    assert prescription.clarifications.get().question == "Confirm the titration schedule?"


def test_claim_twice_shows_a_conflict_message(client, login, prescriber, pharmacist, technician):
    prescription = at(S.PENDING_REVIEW, prescriber, pharmacist, technician)
    login(client, technician)

    client.post(reverse("staff:claim", args=[prescription.pk]))
    response = client.post(reverse("staff:claim", args=[prescription.pk]), follow=True)

    assert response.status_code == 200
    assert "Cannot claim a prescription that is in review." in response.content.decode()
    assert Prescription.objects.get(pk=prescription.pk).claimed_by == technician


def test_release_returns_it_to_the_queue(client, login, prescriber, pharmacist, technician):
    prescription = at(S.IN_REVIEW, prescriber, pharmacist, technician)
    login(client, pharmacist)

    client.post(reverse("staff:release", args=[prescription.pk]))

    prescription.refresh_from_db()
    assert (prescription.status, prescription.claimed_by) == (S.PENDING_REVIEW, None)


def test_pharmacist_cancels_before_compounding_with_a_reason(client, login, prescriber, pharmacist, technician):
    prescription = at(S.APPROVED, prescriber, pharmacist, technician)
    login(client, pharmacist)

    client.post(reverse("staff:cancel", args=[prescription.pk]), {"cancel-reason": "Patient moved away."})

    assert Prescription.objects.get(pk=prescription.pk).status == S.CANCELLED


def lots_post(*rows, containers=(14, 14, 2), formulation=None):
    """The compounding page's form: the lots, and each container of the plan (1.5, 3 and 4.5 mg) as made."""
    data = {
        "batch-master_formulation": formulation.pk,
        "batch-quality_checks": "10 capsules weighed: 98-102%",
        "batch-deviations": "",
        "lots-TOTAL_FORMS": len(rows),
        "lots-INITIAL_FORMS": len(rows),
        "lots-MIN_NUM_FORMS": 1,
        "lots-MAX_NUM_FORMS": 20,
        "containers-TOTAL_FORMS": len(containers),
        "containers-INITIAL_FORMS": len(containers),
        "containers-MIN_NUM_FORMS": 1,
        "containers-MAX_NUM_FORMS": 50,
    }
    for i, quantity in enumerate(containers):
        data.update({f"containers-{i}-quantity_made": quantity, f"containers-{i}-naltrexone_mg": "",
                     f"containers-{i}-capsule_weights_mg": ""})  # fmt: skip
    for i, (ingredient, lot, expires) in enumerate(rows):
        data.update({f"lots-{i}-ingredient": ingredient, f"lots-{i}-manufacturer": "Medisca", f"lots-{i}-lot": lot,
                     f"lots-{i}-expires": expires.isoformat(), f"lots-{i}-quantity_used": ""})  # fmt: skip
    return data


def test_compounding_page_records_the_batch(client, login, prescriber, pharmacist, technician):
    prescription = at(S.COMPOUNDING, prescriber, pharmacist, technician)
    formulation = MasterFormulation.objects.get(dosage_form__code="capsule")
    today = timezone.localdate()
    login(client, technician)

    page = client.get(reverse("staff:compounding", args=[prescription.pk]))
    assert page.status_code == 200
    assert 'value="Naltrexone HCl USP"' in page.content.decode()
    assert 'id="lots-empty-form"' in page.content.decode()

    response = client.post(reverse("staff:compounding", args=[prescription.pk]), lots_post(
        ("Naltrexone HCl USP", "NTX-9", today + timedelta(days=30)),
        ("Microcrystalline cellulose", "MCC-9", today + timedelta(days=300)), formulation=formulation))  # fmt: skip

    assert response.status_code == 302
    prescription.refresh_from_db()
    assert prescription.status == S.FINAL_CHECK
    assert prescription.beyond_use_date == today + timedelta(days=30)
    record = CompoundingRecord.objects.get(prescription=prescription)
    assert record.lots.count() == 2
    assert [(c.strength_mg, c.quantity_made) for c in record.containers.all()] == [
        (Decimal("1.5"), 14), (Decimal("3"), 14), (Decimal("4.5"), 2),
    ]  # fmt: skip


def test_compounding_page_refuses_an_expired_lot(client, login, prescriber, pharmacist, technician):
    prescription = at(S.COMPOUNDING, prescriber, pharmacist, technician)
    formulation = MasterFormulation.objects.get(dosage_form__code="capsule")
    today = timezone.localdate()
    login(client, technician)

    response = client.post(reverse("staff:compounding", args=[prescription.pk]), lots_post(
        ("Naltrexone HCl USP", "NTX-OLD", today - timedelta(days=3)), formulation=formulation))  # fmt: skip

    assert response.status_code == 400
    assert "NTX-OLD" in response.content.decode()
    assert Prescription.objects.get(pk=prescription.pk).status == S.COMPOUNDING


def test_final_check_ship_and_complete_through_the_pages(client, login, prescriber, pharmacist, technician):
    prescription = at(S.FINAL_CHECK, prescriber, pharmacist, technician)
    login(client, pharmacist)

    client.post(reverse("staff:final_check", args=[prescription.pk]), check_post(prescription))
    assert Prescription.objects.get(pk=prescription.pk).status == S.READY

    bad = client.post(
        reverse("staff:ship", args=[prescription.pk]), {"ship-carrier": "UPS", "ship-tracking_number": ""}
    )
    assert bad.status_code == 400
    client.post(reverse("staff:ship", args=[prescription.pk]),
                {"ship-carrier": "UPS", "ship-tracking_number": "1Z999AA10123456784"})  # fmt: skip
    shipped = Prescription.objects.get(pk=prescription.pk)
    assert (shipped.status, shipped.carrier, shipped.tracking_number) == (S.SHIPPED, "UPS", "1Z999AA10123456784")

    client.post(reverse("staff:complete", args=[prescription.pk]))
    assert Prescription.objects.get(pk=prescription.pk).status == S.COMPLETED


def check_post(prescription, **overrides):
    """The final check page's form, every item ticked and each container's label scanned."""
    record = CompoundingRecord.objects.filter(prescription=prescription).latest("compounded_at")
    data = {f"check-item_{item.value}": "on" for item in CHECKLIST}
    data.update({f"check-scan_{c.number}": c.code for c in record.containers.all()})
    data.update(overrides)
    return data


def test_picked_up_completes_from_ready(client, login, prescriber, pharmacist, technician):
    prescription = at(S.READY, prescriber, pharmacist, technician)
    login(client, technician)

    client.post(reverse("staff:complete", args=[prescription.pk]))

    assert Prescription.objects.get(pk=prescription.pk).status == S.COMPLETED


@pytest.mark.parametrize("name", ["label_pdf", "worksheet_pdf"])
def test_documents_download_as_audited_pdfs(name, client, login, prescriber, pharmacist, technician):
    prescription = at(S.READY, prescriber, pharmacist, technician)
    login(client, technician)

    response = client.get(reverse(f"staff:{name}", args=[prescription.pk]))

    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Cache-Control"].startswith("no-store")
    assert response.content.startswith(b"%PDF")
    assert prescription.reference.encode() in response.content
    assert AuditRecord.objects.filter(actor=technician, action="download",
                                      prescription_reference=prescription.reference).exists()  # fmt: skip


def test_documents_before_compounding_are_404(client, login, prescriber, pharmacist, technician):
    prescription = at(S.APPROVED, prescriber, pharmacist, technician)
    login(client, pharmacist)

    assert client.get(reverse("staff:label_pdf", args=[prescription.pk])).status_code == 404


def test_formulary_is_listed_for_technicians_but_edited_by_pharmacists(client, login, technician):
    formulation = MasterFormulation.objects.get(dosage_form__code="capsule")
    login(client, technician)

    listing = client.get(reverse("staff:formulary"))
    assert listing.status_code == 200
    assert formulation.name in listing.content.decode()
    assert client.get(reverse("staff:formulation", args=[formulation.pk])).status_code == 200
    assert client.get(reverse("staff:formulation_edit", args=[formulation.pk])).status_code == 403


def formulation_post(form_id, **overrides):
    data = {
        "mf-dosage_form": form_id, "mf-name": "LDN drops in MCT oil", "mf-strength_mg": "",
        "mf-filler": "MCT oil", "mf-storage": "Room temperature", "mf-steps": "Weigh.\nDissolve.\nFill.",
        "mf-bud_rule": "nonaqueous_oral_liquid", "mf-bud_reference": "USP <795>", "mf-active": "on",
        "ingredients-TOTAL_FORMS": 2, "ingredients-INITIAL_FORMS": 0, "ingredients-MIN_NUM_FORMS": 1,
        "ingredients-MAX_NUM_FORMS": 20,
        "ingredients-0-name": "Naltrexone HCl USP", "ingredients-0-quantity": "1", "ingredients-0-unit": "mg/mL",
        "ingredients-1-name": "MCT oil", "ingredients-1-quantity": "q.s.", "ingredients-1-unit": "mL",
    }  # fmt: skip
    data.update(overrides)
    return data


def test_pharmacist_creates_a_master_formulation(client, login, pharmacist):
    drops = MasterFormulation.objects.get(dosage_form__code="sublingual_drops").dosage_form
    login(client, pharmacist)

    response = client.post(reverse("staff:formulation_new"), formulation_post(drops.pk))

    assert response.status_code == 302
    created = MasterFormulation.objects.get(name="LDN drops in MCT oil")
    assert (created.aqueous, created.bud_rule, created.filler) == (False, "nonaqueous_oral_liquid", "MCT oil")
    assert [i["name"] for i in created.ingredients] == ["Naltrexone HCl USP", "MCT oil"]


def test_formulation_form_refuses_a_rule_too_long_for_an_aqueous_preparation(client, login, pharmacist):
    drops = MasterFormulation.objects.get(dosage_form__code="sublingual_drops").dosage_form
    login(client, pharmacist)

    response = client.post(reverse("staff:formulation_new"), formulation_post(drops.pk, **{"mf-aqueous": "on"}))

    assert response.status_code == 400
    assert "USP &lt;795&gt; allows at most 14 days" in response.content.decode()
    assert not MasterFormulation.objects.filter(name="LDN drops in MCT oil").exists()


@pytest.mark.parametrize("status", [s for s in S.values])
def test_review_page_renders_in_every_status(status, client, login, prescriber, pharmacist, technician,
                                             django_assert_max_num_queries):  # fmt: skip
    prescription = at(status, prescriber, pharmacist, technician)
    login(client, pharmacist)

    # 16, and the fills section's fixed few: the fills, their batches, and the refill state (last fill, renewals);
    # one for the documents the prescriber attached, and one for the messages sent.
    with django_assert_max_num_queries(22):
        response = client.get(reverse("staff:review", args=[prescription.pk]))

    assert response.status_code == 200
    assert prescription.reference in response.content.decode()


@pytest.mark.parametrize("status", [S.APPROVED, S.COMPOUNDING, S.FINAL_CHECK, S.COMPLETED])
def test_compounding_page_renders_around_compounding(status, client, login, prescriber, pharmacist, technician):
    prescription = at(status, prescriber, pharmacist, technician)
    login(client, technician)

    response = client.get(reverse("staff:compounding", args=[prescription.pk]))

    assert response.status_code == 200
    assert ("Record compounding" in response.content.decode()) == (status == S.COMPOUNDING)
