"""pharmacy.inserts.insert: the hot paths' INSERTs, with their SQL built once, write what save() writes."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction

from intake.models import (
    Action,
    AuditRecord,
    Notification,
    Patient,
    Prescription,
    PrescriptionEvent,
    TitrationStep,
)
from pharmacy.inserts import insert
from tests.factories import PatientFactory, make_prescription

pytestmark = pytest.mark.django_db


def stored(row) -> dict:
    """The row's columns as read back from the database, without its primary key."""
    values = type(row).objects.filter(pk=row.pk).values().get()
    values.pop("id")
    return values


def test_a_row_is_written_as_save_writes_it(prescriber):
    # given: the same event, once through save() and once through insert()
    prescription = make_prescription(prescriber)
    fields = {"prescription": prescription, "action": Action.CLAIM, "from_status": "pending_review",
              "to_status": "in_review", "actor": prescriber.user, "details": {"note": "ß ✓", "n": [1, 2]}}  # fmt: skip
    saved = PrescriptionEvent.objects.create(**fields)
    inserted = PrescriptionEvent(**fields)

    # when
    written = insert([inserted])

    # then: a new primary key, the same columns (JSON, foreign keys), auto_now_add filled in
    assert written is True
    assert inserted.pk is not None and inserted.pk != saved.pk
    assert not inserted._state.adding
    assert inserted.created_at is not None
    values, expected = stored(inserted), stored(saved)
    assert values.pop("created_at") >= expected.pop("created_at")
    assert values == expected


def test_several_rows_go_in_one_statement_and_each_gets_its_own_key(prescriber, django_assert_num_queries):
    prescription = make_prescription(prescriber)
    rows = [Notification(prescription=prescription, event="approved", audience="patient", channel=channel,
                         recipient=f"{channel}-recipient") for channel in ("email", "sms", "email")]  # fmt: skip

    with django_assert_num_queries(1):
        insert(rows)

    assert len({row.pk for row in rows}) == 3
    for row in rows:  # keys in the order of the rows
        assert Notification.objects.get(pk=row.pk).channel == row.channel


def test_an_object_assigned_before_it_was_saved_gives_its_key_once_saved(prescriber):
    # given: titration steps made for a prescription that had no id yet (as the submission does)
    prescription = make_prescription(prescriber)
    unsaved = Prescription.objects.get(pk=prescription.pk)
    unsaved.pk = None
    steps = [TitrationStep(prescription=unsaved, position=9, strength_mg=Decimal("1.5"), days=7)]
    unsaved.pk = prescription.pk  # now it has one

    insert(steps)

    assert TitrationStep.objects.get(pk=steps[0].pk).prescription_id == prescription.pk


def test_an_unsaved_related_object_is_refused_and_nothing_is_written(prescriber):
    unsaved = Prescription()
    with pytest.raises(ValueError, match="unsaved related object"):
        insert([TitrationStep(prescription=unsaved, position=1, strength_mg=Decimal("1"), days=7)])
    assert not TitrationStep.objects.exists()


def test_a_duplicate_raises_the_databases_error(prescriber):
    existing = PatientFactory()
    duplicate = Patient(first_name=existing.first_name, last_name=existing.last_name, name_key=existing.name_key,
                        date_of_birth=existing.date_of_birth, sex="F", address_line1="x", city="y", state="TX",
                        postal_code="78701")  # fmt: skip

    with pytest.raises(IntegrityError), transaction.atomic():
        insert([duplicate])
    assert Patient.objects.count() == 1


def test_skip_conflict_writes_a_new_row_and_skips_one_the_unique_key_holds():
    existing = PatientFactory()
    values = {"date_of_birth": existing.date_of_birth, "sex": "F", "address_line1": "x", "city": "y",
              "state": "TX", "postal_code": "78701"}  # fmt: skip
    same = Patient(first_name="Other", last_name="Spelling", name_key=existing.name_key, **values)
    new = Patient(first_name="New", last_name="Person", name_key=Patient.identity_key("New", "Person"), **values)

    assert insert([same], skip_conflict=True) is False
    assert same.pk is None and same._state.adding
    assert insert([new], skip_conflict=True) is True
    assert new.pk is not None
    assert Patient.objects.get(pk=existing.pk).first_name == existing.first_name  # the held row is untouched
    assert Patient.objects.count() == 2


def test_skip_conflict_takes_one_row_only():
    with pytest.raises(ValueError, match="one row"):
        insert([PatientFactory.build(), PatientFactory.build()], skip_conflict=True)


def test_an_audit_record_written_by_insert_stays_append_only(prescriber):
    record = AuditRecord(actor=prescriber.user, action="view", object_type="prescription", object_id="1",
                         ip_address="2001:db8::1")  # fmt: skip
    insert([record])

    assert AuditRecord.objects.get(pk=record.pk).ip_address == "2001:db8::1"
    with pytest.raises(PermissionError):
        record.save()
