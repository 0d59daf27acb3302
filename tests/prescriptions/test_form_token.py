"""The signed prescription form is sent once: Back and submit again, or a second click, shows the
prescription already made."""

import re

import pytest
from django.contrib.messages import get_messages
from django.test import Client
from django.urls import reverse

from intake.models import IdempotencyKey, Prescription, PrescriptionEvent
from tests.prescriptions.test_prescriber_web import NEW, form_data
from tests.simultaneous import at_once

ALREADY_SENT = "This prescription was already sent: here it is."


@pytest.fixture
def prescriber_client(client, login, prescriber):
    login(client, prescriber.user)
    return client


def form_token(client) -> str:
    html = client.get(NEW).content.decode()
    found = re.search(r'<input type="hidden" name="form_token" value="([^"]+)"', html)
    assert found is not None
    return found.group(1)


def said(response) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


def test_each_showing_of_the_form_carries_its_own_token(prescriber_client):
    assert form_token(prescriber_client) != form_token(prescriber_client)


def test_the_same_form_posted_twice_makes_one_prescription(prescriber_client):
    data = form_data(form_token=form_token(prescriber_client))
    first = prescriber_client.post(NEW, data)

    second = prescriber_client.post(NEW, data)

    prescription = Prescription.objects.get()
    assert first.status_code == 302
    assert first.url == reverse("prescriber:submitted", args=[prescription.pk])
    assert second.status_code == 302
    assert second.url == reverse("prescriber:detail", args=[prescription.pk])
    assert said(second)[-1] == ALREADY_SENT
    assert PrescriptionEvent.objects.filter(action="submit").count() == 1


def test_back_change_and_submit_again_still_shows_the_first(prescriber_client):
    token = form_token(prescriber_client)
    prescriber_client.post(NEW, form_data(form_token=token))

    again = prescriber_client.post(NEW, form_data(form_token=token, **{"rx-strength_mg": "3"}), follow=True)

    prescription = Prescription.objects.get()
    assert prescription.strength_mg == 4.5
    assert again.redirect_chain[-1][0] == reverse("prescriber:detail", args=[prescription.pk])
    assert ALREADY_SENT in again.content.decode()


def test_a_form_shown_again_for_a_mistake_keeps_its_token(prescriber_client):
    token = form_token(prescriber_client)

    response = prescriber_client.post(NEW, form_data(form_token=token, **{"patient-sex": ""}))

    assert f'name="form_token" value="{token}"' in response.content.decode()
    assert not Prescription.objects.exists()


def test_a_new_form_makes_a_new_prescription(prescriber_client):
    prescriber_client.post(NEW, form_data(form_token=form_token(prescriber_client)))

    prescriber_client.post(NEW, form_data(form_token=form_token(prescriber_client)))

    assert Prescription.objects.count() == 2


def test_another_prescribers_token_finds_nothing_of_theirs(prescriber_client, client, login, other_prescriber):
    token = form_token(prescriber_client)
    prescriber_client.post(NEW, form_data(form_token=token))
    other = Client()
    login(other, other_prescriber.user)

    response = other.post(NEW, form_data(form_token=token, **{"sign-signature_name": "Jonas Salk"}))

    assert response.status_code == 302
    assert Prescription.objects.filter(prescriber=other_prescriber).count() == 1
    assert IdempotencyKey.objects.count() == 2


@pytest.mark.django_db(transaction=True)
def test_a_double_click_at_the_same_moment_makes_one_prescription(prescriber):
    clients = []
    for _ in range(2):
        client = Client()
        client.force_login(prescriber.user, backend="accounts.backends.PharmacyBackend")
        clients.append(client)
    data = form_data(form_token=form_token(clients[0]))

    responses = at_once(*(lambda c=c: c.post(NEW, data) for c in clients))

    prescription = Prescription.objects.get()
    assert sorted(response.url for response in responses) == sorted(
        [reverse("prescriber:submitted", args=[prescription.pk]), reverse("prescriber:detail", args=[prescription.pk])]
    )
    assert PrescriptionEvent.objects.filter(action="submit").count() == 1
