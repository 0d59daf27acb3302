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


def test_an_approved_prescriptions_compounding_page_says_what_to_do(client, login, approved, technician):
    released_batch()
    login(client, technician)

    page = client.get(reverse("staff:compounding", args=[approved.pk])).content.decode()

    assert "no batch to record" not in page
    assert ("Compounding has not started: start it, then record the compounding on this page; or fill this "
            "prescription from a released batch above instead.") in page  # fmt: skip
    assert f'action="{reverse("staff:start_compounding", args=[approved.pk])}"' in page


def _offer(page: str) -> str:
    start = page.index('id="from-batch"')
    return page[start : page.index("</section>", start)]


def test_the_only_batch_offered_is_chosen_and_its_link_is_outside_its_label(client, login, approved, technician):
    batch = released_batch()
    login(client, technician)

    offer = _offer(client.get(reverse("staff:compounding", args=[approved.pk])).content.decode())

    label = offer[offer.index(f'<label class="form-check-label" for="batch-{batch.pk}">') :]
    label = label[: label.index("</label>")]
    assert "<a " not in label
    assert f"Batch {batch.number}: 500 of 500 capsules left" in label
    link = reverse("staff:batch", args=[batch.pk])
    assert f'<a class="small ms-1" href="{link}">View batch {batch.number}</a>' in offer
    assert f'value="{batch.pk}" id="batch-{batch.pk}" checked>' in offer


def test_no_batch_is_chosen_when_more_than_one_can_fill_it(client, login, approved, technician):
    first, second = released_batch(), released_batch()
    short = released_batch(quantity=10)
    login(client, technician)

    offer = _offer(client.get(reverse("staff:compounding", args=[approved.pk])).content.decode())

    assert first.number in offer and second.number in offer and short.number in offer
    assert " checked>" not in offer


def test_a_batch_that_cannot_fill_it_is_never_chosen(client, login, approved, technician):
    short = released_batch(quantity=10)
    login(client, technician)

    offer = _offer(client.get(reverse("staff:compounding", args=[approved.pk])).content.decode())

    assert f'id="batch-{short.pk}" disabled>' in offer
    assert " checked>" not in offer


def test_the_compounding_page_writes_the_strength_as_the_pharmacy_does(client, login, approved, technician):
    released_batch()
    login(client, technician)

    page = client.get(reverse("staff:compounding", args=[approved.pk])).content.decode()

    assert "Naltrexone 4.5 mg capsule" in page
    assert "Released batches of 4.5 mg capsules" in page
    assert "4.50" not in page


def test_who_filled_from_a_batch_is_told_the_batch_not_to_check_it(client, login, approved, pharmacist):
    batch = released_batch()
    prescription_fill_from_batch(prescription_id=approved.pk, actor=pharmacist, batch_id=batch.pk)
    login(client, pharmacist)
    told = f"You filled this from batch {batch.number}: another pharmacist must do its final check."

    check = client.get(reverse("staff:final_check", args=[approved.pk]))
    review = client.get(reverse("staff:review", args=[approved.pk])).content.decode()

    assert check.status_code == 403
    assert told in check.content.decode()
    assert told in review
    assert "You recorded this batch" not in review
