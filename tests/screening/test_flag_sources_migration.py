"""The data migration that gives flags stored earlier their source and an empty verification."""

from __future__ import annotations

import importlib

from django.apps import apps

from intake.models import Prescription
from tests.factories import make_prescription

migration = importlib.import_module("intake.migrations.0007_flag_sources")


def flag(code: str, severity: str, field: str) -> dict[str, str]:
    """A flag as stored before flags carried a source."""
    return {"code": code, "severity": severity, "message": "m", "field": field, "value": "v"}


def test_old_flags_get_a_source_from_their_field_and_no_verification(prescriber):
    old = [
        flag("opioid_use", "hard_stop", "current_medications[1]"),
        flag("naltrexone_allergy", "hard_stop", "allergies[0]"),
        flag("pregnancy", "warning", "pregnancy"),
        flag("dose_range", "warning", "titration[0].strength_mg"),
    ]
    prescription = make_prescription(prescriber)
    Prescription.objects.filter(pk=prescription.pk).update(flags=old, flag_level="hard_stop")

    migration.fill_sources(apps, None)

    flags = Prescription.objects.get(pk=prescription.pk).flags
    assert [flag["source"] for flag in flags] == ["medications", "allergies", "answers", "prescription"]
    assert all(flag["verification"] is None for flag in flags)
    assert [flag["code"] for flag in flags] == [flag["code"] for flag in old]


def test_flags_that_have_them_are_left_alone(prescriber):
    prescription = make_prescription(prescriber, patient={"state": "AK"})
    before = Prescription.objects.get(pk=prescription.pk)

    migration.fill_sources(apps, None)

    after = Prescription.objects.get(pk=prescription.pk)
    assert after.flags == before.flags and after.updated_at == before.updated_at
