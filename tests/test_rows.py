"""pharmacy.rows: model instances from rows read by SQL written once."""

from __future__ import annotations

import pytest
from django.db import connection

from intake.models import Fill, Prescription
from pharmacy.rows import _reading, instance, select_list
from tests.factories import make_prescription

REFERENCE = Prescription._meta.get_field("reference")
STATUS = Prescription._meta.get_field("status")


def test_an_instance_read_by_sql_equals_the_orms(prescriber):
    # given
    prescription = make_prescription(prescriber)
    fields = Prescription._meta.concrete_fields
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {select_list('p', fields)} FROM intake_prescription p WHERE p.id = %s",  # noqa: S608
                       [prescription.pk])  # fmt: skip
        row = cursor.fetchone()

    # when
    read = instance(Prescription, row)

    # then every field as the ORM gives it (SQLite's dates and times converted too)
    fresh = Prescription.objects.get(pk=prescription.pk)
    assert read is not None
    assert [getattr(read, f.attname) for f in fields] == [getattr(fresh, f.attname) for f in fields]
    assert read.submitted_at.tzinfo is not None


def test_a_row_of_nulls_from_a_left_join_is_no_instance():
    assert instance(Fill, [None] * len(Fill._meta.concrete_fields)) is None


def test_fields_left_out_are_deferred(prescriber):
    prescription = make_prescription(prescriber)

    read = instance(Prescription, [prescription.pk, prescription.reference],
                    fields=[Prescription._meta.pk, REFERENCE])  # fmt: skip

    assert read is not None
    assert read.get_deferred_fields() >= {"status", "patient_id"}
    assert read.status == prescription.status  # read on first use


def test_fields_out_of_the_models_order_are_refused():
    with pytest.raises(ValueError, match="model's order"):
        instance(Prescription, ["RX-1", 1], fields=[REFERENCE, Prescription._meta.pk])


def test_an_instance_needs_its_primary_key():
    with pytest.raises(ValueError, match="primary key"):
        instance(Prescription, ["RX-1", "approved"], fields=[REFERENCE, STATUS])


def test_what_a_field_list_needs_is_worked_out_once():
    fields = (Prescription._meta.pk, REFERENCE)

    assert _reading(Prescription, fields, "default") is _reading(Prescription, fields, "default")
