"""The offered dosage forms, which every submission checks, are read once per process a while."""

from __future__ import annotations

import pytest
from django.db import transaction

from intake.models import DosageForm
from intake.models.formulary import dosage_forms_offered_forget

pytestmark = pytest.mark.django_db


def test_the_offered_forms_are_the_active_ones_with_whether_a_unit_is_a_dose():
    offered = DosageForm.objects.offered()

    assert offered == dict(DosageForm.objects.filter(active=True).values_list("code", "unit_dose"))
    assert offered["capsule"] is True and offered["oral_liquid"] is False


def test_they_are_read_once_and_again_after_a_change_saved_here(
    django_assert_num_queries, django_capture_on_commit_callbacks
):
    DosageForm.objects.offered()
    with django_assert_num_queries(0):
        assert "topical_cream" in DosageForm.objects.offered()

    # when: the pharmacy withdraws a form through the model (the admin's way)
    cream = DosageForm.objects.get(code="topical_cream")
    cream.active = False
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        cream.save()

    # then: this process reads the formulary again
    assert "topical_cream" not in DosageForm.objects.offered()


def test_another_process_change_is_seen_once_the_cache_time_is_over(settings):
    DosageForm.objects.offered()
    DosageForm.objects.filter(code="sublingual_drops").update(active=False)  # as another process would
    assert "sublingual_drops" in DosageForm.objects.offered()  # still the copy read before

    settings.FORMULARY_CACHE_SECONDS = -1  # the copy is now older than the limit
    assert "sublingual_drops" not in DosageForm.objects.offered()


def test_forgetting_reads_them_again(django_assert_num_queries):
    DosageForm.objects.offered()
    dosage_forms_offered_forget()
    with django_assert_num_queries(1):
        DosageForm.objects.offered()
