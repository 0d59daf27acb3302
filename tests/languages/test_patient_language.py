"""Patients' languages: which language a page is in, the patient's messages and label in Spanish,
the language accepted with a prescription, and no patient string left untranslated."""

from __future__ import annotations

import shutil
import subprocess
from datetime import date
from pathlib import Path

import pytest
from babel.messages.pofile import read_po
from django.core.cache import cache
from django.test import Client

from intake.languages import browser_language
from intake.models import Audience, Language, NotificationEvent, Patient, Prescription
from intake.notifications.outbox import AUDIENCES, notification_record
from intake.notifications.rendering import notification_render
from tests.factories import api_payload, make_prescription

ROOT = Path(__file__).resolve().parents[2]
BIRTH = date(1980, 2, 29)

# The files whose strings a patient reads: every untranslated or fuzzy entry from them fails the
# completeness test. A new patient-facing file (a page, a form, a message) is added here.
PATIENT_FACING = (
    "templates/patient/",
    "templates/notifications/",
    "templates/base.html",
    "intake/web/patient/",
    "intake/services/status.py",
    "intake/services/refills.py",
    "intake/services/questionnaire.py",
    "intake/services/price_consent.py",
    "intake/notifications/rendering.py",
    "intake/models/",
    "intake/when.py",
    "intake/validators.py",
)
PO = ROOT / "locale" / "es" / "LC_MESSAGES" / "django.po"
MAKEMESSAGES_IGNORE = ("node_modules", "staticfiles", "var", "test-artifacts", "tests", ".venv")


@pytest.fixture(autouse=True)
def _clear_cache():
    cache.clear()
    yield
    cache.clear()


def _prescription(prescriber, language: str = Language.SPANISH, **patient) -> Prescription:
    return make_prescription(
        prescriber,
        patient={"first_name": "Lupe", "last_name": "Quintanilla", "date_of_birth": BIRTH, "language": language,
                 **patient},
    )  # fmt: skip


def _proven(client: Client, prescription: Prescription) -> Client:
    response = client.post(f"/questionnaire/{prescription.questionnaire_token}", {"date_of_birth": "1980-02-29"})
    assert response.status_code == 302
    return client


# --- which language a page is in ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("es", "es"),
        ("es-MX,es;q=0.9,en;q=0.8", "es"),
        ("en-US,en;q=0.9,es;q=0.8", "en"),
        ("fr-FR, es;q=0.5", "es"),
        ("es;q=0, en", "en"),
        ("de, fr", None),
        ("", None),
    ],
)
def test_accept_language_picks_the_first_language_the_pharmacy_writes(header, expected):
    assert browser_language(header) == expected


@pytest.mark.django_db
def test_a_patient_page_follows_the_browser_and_defaults_to_english(client):
    spanish = client.get("/status/", HTTP_ACCEPT_LANGUAGE="es-MX,es;q=0.9")
    english = Client().get("/status/")

    assert spanish["Content-Language"] == "es"
    assert '<html lang="es">' in spanish.content.decode()
    assert "Consulte su pedido" in spanish.content.decode()
    assert english["Content-Language"] == "en"
    assert "Check your order" in english.content.decode()
    for response in (spanish, english):
        assert "Accept-Language" in response["Vary"]
        assert "Cookie" in response["Vary"]


@pytest.mark.django_db
def test_lang_outranks_the_browser_and_is_remembered_in_a_cookie(client):
    chosen = client.get("/status/?lang=en", HTTP_ACCEPT_LANGUAGE="es")

    assert chosen["Content-Language"] == "en"
    assert chosen.cookies["django_language"].value == "en"
    # The next page, without ?lang=, keeps the choice over the browser's Spanish.
    later = client.get("/status/", HTTP_ACCEPT_LANGUAGE="es")
    assert later["Content-Language"] == "en"
    assert "Check your order" in later.content.decode()


@pytest.mark.django_db
def test_an_unknown_lang_is_ignored(client):
    response = client.get("/status/?lang=xx", HTTP_ACCEPT_LANGUAGE="es")

    assert response["Content-Language"] == "es"
    assert "django_language" not in response.cookies


@pytest.mark.django_db
def test_the_patients_own_language_outranks_the_browser(client, prescriber):
    prescription = _prescription(prescriber)

    page = client.get(f"/questionnaire/{prescription.questionnaire_token}", HTTP_ACCEPT_LANGUAGE="en-US")

    assert page["Content-Language"] == "es"
    assert "Confirme su fecha de nacimiento" in page.content.decode()


@pytest.mark.django_db
def test_the_switch_outranks_the_patients_language(client, prescriber):
    prescription = _prescription(prescriber)
    _proven(client, prescription)

    by_query = client.get(f"/questionnaire/{prescription.questionnaire_token}?lang=en")
    by_cookie = client.get(f"/questionnaire/{prescription.questionnaire_token}")

    assert by_query["Content-Language"] == "en"
    assert "Your health questions" in by_query.content.decode()
    assert by_cookie["Content-Language"] == "en"


@pytest.mark.django_db
def test_a_spanish_browser_reads_spanish_when_the_prescription_said_nothing(client, prescriber):
    # English is the default a prescription carries when nobody said: the browser's wish counts.
    prescription = _prescription(prescriber, language=Language.ENGLISH)

    page = client.get(f"/questionnaire/{prescription.questionnaire_token}", HTTP_ACCEPT_LANGUAGE="es-MX,es;q=0.9")
    english = client.get(f"/questionnaire/{prescription.questionnaire_token}", HTTP_ACCEPT_LANGUAGE="en-US")

    assert page["Content-Language"] == "es"
    assert "Confirme su fecha de nacimiento" in page.content.decode()
    assert english["Content-Language"] == "en"


@pytest.mark.django_db
def test_staff_and_sign_in_pages_stay_english_whatever_the_browser_asks(client, pharmacist, login, prescriber):
    from intake.services.questionnaire import questionnaire_submit
    from tests.factories import clean_answers

    prescription = _prescription(prescriber)
    questionnaire_submit(token=prescription.questionnaire_token, date_of_birth=BIRTH, answers=clean_answers())
    signed_out = client.get("/accounts/login/?lang=es", HTTP_ACCEPT_LANGUAGE="es")
    login(client, pharmacist)
    review = client.get(f"/pharmacy/prescriptions/{prescription.pk}/?lang=es", HTTP_ACCEPT_LANGUAGE="es")

    for response in (signed_out, review):
        assert response.status_code == 200
        assert not response.has_header("Content-Language")
        assert '<html lang="en">' in response.content.decode()
        assert "django_language" not in response.cookies
    # The review page says which language the patient reads.
    assert "Spanish" in review.content.decode()
    assert 'data-testid="patient-language"' in review.content.decode()


@pytest.mark.django_db
def test_the_api_stays_english(client):
    response = client.get("/api/v1/prescriptions/", HTTP_ACCEPT_LANGUAGE="es")

    assert not response.has_header("Content-Language")


@pytest.mark.django_db
def test_the_next_request_on_the_same_thread_is_english_again(client, prescriber):
    from django.utils import translation

    client.get("/status/", HTTP_ACCEPT_LANGUAGE="es")

    assert translation.get_language() == "en"


# --- the patient's pages in Spanish ---------------------------------------------------------------------


@pytest.mark.django_db
def test_the_questionnaire_is_in_spanish_with_a_language_switch(client, prescriber):
    prescription = _prescription(prescriber)
    _proven(client, prescription)

    page = client.get(f"/questionnaire/{prescription.questionnaire_token}").content.decode()

    assert "Sus preguntas de salud" in page
    assert "¿ha tomado algún analgésico opioide" in page
    assert "Estoy embarazada" in page  # the answers' words (model choices) too
    assert "Enviar mis respuestas" in page
    assert 'hreflang="en"' in page and 'href="?lang=en"' in page
    assert "Your health questions" not in page


@pytest.mark.django_db
def test_questionnaire_errors_are_in_spanish(client, prescriber):
    prescription = _prescription(prescriber)
    _proven(client, prescription)

    page = client.post(f"/questionnaire/{prescription.questionnaire_token}", {}).content.decode()

    assert "Algunas respuestas necesitan su atención" in page
    assert "Responda sí o no." in page


@pytest.mark.django_db
def test_the_status_page_is_in_spanish_with_spanish_dates(client, prescriber):
    from intake.services.questionnaire import questionnaire_submit
    from tests.factories import clean_answers

    prescription = _prescription(prescriber)
    questionnaire_submit(token=prescription.questionnaire_token, date_of_birth=BIRTH, answers=clean_answers())
    _proven(client, prescription)

    page = client.get(f"/status/{prescription.questionnaire_token}").content.decode()

    assert "Su pedido" in page
    assert "Revisión del farmacéutico" in page
    assert "Qué sigue" in page
    assert " de 20" in page  # "martes, 8 de diciembre de 2026"
    assert "Your order" not in page


@pytest.mark.django_db
def test_the_status_lookup_answers_in_the_patients_language(client, prescriber):
    prescription = _prescription(prescriber)

    page = client.post("/status/", {"reference": prescription.reference, "date_of_birth": "1980-02-29"})

    assert page["Content-Language"] == "es"
    assert "Tenemos su receta" in page.content.decode()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("language", "query", "expected", "words"),
    [
        (Language.SPANISH, "", "es", "Tenemos su receta"),
        (Language.SPANISH, "?lang=en", "en", "We have your prescription"),
        (Language.ENGLISH, "", "en", "We have your prescription"),
        (Language.ENGLISH, "?lang=es", "es", "Tenemos su receta"),
        (Language.SPANISH, "?lang=fr", "es", "Tenemos su receta"),
    ],
)
def test_the_status_json_words_are_in_the_patients_language_or_the_asked_one(
    client, prescriber, language, query, expected, words
):
    prescription = _prescription(prescriber, language=language)

    pair = {"reference": prescription.reference, "date_of_birth": "1980-02-29"}

    answer = client.post(f"/api/v1/status/{query}", pair, content_type="application/json", HTTP_ACCEPT_LANGUAGE="en")

    assert answer.status_code == 200
    assert answer["Content-Language"] == expected
    body = answer.json()
    assert body["language"] == expected
    assert body["status"] == "awaiting_questionnaire"  # codes stay codes
    assert words in body["status_text"] + " " + body["next_step"]


@pytest.mark.django_db
@pytest.mark.parametrize(("accept", "expected"), [("es", "es"), ("es-MX,en;q=0.5", "es"), ("en-US", "en"), ("", "en")])
def test_the_status_json_follows_the_browser_when_the_patients_language_is_the_default(
    client, prescriber, accept, expected
):
    prescription = _prescription(prescriber, language=Language.ENGLISH)

    answer = client.post("/api/v1/status/", {"reference": prescription.reference, "date_of_birth": "1980-02-29"},
                         content_type="application/json", HTTP_ACCEPT_LANGUAGE=accept)  # fmt: skip

    assert answer.json()["language"] == answer["Content-Language"] == expected


@pytest.mark.django_db
def test_the_check_in_is_in_spanish(client, prescriber):
    from intake.models import FollowUp
    from intake.services.follow_up import follow_up_submit
    from tests.factories import clean_answers

    prescription = _prescription(prescriber)
    from intake.services.questionnaire import questionnaire_submit

    questionnaire_submit(token=prescription.questionnaire_token, date_of_birth=BIRTH, answers=clean_answers())
    from django.utils import timezone

    follow_up = FollowUp.objects.create(
        prescription=prescription, token="es-check-in-token", sent_at=timezone.now(),
        expires_at=timezone.now() + timezone.timedelta(days=14),
    )  # fmt: skip
    client.post("/check-in/es-check-in-token", {"date_of_birth": "1980-02-29"})
    form = client.get("/check-in/es-check-in-token").content.decode()
    assert "¿Cómo se siente?" in form
    assert "Problemas para dormir" in form
    assert "Mucho: me molesta" in form

    follow_up_submit(token=follow_up.token, date_of_birth=BIRTH,
                     symptoms={"sleep_problems": "mild", "vivid_dreams": "none", "nausea": "none", "headache": "none"},
                     other_effects="", wants_call=False)  # fmt: skip
    thanks = client.get("/check-in/es-check-in-token/thanks").content.decode()
    assert "por la mañana" in thanks
    assert "Trouble sleeping and vivid dreams" not in thanks


# --- messages ---------------------------------------------------------------------------------------------


def _patient_message(prescription: Prescription, event: str):
    rows = [
        row for row in notification_record(prescription=prescription, event=event) if row.audience == Audience.PATIENT
    ]
    return notification_render(notification=rows[0])


@pytest.mark.django_db
@pytest.mark.parametrize("event", [e for e in NotificationEvent.values if Audience.PATIENT in AUDIENCES[e]])
def test_every_patient_message_is_in_the_patients_language(prescriber, event):
    spanish = _patient_message(_prescription(prescriber), event)
    english = _patient_message(_prescription(prescriber, language=Language.ENGLISH, first_name="Ann"), event)

    assert "receta" in spanish.subject.lower() or "pedido" in spanish.subject.lower()
    assert spanish.text.startswith("Hola, Lupe:")
    assert "Por su privacidad" in spanish.text
    assert '<html lang="es">' in spanish.html
    assert "Hola, Lupe:" in spanish.html
    assert spanish.sms.split(": ", 1)[1].startswith(spanish.subject)
    assert english.text.startswith("Hello Ann,")
    assert "Prescription" in english.subject or "prescription" in english.subject or "?" in english.subject


@pytest.mark.django_db
def test_the_prescribers_copy_of_a_spanish_patients_message_is_english(prescriber):
    prescription = _prescription(prescriber)
    rows = notification_record(prescription=prescription, event=NotificationEvent.APPROVED)

    prescriber_row = next(row for row in rows if row.audience == Audience.PRESCRIBER)
    message = notification_render(notification=prescriber_row)

    assert message.subject == f"Prescription {prescription.reference} approved"
    assert "Our pharmacist approved" in message.text


# --- the language sent with a prescription ---------------------------------------------------------------


@pytest.mark.django_db
def test_the_api_takes_the_patients_language(prescriber_api):
    response = prescriber_api.post(
        "/api/v1/prescriptions/", api_payload(patient={**api_payload()["patient"], "language": "es"}), format="json"
    )

    assert response.status_code == 201, response.content
    assert response.json()["patient"]["language"] == "es"
    assert Patient.objects.get(last_name="Lovelace").language == "es"


@pytest.mark.django_db
def test_the_api_refuses_a_language_it_does_not_write_with_a_field_error(prescriber_api):
    response = prescriber_api.post(
        "/api/v1/prescriptions/", api_payload(patient={**api_payload()["patient"], "language": "fr"}), format="json"
    )

    assert response.status_code == 400
    assert "language" in str(response.json())
    assert '"en" (English) or "es" (Spanish)' in str(response.json())
    assert not Patient.objects.exists()


@pytest.mark.django_db
def test_a_returning_patient_keeps_their_language_when_none_is_sent(prescriber):
    first = _prescription(prescriber)
    make_prescription(prescriber, patient={"first_name": "Lupe", "last_name": "Quintanilla", "date_of_birth": BIRTH})

    first.patient.refresh_from_db()
    assert first.patient.language == "es"


# --- no patient string left untranslated -------------------------------------------------------------------


def _patient_facing(locations) -> bool:
    return any(path.startswith(PATIENT_FACING) for path, _line in locations)


def _problems(po_path: Path) -> list[str]:
    with po_path.open("rb") as source:
        catalog = read_po(source)
    problems = []
    for message in catalog:
        if not message.id or not _patient_facing(message.locations):
            continue
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        if message.fuzzy or not all(strings):
            problems.append(f"{message.locations[0][0]}: {message.id!r}")
    return problems


def test_the_committed_catalogue_translates_every_patient_string():
    assert _problems(PO) == []


@pytest.mark.skipif(shutil.which("xgettext") is None, reason="makemessages needs gettext's xgettext")
def test_makemessages_leaves_no_patient_string_untranslated(tmp_path):
    # A copy of the project's sources, so the run rewrites no file of the checkout.
    work = tmp_path / "project"
    shutil.copytree(
        ROOT, work, ignore=shutil.ignore_patterns(*MAKEMESSAGES_IGNORE, ".git", "*.mo", "__pycache__", ".*_cache")
    )
    command = [str(ROOT / ".venv" / "bin" / "python"), "manage.py", "makemessages", "-l", "es", "--add-location",
               "file", *(f"--ignore={name}" for name in MAKEMESSAGES_IGNORE)]  # fmt: skip
    subprocess.run(command, cwd=work, check=True, capture_output=True)  # noqa: S603

    assert _problems(work / "locale" / "es" / "LC_MESSAGES" / "django.po") == []
