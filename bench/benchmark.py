"""Measure the hot paths at pharmacy scale: python manage.py benchmark [--rows N | --quick] [--scratch].

Runs as the thin management command intake/management/commands/benchmark.py; it lives here, beside
the load test, because it is a tool for the people who build the pharmacy, not part of it.

Builds a data set (prescriptions over every status with patients, flags, history events and
compounding records) with set-based inserts (COPY on PostgreSQL, executemany on SQLite), then
times real requests in-process through Django's test client, with the project's whole middleware,
after a warm-up: the staff queue, the API submission (as JSON and as a FHIR transaction Bundle),
the patient's status lookup, and a minimal signed-in staff page as the floor they are compared
with. The queue is timed at a tenth of the rows too (the set is built at that size first, then
grown), for the growth ratio. Prints a table, then one line of JSON.

Where it builds: in the configured database when that holds no prescription of its own (a fresh
database, or one with only earlier benchmark rows); otherwise it refuses, unless --scratch (a
database of its own beside the configured one, dropped afterwards unless --keep) or --force (adds
its rows beside the real ones; they are marked: prescriber emails @bench.test, references BX-…).
It never deletes anything but its own scratch database.
"""

from __future__ import annotations

import gc
import hashlib
import io
import json
import logging
import os
import random
import resource
import statistics
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.core.management.color import no_style
from django.db import connection, connections, models, transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.test import Client
from django.test.utils import CaptureQueriesContext, override_settings
from django.urls import URLPattern, URLResolver, include, path
from django.utils import timezone

from accounts.models import Role, User
from bench.hostile_lines import HOSTILE_LINES
from intake.clinical.medications import products
from intake.clinical.refills import refill_reminder_on
from intake.clinical.screening import PrescriptionFacts, QuestionnaireAnswers, screen
from intake.logging import JsonFormatter, RedactPatientDataFilter, RequestIdFilter
from intake.models import (
    Action,
    CompoundingRecord,
    Fill,
    IngredientLot,
    MasterFormulation,
    Patient,
    Prescriber,
    Prescription,
    PrescriptionEvent,
    PrescriptionStatus,
)
from intake.selectors_lots import lot_trace_count
from intake.web.staff.access import staff_required

S = PrescriptionStatus
BENCH_DOMAIN = "bench.test"
BENCH_PASSWORD = "bench-password-not-for-use"  # noqa: S105 - benchmark accounts in a benchmark data set
QUEUE_STATUS = S.PENDING_REVIEW
DEEP_FRACTION = 0.9
BATCH = 20_000
YEARS_OF_HISTORY = 2
# The newest part of the history is the open work; older rows are closed but for a few stale ones.
OPEN_WINDOW = 0.05
OPEN_MIX = [
    (S.PENDING_REVIEW, 25), (S.IN_REVIEW, 8), (S.ON_HOLD, 5), (S.APPROVED, 10), (S.COMPOUNDING, 8),
    (S.FINAL_CHECK, 4), (S.READY, 8), (S.SHIPPED, 10), (S.AWAITING_QUESTIONNAIRE, 17), (S.COMPLETED, 5),
]  # fmt: skip
CLOSED_MIX = [(S.COMPLETED, 918), (S.REJECTED, 35), (S.CANCELLED, 40), (S.AWAITING_QUESTIONNAIRE, 4), (S.ON_HOLD, 3)]
# The event that moved a prescription into each status, and the status it came from.
ARRIVAL = {
    S.PENDING_REVIEW: (Action.QUESTIONNAIRE, S.AWAITING_QUESTIONNAIRE),
    S.IN_REVIEW: (Action.CLAIM, S.PENDING_REVIEW),
    S.ON_HOLD: (Action.REQUEST_CLARIFICATION, S.IN_REVIEW),
    S.APPROVED: (Action.APPROVE, S.IN_REVIEW),
    S.COMPOUNDING: (Action.START_COMPOUNDING, S.APPROVED),
    S.FINAL_CHECK: (Action.RECORD_COMPOUNDING, S.COMPOUNDING),
    S.READY: (Action.FINAL_CHECK, S.FINAL_CHECK),
    S.SHIPPED: (Action.SHIP, S.READY),
    S.COMPLETED: (Action.COMPLETE, S.SHIPPED),
    S.REJECTED: (Action.REJECT, S.IN_REVIEW),
    S.CANCELLED: (Action.CANCEL, S.PENDING_REVIEW),
}
COMPOUNDED = frozenset({S.FINAL_CHECK, S.READY, S.SHIPPED, S.COMPLETED})
# The lot the trace is timed on: the naltrexone lot of the first TRACE_USES compounding records;
# the others share a lot with about 50 records each, as a pharmacy's lots of a few hundred grams do.
TRACE_LOT = "BX-HOT-LOT"
TRACE_USES = 10_000
RECORDS_PER_LOT = 50
FORMS = ["capsule", "capsule", "capsule", "oral_liquid", "sublingual_drops", "topical_cream"]
FLAG_SAMPLES = [
    (5, "hard_stop", [{"code": "opioid_use", "severity": "hard_stop", "field": "current_medications[0]",
                       "message": "The medication 'Norco 5/325' contains an opioid (hydrocodone).",
                       "value": "Norco 5/325", "matched_as": "hydrocodone (brand Norco)", "source": "medications",
                       "verification": None}]),
    (20, "warning", [{"code": "pregnancy", "severity": "warning", "field": "pregnancy",
                      "message": "The patient is planning a pregnancy.", "value": "planning", "matched_as": "",
                      "source": "answers", "verification": None}]),
    (10, "info", [{"code": "alcohol", "severity": "info", "field": "alcohol_drinks_per_week",
                   "message": "The patient drinks 10 drinks a week.", "value": "10", "matched_as": "",
                   "source": "answers", "verification": None}]),
]  # fmt: skip
LAST_NAMES = [
    "Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia", "Miller", "Davis", "Rodriguez", "Martinez",
    "Hernandez", "Lopez", "Gonzalez", "Wilson", "Anderson", "Thomas", "Taylor", "Moore", "Jackson", "Martin",
    "Lee", "Perez", "Thompson", "White", "Harris", "Sanchez", "Clark", "Ramirez", "Lewis", "Robinson",
]  # fmt: skip
FIRST_NAMES = ["Ada", "Grace", "Alan", "Mary", "John", "Linda", "James", "Susan", "Robert", "Karen", "Maria", "David",
               "Emma", "Noah", "Olivia", "Liam", "Ava", "Lucas", "Mia", "Ethan"]  # fmt: skip
# Lines as patients write them, beside every name of the medication tables (see screen_rate).
EVERYDAY_LINES = [
    "vitamin D 2000 IU daily", "Synthroid 50 mcg", "levothyroxine 75mcg qam", "metformin 500 mg bid", "lisinopril 10",
    "Norco 5/325 prn", "tylenol w/ codeine #3", "ibuprofen 400mg prn", "sertraline 50 mg", "fish oil",
    "magnesium glycinate", "oxycodon 10mg", "Wellbutrin XL 150", "gabapentin 300 tid", "prednisone 5 mg",
    "methotrexate 15mg weekly", "melatonin 3mg at night", "B12 injections monthly", "Suboxone 8/2", "tramadol 50",
]  # fmt: skip
_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def bench_reference(number: int) -> str:
    """A reference of its own namespace (BX-, not RX-), so it can never take a real prescription's."""
    code = (number * 2_654_435_761 + 12_345) % 32**7  # an odd multiplier: one code per number
    chars = []
    for _ in range(7):
        code, digit = divmod(code, 32)
        chars.append(_CROCKFORD[digit])
    return "BX-" + "".join(reversed(chars))


# --- the floor: a minimal signed-in staff page, served beside the project's own URLs -----------


@staff_required
def floor_page(request: HttpRequest) -> HttpResponse:
    """The staff layout with nothing in it: session, user, roles, middleware, template; no page work."""
    return render(request, "base.html", {})


urlpatterns: list[URLPattern | URLResolver] = [
    path("benchmark/floor/", floor_page, name="benchmark_floor"),
    path("", include(settings.ROOT_URLCONF)),
]


# --- writing rows in bulk ------------------------------------------------------------------------


class TableWriter:
    """Rows straight into one table: COPY on PostgreSQL, executemany elsewhere; ids chosen here.

    Every concrete column is written; those a row leaves out take the field's default, so a field
    added later with a default needs nothing here.
    """

    def __init__(self, model: type[models.Model]) -> None:
        self.model = model
        self.fields = [f for f in model._meta.concrete_fields]
        self.columns = [f.column for f in self.fields]
        # A field's own default: "" for text without one, None where null is allowed.
        self.defaults = {f.attname: f.get_default() for f in self.fields}
        self.postgres = connection.vendor == "postgresql"
        self.converters = [self._converter(f) for f in self.fields]

    def _converter(self, model_field: models.Field) -> Callable[[Any], Any]:
        kind = model_field.get_internal_type()
        if kind == "JSONField":
            return lambda value: json.dumps(value)
        if self.postgres:
            return lambda value: value
        if kind == "DateTimeField":
            return lambda value: None if value is None else connection.ops.adapt_datetimefield_value(value)
        if kind == "DateField":
            return lambda value: None if value is None else value.isoformat()
        if kind == "DecimalField":
            return lambda value: None if value is None else str(value)
        return lambda value: value

    def next_id(self) -> int:
        return int(self.model._default_manager.aggregate(top=models.Max("pk"))["top"] or 0) + 1

    def write(self, rows: Iterable[dict[str, Any]]) -> int:
        defaults = self.defaults
        attnames = [f.attname for f in self.fields]
        converters = self.converters
        tuples = (
            tuple(convert(row[name] if name in row else defaults[name]) for name, convert in zip(attnames, converters,
                                                                                                     strict=True))
            for row in rows
        )  # fmt: skip
        table = connection.ops.quote_name(self.model._meta.db_table)
        columns = ", ".join(connection.ops.quote_name(c) for c in self.columns)
        count = 0
        with connection.cursor() as cursor:
            if self.postgres:
                with cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
                    for values in tuples:
                        copy.write_row(values)
                        count += 1
            else:
                batch = list(tuples)
                placeholders = ", ".join(["%s"] * len(self.columns))
                cursor.executemany(f"INSERT INTO {table} ({columns}) VALUES ({placeholders})", batch)  # noqa: S608
                count = len(batch)
        return count

    def reset_sequence(self) -> None:
        with connection.cursor() as cursor:
            for statement in connection.ops.sequence_reset_sql(no_style(), [self.model]):
                cursor.execute(statement)


# --- the data set --------------------------------------------------------------------------------


@dataclass
class People:
    pharmacist: User
    technician: User
    prescribers: list[Prescriber]
    formulation_by_form: dict[str, MasterFormulation]


def bench_people() -> People:
    def user(email: str, role: str, first: str, last: str) -> User:
        found = User.objects.filter(email=email).first()
        if found is None:
            found = User.objects.create_user(email, BENCH_PASSWORD, first_name=first, last_name=last)
            found.groups.add(Group.objects.get(name=role))
        return found

    pharmacist = user(f"pharmacist@{BENCH_DOMAIN}", Role.PHARMACIST, "Paula", "Bench")
    technician = user(f"technician@{BENCH_DOMAIN}", Role.TECHNICIAN, "Tom", "Bench")
    prescribers = []
    # Valid NPIs (Luhn with the 80840 prefix) that no real prescriber in a test data set uses.
    for n, npi in enumerate(["1588667638", "1497758544", "1215930367", "1740283779", "1003000126"]):
        person = user(f"prescriber{n}@{BENCH_DOMAIN}", Role.PRESCRIBER, "Doc", f"Bench{n}")
        prescriber = Prescriber.objects.filter(user=person).first() or Prescriber.objects.filter(npi=npi).first()
        if prescriber is None:
            prescriber = Prescriber.objects.create(
                user=person, npi=npi, credential="MD", license_number=f"BENCH{n}", license_state="TX",
                license_expires=date(2099, 1, 1), address_line1="1 Bench St", city="Austin", state="TX",
                postal_code="78701", phone="+15125550100", verified_at=timezone.now(),
            )  # fmt: skip
        prescribers.append(prescriber)
    formulations: dict[str, MasterFormulation] = {}
    for formulation in MasterFormulation.objects.select_related("dosage_form").order_by("pk"):
        formulations.setdefault(formulation.dosage_form.code, formulation)
    missing = set(FORMS) - set(formulations)
    if missing:
        raise CommandError(f"No master formulation for {sorted(missing)}: run migrate (it installs the formulary).")
    return People(pharmacist, technician, prescribers, formulations)


def bench_filter() -> models.Q:
    return models.Q(prescriber__user__email__endswith=f"@{BENCH_DOMAIN}")


@dataclass
class DataBuilder:
    """Grows the benchmark's prescriptions to a size; every size is a sample of one distribution
    (two years of a pharmacy's work, its newest weeks open), so a tenth of the rows and all of them
    differ only in scale."""

    people: People
    anchor: datetime
    seed: int = 8
    built: int = 0
    seconds: float = 0.0
    writers: dict[str, TableWriter] = field(default_factory=dict)
    _earlier_patients: list[int] = field(default_factory=list)
    records: int = 0

    def __post_init__(self) -> None:
        self.built = Prescription.objects.filter(bench_filter()).count()
        self.writers = {
            "patient": TableWriter(Patient),
            "prescription": TableWriter(Prescription),
            "event": TableWriter(PrescriptionEvent),
            "fill": TableWriter(Fill),
            "compounding": TableWriter(CompoundingRecord),
            "lot": TableWriter(IngredientLot),
        }
        self.records = CompoundingRecord.objects.filter(prescription__in=Prescription.objects.filter(
            bench_filter())).count()  # fmt: skip

    def grow_to(self, rows: int, log: Callable[[str], None]) -> None:
        if rows <= self.built:
            return
        started = time.perf_counter()
        rng = random.Random(self.seed * 1_000_003 + self.built)  # noqa: S311 - data for a benchmark
        counts = dict.fromkeys(("patients", "prescriptions", "events", "compounding"), 0)
        while self.built < rows:
            batch = min(BATCH, rows - self.built)
            # One transaction a batch: SQLite would otherwise commit (and sync) every row.
            with transaction.atomic():
                self._batch(rng, batch, counts)
            self.built += batch
        for writer in self.writers.values():
            writer.reset_sequence()
        analyze()
        elapsed = time.perf_counter() - started
        self.seconds += elapsed
        log(f"  built to {rows:,} prescriptions in {elapsed:.1f} s (+{counts['patients']:,} patients, "
            f"+{counts['events']:,} events, +{counts['compounding']:,} compounding records)")  # fmt: skip

    def _batch(self, rng: random.Random, size: int, counts: dict[str, int]) -> None:
        # One patient for every three prescriptions; a prescription goes to a random patient so far.
        first_patient = self.writers["patient"].next_id()
        new_patients = max(1, (self.built + size) // 3 - self.built // 3)
        patient_rows = [self._patient(rng, first_patient + i) for i in range(new_patients)]
        counts["patients"] += self.writers["patient"].write(patient_rows)
        patient_ids = list(Patient.objects.filter(pk__gte=first_patient).values_list("pk", flat=True))
        earlier = self._earlier_patients
        first_rx = self.writers["prescription"].next_id()
        first_fill = self.writers["fill"].next_id()
        prescriptions, fills, events, records = [], [], [], []
        for i in range(size):
            number = self.built + i + 1
            rx_id = first_rx + i
            pool = patient_ids if rng.random() < 0.5 or not earlier else earlier
            row, event_rows, record = self._prescription(rng, rx_id, number, rng.choice(pool))
            prescriptions.append(row)
            fills.append(first_fill_of(row, fill_id=first_fill + i))
            events.extend(event_rows)
            if record is not None:
                record["fill_id"] = first_fill + i
                records.append(record)
        counts["prescriptions"] += self.writers["prescription"].write(prescriptions)
        self.writers["fill"].write(fills)
        first_event = self.writers["event"].next_id()
        for offset, event in enumerate(events):
            event["id"] = first_event + offset
        counts["events"] += self.writers["event"].write(events)
        first_record = self.writers["compounding"].next_id()
        for offset, record in enumerate(records):
            record["id"] = first_record + offset
        counts["compounding"] += self.writers["compounding"].write(records)
        lots = [lot for record in records for lot in self._lots(record)]
        first_lot = self.writers["lot"].next_id()
        for offset, lot in enumerate(lots):
            lot["id"] = first_lot + offset
        self.writers["lot"].write(lots)
        self._earlier_patients = earlier + patient_ids

    def _lots(self, record: dict[str, Any]) -> list[dict[str, Any]]:
        """The naltrexone and filler lots of one record: the traced lot for the first TRACE_USES."""
        self.records += 1
        number = self.records
        naltrexone = TRACE_LOT if number <= TRACE_USES else f"BX-NTX-{number // RECORDS_PER_LOT:06d}"
        expires = record["compounded_at"].date() + timedelta(days=365)
        return [
            {"record_id": record["id"], "container_id": None, "ingredient": "Naltrexone HCl USP",
             "manufacturer": "Medisca", "lot": naltrexone, "expires": expires, "quantity_used": "135 mg",
             "stock_lot_id": None},
            {"record_id": record["id"], "container_id": None, "ingredient": "Microcrystalline cellulose NF",
             "manufacturer": "Spectrum", "lot": f"BX-MCC-{number // (RECORDS_PER_LOT * 10):05d}",
             "expires": expires, "quantity_used": "", "stock_lot_id": None},
        ]  # fmt: skip

    def _patient(self, rng: random.Random, patient_id: int) -> dict[str, Any]:
        first = FIRST_NAMES[patient_id % len(FIRST_NAMES)]
        suffix = "".join(chr(97 + (patient_id // 26**k) % 26) for k in range(4))
        last = LAST_NAMES[(patient_id // len(FIRST_NAMES)) % len(LAST_NAMES)] + suffix
        created = self.anchor - timedelta(days=rng.random() * 365 * YEARS_OF_HISTORY)
        return {
            "id": patient_id, "first_name": first, "last_name": last,
            "name_key": Patient.identity_key(first, last),
            "date_of_birth": date(1940, 1, 1) + timedelta(days=rng.randrange(25_000)),
            "sex": rng.choice("FM"), "email": f"patient{patient_id}@{BENCH_DOMAIN}", "phone": "",
            "address_line1": "1 Main St", "city": "Austin", "state": "TX", "postal_code": "78701",
            "contact_preference": "email", "created_at": created, "updated_at": created,
        }  # fmt: skip

    def _prescription(
        self, rng: random.Random, rx_id: int, number: int, patient_id: int
    ) -> tuple[dict[str, Any], list[dict[str, Any]], dict[str, Any] | None]:
        people = self.people
        age = rng.random()
        submitted = self.anchor - timedelta(days=age * 365 * YEARS_OF_HISTORY)
        mix = OPEN_MIX if age < OPEN_WINDOW else CLOSED_MIX
        status = rng.choices([s for s, _w in mix], weights=[w for _s, w in mix])[0]
        roll = rng.randrange(100)
        flags: list[dict[str, Any]] = []
        level = ""
        threshold = 0
        for share, sample_level, sample_flags in FLAG_SAMPLES:
            threshold += share
            if roll < threshold:
                flags, level = sample_flags, sample_level
                break
        prescriber = people.prescribers[number % len(people.prescribers)]
        form = FORMS[number % len(FORMS)]
        moved = submitted + timedelta(hours=rng.randrange(1, 72))
        claimed = status == S.IN_REVIEW
        compounded = status in COMPOUNDED
        bud = (moved + timedelta(days=60)).date() if compounded else None
        closed = moved if status in (S.COMPLETED, S.REJECTED, S.CANCELLED) else None
        row = {
            "id": rx_id, "reference": bench_reference(number), "prescriber_id": prescriber.pk,
            "patient_id": patient_id, "status": status, "dosage_form": form,
            "strength_mg": Decimal(rng.choice(["1.50", "3.00", "4.50", "4.50", "4.50"])),
            "directions": "Take 1 at bedtime", "quantity": 30, "days_supply": 30, "refills": 3,
            "indication": "fibromyalgia", "icd10": "M79.7", "dose_timing": "bedtime", "prescriber_notes": "",
            "weight_kg": None, "rush": number % 37 == 0, "signature_name": prescriber.user.get_full_name(),
            "signed_at": submitted, "signed_from_ip": None, "content_digest": "0" * 64, "flags": flags,
            "flag_level": level,
            "questionnaire_token": hashlib.sha256(f"bench-{number}".encode()).hexdigest(),
            "questionnaire_expires_at": submitted + timedelta(days=30),
            "claimed_by_id": people.pharmacist.pk if claimed else None, "claimed_at": moved if claimed else None,
            "beyond_use_date": bud, "carrier": "UPS" if status in (S.SHIPPED, S.COMPLETED) else "",
            "tracking_number": f"1Z{number:016d}" if status in (S.SHIPPED, S.COMPLETED) else "",
            "submitted_at": submitted, "ready_at": moved if status in (S.READY, S.SHIPPED, S.COMPLETED) else None,
            "shipped_at": moved if status in (S.SHIPPED, S.COMPLETED) else None, "closed_at": closed,
            "updated_at": moved, "fill_number": 1, "refills_used": 0, "status_changed_at": moved,
            "renewed_from_id": None,
        }  # fmt: skip
        events = [{"prescription_id": rx_id, "action": Action.SUBMIT, "from_status": "",
                   "to_status": S.AWAITING_QUESTIONNAIRE, "actor_id": prescriber.user_id, "actor_label": "",
                   "message": "", "details": {}, "created_at": submitted}]  # fmt: skip
        if status in ARRIVAL:
            action, source = ARRIVAL[status]
            events.append({"prescription_id": rx_id, "action": action, "from_status": source, "to_status": status,
                           "actor_id": people.pharmacist.pk, "actor_label": "", "message": "", "details": {},
                           "created_at": moved})  # fmt: skip
        record = None
        if compounded:
            formulation = people.formulation_by_form[form]
            record = {
                "prescription_id": rx_id, "master_formulation_id": formulation.pk,
                "compounded_by_id": people.technician.pk, "compounded_at": moved, "quantity_made": 30,
                "bud_rule": formulation.bud_rule, "beyond_use_date": bud, "storage": formulation.storage,
                "quality_checks": "Weight check passed", "deviations": "",
                "checked_by_id": people.pharmacist.pk if status != S.FINAL_CHECK else None,
                "checked_at": moved if status != S.FINAL_CHECK else None,
            }  # fmt: skip
        return row, events, record


def first_fill_of(row: dict[str, Any], *, fill_id: int) -> dict[str, Any]:
    """The prescription's first fill, as intake.services.workflow.fill_sync keeps it."""
    dispensed = row["shipped_at"] or (row["closed_at"] if row["status"] == S.COMPLETED else None)
    return {
        "id": fill_id, "prescription_id": row["id"], "number": 1, "status": row["status"],
        "requested_by": "prescription", "requested_by_user_id": None, "requested_at": row["submitted_at"],
        "quantity": row["quantity"], "days_supply": row["days_supply"], "beyond_use_date": row["beyond_use_date"],
        "ready_at": row["ready_at"], "dispensed_at": dispensed,
        "refill_reminder_on": (
            refill_reminder_on(dispensed_on=dispensed.date(), days_supply=row["days_supply"]) if dispensed else None
        ),
        "carrier": row["carrier"], "tracking_number": row["tracking_number"], "closed_at": row["closed_at"],
    }  # fmt: skip


def analyze() -> None:
    """Fresh planner statistics and visibility map, as autovacuum would keep them in production (without
    the map, PostgreSQL's index-only scans, such as the counts per status, visit every row's page)."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # VACUUM cannot run in a transaction (a test's, for one): statistics alone there.
            command = "ANALYZE" if connection.in_atomic_block else "VACUUM (ANALYZE)"
            for model in (Patient, Prescription, Fill, PrescriptionEvent, CompoundingRecord):
                cursor.execute(f"{command} {connection.ops.quote_name(model._meta.db_table)}")
        elif connection.vendor == "sqlite":
            cursor.execute("ANALYZE")


# --- measuring -----------------------------------------------------------------------------------


@dataclass
class Timing:
    samples: list[float] = field(default_factory=list)

    @property
    def p50(self) -> float:
        return statistics.median(self.samples)

    @property
    def p95(self) -> float:
        ordered = sorted(self.samples)
        return ordered[min(len(ordered) - 1, int(round(0.95 * (len(ordered) - 1))))]


def rss_mb() -> float:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def interleaved(calls: dict[str, Callable[[], Any]], *, warmup: int, iterations: int) -> dict[str, Timing]:
    """Each call in turn, again and again, so that drift in the machine touches all alike."""
    for _ in range(warmup):
        for call in calls.values():
            call()
    timings = {name: Timing() for name in calls}
    gc.collect()
    for _ in range(iterations):
        for name, call in calls.items():
            started = time.perf_counter()
            call()
            timings[name].samples.append((time.perf_counter() - started) * 1000)
    return timings


def expect(response: Any, status: int, what: str) -> HttpResponse:
    if response.status_code != status:
        body = response.content[:300].decode(errors="replace")
        raise CommandError(f"{what} answered {response.status_code}, not {status}: {body}")
    return response


def queue_rows(response: HttpResponse) -> int:
    return response.content.decode().count('href="/pharmacy/prescriptions/')


def deep_cursor() -> tuple[str, int]:
    """The keyset cursor of the row DEEP_FRACTION into the queue's status, or as deep as leaves a full
    page after it (read once, not timed)."""
    from intake.queue import PAGE_SIZE, Cursor

    base = Prescription.objects.filter(status=QUEUE_STATUS).order_by("submitted_at", "id")
    total = base.count()
    position = max(0, min(int(total * DEEP_FRACTION), total - PAGE_SIZE) - 1)
    row = base.only("pk", "submitted_at")[position : position + 1].first()
    return (str(Cursor.of(row)), position + 1) if row is not None else ("", 0)


def submission_body(unique: str) -> dict[str, Any]:
    """A submission for a new patient (a new name each time): the costlier case, a patient to create."""
    return {
        "patient": {"first_name": "Ada", "last_name": f"Benchmark{unique}", "date_of_birth": "1980-02-29",
                    "sex": "F", "email": f"ada{unique}@{BENCH_DOMAIN}", "phone": "+15555550123", "weight_kg": 61.5,
                    "address": {"line1": "1 Main St", "city": "Austin", "state": "TX", "postal_code": "78701"}},
        "dosage_form": "capsule", "strength_mg": "4.5", "directions": "Take 1 capsule by mouth at bedtime",
        "quantity": 30, "days_supply": 30, "refills": 3, "indication": "fibromyalgia", "icd10": "M79.7",
        "titration": [{"strength_mg": "1.5", "days": 14}, {"strength_mg": "3", "days": 14}],
        "dose_timing": "bedtime", "prescriber_notes": "",
    }  # fmt: skip


def submission_bundle(unique: str) -> dict[str, Any]:
    """submission_body(unique) as a FHIR transaction Bundle: the same patient, titration and supply."""
    body = submission_body(unique)
    patient, address = body["patient"], body["patient"]["address"]
    ucum = "http://unitsofmeasure.org"

    def instruction(sequence: int, mg: str, days: int | None) -> dict[str, Any]:
        repeat: dict[str, Any] = {"when": ["HS"]}
        if days is not None:
            repeat["boundsDuration"] = {"value": days, "unit": "days", "system": ucum, "code": "d"}
        dose = {"value": float(mg), "unit": "mg", "system": ucum, "code": "mg"}
        return {"sequence": sequence, "timing": {"repeat": repeat}, "doseAndRate": [{"doseQuantity": dose}]}

    steps = [instruction(i + 1, step["strength_mg"], step["days"]) for i, step in enumerate(body["titration"])]
    steps.append(instruction(len(steps) + 1, body["strength_mg"], None))
    steps[0]["text"] = body["directions"]
    patient_url = f"urn:uuid:patient-{unique}"
    resources = [
        {"resourceType": "Patient", "name": [{"given": [patient["first_name"]], "family": patient["last_name"]}],
         "birthDate": patient["date_of_birth"], "gender": "female",
         "telecom": [{"system": "email", "value": patient["email"]}, {"system": "phone", "value": patient["phone"]}],
         "address": [{"line": [address["line1"]], "city": address["city"], "state": address["state"],
                      "postalCode": address["postal_code"]}]},
        {"resourceType": "MedicationRequest", "status": "active", "intent": "order",
         "subject": {"reference": patient_url},
         "medicationCodeableConcept": {"coding": [{"system": "http://www.nlm.nih.gov/research/umls/rxnorm",
                                                   "code": "7243"}], "text": "Low-dose naltrexone"},
         "extension": [{"url": "https://ehr.example/fhir/StructureDefinition/dosage-form", "valueCodeableConcept": {
             "coding": [{"system": "http://terminology.hl7.org/CodeSystem/v3-orderableDrugForm", "code": "CAP"}]}}],
         "dosageInstruction": steps,
         "dispenseRequest": {"quantity": {"value": body["quantity"]}, "numberOfRepeatsAllowed": body["refills"],
                             "expectedSupplyDuration": {"value": body["days_supply"], "system": ucum, "code": "d"}},
         "reasonCode": [{"coding": [{"system": "http://hl7.org/fhir/sid/icd-10-cm", "code": body["icd10"]}],
                         "text": body["indication"]}]},
        {"resourceType": "Observation", "status": "final", "subject": {"reference": patient_url},
         "code": {"coding": [{"system": "http://loinc.org", "code": "29463-7"}]},
         "valueQuantity": {"value": patient["weight_kg"], "unit": "kg", "system": ucum, "code": "kg"}},
    ]  # fmt: skip
    urls = [patient_url, f"urn:uuid:request-{unique}", f"urn:uuid:weight-{unique}"]
    return {
        "resourceType": "Bundle",
        "type": "transaction",
        "entry": [
            {"fullUrl": url, "resource": resource, "request": {"method": "POST", "url": resource["resourceType"]}}
            for url, resource in zip(urls, resources, strict=True)
        ],
    }


def behind_the_proxy(headers: dict[str, str] | None = None) -> Client:
    """A client whose requests arrive as production's do, over HTTPS through the proxy: with DEBUG
    off the pharmacy redirects plain HTTP."""
    return Client(headers={"X-Forwarded-Proto": "https", **(headers or {})})


@contextmanager
def collected_static_files() -> Iterator[None]:
    """With DEBUG off the static files storage reads collectstatic's manifest: where the project
    has not collected them, they are collected into a scratch folder for the run."""
    from django.contrib.staticfiles.storage import ManifestFilesMixin, staticfiles_storage

    if not isinstance(staticfiles_storage, ManifestFilesMixin) or staticfiles_storage.exists(
        staticfiles_storage.manifest_name
    ):
        yield
        return
    with tempfile.TemporaryDirectory(prefix="bench-static-") as folder, override_settings(STATIC_ROOT=folder):
        call_command("collectstatic", interactive=False, verbosity=0)
        yield


@dataclass
class Session:
    """Signed-in clients and the requests the benchmark times."""

    people: People
    staff: Client = field(default_factory=lambda: behind_the_proxy())
    api: Client = field(default_factory=lambda: behind_the_proxy())
    anonymous: Client = field(default_factory=lambda: behind_the_proxy())
    submitted: int = 0
    run: int = field(default_factory=lambda: int(time.time()))
    lookups: list[tuple[str, str]] = field(default_factory=list)
    deep: str = ""
    depth: int = 0
    pharmacist_api: Client = field(default_factory=lambda: behind_the_proxy())

    def __post_init__(self) -> None:
        from rest_framework.authtoken.models import Token

        self.staff.force_login(self.people.pharmacist, backend="accounts.backends.PharmacyBackend")
        token, _created = Token.objects.get_or_create(user=self.people.prescribers[0].user)
        self.api = behind_the_proxy({"Authorization": f"Token {token.key}"})
        staff_token, _created = Token.objects.get_or_create(user=self.people.pharmacist)
        self.pharmacist_api = behind_the_proxy({"Authorization": f"Token {staff_token.key}"})

    def refresh(self) -> None:
        """What the requests read at this size: a deep cursor and some patients' (reference, birth date)."""
        self.deep, self.depth = deep_cursor()
        pairs = Prescription.objects.filter(bench_filter()).values_list("reference", "patient__date_of_birth")
        self.lookups = [(ref, dob.isoformat()) for ref, dob in pairs.order_by("-pk")[:500]]

    def floor(self) -> HttpResponse:
        return expect(self.staff.get("/benchmark/floor/"), 200, "the floor page")

    def queue(self) -> HttpResponse:
        return expect(self.staff.get("/pharmacy/queue/", {"status": QUEUE_STATUS}), 200, "the queue")

    def queue_deep(self) -> HttpResponse:
        return expect(self.staff.get("/pharmacy/queue/", {"status": QUEUE_STATUS, "after": self.deep}), 200,
                      "a deep queue page")  # fmt: skip

    def submit(self) -> HttpResponse:
        self.submitted += 1
        body = json.dumps(submission_body(f"{self.run}n{self.submitted}"))
        return expect(self.api.post("/api/v1/prescriptions/", body, content_type="application/json"), 201,
                      "a submission")  # fmt: skip

    def submit_fhir(self) -> HttpResponse:
        self.submitted += 1
        body = json.dumps(submission_bundle(f"{self.run}f{self.submitted}"))
        return expect(self.api.post("/fhir/R4/", body, content_type="application/fhir+json"), 200,
                      "a FHIR transaction")  # fmt: skip

    def lot_trace(self) -> HttpResponse:
        return expect(self.pharmacist_api.get(f"/api/v1/lots/{TRACE_LOT}/"), 200, "a lot's trace")

    def status(self) -> HttpResponse:
        reference, born = self.lookups[self.submitted % len(self.lookups)]
        self.submitted += 1
        return expect(self.anonymous.get("/api/v1/status/", {"reference": reference, "date_of_birth": born}), 200,
                      "the status lookup")  # fmt: skip


# What running it as a service costs a request: each instrument is its middleware; the figure times
# the queue page with the instrument's middleware and without it. Another instrument is one more row.
INSTRUMENTS: dict[str, tuple[str, ...]] = {
    "metrics": ("django_prometheus.middleware.PrometheusBeforeMiddleware",
                "django_prometheus.middleware.PrometheusAfterMiddleware"),
}  # fmt: skip


def instrument_cost(session: Session, *, warmup: int, iterations: int) -> dict[str, tuple[Timing, Timing]]:
    """For each instrument, the queue page (on, off): two signed-in clients, the second built
    without the instrument's middleware (a client loads its middleware at its first request)."""
    costs: dict[str, tuple[Timing, Timing]] = {}
    for name, middleware in INSTRUMENTS.items():
        without = behind_the_proxy()
        without.force_login(session.people.pharmacist, backend="accounts.backends.PharmacyBackend")
        with override_settings(MIDDLEWARE=[m for m in settings.MIDDLEWARE if m not in middleware]):
            expect(without.get("/pharmacy/queue/", {"status": QUEUE_STATUS}), 200, f"the queue without {name}")

        def off(client: Client = without) -> HttpResponse:
            return expect(client.get("/pharmacy/queue/", {"status": QUEUE_STATUS}), 200, "the queue")

        timings = interleaved({"on": session.queue, "off": off}, warmup=warmup, iterations=iterations)
        costs[name] = (timings["on"], timings["off"])
    return costs


def service_cost(session: Session, *, warmup: int, iterations: int) -> dict[str, float]:
    """The queue page run as a service (the metrics middleware, LOG_FORMAT=json and the request-id
    middleware) against the same page with none of them and plain lines, interleaved; and the cost
    of writing one line in each format. The issue's target: the service within 10% of the bare page."""
    service = {"intake.middleware.RequestIdMiddleware", *(m for chain in INSTRUMENTS.values() for m in chain)}
    root_handlers = [h for h in logging.getLogger().handlers if isinstance(h, logging.StreamHandler)]
    plain = logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s")
    clients = {}
    for name, middleware in (("service", settings.MIDDLEWARE),
                             ("bare", [m for m in settings.MIDDLEWARE if m not in service])):  # fmt: skip
        with override_settings(MIDDLEWARE=middleware):
            client = behind_the_proxy()
            client.force_login(session.people.pharmacist, backend="accounts.backends.PharmacyBackend")
            expect(client.get("/pharmacy/queue/", {"status": QUEUE_STATUS}), 200, "the queue")  # loads the chain
            clients[name] = client

    def queue_with(name: str, formatter: logging.Formatter) -> Callable[[], HttpResponse]:
        def call() -> HttpResponse:
            for handler in root_handlers:
                handler.setFormatter(formatter)
            return expect(clients[name].get("/pharmacy/queue/", {"status": QUEUE_STATUS}), 200, "the queue")

        return call

    saved = [h.formatter for h in root_handlers]
    try:
        timings = interleaved({"service": queue_with("service", JsonFormatter()), "bare": queue_with("bare", plain)},
                              warmup=warmup, iterations=iterations)  # fmt: skip
    finally:
        for handler, formatter in zip(root_handlers, saved, strict=True):
            handler.setFormatter(formatter)

    def line_us(formatter: logging.Formatter, lines: int = 20_000) -> float:
        handler = logging.StreamHandler(io.StringIO())
        handler.addFilter(RequestIdFilter())
        handler.addFilter(RedactPatientDataFilter())
        handler.setFormatter(formatter)
        logger = logging.getLogger("bench.lines")
        logger.propagate, logger.handlers = False, [handler]
        started = time.perf_counter()
        for n in range(lines):
            logger.warning("Notification %s try %d failed (%s); retrying in %d s", n, 2, "ConnectionRefusedError", 120)
        return (time.perf_counter() - started) / lines * 1e6

    return {
        "queue_service_p50_ms": round(timings["service"].p50, 3),
        "queue_bare_p50_ms": round(timings["bare"].p50, 3),
        "queue_service_ratio": round(timings["service"].p50 / timings["bare"].p50, 3),
        "log_line_json_us": round(line_us(JsonFormatter()), 1),
        "log_line_plain_us": round(line_us(plain), 1),
    }


_TRANSACTION_CONTROL = ("BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE SAVEPOINT", "ROLLBACK TO SAVEPOINT")


def queries_of(call: Callable[[], Any]) -> int:
    """SQL queries a request runs, not counting BEGIN/COMMIT and savepoints (the driver logs those too)."""
    with CaptureQueriesContext(connection) as captured:
        call()
    return sum(1 for query in captured.captured_queries if not query["sql"].startswith(_TRANSACTION_CONTROL))


def screen_rate(seconds: float, *, cold: bool) -> float:
    """Screenings a second on this core: a prescription with five medication lines each.

    The lines are everyday ones and every product name of the medication tables with a dose, so most
    are read for the first time in the warm-up; `cold` forgets the lines read before each screening.
    """
    from intake.clinical import medications

    rng = random.Random(5)  # noqa: S311 - benchmark input
    doses = ["5 mg", "10mg daily", "prn", "50 mcg", "1 tab bid"]
    lines = EVERYDAY_LINES + [f"{product.name} {doses[i % len(doses)]}" for i, product in enumerate(products())]
    answers = [
        QuestionnaireAnswers(
            takes_opioids=False, opioid_treatment_program=False, liver_condition="none", pregnancy="no",
            alcohol_drinks_per_week=rng.randrange(10), naltrexone_allergy=False, thyroid_medication=False,
            immunosuppressants=False, surgery_within_14_days=False,
            current_medications=tuple(rng.sample(lines, 5)), allergies=("penicillin",),
        )
        for _ in range(4000)
    ]  # fmt: skip
    facts = PrescriptionFacts(dosage_form="capsule", strength_mg=Decimal("4.5"),
                              titration_mg=(Decimal("1.5"), Decimal("3")))  # fmt: skip
    for line in lines:
        medications.match_medication(line)
    done = 0
    started = time.perf_counter()
    deadline = started + seconds
    while time.perf_counter() < deadline:
        for answer in answers[:500]:
            if cold:
                medications.forget_lines()
            screen(facts, answer)
        done += 500
        answers = answers[500:] + answers[:500]
    return done / (time.perf_counter() - started)


def hostile_lines_ms() -> float:
    """Milliseconds to read the long or hostile medication lines (bench/hostile_lines.py) with no
    word guessed at before (best of three): they must not hold a worker."""
    from intake.clinical import medications

    medications.match_medication("warm-up")  # the tables are loaded once per process, not per line
    best = float("inf")
    for _ in range(3):
        medications.forget_words()
        started = time.perf_counter()
        for hostile in HOSTILE_LINES:
            medications.is_opioid(hostile.line)
        best = min(best, time.perf_counter() - started)
    return best * 1000


# --- the plot ------------------------------------------------------------------------------------

_PLOT_STYLE = (
    "<style>svg.chart{font-family:system-ui,sans-serif;background:#fff}.chart-grid{stroke:#e5e7eb}"
    ".chart-tick,.chart-axis-label{font-size:12px;fill:#374151}.chart-line polyline{fill:none;stroke-width:2.5}"
    ".chart-series-0 polyline,.chart-series-0 circle,line.chart-series-0{stroke:#1d4ed8;fill:#1d4ed8}"
    ".chart-series-1 polyline,.chart-series-1 circle,line.chart-series-1{stroke:#b45309;fill:#b45309}"
    ".chart-series-2 polyline,.chart-series-2 circle,line.chart-series-2{stroke:#6b7280;fill:#6b7280}"
    ".chart-line polyline{fill:none!important}line.chart-series-0,line.chart-series-1,line.chart-series-2"
    "{stroke-width:3}</style>"
)


def growth_svg(points: Sequence[tuple[int, Timing, Timing]]) -> str:
    from intake.web.staff.charts import Series, line_chart

    labels = [f"{rows // 1000:,}k" if rows < 1_000_000 else f"{rows / 1_000_000:g}M" for rows, _q, _f in points]
    chart = line_chart(
        chart_id="queue-growth",
        title="Queue page time against prescriptions in the database",
        desc="Median and 95th percentile of the pharmacist queue page (50 rows), and the floor page, in ms, "
        "at " + ", ".join(labels) + " prescriptions.",
        x_labels=labels,
        series=[
            Series("queue p50 (ms)", [round(q.p50, 2) for _r, q, _f in points], "chart-series-0"),
            Series("queue p95 (ms)", [round(q.p95, 2) for _r, q, _f in points], "chart-series-1"),
            Series("floor p50 (ms)", [round(f.p50, 2) for _r, _q, f in points], "chart-series-2"),
        ],
        y_label="ms",
    )
    opening_end = chart.index(">") + 1
    return chart[:opening_end] + _PLOT_STYLE + chart[opening_end:] + "\n"


# --- the command ---------------------------------------------------------------------------------


class Command(BaseCommand):
    depth = 0
    help = "Build a pharmacy-sized data set and time the queue, submissions, status lookups and screening."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--rows", type=int, default=100_000, help="prescriptions (default 100,000)")
        parser.add_argument("--quick", action="store_true", help="10,000 prescriptions, fewer iterations")
        parser.add_argument("--sizes", default="", help="comma-separated sizes to time the queue at (for --plot)")
        parser.add_argument("--plot", default="", help="write an SVG of queue time against rows to this path")
        parser.add_argument("--iterations", type=int, default=0, help="timed requests of each kind")
        parser.add_argument(
            "--scratch",
            action="store_true",
            help="build in a scratch database beside the configured one, dropped afterwards",
        )
        parser.add_argument("--keep", action="store_true", help="with --scratch: keep the scratch database")
        parser.add_argument("--load-plan", default="",
                            help="build only, then write sessions, tokens and status look-ups for the load "
                            "test (scripts/loadtest.sh) to this JSON file; no timing")  # fmt: skip
        parser.add_argument("--force", action="store_true",
                            help="build beside data that is not the benchmark's (its rows are marked)")  # fmt: skip

    def handle(self, *args: Any, **options: Any) -> None:
        rows = 10_000 if options["quick"] else options["rows"]
        sizes = sorted({int(s) for s in options["sizes"].split(",") if s.strip()})
        if sizes:
            rows = max(sizes)
        if rows < 100:
            raise CommandError("--rows must be at least 100")
        small = max(rows // 10, 10)
        sizes = sorted(set(sizes) | {small, rows})
        iterations = options["iterations"] or (60 if options["quick"] else 200)
        warmup = max(5, iterations // 10)
        if options["load_plan"]:
            # Grown to --rows if smaller; the load test's own submissions may have made it larger.
            self._check_database(first_size=None, force=options["force"])
            self._load_plan(rows=rows, target=Path(options["load_plan"]))
            return
        scratch = None
        if options["scratch"]:
            scratch = self._scratch_database()
        try:
            self._check_database(first_size=sizes[0], force=options["force"])
            self._run(rows=rows, small=small, sizes=sizes, iterations=iterations, warmup=warmup,
                      plot=options["plot"])  # fmt: skip
        finally:
            if scratch is not None and not options["keep"]:
                self._drop_scratch(scratch)

    # The database ------------------------------------------------------------------------------

    def _scratch_database(self) -> tuple[str, str]:
        original = str(connection.settings_dict["NAME"])
        connection.close()
        if connection.vendor == "postgresql":
            name = f"{original}_bench"
            with connection._nodb_cursor() as cursor:  # the same maintenance connection the test runner uses
                cursor.execute(f"DROP DATABASE IF EXISTS {connection.ops.quote_name(name)}")
                cursor.execute(f"CREATE DATABASE {connection.ops.quote_name(name)}")
        elif connection.vendor == "sqlite":
            name = str(Path(original).with_name(Path(original).stem + "_bench.sqlite3"))
            Path(name).unlink(missing_ok=True)
        else:
            raise CommandError(f"--scratch is not supported on {connection.vendor}")
        connection.settings_dict["NAME"] = name
        self.stdout.write(f"Scratch database {name}: migrating ...")
        call_command("migrate", verbosity=0, interactive=False)
        return original, name

    def _drop_scratch(self, scratch: tuple[str, str]) -> None:
        original, name = scratch
        connections.close_all()
        connection.settings_dict["NAME"] = original
        if connection.vendor == "postgresql":
            with connection._nodb_cursor() as cursor:
                cursor.execute(f"DROP DATABASE IF EXISTS {connection.ops.quote_name(name)}")
        else:
            Path(name).unlink(missing_ok=True)
        self.stdout.write(f"Scratch database {name} dropped (--keep keeps it).")

    def _check_database(self, *, first_size: int | None, force: bool) -> None:
        """Refuse to mix the benchmark into real data unless told to; never delete anything."""
        others = Prescription.objects.exclude(bench_filter()).count()
        if others and not force:
            raise CommandError(
                f"This database holds {others:,} prescriptions that the benchmark did not make. Run with "
                "--scratch to build in a database of its own beside this one (dropped afterwards), or --force "
                f"to add the benchmark's rows beside them (prescribers @{BENCH_DOMAIN}, references BX-...; "
                "they are not deleted afterwards)."
            )
        ours = Prescription.objects.filter(bench_filter()).count()
        if first_size is not None and ours > first_size:
            raise CommandError(
                f"This database already holds {ours:,} benchmark prescriptions, more than the first size "
                f"timed ({first_size:,}): use --scratch, or a fresh database."
            )

    def _load_plan(self, *, rows: int, target: Path) -> None:
        """The data set, and what the load test's simulated people sign in with."""
        from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
        from django.contrib.sessions.backends.db import SessionStore
        from rest_framework.authtoken.models import Token

        people = bench_people()
        DataBuilder(people=people, anchor=timezone.now()).grow_to(rows, self._log)
        analyze()  # the rows the previous run submitted, too
        sessions = []
        for _ in range(64):  # one session per simulated pharmacist (each its own session row, as in life)
            store = SessionStore()
            store[SESSION_KEY] = str(people.pharmacist.pk)
            store[BACKEND_SESSION_KEY] = "accounts.backends.PharmacyBackend"
            store[HASH_SESSION_KEY] = people.pharmacist.get_session_auth_hash()
            store.set_expiry(12 * 3600)
            store.save()
            sessions.append(store.session_key)
        tokens = [Token.objects.get_or_create(user=p.user)[0].key for p in people.prescribers]
        pairs = Prescription.objects.filter(bench_filter()).values_list("reference", "patient__date_of_birth")
        lookups = [[ref, dob.isoformat()] for ref, dob in pairs.order_by("-pk")[:2000]]
        plan = {"session_cookie": settings.SESSION_COOKIE_NAME, "sessions": sessions, "tokens": tokens,
                "lookups": lookups, "queue_status": QUEUE_STATUS, "body": submission_body("LOAD")}  # fmt: skip
        target.write_text(json.dumps(plan), encoding="utf-8")
        self._log(f"Load plan written to {target}: {len(sessions)} staff sessions, {len(tokens)} prescriber tokens, "
                  f"{len(lookups)} status look-ups over {rows:,} prescriptions")  # fmt: skip

    # The run -----------------------------------------------------------------------------------

    def _log(self, text: str) -> None:
        self.stdout.write(text)
        self.stdout.flush()

    def _run(self, *, rows: int, small: int, sizes: list[int], iterations: int, warmup: int, plot: str) -> None:
        from pharmacy.celery import app as celery_app

        engine = f"{connection.vendor} ({connection.settings_dict['NAME']})"
        self._log(f"Benchmark on {engine}: sizes {', '.join(f'{s:,}' for s in sizes)}; {iterations} timed "
                  f"requests of each kind after {warmup} warm-up rounds")  # fmt: skip
        people = bench_people()
        builder = DataBuilder(people=people, anchor=timezone.now())
        # Production-like requests: no query log (DEBUG), and notifications published to a broker
        # (in memory here, so no worker delivers the benchmark's mail) rather than run in-process.
        saved_celery = (celery_app.conf.task_always_eager, celery_app.conf.broker_url)
        celery_app.conf.task_always_eager = False
        celery_app.conf.broker_url = "memory://"
        growth: list[tuple[int, Timing, Timing]] = []
        try:
            with collected_static_files(), override_settings(DEBUG=False, ROOT_URLCONF=__name__):
                session = Session(people=people)
                for size in sizes:
                    builder.grow_to(size, self._log)
                    # The growth curve: at every size the same measurement, the queue and the floor
                    # alone. (Below, submissions interleaved with the queue also empty its counts
                    # cache, which the smaller sizes would not see.)
                    timings = interleaved({"floor": session.floor, "queue": session.queue},
                                          warmup=warmup, iterations=iterations)  # fmt: skip
                    growth.append((size, timings["queue"], timings["floor"]))
                    self._log(f"  queue at {size:,}: p50 {timings['queue'].p50:.2f} ms "
                              f"(floor {timings['floor'].p50:.2f} ms)")  # fmt: skip
                session.refresh()
                first_rows = queue_rows(session.queue())
                deep_rows = queue_rows(session.queue_deep()) if session.deep else 0
                self.depth = session.depth
                timings = interleaved(
                    {"floor": session.floor, "queue": session.queue, "queue_deep": session.queue_deep,
                     "submit": session.submit, "submit_fhir": session.submit_fhir, "status": session.status,
                     "lot_trace": session.lot_trace},
                    warmup=warmup, iterations=iterations,
                )  # fmt: skip
                counts = {"floor": queries_of(session.floor), "queue": queries_of(session.queue),
                          "submit": queries_of(session.submit), "submit_fhir": queries_of(session.submit_fhir),
                          "status": queries_of(session.status), "lot_trace": queries_of(session.lot_trace)}  # fmt: skip
                instruments = instrument_cost(session, warmup=warmup, iterations=iterations)
                trace_uses = lot_trace_count(TRACE_LOT)
                trace_rows = len(session.lot_trace().json()["results"])  # type: ignore[attr-defined]
                logs = service_cost(session, warmup=warmup, iterations=iterations)
        finally:
            celery_app.conf.task_always_eager, celery_app.conf.broker_url = saved_celery
        warm = screen_rate(1.5, cold=False)
        cold = screen_rate(1.5, cold=True)
        hostile = hostile_lines_ms()
        small_queue = next(q for size, q, _f in growth if size == small)
        full_queue = next(q for size, q, _f in growth if size == rows)
        floor = timings["floor"].p50
        result = {
            "rows": rows,
            "database": connection.vendor,
            "floor_p50_ms": round(floor, 3),
            "queue_p50_ms": round(timings["queue"].p50, 3),
            "queue_p95_ms": round(timings["queue"].p95, 3),
            "queue_rows": first_rows,
            "queue_queries": counts["queue"],
            "queue_deep_ratio": round(timings["queue_deep"].p50 / timings["queue"].p50, 3),
            "queue_growth_ratio": round(full_queue.p50 / small_queue.p50, 3),
            "submit_p50_ms": round(timings["submit"].p50, 3),
            "submit_queries": counts["submit"],
            "submit_fhir_p50_ms": round(timings["submit_fhir"].p50, 3),
            "submit_fhir_queries": counts["submit_fhir"],
            "submit_fhir_ratio": round(timings["submit_fhir"].p50 / timings["submit"].p50, 3),
            "status_p50_ms": round(timings["status"].p50, 3),
            "lot_trace_p50_ms": round(timings["lot_trace"].p50, 3),
            "lot_trace_ratio": round(timings["lot_trace"].p50 / floor, 3),
            "lot_trace_queries": counts["lot_trace"],
            "lot_trace_uses": trace_uses,
            "lot_trace_rows": trace_rows,
            "screen_per_s": round(warm),
            "screen_cold_per_s": round(cold),
            "hostile_lines_ms": round(hostile, 1),
            "worker_rss_mb": round(rss_mb(), 1),
            "build_seconds": round(builder.seconds, 1),
            **logs,
        }
        for name, (on, off) in instruments.items():
            result[f"queue_{name}_on_p50_ms"] = round(on.p50, 3)
            result[f"queue_{name}_off_p50_ms"] = round(off.p50, 3)
        self._table(result, timings, deep_rows=deep_rows, small=small, small_queue=small_queue, growth=growth)
        if plot:
            target = Path(plot)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(growth_svg(growth), encoding="utf-8")
            self._log(f"Plot written to {target}")
        self.stdout.write(json.dumps(result))

    def _table(self, result: dict[str, Any], timings: dict[str, Timing], *, deep_rows: int, small: int,
               small_queue: Timing, growth: list[tuple[int, Timing, Timing]]) -> None:  # fmt: skip
        floor = result["floor_p50_ms"]

        def line(what: str, p50: float, p95: float, queries: int | str, target: str) -> str:
            return f"{what:44} {p50:8.2f} {p95:8.2f} {p50 / floor:7.1f}x {queries!s:>8}  {target}"

        self._log("")
        self._log(f"{'request (' + format(result['rows'], ',') + ' prescriptions)':44} {'p50 ms':>8} {'p95 ms':>8} "
                  f"{'/floor':>8} {'queries':>8}  target")  # fmt: skip
        self._log(line("floor: minimal signed-in staff page", timings["floor"].p50, timings["floor"].p95, "", ""))
        self._log(
            line(
                f"queue, {QUEUE_STATUS}, first page ({result['queue_rows']} rows)",
                timings["queue"].p50,
                timings["queue"].p95,
                result["queue_queries"],
                "p50 <= 4x floor, <= 6 queries",
            )
        )
        self._log(
            line(
                f"queue, deep page ({deep_rows} rows, after row {self.depth:,})",
                timings["queue_deep"].p50,
                timings["queue_deep"].p95,
                "",
                "<= 1.2x the first page",
            )
        )
        self._log(
            line(
                "API submission (new patient)",
                timings["submit"].p50,
                timings["submit"].p95,
                result["submit_queries"],
                "p50 <= 4x floor, <= 12 queries",
            )
        )
        self._log(
            line(
                "submit (FHIR Bundle, new patient)",
                timings["submit_fhir"].p50,
                timings["submit_fhir"].p95,
                result["submit_fhir_queries"],
                f"p50 <= 2x the API submission: {result['submit_fhir_ratio']:.2f}x",
            )
        )
        self._log(line("patient status lookup (API)", timings["status"].p50, timings["status"].p95, "",
                       "p50 <= 2x floor"))  # fmt: skip
        self._log(line(f"lot trace (API), {result['lot_trace_uses']:,} uses, first page ({result['lot_trace_rows']})",
                       timings["lot_trace"].p50, timings["lot_trace"].p95, result["lot_trace_queries"],
                       "p50 <= 10x floor"))  # fmt: skip
        self._log("")
        for size, queue, floor_timing in growth:
            self._log(f"queue p50 at {size:>10,} rows: {queue.p50:7.2f} ms (p95 {queue.p95:.2f}, floor "
                      f"{floor_timing.p50:.2f})")  # fmt: skip
        self._log(
            f"growth ratio {result['rows']:,} / {small:,} rows: {result['queue_growth_ratio']:.2f} "
            f"(target <= 1.3); deep page ratio {result['queue_deep_ratio']:.2f} (target <= 1.2)"
        )
        self._log(f"screening, five medication lines: {result['screen_per_s']:,} a second with the line cache, "
                  f"{result['screen_cold_per_s']:,} without (target >= 20,000)")  # fmt: skip
        self._log(f"five long or hostile medication lines read afresh: {result['hostile_lines_ms']} ms "
                  "(target <= 1000)")  # fmt: skip
        for name in INSTRUMENTS:
            on, off = result[f"queue_{name}_on_p50_ms"], result[f"queue_{name}_off_p50_ms"]
            self._log(f"queue p50 with {name} {on:.2f} ms, without {off:.2f} ms ({on - off:+.2f} ms)")

        self._log(f"queue run as a service (metrics, JSON logs, request ids) {result['queue_service_p50_ms']:.2f} "
                  f"ms, bare {result['queue_bare_p50_ms']:.2f} ms: {result['queue_service_ratio']:.3f} (target <= "
                  f"1.10); one line {result['log_line_json_us']} us as JSON, "
                  f"{result['log_line_plain_us']} us plain")  # fmt: skip
        self._log(f"memory of this process: {result['worker_rss_mb']} MB (target <= 400); "
                  f"data built in {result['build_seconds']} s; pid {os.getpid()}")  # fmt: skip
        self._log("")
