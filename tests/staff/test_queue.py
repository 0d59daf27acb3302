from datetime import timedelta

import pytest
from django.core.cache import cache
from django.urls import reverse
from django.utils import timezone

from intake.models import AuditRecord, Prescription, PrescriptionStatus
from intake.queue import COUNTS_CACHE_KEY, PAGE_SIZE, QueueFilter, queue_base, queue_counts, queue_for_staff, queue_page
from intake.services.workflow import prescription_claim
from tests.factories import clean_answers, make_prescription
from tests.workflow_helpers import advance

S = PrescriptionStatus


def pending(prescriber, pharmacist, technician, *, patient=None, answers=None, **content):
    prescription = make_prescription(prescriber, patient=patient, **content)
    return advance(prescription, S.PENDING_REVIEW, pharmacist=pharmacist, technician=technician, answers=answers)


def submitted_days_ago(prescription, days):
    Prescription.objects.filter(pk=prescription.pk).update(submitted_at=timezone.now() - timedelta(days=days))


def listed(user, **params):
    _filter, page = queue_for_staff(user=user, params=params)
    return [row.reference for row in page.rows]


def test_counts_per_status_in_one_query(prescriber, pharmacist, technician, django_assert_num_queries):
    pending(prescriber, pharmacist, technician)
    pending(prescriber, pharmacist, technician, patient={"first_name": "Bo"})
    advance(make_prescription(prescriber, patient={"first_name": "Cy"}), S.APPROVED, pharmacist=pharmacist,
            technician=technician)  # fmt: skip
    make_prescription(prescriber, patient={"first_name": "Di"})

    with django_assert_num_queries(1):
        counts = queue_counts()

    assert counts[S.PENDING_REVIEW] == 2
    assert counts[S.APPROVED] == 1
    assert counts[S.AWAITING_QUESTIONNAIRE] == 1
    assert counts[S.COMPOUNDING] == 0


def test_a_status_change_shows_in_the_counts_at_once(prescriber, pharmacist, technician,
                                                     django_capture_on_commit_callbacks):  # fmt: skip
    waiting = pending(prescriber, pharmacist, technician)
    assert queue_counts()[S.PENDING_REVIEW] == 1  # now cached

    with django_capture_on_commit_callbacks(execute=True):
        prescription_claim(prescription_id=waiting.pk, actor=pharmacist)

    counts = queue_counts()
    assert (counts[S.PENDING_REVIEW], counts[S.IN_REVIEW]) == (0, 1)


def test_a_new_prescription_keeps_the_cached_counts_until_they_expire(prescriber,
                                                                       django_capture_on_commit_callbacks):  # fmt: skip
    # An EHR's burst of submissions must not make every pharmacist's next page count the open rows again.
    assert queue_counts()[S.AWAITING_QUESTIONNAIRE] == 0  # now cached

    with django_capture_on_commit_callbacks(execute=True):
        make_prescription(prescriber)

    assert queue_counts()[S.AWAITING_QUESTIONNAIRE] == 0
    cache.delete(COUNTS_CACHE_KEY)  # QUEUE_COUNTS_SECONDS later
    assert queue_counts()[S.AWAITING_QUESTIONNAIRE] == 1


def test_default_queue_is_pending_review_oldest_first(prescriber, pharmacist, technician):
    newer = pending(prescriber, pharmacist, technician, patient={"first_name": "Newer"})
    older = pending(prescriber, pharmacist, technician, patient={"first_name": "Older"})
    submitted_days_ago(older, 3)
    make_prescription(prescriber, patient={"first_name": "Waiting"})  # awaiting questionnaire: not listed

    assert listed(pharmacist) == [older.reference, newer.reference]


def test_filters_by_dosage_form_flag_level_rush_and_age(prescriber, pharmacist, technician):
    capsule = pending(prescriber, pharmacist, technician, patient={"first_name": "Cap"})
    liquid = pending(prescriber, pharmacist, technician, patient={"first_name": "Liq"}, dosage_form="oral_liquid",
                     titration=())  # fmt: skip
    flagged = pending(prescriber, pharmacist, technician, patient={"first_name": "Flag"},
                      answers=clean_answers(current_medications=["Norco 5/325"]))  # fmt: skip
    rush = pending(prescriber, pharmacist, technician, patient={"first_name": "Rush"}, rush=True)
    submitted_days_ago(capsule, 3)

    assert listed(pharmacist, status=S.PENDING_REVIEW, dosage_form="oral_liquid") == [liquid.reference]
    assert listed(pharmacist, status=S.PENDING_REVIEW, flag_level="hard_stop") == [flagged.reference]
    assert flagged.reference not in listed(pharmacist, status=S.PENDING_REVIEW, flag_level="none")
    assert listed(pharmacist, status=S.PENDING_REVIEW, rush="on") == [rush.reference]
    assert listed(pharmacist, status=S.PENDING_REVIEW, age="2") == [capsule.reference]


def test_filter_claimed_by_me_and_unclaimed(prescriber, pharmacist, technician):
    mine = advance(make_prescription(prescriber, patient={"first_name": "Mine"}), S.IN_REVIEW,
                   pharmacist=pharmacist, technician=technician)  # fmt: skip
    assert listed(pharmacist, status=S.IN_REVIEW, claimed="mine") == [mine.reference]
    assert listed(technician, status=S.IN_REVIEW, claimed="mine") == []
    assert listed(technician, status=S.IN_REVIEW, claimed="others") == [mine.reference]


@pytest.mark.parametrize(
    "query", ["Lovelace", "lovelace", "Ada Lovelace", "Lovelace, Ada", "LOVEL", "lovelace ada", "Lövelace"]
)
def test_search_by_patient_name_across_statuses(query, prescriber, pharmacist, technician):
    ada = advance(make_prescription(prescriber), S.APPROVED, pharmacist=pharmacist, technician=technician)
    other = pending(prescriber, pharmacist, technician, patient={"first_name": "Grace", "last_name": "Hopper"})

    found = listed(pharmacist, q=query)

    assert ada.reference in found
    assert other.reference not in found


@pytest.mark.parametrize("form", ["full", "lower", "no prefix"])
def test_search_by_reference(form, prescriber, pharmacist, technician):
    target = pending(prescriber, pharmacist, technician)
    # Without "RX-" a search is taken as a reference when it holds a digit (a name does not).
    Prescription.objects.filter(pk=target.pk).update(reference="RX-AB12CD3")
    pending(prescriber, pharmacist, technician, patient={"first_name": "Other"})
    query = {"full": "RX-AB12CD3", "lower": "rx-ab12cd3", "no prefix": "AB12CD3"}[form]

    assert listed(pharmacist, q=query) == ["RX-AB12CD3"]


def test_unknown_status_is_a_form_error_not_a_crash(pharmacist):
    queue_filter, page = queue_for_staff(user=pharmacist, params={"status": "nonsense"})

    assert "status" in queue_filter.form.errors
    assert page.rows == []


def test_page_fetches_one_row_more_instead_of_counting(prescriber, pharmacist, technician, django_assert_num_queries):
    for n in range(3):
        pending(prescriber, pharmacist, technician, patient={"first_name": f"P{n}"})
    queryset = QueueFilter({"status": S.PENDING_REVIEW}, queryset=queue_base()).qs

    with django_assert_num_queries(1) as captured:
        first = queue_page(queryset, page_size=2)
    second = queue_page(queryset, after=first.next_cursor, page_size=2)
    back = queue_page(queryset, before=second.previous_cursor, page_size=2)

    assert "COUNT(" not in captured.captured_queries[0]["sql"].upper()
    assert "LIMIT 3" in captured.captured_queries[0]["sql"].upper()
    assert (len(first.rows), first.has_next, first.has_previous) == (2, True, False)
    assert (len(second.rows), second.has_next, second.has_previous) == (1, False, True)
    assert [row.pk for row in back.rows] == [row.pk for row in first.rows]


def test_queue_page_renders_rows_with_a_bounded_number_of_queries(
    client, login, prescriber, pharmacist, technician, django_assert_max_num_queries
):
    for n in range(PAGE_SIZE + 3):
        pending(prescriber, pharmacist, technician, patient={"first_name": f"Pat{n}"},
                answers=clean_answers(pregnancy="planning") if n % 2 else None)  # fmt: skip
    advance(make_prescription(prescriber, patient={"first_name": "Claimed"}), S.IN_REVIEW, pharmacist=pharmacist,
            technician=technician)  # fmt: skip
    login(client, technician)

    with django_assert_max_num_queries(10):
        response = client.get(reverse("staff:queue"))

    assert response.status_code == 200
    body = response.content.decode()
    assert body.count('href="/pharmacy/prescriptions/') == PAGE_SIZE
    assert "flag-warning" in body
    assert "after=" in body  # the next page's keyset cursor
    assert 'hx-trigger="every 30s"' in body
    assert AuditRecord.objects.filter(actor=technician, action="list").exists()


def test_queue_page_shows_who_claimed_what(client, login, prescriber, pharmacist, technician):
    advance(make_prescription(prescriber), S.IN_REVIEW, pharmacist=pharmacist, technician=technician)
    login(client, technician)

    response = client.get(reverse("staff:queue"), {"status": S.IN_REVIEW})

    assert "Paula Pharmacist" in response.content.decode()


def test_counts_partial_for_htmx(client, login, prescriber, pharmacist, technician):
    pending(prescriber, pharmacist, technician)
    login(client, pharmacist)

    response = client.get(reverse("staff:queue_counts"), HTTP_HX_REQUEST="true")

    body = response.content.decode()
    assert response.status_code == 200
    assert 'data-status-count="pending_review">1<' in body
    assert 'hx-trigger="every 30s"' in body
    assert "<html" not in body


def test_next_prescription_button_claims_the_oldest_unclaimed(client, login, prescriber, pharmacist, technician):
    newer = pending(prescriber, pharmacist, technician, patient={"first_name": "Newer"})
    older = pending(prescriber, pharmacist, technician, patient={"first_name": "Older"})
    submitted_days_ago(older, 1)
    login(client, technician)

    response = client.post(reverse("staff:claim_next"))

    assert response.status_code == 302
    assert response["Location"] == reverse("staff:review", args=[older.pk])
    older.refresh_from_db()
    newer.refresh_from_db()
    assert (older.status, older.claimed_by) == (S.IN_REVIEW, technician)
    assert newer.status == S.PENDING_REVIEW


def test_next_prescription_with_an_empty_queue_says_so(client, login, pharmacist):
    login(client, pharmacist)

    response = client.post(reverse("staff:claim_next"), follow=True)

    assert response.status_code == 200
    assert "Nothing is waiting for review." in response.content.decode()


def test_counts_are_cached_and_forgotten_when_a_status_change_commits(
    prescriber, pharmacist, technician, django_assert_num_queries, django_capture_on_commit_callbacks
):
    # given: counted once
    waiting = pending(prescriber, pharmacist, technician)
    assert queue_counts()[S.PENDING_REVIEW] == 1

    # then: read again from the cache, no query
    with django_assert_num_queries(0):
        assert queue_counts()[S.PENDING_REVIEW] == 1

    # when: a claim commits
    with django_capture_on_commit_callbacks(execute=True):
        prescription_claim(prescription_id=waiting.pk, actor=pharmacist)

    # then: counted afresh
    counts = queue_counts()
    assert (counts[S.PENDING_REVIEW], counts[S.IN_REVIEW]) == (0, 1)
