"""The data migration that gives flags stored earlier their source and an empty verification."""

from __future__ import annotations

import importlib

from django.apps import apps

from intake.models import Prescription
from tests.factories import make_prescription

migration = importlib.import_module("intake.migrations.0006_flag_sources")


def test_old_flags_get_a_source_from_their_field_and_no_verification(prescriber):
    old = [
        {"code": "opioid_use", "severity": "hard_stop", "message": "m", "field": "current_medications[1]", "value": "v"},
        {"code": "naltrexone_allergy", "severity": "hard_stop", "message": "m", "field": "allergies[0]", "value": "v"},
        {"code": "pregnancy", "severity": "warning", "message": "m", "field": "pregnancy", "value": "planning"},
        {"code": "dose_range", "severity": "warning", "message": "m", "field": "titration[0].strength_mg", "value": "6"},
    ]  # fmt: skip
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
