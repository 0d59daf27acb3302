"""The demo's past prescriptions: real submissions with a believable history, and a dashboard to show."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.models import User
from intake.management.demo_history import demo_history_create
from intake.models import Prescriber, Prescription, PrescriptionEvent, PrescriptionStatus
from intake.web.staff.figures import dashboard_figures

S = PrescriptionStatus


@pytest.fixture
def demo(prescriber: Prescriber, pharmacist: User) -> list[Prescription]:
    return demo_history_create(prescriber=prescriber, weeks=4, per_week=6, seed=7, pharmacist=pharmacist)


def test_creates_weeks_of_prescriptions_in_many_statuses(demo: list[Prescription]) -> None:
    now = timezone.now()
    rows = list(Prescription.objects.filter(pk__in=[p.pk for p in demo]))

    assert len(rows) == 24
    assert all(now - timedelta(weeks=4) <= p.submitted_at < now for p in rows)
    statuses = {p.status for p in rows}
    assert len(statuses) >= 4
    assert S.COMPLETED in statuses


def test_timestamps_follow_the_workflow(demo: list[Prescription]) -> None:
    for p in Prescription.objects.filter(pk__in=[p.pk for p in demo]).prefetch_related("events"):
        events = list(p.events.all())
        assert events[0].action == "submit"
        assert events[0].created_at == p.submitted_at
        assert [e.created_at for e in events] == sorted(e.created_at for e in events)
        assert events[-1].to_status == p.status
        if p.ready_at is not None:
            assert p.submitted_at < p.ready_at
        if p.shipped_at is not None:
            assert p.ready_at < p.shipped_at
            assert p.tracking_number
        assert p.status != S.IN_REVIEW or p.claimed_by_id is not None
        # The signature's time moved with the history, and the digest with it.
        assert not p.is_altered


def test_same_seed_same_history(prescriber: Prescriber, pharmacist: User) -> None:
    first = demo_history_create(prescriber=prescriber, weeks=1, per_week=4, seed=3, pharmacist=pharmacist)
    second = demo_history_create(prescriber=prescriber, weeks=1, per_week=4, seed=3, pharmacist=pharmacist)

    def shape(rows: list[Prescription]) -> list[tuple[str, str]]:
        fresh = Prescription.objects.in_bulk([p.pk for p in rows])
        return [(fresh[p.pk].status, fresh[p.pk].dosage_form) for p in rows]

    assert shape(first) == shape(second)


def test_dashboard_has_something_to_show(demo: list[Prescription]) -> None:
    figures = dashboard_figures()

    assert not figures.is_empty
    assert figures.status_total == 24
    assert figures.has_turnaround
    assert sum(w.submitted for w in figures.weeks) == 24
    assert PrescriptionEvent.objects.filter(action="questionnaire").exists()
