"""GET /fhir/R4/MedicationRequest: a searchset of what the caller may see, by identifier, status and
_lastUpdated, in pages."""

from __future__ import annotations

from datetime import datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from django.utils import timezone

from intake.api.fhir import codes
from intake.models import AuditAction, AuditRecord, IdempotencyKey, Patient, Prescription
from tests.factories import make_prescription
from tests.fhir.reading import fhir_get, outcome_issue, prescription_at, resources_in, validated


def search(client, params=None, **headers):
    return fhir_get(client, "MedicationRequest", params, **headers)


def ids(bundle):
    return [int(resource["id"]) for resource in resources_in(bundle)]


def test_a_prescriber_finds_only_their_own(prescriber_api, prescriber, other_prescriber):
    mine = make_prescription(prescriber)
    make_prescription(other_prescriber, patient={"first_name": "Mary"})

    response = search(prescriber_api)

    assert response.status_code == 200
    bundle = validated(response.json())
    assert (bundle["type"], bundle["total"]) == ("searchset", 1)
    assert ids(bundle) == [mine.pk]
    entry = bundle["entry"][0]
    assert entry["fullUrl"] == f"http://testserver/fhir/R4/MedicationRequest/{mine.pk}"
    assert entry["search"] == {"mode": "match"}


def test_staff_find_every_prescription_newest_first(pharmacist_api, prescriber, other_prescriber):
    first = make_prescription(prescriber)
    second = make_prescription(other_prescriber, patient={"first_name": "Mary"})

    bundle = search(pharmacist_api).json()

    assert ids(bundle) == [second.pk, first.pk]


def test_anonymous_gets_401(api):
    response = search(api)

    assert response.status_code == 401
    assert outcome_issue(response)["code"] == "login"


def test_a_search_is_audited_as_a_list(prescriber_api, prescriber):
    make_prescription(prescriber)

    search(prescriber_api, {"status": "active"})

    record = AuditRecord.objects.filter(action=AuditAction.LIST).latest("id")
    assert record.actor == prescriber.user
    assert record.description.startswith("1 shown through FHIR; status=active")


def test_by_order_number_with_or_without_the_system(prescriber_api, prescriber):
    wanted = make_prescription(prescriber)
    make_prescription(prescriber, patient={"first_name": "Mary"})

    plain = search(prescriber_api, {"identifier": wanted.reference}).json()
    with_system = search(prescriber_api, {"identifier": f"{codes.ORDER_NUMBER_SYSTEM}|{wanted.reference}"}).json()
    lower_case = search(prescriber_api, {"identifier": wanted.reference.lower()}).json()

    assert ids(plain) == ids(with_system) == ids(lower_case) == [wanted.pk]


def test_by_the_identifier_the_ehr_sent(prescriber_api, prescriber, other_prescriber_api):
    wanted = make_prescription(prescriber)
    make_prescription(prescriber, patient={"first_name": "Mary"})
    IdempotencyKey.objects.create(prescriber=prescriber, key=codes.identifier_key("urn:ehr", "A-1"),
                                  request_digest="0" * 64, prescription=wanted)  # fmt: skip

    assert ids(search(prescriber_api, {"identifier": "urn:ehr|A-1"}).json()) == [wanted.pk]
    assert ids(search(prescriber_api, {"identifier": "A-1"}).json()) == [wanted.pk]
    assert ids(search(prescriber_api, {"identifier": "urn:other|A-1"}).json()) == []
    assert ids(search(prescriber_api, {"identifier": "|A-1"}).json()) == []
    # Another prescriber's search never reaches it, by any identifier.
    assert ids(search(other_prescriber_api, {"identifier": "urn:ehr|A-1"}).json()) == []


def test_an_identifier_without_a_system_matches_an_identifier_sent_without_one(prescriber_api, prescriber):
    wanted = make_prescription(prescriber)
    IdempotencyKey.objects.create(prescriber=prescriber, key=codes.identifier_key("", "NOSYS-9"),
                                  request_digest="0" * 64, prescription=wanted)  # fmt: skip

    assert ids(search(prescriber_api, {"identifier": "|NOSYS-9"}).json()) == [wanted.pk]
    assert search(prescriber_api).json()["entry"][0]["resource"]["identifier"][1] == {
        "use": "usual",
        "value": "NOSYS-9",
    }


def test_comma_separated_identifiers_mean_any_of_them(prescriber_api, prescriber):
    one = make_prescription(prescriber)
    two = make_prescription(prescriber, patient={"first_name": "Mary"})
    make_prescription(prescriber, patient={"first_name": "Ruth"})

    bundle = search(prescriber_api, {"identifier": f"{one.reference},{two.reference}"}).json()

    assert sorted(ids(bundle)) == sorted([one.pk, two.pk])


def test_by_status(prescriber_api, prescriber, pharmacist, technician):
    def at(status: str, name: str) -> Prescription:
        return prescription_at(status, prescriber, pharmacist=pharmacist, technician=technician,
                               patient={"first_name": name})  # fmt: skip

    waiting = at("awaiting_questionnaire", "Ann")
    held = at("on_hold", "Bea")
    rejected = at("rejected", "Cat")
    cancelled = at("cancelled", "Dee")
    ready = at("ready", "Eve")

    def found(status: str) -> set[int]:
        return set(ids(search(prescriber_api, {"status": status}).json()))

    assert found("active") == {waiting.pk, ready.pk}
    assert found("on-hold") == {held.pk}
    assert found("stopped") == {rejected.pk}
    assert found("cancelled") == {cancelled.pk}
    assert found("stopped,cancelled") == {rejected.pk, cancelled.pk}
    assert found("completed") == set()
    assert found("draft") == set()


def test_an_unknown_status_answers_400_naming_the_parameter(prescriber_api, prescriber):
    make_prescription(prescriber)

    response = search(prescriber_api, {"status": "approved"})

    assert response.status_code == 400
    issue = outcome_issue(response)
    assert issue["expression"] == ["status"]


def test_by_last_updated(prescriber_api, prescriber):
    old = make_prescription(prescriber)
    new = make_prescription(prescriber, patient={"first_name": "Mary"})
    long_ago = timezone.now() - timedelta(days=40)
    Prescription.objects.filter(pk=old.pk).update(updated_at=long_ago)
    Patient.objects.filter(pk=old.patient_id).update(updated_at=long_ago)
    today = timezone.localdate()
    day_of_old = timezone.localdate(long_ago)

    def found(*values: str) -> list[int]:
        return ids(search(prescriber_api, [("_lastUpdated", value) for value in values]).json())

    assert found(f"ge{today.isoformat()}") == [new.pk]
    assert found(f"lt{today.isoformat()}") == [old.pk]
    assert found(day_of_old.isoformat()) == [old.pk]
    assert found(f"eq{day_of_old.isoformat()}") == [old.pk]
    assert found(f"gt{day_of_old.isoformat()}") == [new.pk]
    assert found(f"le{day_of_old.isoformat()}") == [old.pk]
    assert found(f"ge{day_of_old.isoformat()}", f"lt{today.isoformat()}") == [old.pk]
    assert found(f"ge{day_of_old:%Y-%m}") == [new.pk, old.pk]
    assert found(f"lt{day_of_old.year - 1}") == []
    moment = (timezone.now() - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert found(f"gt{moment}") == [new.pk]
    assert found(f"lt{moment.replace('Z', '+00:00')}") == [old.pk]


def test_a_patient_change_counts_as_a_change_of_the_medication_request(prescriber_api, prescriber):
    prescription = make_prescription(prescriber)
    long_ago = timezone.now() - timedelta(days=40)
    Prescription.objects.filter(pk=prescription.pk).update(updated_at=long_ago)

    bundle = search(prescriber_api, {"_lastUpdated": f"ge{timezone.localdate().isoformat()}"}).json()

    assert ids(bundle) == [prescription.pk]
    patient = Patient.objects.get(pk=prescription.patient_id)
    shown = bundle["entry"][0]["resource"]["meta"]["lastUpdated"]
    assert datetime.fromisoformat(shown) == patient.updated_at


@pytest.mark.parametrize("value", ["yesterday", "ap2026-01-01", "2026-13-01", "ge2026-01-01T25:00:00Z", ""])
def test_a_bad_last_updated_answers_400(prescriber_api, prescriber, value):
    response = search(prescriber_api, {"_lastUpdated": value})

    assert response.status_code == 400
    assert outcome_issue(response)["expression"] == ["_lastUpdated"]


def test_unknown_parameters_are_ignored_unless_handling_is_strict(prescriber_api, prescriber):
    prescription = make_prescription(prescriber)

    lenient = search(prescriber_api, {"patient.name": "Lovelace", "status": "active"})
    strict = search(prescriber_api, {"patient.name": "Lovelace"}, HTTP_PREFER="handling=strict")

    assert lenient.status_code == 200
    assert ids(lenient.json()) == [prescription.pk]
    # The self link says what was applied: the ignored parameter is not in it.
    self_link = next(link["url"] for link in lenient.json()["link"] if link["relation"] == "self")
    assert "patient.name" not in self_link and "status=active" in self_link
    assert strict.status_code == 400
    assert outcome_issue(strict)["expression"] == ["patient.name"]


def _links(bundle):
    return {link["relation"]: link["url"] for link in bundle["link"]}


def test_pages_follow_the_next_links(prescriber_api, prescriber):
    made = [make_prescription(prescriber, patient={"first_name": f"Pat{n}"}) for n in range(5)]

    first = search(prescriber_api, {"_count": "2", "status": "active"}).json()
    pages = [first]
    while "next" in _links(pages[-1]):
        parts = urlsplit(_links(pages[-1])["next"])
        pages.append(search(prescriber_api, {k: v[0] for k, v in parse_qs(parts.query).items()}).json())

    assert [len(page["entry"]) for page in pages] == [2, 2, 1]
    assert {page["total"] for page in pages} == {5}
    assert [pk for page in pages for pk in ids(page)] == [p.pk for p in reversed(made)]
    assert "previous" not in _links(first) and "previous" in _links(pages[-1])
    assert parse_qs(urlsplit(_links(pages[1])["next"]).query)["status"] == ["active"]


def test_count_defaults_to_25_and_is_held_to_100(prescriber_api, prescriber):
    make_prescription(prescriber)

    assert "_count=25" in _links(search(prescriber_api).json())["self"]
    assert "_count=100" in _links(search(prescriber_api, {"_count": "1000"}).json())["self"]


@pytest.mark.parametrize("params", [{"_count": "-1"}, {"_count": "ten"}, {"_offset": "-1"}, {"_offset": "1e3"}])
def test_bad_paging_answers_400(prescriber_api, prescriber, params):
    response = search(prescriber_api, params)

    assert response.status_code == 400
    assert outcome_issue(response)["expression"] == list(params)


def test_count_zero_answers_the_total_alone(prescriber_api, prescriber):
    make_prescription(prescriber)
    make_prescription(prescriber, patient={"first_name": "Mary"})

    bundle = validated(search(prescriber_api, {"_count": "0"}).json())

    assert bundle["total"] == 2
    assert "entry" not in bundle
    assert set(_links(bundle)) == {"self"}


def test_an_empty_search_is_an_empty_searchset(prescriber_api, prescriber):
    bundle = validated(search(prescriber_api).json())

    assert bundle["total"] == 0
    assert "entry" not in bundle
