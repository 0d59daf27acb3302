"""Twilio's status callbacks: signatures, repeats, out-of-order news, a text the phone never got."""

from __future__ import annotations

import logging

import pytest
from django.test import Client
from django.urls import reverse

from intake.models import AuditRecord, Channel, DeliveryStatus, Notification, NotificationEvent
from intake.notifications.delivery import notification_deliver
from tests.factories import make_prescription
from tests.notifications.twilio import MESSAGE_SID, PHONE, post_status, recorded, signature, status_callback

TEXTED = {"email": "ada@example.com", "first_name": "Ada", "phone": PHONE, "contact_preference": "sms"}


def _texted(prescriber, **patient: str) -> Notification:  # type: ignore[no-untyped-def]
    """The questionnaire invitation, texted through Twilio (the recorded answer) and so "sent"."""
    prescription = make_prescription(prescriber, patient={**TEXTED, **patient})
    row = prescription.notifications.get(event=NotificationEvent.QUESTIONNAIRE_INVITATION, channel=Channel.SMS)
    with recorded.use_cassette("twilio_accepted.yaml"):
        notification_deliver(notification_id=row.pk)
    row.refresh_from_db()
    assert (row.status, row.provider_message_id) == (DeliveryStatus.SENT, MESSAGE_SID)
    return row


@pytest.fixture
def text(prescriber, twilio) -> Notification:
    return _texted(prescriber)


def _state(row: Notification) -> tuple:
    row.refresh_from_db()
    return row.status, row.provider_status, row.provider_status_at, row.last_error


def test_delivered_is_kept_with_its_time_and_audited(client, text):
    response = post_status(client, status_callback("delivered"))

    assert response.status_code == 200
    assert response.json() == {"detail": "Recorded."}
    text.refresh_from_db()
    assert (text.status, text.provider_status) == (DeliveryStatus.SENT, "delivered")
    assert text.provider_status_at is not None and text.provider_status_at >= text.sent_at
    record = AuditRecord.objects.get(object_type="notification", object_id=str(text.pk))
    assert (record.actor_label, record.action, record.description) == ("SMS provider (Twilio)", "update",
                                                                      "SMS provider: delivered")  # fmt: skip
    assert record.prescription_reference == text.prescription.reference


def test_each_step_forward_is_kept(client, text):
    seen = []
    for status in ("queued", "sent", "delivered"):
        assert post_status(client, status_callback(status)).status_code == 200
        text.refresh_from_db()
        seen.append(text.provider_status)

    assert seen == ["queued", "sent", "delivered"]


@pytest.mark.parametrize(
    "headers",
    [{}, {"HTTP_X_TWILIO_SIGNATURE": ""}, {"HTTP_X_TWILIO_SIGNATURE": "bm90IGEgc2lnbmF0dXJlIGF0IGFsbA=="}],
    ids=["missing", "empty", "wrong"],
)
def test_a_missing_or_wrong_signature_is_refused_and_nothing_changes(client, text, headers):
    before = _state(text)
    params = status_callback("delivered")

    if headers:
        response = post_status(client, params, **headers)
    else:
        response = client.post("/webhooks/twilio/status/", data=params)

    assert response.status_code == 403
    assert _state(text) == before
    assert AuditRecord.objects.filter(object_type="notification", action="denied").count() == 1
    assert not AuditRecord.objects.filter(object_type="notification", action="update").exists()


def test_a_callback_signed_with_another_token_is_refused(client, text):
    params = status_callback("delivered")
    before = _state(text)

    response = post_status(client, params, HTTP_X_TWILIO_SIGNATURE=signature(params, token="f" * 32))

    assert response.status_code == 403
    assert _state(text) == before


def test_a_field_changed_after_signing_is_refused(client, text):
    params = status_callback("sent")
    sig = signature(params)
    before = _state(text)

    response = post_status(client, {**params, "MessageStatus": "failed"}, HTTP_X_TWILIO_SIGNATURE=sig)

    assert response.status_code == 403
    assert _state(text) == before


def test_the_url_is_the_public_one_never_the_host_the_request_names(client, text, settings):
    # Signed over the Host the request carries (testserver, or one a caller chose where ALLOWED_HOSTS
    # lets it through): not the URL Twilio was given and called.
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "evil.example"]
    params = status_callback("delivered")
    before = _state(text)

    as_host = post_status(client, params, signed_as="http://testserver/webhooks/twilio/status/")
    forged_host = post_status(
        client, params, signed_as="https://evil.example/webhooks/twilio/status/", HTTP_HOST="evil.example"
    )

    assert (as_host.status_code, forged_host.status_code) == (403, 403)
    assert _state(text) == before


def test_without_an_auth_token_every_call_is_refused(client, text, settings):
    params = status_callback("delivered")
    sig = signature(params)
    settings.TWILIO_AUTH_TOKEN = ""
    before = _state(text)

    response = post_status(client, params, HTTP_X_TWILIO_SIGNATURE=sig)

    assert response.status_code == 403
    assert _state(text) == before


def test_only_post(client, db):
    assert client.get("/webhooks/twilio/status/").status_code == 405


def test_the_same_callback_twice_changes_nothing_the_second_time(client, text):
    post_status(client, status_callback("delivered"))
    after_first = _state(text)

    again = post_status(client, status_callback("delivered"))

    assert again.status_code == 200
    assert again.json() == {"detail": "Nothing to change."}
    assert _state(text) == after_first
    assert AuditRecord.objects.filter(object_type="notification", action="update").count() == 1


@pytest.mark.parametrize("late", ["accepted", "queued", "sending", "sent"])
def test_a_late_earlier_status_never_moves_delivered_back(client, text, late):
    post_status(client, status_callback("delivered"))
    after_delivered = _state(text)

    response = post_status(client, status_callback(late))

    assert response.status_code == 200
    assert _state(text) == after_delivered


def test_one_final_status_is_not_replaced_by_another(client, text):
    post_status(client, status_callback("delivered"))
    after_delivered = _state(text)

    post_status(client, status_callback("undelivered", error_code="30003"))

    assert _state(text) == after_delivered


def test_an_unknown_message_is_answered_200_and_changes_nothing(client, text):
    # 200, not 404: Twilio counts any other answer as an error of ours (debugger alert 11200), and a
    # message the pharmacy has no row for (deleted with its prescription, sent by another system on
    # the account) will never have one.
    before = _state(text)

    response = post_status(client, status_callback("delivered", message_sid="SM" + "0" * 32))

    assert response.status_code == 200
    assert response.json() == {"detail": "Nothing to change."}
    assert _state(text) == before


def test_a_signed_call_without_a_message_sid_is_a_400(client, text):
    params = {**status_callback("delivered"), "MessageSid": "not-a-sid"}

    response = post_status(client, params)

    assert response.status_code == 400
    assert "MessageSid" in response.json()


def test_an_inbound_message_status_is_ignored(client, text):
    before = _state(text)

    response = post_status(client, status_callback("received"))

    assert response.status_code == 200
    assert _state(text) == before


def test_undelivered_after_sent_fails_the_row_for_the_staff_and_emails_the_patient(
    client, text, smtp_server, django_capture_on_commit_callbacks, login, pharmacist
):
    # given
    post_status(client, status_callback("sent"))

    # when
    with django_capture_on_commit_callbacks(execute=True):
        response = post_status(Client(), status_callback("undelivered", error_code="30003"))

    # then: the text's row is failed with the reason, and the email went instead
    assert response.status_code == 200
    text.refresh_from_db()
    assert (text.status, text.provider_status) == (DeliveryStatus.FAILED, "undelivered")
    assert text.last_error == (
        "Twilio: the text was undelivered (the phone is off or out of reach). The patient was emailed instead."
    )
    email = Notification.objects.get(prescription=text.prescription, event=text.event, channel=Channel.EMAIL)
    assert (email.recipient, email.status) == ("ada@example.com", DeliveryStatus.SENT)
    assert text.prescription.reference in smtp_server.to("ada@example.com")[0]["Subject"]

    # and the staff see it on the page of undelivered notifications, with the re-send button
    login(client, pharmacist)
    page = client.get(reverse("notifications:list")).content.decode()
    assert "the text was undelivered (the phone is off or out of reach)" in page
    assert reverse("notifications:resend", args=[text.pk]) in page
    assert PHONE not in page


def test_a_failed_text_repeated_emails_the_patient_once(client, text):
    post_status(client, status_callback("failed", error_code="30005"))
    post_status(client, status_callback("failed", error_code="30005"))

    assert Notification.objects.filter(prescription=text.prescription, channel=Channel.EMAIL,
                                       event=text.event).count() == 1  # fmt: skip
    text.refresh_from_db()
    assert text.last_error.startswith("Twilio: the text was failed (the number does not exist).")


def test_a_patient_who_asked_for_both_was_emailed_already(client, prescriber, twilio):
    text = _texted(prescriber, contact_preference="both")
    emails = Notification.objects.filter(prescription=text.prescription, channel=Channel.EMAIL, event=text.event)
    assert emails.count() == 1

    post_status(client, status_callback("undelivered", error_code="30007"))

    text.refresh_from_db()
    assert text.status == DeliveryStatus.FAILED
    assert text.last_error == "Twilio: the text was undelivered (the mobile carrier filtered the text)."
    assert emails.count() == 1


def test_a_patient_without_an_email_is_left_to_the_staff(client, prescriber, twilio):
    text = _texted(prescriber, email="")

    post_status(client, status_callback("failed", error_code="30006"))

    text.refresh_from_db()
    assert text.status == DeliveryStatus.FAILED
    assert "landline" in text.last_error and "emailed" not in text.last_error
    assert not Notification.objects.filter(prescription=text.prescription, channel=Channel.EMAIL,
                                           audience="patient").exists()  # fmt: skip


def test_a_re_sent_text_starts_its_status_afresh(client, text, login, pharmacist, django_capture_on_commit_callbacks):
    # given: the text failed and a pharmacist re-sends it
    post_status(client, status_callback("failed", error_code="30003"))
    login(client, pharmacist)
    with recorded.use_cassette("twilio_accepted.yaml"), django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("notifications:resend", args=[text.pk]))

    # then: sent again, with no delivery news yet
    text.refresh_from_db()
    assert (text.status, text.attempts, text.provider_status, text.provider_status_at, text.last_error) == (
        DeliveryStatus.SENT, 1, "", None, "",
    )  # fmt: skip

    # and its delivery is kept as for any text
    post_status(Client(), status_callback("delivered"))
    text.refresh_from_db()
    assert text.provider_status == "delivered"


def test_the_log_and_the_audit_hold_no_phone_number(client, text, caplog):
    with caplog.at_level(logging.DEBUG):
        post_status(client, status_callback("undelivered", error_code="30003"))
        post_status(client, status_callback("delivered"), HTTP_X_TWILIO_SIGNATURE="wrong")

    assert "Notification" in caplog.text
    assert "5555550123" not in caplog.text
    for record in AuditRecord.objects.filter(object_type="notification"):
        assert "5555550123" not in f"{record.description} {record.path}"


def test_calls_are_throttled_per_client(db, settings, twilio):
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK,
                               "DEFAULT_THROTTLE_RATES": {**settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"],
                                                          "sms_status_webhook": "2/min"}}  # fmt: skip
    answers = [post_status(Client(), status_callback("sent")).status_code for _ in range(3)]

    assert answers == [200, 200, 429]


def test_the_review_page_shows_what_the_provider_said_of_each_text(client, text, pharmacist, login):
    post_status(client, status_callback("delivered"))
    login(client, pharmacist)

    page = client.get(reverse("staff:review", args=[text.prescription_id])).content.decode()

    assert "Messages sent" in page
    assert 'data-provider-status="delivered"' in page
    assert f"by text message (***{PHONE[-4:]})" in page  # masked, as on the undelivered list
