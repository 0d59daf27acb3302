"""Compounding per container and the independent final check: services and pages."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from io import StringIO

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from intake.errors import Forbidden
from intake.models import (
    CheckItem,
    CompoundedContainer,
    CompoundingRecord,
    FinalCheck,
    FinalCheckItem,
    FinalCheckMethod,
    MasterFormulation,
    Prescription,
    PrescriptionEvent,
    PrescriptionStatus,
)
from intake.services.compounding import ContainerInput, compounding_record_create
from intake.services.final_check import CHECKLIST
from intake.services.lots import LotInput
from intake.services.workflow import prescription_final_check
from tests.factories import make_prescription
from tests.workflow_helpers import advance, default_lots

S = PrescriptionStatus
EVERYTHING = [item.value for item in CHECKLIST]


def at(status, prescriber, pharmacist, technician, **content):
    return advance(make_prescription(prescriber, **content), status, pharmacist=pharmacist, technician=technician)


def record_of(prescription) -> CompoundingRecord:
    return CompoundingRecord.objects.filter(prescription=prescription).latest("compounded_at")


def codes(prescription) -> dict[int, str]:
    return {c.number: c.code for c in record_of(prescription).containers.all()}


def nothing_recorded(prescription) -> None:
    assert Prescription.objects.get(pk=prescription.pk).status == S.COMPOUNDING
    assert not CompoundingRecord.objects.filter(prescription=prescription).exists()
    assert not CompoundedContainer.objects.exists()


# --- compounding per container ------------------------------------------------------------------------


def test_a_kit_is_recorded_as_one_container_per_strength(prescriber, pharmacist, technician):
    prescription = at(S.COMPOUNDING, prescriber, pharmacist, technician)

    compounding_record_create(
        prescription_id=prescription.pk, actor=technician, lots=default_lots(), quantity_made=30,
        containers=[ContainerInput(14, Decimal("21.42"), (Decimal("201"), Decimal("196.5"))), ContainerInput(14),
                    ContainerInput(2)],
    )  # fmt: skip

    record = record_of(prescription)
    rows = list(record.containers.all())
    assert [(c.number, c.strength_mg, c.first_day, c.last_day, c.quantity_made) for c in rows] == [
        (1, Decimal("1.5"), 1, 14, 14), (2, Decimal("3"), 15, 28, 14), (3, Decimal("4.5"), 29, 30, 2),
    ]  # fmt: skip
    assert [c.code for c in rows] == [f"{prescription.reference}-{record.pk}-{n}" for n in (1, 2, 3)]
    first = rows[0]
    # 1.5 mg x 14 x salt factor 1 x 1.02 overage; 200 mg fill x 14 x 1.02 less the naltrexone
    assert (first.naltrexone_needed_mg, first.filler_needed_mg) == (Decimal("21.420"), Decimal("2834.580"))
    assert (first.naltrexone_weighed_mg, first.capsule_weights_mg) == (Decimal("21.420"), ["201", "196.5"])
    assert first.tolerance_percent == Decimal("10")


@pytest.mark.parametrize("made", [28, 31, 1])
def test_a_quantity_made_that_is_not_the_plan_is_refused(made, prescriber, pharmacist, technician):
    prescription = at(S.COMPOUNDING, prescriber, pharmacist, technician)

    with pytest.raises(ValidationError) as caught:
        compounding_record_create(prescription_id=prescription.pk, actor=technician, lots=default_lots(),
                                  quantity_made=made)  # fmt: skip

    assert "14 x 1.5 mg, 14 x 3 mg and 2 x 4.5 mg capsules: 30 in all" in caught.value.message_dict["quantity_made"][0]
    nothing_recorded(prescription)


def test_a_container_made_short_is_refused_on_its_field(prescriber, pharmacist, technician):
    prescription = at(S.COMPOUNDING, prescriber, pharmacist, technician)

    with pytest.raises(ValidationError) as caught:
        compounding_record_create(
            prescription_id=prescription.pk, actor=technician, lots=default_lots(), quantity_made=30,
            containers=[ContainerInput(14), ContainerInput(13), ContainerInput(3)],
        )  # fmt: skip

    assert set(caught.value.message_dict) == {"containers.2.quantity_made", "containers.3.quantity_made"}
    assert "holds 14 capsule, not 13" in caught.value.message_dict["containers.2.quantity_made"][0]
    nothing_recorded(prescription)


def test_weights_outside_the_tolerance_are_refused_on_their_field(prescriber, pharmacist, technician):
    prescription = at(S.COMPOUNDING, prescriber, pharmacist, technician)

    with pytest.raises(ValidationError) as caught:
        compounding_record_create(
            prescription_id=prescription.pk, actor=technician, lots=default_lots(), quantity_made=30,
            containers=[ContainerInput(14, Decimal("30")), ContainerInput(14, None, (Decimal("200"), Decimal("240"))),
                        ContainerInput(2)],
        )  # fmt: skip

    errors = caught.value.message_dict
    assert set(errors) == {"containers.1.naltrexone_mg", "containers.2.capsule_weights_mg"}
    assert "30 mg of naltrexone HCl is outside 19.28-23.56 mg" in errors["containers.1.naltrexone_mg"][0]
    assert "capsule 2 weighs 240 mg" in errors["containers.2.capsule_weights_mg"][0]
    nothing_recorded(prescription)


def test_a_containers_own_lot_caps_the_beyond_use_date(prescriber, pharmacist, technician):
    prescription = at(S.COMPOUNDING, prescriber, pharmacist, technician)
    soon = timezone.localdate() + timedelta(days=20)

    compounding_record_create(
        prescription_id=prescription.pk, actor=technician, lots=default_lots(), quantity_made=30,
        containers=[ContainerInput(), ContainerInput(lots=(LotInput("Naltrexone HCl USP", "NTX-OWN", soon),)),
                    ContainerInput()],
    )  # fmt: skip

    record = record_of(prescription)
    assert record.beyond_use_date == soon
    assert [lot.lot for lot in record.containers.get(number=2).lots.all()] == ["NTX-OWN"]


def test_a_containers_expired_lot_is_refused(prescriber, pharmacist, technician):
    prescription = at(S.COMPOUNDING, prescriber, pharmacist, technician)
    expired = LotInput("Naltrexone HCl USP", "NTX-OLD", timezone.localdate() - timedelta(days=1))

    with pytest.raises(ValidationError) as caught:
        compounding_record_create(
            prescription_id=prescription.pk, actor=technician, lots=default_lots(), quantity_made=30,
            containers=[ContainerInput(), ContainerInput(), ContainerInput(lots=(expired,))],
        )  # fmt: skip

    assert "NTX-OLD" in caught.value.message_dict["containers.3.lots"][0]
    nothing_recorded(prescription)


@pytest.mark.parametrize(("concentration", "dose_ml"), [("1", "4.5"), ("2", "2.25"), ("0.5", "9")])
def test_a_liquid_is_one_bottle_at_the_formulations_concentration(
    concentration, dose_ml, prescriber, pharmacist, technician
):
    MasterFormulation.objects.filter(dosage_form__code="oral_liquid").update(concentration=Decimal(concentration))
    volume = int(Decimal(dose_ml) * 30)
    prescription = at(S.COMPOUNDING, prescriber, pharmacist, technician, dosage_form="oral_liquid", titration=(),
                      quantity=volume)  # fmt: skip

    compounding_record_create(prescription_id=prescription.pk, actor=technician, lots=default_lots(),
                              quantity_made=volume)  # fmt: skip

    (bottle,) = record_of(prescription).containers.all()
    assert (bottle.unit, bottle.quantity_made, bottle.concentration) == ("mL", volume, Decimal(concentration))
    assert bottle.entries[0]["dose_ml"] == float(dose_ml)
    assert bottle.naltrexone_needed_mg == Decimal(concentration) * volume  # no overage on the liquid formula


# --- the final check ------------------------------------------------------------------------------------


def test_the_checklist_and_scans_are_recorded_item_by_item(prescriber, pharmacist, technician, second_pharmacist):
    prescription = at(S.FINAL_CHECK, prescriber, pharmacist, technician)

    result = prescription_final_check(prescription_id=prescription.pk, actor=second_pharmacist,
                                      confirmed=EVERYTHING, scans=codes(prescription))  # fmt: skip

    assert result.status == S.READY
    check = FinalCheck.objects.get(record__prescription=prescription)
    assert (check.checked_by, check.method) == (second_pharmacist, FinalCheckMethod.CHECKLIST)
    items = list(check.items.all())
    assert [item.item for item in items] == [*EVERYTHING, CheckItem.SCAN, CheckItem.SCAN, CheckItem.SCAN]
    assert {item.confirmed_by for item in items} == {second_pharmacist}
    assert all(item.confirmed_at == check.checked_at for item in items)
    assert [item.scanned_code for item in items if item.container] == list(codes(prescription).values())
    assert FinalCheckItem.history.count() == len(items)  # type: ignore[attr-defined]
    event = PrescriptionEvent.objects.filter(prescription=prescription, action="final_check").get()
    assert event.details["check"] == "checklist" and event.details["scanned"] == 3


def test_the_compounder_is_refused_even_with_a_full_checklist(prescriber, pharmacist, technician):
    prescription = at(S.COMPOUNDING, prescriber, pharmacist, technician)
    compounding_record_create(prescription_id=prescription.pk, actor=pharmacist, lots=default_lots(), quantity_made=30)

    with pytest.raises(Forbidden):
        prescription_final_check(prescription_id=prescription.pk, actor=pharmacist, confirmed=EVERYTHING,
                                 scans=codes(prescription))  # fmt: skip

    assert Prescription.objects.get(pk=prescription.pk).status == S.FINAL_CHECK
    assert not FinalCheck.objects.exists()


def test_a_scan_of_another_orders_container_is_refused(prescriber, pharmacist, technician, second_pharmacist):
    other = at(S.FINAL_CHECK, prescriber, pharmacist, technician, patient={"first_name": "Grace"})
    prescription = at(S.FINAL_CHECK, prescriber, pharmacist, technician)
    scans = codes(prescription) | {2: codes(other)[2]}

    with pytest.raises(ValidationError) as caught:
        prescription_final_check(prescription_id=prescription.pk, actor=second_pharmacist, confirmed=EVERYTHING,
                                 scans=scans)  # fmt: skip

    assert list(caught.value.message_dict) == ["scans.2"]
    assert f"belongs to another order ({other.reference})" in caught.value.message_dict["scans.2"][0]
    assert Prescription.objects.get(pk=prescription.pk).status == S.FINAL_CHECK
    assert not FinalCheck.objects.exists()


def test_containers_scanned_in_the_wrong_slots_are_refused(prescriber, pharmacist, technician, second_pharmacist):
    prescription = at(S.FINAL_CHECK, prescriber, pharmacist, technician)
    scanned = codes(prescription)
    scans = {1: scanned[2], 2: scanned[1], 3: scanned[3].lower()}  # case does not matter

    with pytest.raises(ValidationError) as caught:
        prescription_final_check(prescription_id=prescription.pk, actor=second_pharmacist, confirmed=EVERYTHING,
                                 scans=scans)  # fmt: skip

    assert set(caught.value.message_dict) == {"scans.1", "scans.2"}
    assert "is container 2's label, not container 1's" in caught.value.message_dict["scans.1"][0]


@pytest.mark.parametrize("left_out", ["appearance", "bud", "lots"])
def test_a_missing_checklist_item_is_refused(left_out, prescriber, pharmacist, technician, second_pharmacist):
    prescription = at(S.FINAL_CHECK, prescriber, pharmacist, technician)
    confirmed = [item for item in EVERYTHING if item != left_out]

    with pytest.raises(ValidationError) as caught:
        prescription_final_check(prescription_id=prescription.pk, actor=second_pharmacist, confirmed=confirmed,
                                 scans=codes(prescription))  # fmt: skip

    assert list(caught.value.message_dict) == ["checklist"]
    assert CheckItem(left_out).label.lower() in caught.value.message_dict["checklist"][0]
    assert not FinalCheck.objects.exists()


def test_a_missing_scan_is_refused(prescriber, pharmacist, technician, second_pharmacist):
    prescription = at(S.FINAL_CHECK, prescriber, pharmacist, technician)
    scans = {1: codes(prescription)[1]}

    with pytest.raises(ValidationError) as caught:
        prescription_final_check(prescription_id=prescription.pk, actor=second_pharmacist, confirmed=EVERYTHING,
                                 scans=scans)  # fmt: skip

    assert set(caught.value.message_dict) == {"scans.2", "scans.3"}


# --- the pages -------------------------------------------------------------------------------------------


def check_post(prescription, scans=None, confirmed=EVERYTHING):
    data = {f"check-item_{item}": "on" for item in confirmed}
    data.update({f"check-scan_{n}": code for n, code in (scans or codes(prescription)).items()})
    return data


def test_the_check_page_lists_the_containers_and_asks_for_a_scan_of_each(
    client, login, prescriber, pharmacist, technician
):
    prescription = at(S.FINAL_CHECK, prescriber, pharmacist, technician)
    login(client, pharmacist)

    page = client.get(reverse("staff:final_check", args=[prescription.pk])).content.decode()

    assert "Scan container 1: 1.5 mg capsules, days 1-14" in page
    assert "Scan container 3: 4.5 mg capsules, days 29-30" in page
    assert page.count("data-scan") == 3
    assert "Appearance: colour, fill, no damage or leaks" in page


def test_the_check_page_refuses_the_compounder(client, login, prescriber, pharmacist, technician):
    prescription = at(S.COMPOUNDING, prescriber, pharmacist, technician)
    compounding_record_create(prescription_id=prescription.pk, actor=pharmacist, lots=default_lots(), quantity_made=30)
    login(client, pharmacist)

    page = client.get(reverse("staff:final_check", args=[prescription.pk]))
    posted = client.post(reverse("staff:final_check", args=[prescription.pk]), check_post(prescription))

    assert page.status_code == posted.status_code == 403
    assert "You compounded this fill: another pharmacist must do its final check." in posted.content.decode()
    assert 'id="final-check-form"' not in page.content.decode()
    assert Prescription.objects.get(pk=prescription.pk).status == S.FINAL_CHECK
    assert not FinalCheck.objects.exists()
    review = client.get(reverse("staff:review", args=[prescription.pk])).content.decode()
    assert "another pharmacist must do its final check" in review


def test_the_check_page_shows_a_wrong_scan_on_its_field(
    client, login, prescriber, pharmacist, technician, second_pharmacist
):
    other = at(S.FINAL_CHECK, prescriber, pharmacist, technician, patient={"first_name": "Grace"})
    prescription = at(S.FINAL_CHECK, prescriber, pharmacist, technician)
    login(client, second_pharmacist)

    response = client.post(reverse("staff:final_check", args=[prescription.pk]),
                           check_post(prescription, scans=codes(prescription) | {3: codes(other)[3]}))  # fmt: skip

    assert response.status_code == 400
    body = response.content.decode()
    assert f"belongs to another order ({other.reference})" in body
    assert 'id="error_1_id_check-scan_3"' in body  # the message sits on container 3's field
    assert Prescription.objects.get(pk=prescription.pk).status == S.FINAL_CHECK
    assert not FinalCheck.objects.exists()


def test_the_check_page_refuses_a_missing_item(client, login, prescriber, pharmacist, technician):
    prescription = at(S.FINAL_CHECK, prescriber, pharmacist, technician)
    login(client, pharmacist)

    response = client.post(reverse("staff:final_check", args=[prescription.pk]),
                           check_post(prescription, confirmed=EVERYTHING[:-1]))  # fmt: skip

    assert response.status_code == 400
    assert "Check this and tick it before passing the batch." in response.content.decode()
    assert not FinalCheck.objects.exists()


def test_the_check_page_passes_the_batch(client, login, prescriber, pharmacist, technician):
    prescription = at(S.FINAL_CHECK, prescriber, pharmacist, technician)
    login(client, pharmacist)

    response = client.post(reverse("staff:final_check", args=[prescription.pk]), check_post(prescription))

    assert response.status_code == 302
    assert Prescription.objects.get(pk=prescription.pk).status == S.READY
    assert FinalCheck.objects.get().items.count() == len(EVERYTHING) + 3


def test_a_technician_cannot_check_on_the_page(client, login, prescriber, pharmacist, technician):
    prescription = at(S.FINAL_CHECK, prescriber, pharmacist, technician)
    login(client, technician)

    response = client.post(reverse("staff:final_check", args=[prescription.pk]), check_post(prescription))

    assert response.status_code == 403
    assert not FinalCheck.objects.exists()


def test_the_compounding_page_refuses_weights_outside_the_tolerance_on_the_field(
    client, login, prescriber, pharmacist, technician
):
    prescription = at(S.COMPOUNDING, prescriber, pharmacist, technician)
    formulation = MasterFormulation.objects.get(dosage_form__code="capsule")
    login(client, technician)
    page = client.get(reverse("staff:compounding", args=[prescription.pk])).content.decode()
    assert "Container 1 of 3: 1.5 mg capsules, days 1-14" in page
    assert "21.42 mg" in page  # the naltrexone HCl to weigh, before compounding
    data = {
        "batch-master_formulation": formulation.pk, "batch-quality_checks": "", "batch-deviations": "",
        "lots-TOTAL_FORMS": 1, "lots-INITIAL_FORMS": 1, "lots-MIN_NUM_FORMS": 1, "lots-MAX_NUM_FORMS": 20,
        "lots-0-ingredient": "Naltrexone HCl USP", "lots-0-lot": "NTX-1", "lots-0-manufacturer": "",
        "lots-0-expires": (timezone.localdate() + timedelta(days=200)).isoformat(), "lots-0-quantity_used": "",
        "containers-TOTAL_FORMS": 3, "containers-INITIAL_FORMS": 3, "containers-MIN_NUM_FORMS": 1,
        "containers-MAX_NUM_FORMS": 50,
        "containers-0-quantity_made": 14, "containers-0-naltrexone_mg": "21.4",
        "containers-0-capsule_weights_mg": "201, 199 150",
        "containers-1-quantity_made": 14, "containers-2-quantity_made": 2,
    }  # fmt: skip

    response = client.post(reverse("staff:compounding", args=[prescription.pk]), data)

    assert response.status_code == 400
    body = response.content.decode()
    assert "capsule 3 weighs 150 mg" in body
    assert 'id="error_1_id_containers-0-capsule_weights_mg"' in body
    nothing_recorded(prescription)


def test_the_demo_goes_end_to_end_with_the_second_pharmacist(db, client, login, settings):
    settings.DEBUG = True
    call_command("seed_demo", stdout=StringIO())
    call_command("seed_demo", stdout=StringIO())  # idempotent: one kit
    kit = Prescription.objects.get(patient__email="florence.nightingale@example.com")
    first = User.objects.get(email="pharmacist@demo.test")
    second = User.objects.get(email="pharmacist2@demo.test")
    assert second.check_password("demo-pharmacist-2") and second.is_pharmacist
    assert kit.status == S.FINAL_CHECK
    assert record_of(kit).compounded_by == first

    login(client, first)
    refused = client.post(reverse("staff:final_check", args=[kit.pk]), check_post(kit))
    login(client, second)
    passed = client.post(reverse("staff:final_check", args=[kit.pk]), check_post(kit))

    assert (refused.status_code, passed.status_code) == (403, 302)
    assert Prescription.objects.get(pk=kit.pk).status == S.READY
    assert FinalCheck.objects.get(record__prescription=kit).checked_by == second
