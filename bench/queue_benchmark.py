"""Time the pharmacy queue's queries on a large PostgreSQL table (a script, not a test).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres \
        .venv/bin/python bench/queue_benchmark.py --rows 1000000

It creates a scratch database beside the one DATABASE_URL names (dropped first; --keep leaves it
afterwards), migrates it, bulk-inserts the rows with set-based SQL (generate_series, no Python
loop), ANALYZEs, then times the real selectors of intake/queue.py and the "next prescription"
service: the median of several runs of each, and the EXPLAIN lines that show which index served.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

LAST_NAMES = [
    "Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia", "Miller", "Davis", "Rodriguez", "Martinez",
    "Hernandez", "Lopez", "Gonzalez", "Wilson", "Anderson", "Thomas", "Taylor", "Moore", "Jackson", "Martin",
    "Lee", "Perez", "Thompson", "White", "Harris", "Sanchez", "Clark", "Ramirez", "Lewis", "Robinson",
    "Walker", "Young", "Allen", "King", "Wright", "Scott", "Torres", "Nguyen", "Hill", "Flores",
]  # fmt: skip
FIRST_NAMES = ["Ada", "Grace", "Alan", "Mary", "John", "Linda", "James", "Susan", "Robert", "Karen", "Maria", "David",
               "Emma", "Noah", "Olivia", "Liam", "Ava", "Lucas", "Mia", "Ethan"]  # fmt: skip


def sql_array(values: list[str]) -> str:
    return "ARRAY[" + ",".join("'" + v.replace("'", "''") + "'" for v in values) + "]"


def scratch_url(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, "/" + name, parts.query, parts.fragment))


def recreate_database(url: str, name: str) -> None:
    import psycopg

    maintenance = scratch_url(url, "postgres")
    with psycopg.connect(maintenance, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def drop_database(url: str, name: str) -> None:
    import psycopg

    with psycopg.connect(scratch_url(url, "postgres"), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def populate(rows: int) -> dict[str, Any]:
    """Insert people with the ORM (a handful) and prescriptions with one INSERT ... SELECT."""
    from django.contrib.auth.models import Group
    from django.db import connection
    from django.utils import timezone

    from accounts.models import Role, User
    from intake.models import Prescriber

    def person(email: str, role: str, first: str, last: str) -> User:
        user = User.objects.create_user(email, "bench-password", first_name=first, last_name=last)
        user.groups.add(Group.objects.get(name=role))
        return user

    pharmacist = person("pharmacist@bench.test", Role.PHARMACIST, "Paula", "Pharmacist")
    technician = person("technician@bench.test", Role.TECHNICIAN, "Tom", "Technician")
    prescribers = []
    for n in range(5):
        user = person(f"prescriber{n}@bench.test", Role.PRESCRIBER, "Doc", f"Tor{n}")
        prescribers.append(
            Prescriber.objects.create(
                user=user, npi=["1234567893", "1245319599", "1003000126", "1013998519", "1023011079"][n],
                credential="MD", license_number=f"TX{n}", license_state="TX", license_expires="2099-01-01",
                address_line1="1 Main", city="Austin", state="TX", postal_code="78701", phone="+15125550100",
                verified_at=timezone.now(),
            )
        )  # fmt: skip
    patients = max(rows // 3, 1)
    prescriber_ids = "ARRAY[" + ",".join(str(p.pk) for p in prescribers) + "]"
    with connection.cursor() as cursor:
        started = time.perf_counter()
        # Patients: 40 last names x 676 two-letter endings ("Smithaa") x 20 first names.
        cursor.execute(
            f"""
            INSERT INTO intake_patient (first_name, last_name, name_key, date_of_birth, sex, email, phone,
                address_line1, address_line2, city, state, postal_code, contact_preference, created_at, updated_at)
            SELECT f, l, lower(l) || '|' || lower(f), DATE '1940-01-01' + (g::bigint * 7919 %% 25000)::int, 'F',
                   'p' || g || '@bench.test', '', '1 Main St', '', 'Austin', 'TX', '78701', 'email', now(), now()
            FROM (
                SELECT g,
                       ({sql_array(FIRST_NAMES)})[1 + g %% {len(FIRST_NAMES)}] AS f,
                       ({sql_array(LAST_NAMES)})[1 + (g / {len(FIRST_NAMES)}) %% {len(LAST_NAMES)}]
                         || chr(97 + (g / {len(FIRST_NAMES) * len(LAST_NAMES)}) %% 26)
                         || chr(97 + (g / {len(FIRST_NAMES) * len(LAST_NAMES) * 26}) %% 26) AS l
                FROM generate_series(1, %s) AS g
            ) AS names
            ON CONFLICT DO NOTHING
            """,  # noqa: S608 - only constants of this script are formatted in; values go as parameters
            [patients],
        )
        cursor.execute(
            "CREATE TEMP TABLE bench_patient AS SELECT row_number() OVER (ORDER BY id) AS rn, id FROM intake_patient"
        )
        cursor.execute("SELECT count(*) FROM bench_patient")
        patient_count = cursor.fetchone()[0]
        # A pharmacy two years in: the newest 3% (about three weeks) are the open work; older rows are
        # closed but for a few stale ones (unanswered questionnaires, unanswered questions).
        cursor.execute(
            f"""
            INSERT INTO intake_prescription (reference, prescriber_id, patient_id, status, dosage_form, strength_mg,
                directions, quantity, days_supply, refills, indication, icd10, dose_timing, prescriber_notes,
                rush, signature_name, signed_at, content_digest, flags, flag_level, questionnaire_token,
                questionnaire_expires_at, claimed_by_id, claimed_at, carrier, tracking_number, submitted_at,
                updated_at)
            SELECT 'LDN-' || lpad(upper(to_hex(g)), 7, '0'), ({prescriber_ids})[1 + g %% 5], p.id, s.status,
                   (ARRAY['capsule','capsule','capsule','oral_liquid','sublingual_drops','topical_cream'])[1 + g %% 6],
                   4.5, 'Take 1 at bedtime', 30, 30, 3, 'fibromyalgia', 'M79.7', 'bedtime', '',
                   g %% 37 = 0, 'Doc Tor', t.at, '',
                   CASE WHEN fl.level = '' THEN '[]'::jsonb ELSE jsonb_build_array(jsonb_build_object(
                       'code', 'bench', 'severity', fl.level, 'message', 'benchmark flag')) END,
                   fl.level, md5(g::text || 'a') || md5(g::text || 'b'), t.at + interval '14 days',
                   CASE WHEN s.status = 'in_review' THEN %s END, CASE WHEN s.status = 'in_review' THEN t.at END,
                   '', '', t.at, t.at
            FROM generate_series(1, %s) AS g
            JOIN bench_patient AS p ON p.rn = 1 + (g * 7 %% %s)
            CROSS JOIN LATERAL (SELECT (g::bigint * 2654435761) %% 1000 AS r) AS h
            CROSS JOIN LATERAL (SELECT CASE WHEN g > %s * 0.97 THEN CASE
                WHEN h.r < 150 THEN 'pending_review' WHEN h.r < 250 THEN 'in_review' WHEN h.r < 330 THEN 'on_hold'
                WHEN h.r < 450 THEN 'approved' WHEN h.r < 530 THEN 'compounding' WHEN h.r < 580 THEN 'final_check'
                WHEN h.r < 680 THEN 'ready' WHEN h.r < 800 THEN 'shipped' WHEN h.r < 950 THEN 'awaiting_questionnaire'
                ELSE 'completed' END
              ELSE CASE WHEN h.r < 3 THEN 'awaiting_questionnaire' WHEN h.r < 5 THEN 'on_hold'
                WHEN h.r < 40 THEN 'rejected' WHEN h.r < 80 THEN 'cancelled' ELSE 'completed' END
              END AS status) AS s
            CROSS JOIN LATERAL (SELECT CASE WHEN g %% 100 < 5 THEN 'hard_stop' WHEN g %% 100 < 25 THEN 'warning'
                WHEN g %% 100 < 35 THEN 'info' ELSE '' END AS level) AS fl
            CROSS JOIN LATERAL (SELECT now() - ((%s - g)::float8 / %s * 730) * interval '1 day' AS at) AS t
            """,  # noqa: S608 - only constants of this script are formatted in; values go as parameters
            [pharmacist.pk, rows, patient_count, rows, rows, rows],
        )
        inserted = time.perf_counter() - started
    # VACUUM (outside a transaction) sets the visibility map as autovacuum would in production, so
    # counts can be index-only scans; ANALYZE gives the planner the statistics.
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE intake_prescription")
        cursor.execute("VACUUM ANALYZE intake_patient")
        cursor.execute("SELECT reference FROM intake_prescription WHERE status = 'pending_review' ORDER BY id LIMIT 1")
        reference = cursor.fetchone()[0]
        cursor.execute("SELECT pg_size_pretty(pg_total_relation_size('intake_prescription'))")
        size = cursor.fetchone()[0]
    return {"pharmacist": pharmacist, "technician": technician, "reference": reference, "patients": patient_count,
            "insert_seconds": inserted, "table_size": size}  # fmt: skip


def timed(call: Callable[[], Any], repeat: int) -> tuple[float, Any]:
    call()  # warm the cache and the connection
    samples = []
    result = None
    for _ in range(repeat):
        started = time.perf_counter()
        result = call()
        samples.append((time.perf_counter() - started) * 1000)
    return statistics.median(samples), result


def plan_lines(queryset: Any) -> list[str]:
    plan = queryset.explain(analyze=True)
    wanted = ("Scan", "Sort", "Limit", "Aggregate", "Join", "Nested", "Execution")
    return [line.strip() for line in plan.splitlines() if any(word in line for word in wanted)]


def run(args: argparse.Namespace) -> None:
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection, transaction
    from django.db.models import Count

    from intake.models import Prescription
    from intake.queue import WORK_STATUSES, QueueFilter, queue_base, queue_counts, queue_for_staff
    from intake.services.workflow import prescription_claim_next

    print(f"Migrating the scratch database {connection.settings_dict['NAME']} ...", flush=True)
    call_command("migrate", verbosity=0)
    print(f"Inserting {args.rows:,} prescriptions ...", flush=True)
    facts = populate(args.rows)
    pharmacist = facts["pharmacist"]
    print(f"  inserted in {facts['insert_seconds']:.1f} s; {facts['patients']:,} patients; "
          f"intake_prescription is {facts['table_size']}\n")  # fmt: skip

    with connection.cursor() as cursor:
        cursor.execute("SELECT status, count(*) FROM intake_prescription GROUP BY status ORDER BY 2 DESC")
        print("Rows per status: " + ", ".join(f"{s} {n:,}" for s, n in cursor.fetchall()) + "\n")

    def page(**params: str) -> Callable[[], list[Any]]:
        return lambda: queue_for_staff(user=pharmacist, params=params)[1].rows

    def filtered(**params: str) -> Any:
        return QueueFilter(params, queryset=queue_base(), user=pharmacist).qs[:26]

    counts_query = Prescription.objects.filter(status__in=WORK_STATUSES).values("status").annotate(n=Count("id"))
    cases: list[tuple[str, Callable[[], Any], Any]] = [
        ("counts per status (one GROUP BY)", queue_counts, counts_query.order_by())
    ]
    for status in ("pending_review", "in_review", "approved", "compounding", "ready", "shipped"):
        cases.append((f"first page, {status}", page(status=status), filtered(status=status)))
    cases += [
        ("page 40, pending_review (OFFSET 975)", page(status="pending_review", page="40"), None),
        ("pending + oral_liquid", page(status="pending_review", dosage_form="oral_liquid"),
         filtered(status="pending_review", dosage_form="oral_liquid")),
        ("pending + flag warning", page(status="pending_review", flag_level="warning"),
         filtered(status="pending_review", flag_level="warning")),
        ("pending + older than 2 days", page(status="pending_review", age="2"),
         filtered(status="pending_review", age="2")),
        ("pending + rush", page(status="pending_review", rush="on"), filtered(status="pending_review", rush="on")),
        ("search by reference", page(q=facts["reference"]), filtered(q=facts["reference"])),
        ("search by last name (Smithaa)", page(q="Smithaa"), filtered(q="Smithaa")),
        ("search by full name (Grace Smithaa)", page(q="Grace Smithaa"), filtered(q="Grace Smithaa")),
    ]  # fmt: skip

    print(f"{'query':45} {'median ms':>10} {'rows':>6}")
    plans: list[tuple[str, list[str]]] = []
    for label, call, queryset in cases:
        ms, result = timed(call, args.repeat)
        count = len(result) if hasattr(result, "__len__") else "-"
        print(f"{label:45} {ms:10.2f} {count!s:>6}")
        if queryset is not None and args.explain:
            plans.append((label, plan_lines(queryset)))

    ms, claimed = timed(lambda: prescription_claim_next(actor=pharmacist), args.repeat)
    print(f"{'claim next (SKIP LOCKED + transition)':45} {ms:10.2f} {'1' if claimed else '0':>6}")
    if args.explain:
        with transaction.atomic():
            candidate = (
                Prescription.objects.select_for_update(skip_locked=True)
                .filter(status="pending_review", claimed_by__isnull=True)
                .order_by("submitted_at", "id")
                .values_list("pk", flat=True)[:1]
            )
            plans.append(("claim next: candidate", plan_lines(candidate)))
        print("\nPlans (EXPLAIN ANALYZE, the lines that show the access path):")
        for label, lines in plans:
            print(f"- {label}")
            for line in lines:
                print(f"    {line}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=1_000_000, help="prescriptions to insert (default 1,000,000)")
    parser.add_argument("--database", default="ldn_queue_bench", help="scratch database name (dropped first)")
    parser.add_argument("--repeat", type=int, default=7, help="timed runs per query (median shown)")
    parser.add_argument("--no-explain", dest="explain", action="store_false", help="skip the EXPLAIN plans")
    parser.add_argument("--keep", action="store_true", help="keep the scratch database afterwards")
    args = parser.parse_args()

    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith(("postgres://", "postgresql://")):
        sys.exit("Set DATABASE_URL to a PostgreSQL server, e.g. postgres://postgres@127.0.0.1:5432/postgres")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "pharmacy.settings")
    recreate_database(url, args.database)
    os.environ["DATABASE_URL"] = scratch_url(url, args.database)
    try:
        run(args)
    finally:
        if not args.keep:
            from django.db import connections

            connections.close_all()
            drop_database(url, args.database)


if __name__ == "__main__":
    main()
