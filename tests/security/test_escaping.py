"""Hostile text is shown escaped everywhere.

Script payloads go into every text a person writes that some page shows: the patient's name and
address, directions, indication, prescriber notes, the clarification question and answer, the
questionnaire's medication and allergy lines, reasons (reject, cancel, warning override), carrier
and tracking number, a master formulation's name and steps, compounding lots and deviations, a
notification's error, an audit record's description and user agent. Everything is made through
the services, except the master formulation (an ORM update; a prescription's signature is not
involved) and the notification's delivery error (written by the mail backend in production).
Then every page that shows them is read as the person who may see it.
"""

from __future__ import annotations

from datetime import timedelta
from itertools import count
from typing import Any

import pytest
from django.core.cache import cache
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from intake.models import MasterFormulation, Notification, Prescription
from intake.models.notifications import DeliveryStatus
from intake.services import workflow
from intake.services.compounding import compounding_record_create, formulation_for
from intake.services.lots import LotInput
from intake.services.questionnaire import questionnaire_submit
from tests.factories import clean_answers, make_prescription
from tests.security.escaping import PAYLOADS, assert_escaped, short_payload
from tests.workflow_helpers import advance, warning_reasons

_turn = count()


def hostile(max_length: int = 1000) -> str:
    """The next payload in turn (so every kind is used somewhere), or the worst one that fits."""
    payload = PAYLOADS[next(_turn) % len(PAYLOADS)]
    return payload if len(payload) <= max_length else short_payload(max_length)


def hostile_sentence() -> str:
    """A payload inside a reason that passes the sentence rule (reasons and notes are sentences)."""
    return hostile(900) + " Discussed with the prescriber today."


def hostile_patient() -> dict[str, Any]:
    return {"first_name": hostile(100), "last_name": hostile(100), "address_line1": hostile(200),
            "address_line2": hostile(200), "city": hostile(100)}  # fmt: skip


def hostile_content() -> dict[str, Any]:
    return {"directions": hostile(), "indication": hostile(200), "prescriber_notes": hostile()}


def hostile_answers(date_of_birth: str) -> dict[str, Any]:
    # "planning" raises a pregnancy warning, so the approval needs a written (hostile) reason.
    return clean_answers(date_of_birth=date_of_birth, pregnancy="planning",
                         current_medications=[hostile(200), hostile(200)], allergies=[hostile(200)])  # fmt: skip


@pytest.fixture
def hostile_world(prescriber, pharmacist, technician, pharmacy_admin) -> dict[str, Prescription]:
    def submitted() -> Prescription:
        prescription = make_prescription(prescriber, patient=hostile_patient(), **hostile_content())
        dob = prescription.patient.date_of_birth
        questionnaire_submit(token=prescription.questionnaire_token, date_of_birth=dob,
                             answers=hostile_answers(dob.isoformat()))  # fmt: skip
        return prescription

    # Shipped: clarified, approved over a warning, compounded from a hostile formulation, shipped.
    shipped = submitted()
    workflow.prescription_claim(prescription_id=shipped.pk, actor=pharmacist)
    workflow.prescription_request_clarification(prescription_id=shipped.pk, actor=pharmacist, message=hostile())
    workflow.prescription_respond(prescription_id=shipped.pk, actor=prescriber.user, message=hostile())
    workflow.prescription_claim(prescription_id=shipped.pk, actor=pharmacist)
    reasons = {code: hostile_sentence() for code in warning_reasons(Prescription.objects.get(pk=shipped.pk))}
    assert reasons, "the answers raised no warning to override"
    workflow.prescription_approve(prescription_id=shipped.pk, actor=pharmacist, override_reasons=reasons)
    workflow.prescription_start_compounding(prescription_id=shipped.pk, actor=technician)
    formulation = formulation_for(Prescription.objects.get(pk=shipped.pk))
    MasterFormulation.objects.filter(pk=formulation.pk).update(
        name=hostile(120), steps=f"{hostile()}\n{hostile()}", filler=hostile(120), container=hostile(120)
    )
    expires = timezone.localdate() + timedelta(days=365)
    compounding_record_create(
        prescription_id=shipped.pk, actor=technician, quantity_made=30, master_formulation_id=formulation.pk,
        lots=[LotInput(ingredient="Naltrexone HCl USP", lot=hostile(60), expires=expires, manufacturer=hostile(120),
                       quantity_used=hostile(40)),
              LotInput(ingredient=hostile(120), lot=hostile(60), expires=expires)],
        quality_checks=hostile(), deviations=hostile(),
    )  # fmt: skip
    workflow.prescription_final_check(prescription_id=shipped.pk, actor=pharmacist)
    # A known carrier's name first: the status page then builds a tracking link from the hostile number.
    workflow.prescription_ship(prescription_id=shipped.pk, actor=technician, carrier="UPS" + hostile(37),
                               tracking_number=hostile(60))  # fmt: skip

    rejected = submitted()
    advance(rejected, "in_review", pharmacist=pharmacist, technician=technician)
    workflow.prescription_reject(prescription_id=rejected.pk, actor=pharmacist, reason=hostile_sentence())

    cancelled = submitted()
    workflow.prescription_cancel(prescription_id=cancelled.pk, actor=prescriber.user, reason=hostile())

    # Waiting for review, so the questionnaire can still be corrected: its form shows the answers.
    waiting = submitted()

    # Delivery errors are the mail server's words, which can quote what it was given.
    Notification.objects.filter(prescription=waiting).update(status=DeliveryStatus.FAILED, last_error=hostile())
    return {"shipped": shipped, "rejected": rejected, "cancelled": cancelled, "waiting": waiting,
            "formulation": formulation}  # fmt: skip


def signed_in(user) -> Client:
    client = Client(HTTP_USER_AGENT=hostile(200))
    client.force_login(user, backend="accounts.backends.PharmacyBackend")
    return client


# A payload as a page shows it when escaped: proof that the page did show the hostile text.
ESCAPED = ("&lt;script&gt;", "&lt;img src=x", "&lt;svg onload", "javascript:alert(1)")


def read(client: Client, url: str, *, data: dict[str, Any] | None = None, post: bool = False,
         shows: bool = True) -> str:  # fmt: skip
    response = client.post(url, data or {}) if post else client.get(url, data or {})
    assert response.status_code == 200, f"{url}: {response.status_code}"
    body = response.content.decode()
    assert_escaped(body, where=url)
    if shows:
        assert any(escaped in body for escaped in ESCAPED), f"{url}: no hostile text shown, nothing was tested"
    return body


def test_hostile_text_is_escaped_on_every_page(hostile_world, prescriber, pharmacist, technician,
                                               pharmacy_admin) -> None:  # fmt: skip
    prescriptions = [hostile_world[key] for key in ("shipped", "rejected", "cancelled", "waiting")]
    shipped, waiting = hostile_world["shipped"], hostile_world["waiting"]

    # The prescriber's pages.
    client = signed_in(prescriber.user)
    read(client, reverse("prescriber:home"))
    for prescription in prescriptions:
        read(client, reverse("prescriber:detail", args=[prescription.pk]))
    read(client, reverse("prescriber:submitted", args=[waiting.pk]))

    # The pharmacy's pages.
    for user in (pharmacist, technician):
        client = signed_in(user)
        read(client, reverse("staff:queue"))
        for status in ("pending_review", "shipped", "rejected", "cancelled"):
            read(client, reverse("staff:queue"), data={"status": status})
        read(client, reverse("staff:queue"), data={"q": hostile(100)})
        for prescription in prescriptions:
            read(client, reverse("staff:review", args=[prescription.pk]))
        read(client, reverse("staff:compounding", args=[shipped.pk]))
        read(client, reverse("staff:formulary"))
        read(client, reverse("staff:formulation", args=[hostile_world["formulation"].pk]))
        read(client, reverse("dashboard:index"), shows=False)  # aggregates only: read for a 200 and no raw text
        read(client, reverse("notifications:list"))
    read(signed_in(pharmacist), reverse("staff:formulation_edit", args=[hostile_world["formulation"].pk]))
    # A form sent back with errors shows what was typed.
    client = signed_in(pharmacist)
    response = client.post(reverse("staff:reject", args=[waiting.pk]), {"reject-reason": hostile() + "x" * 5000})
    assert_escaped(response.content.decode(), where="reject with errors")

    # The documents: hostile text must not break them.
    for name in ("staff:label_pdf", "staff:worksheet_pdf"):
        response = client.get(reverse(name, args=[shipped.pk]))
        assert response.status_code == 200, name
        assert response.content.startswith(b"%PDF"), name

    # The audit trail, after a search with hostile filters (the search is recorded and shown).
    admin = signed_in(pharmacy_admin)
    admin.get(reverse("audit:list"), {"description": hostile(), "path": hostile()})
    read(admin, reverse("audit:list"))

    # The patient's pages, behind the private link and the birth date.
    for prescription in (waiting, shipped):
        cache.clear()
        patient = Client()
        token = prescription.questionnaire_token
        dob = prescription.patient.date_of_birth.isoformat()
        unlocked = patient.post(reverse("patient:questionnaire", args=[token]), {"date_of_birth": dob})
        assert unlocked.status_code == 302
        # The form (waiting) shows the answers; the status pages show the carrier and tracking
        # number once shipped.
        read(patient, reverse("patient:questionnaire", args=[token]), shows=prescription == waiting)
        read(patient, reverse("patient:questionnaire_thanks", args=[token]), shows=False)  # no free text
        read(patient, reverse("patient:status_link", args=[token]), shows=prescription == shipped)
        read(patient, reverse("patient:status"), data={"reference": prescription.reference, "date_of_birth": dob},
             post=True, shows=prescription == shipped)  # fmt: skip
