from datetime import datetime, timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from intake.errors import Conflict, Forbidden
from intake.models import CompoundingRecord, IngredientLot, MasterFormulation, Prescription, PrescriptionStatus
from intake.services.compounding import compounding_record_create, master_formulation_save
from intake.services.lots import LotInput
from intake.services.workflow import prescription_final_check
from tests.factories import make_prescription
from tests.workflow_helpers import advance, default_lots

S = PrescriptionStatus
NOON = datetime(2025, 3, 3, 12, 0)


def compounding(prescriber, pharmacist, technician, **content):
    prescription = make_prescription(prescriber, **content)
    return advance(prescription, S.COMPOUNDING, pharmacist=pharmacist, technician=technician)


def lots_expiring(day_offset_naltrexone=365, day_offset_filler=400, today=None):
    day = today or timezone.localdate()
    return [
        LotInput(ingredient="Naltrexone HCl USP", lot="NTX-1", expires=day + timedelta(days=day_offset_naltrexone)),
        LotInput(ingredient="Excipient", lot="EX-1", expires=day + timedelta(days=day_offset_filler)),
    ]


@pytest.mark.parametrize(
    ("dosage_form", "strength", "days"),
    [
        ("capsule", "4.5", 180),  # non-aqueous solid
        ("oral_liquid", "1.5", 14),  # aqueous, no preservative
        ("sublingual_drops", "3", 35),  # aqueous, preserved (default formulary)
        ("topical_cream", "1.5", 14),  # aqueous cream, no preservative
    ],
)
def test_beyond_use_date_follows_the_formulations_usp_rule(
    dosage_form, strength, days, prescriber, pharmacist, technician
):
    # given
    prescription = compounding(prescriber, pharmacist, technician, dosage_form=dosage_form,
                               strength_mg=Decimal(strength), titration=())  # fmt: skip
    today = timezone.localdate()

    # when
    result = compounding_record_create(
        prescription_id=prescription.pk, actor=technician, lots=lots_expiring(), quantity_made=30
    )

    # then
    assert result.status == S.FINAL_CHECK
    assert result.beyond_use_date == today + timedelta(days=days)
    record = CompoundingRecord.objects.get(prescription=prescription)
    assert record.beyond_use_date == result.beyond_use_date
    assert record.compounded_by == technician
    assert record.master_formulation.dosage_form.code == dosage_form
    assert IngredientLot.objects.filter(record=record).count() == 2
    assert Prescription.objects.get(pk=prescription.pk).beyond_use_date == today + timedelta(days=days)


def test_earliest_lot_expiry_caps_the_beyond_use_date(prescriber, pharmacist, technician):
    prescription = compounding(prescriber, pharmacist, technician)
    today = timezone.localdate()

    result = compounding_record_create(
        prescription_id=prescription.pk, actor=technician, quantity_made=30,
        lots=lots_expiring(day_offset_naltrexone=400, day_offset_filler=20),
    )  # fmt: skip

    assert result.beyond_use_date == today + timedelta(days=20)


def test_expired_lot_is_refused_and_named(prescriber, pharmacist, technician):
    prescription = compounding(prescriber, pharmacist, technician)
    today = timezone.localdate()
    lots = [
        LotInput(ingredient="Naltrexone HCl USP", lot="NTX-OK", expires=today + timedelta(days=90)),
        LotInput(ingredient="Microcrystalline cellulose", lot="MCC-OLD", expires=today - timedelta(days=1)),
    ]

    with pytest.raises(ValidationError) as caught:
        compounding_record_create(prescription_id=prescription.pk, actor=technician, lots=lots, quantity_made=30)

    assert "lots" in caught.value.message_dict
    assert "MCC-OLD" in " ".join(caught.value.message_dict["lots"])
    assert Prescription.objects.get(pk=prescription.pk).status == S.COMPOUNDING
    assert not CompoundingRecord.objects.filter(prescription=prescription).exists()


def test_lot_expiring_on_the_compounding_day_is_refused(prescriber, pharmacist, technician):
    prescription = compounding(prescriber, pharmacist, technician)
    lots = [LotInput(ingredient="Naltrexone HCl", lot="NTX-TODAY", expires=timezone.localdate())]

    with pytest.raises(ValidationError, match="NTX-TODAY"):
        compounding_record_create(prescription_id=prescription.pk, actor=technician, lots=lots, quantity_made=30)


@pytest.mark.parametrize(
    "lots",
    [
        [],
        [LotInput(ingredient="Microcrystalline cellulose", lot="MCC-1", expires=datetime(2099, 1, 1).date())],
    ],
    ids=["no lots", "no naltrexone lot"],
)
def test_lots_must_include_the_naltrexone_one(lots, prescriber, pharmacist, technician):
    prescription = compounding(prescriber, pharmacist, technician)

    with pytest.raises(ValidationError) as caught:
        compounding_record_create(prescription_id=prescription.pk, actor=technician, lots=lots, quantity_made=30)

    assert "lots" in caught.value.message_dict
    assert Prescription.objects.get(pk=prescription.pk).status == S.COMPOUNDING


def test_quantity_made_must_be_positive(prescriber, pharmacist, technician):
    prescription = compounding(prescriber, pharmacist, technician)

    with pytest.raises(ValidationError) as caught:
        compounding_record_create(prescription_id=prescription.pk, actor=technician, lots=default_lots(),
                                  quantity_made=0)  # fmt: skip

    assert "quantity_made" in caught.value.message_dict


def test_strength_specific_formulation_wins_over_the_any_strength_one(prescriber, pharmacist, technician):
    generic = MasterFormulation.objects.get(dosage_form__code="capsule", strength_mg__isnull=True)
    specific = MasterFormulation.objects.create(
        dosage_form=generic.dosage_form, name="LDN 4.5 mg capsules, lactose", strength_mg=Decimal("4.5"),
        ingredients=[{"name": "Naltrexone HCl", "quantity": "4.5", "unit": "mg"}], filler="Lactose",
        aqueous=False, storage="Room temperature", steps="Mix.\nFill.", bud_rule="nonaqueous_solid",
    )  # fmt: skip
    prescription = compounding(prescriber, pharmacist, technician, strength_mg=Decimal("4.5"))

    compounding_record_create(prescription_id=prescription.pk, actor=technician, lots=default_lots(), quantity_made=30)

    assert CompoundingRecord.objects.get(prescription=prescription).master_formulation == specific


def test_misconfigured_formulation_cannot_lengthen_the_beyond_use_date(prescriber, pharmacist, technician):
    # An aqueous oral liquid left on the 180-day solid rule still gets the 14-day aqueous limit.
    MasterFormulation.objects.filter(dosage_form__code="oral_liquid").update(bud_rule="nonaqueous_solid")
    prescription = compounding(prescriber, pharmacist, technician, dosage_form="oral_liquid", titration=())

    result = compounding_record_create(prescription_id=prescription.pk, actor=technician, lots=default_lots(),
                                       quantity_made=30)  # fmt: skip

    assert result.beyond_use_date == timezone.localdate() + timedelta(days=14)


def test_compounding_needs_an_active_formulation(prescriber, pharmacist, technician):
    MasterFormulation.objects.filter(dosage_form__code="capsule").update(active=False)
    prescription = compounding(prescriber, pharmacist, technician)

    with pytest.raises(ValidationError) as caught:
        compounding_record_create(prescription_id=prescription.pk, actor=technician, lots=default_lots(),
                                  quantity_made=30)  # fmt: skip

    assert "master_formulation" in caught.value.message_dict


def test_compounded_at_in_the_past_counts_from_that_day(prescriber, pharmacist, technician):
    prescription = compounding(prescriber, pharmacist, technician)
    yesterday_noon = timezone.make_aware(datetime.combine(timezone.localdate() - timedelta(days=1), NOON.time()))

    result = compounding_record_create(prescription_id=prescription.pk, actor=technician, lots=default_lots(),
                                       quantity_made=30, compounded_at=yesterday_noon)  # fmt: skip

    assert result.beyond_use_date == timezone.localdate() - timedelta(days=1) + timedelta(days=180)


def test_compounding_refused_outside_compounding_status(prescriber, pharmacist, technician):
    prescription = advance(make_prescription(prescriber), S.APPROVED, pharmacist=pharmacist, technician=technician)

    with pytest.raises(Conflict):
        compounding_record_create(prescription_id=prescription.pk, actor=technician, lots=default_lots(),
                                  quantity_made=30)  # fmt: skip

    assert not CompoundingRecord.objects.exists()


def test_prescriber_cannot_record_compounding(prescriber, pharmacist, technician):
    prescription = compounding(prescriber, pharmacist, technician)

    with pytest.raises(Forbidden):
        compounding_record_create(prescription_id=prescription.pk, actor=prescriber.user, lots=default_lots(),
                                  quantity_made=30)  # fmt: skip

    assert not CompoundingRecord.objects.exists()


def test_final_check_is_refused_to_the_compounder_whatever_the_staffing(
    prescriber, pharmacist, second_pharmacist, technician
):
    # given: the pharmacist recorded the batch and is the only pharmacist who signed in today
    prescription = compounding(prescriber, pharmacist, technician)
    compounding_record_create(prescription_id=prescription.pk, actor=pharmacist, lots=default_lots(), quantity_made=30)
    pharmacist.last_login = timezone.now()
    pharmacist.save(update_fields=["last_login"])

    with pytest.raises(Forbidden):
        prescription_final_check(prescription_id=prescription.pk, actor=pharmacist)
    assert Prescription.objects.get(pk=prescription.pk).status == S.FINAL_CHECK
    assert CompoundingRecord.objects.get(prescription=prescription).checked_by is None

    result = prescription_final_check(prescription_id=prescription.pk, actor=second_pharmacist)
    assert result.status == S.READY
    assert CompoundingRecord.objects.get(prescription=prescription).checked_by == second_pharmacist


def test_technician_cannot_do_the_final_check(prescriber, pharmacist, technician):
    prescription = advance(make_prescription(prescriber), S.FINAL_CHECK, pharmacist=pharmacist, technician=technician)

    with pytest.raises(Forbidden):
        prescription_final_check(prescription_id=prescription.pk, actor=technician)

    assert Prescription.objects.get(pk=prescription.pk).status == S.FINAL_CHECK


def _formulation_values(**overrides):
    values = {
        "name": "LDN oral liquid, preserved", "strength_mg": None, "filler": "", "aqueous": True, "preserved": True,
        "storage": "Refrigerate", "equipment": "", "steps": "Dissolve.\nq.s.", "quality_checks": "", "container": "",
        "bud_rule": "aqueous_preserved", "bud_reference": "USP <795>", "active": True,
    }  # fmt: skip
    values.update(overrides)
    return values


def test_pharmacist_saves_a_master_formulation(pharmacist):
    form = MasterFormulation.objects.get(dosage_form__code="oral_liquid").dosage_form

    ingredients = [{"name": "Naltrexone HCl", "quantity": "1", "unit": "mg/mL"}]

    saved = master_formulation_save(
        actor=pharmacist, dosage_form_id=form.pk, values=_formulation_values(), ingredients=ingredients
    )

    assert saved.pk is not None
    assert saved.bud_rule == "aqueous_preserved"
    assert saved.ingredients == ingredients


def test_master_formulation_rule_longer_than_usp_allows_is_refused(pharmacist):
    form = MasterFormulation.objects.get(dosage_form__code="oral_liquid").dosage_form
    before = MasterFormulation.objects.count()

    with pytest.raises(ValidationError) as caught:
        master_formulation_save(actor=pharmacist, dosage_form_id=form.pk,
                                values=_formulation_values(preserved=False, bud_rule="aqueous_preserved"),
                                ingredients=[{"name": "Naltrexone HCl"}])  # fmt: skip

    assert "bud_rule" in caught.value.message_dict
    assert MasterFormulation.objects.count() == before


def test_technician_cannot_change_master_formulations(technician):
    formulation = MasterFormulation.objects.get(dosage_form__code="oral_liquid")

    with pytest.raises(Forbidden):
        master_formulation_save(actor=technician, dosage_form_id=formulation.dosage_form_id,
                                values=_formulation_values(name="Changed"), ingredients=[{"name": "Naltrexone"}],
                                formulation_id=formulation.pk)  # fmt: skip

    formulation.refresh_from_db()
    assert formulation.name != "Changed"
