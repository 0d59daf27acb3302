"""The batch pages: list, make, a batch's page and its release; filling from a batch on the
compounding page; the batch number on the fill's label and worksheet."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from intake.documents import compounding_worksheet_pdf, prescription_label_pdf
from intake.models import AuditRecord, Batch, BatchStatus, Prescription, PrescriptionStatus
from intake.services.batches import prescription_fill_from_batch
from intake.services.compounding import latest_record
from tests.factories import make_prescription
from tests.pdf_layout import text
from tests.workflow_helpers import advance, capsule_formulation, released_batch

S = PrescriptionStatus


def _form(**overrides):
    day = timezone.localdate()
    data = {
        "batch-master_formulation": capsule_formulation().pk, "batch-strength_mg": "4.5",
        "batch-quantity_made": "500", "batch-number": "", "batch-quality_checks": "Weights within 10%",
        "batch-deviations": "",
        "lots-TOTAL_FORMS": "2", "lots-INITIAL_FORMS": "0", "lots-MIN_NUM_FORMS": "1", "lots-MAX_NUM_FORMS": "20",
        "lots-0-ingredient": "Naltrexone HCl USP", "lots-0-manufacturer": "Medisca", "lots-0-lot": "NTX-24001",
        "lots-0-expires": (day + timedelta(days=365)).isoformat(), "lots-0-quantity_used": "2.25 g",
        "lots-1-ingredient": "Microcrystalline cellulose NF", "lots-1-manufacturer": "", "lots-1-lot": "MCC-7781",
        "lots-1-expires": (day + timedelta(days=400)).isoformat(), "lots-1-quantity_used": "",
    }  # fmt: skip
    data.update(overrides)
    return data


@pytest.fixture
def approved(prescriber, pharmacist, technician) -> Prescription:
    return advance(make_prescription(prescriber, titration=()), S.APPROVED, pharmacist=pharmacist,
                   technician=technician)  # fmt: skip


def test_the_nav_and_list_show_batches(client, login, technician):
    batch = released_batch()
    login(client, technician)

    page = client.get(reverse("staff:batches"))

    assert page.status_code == 200
    body = page.content.decode()
    assert 'href="/pharmacy/batches/"' in body or reverse("staff:batches") in body
    assert batch.number in body
    assert "Released" in body
    assert batch.number not in client.get(reverse("staff:batches"), {"status": "made"}).content.decode()


def test_a_technician_makes_a_batch_through_the_form(client, login, technician):
    login(client, technician)
    assert client.get(reverse("staff:batch_new")).status_code == 200

    response = client.post(reverse("staff:batch_new"), _form())

    batch = Batch.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("staff:batch", args=[batch.pk])
    assert (batch.status, batch.quantity_made, batch.lots.count()) == (BatchStatus.MADE, 500, 2)
    page = client.get(response["Location"]).content.decode()
    assert "another pharmacist" in page
    assert AuditRecord.objects.filter(object_type="batch", object_id=str(batch.pk), action="view").exists()


@pytest.mark.parametrize(
    ("change", "shown"),
    [
        ({"lots-0-expires": "2001-01-01", "lots-1-expires": "2001-01-01"}, "expired"),
        ({"batch-quantity_made": "0"}, "greater than or equal to 1"),
        ({"lots-0-ingredient": "Lactose", "lots-1-ingredient": "Microcrystalline cellulose"}, "naltrexone lot"),
    ],
)
def test_a_wrong_batch_form_shows_its_messages_and_saves_nothing(client, login, technician, change, shown):
    login(client, technician)

    response = client.post(reverse("staff:batch_new"), _form(**change))

    assert response.status_code == 400
    assert shown in response.content.decode()
    assert not Batch.objects.exists()


def test_the_maker_cannot_release_and_another_pharmacist_can(client, login, pharmacist, second_pharmacist):
    login(client, pharmacist)
    client.post(reverse("staff:batch_new"), _form())
    batch = Batch.objects.get()
    note = {"release-note": "Record, lots and weights checked against the formula."}

    page = client.get(reverse("staff:batch", args=[batch.pk])).content.decode()
    assert "You made this batch" in page
    client.post(reverse("staff:batch_release", args=[batch.pk]), note)
    assert Batch.objects.get(pk=batch.pk).status == BatchStatus.MADE

    login(client, second_pharmacist)
    short = client.post(reverse("staff:batch_release", args=[batch.pk]), {"release-note": "ok"})
    assert short.status_code == 400
    assert Batch.objects.get(pk=batch.pk).status == BatchStatus.MADE
    done = client.post(reverse("staff:batch_release", args=[batch.pk]), note)
    assert done.status_code == 302
    assert Batch.objects.get(pk=batch.pk).status == BatchStatus.RELEASED


def test_an_unknown_batch_is_404(client, login, pharmacist):
    login(client, pharmacist)

    assert client.get(reverse("staff:batch", args=[987654])).status_code == 404
    assert (
        client.post(reverse("staff:batch_release", args=[987654]), {"release-note": "Checked it all."}).status_code
        == 404
    )


def test_the_compounding_page_offers_matching_batches_and_fills_from_one(client, login, approved, technician):
    good = released_batch()
    short = released_batch(quantity=10)
    login(client, technician)

    page = client.get(reverse("staff:compounding", args=[approved.pk])).content.decode()

    assert "Fill from a released batch" in page
    assert good.number in page and short.number in page
    assert "10 capsules left" in page
    response = client.post(reverse("staff:fill_from_batch", args=[approved.pk]), {"batch": good.pk})
    assert response.status_code == 302
    assert Prescription.objects.get(pk=approved.pk).status == S.FINAL_CHECK
    assert Batch.objects.get(pk=good.pk).units_left == 470
    batch_page = client.get(reverse("staff:batch", args=[good.pk])).content.decode()
    assert approved.reference in batch_page


def test_a_refused_fill_from_batch_says_why_and_changes_nothing(client, login, approved, technician):
    short = released_batch(quantity=10)
    login(client, technician)

    response = client.post(reverse("staff:fill_from_batch", args=[approved.pk]), {"batch": short.pk}, follow=True)

    assert "10 capsules left" in response.content.decode()
    assert Prescription.objects.get(pk=approved.pk).status == S.APPROVED
    assert Batch.objects.get(pk=short.pk).units_left == 10


def test_label_and_worksheet_name_the_batch_and_its_lots(approved, technician):
    batch = released_batch()
    prescription_fill_from_batch(prescription_id=approved.pk, actor=technician, batch_id=batch.pk)
    prescription = Prescription.objects.get(pk=approved.pk)
    record = latest_record(prescription)

    label = text(prescription_label_pdf(prescription=prescription, record=record))
    sheet = text(compounding_worksheet_pdf(prescription=prescription, record=record))

    assert batch.number in label
    assert "NTX-24001" in label
    assert batch.number in sheet
    assert "NTX-24001" in sheet and "MCC-7781" in sheet


def test_the_review_page_of_a_fill_from_a_batch_shows_the_batch_and_its_lots(client, login, approved, technician,
                                                                              pharmacist):  # fmt: skip
    batch = released_batch()
    prescription_fill_from_batch(prescription_id=approved.pk, actor=technician, batch_id=batch.pk)
    login(client, pharmacist)

    page = client.get(reverse("staff:review", args=[approved.pk])).content.decode()

    assert f"batch {batch.number}" in page
    assert "NTX-24001" in page
