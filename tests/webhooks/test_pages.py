"""The prescriber's webhooks page: add, ping, remove, the latest deliveries, and who sees what."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from intake.models import AuditRecord, WebhookDelivery, WebhookSubscription
from tests.factories import make_prescription
from tests.webhooks.conftest import PUBLIC_URL, SECRET

PAGE = reverse("prescriber:webhooks")
ADD = reverse("prescriber:webhook_add")


def ping_url(subscription: WebhookSubscription) -> str:
    return reverse("prescriber:webhook_ping", args=[subscription.pk])


def remove_url(subscription: WebhookSubscription) -> str:
    return reverse("prescriber:webhook_remove", args=[subscription.pk])


@pytest.fixture
def signed_in(client, login, prescriber) -> Client:
    login(client, prescriber.user)
    return client


def test_the_menu_leads_to_the_page(signed_in):
    home = signed_in.get(reverse("prescriber:home"))

    assert f'href="{PAGE}"' in home.content.decode()
    assert signed_in.get(PAGE).status_code == 200


def test_adding_an_endpoint_with_a_secret(signed_in, prescriber):
    response = signed_in.post(ADD, {"hook-url": PUBLIC_URL, "hook-secret": SECRET})

    assert response.status_code == 302 and response["Location"] == PAGE
    subscription = WebhookSubscription.objects.get(prescriber=prescriber)
    assert (subscription.url, subscription.secret) == (PUBLIC_URL, SECRET)
    page = signed_in.get(PAGE).content.decode()
    assert PUBLIC_URL in page and subscription.secret_hint in page and SECRET not in page
    assert AuditRecord.objects.filter(object_type="webhook_subscription", action="create").count() == 1


def test_a_secret_made_by_the_pharmacy_is_shown_once(signed_in, prescriber):
    signed_in.post(ADD, {"hook-url": PUBLIC_URL, "hook-generate": "on"})

    subscription = WebhookSubscription.objects.get(prescriber=prescriber)
    assert len(subscription.secret) >= 32
    assert subscription.secret in signed_in.get(PAGE).content.decode()
    assert subscription.secret not in signed_in.get(PAGE).content.decode()


@pytest.mark.parametrize(
    ("data", "field_error"),
    [
        ({"hook-url": "https://127.0.0.1/hook", "hook-secret": SECRET}, "public addresses only"),
        ({"hook-url": "http://93.184.215.14/hook", "hook-secret": SECRET}, "Use https"),
        ({"hook-url": PUBLIC_URL, "hook-secret": "short"}, "16 to 256"),
        ({"hook-url": PUBLIC_URL}, "Give a secret"),
    ],
)
def test_a_bad_endpoint_is_shown_back_and_nothing_is_added(signed_in, data, field_error):
    response = signed_in.post(ADD, data)

    assert response.status_code == 400
    assert field_error in response.content.decode()
    assert not WebhookSubscription.objects.exists()


def test_a_ping_is_sent_and_shown_among_the_deliveries(signed_in, prescriber, subscribe, receiver):
    subscription = subscribe(prescriber, receiver.url())

    response = signed_in.post(ping_url(subscription))

    assert response.status_code == 302
    (delivery,) = WebhookDelivery.objects.filter(subscription=subscription)
    assert delivery.event == "webhook.ping"
    page = signed_in.get(PAGE).content.decode()
    assert "webhook.ping" in page and delivery.get_status_display() in page


def test_removing_asks_first_then_ends_it(signed_in, prescriber, subscribe, receiver):
    subscription = subscribe(prescriber, receiver.url())

    confirm = signed_in.get(remove_url(subscription))
    assert confirm.status_code == 200
    assert 'method="post"' in confirm.content.decode() and subscription.url in confirm.content.decode()
    assert WebhookSubscription.objects.get(pk=subscription.pk).ended_at is None

    removed = signed_in.post(remove_url(subscription))

    assert removed.status_code == 302
    assert WebhookSubscription.objects.get(pk=subscription.pk).ended_at is not None
    assert "No endpoint yet." in signed_in.get(PAGE).content.decode()


def test_the_deliveries_are_the_prescribers_own_only(signed_in, prescriber, other_prescriber, subscribe, receiver):
    subscribe(prescriber, receiver.url("/mine"))
    subscribe(other_prescriber, receiver.url("/theirs"))
    mine = make_prescription(prescriber)
    theirs = make_prescription(other_prescriber, patient={"first_name": "Otto"})

    page = signed_in.get(PAGE).content.decode()

    assert mine.reference in page and "/mine" in page
    assert theirs.reference not in page and "/theirs" not in page


def test_another_prescribers_endpoint_cannot_be_pinged_nor_removed(signed_in, other_prescriber, subscribe, receiver):
    theirs = subscribe(other_prescriber, receiver.url())

    answers = [signed_in.post(ping_url(theirs)), signed_in.get(remove_url(theirs)), signed_in.post(remove_url(theirs))]

    assert [answer.status_code for answer in answers] == [404, 404, 404]
    assert WebhookSubscription.objects.get(pk=theirs.pk).ended_at is None
    assert not WebhookDelivery.objects.exists()


def test_posts_without_the_csrf_token_are_refused(prescriber, subscribe, receiver):
    subscription = subscribe(prescriber, receiver.url())
    client = Client(enforce_csrf_checks=True)
    client.force_login(prescriber.user, backend="accounts.backends.PharmacyBackend")

    answers = [
        client.post(ADD, {"hook-url": PUBLIC_URL, "hook-secret": SECRET}),
        client.post(ping_url(subscription)),
        client.post(remove_url(subscription)),
    ]

    assert [answer.status_code for answer in answers] == [403, 403, 403]
    assert WebhookSubscription.objects.filter(ended_at__isnull=True).count() == 1
    assert not WebhookDelivery.objects.exists()


def test_staff_are_refused(client, login, pharmacist):
    login(client, pharmacist)

    assert client.get(PAGE).status_code == 403
    assert client.post(ADD, {"hook-url": PUBLIC_URL, "hook-secret": SECRET}).status_code == 403
    assert not WebhookSubscription.objects.exists()
