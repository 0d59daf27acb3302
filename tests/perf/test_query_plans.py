"""The queue's queries are served by its partial indexes, also from a prepared statement's generic plan.

On PostgreSQL the application's statements are prepared (pharmacy.settings: server-side binding).
After a few runs PostgreSQL may plan a statement once for any parameters, and such a plan can use a
partial index only if the query's own text implies the index's condition. Each query is taken as
the application sends it, prepared, and explained with the generic plan forced and sequential
scans priced out: the plan uses the partial index only if it can. On SQLite the plan is the one
`EXPLAIN QUERY PLAN` gives.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta

import pytest
from django.core.cache import cache
from django.db import connection
from django.urls import reverse
from django.utils import timezone
from psycopg import sql as pg_sql

from intake.models import Prescription, PrescriptionStatus
from intake.queue import COUNTS_CACHE_KEY, Cursor, queue_counts
from intake.services.workflow import prescription_claim_next

S = PrescriptionStatus
Statement = tuple[str, tuple[object, ...]]


def statements_of(run: Callable[[], object]) -> list[Statement]:
    """The SQL and parameters of every statement `run` sends, as the application sends them."""
    sent: list[Statement] = []

    def capture(execute, sql, params, many, context):
        sent.append((sql, tuple(params or ())))
        return execute(sql, params, many, context)

    with connection.execute_wrapper(capture):
        run()
    return sent


def the_one(statements: list[Statement], pattern: str) -> Statement:
    matching = [statement for statement in statements if re.search(pattern, statement[0])]
    assert len(matching) == 1, [sql for sql, _ in statements]
    return matching[0]


def plan_of(statement: Statement) -> str:
    sql, params = statement
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute(f"EXPLAIN QUERY PLAN {sql}", params)
            return "\n".join(str(row[-1]) for row in cursor.fetchall())
        numbers = iter(range(1, len(params) + 1))
        prepared = re.sub("%s", lambda _: f"${next(numbers)}", sql)
        literals = ", ".join(pg_sql.Literal(value).as_string(cursor.connection) for value in params)
        cursor.execute("SET LOCAL plan_cache_mode = force_generic_plan")
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute(f"PREPARE plan_check AS {prepared}")
        try:
            cursor.execute(f"EXPLAIN EXECUTE plan_check({literals})" if params else "EXPLAIN EXECUTE plan_check")
            return "\n".join(row[0] for row in cursor.fetchall())
        finally:
            cursor.execute("DEALLOCATE plan_check")


QUEUE_SELECT = r'FROM "intake_prescription".*ORDER BY .* LIMIT 51'  # the page: 50 rows and one to know of a next


@pytest.mark.parametrize(
    "filters",
    [
        {"status": S.PENDING_REVIEW},
        {"status": S.APPROVED, "flag_level": "warning"},
        {"status": S.COMPOUNDING, "dosage_form": "capsule"},
        {"status": S.IN_REVIEW, "rush": "true"},
    ],
    ids=["status", "flag", "dosage-form", "rush"],
)
def test_a_queue_page_reads_an_open_status_partial_index(client, login, pharmacist, filters):
    login(client, pharmacist)

    statements = statements_of(lambda: client.get(reverse("staff:queue"), filters))

    plan = plan_of(the_one(statements, QUEUE_SELECT))
    assert re.search(r"rx_queue_open\w*_idx", plan), plan


@pytest.mark.parametrize("direction", ["after", "before"])
def test_a_deep_queue_page_reads_the_index_in_order_from_its_cursor(client, login, pharmacist, direction):
    # A keyset page is one range of the index, read in the queue's order, not rows gathered from
    # elsewhere and sorted. (The misestimate that made PostgreSQL sort shows only at a million rows.)
    login(client, pharmacist)
    cursor = str(Cursor(submitted_at=timezone.now() - timedelta(days=3), pk=1_000))

    statements = statements_of(lambda: client.get(reverse("staff:queue"), {"status": S.PENDING_REVIEW,
                                                                           direction: cursor}))  # fmt: skip

    plan = plan_of(the_one(statements, r"[<>] \(%s, %s\).* LIMIT 51"))  # the page from the cursor
    assert re.search(r"rx_queue_open_idx", plan), plan
    assert not re.search(r"BitmapOr|Sort|TEMP B-TREE", plan), plan


def test_the_tab_counts_come_from_an_open_status_partial_index(db):
    cache.delete(COUNTS_CACHE_KEY)

    plan = plan_of(the_one(statements_of(queue_counts), r"COUNT\("))

    assert re.search(r"rx_queue_open\w*_idx", plan), plan


def test_next_prescription_reads_a_partial_index(pharmacist):
    sent = statements_of(lambda: prescription_claim_next(actor=pharmacist))

    statement = the_one(sent, r'"claimed_by_id" IS NULL.* LIMIT 1')
    plan = plan_of(statement)
    if connection.vendor == "sqlite":
        # Without statistics SQLite's planner prefers the claimed_by index for `IS NULL`, which
        # serves a development database as well.
        assert "USING INDEX" in plan, plan
    else:
        assert re.search(r"rx_(next_unclaimed|queue_open)_idx", plan), plan
    assert not Prescription.objects.exists()  # nothing to claim: the plan, not the claim, is under test


@pytest.mark.postgres
@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's generic plans and statistics")
def test_a_rare_status_keeps_its_index_when_another_status_holds_most_rows(client, login, pharmacist, prescriber):
    # given: the statuses as uneven as a busy pharmacy's: thousands waiting for their questionnaire,
    # a few dozen for review, and the statistics PostgreSQL plans from
    from tests.factories import make_prescription

    template = make_prescription(prescriber)
    columns = [f.column for f in Prescription._meta.concrete_fields if f.column not in ("id", "reference",
               "questionnaire_token", "status", "submitted_at")]  # fmt: skip
    listed = ", ".join(f'"{column}"' for column in columns)
    with connection.cursor() as cursor:
        cursor.execute(
            f"""INSERT INTO intake_prescription ({listed}, reference, questionnaire_token, status, submitted_at)
                SELECT {listed}, 'RX-' || lpad(to_hex(n), 7, '0'), md5(n::text),
                       CASE WHEN n %% 200 = 0 THEN 'pending_review' ELSE 'awaiting_questionnaire' END,
                       submitted_at - n * interval '1 minute'
                FROM intake_prescription, generate_series(1, 6000) AS n WHERE id = %s""",  # noqa: S608
            [template.pk],
        )
        cursor.execute("ANALYZE intake_prescription")
    login(client, pharmacist)

    # when: the pending-review page, as a prepared statement's generic plan would run it
    statements = statements_of(lambda: client.get(reverse("staff:queue"), {"status": S.PENDING_REVIEW}))
    sql, params = the_one(statements, QUEUE_SELECT)
    with connection.cursor() as cursor:
        numbers = iter(range(1, len(params) + 1))
        prepared = re.sub("%s", lambda _: f"${next(numbers)}", sql)
        literals = ", ".join(pg_sql.Literal(value).as_string(cursor.connection) for value in params)
        cursor.execute("SET LOCAL plan_cache_mode = force_generic_plan")
        cursor.execute(f"PREPARE rare_status AS {prepared}")
        cursor.execute(f"EXPLAIN EXECUTE rare_status({literals})" if params else "EXPLAIN EXECUTE rare_status")
        plan = "\n".join(row[0] for row in cursor.fetchall())
        cursor.execute("DEALLOCATE rare_status")

    # then: straight to that status in the open-status index, not a walk of every row by date
    assert re.search(r"rx_queue_open_idx.*\n.*Index Cond: .*'pending_review'", plan), plan
