"""Submitting a prescription: validate, find or create the patient, sign, screen, record, notify."""

from __future__ import annotations

import hashlib
import json
import secrets
from dataclasses import asdict, dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.models import User
from intake.audit import AuditEntry
from intake.clinical.dosing import TitrationStep as ClinicalStep
from intake.clinical.dosing import titration_errors
from intake.errors import Forbidden
from intake.links import new_questionnaire_token
from intake.models import (
    Action,
    AuditAction,
    DosageForm,
    Fill,
    IdempotencyKey,
    NotificationEvent,
    Patient,
    Prescriber,
    Prescription,
    PrescriptionStatus,
    TitrationStep,
    fold_name,
)
from intake.models.people import age_on
from intake.notifications.outbox import notifications_record
from intake.selectors import shown_rows_set
from intake.services.dispensing import dispense_plan_flags_refresh, plan_of
from intake.services.events import prescription_event_record
from intake.services.screening import (
    PatientPicture,
    duplicate_orders_mark,
    patient_picture,
    prescription_facts,
    screen_new,
)

# Crockford base32 without I, L, O, U: easy to read aloud on the phone.
_REFERENCE_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_REFERENCE_LENGTH = 7
OLDEST_PATIENT_YEARS = 120


@dataclass(frozen=True)
class PatientDetails:
    first_name: str
    last_name: str
    date_of_birth: date
    sex: str
    address_line1: str
    city: str
    state: str
    postal_code: str
    email: str = ""
    phone: str = ""
    weight_kg: Decimal | None = None
    address_line2: str = ""
    contact_preference: str = "email"
    # "en" or "es"; empty keeps a returning patient's language (a new patient: English).
    language: str = ""


@dataclass(frozen=True)
class Step:
    strength_mg: Decimal
    days: int


@dataclass(frozen=True)
class PrescribedContent:
    dosage_form: str
    strength_mg: Decimal
    directions: str
    quantity: int
    days_supply: int
    refills: int
    indication: str
    icd10: str = ""
    dose_timing: str = "bedtime"
    prescriber_notes: str = ""
    titration: tuple[Step, ...] = field(default_factory=tuple)
    rush: bool = False
    repeat_titration: bool = False
    # The patient's allergies as the prescriber knows them, one line each ("penicillin: rash").
    allergies: tuple[str, ...] = ()


@dataclass(frozen=True)
class Signature:
    name: str
    attested: bool
    ip_address: str | None = None
    # The prescriber confirmed, on seeing the usual range, a dose outside it (the web form asks).
    dose_confirmed: bool = False


def new_reference() -> str:
    # "RX-", not the drug: the reference travels in emails and text messages (CLINICAL.md, Privacy).
    return "RX-" + "".join(secrets.choice(_REFERENCE_ALPHABET) for _ in range(_REFERENCE_LENGTH))


def prescriber_submission_check(prescriber: Prescriber) -> None:
    blocker = prescriber.submission_blocker()
    if blocker:
        raise Forbidden(blocker)


def content_errors(
    *, patient: PatientDetails, content: PrescribedContent, today: date | None = None
) -> dict[str, list[str]]:
    """Domain checks beyond each field's own format, keyed by field ("patient.weight_kg", "titration")."""
    today = today or timezone.localdate()
    errors: dict[str, list[str]] = {}
    if patient.date_of_birth > today:
        errors["patient.date_of_birth"] = ["The date of birth is in the future."]
    elif patient.date_of_birth < today.replace(year=today.year - OLDEST_PATIENT_YEARS):
        errors["patient.date_of_birth"] = [f"The date of birth is more than {OLDEST_PATIENT_YEARS} years ago."]
    elif age_on(patient.date_of_birth, today) < 18 and patient.weight_kg is None:
        errors["patient.weight_kg"] = ["A patient under 18 needs a weight: children's doses are checked against it."]
    unit_dose = DosageForm.objects.offered().get(content.dosage_form)  # None: not offered
    if unit_dose is None:
        errors["dosage_form"] = ["The pharmacy does not compound this dosage form at the moment."]
    if content.titration:
        problems = titration_errors(
            steps=[ClinicalStep(strength_mg=s.strength_mg, days=s.days) for s in content.titration],
            strength_mg=content.strength_mg,
            quantity=content.quantity,
            days_supply=content.days_supply,
            unit_dose=bool(unit_dose),
        )
        if problems:
            errors["titration"] = problems
    return errors


def request_digest(payload: Any) -> str:
    canonical = json.dumps(payload, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def patient_find_or_create(details: PatientDetails, *, user: User) -> Patient:
    """The same person (name and birth date, whatever case or accents) is one record.

    Contact details and weight are refreshed from the newest prescription; history keeps the old.
    `user` is who the history names (the prescriber).
    """
    return patient_record(details, user=user)[0]


def patient_record(details: PatientDetails, *, user: User) -> tuple[Patient, bool]:
    """patient_find_or_create, and whether the patient was created just now (a new patient has
    no other prescriptions to read)."""
    values: dict[str, Any] = {
        "first_name": details.first_name.strip(),
        "last_name": details.last_name.strip(),
        "sex": details.sex,
        "address_line1": details.address_line1,
        "address_line2": details.address_line2,
        "city": details.city,
        "state": details.state,
        "postal_code": details.postal_code,
        "contact_preference": details.contact_preference,
    }
    optional = {"email": details.email, "phone": details.phone, "weight_kg": details.weight_kg,
                "language": details.language}  # fmt: skip
    values.update({name: value for name, value in optional.items() if value not in ("", None)})
    # Locked, so that a returning patient's details are not changed by two prescriptions at once.
    # Two first prescriptions for one new patient at once: both find nothing, the second INSERT
    # waits for the first's commit and fails on the identity key, and prescription_submit runs the
    # second's transaction again, which then finds the patient here.
    patient = (
        Patient.objects.select_for_update()
        .filter(name_key=Patient.identity_key(details.first_name, details.last_name),
                date_of_birth=details.date_of_birth)
        .first()
    )  # fmt: skip
    if patient is None:
        # save() sets the identity key from the names; simple-history's post_save writes the "+" row.
        patient = Patient(date_of_birth=details.date_of_birth, **values)
        patient._history_user = user  # type: ignore[attr-defined]  # simple-history's hook for who changed a record
        patient.save()
        return patient, True
    changed = [name for name, value in values.items() if getattr(patient, name) != value]
    if changed:
        for name in changed:
            setattr(patient, name, values[name])
        patient._history_user = user  # type: ignore[attr-defined]
        patient.save()
    return patient, False


def _replay(prescriber: Prescriber, key: str, digest: str) -> Prescription | None:
    # Two columns, not the key's row joined to its prescription: nearly every key is new, and the
    # prescription is read only for a replay.
    stored = (
        IdempotencyKey.objects.filter(prescriber=prescriber, key=key)
        .values_list("request_digest", "prescription_id")
        .first()
    )
    if stored is None:
        return None
    request_digest, prescription_id = stored
    if request_digest != digest:
        raise ValidationError(
            {"idempotency_key": ["This Idempotency-Key was already used for a different prescription."]}
        )
    return Prescription.objects.get(pk=prescription_id)


def form_token_key(token: str) -> str:
    """The idempotency key of a web form's one-time token, apart from the API's own keys."""
    return f"web-form:{token}"


def prescription_sent_with(*, prescriber: Prescriber, form_token: str) -> Prescription | None:
    """The prescription that a showing of the web form already made, whatever was changed on the
    form since: a form is sent once."""
    if not form_token:
        return None
    stored = (
        IdempotencyKey.objects.select_related("prescription")
        .filter(prescriber=prescriber, key=form_token_key(form_token))
        .first()
    )
    return None if stored is None else stored.prescription


def prescription_submit(
    *,
    prescriber: Prescriber,
    patient: PatientDetails,
    content: PrescribedContent,
    signature: Signature,
    idempotency_key: str = "",
    audit: AuditEntry | None = None,
) -> tuple[Prescription, bool]:
    """Submit a signed prescription. Returns it and whether it was created (False: an idempotent replay).

    `audit` (who submits, from where) is recorded in the submission's own transaction: the new
    prescription and its audit row commit together, with one commit instead of two.
    """
    prescriber_submission_check(prescriber)
    digest = request_digest({"patient": asdict(patient), "content": asdict(content)})
    # No look-up of the key first: nearly every key is new, and a replay is caught by the key's
    # unique constraint at the end of the transaction, which then rolls back (a replay costs a
    # rolled-back transaction; every new submission saves a query).
    for attempt in range(_SUBMIT_ATTEMPTS):
        try:
            return _submit(prescriber=prescriber, patient=patient, content=content, signature=signature,
                           idempotency_key=idempotency_key, digest=digest, audit=audit), True  # fmt: skip
        except ValidationError:
            # A replay of a submission that would no longer pass (a form since withdrawn, say)
            # still answers with the prescription it made.
            replayed = _replay(prescriber, idempotency_key, digest) if idempotency_key else None
            if replayed is None:
                raise
            return replayed, False
        except IntegrityError:
            # A replay, or two requests with one Idempotency-Key at once: the loser answers with
            # the winner's result.
            if idempotency_key:
                replayed = _replay(prescriber, idempotency_key, digest)
                if replayed is not None:
                    return replayed, False
            # Otherwise a new patient that another request has just created, or a random reference
            # or token that was taken (about one in 30,000 at a million prescriptions): the whole
            # transaction runs again and finds the patient, draws new identifiers. Cheaper than a
            # savepoint around each insert, which every submission would pay.
            if attempt == _SUBMIT_ATTEMPTS - 1:
                raise
    raise AssertionError("unreachable")  # pragma: no cover


_SUBMIT_ATTEMPTS = 5


@transaction.atomic(durable=True)
def _submit(
    *,
    prescriber: Prescriber,
    patient: PatientDetails,
    content: PrescribedContent,
    signature: Signature,
    idempotency_key: str,
    digest: str,
    audit: AuditEntry | None,
) -> Prescription:
    prescription = prescription_create_signed(
        prescriber=prescriber, patient=patient, content=content, signature=signature,
        idempotency_key=idempotency_key, digest=digest,
    )  # fmt: skip
    if audit is not None:
        audit.record(AuditAction.CREATE, prescription=prescription)
    return prescription


def prescription_create_signed(
    *,
    prescriber: Prescriber,
    patient: PatientDetails,
    content: PrescribedContent,
    signature: Signature,
    idempotency_key: str = "",
    digest: str = "",
    renewed_from: Prescription | None = None,
) -> Prescription:
    """Check, sign, screen and record a new prescription; runs inside the caller's transaction
    (a submission, or a renewal the prescriber approves)."""
    errors = content_errors(patient=patient, content=content)
    if not signature.attested:
        errors["signature_attestation"] = ["Confirm the attestation to sign the prescription."]
    if not signature.name.strip():
        errors["signature_name"] = ["Type your full name to sign."]
    elif fold_name(signature.name).find(fold_name(prescriber.user.last_name)) < 0:
        errors["signature_name"] = [f"Sign with your own name ({prescriber.user.get_full_name()})."]
    if errors:
        raise ValidationError(errors)

    now = timezone.now()
    patient_row, new_patient = patient_record(patient, user=prescriber.user)
    prescription = Prescription(
        prescriber=prescriber,
        patient=patient_row,
        status=PrescriptionStatus.AWAITING_QUESTIONNAIRE,
        dosage_form=content.dosage_form,
        strength_mg=content.strength_mg,
        directions=content.directions.strip(),
        quantity=content.quantity,
        days_supply=content.days_supply,
        refills=content.refills,
        indication=content.indication.strip(),
        icd10=content.icd10.strip().upper(),
        dose_timing=content.dose_timing,
        prescriber_notes=content.prescriber_notes.strip(),
        weight_kg=patient.weight_kg,
        rush=content.rush,
        repeat_titration=content.repeat_titration,
        prescriber_allergies=[line.strip() for line in content.allergies if line.strip()],
        signature_name=signature.name.strip(),
        signed_at=now,
        signed_from_ip=signature.ip_address,
        questionnaire_expires_at=now + timedelta(days=settings.QUESTIONNAIRE_LINK_DAYS),
        submitted_at=now,
        status_changed_at=now,
        content_digest="",
        renewed_from=renewed_from,
    )
    prescription.reference = new_reference()
    prescription.questionnaire_token = new_questionnaire_token()
    # Screened from the submitted content (a new prescription has no questionnaire yet) with the
    # patient's other open prescriptions (none to read for a new patient) and the pharmacy's
    # licences (the process's copy); the flags go into the first INSERT.
    picture = patient_picture(
        patient_id=patient_row.pk,
        prescription_id=None,
        with_answers=False,
        new_patient=new_patient,
        prescriber=prescriber,
        patient_state=patient_row.state,
    )
    _screen_new(prescription, content=content, patient=patient, picture=picture)
    # Signed before the INSERT (the digest covers the titration steps, not the ids), so the row is
    # written once, and history gets one row: the prescription as signed.
    steps = [TitrationStep(prescription=prescription, position=i, strength_mg=s.strength_mg, days=s.days)
             for i, s in enumerate(content.titration, start=1)]  # fmt: skip
    prescription.content_digest = prescription.compute_digest(steps)
    prescription._history_user = prescriber.user  # type: ignore[attr-defined]  # the history names the signer
    prescription.save()
    first_fill = Fill.objects.create(
        prescription=prescription, number=1, status=prescription.status, requested_at=now,
        quantity=prescription.quantity, days_supply=prescription.days_supply,
    )  # fmt: skip
    TitrationStep.objects.bulk_create(steps)  # no save() of its own, and no history: one INSERT for all
    shown_rows_set(prescription, steps=steps, fills=[first_fill], clarifications=[])
    prescription_event_record(
        prescription=prescription, action=Action.SUBMIT, from_status="", to_status=prescription.status,
        actor=prescriber.user, details={"dose_confirmed": True} if signature.dose_confirmed else {},
    )  # fmt: skip
    duplicate_orders_mark(prescription, picture.others)
    if idempotency_key:
        IdempotencyKey.objects.create(
            prescriber=prescriber, key=idempotency_key, request_digest=digest, prescription=prescription
        )
    notifications_record(
        prescription=prescription,
        events=(NotificationEvent.PRESCRIPTION_RECEIVED, NotificationEvent.QUESTIONNAIRE_INVITATION),
    )
    # The queue's tab counts are not forgotten here (queue_counts_changed): a new prescription
    # waits for its questionnaire, the tab shows it within QUEUE_COUNTS_SECONDS, and an EHR's burst
    # would otherwise make every pharmacist's next page count the open rows again.
    return prescription


def _screen_new(
    prescription: Prescription, *, content: PrescribedContent, patient: PatientDetails, picture: PatientPicture
) -> None:
    facts = prescription_facts(
        dosage_form=content.dosage_form,
        strength_mg=content.strength_mg,
        titration_mg=[step.strength_mg for step in content.titration],
        age_years=age_on(patient.date_of_birth, timezone.localdate()),
        weight_kg=patient.weight_kg,
        quantity=content.quantity,
        days_supply=content.days_supply,
        patient_state=patient.state,
        allergies=content.allergies,
    )
    screen_new(prescription, facts, picture)
    plan = plan_of(
        dosage_form=content.dosage_form, strength_mg=content.strength_mg, quantity=content.quantity,
        days_supply=content.days_supply, steps=[ClinicalStep(s.strength_mg, s.days) for s in content.titration],
    )  # fmt: skip
    dispense_plan_flags_refresh(prescription, plan)
