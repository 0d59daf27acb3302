"""The side-effect check-in at its private link: the birth-date gate, the form,
the advice, and the answers that land in the pharmacist's follow-up list."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from django.core.cache import cache
from django.test import Client
from django.utils import timezone

from intake.clinical.follow_up import follow_up_table, symptom_labels
from intake.models import AuditAction, AuditRecord, FollowUp, PrescriptionStatus
from intake.services.follow_up import follow_ups_for_pharmacist
from intake.services.timers import follow_up_send
from tests.factories import make_prescription
from tests.patient.conftest import assert_nothing_clinical
from tests.refills.test_patient_pages import BIRTH_DATE, dispensed

S = PrescriptionStatus
ADVICE = follow_up_table()["advice"]


@pytest.fixture(autouse=True)
def _clear_cache():
    # The throttles count in the cache; each test starts with none.
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def follow_up(prescriber, pharmacist, technician) -> FollowUp:
    """The check-in sent for a first fill that was handed over."""
    prescription = dispensed(prescriber, pharmacist, technician)
    assert follow_up_send(prescription_id=prescription.pk, now=timezone.now())
    return FollowUp.objects.select_related("prescription").get(prescription=prescription)


def link(follow_up: FollowUp, suffix: str = "") -> str:
    return f"/check-in/{follow_up.token}{suffix}"


@pytest.fixture
def patient(client: Client, follow_up: FollowUp) -> Client:
    """The patient's browser, after confirming the birth date at the check-in link."""
    response = client.post(link(follow_up), {"date_of_birth": BIRTH_DATE})
    assert response.status_code == 302
    assert response["Location"] == link(follow_up)
    return client


def answers(**overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {code: "none" for code in symptom_labels()}
    data["other_effects"] = ""
    data.update(overrides)
    return data


# --- the gate -------------------------------------------------------------------------------------


def test_the_link_asks_for_the_birth_date_and_shows_nothing_else(client: Client, follow_up: FollowUp) -> None:
    response = client.get(link(follow_up))

    body = response.content.decode()
    assert response.status_code == 200
    assert 'name="date_of_birth"' in body
    assert 'name="sleep_problems"' not in body
    assert follow_up.prescription.reference not in body
    assert_nothing_clinical(body)
    assert "no-store" in response["Cache-Control"] or response["Cache-Control"].startswith("max-age=0")


def test_a_wrong_birth_date_shows_nothing_and_opens_nothing(client: Client, follow_up: FollowUp) -> None:
    response = client.post(link(follow_up), {"date_of_birth": "1980-03-01"})

    body = response.content.decode()
    assert response.status_code == 200
    assert "does not match" in body
    assert follow_up.prescription.reference not in body
    assert 'name="sleep_problems"' not in client.get(link(follow_up)).content.decode()
    assert AuditRecord.objects.filter(
        prescription_reference=follow_up.prescription.reference, action=AuditAction.DENIED
    ).exists()


def test_birth_date_guesses_are_throttled(client: Client, follow_up: FollowUp, settings) -> None:
    misses_allowed = int(settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]["patient_lookup"].split("/")[0])

    for _ in range(misses_allowed):
        assert client.post(link(follow_up), {"date_of_birth": "1970-01-01"}).status_code == 200
    response = client.post(link(follow_up), {"date_of_birth": BIRTH_DATE})

    assert response.status_code == 429
    assert 'name="sleep_problems"' not in client.get(link(follow_up)).content.decode()


def test_unknown_and_expired_links(client: Client, follow_up: FollowUp) -> None:
    unknown = client.get("/check-in/" + "x" * 43)
    FollowUp.objects.filter(pk=follow_up.pk).update(expires_at=timezone.now() - timedelta(minutes=1))
    expired = client.get(link(follow_up))

    assert unknown.status_code == 404
    assert expired.status_code == 410
    assert "check-in link has expired" in expired.content.decode()
    assert follow_up.prescription.reference not in expired.content.decode()


def test_another_patients_birth_date_does_not_open_the_check_in(
    client: Client, follow_up: FollowUp, other_prescriber
) -> None:
    other = make_prescription(other_prescriber, patient={"first_name": "Otto", "date_of_birth": date(1990, 5, 5)})
    client.post(f"/status/{other.questionnaire_token}", {"date_of_birth": "1990-05-05"})

    body = client.get(link(follow_up)).content.decode()

    assert 'name="date_of_birth"' in body
    assert 'name="sleep_problems"' not in body


# --- the form and the answers ---------------------------------------------------------------------


def test_the_form_asks_each_symptom_with_labels(patient: Client, follow_up: FollowUp) -> None:
    response = patient.get(link(follow_up))

    body = response.content.decode()
    assert response.status_code == 200
    for code, label in symptom_labels().items():
        assert f'<legend class="fs-6 fw-bold">{label}</legend>' in body
        for level in ("none", "mild", "bothersome"):
            assert f'name="{code}" value="{level}"' in body
    assert "A little" in body and "Not at all" in body
    assert "Anything else?" in body
    assert "I would like a pharmacist to call me" in body
    assert_nothing_clinical(body)
    assert AuditRecord.objects.filter(
        prescription_reference=follow_up.prescription.reference, description="side-effect check-in form"
    ).exists()


def test_disturbed_sleep_brings_the_morning_dosing_advice(patient: Client, follow_up: FollowUp) -> None:
    # when
    response = patient.post(link(follow_up), answers(sleep_problems="mild", vivid_dreams="mild"), follow=True)

    # then
    assert response.redirect_chain[-1][0] == link(follow_up, "/thanks")
    body = response.content.decode()
    assert ADVICE["morning_dosing"] in body
    assert ADVICE["mild"] in body
    follow_up.refresh_from_db()
    assert follow_up.answered_at is not None
    assert (follow_up.sleep_problems, follow_up.vivid_dreams, follow_up.nausea) == ("mild", "mild", "none")
    assert follow_up.needs_pharmacist is False
    assert follow_up not in follow_ups_for_pharmacist()
    assert AuditRecord.objects.filter(
        prescription_reference=follow_up.prescription.reference,
        action=AuditAction.UPDATE,
        description="side-effect check-in answered",
    ).exists()


def test_no_effects_gives_the_reassurance(patient: Client, follow_up: FollowUp) -> None:
    body = patient.post(link(follow_up), answers(), follow=True).content.decode()

    assert ADVICE["none"] in body
    assert ADVICE["morning_dosing"] not in body


@pytest.mark.parametrize(
    "given",
    [
        {"nausea": "bothersome"},
        {"wants_call": "on"},
        {"other_effects": "A rash on my arms"},
    ],
    ids=["bothersome", "asked for a call", "other effects"],
)
def test_answers_that_need_a_pharmacist_land_in_the_follow_up_list(
    patient: Client, follow_up: FollowUp, given: dict[str, str]
) -> None:
    body = patient.post(link(follow_up), answers(**given), follow=True).content.decode()

    assert ADVICE["pharmacist"] in body
    follow_up.refresh_from_db()
    assert follow_up.needs_pharmacist is True
    assert follow_up in follow_ups_for_pharmacist()


def test_a_missing_answer_is_asked_again_and_nothing_is_kept(patient: Client, follow_up: FollowUp) -> None:
    data = answers()
    del data["headache"]

    response = patient.post(link(follow_up), data)

    assert response.status_code == 200
    assert "Choose one answer." in response.content.decode()
    follow_up.refresh_from_db()
    assert follow_up.answered_at is None


def test_an_answered_check_in_shows_the_advice_again_and_takes_no_second_answer(
    patient: Client, follow_up: FollowUp
) -> None:
    patient.post(link(follow_up), answers(vivid_dreams="mild"))
    follow_up.refresh_from_db()
    first = (follow_up.answered_at, follow_up.vivid_dreams, follow_up.needs_pharmacist)
    events = follow_up.prescription.events.count()

    again = patient.get(link(follow_up), follow=True)
    second = patient.post(link(follow_up), answers(nausea="bothersome", wants_call="on"))

    assert ADVICE["morning_dosing"] in again.content.decode()
    assert 'name="sleep_problems"' not in again.content.decode()
    assert second.status_code == 302
    follow_up.refresh_from_db()
    assert (follow_up.answered_at, follow_up.vivid_dreams, follow_up.needs_pharmacist) == first
    assert follow_up.prescription.events.count() == events


def test_an_answered_check_in_still_opens_after_its_expiry(patient: Client, follow_up: FollowUp) -> None:
    patient.post(link(follow_up), answers())
    FollowUp.objects.filter(pk=follow_up.pk).update(expires_at=timezone.now() - timedelta(days=1))

    response = patient.get(link(follow_up, "/thanks"))

    assert response.status_code == 200
    assert ADVICE["none"] in response.content.decode()


def test_the_thanks_page_before_answering_goes_to_the_form(patient: Client, follow_up: FollowUp) -> None:
    response = patient.get(link(follow_up, "/thanks"))

    assert response.status_code == 302
    assert response["Location"] == link(follow_up)


def test_answers_posted_after_the_unlock_ended_are_not_kept(client: Client, follow_up: FollowUp) -> None:
    response = client.post(link(follow_up), answers(nausea="bothersome"))

    assert response.status_code == 200
    assert "were not saved" in response.content.decode()
    follow_up.refresh_from_db()
    assert follow_up.answered_at is None
