"""The staff pages of lots and recalls: the trace and its CSV, opening, reading, resolving, closing."""

from __future__ import annotations

import csv
import io

import pytest
from django.test import Client
from django.urls import reverse

from intake.models import AuditRecord, PrescriptionStatus, Recall, RecallAffected, RecallOutcome
from tests.factories import make_prescription
from tests.recalls.helpers import RECALLED
from tests.stock.conftest import receive
from tests.workflow_helpers import advance

S = PrescriptionStatus
PATIENT = {"first_name": "Ottoline", "last_name": "=HYPERLINK(1)"}


@pytest.fixture
def signed_in():
    def client_for(user) -> Client:
        client = Client()
        client.force_login(user, backend="accounts.backends.PharmacyBackend")
        return client

    return client_for


@pytest.fixture
def shipped(prescriber, pharmacist, technician):
    return advance(make_prescription(prescriber, patient=PATIENT), S.SHIPPED, pharmacist=pharmacist,
                   technician=technician)  # fmt: skip


def test_the_trace_page_and_its_csv(signed_in, technician, shipped):
    client = signed_in(technician)

    page = client.get(reverse("staff:lot_trace"), {"lot": RECALLED.lower()})
    assert page.status_code == 200
    html = page.content.decode()
    assert shipped.reference in html and "Ottoline" in html and "1 fill" in html

    export = client.get(reverse("staff:lot_trace_csv"), {"lot": RECALLED})
    assert export.status_code == 200
    assert export["Content-Type"].startswith("text/csv")
    assert "attachment" in export["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(b"".join(export.streaming_content).decode())))
    assert rows[0][:4] == ["reference", "patient", "fill", "status"]
    assert rows[1][0] == shipped.reference and rows[1][3] == "shipped" and rows[1][4]
    assert rows[1][1] == "Ottoline =HYPERLINK(1)"  # a cell that starts with a formula sign would be quoted
    assert AuditRecord.objects.filter(object_type="lot_trace", action="download", actor=technician).exists()
    assert AuditRecord.objects.filter(object_type="lot_trace", action="list", actor=technician).exists()


def test_the_trace_page_refuses_a_blank_lot_on_its_field(signed_in, technician, db):
    response = signed_in(technician).get(reverse("staff:lot_trace_csv"), {"lot": "  "})
    assert response.status_code == 400
    assert "lot" in response.content.decode().lower()


def test_a_pharmacist_opens_reads_resolves_and_closes_a_recall(signed_in, pharmacist, technician, shipped):
    client = signed_in(pharmacist)
    form = client.get(reverse("staff:recall_new"), {"lot": RECALLED})
    assert form.status_code == 200 and RECALLED in form.content.decode()

    bad = client.post(reverse("staff:recall_new"), {"recall-ingredient": "Naltrexone HCl USP", "recall-lot": RECALLED,
                                                    "recall-recall_class": "I", "recall-reason": ""})  # fmt: skip
    assert bad.status_code == 400
    assert Recall.objects.count() == 0

    opened = client.post(reverse("staff:recall_new"), {
        "recall-ingredient": "Naltrexone HCl USP", "recall-lot": RECALLED, "recall-recall_class": "I",
        "recall-reason": "Supplier notice: the lot failed its assay for potency."}, follow=True)  # fmt: skip
    recall = Recall.objects.get()
    assert opened.status_code == 200
    html = opened.content.decode()
    assert "quarantined" in html and shipped.reference in html and "Mark called back" in html

    twice = client.post(reverse("staff:recall_new"), {
        "recall-ingredient": "Naltrexone HCl USP", "recall-lot": RECALLED.lower(), "recall-recall_class": "I",
        "recall-reason": "Supplier notice: the lot failed its assay for potency."})  # fmt: skip
    assert twice.status_code == 400 and "already under an open recall" in twice.content.decode()

    listed = signed_in(technician).get(reverse("staff:recalls"))
    assert RECALLED in listed.content.decode()

    affected = RecallAffected.objects.get(recall=recall)
    assert affected.outcome == RecallOutcome.PATIENT_TOLD
    resolved = signed_in(technician).post(reverse("staff:recall_resolve", args=[recall.pk, affected.pk]), follow=True)
    assert "marked as called back" in resolved.content.decode()
    assert RecallAffected.objects.get(pk=affected.pk).resolved_at is not None

    no_note = client.post(reverse("staff:recall_close", args=[recall.pk]), {"close-note": ""})
    assert no_note.status_code == 400 and Recall.objects.get().is_open
    closed = client.post(reverse("staff:recall_close", args=[recall.pk]),
                         {"close-note": "Supplier withdrew the notice after retesting."}, follow=True)  # fmt: skip
    assert "is closed" in closed.content.decode()
    assert not Recall.objects.get().is_open


def test_a_technician_may_not_open_or_close(signed_in, technician, pharmacist, db):
    client = signed_in(technician)
    assert client.get(reverse("staff:recall_new")).status_code == 403
    assert client.post(reverse("staff:recall_new"), {"recall-lot": "X"}).status_code == 403
    assert Recall.objects.count() == 0
    assert client.get(reverse("staff:recall", args=[12345])).status_code == 404


def test_recalling_a_traced_lot_starts_from_the_lot_as_recorded_and_its_ingredient(signed_in, pharmacist, shipped):
    client = signed_in(pharmacist)
    trace = client.get(reverse("staff:lot_trace"), {"lot": RECALLED.lower()}).content.decode()
    assert f"{reverse('staff:recall_new')}?lot={RECALLED.lower()}" in trace

    form = client.get(reverse("staff:recall_new"), {"lot": RECALLED.lower()}).content.decode()

    assert f'name="recall-lot" value="{RECALLED}"' in form
    assert 'name="recall-ingredient" value="Naltrexone HCl USP"' in form


def test_a_lot_only_received_into_stock_is_recalled_as_received(signed_in, pharmacist, technician):
    receive(technician, lot="NTX-Stock-7", ingredient="Naltrexone HCl USP")

    form = signed_in(pharmacist).get(reverse("staff:recall_new"), {"lot": " ntx-stock-7 "}).content.decode()

    assert 'name="recall-lot" value="NTX-Stock-7"' in form
    assert 'name="recall-ingredient" value="Naltrexone HCl USP"' in form


def test_an_unknown_lot_is_recalled_as_typed_with_no_ingredient(signed_in, pharmacist):
    form = signed_in(pharmacist).get(reverse("staff:recall_new"), {"lot": "zz-404"}).content.decode()

    assert 'name="recall-lot" value="zz-404"' in form
    assert 'name="recall-ingredient" maxlength' in form  # no value
