"""In a browser: a long form counts down the session's time, warns before the end and keeps the
prescriber signed in on request; a form sent after the end is waiting after signing in again."""

from __future__ import annotations

import pytest
from django.contrib.sessions.models import Session
from django.utils import timezone

from accounts.models import Role
from intake.models import Prescription
from tests.e2e.conftest import assert_accessible, fill_new_prescription, screenshot, sign_in
from tests.factories import PASSWORD, PrescriberFactory, UserFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

SCREENS = ["page", "phone_page"]  # 1280 px and 390 px wide


@pytest.fixture
def grace(db):
    user = UserFactory(email="grace@example.test", first_name="Grace", last_name="Hopper", role=Role.PRESCRIBER)
    return PrescriberFactory(user=user)


def _fill_the_form(page) -> None:
    fill_new_prescription(page)
    page.get_by_label("Refills").fill("2")
    page.get_by_label("ICD-10 code").fill("M79.7")


def _sign(page) -> None:
    page.get_by_label("Type your full name to sign").fill("Grace Hopper")
    page.get_by_label("I am the prescriber named above", exact=False).check()


@pytest.mark.parametrize("screen", SCREENS)
def test_the_warning_comes_before_the_end_and_stay_signed_in_keeps_the_session(request, screen, settings, grace):
    # given: a 30-second session that warns 20 seconds before its end
    settings.SESSION_COOKIE_AGE = 30
    settings.SESSION_WARNING_SECONDS = 20
    page = request.getfixturevalue(screen)
    sign_in(page, "grace@example.test", PASSWORD)
    page.goto("/prescriber/prescriptions/new/")

    # then: the time left shows above the form, then the warning opens
    timer = page.get_by_role("timer")
    assert "second" in timer.inner_text() or "minute" in timer.inner_text()
    warning = page.get_by_role("dialog", name="Your session is about to end")
    warning.wait_for()
    assert "You will be signed out in" in warning.inner_text()
    assert_accessible(page, f"session warning ({screen})")
    screenshot(page, f"session-warning-{screen}")

    # when: the prescriber stays signed in
    warning.get_by_role("button", name="Stay signed in").click()

    # then: the dialog closes, the count starts again, and the server keeps the session as long
    warning.wait_for(state="hidden")
    page.get_by_text("You stay signed in for 30 seconds more.").wait_for(state="attached")
    session = Session.objects.get()
    assert (session.expire_date - timezone.now()).total_seconds() > 25
    _fill_the_form(page)
    page.wait_for_timeout(100)
    assert_accessible(page, f"form after staying signed in ({screen})")


@pytest.mark.parametrize("screen", SCREENS)
def test_a_form_sent_after_the_end_waits_for_the_next_sign_in(request, screen, settings, grace):
    # given: an 8-second session; the prescriber fills the form and is too slow to send it
    settings.SESSION_COOKIE_AGE = 8
    settings.SESSION_WARNING_SECONDS = 2
    page = request.getfixturevalue(screen)
    sign_in(page, "grace@example.test", PASSWORD)
    page.goto("/prescriber/prescriptions/new/")
    _fill_the_form(page)
    ended = page.get_by_role("dialog", name="Your session has ended")
    ended.wait_for()
    assert_accessible(page, f"session ended ({screen})")
    ended.get_by_role("button", name="Close").click()
    # The page announces the end up to a second before the server's row expires (it never
    # promises more time than the server keeps): wait that second out.
    page.wait_for_timeout(1500)
    _sign(page)

    # when: they send it anyway
    page.get_by_role("button", name="Sign and send to the pharmacy").click()

    # then: the sign-in page says the form is waiting, and nothing was sent
    page.get_by_text("Your session ended, so nothing was sent.").wait_for()
    assert "Lovelace" not in page.url and "Grace" not in page.url
    assert Prescription.objects.count() == 0
    assert_accessible(page, f"sign in again ({screen})")
    settings.SESSION_COOKIE_AGE = 15 * 60

    # when: they sign in again
    page.get_by_label("Email address").fill("grace@example.test")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()

    # then: the form is back as they wrote it, to sign anew
    page.get_by_text("Your form was kept when your session ended.").wait_for()
    assert page.get_by_label("Last name").input_value() == "Lovelace"
    assert page.get_by_label("Directions").input_value() == "Take 1 capsule by mouth at bedtime"
    assert page.get_by_label("Type your full name to sign").input_value() == ""
    assert not page.get_by_label("I am the prescriber named above", exact=False).is_checked()
    assert_accessible(page, f"form given back ({screen})")
    screenshot(page, f"session-form-given-back-{screen}")
    _sign(page)
    page.get_by_role("button", name="Sign and send to the pharmacy").click()
    page.get_by_role("heading", name="Prescription received").wait_for()
    assert Prescription.objects.get().patient.last_name == "Lovelace"
