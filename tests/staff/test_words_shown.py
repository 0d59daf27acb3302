"""No code reaches a person: the pages, PDFs and messages that staff, prescribers and patients see,
with flags of every code, severity, source and verification method, show words, never
`opioid_use`, `hard_stop` or `current_medications[0]`."""

from __future__ import annotations

import itertools
import re
from html.parser import HTMLParser

import pytest
from django.urls import reverse
from django.utils import timezone

from intake.clinical import words
from intake.clinical.flags import SEVERITIES, SOURCES
from intake.clinical.verification import METHODS
from intake.documents import compounding_worksheet_pdf, prescription_label_pdf
from intake.models import Action, NotificationEvent, Prescription, PrescriptionEvent, PrescriptionStatus
from intake.notifications.outbox import notification_record
from intake.notifications.rendering import notification_render
from intake.services.compounding import latest_record
from tests.factories import clean_answers, make_prescription
from tests.pdf_layout import text
from tests.screening.helpers import NOTE, in_review
from tests.workflow_helpers import advance

S = PrescriptionStatus
CODES = sorted(words.words()["flags"])
PATHS = [path.replace("[]", "[0]") for path in words.words()["fields"]]
KNOWN = {*CODES, *SEVERITIES, *SOURCES, *METHODS, *words.words()["fields"], *S.values, *Action.values} - {""}
SNAKE = re.compile(r"\b[a-z][a-z0-9]*(?:_[a-z0-9]+)+\b")
PATH = re.compile(r"[A-Za-z_]\w*\[\d+\]")
# Answers that raise real flags from the patient's answers, the medication list and the allergies.
ANSWERS = clean_answers(
    current_medications=["Norco 5/325 prn", "oxycodone 10 mg last year", "levothyroxine 50 mcg", "tramadol"],
    allergies=["naltrexone (hives)"], thyroid_medication=True, surgery_within_14_days=True,
    alcohol_drinks_per_week=20, pregnancy="planning", liver_condition="other",
)  # fmt: skip


def every_kind_of_flag() -> list[dict]:
    """One flag per code, the severities, sources, fields and methods all used, some verified."""
    methods = itertools.cycle([*METHODS, None])
    severities, sources, paths = itertools.cycle(SEVERITIES), itertools.cycle(SOURCES), itertools.cycle(PATHS)
    made = []
    for code in CODES * 2:
        method = next(methods)
        made.append({
            "code": code, "severity": next(severities), "source": next(sources), "field": next(paths),
            "value": "as written", "matched_as": "", "message": "A sentence for the pharmacist.",
            "verification": {"method": method, "note": NOTE, "by": "Paula Pharmacist",
                             "at": timezone.now().isoformat()} if method else None,
        })  # fmt: skip
    return made


class VisibleText(HTMLParser):
    """What a reader sees or hears: text outside scripts and styles, titles and labels of elements."""

    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self.hidden = 0

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "style"):
            self.hidden += 1
        self.parts.extend(
            value for name, value in attrs if name in ("title", "aria-label", "alt", "placeholder") and value
        )

    def handle_endtag(self, tag):
        if tag in ("script", "style"):
            self.hidden -= 1

    def handle_data(self, data):
        if not self.hidden:
            self.parts.append(data)


def visible(html: str) -> str:
    parser = VisibleText()
    parser.feed(html)
    return " ".join(parser.parts)


def codes_in(shown: str) -> list[str]:
    return sorted({token for token in SNAKE.findall(shown) if token in KNOWN} | set(PATH.findall(shown)))


@pytest.fixture
def flagged_in_review(prescriber, pharmacist, technician) -> Prescription:
    """In review with the real flags of ANSWERS and a flag of every other kind beside them."""
    prescription = in_review(prescriber, pharmacist=pharmacist, technician=technician, answers=ANSWERS)
    assert len({flag["code"] for flag in prescription.flags}) >= 7
    Prescription.objects.filter(pk=prescription.pk).update(flags=[*prescription.flags, *every_kind_of_flag()])
    PrescriptionEvent.objects.create(
        prescription=prescription, action=Action.VERIFY_FLAG, from_status=S.IN_REVIEW, to_status=S.IN_REVIEW,
        actor=pharmacist, message=NOTE, details={"code": "opioid_use", "method": "pdmp_reviewed",
                                                 "fields": ["current_medications[1]"]},
    )  # fmt: skip
    PrescriptionEvent.objects.create(
        prescription=prescription, action=Action.APPROVE, from_status=S.IN_REVIEW, to_status=S.IN_REVIEW,
        actor=pharmacist, details={"override_reasons": {"duplicate_order": NOTE, "thyroid": NOTE}},
    )  # fmt: skip
    return Prescription.objects.get(pk=prescription.pk)


@pytest.fixture
def flagged_ready(prescriber, pharmacist, technician) -> Prescription:
    prescription = advance(
        make_prescription(prescriber, patient={"last_name": "Byron"}),
        S.READY,
        pharmacist=pharmacist,
        technician=technician,
    )
    Prescription.objects.filter(pk=prescription.pk).update(flags=every_kind_of_flag())
    return Prescription.objects.get(pk=prescription.pk)


def test_staff_pages_show_flags_in_words(client, login, pharmacist, pharmacy_admin, flagged_in_review, flagged_ready):
    login(client, pharmacist)
    # given: a verification through the page, and an approval refused for the flags still open
    verifiable = next(f for f in flagged_in_review.flags if f["severity"] == "warning" and not f["verification"])
    client.post(reverse("staff:verify_flag", args=[flagged_in_review.pk]), {
        "verify-code": verifiable["code"], "verify-field": verifiable["field"], "verify-method": "patient_interview",
        "verify-note": NOTE})  # fmt: skip
    refused = client.post(reverse("staff:approve", args=[flagged_in_review.pk]), {}, follow=True)

    pages = {
        "review": client.get(reverse("staff:review", args=[flagged_in_review.pk])),
        "review after a refused approval": refused,
        "ready": client.get(reverse("staff:review", args=[flagged_ready.pk])),
        "queue": client.get(reverse("staff:queue") + "?status=ready"),
        "queue in review": client.get(reverse("staff:queue") + "?status=in_review"),
        "dashboard": client.get(reverse("dashboard:index")),
    }
    login(client, pharmacy_admin)
    pages["audit"] = client.get(reverse("audit:list"))

    for name, response in pages.items():
        assert response.status_code == 200, name
        shown = visible(response.content.decode())
        assert codes_in(shown) == [], f"{name} shows codes"
    review = visible(pages["review"].content.decode())
    for code in {flag["code"] for flag in flagged_in_review.flags}:
        assert words.flag_title(code) in review
    assert "Current medications, line 1" in review and "For information" in review
    assert "Spoke with the patient" in review  # the verification just recorded


def test_the_queue_shows_each_flag_by_its_title(client, login, pharmacist, flagged_in_review):
    login(client, pharmacist)

    shown = visible(client.get(reverse("staff:queue") + "?status=in_review").content.decode())

    assert "Opioid use" in shown and "Allergy to naltrexone" in shown
    assert "opioid_use" not in shown


def test_the_prescriber_sees_flags_in_words(client, login, prescriber, flagged_ready):
    login(client, prescriber.user)

    for url in (reverse("prescriber:detail", args=[flagged_ready.pk]), reverse("prescriber:home")):
        response = client.get(url)
        assert response.status_code == 200
        assert codes_in(visible(response.content.decode())) == [], url
    detail = visible(client.get(reverse("prescriber:detail", args=[flagged_ready.pk])).content.decode())
    assert "Hard stop" in detail and "Patient's state" in detail


def test_the_label_and_the_worksheet_show_no_code(flagged_ready):
    record = latest_record(flagged_ready)

    for pdf in (prescription_label_pdf(prescription=flagged_ready, record=record),
                compounding_worksheet_pdf(prescription=flagged_ready, record=record)):  # fmt: skip
        assert codes_in(text(pdf)) == []


def test_every_message_shows_no_code(flagged_ready):
    for event in NotificationEvent.values:
        notification_record(prescription=flagged_ready, event=event)

    for notification in flagged_ready.notifications.all():
        message = notification_render(notification=notification)
        for shown in (message.subject, message.text, visible(message.html), message.sms):
            assert codes_in(shown) == [], f"{notification.event}: {shown[:200]}"


def test_the_words_check_finds_a_code_when_one_is_shown():
    found = codes_in(visible('<p title="hard_stop">From current_medications[0]: opioid_use</p>'))

    assert {"current_medications[0]", "hard_stop", "opioid_use"} <= set(found)
    assert codes_in("Opioid use, Current medications, line 1, Hard stop") == []
