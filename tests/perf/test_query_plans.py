"""The queue's queries read the status-led indexes, in the queue's order, as PostgreSQL runs them.

On PostgreSQL the application's statements are prepared (pharmacy.settings: server-side binding), and
planned for each run's own values (plan_cache_mode): a plan made once for any status cannot tell a
status held by a few dozen rows from one held by thousands. Each query is taken as the application
sends it, prepared, and explained with its values, as the connection would run it.
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

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's prepared statements and plans"),
]

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


def plan_of(statement: Statement, *, analyze: bool = False, seqscan: bool = False) -> str:
    """The plan of the statement prepared and executed with its parameters. `seqscan=False` prices
    sequential scans out, for the few rows of a test's tables, which are read whole more cheaply."""
    sql, params = statement
    with connection.cursor() as cursor:
        numbers = iter(range(1, len(params) + 1))
        prepared = re.sub("%s", lambda _: f"${next(numbers)}", sql)
        literals = ", ".join(pg_sql.Literal(value).as_string(cursor.connection) for value in params)
        if not seqscan:
            cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute(f"PREPARE plan_check AS {prepared}")
        try:
            explain = "EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF)" if analyze else "EXPLAIN (COSTS OFF)"
            cursor.execute(f"{explain} EXECUTE plan_check({literals})" if params else f"{explain} EXECUTE plan_check")
            return "\n".join(row[0] for row in cursor.fetchall())
        finally:
            cursor.execute("DEALLOCATE plan_check")
            cursor.execute("RESET enable_seqscan")


def scan_of(plan: str, index: str) -> str:
    """The lines of the plan's scan of `index` (the node and its conditions)."""
    node = rf"(Index (Only )?Scan( Backward)? using {index} on intake_prescription|Bitmap Index Scan on {index})"
    match = re.search(rf"{node}.*\n(( +[A-Z][^\n]*\n?)*)", plan)
    assert match, plan
    return match[0]


@pytest.fixture
def uneven_statuses(prescriber, pharmacist) -> list[int]:
    """6,000 prescriptions as uneven as a busy pharmacy's: thousands waiting for their questionnaire,
    300 for review (every twentieth), a few dozen in each other step, some flagged, some rush, in
    every dosage form; with the statistics PostgreSQL plans from. Their ids, oldest first."""
    from tests.factories import make_prescription

    template = make_prescription(prescriber)
    varied = ("status", "flag_level", "dosage_form", "rush", "claimed_by_id")
    columns = [f.column for f in Prescription._meta.concrete_fields if f.column not in ("id", "reference",
               "questionnaire_token", "submitted_at", *varied)]  # fmt: skip
    listed = ", ".join(f'"{column}"' for column in columns)
    with connection.cursor() as cursor:
        cursor.execute(
            f"""INSERT INTO intake_prescription ({listed}, reference, questionnaire_token, submitted_at,
                                                 status, flag_level, dosage_form, rush, claimed_by_id)
                SELECT {listed}, 'RX-' || lpad(to_hex(n), 7, '0'), md5(n::text), submitted_at - n * interval '1 minute',
                       CASE WHEN n %% 20 = 0 THEN 'pending_review' WHEN n %% 100 = 1 THEN 'approved'
                            WHEN n %% 100 = 2 THEN 'compounding' WHEN n %% 100 = 3 THEN 'in_review'
                            WHEN n %% 100 = 4 THEN 'completed' ELSE 'awaiting_questionnaire' END,
                       CASE WHEN n %% 7 = 0 THEN 'warning' ELSE '' END,
                       (ARRAY['capsule', 'oral_liquid', 'sublingual_drops', 'topical_cream'])[1 + n %% 4],
                       n %% 9 = 0, CASE WHEN n %% 100 = 3 THEN %s END
                FROM intake_prescription, generate_series(1, 6000) AS n WHERE id = %s""",  # noqa: S608
            [pharmacist.pk, template.pk],
        )
        cursor.execute("ANALYZE intake_prescription")
    return list(Prescription.objects.exclude(pk=template.pk).order_by("submitted_at").values_list("pk", flat=True))


QUEUE_SELECT = r'FROM "intake_prescription".*ORDER BY .* LIMIT 51'  # the page: 50 rows and one to know of a next
KEYSET_SELECT = r'"submitted_at" [<>]= %s AND .* LIMIT 51'  # the page from a cursor


def equals(column: str, value: str) -> str:
    """A condition of a plan's index scan, as EXPLAIN writes it."""
    return rf"\({column}\)::text = '{value}'::text"


@pytest.mark.parametrize(
    ("filters", "index", "condition"),
    [
        ({"status": S.PENDING_REVIEW}, "rx_queue_idx", equals("status", S.PENDING_REVIEW)),
        ({"status": S.APPROVED, "flag_level": "warning"}, "rx_queue_flag_idx",
         rf"{equals('status', S.APPROVED)}\) AND \({equals('flag_level', 'warning')}"),
        ({"status": S.COMPOUNDING, "dosage_form": "capsule"}, "rx_queue_form_idx",
         rf"{equals('status', S.COMPOUNDING)}\) AND \({equals('dosage_form', 'capsule')}"),
        ({"status": S.IN_REVIEW, "rush": "true"}, "rx_queue_rush_idx", equals("status", S.IN_REVIEW)),
    ],
    ids=["status", "flag", "dosage-form", "rush"],
)  # fmt: skip
def test_a_queue_page_reads_its_status_led_index_in_order(client, login, pharmacist, uneven_statuses, filters, index,
                                                          condition):  # fmt: skip
    login(client, pharmacist)

    statements = statements_of(lambda: client.get(reverse("staff:queue"), filters))

    plan = plan_of(the_one(statements, QUEUE_SELECT))
    assert re.search(rf"Index Cond: \(+{condition}\)", scan_of(plan, index)), plan
    assert not re.search(r"Sort|Filter", plan), plan  # every condition in the index, the order the index's own


@pytest.mark.parametrize(("direction", "operator"), [("after", ">="), ("before", "<=")])
def test_a_deep_queue_page_reads_the_index_from_its_cursor(client, login, pharmacist, uneven_statuses, direction,
                                                           operator):  # fmt: skip
    # A keyset page is one range of the index, from the cursor's status and time on, read in the
    # queue's order (backwards for the page before): not every row of the status checked against the
    # cursor, nor rows gathered from two ranges (a BitmapOr) and sorted.
    login(client, pharmacist)
    cursor = str(Cursor(submitted_at=timezone.now() - timedelta(days=3), pk=1_000))

    statements = statements_of(lambda: client.get(reverse("staff:queue"), {"status": S.PENDING_REVIEW,
                                                                           direction: cursor}))  # fmt: skip

    plan = plan_of(the_one(statements, KEYSET_SELECT))
    scan = scan_of(plan, "rx_queue_idx")
    assert re.search(rf"Index Cond: \(\({equals('status', S.PENDING_REVIEW)}\) AND \(submitted_at {operator} ",
                     scan), plan  # fmt: skip
    assert ("Backward" in scan) == (direction == "before"), plan
    assert not re.search(r"BitmapOr|Sort", plan), plan


def test_the_tab_counts_come_from_a_status_led_index(uneven_statuses):
    cache.delete(COUNTS_CACHE_KEY)

    plan = plan_of(the_one(statements_of(queue_counts), r"COUNT\("))

    # (Which of the status-led indexes, and whether from the index alone, follows the table's statistics.)
    assert re.search(r"Index Cond: \(\(status\)::text = ANY", scan_of(plan, r"rx_queue\w*_idx")), plan


def test_next_prescription_reads_the_oldest_pending_one_from_the_queue_index(pharmacist, uneven_statuses):
    oldest = Prescription.objects.filter(status=S.PENDING_REVIEW).order_by("submitted_at", "id").first()
    claimed = []

    sent = statements_of(lambda: claimed.append(prescription_claim_next(actor=pharmacist)))

    plan = plan_of(the_one(sent, r'"claimed_by_id" IS NULL.* LIMIT 1'))
    assert re.search(rf"Index Cond: \({equals('status', S.PENDING_REVIEW)}\)", scan_of(plan, "rx_queue_idx")), plan
    assert "Sort" not in plan, plan
    assert claimed[0].pk == oldest.pk


def test_prepared_statements_are_planned_for_their_own_values(db):
    # A plan made once for any status walked the date index for a rare one, row by row (see below).
    with connection.cursor() as cursor:
        cursor.execute("SHOW plan_cache_mode")
        assert cursor.fetchone() == ("force_custom_plan",)


def page_statement(client, params: dict[str, str], pattern: str) -> Statement:
    return the_one(statements_of(lambda: client.get(reverse("staff:queue"), params)), pattern)


def test_a_rare_status_keeps_its_index_when_another_status_holds_most_rows(client, login, pharmacist,
                                                                           uneven_statuses):  # fmt: skip
    login(client, pharmacist)

    plan = plan_of(page_statement(client, {"status": S.PENDING_REVIEW}, QUEUE_SELECT), analyze=True, seqscan=True)

    # straight to that status in the queue's index and 51 rows read, not a walk of every row by date
    scan = scan_of(plan, "rx_queue_idx")
    assert re.search(rf"Index Cond: \({equals('status', S.PENDING_REVIEW)}\)", scan), plan
    assert "(actual rows=51 loops=1)" in scan, plan
    assert not re.search(r"Rows Removed|Sort", plan), plan


@pytest.mark.parametrize("status", [S.PENDING_REVIEW, S.AWAITING_QUESTIONNAIRE])
def test_a_deep_page_reads_its_page_and_not_the_rows_before_it(client, login, pharmacist, uneven_statuses, status):
    # given: a cursor halfway down the status, the rare one or the one that holds most rows
    login(client, pharmacist)
    ids = Prescription.objects.filter(pk__in=uneven_statuses, status=status).order_by("submitted_at", "id")
    middle = ids[ids.count() // 2]

    plan = plan_of(page_statement(client, {"status": status, "after": str(Cursor.of(middle))}, KEYSET_SELECT),
                   analyze=True, seqscan=True)  # fmt: skip

    # then: an index is entered at the cursor and the page read (with the cursor's own row and, for the
    # crowded status, the few rows of other statuses between its rows), not the thousands before it
    scan = re.search(r"Index Scan using \w+ on intake_prescription \(actual rows=(\d+) loops=1\)\n(.*\n)*?.*"
                     r"Index Cond: .*submitted_at >= .*\n(?:.*Filter: .*\n)?(?:.*Rows Removed by Filter: (\d+))?",
                     plan)  # fmt: skip
    assert scan, plan
    assert int(scan[1]) <= 52 and int(scan[3] or 0) <= 5, plan
    assert not re.search(r"BitmapOr|->  Sort ", plan), plan  # at most an incremental sort of rows sharing a time
