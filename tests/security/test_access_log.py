"""GET /api/v1/prescriptions/{id}/access-log/: every read and change of a prescription and its
patient, the Django admin's included, for pharmacists only."""

from __future__ import annotations

from intake.models import AuditRecord
from tests.conftest import api_client_for
from tests.factories import make_prescription


def _log(prescription, user):
    return api_client_for(user).get(f"/api/v1/prescriptions/{prescription.pk}/access-log/")


def test_reads_and_changes_through_the_api_and_the_admin_are_listed(
    client, login, prescriber, technician, pharmacist, superuser
):
    # given: the prescription read by a technician through the API, and its patient and itself in the admin
    prescription = make_prescription(prescriber)
    api_client_for(technician).get(f"/api/v1/prescriptions/{prescription.pk}/")
    login(client, superuser)
    assert client.get(f"/admin/intake/patient/{prescription.patient_id}/change/").status_code == 200
    assert client.get(f"/admin/intake/prescription/{prescription.pk}/change/").status_code == 200

    # when: a pharmacist reads the access log
    response = _log(prescription, pharmacist)

    # then: each read, with who, what, when and from where
    assert response.status_code == 200
    entries = response.json()
    actors = [entry["actor"] for entry in entries]
    assert technician.email in actors and superuser.email in actors
    admin_reads = [entry for entry in entries if entry["actor"] == superuser.email]
    assert len(admin_reads) == 2 and {entry["action"] for entry in admin_reads} == {"view"}
    assert all(set(entry) >= {"at", "actor", "action", "ip"} for entry in entries)


def test_another_prescriptions_reads_are_not_listed(prescriber, technician, pharmacist):
    mine = make_prescription(prescriber)
    other = make_prescription(prescriber, patient={"first_name": "Other"})
    api_client_for(technician).get(f"/api/v1/prescriptions/{other.pk}/")

    entries = _log(mine, pharmacist).json()

    assert all(entry["actor"] != technician.email for entry in entries)


def test_only_a_pharmacist_reads_it(prescriber, other_prescriber, technician, pharmacist):
    prescription = make_prescription(prescriber)
    before = AuditRecord.objects.count()

    assert _log(prescription, technician).status_code == 403
    assert _log(prescription, prescriber.user).status_code == 403
    assert _log(prescription, other_prescriber.user).status_code == 404
    assert api_client_for(None).get(f"/api/v1/prescriptions/{prescription.pk}/access-log/").status_code == 401
    assert _log(prescription, pharmacist).status_code == 200
    assert "Ada" not in _log(prescription, technician).content.decode()  # a refusal names no patient
    assert AuditRecord.objects.count() > before
