"""POST/GET /api/v1/webhooks/, DELETE /api/v1/webhooks/{id}/, POST …/ping/: who may, what is checked."""

from __future__ import annotations

import socket

import pytest

from intake.models import AuditRecord, WebhookDelivery, WebhookSubscription
from tests.webhooks.conftest import PUBLIC_URL, SECRET

WEBHOOKS = "/api/v1/webhooks/"


def active(prescriber) -> list[str]:
    subscriptions = WebhookSubscription.objects.filter(prescriber=prescriber, ended_at__isnull=True)
    return list(subscriptions.values_list("url", flat=True))


def test_a_prescriber_subscribes_and_never_gets_the_secret_back(prescriber_api, prescriber):
    response = prescriber_api.post(WEBHOOKS, {"url": PUBLIC_URL, "secret": SECRET}, format="json")

    assert response.status_code == 201
    body = response.json()
    assert set(body) == {"id", "url", "created_at", "secret_hint"}
    assert body["url"] == PUBLIC_URL
    assert body["secret_hint"] == "…" + SECRET[-4:]
    assert SECRET not in response.content.decode()
    stored = WebhookSubscription.objects.get(pk=body["id"])
    assert stored.prescriber == prescriber and stored.secret == SECRET and stored.ended_at is None
    assert AuditRecord.objects.filter(object_type="webhook_subscription", object_id=str(stored.pk)).exists()


def test_the_list_shows_only_the_callers_own_active_subscriptions(prescriber_api, other_prescriber_api):
    mine = prescriber_api.post(WEBHOOKS, {"url": PUBLIC_URL, "secret": SECRET}, format="json").json()
    theirs_url = "https://93.184.215.15/theirs"
    other_prescriber_api.post(WEBHOOKS, {"url": theirs_url, "secret": SECRET}, format="json")

    listed = prescriber_api.get(WEBHOOKS)

    assert listed.status_code == 200
    assert [item["id"] for item in listed.json()] == [mine["id"]]
    assert theirs_url not in listed.content.decode() and SECRET not in listed.content.decode()


def test_delete_ends_the_subscription(prescriber_api, prescriber):
    created = prescriber_api.post(WEBHOOKS, {"url": PUBLIC_URL, "secret": SECRET}, format="json").json()

    response = prescriber_api.delete(f"{WEBHOOKS}{created['id']}/")

    assert response.status_code == 204
    assert WebhookSubscription.objects.get(pk=created["id"]).ended_at is not None
    assert prescriber_api.get(WEBHOOKS).json() == []
    prescriber.refresh_from_db()
    assert prescriber.has_webhooks is False
    # Ended is ended: a second DELETE finds nothing.
    assert prescriber_api.delete(f"{WEBHOOKS}{created['id']}/").status_code == 404


def test_another_prescribers_subscription_is_not_found_and_stays(
    prescriber_api, other_prescriber_api, other_prescriber
):
    theirs = other_prescriber_api.post(WEBHOOKS, {"url": PUBLIC_URL, "secret": SECRET}, format="json").json()

    deleted = prescriber_api.delete(f"{WEBHOOKS}{theirs['id']}/")
    pinged = prescriber_api.post(f"{WEBHOOKS}{theirs['id']}/ping/")
    unknown = prescriber_api.delete(f"{WEBHOOKS}987654321/")

    assert deleted.status_code == pinged.status_code == unknown.status_code == 404
    assert deleted.json() == unknown.json()
    assert active(other_prescriber) == [PUBLIC_URL]
    assert not WebhookDelivery.objects.exists()


@pytest.mark.parametrize("persona", ["pharmacist_api", "technician_api"])
def test_staff_are_refused_and_nothing_changes(request, persona, prescriber_api):
    client = request.getfixturevalue(persona)
    mine = prescriber_api.post(WEBHOOKS, {"url": PUBLIC_URL, "secret": SECRET}, format="json").json()

    answers = [
        client.post(WEBHOOKS, {"url": "https://93.184.215.16/x", "secret": SECRET}, format="json"),
        client.get(WEBHOOKS),
        client.delete(f"{WEBHOOKS}{mine['id']}/"),
        client.post(f"{WEBHOOKS}{mine['id']}/ping/"),
    ]

    assert [answer.status_code for answer in answers] == [403, 403, 403, 403]
    assert WebhookSubscription.objects.filter(ended_at__isnull=True).count() == 1
    assert not WebhookDelivery.objects.exists()


def test_anonymous_gets_401(api, prescriber_api):
    mine = prescriber_api.post(WEBHOOKS, {"url": PUBLIC_URL, "secret": SECRET}, format="json").json()

    answers = [
        api.post(WEBHOOKS, {"url": PUBLIC_URL, "secret": SECRET}, format="json"),
        api.get(WEBHOOKS),
        api.delete(f"{WEBHOOKS}{mine['id']}/"),
        api.post(f"{WEBHOOKS}{mine['id']}/ping/"),
    ]

    assert [answer.status_code for answer in answers] == [401, 401, 401, 401]
    assert WebhookSubscription.objects.filter(ended_at__isnull=True).count() == 1


def test_an_unverified_prescriber_may_not_subscribe(prescriber_api, prescriber):
    prescriber.verified_at = None
    prescriber.save()

    response = prescriber_api.post(WEBHOOKS, {"url": PUBLIC_URL, "secret": SECRET}, format="json")

    assert response.status_code == 403
    assert not WebhookSubscription.objects.exists()


# --- The secret ---------------------------------------------------------------------------------


@pytest.mark.parametrize("secret", ["x" * 15, "x" * 257, "", "  padded-secret-value  ", "tab\there-0123456789"])
def test_a_secret_outside_16_to_256_characters_is_refused(prescriber_api, secret):
    response = prescriber_api.post(WEBHOOKS, {"url": PUBLIC_URL, "secret": secret}, format="json")

    assert response.status_code == 400
    assert "secret" in response.json()
    if secret.startswith("x") or not secret:
        assert "16 to 256" in " ".join(response.json()["secret"])
    assert not WebhookSubscription.objects.exists()


def test_secrets_of_16_and_256_characters_are_taken(prescriber_api):
    for secret in ("a" * 16, "b" * 256):
        assert prescriber_api.post(WEBHOOKS, {"url": PUBLIC_URL, "secret": secret}, format="json").status_code == 201


def test_a_missing_secret_or_url_is_named(prescriber_api):
    response = prescriber_api.post(WEBHOOKS, {}, format="json")

    assert response.status_code == 400
    assert {"url", "secret"} <= set(response.json())


# --- The URL ------------------------------------------------------------------------------------

REFUSED = [
    "https://127.0.0.1/hook",  # loopback
    "https://localhost/hook",  # a name for loopback
    "https://[::1]/hook",  # IPv6 loopback
    "https://[::ffff:127.0.0.1]/hook",  # IPv4-mapped loopback
    "https://10.1.2.3/hook",  # private
    "https://192.168.1.20/hook",  # private
    "https://172.16.0.9/hook",  # private
    "https://169.254.169.254/latest/meta-data",  # link-local (a cloud's metadata service)
    "https://[fe80::1]/hook",  # IPv6 link-local
    "https://224.0.0.1/hook",  # multicast
    "https://240.0.0.1/hook",  # reserved
    "https://0.0.0.0/hook",  # unspecified
    "https://100.64.0.1/hook",  # shared address space: not public
]


@pytest.mark.parametrize("url", REFUSED)
def test_a_loopback_private_or_reserved_address_is_refused(prescriber_api, url):
    response = prescriber_api.post(WEBHOOKS, {"url": url, "secret": SECRET}, format="json")

    assert response.status_code == 400
    assert "url" in response.json()
    assert not WebhookSubscription.objects.exists()


@pytest.mark.parametrize("url", REFUSED)
def test_with_webhooks_allow_private_those_addresses_are_taken(prescriber_api, settings, url):
    settings.WEBHOOKS_ALLOW_PRIVATE = True

    response = prescriber_api.post(WEBHOOKS, {"url": url.replace("https:", "http:"), "secret": SECRET}, format="json")

    assert response.status_code == 201


@pytest.mark.parametrize(
    "url",
    [
        "http://93.184.215.14/hook",  # plain http
        "ftp://93.184.215.14/hook",
        "https:///no-host",
        "not a url",
        "https://user:pass@93.184.215.14/hook",
        "https://93.184.215.14:99999/hook",  # no such port
        "https://no-such-host.invalid/hook",  # resolves to nothing
        "https://93.184.215.14/" + "a" * 2000,
    ],
)
def test_other_bad_urls_are_refused_naming_url(prescriber_api, url):
    response = prescriber_api.post(WEBHOOKS, {"url": url, "secret": SECRET}, format="json")

    assert response.status_code == 400
    assert "url" in response.json()
    assert not WebhookSubscription.objects.exists()


def test_https_is_required_without_the_setting_and_not_with_it(prescriber_api, settings):
    refused = prescriber_api.post(WEBHOOKS, {"url": "http://93.184.215.14/hook", "secret": SECRET}, format="json")
    settings.WEBHOOKS_ALLOW_PRIVATE = True
    taken = prescriber_api.post(WEBHOOKS, {"url": "http://93.184.215.14/hook", "secret": SECRET}, format="json")

    assert refused.status_code == 400 and "https" in " ".join(refused.json()["url"])
    assert taken.status_code == 201


def test_a_name_with_one_private_address_among_public_ones_is_refused(prescriber_api, monkeypatch):
    # given: a name that resolves to a public and a private address (DNS is the receiver's to set)
    def resolve(host, port, *args, **kwargs):
        assert host == "mixed.example"
        return [
            (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("93.184.215.14", port)),
            (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("10.0.0.5", port)),
        ]

    monkeypatch.setattr(socket, "getaddrinfo", resolve)

    response = prescriber_api.post(WEBHOOKS, {"url": "https://mixed.example/hook", "secret": SECRET}, format="json")

    assert response.status_code == 400
    assert "private" in " ".join(response.json()["url"])


def test_at_most_ten_subscriptions(prescriber_api):
    for n in range(10):
        url = f"https://93.184.215.14/hook/{n}"
        assert prescriber_api.post(WEBHOOKS, {"url": url, "secret": SECRET}, format="json").status_code == 201

    response = prescriber_api.post(WEBHOOKS, {"url": PUBLIC_URL, "secret": SECRET}, format="json")

    assert response.status_code == 400
    assert WebhookSubscription.objects.count() == 10


def test_the_schema_documents_the_webhook_endpoints(api, db):
    paths = api.get("/api/schema/", {"format": "json"}).json()["paths"]

    assert {"get", "post"} <= set(paths["/api/v1/webhooks/"])
    assert "delete" in paths["/api/v1/webhooks/{webhook_id}/"]
    assert "post" in paths["/api/v1/webhooks/{webhook_id}/ping/"]
    created = paths["/api/v1/webhooks/"]["post"]["responses"]["201"]["content"]["application/json"]["schema"]
    assert created["$ref"].endswith("/WebhookSubscription")
