"""Factories for people and prescriptions. Prescriptions are made through the real service."""

from __future__ import annotations

import random
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import factory
from django.contrib.auth.models import Group
from django.utils import timezone
from stdnum import luhn

from accounts.models import Role, User
from intake.models import Patient, Prescriber, Prescription
from intake.services.prescriptions import (
    PatientDetails,
    PrescribedContent,
    Signature,
    Step,
    prescription_submit,
)

PASSWORD = "correct-horse-battery-staple"


def valid_npi(seed: int | None = None) -> str:
    rng = random.Random(seed)
    body = "1" + "".join(str(rng.randint(0, 9)) for _ in range(8))
    return body + luhn.calc_check_digit("80840" + body)


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ("email",)
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"person{n}@example.test")
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    password = factory.PostGenerationMethodCall("set_password", PASSWORD)

    @factory.post_generation
    def role(self, create: bool, extracted: str | None, **kwargs: Any) -> None:
        if extracted:
            # get_or_create: a transactional test's flush empties the groups the migrations made.
            self.groups.add(Group.objects.get_or_create(name=extracted)[0])
        self.save()


class PrescriberFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Prescriber

    user = factory.SubFactory(UserFactory, role=Role.PRESCRIBER)
    npi = factory.Sequence(lambda n: valid_npi(n))
    credential = "MD"
    license_number = factory.Sequence(lambda n: f"TX{n:06d}")
    license_state = "TX"
    license_expires = factory.LazyFunction(lambda: timezone.localdate() + timedelta(days=365))
    practice_name = "Hill Country Family Medicine"
    address_line1 = "200 Congress Ave"
    city = "Austin"
    state = "TX"
    postal_code = "78701"
    phone = "+1 512 555 0111"
    verified_at = factory.LazyFunction(timezone.now)


class PatientFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Patient

    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    date_of_birth = date(1980, 2, 29)
    sex = "F"
    email = factory.Sequence(lambda n: f"patient{n}@example.test")
    phone = "+15555550123"
    address_line1 = "1 Main St"
    city = "Austin"
    state = "TX"
    postal_code = "78701"


def patient_details(**overrides: Any) -> PatientDetails:
    values: dict[str, Any] = {
        "first_name": "Ada",
        "last_name": "Lovelace",
        "date_of_birth": date(1980, 2, 29),
        "sex": "F",
        "email": "ada@example.com",
        "phone": "+15555550123",
        "address_line1": "1 Main St",
        "city": "Austin",
        "state": "TX",
        "postal_code": "78701",
    }
    values.update(overrides)
    return PatientDetails(**values)


def prescribed_content(**overrides: Any) -> PrescribedContent:
    values: dict[str, Any] = {
        "dosage_form": "capsule",
        "strength_mg": Decimal("4.5"),
        "directions": "Take 1 capsule by mouth at bedtime",
        "quantity": 30,
        "days_supply": 30,
        "refills": 3,
        "indication": "fibromyalgia",
        "icd10": "M79.7",
        "titration": (Step(Decimal("1.5"), 14), Step(Decimal("3"), 14)),
    }
    values.update(overrides)
    return PrescribedContent(**values)


def make_prescription(prescriber: Prescriber, *, patient: dict[str, Any] | None = None, **content: Any) -> Prescription:
    """A submitted prescription (status awaiting_questionnaire), made by the real service."""
    prescription, _created = prescription_submit(
        prescriber=prescriber,
        patient=patient_details(**(patient or {})),
        content=prescribed_content(**content),
        signature=Signature(name=prescriber.user.get_full_name(), attested=True, ip_address="127.0.0.1"),
    )
    return prescription


def api_payload(**overrides: Any) -> dict[str, Any]:
    """A reference POST /api/v1/prescriptions/ body: 4.5 mg capsules, titrated from 1.5 and 3 mg."""
    body: dict[str, Any] = {
        "patient": {
            "first_name": "Ada", "last_name": "Lovelace", "date_of_birth": "1980-02-29", "sex": "F",
            "email": "ada@example.com", "phone": "+15555550123", "weight_kg": 61.5,
            "address": {"line1": "1 Main St", "city": "Austin", "state": "TX", "postal_code": "78701"},
        },
        "dosage_form": "capsule",
        "strength_mg": "4.5",
        "directions": "Take 1 capsule by mouth at bedtime",
        "quantity": 30, "days_supply": 30, "refills": 3,
        "indication": "fibromyalgia", "icd10": "M79.7",
        "titration": [{"strength_mg": "1.5", "days": 14}, {"strength_mg": "3", "days": 14}],
        "dose_timing": "bedtime",
        "prescriber_notes": "",
    }  # fmt: skip
    body.update(overrides)
    return body


def clean_answers(date_of_birth: str = "1980-02-29", **overrides: Any) -> dict[str, Any]:
    """Questionnaire answers (the API's keys) that raise no flag."""
    answers: dict[str, Any] = {
        "date_of_birth": date_of_birth,
        "takes_opioids": False,
        "opioid_treatment_program": False,
        "liver_condition": "none",
        "pregnancy": "no",
        "alcohol_drinks_per_week": 2,
        "naltrexone_allergy": False,
        "thyroid_medication": False,
        "immunosuppressants": False,
        "surgery_within_14_days": False,
        "current_medications": ["vitamin D 2000 IU"],
        "allergies": [],
        "attestation": True,
    }
    answers.update(overrides)
    return answers
