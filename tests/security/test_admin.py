"""The Django admin: patient data read or changed there is audited like everywhere else, and the
pharmacy's records (prescriptions, compounding, the workflow's events, the audit trail) are
neither deleted nor rewritten there, even by a superuser."""

from __future__ import annotations

from typing import Any

import pytest
from django.db.models import Model

from intake.models import (
    AuditAction,
    AuditRecord,
    CompoundingRecord,
    Patient,
    Prescription,
    PrescriptionEvent,
    PrescriptionStatus,
)
from tests.factories import make_prescription
from tests.workflow_helpers import advance

S = PrescriptionStatus
ADMIN_IP = "10.20.30.40"


@pytest.fixture
def admin_client(client, login, superuser):
    login(client, superuser)
    return client


@pytest.fixture
def compounded(prescriber, pharmacist, technician) -> Prescription:
    """A prescription with its batch recorded, waiting for the final check."""
    return advance(make_prescription(prescriber), S.FINAL_CHECK, pharmacist=pharmacist, technician=technician)


def admin_url(obj: Model, view: str = "change") -> str:
    return f"/admin/intake/{obj._meta.model_name}/{obj.pk}/{view}/"


def records_of(compounded: Prescription) -> dict[str, Model]:
    return {
        "compounding record": CompoundingRecord.objects.get(prescription=compounded),
        "event": PrescriptionEvent.objects.filter(prescription=compounded).first(),
        "audit row": AuditRecord.objects.create(action=AuditAction.VIEW, object_type="prescription"),
        "prescription": compounded,
        "patient": compounded.patient,
    }


def row_as_it_is(obj: Model) -> dict[str, Any]:
    return type(obj)._base_manager.filter(pk=obj.pk).values().get()


RECORDS = ["compounding record", "event", "audit row", "prescription", "patient"]


@pytest.mark.parametrize("what", RECORDS)
def test_nobody_deletes_a_record_in_the_admin(admin_client, compounded, what):
    record = records_of(compounded)[what]

    shown = admin_client.get(admin_url(record, "delete"))
    sent = admin_client.post(admin_url(record, "delete"), {"post": "yes"})

    assert (shown.status_code, sent.status_code) == (403, 403)
    assert type(record)._base_manager.filter(pk=record.pk).exists()
    assert CompoundingRecord.objects.filter(prescription=compounded).exists()
    assert PrescriptionEvent.objects.filter(prescription=compounded).count() >= 5


@pytest.mark.parametrize("what", RECORDS)
def test_the_bulk_delete_action_is_not_offered_nor_obeyed(admin_client, compounded, what):
    record = records_of(compounded)[what]
    changelist = f"/admin/intake/{record._meta.model_name}/"

    offered = admin_client.get(changelist)
    admin_client.post(changelist, {"action": "delete_selected", "_selected_action": [record.pk], "post": "yes"})

    assert offered.status_code == 200
    assert "delete_selected" not in offered.content.decode()
    assert type(record)._base_manager.filter(pk=record.pk).exists()


@pytest.mark.parametrize("what", ["compounding record", "event", "audit row", "prescription"])
def test_the_pharmacys_records_are_not_changed_in_the_admin(admin_client, compounded, what):
    record = records_of(compounded)[what]
    before = row_as_it_is(record)

    response = admin_client.post(admin_url(record), {"quantity_made": 1, "status": S.READY, "description": "x"})

    assert response.status_code == 403
    assert row_as_it_is(record) == before


@pytest.mark.parametrize("model", ["prescription", "compoundingrecord", "prescriptionevent", "auditrecord", "patient"])
def test_nothing_is_added_in_the_admin(admin_client, model):
    assert admin_client.get(f"/admin/intake/{model}/add/").status_code == 403


def test_a_past_version_is_read_but_never_restored(admin_client, compounded):
    # given: the prescription's first version, from before it was approved and compounded
    first = compounded.history.earliest("history_date")
    url = f"/admin/intake/prescription/{compounded.pk}/history/{first.history_id}/"
    before = row_as_it_is(compounded)

    # when: the admin opens it, then asks for it back
    shown = admin_client.get(url)
    restored = admin_client.post(url, {"_save": "Save"})

    # then: shown, but the prescription stays as the workflow left it
    assert shown.status_code == 200
    assert restored.status_code == 403
    assert row_as_it_is(compounded) == before
    assert Prescription.objects.get(pk=compounded.pk).status == S.FINAL_CHECK


@pytest.mark.parametrize("what", ["patient", "prescription", "compounding record", "event"])
def test_reading_a_record_in_the_admin_is_audited(admin_client, superuser, compounded, what):
    record = records_of(compounded)[what]

    response = admin_client.get(admin_url(record), REMOTE_ADDR=ADMIN_IP)

    assert response.status_code == 200
    entry = AuditRecord.objects.get(actor=superuser, action=AuditAction.VIEW)
    assert (entry.object_id, entry.ip_address) == (str(record.pk), ADMIN_IP)
    if what != "patient":
        # listed in the prescription's access log, with the patient's own record
        assert entry.prescription_reference == compounded.reference


@pytest.mark.parametrize(
    ("what", "view"), [("patient", "history"), ("prescription", "history"), ("compounding record", "history")]
)
def test_reading_a_records_history_in_the_admin_is_audited(admin_client, superuser, compounded, what, view):
    record = records_of(compounded)[what]
    version = type(record).history.filter(id=record.pk).earliest("history_date")

    assert admin_client.get(admin_url(record, view), REMOTE_ADDR=ADMIN_IP).status_code == 200
    assert admin_client.get(admin_url(record, f"history/{version.history_id}"), REMOTE_ADDR=ADMIN_IP).status_code == 200

    entries = AuditRecord.objects.filter(actor=superuser, action=AuditAction.VIEW, object_id=str(record.pk))
    assert entries.count() == 2
    assert {entry.ip_address for entry in entries} == {ADMIN_IP}


@pytest.mark.parametrize("model", ["patient", "prescription", "compoundingrecord", "prescriptionevent"])
def test_listing_records_in_the_admin_is_audited(admin_client, superuser, compounded, model):
    response = admin_client.get(f"/admin/intake/{model}/", REMOTE_ADDR=ADMIN_IP)
    assert response.status_code == 200

    # One record per row shown, each naming the row, so each patient's access report lists it.
    entries = AuditRecord.objects.filter(actor=superuser, action=AuditAction.LIST)
    shown = {str(obj.pk) for obj in response.context["cl"].result_list}
    assert {(entry.object_type, entry.ip_address) for entry in entries} == {(model, ADMIN_IP)}
    assert {entry.object_id for entry in entries} == shown and entries.count() == len(shown) > 0
    if model != "patient":
        assert {entry.prescription_reference for entry in entries} == {compounded.reference}


def test_reading_the_audit_trail_in_the_admin_is_audited(admin_client, superuser):
    assert admin_client.get("/admin/intake/auditrecord/").status_code == 200

    assert AuditRecord.objects.filter(actor=superuser, action=AuditAction.LIST, object_type="audit_trail").exists()


def test_correcting_a_patient_in_the_admin_is_audited_and_kept_in_history(admin_client, superuser, compounded):
    patient = compounded.patient
    form = admin_client.get(admin_url(patient)).context["adminform"].form
    sent = {name: form[name].value() for name in form.fields}
    sent = {name: "" if value is None else value for name, value in sent.items()}

    response = admin_client.post(admin_url(patient), {**sent, "city": "Round Rock", "_save": "Save"},
                                 REMOTE_ADDR=ADMIN_IP)  # fmt: skip

    assert response.status_code == 302, response.context["adminform"].form.errors if response.context else ""
    assert Patient.objects.get(pk=patient.pk).city == "Round Rock"
    entry = AuditRecord.objects.get(actor=superuser, action=AuditAction.UPDATE)
    assert (entry.object_type, entry.object_id, entry.ip_address) == ("patient", str(patient.pk), ADMIN_IP)
    assert patient.history.latest("history_date").city == "Round Rock"
