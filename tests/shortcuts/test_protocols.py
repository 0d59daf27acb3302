"""Protocol templates: saved, replaced, applied and deleted by their owner only."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from intake.errors import NotFound
from intake.models import ProtocolTemplate
from intake.services.prescriptions import Step
from intake.services.protocols import protocol_template_apply, protocol_template_delete, protocol_template_save
from tests.factories import prescribed_content


def test_applying_a_template_gives_back_what_was_saved(prescriber, template):
    # when
    content = protocol_template_apply(prescriber=prescriber, template_id=template.pk)

    # then: the medication as saved; nothing of a patient
    saved = prescribed_content(quantity=90, days_supply=90, refills=2, prescriber_notes="Mix with MCC only.")
    assert content.dosage_form == saved.dosage_form
    assert content.strength_mg == saved.strength_mg
    assert content.titration == (Step(Decimal("1.50"), 14), Step(Decimal("3.00"), 14))
    assert (content.directions, content.quantity, content.days_supply, content.refills) == (
        saved.directions, 90, 90, 2)  # fmt: skip
    assert (content.indication, content.icd10, content.dose_timing) == ("fibromyalgia", "M79.7", "bedtime")
    assert content.prescriber_notes == "Mix with MCC only."
    assert content.allergies == ()


def test_saving_under_a_name_in_use_replaces_that_template(prescriber, template):
    protocol_template_save(prescriber=prescriber, name=template.name, content=prescribed_content(titration=()))

    replaced = ProtocolTemplate.objects.get()
    assert replaced.pk == template.pk
    assert replaced.titration == []


def test_two_prescribers_may_use_the_same_name(prescriber, other_prescriber, template):
    protocol_template_save(prescriber=other_prescriber, name=template.name, content=prescribed_content())

    assert ProtocolTemplate.objects.count() == 2


def test_a_template_needs_a_name(prescriber):
    with pytest.raises(ValidationError):
        protocol_template_save(prescriber=prescriber, name="  ", content=prescribed_content())
    assert not ProtocolTemplate.objects.exists()


def test_another_prescribers_template_is_not_found(other_prescriber, template):
    with pytest.raises(NotFound):
        protocol_template_apply(prescriber=other_prescriber, template_id=template.pk)
    with pytest.raises(NotFound):
        protocol_template_delete(prescriber=other_prescriber, template_id=template.pk)
    assert ProtocolTemplate.objects.filter(pk=template.pk).exists()


def test_the_owner_deletes_a_template(prescriber, template):
    protocol_template_delete(prescriber=prescriber, template_id=template.pk)

    assert not ProtocolTemplate.objects.exists()


# The pages --------------------------------------------------------------------------------------


def test_templates_page_lists_only_the_prescribers_own(prescriber_client, other_prescriber, template):
    protocol_template_save(prescriber=other_prescriber, name="Salk's own protocol", content=prescribed_content())

    html = prescriber_client.get(reverse("prescriber:templates")).content.decode()

    assert template.name in html
    assert "Salk's own protocol" not in html
    assert f"?template={template.pk}" in html


def test_delete_through_the_page(prescriber_client, template):
    response = prescriber_client.post(reverse("prescriber:template_delete", args=[template.pk]))

    assert response.status_code == 302
    assert not ProtocolTemplate.objects.exists()


def test_delete_of_another_prescribers_template_is_404_and_keeps_it(client, login, other_prescriber, template):
    login(client, other_prescriber.user)

    response = client.post(reverse("prescriber:template_delete", args=[template.pk]))

    assert response.status_code == 404
    assert ProtocolTemplate.objects.filter(pk=template.pk).exists()


def test_save_from_the_form_keeps_the_form_and_its_patient(prescriber_client, prescriber):
    from tests.prescriptions.test_prescriber_web import form_data

    data = form_data(**{"template-name": "Kit, 30 days", "rx-indication": ""})

    response = prescriber_client.post(reverse("prescriber:template_save"), data)

    assert response.status_code == 200
    saved = ProtocolTemplate.objects.get(owner=prescriber)
    assert saved.name == "Kit, 30 days"
    assert saved.titration == [{"strength_mg": "1.50", "days": 14}, {"strength_mg": "3.00", "days": 14}]
    assert saved.indication == ""
    # The form comes back as it was: the patient's name still there, the signature to type again.
    html = response.content.decode()
    assert 'value="Lovelace"' in html
    assert 'value="Grace Hopper"' not in html
    assert not prescriber.prescriptions.exists()


def test_save_from_the_form_without_a_name_saves_nothing(prescriber_client, prescriber):
    from tests.prescriptions.test_prescriber_web import form_data

    response = prescriber_client.post(reverse("prescriber:template_save"), form_data())

    assert response.status_code == 400
    assert "Name the template." in response.content.decode()
    assert not ProtocolTemplate.objects.exists()


def test_staff_cannot_open_the_templates(client, login, pharmacist):
    login(client, pharmacist)

    assert client.get(reverse("prescriber:templates")).status_code == 403


def test_save_a_past_prescription_as_a_template(prescriber_client, prescriber):
    from tests.factories import make_prescription

    past = make_prescription(prescriber, quantity=60, days_supply=60)
    url = reverse("prescriber:template_from_prescription", args=[past.pk])

    response = prescriber_client.post(url, {"template-name": "Two months"})

    assert response.status_code == 302
    saved = ProtocolTemplate.objects.get(owner=prescriber)
    assert (saved.name, saved.quantity, saved.days_supply, len(saved.titration)) == ("Two months", 60, 60, 2)


def test_another_prescribers_prescription_is_not_saved_as_their_template(client, login, prescriber, other_prescriber):
    from tests.factories import make_prescription

    past = make_prescription(prescriber)
    login(client, other_prescriber.user)

    response = client.post(reverse("prescriber:template_from_prescription", args=[past.pk]), {"template-name": "Mine"})

    assert response.status_code == 404
    assert not ProtocolTemplate.objects.exists()
