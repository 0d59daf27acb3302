"""A patient's accounting of disclosures: every read and change of one patient's data, from the
pharmacy's pages, the patient's own pages, the JSON API, FHIR and the Django admin, on the privacy
officer's page, in its CSV export and in the prescription's access log on the API."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from datetime import date, timedelta

import pytest
import time_machine
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from intake.models import AuditAction, AuditRecord, FollowUp, Notification, Prescription
from intake.models.notifications import DeliveryStatus
from intake.web.staff.views.privacy import PAGE_SIZE
from tests.conftest import api_client_for
from tests.factories import clean_answers, make_prescription

BORN = "1980-02-29"  # the factory's patient
STAFF_IP = "10.1.2.3"
PATIENT_IP = "198.51.100.7"
FORMULA = 'HYPERLINK("http://example.com/x")'


def report_url(prescription: Prescription) -> str:
    return reverse("staff:patient_access", args=[prescription.patient_id])


def report_rows(client: Client, prescription: Prescription, **params: str) -> list:
    response = client.get(report_url(prescription), params)
    assert response.status_code == 200
    return response.context["rows"]


def api_log(prescription: Prescription, user) -> list[dict]:
    response = api_client_for(user).get(f"/api/v1/prescriptions/{prescription.pk}/access-log/")
    assert response.status_code == 200
    return response.json()


# Each way in to a patient's data: (what it does, who the report names, the channel it names).
def _review_page(prescription, users, client):
    users["login"](client, users["pharmacist"])
    assert client.get(reverse("staff:review", args=[prescription.pk]), REMOTE_ADDR=STAFF_IP).status_code == 200


def _queue_page(prescription, users, client):
    users["login"](client, users["technician"])
    page = client.get(reverse("staff:queue"), {"status": prescription.status}, REMOTE_ADDR=STAFF_IP)
    assert prescription.reference in page.content.decode()


def _questionnaire_page(prescription, users, client):
    token = prescription.questionnaire_token
    gate = client.post(f"/questionnaire/{token}", {"date_of_birth": BORN}, REMOTE_ADDR=PATIENT_IP)
    assert gate.status_code == 302
    assert client.get(f"/questionnaire/{token}", REMOTE_ADDR=PATIENT_IP).status_code == 200


def _status_page(prescription, users, client):
    found = client.post(reverse("patient:status"), {"reference": prescription.reference, "date_of_birth": BORN},
                        REMOTE_ADDR=PATIENT_IP)  # fmt: skip
    assert found.status_code == 200


def _questionnaire_api(prescription, users, client):
    answered = api_client_for(None).post(f"/api/v1/questionnaires/{prescription.questionnaire_token}/",
                                         clean_answers(), format="json", REMOTE_ADDR=PATIENT_IP)  # fmt: skip
    assert answered.status_code in (200, 201)


def _api_read(prescription, users, client):
    read = api_client_for(users["technician"]).get(f"/api/v1/prescriptions/{prescription.pk}/", REMOTE_ADDR=STAFF_IP)
    assert read.status_code == 200


def _api_list(prescription, users, client):
    listed = api_client_for(users["technician"]).get("/api/v1/prescriptions/", REMOTE_ADDR=STAFF_IP)
    assert prescription.reference in listed.content.decode()


def _fhir_read(prescription, users, client):
    read = api_client_for(users["technician"]).get(f"/fhir/R4/MedicationRequest/{prescription.pk}",
                                                   REMOTE_ADDR=STAFF_IP)  # fmt: skip
    assert read.status_code == 200


def _fhir_search(prescription, users, client):
    found = api_client_for(users["technician"]).get("/fhir/R4/MedicationRequest", REMOTE_ADDR=STAFF_IP)
    assert found.status_code == 200 and f"MedicationRequest/{prescription.pk}" in found.content.decode()


def _admin(view: str) -> Callable:
    def read(prescription, users, client):
        users["login"](client, users["superuser"])
        assert client.get(view.format(rx=prescription), REMOTE_ADDR=STAFF_IP).status_code == 200

    return read


CHANNELS = {
    "staff review page": (_review_page, "pharmacist", "web"),
    "staff queue": (_queue_page, "technician", "web"),
    "questionnaire page": (_questionnaire_page, "patient (private link)", "web"),
    "status page": (_status_page, "patient (status lookup)", "web"),
    "questionnaire API": (_questionnaire_api, "patient (private link)", "api"),
    "API read": (_api_read, "technician", "api"),
    "API list": (_api_list, "technician", "api"),
    "FHIR read": (_fhir_read, "technician", "fhir"),
    "FHIR search": (_fhir_search, "technician", "fhir"),
    "admin prescription": (_admin("/admin/intake/prescription/{rx.pk}/change/"), "superuser", "admin"),
    "admin prescriptions": (_admin("/admin/intake/prescription/"), "superuser", "admin"),
    "admin patient": (_admin("/admin/intake/patient/{rx.patient_id}/change/"), "superuser", "admin"),
    "admin patients": (_admin("/admin/intake/patient/"), "superuser", "admin"),
}


@pytest.fixture
def users(login, pharmacist, technician, superuser) -> dict:
    return {"login": login, "pharmacist": pharmacist, "technician": technician, "superuser": superuser}


def _who(users: dict, persona: str) -> tuple[str, str]:
    """The name the report shows, and the email the API's log shows."""
    user = users.get(persona)
    if user is None:
        return persona, persona
    return user.get_full_name() or user.email, user.email


@pytest.mark.parametrize("way", CHANNELS, ids=list(CHANNELS))
def test_each_way_in_leaves_a_row_in_the_report_and_the_access_log(way, users, prescriber, pharmacist, client):
    # given: the prescription reached one way, by someone other than the reader of the report
    prescription = make_prescription(prescriber)
    reach, persona, channel = CHANNELS[way]
    reach(prescription, users, Client())
    name, email = _who(users, persona)

    # when: the privacy officer reads the patient's report, and a pharmacist the prescription's log
    login = users["login"]
    login(client, pharmacist)
    rows = report_rows(client, prescription)
    entries = api_log(prescription, pharmacist)

    # then: both name the read, who made it, and (the report) from where
    assert (name, channel) in {(row.who, row.channel) for row in rows}
    assert any(entry["actor"] == email for entry in entries)
    if persona in ("pharmacist", "technician", "superuser"):
        assert {row.ip for row in rows if row.who == name} == {STAFF_IP}
    else:
        assert {row.ip for row in rows if row.who == name} == {PATIENT_IP}


def test_a_row_names_the_role_the_action_and_the_prescription(client, login, prescriber, pharmacist, technician):
    prescription = make_prescription(prescriber)
    _api_read(prescription, {"technician": technician}, None)
    login(client, pharmacist)

    row = next(row for row in report_rows(client, prescription) if row.who == technician.get_full_name())

    assert (row.role, row.action, row.prescription, row.channel_label) == (
        "Pharmacy technician", "Viewed", prescription.reference, "JSON API",
    )  # fmt: skip
    assert row.description == "read through the API"


def test_the_report_spans_every_prescription_of_the_patient_and_no_one_elses(
    client, login, prescriber, other_prescriber, pharmacist, technician
):
    # given: two prescriptions for one patient (two prescribers), another patient's, each read once
    first = make_prescription(prescriber)
    second = make_prescription(other_prescriber)
    stranger = make_prescription(prescriber, patient={"first_name": "Grace", "last_name": "Hopper"})
    assert first.patient_id == second.patient_id != stranger.patient_id
    technician_api = api_client_for(technician)
    for prescription in (first, second, stranger):
        technician_api.get(f"/api/v1/prescriptions/{prescription.pk}/")
    login(client, pharmacist)

    # when
    rows = report_rows(client, first)

    # then: both of the patient's prescriptions, the stranger's not
    read = {row.prescription for row in rows if row.who == technician.get_full_name()}
    assert read == {first.reference, second.reference}
    assert stranger.reference not in {row.prescription for row in rows}


def test_the_patients_record_read_from_another_prescription_is_in_each_prescriptions_log(
    client, login, prescriber, other_prescriber, pharmacist, superuser
):
    first = make_prescription(prescriber)
    second = make_prescription(other_prescriber)
    login(client, superuser)
    assert client.get(f"/admin/intake/patient/{second.patient_id}/change/").status_code == 200

    for prescription in (first, second):
        reads = [entry for entry in api_log(prescription, pharmacist) if entry["actor"] == superuser.email]
        assert [entry["action"] for entry in reads] == ["view"]


def test_reading_the_report_is_recorded_and_shown_on_the_next_reading(client, login, prescriber, pharmacist):
    prescription = make_prescription(prescriber)
    login(client, pharmacist)

    report_rows(client, prescription)
    rows = report_rows(client, prescription)

    mine = [row for row in rows if row.who == pharmacist.get_full_name()]
    assert [(row.action, row.description, row.record) for row in mine] == [
        ("Viewed", "access report", f"Patient #{prescription.patient_id}"),
    ]


def test_the_date_range_keeps_the_days_asked_for(client, login, prescriber, pharmacist, technician):
    # given: a read ten days ago and one today
    prescription = make_prescription(prescriber)
    technician_api = api_client_for(technician)
    with time_machine.travel(timezone.now() - timedelta(days=10)):
        technician_api.get(f"/api/v1/prescriptions/{prescription.pk}/")
    technician_api.get(f"/api/v1/prescriptions/{prescription.pk}/")
    today = timezone.localdate()
    login(client, pharmacist)

    # when
    recent = report_rows(client, prescription, date_from=str(today - timedelta(days=2)))
    old = report_rows(client, prescription, date_to=str(today - timedelta(days=5)))

    # then
    assert len([row for row in recent if row.who == technician.get_full_name()]) == 1
    assert all(row.at.date() >= today - timedelta(days=3) for row in recent)
    assert [row.who for row in old if row.who == technician.get_full_name()] == [technician.get_full_name()]
    assert all(row.at.date() <= today - timedelta(days=4) for row in old)


def test_the_channel_filter_keeps_one_channel(client, login, prescriber, pharmacist, technician):
    prescription = make_prescription(prescriber)
    _api_read(prescription, {"technician": technician}, None)
    _fhir_read(prescription, {"technician": technician}, None)
    login(client, pharmacist)

    rows = report_rows(client, prescription, channel="fhir")

    assert rows and {row.channel for row in rows} == {"fhir"}


def test_an_unreadable_filter_shows_no_rows(client, login, prescriber, pharmacist):
    prescription = make_prescription(prescriber)
    login(client, pharmacist)

    response = client.get(report_url(prescription), {"date_from": "yesterday"})

    assert response.status_code == 400 and response.context["rows"] == []


def test_pages_walk_back_through_every_row_once(client, login, prescriber, pharmacist, technician):
    # given: more reads than a page holds
    prescription = make_prescription(prescriber)
    technician_api = api_client_for(technician)
    for _ in range(PAGE_SIZE + 5):
        technician_api.get(f"/api/v1/prescriptions/{prescription.pk}/")
    expected = AuditRecord.objects.filter(prescription_reference=prescription.reference).count()
    login(client, pharmacist)

    # when: following the "Older" links (the first reading itself recorded before the second page)
    first = client.get(report_url(prescription))
    older = first.context["older"]
    second = client.get(report_url(prescription), {"before": older})

    # then
    seen = [row.at_iso for row in first.context["rows"]] + [row.at_iso for row in second.context["rows"]]
    assert len(first.context["rows"]) == PAGE_SIZE
    assert len(second.context["rows"]) == expected - PAGE_SIZE
    assert len(set(seen)) == len(seen) and second.context["older"] == ""
    assert f"before={older}" in first.content.decode()


def test_the_csv_export_is_streamed_and_parses_with_every_row(client, login, prescriber, pharmacist, technician):
    prescription = make_prescription(prescriber)
    _fhir_read(prescription, {"technician": technician}, None)
    login(client, pharmacist)
    page_rows = report_rows(client, prescription)

    export = client.get(reverse("staff:patient_access_csv", args=[prescription.patient_id]))

    assert export.status_code == 200 and export.streaming
    assert export["Content-Type"].startswith("text/csv") and "attachment" in export["Content-Disposition"]
    assert export["Cache-Control"] == "no-store"
    rows = list(csv.DictReader(io.StringIO(b"".join(export.streaming_content).decode())))
    # Newest first: the export itself, the page's viewing, then the page's rows.
    assert len(rows) == len(page_rows) + 2
    assert [(row["who"], row["action"]) for row in rows[:2]] == [
        (pharmacist.get_full_name(), "Downloaded"), (pharmacist.get_full_name(), "Viewed"),
    ]  # fmt: skip
    fhir = next(row for row in rows if row["channel"] == "fhir")
    assert (fhir["who"], fhir["role"], fhir["prescription"], fhir["ip"]) == (
        technician.get_full_name(), "Pharmacy technician", prescription.reference, STAFF_IP,
    )  # fmt: skip
    assert AuditRecord.objects.filter(actor=pharmacist, action=AuditAction.DOWNLOAD, object_type="patient",
                                      object_id=str(prescription.patient_id)).exists()  # fmt: skip


@pytest.mark.parametrize("sign", ["=", "+", "-", "@"])
def test_a_cell_that_a_spreadsheet_would_run_is_written_as_text(client, login, prescriber, pharmacist, sign):
    # given: a who that starts like a formula (an actor label cannot be chosen by a caller; a staff name can)
    prescription = make_prescription(prescriber)
    pharmacist.first_name = f"{sign}{FORMULA}"
    pharmacist.save(update_fields=["first_name"])
    login(client, pharmacist)
    report_rows(client, prescription)

    export = client.get(reverse("staff:patient_access_csv", args=[prescription.patient_id]))

    rows = list(csv.DictReader(io.StringIO(b"".join(export.streaming_content).decode())))
    names = {row["who"] for row in rows if "HYPERLINK" in row["who"]}
    assert names == {f"'{sign}{FORMULA} {pharmacist.last_name}"}


def test_the_search_finds_the_patient_by_name_and_birth_date(client, login, prescriber, pharmacy_admin):
    prescription = make_prescription(prescriber, patient={"first_name": "Zoë", "last_name": "O'Brien"})
    born_later = {"first_name": "Zoe", "last_name": "O'Brien", "date_of_birth": date(1990, 1, 1)}
    make_prescription(prescriber, patient=born_later)
    login(client, pharmacy_admin)

    found = client.get(reverse("staff:patient_search"), {"last_name": "obrien", "first_name": "zo",
                                                        "date_of_birth": BORN})  # fmt: skip

    assert found.status_code == 200
    assert [patient.pk for patient in found.context["found"]] == [prescription.patient_id]
    assert report_url(prescription) in found.content.decode()
    # The patient listed is a read of their record.
    assert AuditRecord.objects.filter(actor=pharmacy_admin, action=AuditAction.LIST, object_type="patient",
                                      object_id=str(prescription.patient_id)).exists()  # fmt: skip


def test_the_report_is_reached_from_the_prescriptions_page_and_the_admin(client, login, prescriber, pharmacist,
                                                                         superuser):  # fmt: skip
    prescription = make_prescription(prescriber)
    login(client, pharmacist)
    review = client.get(reverse("staff:review", args=[prescription.pk]))
    assert report_url(prescription) in review.content.decode()

    superuser_client = Client()
    login(superuser_client, superuser)
    admin = superuser_client.get(f"/admin/intake/patient/{prescription.patient_id}/change/")
    assert report_url(prescription) in admin.content.decode()


@pytest.mark.parametrize("route", ["staff:patient_access", "staff:patient_access_csv"])
def test_an_unknown_patient_is_not_found(client, login, pharmacist, route):
    login(client, pharmacist)

    assert client.get(reverse(route, args=[987654321])).status_code == 404


@pytest.mark.parametrize("route", ["staff:patient_search", "staff:patient_access", "staff:patient_access_csv"])
def test_only_a_pharmacist_or_an_administrator_opens_it(client, login, prescriber, technician, route):
    prescription = make_prescription(prescriber)
    args = [] if route == "staff:patient_search" else [prescription.patient_id]
    url = reverse(route, args=args)
    params = {"last_name": "Lovelace", "date_of_birth": BORN}

    anonymous = client.get(url, params)
    assert anonymous.status_code == 302 and "/login" in anonymous["Location"]
    for user in (technician, prescriber.user):
        login(client, user)
        refused = client.get(url, params)
        assert refused.status_code == 403
        assert "Lovelace" not in refused.content.decode()
    assert not AuditRecord.objects.filter(action__in=[AuditAction.VIEW, AuditAction.DOWNLOAD],
                                          object_type="patient").exists()  # fmt: skip


def test_the_access_log_answers_a_page_at_a_time_with_a_link_to_the_next(prescriber, pharmacist, technician,
                                                                         monkeypatch):  # fmt: skip
    # given: a log longer than a page (the page made small for the test)
    monkeypatch.setattr("intake.api.views.ACCESS_LOG_PAGE", 3)
    prescription = make_prescription(prescriber)
    for _ in range(4):
        api_client_for(technician).get(f"/api/v1/prescriptions/{prescription.pk}/")
    total = AuditRecord.objects.filter(prescription_reference=prescription.reference).count()
    api = api_client_for(pharmacist)

    # when: following the Link header to the end
    seen, url = [], f"/api/v1/prescriptions/{prescription.pk}/access-log/"
    while url:
        response = api.get(url)
        assert response.status_code == 200
        seen += response.json()
        link = response.get("Link", "")
        url = link[1 : link.index(">")] if link else ""

    # then: every entry once (each page's own reading is newer than the first page: never behind a cursor)
    assert len(seen) == total
    assert all(set(entry) >= {"at", "actor", "action", "ip"} for entry in seen)
    assert len({entry["at"] for entry in seen}) == len(seen)


def test_the_access_log_refuses_a_cursor_it_did_not_write(prescriber, pharmacist):
    prescription = make_prescription(prescriber)

    response = api_client_for(pharmacist).get(f"/api/v1/prescriptions/{prescription.pk}/access-log/",
                                              {"before": "yesterday"})  # fmt: skip

    assert response.status_code == 400 and "before" in response.json()


def test_the_staff_lists_that_name_the_patient_are_in_the_report(client, login, prescriber, pharmacist):
    # given: a failed message and a check-in waiting for a pharmacist, each naming the patient on a staff list
    prescription = make_prescription(prescriber)
    Notification.objects.filter(prescription=prescription).update(status=DeliveryStatus.FAILED)
    now = timezone.now()
    FollowUp.objects.create(prescription=prescription, token="t" * 43, sent_at=now, expires_at=now + timedelta(days=30),
                            answered_at=now, sleep_problems="bothersome", vivid_dreams="none", nausea="none",
                            headache="none", needs_pharmacist=True, reasons=["Sleep problems"])  # fmt: skip
    login(client, pharmacist)
    assert prescription.reference in client.get(reverse("notifications:list")).content.decode()
    assert prescription.reference in client.get(reverse("staff:follow_ups")).content.decode()

    # when
    rows = report_rows(client, prescription)

    # then
    listed = {(row.record.split(" #")[0], row.action) for row in rows if row.who == pharmacist.get_full_name()}
    assert {("Notification", "Listed"), ("Follow-up check-in", "Listed")} <= listed
