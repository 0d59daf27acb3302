"""The queue's keyset pages: every row once, in order, forwards and back; bad cursors are harmless."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from intake.models import Prescription, PrescriptionStatus
from intake.queue import Cursor, QueueFilter, queue_base, queue_for_staff, queue_page

S = PrescriptionStatus


def pending_queryset():
    return QueueFilter({"status": S.PENDING_REVIEW}, queryset=queue_base()).qs


def test_walking_forwards_shows_every_row_once_in_order_even_with_equal_times(pending_many):
    made = pending_many(7)
    # Three share one submitted_at: the id settles their order.
    same = timezone.now() - timedelta(days=1)
    Prescription.objects.filter(pk__in=[rx.pk for rx in made[2:5]]).update(submitted_at=same)
    expected = list(pending_queryset().values_list("pk", flat=True))

    seen, after = [], None
    while True:
        page = queue_page(pending_queryset(), after=after, page_size=2)
        seen += [row.pk for row in page.rows]
        if not page.has_next:
            break
        after = page.next_cursor

    assert seen == expected


def test_walking_back_returns_each_page_walked_forwards_even_with_equal_times(pending_many):
    made = pending_many(7)
    # Five share one submitted_at, across three pages of two: the id settles their order both ways.
    same = timezone.now() - timedelta(days=1)
    Prescription.objects.filter(pk__in=[rx.pk for rx in made[1:6]]).update(submitted_at=same)
    forwards = [queue_page(pending_queryset(), page_size=2)]
    while forwards[-1].has_next:
        forwards.append(queue_page(pending_queryset(), after=forwards[-1].next_cursor, page_size=2))

    backwards = [forwards[-1]]
    while backwards[-1].has_previous:
        backwards.append(queue_page(pending_queryset(), before=backwards[-1].previous_cursor, page_size=2))

    assert [[row.pk for row in page.rows] for page in reversed(backwards)] == [
        [row.pk for row in page.rows] for page in forwards
    ]
    assert [row.pk for page in forwards for row in page.rows] == list(pending_queryset().values_list("pk", flat=True))


def test_a_cursor_splits_the_queue_where_its_row_stands(pending_many):
    # given: rows sharing one submitted_at, where only the id tells them apart
    made = pending_many(6)
    same = timezone.now() - timedelta(hours=5)
    Prescription.objects.filter(pk__in=[rx.pk for rx in made[1:5]]).update(submitted_at=same)
    ordered = list(pending_queryset().values_list("submitted_at", "pk"))

    for position, (submitted_at, pk) in enumerate(ordered):
        cursor = Cursor(submitted_at=submitted_at, pk=pk)

        # when / then: after() is every row past it, before() every row ahead of it, in the queue's order
        after = list(pending_queryset().filter(cursor.after()).values_list("submitted_at", "pk"))
        before = list(pending_queryset().filter(cursor.before()).values_list("submitted_at", "pk"))
        assert after == ordered[position + 1 :]
        assert before == ordered[:position]


def test_walking_back_returns_the_previous_pages(pending_many):
    pending_many(5)
    first = queue_page(pending_queryset(), page_size=2)
    second = queue_page(pending_queryset(), after=first.next_cursor, page_size=2)
    third = queue_page(pending_queryset(), after=second.next_cursor, page_size=2)

    back_to_second = queue_page(pending_queryset(), before=third.previous_cursor, page_size=2)
    back_to_first = queue_page(pending_queryset(), before=back_to_second.previous_cursor, page_size=2)

    assert [r.pk for r in back_to_second.rows] == [r.pk for r in second.rows]
    assert [r.pk for r in back_to_first.rows] == [r.pk for r in first.rows]
    assert (back_to_first.has_previous, third.has_next) == (False, False)


def test_a_cursor_reads_back_exactly():
    moment = timezone.now().replace(microsecond=123456)
    cursor = Cursor(submitted_at=moment, pk=42)

    assert Cursor.parse(str(cursor)) == cursor


@pytest.mark.parametrize("text", ["", "abc", "1.2.3", "99999999999999999999.1", "-1.x", "1;DROP TABLE", None])
def test_a_cursor_that_is_not_ours_shows_the_first_page(text, pending_many, pharmacist):
    pending_many(3)

    _filter, page = queue_for_staff(user=pharmacist, params={"status": S.PENDING_REVIEW, "after": text})

    assert len(page.rows) == 3
    assert page.has_previous is False


def test_the_queue_page_links_to_the_next_and_previous_pages(client, login, pending_many, pharmacist):
    from intake.queue import PAGE_SIZE

    pending_many(PAGE_SIZE + 2)
    login(client, pharmacist)

    first = client.get(reverse("staff:queue"), {"status": S.PENDING_REVIEW, "dosage_form": "capsule"}).content.decode()
    after = first.split("after=")[1].split('"')[0]
    second = client.get(f"{reverse('staff:queue')}?status=pending_review&dosage_form=capsule&after={after}")
    body = second.content.decode()

    assert 'rel="next"' in first and 'rel="prev"' not in first
    assert body.count('href="/pharmacy/prescriptions/') == 2
    assert 'rel="prev"' in body and "before=" in body
    assert "dosage_form=capsule" in body.split('rel="prev"')[0].rsplit("<a", 1)[1]  # the filters are kept
