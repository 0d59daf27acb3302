"""Past prescriptions for the demo, so the dashboard has weeks of work to show.

Each prescription is submitted through the real service and, when its patient "answered", the real
questionnaire service screens it (so flags come from the clinical engine). Its later life is then
written as history: a timeline of workflow events drawn at random, cut at now, stored with queryset
updates (bulk_update) because the workflow services stamp the current time and refuse to act in
the past. Demo only: never call this on a production database.

The submit and questionnaire services queue their notifications (to ``@example.test`` addresses, a
reserved domain that never delivers).
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from accounts.models import Role, User
from intake.clinical.beyond_use import beyond_use_date, bud_rule_for_dosage_form
from intake.clinical.refills import refill_reminder_on
from intake.models import (
    Action,
    Clarification,
    CompoundingRecord,
    Fill,
    FollowUp,
    Prescriber,
    Prescription,
    PrescriptionEvent,
    PrescriptionStatus,
    Questionnaire,
    Requester,
)
from intake.services.prescriptions import PatientDetails, PrescribedContent, Signature, Step, prescription_submit
from intake.services.questionnaire import questionnaire_submit

S = PrescriptionStatus
_DEMO_ACTOR = "pharmacy staff (demo history)"
_FIRST_NAMES = ("Maria", "James", "Linda", "Robert", "Aisha", "Chen", "Sofia", "David", "Emily", "Omar", "Grace",
                "Lucas", "Hannah", "Mateo", "Priya", "Noah", "Fatima", "Ethan", "Yuki", "Olivia")  # fmt: skip
_LAST_NAMES = ("Garcia", "Nguyen", "Okafor", "Smith", "Kowalski", "Haddad", "Johansson", "Patel", "Rossi",
               "Kim", "Murphy", "Silva", "Schmidt", "Dubois", "Tanaka", "Moreno")  # fmt: skip

# (dosage form, strength mg, directions, quantity, days supply, titration) as LDN prescribers write them.
_TITRATION = (Step(Decimal("1.5"), 14), Step(Decimal("3"), 14))
_CONTENTS: tuple[tuple[str, str, str, int, int, tuple[Step, ...]], ...] = (
    ("capsule", "4.5", "Take 1 capsule by mouth at bedtime", 30, 30, _TITRATION),
    ("capsule", "3", "Take 1 capsule by mouth at bedtime", 30, 30, ()),
    ("capsule", "1.5", "Take 1 capsule by mouth at bedtime", 30, 30, ()),
    ("oral_liquid", "4.5", "Take 4.5 mL (4.5 mg) by mouth at bedtime", 135, 30, ()),
    ("sublingual_drops", "1.5", "Place 1.5 mL (1.5 mg) under the tongue at bedtime", 45, 30, ()),
    ("topical_cream", "3", "Apply 3 g (3 mg) to the affected area at bedtime", 90, 30, ()),
)  # fmt: skip
_INDICATIONS = (("fibromyalgia", "M79.7"), ("Crohn's disease", "K50.90"), ("multiple sclerosis", "G35"),
                ("chronic pain", "G89.29"), ("Hashimoto's thyroiditis", "E06.3"))  # fmt: skip


@dataclass
class _Step:
    action: str
    to_status: str
    at: datetime


def _answers(rng: random.Random) -> dict[str, Any]:
    """Questionnaire answers: most clean, some raising the flags a pharmacy sees every week."""
    answers: dict[str, Any] = {
        "takes_opioids": False, "opioid_treatment_program": False, "liver_condition": "none", "pregnancy": "no",
        "alcohol_drinks_per_week": rng.choice((0, 1, 2, 4)), "naltrexone_allergy": False,
        "thyroid_medication": False, "immunosuppressants": False, "surgery_within_14_days": False,
        "current_medications": ["vitamin D 2000 IU"], "allergies": [], "attestation": True,
    }  # fmt: skip
    roll = rng.random()
    if roll < 0.05:
        answers["takes_opioids"] = True
        answers["current_medications"] = ["tramadol 50 mg as needed"]
    elif roll < 0.17:
        answers["thyroid_medication"] = True
        answers["current_medications"] = ["levothyroxine 75 mcg"]
    elif roll < 0.26:
        answers["alcohol_drinks_per_week"] = rng.choice((15, 20, 28))
    elif roll < 0.33:
        answers["immunosuppressants"] = True
        answers["current_medications"] = ["methotrexate 15 mg weekly"]
    elif roll < 0.37:
        answers["surgery_within_14_days"] = True
    elif roll < 0.40:
        answers["liver_condition"] = "other"
    return answers


def _hours(rng: random.Random, low: float, high: float) -> timedelta:
    return timedelta(hours=rng.uniform(low, high))


def _timeline(rng: random.Random, submitted_at: datetime, *, hard_stop: bool, has_claimer: bool) -> list[_Step]:
    """The workflow a prescription went through after its questionnaire, with a time for each step."""
    t = submitted_at
    steps: list[_Step] = []

    def step(action: str, to_status: str, delay: timedelta) -> None:
        nonlocal t
        t = t + delay
        steps.append(_Step(action, to_status, t))

    # The questionnaire itself is stamped separately (its service runs now); it is the first step.
    step(Action.QUESTIONNAIRE, S.PENDING_REVIEW, _hours(rng, 2, 48))
    if rng.random() < 0.04:
        step(Action.CANCEL, S.CANCELLED, _hours(rng, 2, 48))
        return steps
    if has_claimer:
        step(Action.CLAIM, S.IN_REVIEW, _hours(rng, 1, 24))
    if hard_stop:
        step(Action.REJECT, S.REJECTED, _hours(rng, 0.2, 3))
        return steps
    if rng.random() < 0.1:
        step(Action.REQUEST_CLARIFICATION, S.ON_HOLD, _hours(rng, 0.2, 2))
        step(Action.RESPOND, S.PENDING_REVIEW, _hours(rng, 12, 72))
        if has_claimer:
            step(Action.CLAIM, S.IN_REVIEW, _hours(rng, 0.5, 6))
    step(Action.APPROVE, S.APPROVED, _hours(rng, 0.2, 2))
    step(Action.START_COMPOUNDING, S.COMPOUNDING, _hours(rng, 4, 36))
    step(Action.RECORD_COMPOUNDING, S.FINAL_CHECK, _hours(rng, 0.5, 3))
    step(Action.FINAL_CHECK, S.READY, _hours(rng, 0.3, 6))
    if rng.random() < 0.8:
        step(Action.SHIP, S.SHIPPED, _hours(rng, 4, 30))
        step(Action.COMPLETE, S.COMPLETED, _hours(rng, 72, 240))
    else:
        step(Action.COMPLETE, S.COMPLETED, _hours(rng, 24, 120))
    return steps


def _default_pharmacist() -> User | None:
    return User.objects.filter(groups__name=Role.PHARMACIST, is_active=True).order_by("pk").first()


def demo_history_create(
    *,
    prescriber: Prescriber,
    weeks: int = 8,
    per_week: int = 12,
    seed: int = 1,
    pharmacist: User | None = None,
    now: datetime | None = None,
) -> list[Prescription]:
    """Create `weeks` x `per_week` prescriptions submitted over the last weeks, in the statuses they would
    have reached by now. `pharmacist` (default: the first pharmacist) is who claimed and acted on them."""
    # Demo data, not security: a seeded generator so every run of the demo looks the same.
    rng = random.Random(seed)  # noqa: S311
    now = now or timezone.now()
    pharmacist = pharmacist or _default_pharmacist()
    created: list[Prescription] = []
    for week in range(weeks):
        for n in range(per_week):
            # Week 0 is this week; stay an hour clear of now so every step stamped "now" is later.
            age = timedelta(days=7 * week) + timedelta(hours=rng.uniform(1, 7 * 24 - 1))
            created.append(
                _one(rng, prescriber=prescriber, pharmacist=pharmacist, submitted_at=now - age, now=now,
                     index=seed * 10_000 + week * per_week + n)
            )  # fmt: skip
    return created


def _one(
    rng: random.Random,
    *,
    prescriber: Prescriber,
    pharmacist: User | None,
    submitted_at: datetime,
    now: datetime,
    index: int,
) -> Prescription:
    form, strength, directions, quantity, days_supply, titration = rng.choice(_CONTENTS)
    indication, icd10 = rng.choice(_INDICATIONS)
    first, last = rng.choice(_FIRST_NAMES), rng.choice(_LAST_NAMES)
    born = date(rng.randint(1950, 2000), rng.randint(1, 12), rng.randint(1, 28))
    prescription, _created = prescription_submit(
        prescriber=prescriber,
        patient=PatientDetails(
            first_name=first,
            last_name=last,
            date_of_birth=born,
            sex=rng.choice("FM"),
            email=f"demo{index}@example.test",
            phone="+15555550123",
            address_line1=f"{rng.randint(1, 999)} Main St",
            city="Austin",
            state="TX",
            postal_code="78701",
        ),
        content=PrescribedContent(
            dosage_form=form,
            strength_mg=Decimal(strength),
            directions=directions,
            quantity=quantity,
            days_supply=days_supply,
            refills=rng.randint(0, 5),
            indication=indication,
            icd10=icd10,
            titration=titration,
            rush=rng.random() < 0.1,
        ),
        signature=Signature(name=prescriber.user.get_full_name(), attested=True, ip_address="127.0.0.1"),
    )
    answers = _answers(rng)
    steps = _timeline(rng, submitted_at, hard_stop=answers["takes_opioids"], has_claimer=pharmacist is not None)
    # About one in twenty patients never answers; their prescription waits for the questionnaire.
    if steps[0].at > now or rng.random() < 0.05:
        steps = []
    if steps:
        prescription = questionnaire_submit(
            token=prescription.questionnaire_token, date_of_birth=born, answers=answers, ip_address="127.0.0.1"
        )
    happened = [s for s in steps if s.at <= now]
    _write_history(prescription, submitted_at=submitted_at, happened=happened, pharmacist=pharmacist)
    return prescription


def demo_tracking_number(prescription_id: int) -> str:
    """A UPS-shaped tracking number of the demo's own per parcel: a carrier event names one parcel."""
    return f"1Z999AA1{prescription_id:010d}"


@transaction.atomic
def _write_history(
    prescription: Prescription, *, submitted_at: datetime, happened: list[_Step], pharmacist: User | None
) -> None:
    status = happened[-1].to_status if happened else S.AWAITING_QUESTIONNAIRE
    reached = {s.to_status: s.at for s in happened}
    prescription.status = status
    prescription.submitted_at = submitted_at
    prescription.signed_at = submitted_at
    prescription.questionnaire_expires_at = submitted_at + timedelta(days=settings.QUESTIONNAIRE_LINK_DAYS)
    prescription.ready_at = reached.get(S.READY)
    prescription.shipped_at = reached.get(S.SHIPPED)
    prescription.closed_at = next((reached[s] for s in (S.COMPLETED, S.REJECTED, S.CANCELLED) if s in reached), None)
    in_review = status == S.IN_REVIEW
    prescription.claimed_by = pharmacist if in_review else None
    prescription.claimed_at = reached.get(S.IN_REVIEW) if in_review else None
    if prescription.shipped_at:
        prescription.carrier, prescription.tracking_number = "UPS", demo_tracking_number(prescription.pk)
    compounded = reached.get(S.FINAL_CHECK)
    if compounded:
        rule = bud_rule_for_dosage_form(prescription.dosage_form).name
        prescription.beyond_use_date = beyond_use_date(rule=rule, compounded_on=timezone.localtime(compounded).date())
    prescription.status_changed_at = happened[-1].at if happened else submitted_at
    # The signature's time is part of what was signed: keep the digest true to the historical time.
    prescription.content_digest = prescription.compute_digest()
    Prescription.objects.bulk_update(
        [prescription],
        ["status", "submitted_at", "signed_at", "questionnaire_expires_at", "ready_at", "shipped_at", "closed_at",
         "claimed_by", "claimed_at", "carrier", "tracking_number", "beyond_use_date", "content_digest",
         "status_changed_at"],
    )  # fmt: skip
    _first_fill_history(prescription, reached=reached)

    # The services wrote the submit and questionnaire events just now; move them to their historical times.
    events = list(PrescriptionEvent.objects.filter(prescription=prescription).order_by("created_at", "id"))
    for event in events:
        event.created_at = happened[0].at if event.action == Action.QUESTIONNAIRE and happened else submitted_at
    previous: str = S.PENDING_REVIEW
    later: list[PrescriptionEvent] = []
    for step in happened[1:]:
        by_prescriber = step.action == Action.RESPOND
        later.append(PrescriptionEvent(
            prescription=prescription, action=step.action, from_status=previous, to_status=step.to_status,
            actor=prescription.prescriber.user if by_prescriber else pharmacist,
            actor_label="" if by_prescriber or pharmacist else _DEMO_ACTOR,
        ))  # fmt: skip
        previous = step.to_status
    later = PrescriptionEvent.objects.bulk_create(later)
    for event, step in zip(later, happened[1:], strict=True):
        event.created_at = step.at
    # bulk_update writes created_at as given (auto_now_add only applies on insert).
    PrescriptionEvent.objects.bulk_update([*events, *later], ["created_at"])
    if happened:
        Questionnaire.objects.filter(prescription=prescription).update(
            attested_at=happened[0].at, submitted_at=happened[0].at
        )


def _first_fill_history(prescription: Prescription, *, reached: dict[str, datetime]) -> None:
    """Fill #1 tells the same story as its prescription (the workflow's fill_sync would have kept it so):
    its status and dates, and when it was handed over (shipped, or picked up and completed at once)."""
    dispensed_at = reached.get(S.SHIPPED) or (reached.get(S.COMPLETED) if prescription.status == S.COMPLETED else None)
    Fill.objects.filter(prescription=prescription, number=1).update(
        status=prescription.status,
        requested_at=prescription.submitted_at,
        beyond_use_date=prescription.beyond_use_date,
        ready_at=prescription.ready_at,
        carrier=prescription.carrier,
        tracking_number=prescription.tracking_number,
        dispensed_at=dispensed_at,
        refill_reminder_on=refill_reminder_on(
            dispensed_on=timezone.localdate(dispensed_at), days_supply=prescription.days_supply
        )
        if dispensed_at
        else None,
        closed_at=prescription.closed_at,
    )


# Repeat business for the demo: refills, a renewal, a hold, a check-in ---------------------------------

_REPEAT_PATIENTS = {
    # key: (first, last, born, email)
    "refill": ("Mary", "Jackson", date(1971, 4, 9), "mary.jackson@example.com"),
    "renewal": ("Dorothy", "Vaughan", date(1960, 9, 20), "dorothy.vaughan@example.com"),
    "hold": ("Edsger", "Dijkstra", date(1966, 5, 11), "edsger.dijkstra@example.com"),
    "check_in": ("Barbara", "Liskov", date(1979, 11, 7), "barbara.liskov@example.com"),
}


def demo_repeat_business_create(*, prescriber: Prescriber, pharmacist: User, technician: User) -> list[Prescription]:
    """Four prescriptions that show the repeat business and the clock, made through the services and
    then moved into the past (the services stamp the current time):

    - a refill (its second fill) re-screened and waiting for review, 25 days after the first fill was handed over;
    - a completed prescription with no refill left and the patient's renewal request waiting for the prescriber;
    - a prescription on hold for 4 days (the clock nags its prescriber and escalates it);
    - a first fill handed over 16 days ago whose check-in was answered with a symptom for a pharmacist.

    Idempotent: a patient already there is skipped.
    """
    from intake.services.follow_up import follow_up_submit
    from intake.services.refills import refill_request, renewal_request
    from intake.services.timers import follow_up_send
    from intake.services.workflow import prescription_claim, prescription_request_clarification

    made: list[Prescription] = []
    for key, (first, last, born, email) in _REPEAT_PATIENTS.items():
        if Prescription.objects.filter(prescriber=prescriber, patient__email=email).exists():
            continue
        prescription = _demo_submit(prescriber, first=first, last=last, born=born, email=email,
                                    refills=0 if key == "renewal" else 3)  # fmt: skip
        if key == "hold":
            prescription_claim(prescription_id=prescription.pk, actor=pharmacist)
            prescription_request_clarification(
                prescription_id=prescription.pk, actor=pharmacist,
                message="The patient lists tramadol as needed in the past; please confirm it was stopped.",
            )  # fmt: skip
            _move_back(prescription, timedelta(days=4))
        else:
            _demo_dispense(prescription, pharmacist=pharmacist, technician=technician)
            _move_back(prescription, timedelta(days={"refill": 25, "renewal": 20, "check_in": 16}[key]))
        if key == "refill":
            refilled = refill_request(prescription_id=prescription.pk, actor=None, requester=Requester.PATIENT)
            # The patient answers the refill's short re-screen: the refill then waits for review.
            questionnaire_submit(
                token=refilled.questionnaire_token, date_of_birth=born, ip_address="127.0.0.1",
                answers={"takes_opioids": False, "liver_condition": "none", "pregnancy": "no", "attestation": True},
            )  # fmt: skip
        elif key == "renewal":
            renewal_request(prescription_id=prescription.pk, actor=None, requester=Requester.PATIENT)
        elif key == "check_in":
            follow_up_send(prescription_id=prescription.pk, now=timezone.now())
            token = FollowUp.objects.get(prescription=prescription).token
            follow_up_submit(
                token=token, date_of_birth=born, other_effects="Waking at 3 am most nights since starting.",
                symptoms={"sleep_problems": "bothersome", "vivid_dreams": "mild", "nausea": "none", "headache": "none"},
            )  # fmt: skip
        made.append(Prescription.objects.get(pk=prescription.pk))
    return made


def _demo_submit(
    prescriber: Prescriber, *, first: str, last: str, born: date, email: str, refills: int
) -> Prescription:
    prescription, _created = prescription_submit(
        prescriber=prescriber,
        patient=PatientDetails(
            first_name=first, last_name=last, date_of_birth=born, sex="F", email=email, phone="+15555550123",
            address_line1="12 Congress Ave", city="Austin", state="TX", postal_code="78701",
        ),
        content=PrescribedContent(
            dosage_form="capsule", strength_mg=Decimal("4.5"), directions="Take 1 capsule by mouth at bedtime",
            quantity=30, days_supply=30, refills=refills, indication="fibromyalgia", icd10="M79.7",
        ),
        signature=Signature(name=prescriber.user.get_full_name(), attested=True, ip_address="127.0.0.1"),
    )  # fmt: skip
    answers = _answers(random.Random(0))  # noqa: S311 - demo data
    answers.update(current_medications=["vitamin D 2000 IU"], alcohol_drinks_per_week=1)
    return questionnaire_submit(
        token=prescription.questionnaire_token, date_of_birth=born, answers={**answers, "date_of_birth": born},
        ip_address="127.0.0.1",
    )  # fmt: skip


def _demo_dispense(prescription: Prescription, *, pharmacist: User, technician: User) -> None:
    """The first fill through the real workflow: reviewed, compounded, checked, shipped, delivered."""
    from intake.services.compounding import compounding_record_create
    from intake.services.lots import LotInput
    from intake.services.workflow import (
        prescription_approve,
        prescription_claim,
        prescription_complete,
        prescription_final_check,
        prescription_ship,
        prescription_start_compounding,
    )

    pk = prescription.pk
    today = timezone.localdate()
    prescription_claim(prescription_id=pk, actor=pharmacist)
    warnings = Prescription.objects.get(pk=pk).flags
    reasons = {
        f["code"]: "Reviewed with the patient; fine for LDN." for f in warnings if f.get("severity") == "warning"
    }
    prescription_approve(prescription_id=pk, actor=pharmacist, override_reasons=reasons)
    prescription_start_compounding(prescription_id=pk, actor=technician)
    compounding_record_create(
        prescription_id=pk, actor=technician, quantity_made=prescription.quantity,
        lots=[LotInput(ingredient="Naltrexone HCl USP", lot="NTX-DEMO-1", expires=today + timedelta(days=400),
                       manufacturer="Medisca", quantity_used="135 mg"),
              LotInput(ingredient="Microcrystalline cellulose NF", lot="MCC-DEMO-1",
                       expires=today + timedelta(days=500), manufacturer="Spectrum")],
        quality_checks="Weight variation within limits",
    )  # fmt: skip
    prescription_final_check(prescription_id=pk, actor=pharmacist)
    prescription_ship(prescription_id=pk, actor=technician, carrier="UPS", tracking_number=demo_tracking_number(pk))
    prescription_complete(prescription_id=pk, actor=technician)


def _move_back(prescription: Prescription, delta: timedelta) -> None:
    """Everything the services stamped for this prescription happened `delta` earlier."""
    from django.db.models import F

    fresh = Prescription.objects.get(pk=prescription.pk)
    for name in ("submitted_at", "signed_at", "questionnaire_expires_at", "ready_at", "shipped_at", "closed_at",
                 "claimed_at", "status_changed_at"):  # fmt: skip
        value = getattr(fresh, name)
        if value is not None:
            setattr(fresh, name, value - delta)
    if fresh.beyond_use_date is not None:
        fresh.beyond_use_date -= delta
    # The signature's time is part of what was signed: keep the digest true to the historical time.
    fresh.content_digest = fresh.compute_digest()
    fresh.save()
    PrescriptionEvent.objects.filter(prescription=fresh).update(created_at=F("created_at") - delta)
    Questionnaire.objects.filter(prescription=fresh).update(
        submitted_at=F("submitted_at") - delta, attested_at=F("attested_at") - delta
    )
    # Dates are moved in Python: date arithmetic in SQL differs between SQLite and PostgreSQL.
    for fill in Fill.objects.filter(prescription=fresh):
        _shift(fill, delta, "requested_at", "ready_at", "dispensed_at", "closed_at", "beyond_use_date",
               "refill_reminder_on")  # fmt: skip
    for record in CompoundingRecord.objects.filter(prescription=fresh):
        _shift(record, delta, "compounded_at", "checked_at", "beyond_use_date")
    Clarification.objects.filter(prescription=fresh).update(asked_at=F("asked_at") - delta)


def _shift(row: Any, delta: timedelta, *names: str) -> None:
    for name in names:
        value = getattr(row, name)
        if value is not None:
            setattr(row, name, value - delta)
    type(row).objects.filter(pk=row.pk).update(**{name: getattr(row, name) for name in names})


_KIT_PATIENT = ("Florence", "Nightingale", date(1970, 5, 12), "florence.nightingale@example.com")


def demo_kit_for_final_check(*, prescriber: Prescriber, pharmacist: User, technician: User) -> Prescription | None:
    """A titration kit (1.5, 3 and 4.5 mg capsules) reviewed, approved and compounded by the first
    pharmacist, waiting for its final check: the second pharmacist scans its three containers.

    Idempotent: None when the patient is already there.
    """
    from intake.services.compounding import ContainerInput, compounding_record_create
    from intake.services.lots import LotInput
    from intake.services.workflow import prescription_approve, prescription_claim, prescription_start_compounding

    first, last, born, email = _KIT_PATIENT
    if Prescription.objects.filter(prescriber=prescriber, patient__email=email).exists():
        return None
    prescription, _created = prescription_submit(
        prescriber=prescriber,
        patient=PatientDetails(
            first_name=first, last_name=last, date_of_birth=born, sex="F", email=email, phone="+15555550123",
            address_line1="3 Lamp Lane", city="Austin", state="TX", postal_code="78701",
        ),
        content=PrescribedContent(
            dosage_form="capsule", strength_mg=Decimal("4.5"), directions="Take 1 capsule by mouth at bedtime",
            quantity=30, days_supply=30, refills=2, indication="fibromyalgia", icd10="M79.7", titration=_TITRATION,
        ),
        signature=Signature(name=prescriber.user.get_full_name(), attested=True, ip_address="127.0.0.1"),
    )  # fmt: skip
    answers = {
        "takes_opioids": False, "opioid_treatment_program": False, "liver_condition": "none", "pregnancy": "no",
        "alcohol_drinks_per_week": 0, "naltrexone_allergy": False, "thyroid_medication": False,
        "immunosuppressants": False, "surgery_within_14_days": False, "current_medications": ["magnesium glycinate"],
        "allergies": [], "attestation": True,
    }  # fmt: skip
    questionnaire_submit(token=prescription.questionnaire_token, date_of_birth=born,
                         answers={**answers, "date_of_birth": born}, ip_address="127.0.0.1")  # fmt: skip
    pk = prescription.pk
    prescription_claim(prescription_id=pk, actor=pharmacist)
    flags = Prescription.objects.get(pk=pk).flags
    reasons = {f["code"]: "Reviewed with the patient by phone; fine for LDN." for f in flags
               if f.get("severity") == "warning"}  # fmt: skip
    prescription_approve(prescription_id=pk, actor=pharmacist, override_reasons=reasons)
    prescription_start_compounding(prescription_id=pk, actor=technician)
    today = timezone.localdate()
    return compounding_record_create(
        prescription_id=pk, actor=pharmacist, quantity_made=30,
        lots=[LotInput(ingredient="Naltrexone HCl USP", lot="NTX-DEMO-2", expires=today + timedelta(days=400),
                       manufacturer="Medisca"),
              LotInput(ingredient="Microcrystalline cellulose NF", lot="MCC-DEMO-2",
                       expires=today + timedelta(days=500), manufacturer="Spectrum")],
        containers=[ContainerInput(14, Decimal("21.4"), (Decimal("201.2"), Decimal("198.7"), Decimal("203.1"))),
                    ContainerInput(14, Decimal("42.9")), ContainerInput(2, Decimal("9.2"))],
        quality_checks="10 capsules of each strength weighed; all within 90-110%",
    )  # fmt: skip
