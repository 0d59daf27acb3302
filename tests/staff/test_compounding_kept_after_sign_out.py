"""The compounding record, typed at the bench for longer than the session lasts, is kept when it is
posted after the session ended and given back to the same person once signed in again: nothing
is recorded until they post it again."""

from __future__ import annotations

import re
from datetime import timedelta
from urllib.parse import unquote

import pytest
from django.conf import settings
from django.contrib.sessions.models import Session
from django.urls import reverse
from django.utils import timezone

from intake.models import CompoundingRecord, MasterFormulation, PrescriptionStatus
from intake.web.drafts import OWNER_FIELD, RESTORED_RECORD_MESSAGE
from tests.factories import PASSWORD
from tests.staff.test_views import at, lots_post

pytestmark = pytest.mark.django_db

S = PrescriptionStatus


def _owner_token(html: str) -> str:
    found = re.search(rf'name="{OWNER_FIELD}" value="([^"]+)"', html)
    assert found, "the record does not say whose it is"
    return found.group(1)


@pytest.fixture
def compounding(prescriber, pharmacist, technician):
    return at(S.COMPOUNDING, prescriber, pharmacist, technician)


@pytest.fixture
def posted_after_the_session_ended(client, login, technician, compounding):
    url = reverse("staff:compounding", args=[compounding.pk])
    login(client, technician)
    page = client.get(url).content.decode()
    assert "data-session-timer" in page
    key = client.cookies[settings.SESSION_COOKIE_NAME].value
    Session.objects.filter(session_key=key).update(expire_date=timezone.now() - timedelta(seconds=1))
    formulation = MasterFormulation.objects.get(dosage_form__code="capsule")
    today = timezone.localdate()
    data = lots_post(("Naltrexone HCl USP", "NTX-BENCH-7", today + timedelta(days=30)), formulation=formulation)
    return url, client.post(url, {**data, OWNER_FIELD: _owner_token(page)})


def test_the_record_is_kept_and_nothing_recorded(posted_after_the_session_ended, compounding):
    url, response = posted_after_the_session_ended

    assert response.status_code == 302
    assert response["Location"] == f"{reverse('login')}?next={url}"
    assert "NTX-BENCH-7" not in unquote(response["Location"])
    assert not CompoundingRecord.objects.filter(prescription=compounding).exists()
    compounding.refresh_from_db()
    assert compounding.status == S.COMPOUNDING


def test_signing_in_again_gives_the_record_back_once(client, technician, posted_after_the_session_ended, compounding):
    url, _ = posted_after_the_session_ended
    client.post(reverse("login"), {"username": technician.email, "password": PASSWORD, "next": url})

    page = client.get(url)
    again = client.get(url)

    assert page.status_code == 200
    assert page.context["formset"].forms[0]["lot"].value() == "NTX-BENCH-7"
    assert RESTORED_RECORD_MESSAGE in page.content.decode()
    assert not again.context["formset"].is_bound
    assert not CompoundingRecord.objects.filter(prescription=compounding).exists()


def test_another_account_does_not_get_the_kept_record(client, pharmacist, posted_after_the_session_ended):
    url, _ = posted_after_the_session_ended
    client.post(reverse("login"), {"username": pharmacist.email, "password": PASSWORD, "next": url})

    page = client.get(url)

    assert not page.context["formset"].is_bound
    assert "NTX-BENCH-7" not in page.content.decode()
