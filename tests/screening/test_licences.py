"""The pharmacy's state licences: kept as data pharmacists edit (a staff page, the admin), valid until
their expiry, and no shipping to a state without one."""

from __future__ import annotations

import json
from datetime import date, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from intake.errors import Forbidden
from intake.models import PrescriptionStatus, StateLicence, licences_forget
from intake.services.licences import DEMO_LICENSED_STATES, state_licence_save
from tests.api.conftest import action_url
from tests.factories import UserFactory, make_prescription
from tests.workflow_helpers import advance

S = PrescriptionStatus
NEXT_YEAR = date(timezone.localdate().year + 1, 6, 30)


def test_the_suites_licences_are_the_demos():
    assert set(DEMO_LICENSED_STATES) == {
        "AL", "AZ", "AR", "CA", "CO", "CT", "DE", "DC", "FL", "GA", "ID", "IL", "IN", "IA", "KS", "KY", "LA",
        "ME", "MD", "MA", "MI", "MN", "MS", "MO", "MT", "NE", "NV", "NH", "NJ", "NM", "NY", "NC", "ND", "OH",
        "OK", "OR", "PA", "RI", "SC", "SD", "TN", "TX", "UT", "VT", "VA", "WA", "WV", "WI", "WY",
    }  # fmt: skip


def test_valid_states_follow_expiry_and_active(db):
    today = timezone.localdate()
    StateLicence.objects.filter(state="TX").update(expires_on=today - timedelta(days=1))
    StateLicence.objects.filter(state="NY").update(active=False)
    licences_forget()
    valid = StateLicence.objects.valid_states(today)

    assert "TX" not in valid and "NY" not in valid and "AK" not in valid
    assert "CA" in valid
    assert StateLicence.objects.valid_states(today - timedelta(days=1)) >= {"TX"}


def test_a_pharmacist_records_and_changes_a_licence_with_history(pharmacist):
    licence = state_licence_save(actor=pharmacist, values={"state": "AK", "licence_number": "AK-PH-1",
                                                           "expires_on": NEXT_YEAR, "active": True})  # fmt: skip
    assert "AK" in StateLicence.objects.valid_states(timezone.localdate())

    state_licence_save(actor=pharmacist, licence_id=licence.pk, values={
        "state": "AK", "licence_number": "AK-PH-2", "expires_on": NEXT_YEAR, "active": False})  # fmt: skip

    licence.refresh_from_db()
    assert (licence.licence_number, licence.active) == ("AK-PH-2", False)
    assert "AK" not in StateLicence.objects.valid_states(timezone.localdate())
    assert [row.licence_number for row in licence.history.order_by("history_date")] == ["AK-PH-1", "AK-PH-2"]


def test_one_licence_per_state_and_nothing_half_saved(pharmacist):
    before = list(StateLicence.objects.values_list("state", "licence_number"))

    with pytest.raises(ValidationError) as refused:
        state_licence_save(actor=pharmacist, values={"state": "TX", "licence_number": "TX-2",
                                                     "expires_on": NEXT_YEAR, "active": True})  # fmt: skip

    assert set(refused.value.message_dict) == {"state"}
    assert list(StateLicence.objects.values_list("state", "licence_number")) == before


def test_only_a_pharmacist_changes_licences(technician, pharmacy_admin):
    for actor in (technician, pharmacy_admin):
        with pytest.raises(Forbidden):
            state_licence_save(actor=actor, values={"state": "AK", "licence_number": "AK-1",
                                                    "expires_on": NEXT_YEAR, "active": True})  # fmt: skip

    assert not StateLicence.objects.filter(state="AK").exists()


# --- the staff pages ------------------------------------------------------------------------------------


def test_staff_read_the_licences_and_a_pharmacist_records_one(client, login, pharmacist):
    StateLicence.objects.filter(state="TX").update(expires_on=timezone.localdate() - timedelta(days=3))
    login(client, pharmacist)

    listing = client.get(reverse("staff:licences")).content.decode()
    response = client.post(reverse("staff:licence_new"), {
        "licence-state": "HI", "licence-licence_number": "HI-PHY-881", "licence-expires_on": NEXT_YEAR.isoformat(),
        "licence-active": "on"})  # fmt: skip

    assert "Texas (TX)" in listing and "Expired" in listing
    assert response.status_code == 302
    licence = StateLicence.objects.get(state="HI")
    assert (licence.licence_number, licence.expires_on, licence.active) == ("HI-PHY-881", NEXT_YEAR, True)


def test_a_pharmacist_changes_a_licence_on_its_page(client, login, pharmacist):
    licence = StateLicence.objects.get(state="TX")
    login(client, pharmacist)

    page = client.get(reverse("staff:licence_edit", args=[licence.pk])).content.decode()
    response = client.post(reverse("staff:licence_edit", args=[licence.pk]), {
        "licence-state": "TX", "licence-licence_number": "TX-RENEWED-7", "licence-expires_on": NEXT_YEAR.isoformat(),
    })  # fmt: skip

    assert licence.licence_number in page
    assert response.status_code == 302
    licence.refresh_from_db()
    assert (licence.licence_number, licence.active) == ("TX-RENEWED-7", False)


def test_a_bad_licence_form_answers_400_on_its_field(client, login, pharmacist):
    login(client, pharmacist)
    count = StateLicence.objects.count()

    response = client.post(reverse("staff:licence_new"), {"licence-state": "TX", "licence-licence_number": "X",
                                                          "licence-expires_on": "soon"})  # fmt: skip

    assert response.status_code == 400
    assert StateLicence.objects.count() == count


def test_a_technician_reads_but_does_not_change_licences(client, login, technician):
    login(client, technician)

    assert client.get(reverse("staff:licences")).status_code == 200
    assert client.get(reverse("staff:licence_new")).status_code == 403
    response = client.post(reverse("staff:licence_new"), {"licence-state": "AK", "licence-licence_number": "AK-1",
                                                          "licence-expires_on": NEXT_YEAR.isoformat()})  # fmt: skip
    assert response.status_code == 403
    assert not StateLicence.objects.filter(state="AK").exists()


def test_the_admin_edits_licences_with_history(client, db):
    superuser = UserFactory(email="root@example.test", is_superuser=True, is_staff=True)
    client.force_login(superuser, backend="accounts.backends.PharmacyBackend")
    licence = StateLicence.objects.get(state="TX")

    assert client.get(reverse("admin:intake_statelicence_changelist")).status_code == 200
    assert client.get(reverse("admin:intake_statelicence_history", args=[licence.pk])).status_code == 200


# --- shipping -------------------------------------------------------------------------------------------


@pytest.fixture
def ready_for_alaska(prescriber, pharmacist, technician):
    prescription = make_prescription(prescriber, patient={"state": "AK", "postal_code": "99501"})
    return advance(prescription, S.READY, pharmacist=pharmacist, technician=technician)


def test_shipping_to_a_state_without_a_licence_is_409_and_changes_nothing(ready_for_alaska, technician_api):
    response = technician_api.post(action_url(ready_for_alaska, "ship"),
                                   json.dumps({"carrier": "UPS", "tracking_number": "1Z999AA10123456784"}),
                                   content_type="application/json")  # fmt: skip

    assert response.status_code == 409
    assert "licence" in response.json()["detail"]
    ready_for_alaska.refresh_from_db()
    assert (ready_for_alaska.status, ready_for_alaska.tracking_number) == (S.READY, "")


def test_a_licence_recorded_since_lets_it_ship(ready_for_alaska, technician_api, pharmacist):
    state_licence_save(actor=pharmacist, values={"state": "AK", "licence_number": "AK-PH-1",
                                                 "expires_on": NEXT_YEAR, "active": True})  # fmt: skip

    response = technician_api.post(action_url(ready_for_alaska, "ship"),
                                   json.dumps({"carrier": "UPS", "tracking_number": "1Z999AA10123456784"}),
                                   content_type="application/json")  # fmt: skip

    assert response.status_code == 200
    assert response.json()["status"] == "shipped"


def test_picked_up_needs_no_licence(ready_for_alaska, technician_api):
    response = technician_api.post(action_url(ready_for_alaska, "complete"), "{}", content_type="application/json")

    assert response.status_code == 200
