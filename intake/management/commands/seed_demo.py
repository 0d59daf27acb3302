"""Demo accounts, formulary and a few prescriptions. Idempotent."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction
from django.utils import timezone

from accounts.models import Role, User
from intake.management.demo_history import demo_history_create, demo_kit_for_final_check, demo_repeat_business_create
from intake.models import Batch, MasterFormulation, Prescriber, Prescription, ProtocolTemplate, StockLot
from intake.models.people import US_STATES
from intake.roles import ensure_role_groups
from intake.services.batches import batch_make, batch_release
from intake.services.formulary import formulary_install_defaults
from intake.services.licences import demo_licences, prescriber_licences_record, state_licences_record
from intake.services.lots import LotInput
from intake.services.prescriptions import PatientDetails, PrescribedContent, Signature, Step, prescription_submit
from intake.services.protocols import protocol_template_save
from intake.services.questionnaire import questionnaire_submit
from intake.services.stock import stock_receive

DEMO_STAFF = [
    # email, password, role, first, last
    ("pharmacist@demo.test", "demo-pharmacist-1", Role.PHARMACIST, "Paula", "Pharmacist"),
    ("pharmacist2@demo.test", "demo-pharmacist-2", Role.PHARMACIST, "Peter", "Checker"),
    ("technician@demo.test", "demo-technician-1", Role.TECHNICIAN, "Tom", "Technician"),
    ("admin@demo.test", "demo-admin-1", Role.ADMIN, "Ada", "Administrator"),
]
DEMO_PRESCRIBERS = [
    # email, password, NPI, first, last, credential
    ("prescriber@demo.test", "demo-prescriber-1", "1234567893", "Grace", "Hopper", "MD"),
    ("prescriber2@demo.test", "demo-prescriber-2", "1245319599", "Jonas", "Salk", "DO"),
]

DEMO_TEMPLATE_NAME = "LDN 1.5→3→4.5 mg capsules, 90 days"
# 14 capsules of 1.5 mg, 14 of 3 mg, then 62 of 4.5 mg: 90 days.
DEMO_TEMPLATE = PrescribedContent(
    dosage_form="capsule",
    strength_mg=Decimal("4.5"),
    directions="Take 1 capsule by mouth at bedtime: 1.5 mg for 14 days, then 3 mg for 14 days, then 4.5 mg.",
    quantity=90,
    days_supply=90,
    refills=3,
    indication="",
    dose_timing="bedtime",
    titration=(Step(strength_mg=Decimal("1.5"), days=14), Step(strength_mg=Decimal("3"), days=14)),
)


class Command(BaseCommand):
    help = "Create the demo accounts, the formulary and a few demo prescriptions (idempotent)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--force", action="store_true", help="Run even with DEBUG off.")

    def handle(self, *args: Any, force: bool = False, **options: Any) -> None:
        if not settings.DEBUG and not force:
            raise CommandError("seed_demo creates accounts with published passwords; use --force with DEBUG off.")
        with transaction.atomic():
            ensure_role_groups()
            formulary_install_defaults()
            for email, password, role, first, last in DEMO_STAFF:
                user = self._user(email, password, role, first, last)
                if role == Role.ADMIN:
                    user.is_staff = True
                    user.is_superuser = True
                    user.save(update_fields=["is_staff", "is_superuser"])
            prescribers = [self._prescriber(*row) for row in DEMO_PRESCRIBERS]
            # Every US state and DC but Alaska and Hawaii, valid until the end of next year.
            state_licences_record(demo_licences(expires_on=date(timezone.localdate().year + 1, 12, 31)))
        if not Prescription.objects.filter(prescriber=prescribers[0]).exists():
            self._demo_prescriptions(prescribers[0])
            # Eight weeks of past work, so the queue and the dashboard have something to show.
            demo_history_create(prescriber=prescribers[1], pharmacist=User.objects.get(email="pharmacist@demo.test"))
        # Refills, a renewal, a hold and a check-in for the first prescriber (each made once).
        repeat = demo_repeat_business_create(
            prescriber=prescribers[0],
            pharmacist=User.objects.get(email="pharmacist@demo.test"),
            technician=User.objects.get(email="technician@demo.test"),
        )
        kit = demo_kit_for_final_check(
            prescriber=prescribers[0],
            pharmacist=User.objects.get(email="pharmacist@demo.test"),
            technician=User.objects.get(email="technician@demo.test"),
        )
        if kit is not None:
            self.stdout.write(
                f"Created {kit.reference}: a titration kit compounded by pharmacist@demo.test, waiting for the "
                "final check by pharmacist2@demo.test (the compounder may not check it)."
            )
        batch = self._demo_stock_and_batch(
            technician=User.objects.get(email="technician@demo.test"),
            pharmacist=User.objects.get(email="pharmacist2@demo.test"),
        )
        if batch is not None:
            self.stdout.write(
                f"Received three ingredient lots into stock and made batch {batch.number} of "
                f"{batch.quantity_made} x 4.5 mg capsules, released for fills."
            )
        if self._demo_protocol_template(prescribers[0]):
            self.stdout.write(f"Saved the protocol template “{DEMO_TEMPLATE_NAME}” for prescriber@demo.test.")
        if repeat:
            self.stdout.write(
                f"Created {len(repeat)} repeat-business prescriptions: a refill for review, a renewal request, "
                "a hold of 4 days and a check-in for a pharmacist."
            )
        self.stdout.write(self.style.SUCCESS("Demo data ready: sign in at /accounts/login/ (accounts in the README)."))

    def _demo_protocol_template(self, prescriber: Prescriber) -> bool:
        """The usual titration kit as a template, once: a prescriber's later edits to it are kept."""
        if ProtocolTemplate.objects.filter(owner=prescriber, name=DEMO_TEMPLATE_NAME).exists():
            return False
        protocol_template_save(prescriber=prescriber, name=DEMO_TEMPLATE_NAME, content=DEMO_TEMPLATE)
        return True

    def _user(self, email: str, password: str, role: str, first: str, last: str) -> User:
        from django.contrib.auth.models import Group

        user = User.objects.filter(email=email).first() or User(email=email)
        user.first_name, user.last_name, user.is_active = first, last, True
        user.set_password(password)
        user.save()
        user.groups.add(Group.objects.get(name=role))
        return user

    def _prescriber(self, email: str, password: str, npi: str, first: str, last: str, credential: str) -> Prescriber:
        user = self._user(email, password, Role.PRESCRIBER, first, last)
        prescriber, _ = Prescriber.objects.update_or_create(
            user=user,
            defaults={
                "npi": npi,
                "credential": credential,
                "license_number": f"TX-{npi[-5:]}",
                "license_state": "TX",
                "license_expires": date(timezone.localdate().year + 2, 12, 31),
                "practice_name": f"{last} Family Medicine",
                "address_line1": "200 Congress Ave",
                "city": "Austin",
                "state": "TX",
                "postal_code": "78701",
                "phone": "+1 512 555 0111",
                "verified_at": timezone.now(),
            },
        )
        # Telehealth prescribers licensed in every state (through the licensure compacts): their
        # prescriptions raise no prescriber_licensure flag wherever the patient lives.
        expires_on = date(timezone.localdate().year + 2, 12, 31)
        prescriber_licences_record(
            prescriber, [(state, f"{state}-{npi[-5:]}", expires_on) for state, _name in US_STATES]
        )
        return prescriber

    def _demo_stock_and_batch(self, *, technician: User, pharmacist: User) -> Batch | None:
        """Stock on the shelf and a released batch of the commonest strength (made once)."""
        if StockLot.objects.exists():
            return None
        year_on = timezone.localdate().replace(day=1) + timedelta(days=400)
        received = [
            ("Naltrexone HCl USP", "Medisca", "NTX-DEMO-01", "g", "25", "5"),
            ("Microcrystalline cellulose NF", "Spectrum", "MCC-DEMO-07", "g", "1000", "200"),
            ("Gelatin capsule shells, size 3", "Capsuline", "CAP-DEMO-33", "each", "2000", "500"),
        ]
        for ingredient, manufacturer, lot, unit, quantity, low in received:
            stock_receive(actor=technician, ingredient=ingredient, manufacturer=manufacturer, lot=lot,
                          expires=year_on, unit=unit, quantity=quantity, low_stock_below=low)  # fmt: skip
        capsules = MasterFormulation.objects.filter(active=True, dosage_form__code="capsule").order_by("id").first()
        if capsules is None:
            return None
        used = ("0.92 g", "60 g", "200 each")  # 200 x 4.5 mg with the overage; filler; shells
        batch = batch_make(
            actor=technician, master_formulation_id=capsules.pk, strength_mg="4.5", quantity_made=200,
            lots=[LotInput(ingredient=row[0], manufacturer=row[1], lot=row[2], expires=year_on, quantity_used=amount)
                  for row, amount in zip(received, used, strict=True)],
            quality_checks="Weight variation of 20 capsules within 10%; appearance uniform.",
        )  # fmt: skip
        return batch_release(
            batch_id=batch.pk, actor=pharmacist, note="Record, lots and weights checked against the formula."
        )

    def _demo_prescriptions(self, prescriber: Prescriber) -> None:
        patients = [
            ("Ada", "Lovelace", date(1980, 2, 29), "F", "ada@example.com"),
            ("Alan", "Turing", date(1975, 6, 23), "M", "alan@example.com"),
            ("Katherine", "Johnson", date(1968, 8, 26), "F", "katherine@example.com"),
        ]
        answers = [
            {"current_medications": ["vitamin D 2000 IU", "magnesium glycinate"], "thyroid_medication": True},
            {"takes_opioids": True, "current_medications": ["Norco 5/325 as needed for back pain"]},
            None,  # still waiting for the patient
        ]
        for (first, last, born, sex, email), answered in zip(patients, answers, strict=True):
            prescription, _ = prescription_submit(
                prescriber=prescriber,
                patient=PatientDetails(
                    first_name=first, last_name=last, date_of_birth=born, sex=sex, email=email,
                    phone="+15555550123", address_line1="1 Main St", city="Austin", state="TX",
                    postal_code="78701",
                ),
                content=PrescribedContent(
                    dosage_form="capsule", strength_mg=Decimal("4.5"),
                    directions="Take 1 capsule by mouth at bedtime", quantity=30, days_supply=30,
                    refills=3, indication="fibromyalgia", icd10="M79.7",
                    titration=(Step(Decimal("1.5"), 14), Step(Decimal("3"), 14)),
                ),
                signature=Signature(name=prescriber.user.get_full_name(), attested=True),
            )  # fmt: skip
            if answered is not None:
                questionnaire_submit(
                    token=prescription.questionnaire_token, date_of_birth=born, answers=_answers(**answered)
                )
        self.stdout.write(f"Created {len(patients)} demo prescriptions: two for review, one waiting for the patient.")


def _answers(**overrides: Any) -> dict[str, Any]:
    answers: dict[str, Any] = {
        "takes_opioids": False, "opioid_treatment_program": False, "liver_condition": "none", "pregnancy": "no",
        "alcohol_drinks_per_week": 2, "naltrexone_allergy": False, "thyroid_medication": False,
        "immunosuppressants": False, "surgery_within_14_days": False, "current_medications": [], "allergies": [],
        "attestation": True,
    }  # fmt: skip
    answers.update(overrides)
    return answers
