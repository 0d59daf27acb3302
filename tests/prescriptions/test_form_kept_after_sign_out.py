"""A long form posted after its session ended is kept, never in a URL, and given back once, to the
same account only, after signing in again: to be checked and signed anew, nothing sent until then."""

from __future__ import annotations

import re
from datetime import date, timedelta
from urllib.parse import unquote

import pytest
from django.conf import settings
from django.contrib.sessions.models import Session
from django.urls import reverse
from django.utils import timezone

from intake.models import Clarification, Prescription, PrescriptionStatus
from intake.services.questionnaire import questionnaire_submit
from intake.services.workflow import prescription_claim, prescription_request_clarification
from intake.web.drafts import KEPT_FOR_SECONDS, OWNER_FIELD, RESTORED_MESSAGE
from tests.factories import PASSWORD, clean_answers, make_prescription
from tests.prescriptions.test_prescriber_web import form_data

pytestmark = pytest.mark.django_db

NEW = reverse("prescriber:new")
LOGIN = reverse("login")


def _owner_token(html: str) -> str:
    found = re.search(rf'name="{OWNER_FIELD}" value="([^"]+)"', html)
    assert found, "the form does not say whose it is"
    return found.group(1)


def _session_ends(client) -> None:
    key = client.cookies[settings.SESSION_COOKIE_NAME].value
    Session.objects.filter(session_key=key).update(expire_date=timezone.now() - timedelta(seconds=1))


def _sign_in(client, user, next_url: str):
    return client.post(LOGIN, {"username": user.email, "password": PASSWORD, "next": next_url})


@pytest.fixture
def signed_out_with_a_filled_form(client, login, prescriber):
    """The prescriber opened the form, the session ended while they filled it, and they sent it."""
    login(client, prescriber.user)
    token = _owner_token(client.get(NEW).content.decode())
    _session_ends(client)
    return client.post(NEW, form_data(**{OWNER_FIELD: token, "rx-prescriber_notes": "Started low, tolerating"}))


def test_the_form_posted_after_the_session_ended_is_kept_out_of_the_url(signed_out_with_a_filled_form):
    response = signed_out_with_a_filled_form

    assert response.status_code == 302
    assert response["Location"] == f"{LOGIN}?next={NEW}"
    for value in ("Lovelace", "ada@example.com", "78701", "fibromyalgia", "Grace Hopper", "tolerating"):
        assert value not in unquote(response["Location"])
    assert Prescription.objects.count() == 0


def test_the_login_page_says_the_form_will_be_waiting(client, signed_out_with_a_filled_form):
    html = client.get(signed_out_with_a_filled_form["Location"]).content.decode()

    assert "Your session ended, so nothing was sent." in html
    assert "your form will be waiting" in html


def test_signing_in_again_gives_the_form_back_unsigned(client, prescriber, signed_out_with_a_filled_form):
    # when: the same prescriber signs in and lands back on the form
    signed_in = _sign_in(client, prescriber.user, NEW)
    assert signed_in.status_code == 302 and signed_in["Location"] == NEW
    response = client.get(NEW)

    # then: every field as they wrote it, but the signature is theirs to give again
    assert response.status_code == 200
    patient, rx = response.context["patient_form"], response.context["prescription_form"]
    titration, signature = response.context["formset"], response.context["signature_form"]
    assert patient["last_name"].value() == "Lovelace"
    assert patient["email"].value() == "ada@example.com"
    assert rx["prescriber_notes"].value() == "Started low, tolerating"
    assert [form["strength_mg"].value() for form in titration] == ["1.5", "3"]
    assert not signature["signature_name"].value()
    assert not signature["signature_attestation"].value()
    assert RESTORED_MESSAGE in response.content.decode()
    assert Prescription.objects.count() == 0


def test_the_form_is_given_back_once(client, prescriber, signed_out_with_a_filled_form):
    _sign_in(client, prescriber.user, NEW)
    client.get(NEW)

    again = client.get(NEW)

    assert not again.context["patient_form"].is_bound
    assert "kept_forms" not in client.session


def test_signed_anew_it_is_sent_once(client, prescriber, signed_out_with_a_filled_form):
    _sign_in(client, prescriber.user, NEW)
    client.get(NEW)

    client.post(NEW, form_data())

    assert Prescription.objects.get().patient.last_name == "Lovelace"


def test_another_account_signing_in_on_that_browser_gets_nothing(
    client, prescriber, other_prescriber, signed_out_with_a_filled_form
):
    # when: a colleague signs in on the same browser
    _sign_in(client, other_prescriber.user, NEW)
    response = client.get(NEW)

    # then: an empty form, and the first prescriber's patient is gone from this session
    assert not response.context["patient_form"].is_bound
    assert "Lovelace" not in response.content.decode()
    assert "kept_forms" not in client.session


def test_a_kept_form_lasts_a_short_while(client, prescriber, time_machine):
    time_machine.move_to(timezone.now(), tick=False)
    client.force_login(prescriber.user, backend="accounts.backends.PharmacyBackend")
    token = _owner_token(client.get(NEW).content.decode())
    _session_ends(client)
    client.post(NEW, form_data(**{OWNER_FIELD: token}))

    # when: they come back after the kept form's lifetime
    time_machine.shift(timedelta(seconds=KEPT_FOR_SECONDS + 1))
    _sign_in(client, prescriber.user, NEW)
    response = client.get(NEW)

    # then
    assert not response.context["patient_form"].is_bound
    assert "kept_forms" not in client.session


def test_a_form_without_its_owner_is_not_kept(client, login, prescriber):
    # given: the owner's token forged (or lost); nobody can say whose form it is
    login(client, prescriber.user)
    token = _owner_token(client.get(NEW).content.decode())
    _session_ends(client)

    response = client.post(NEW, form_data(**{OWNER_FIELD: token[:-2] + "xx"}))

    assert response.status_code == 302 and response["Location"].startswith(LOGIN)
    assert "kept_forms" not in client.session
    assert Prescription.objects.count() == 0


def test_a_signed_in_post_is_not_kept(client, login, prescriber):
    login(client, prescriber.user)
    token = _owner_token(client.get(NEW).content.decode())

    client.post(NEW, form_data(**{OWNER_FIELD: token}))

    assert Prescription.objects.count() == 1
    assert "kept_forms" not in client.session


def test_an_answer_to_the_pharmacy_is_kept_too(client, login, prescriber, pharmacist):
    # given: a question from the pharmacy, and the prescriber's session ends while they answer
    prescription = make_prescription(prescriber, strength_mg="6", titration=())
    questionnaire_submit(token=prescription.questionnaire_token, date_of_birth=date(1980, 2, 29),
                         answers=clean_answers())  # fmt: skip
    prescription_claim(prescription_id=prescription.pk, actor=pharmacist)
    prescription_request_clarification(prescription_id=prescription.pk, actor=pharmacist, message="Did you mean 4.5?")
    detail = reverse("prescriber:detail", args=[prescription.pk])
    login(client, prescriber.user)
    token = _owner_token(client.get(detail).content.decode())
    _session_ends(client)

    # when
    sent = client.post(reverse("prescriber:respond", args=[prescription.pk]), {
        OWNER_FIELD: token, "respond-message": "Yes, I meant 4.5 mg at bedtime.", "respond-correct": "on",
        "respond-strength_mg": "4.5", "respond-signature_name": "Grace Hopper",
    })  # fmt: skip
    _sign_in(client, prescriber.user, detail)
    response = client.get(detail)

    # then: the answer is back on the page, unsigned, and nothing reached the pharmacy
    assert sent["Location"].startswith(LOGIN) and "4.5" not in sent["Location"]
    form = response.context["respond_form"]
    assert form["message"].value() == "Yes, I meant 4.5 mg at bedtime."
    assert form["strength_mg"].value() == "4.5"
    assert not form["signature_name"].value()
    prescription.refresh_from_db()
    assert prescription.status == PrescriptionStatus.ON_HOLD
    assert Clarification.objects.get().responded_at is None
