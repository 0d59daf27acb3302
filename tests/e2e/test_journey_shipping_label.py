"""In a browser: a technician ships a ready fill with a label bought from the carrier service
(EasyPost's recorded answers) and prints it from the review page."""

import pytest

from accounts.models import Role
from intake.models import Fill, PrescriptionStatus
from tests.e2e.conftest import assert_accessible, screenshot, sign_in
from tests.factories import PASSWORD, PrescriberFactory, UserFactory, make_prescription
from tests.shipping.conftest import easypost_on, recorded
from tests.workflow_helpers import advance

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_a_technician_buys_the_label_ships_and_prints_it(page, settings):
    easypost_on(settings)
    prescriber = PrescriberFactory(user=UserFactory(role=Role.PRESCRIBER))
    pharmacist = UserFactory(role=Role.PHARMACIST)
    technician = UserFactory(email="tom@example.test", role=Role.TECHNICIAN)
    ready = advance(make_prescription(prescriber), "ready", pharmacist=pharmacist, technician=technician)

    sign_in(page, "tom@example.test", PASSWORD)
    # The page prices the parcel, then the purchase prices it again: the shipment answer is replayed.
    with recorded.use_cassette("label.yaml", allow_playback_repeats=True) as cassette:
        page.goto(f"/pharmacy/prescriptions/{ready.pk}/")
        page.get_by_label("USPS GroundAdvantage: $5.61, 4 days").check()
        assert_accessible(page, "ship with a bought label")
        screenshot(page, "13-ship-with-a-bought-label")
        page.get_by_role("button", name="Buy label and ship").click()
        page.wait_for_load_state()
        label = page.get_by_role("link", name="Print the shipping label")
        label.wait_for()

    assert cassette.all_played
    fill = Fill.objects.get(prescription=ready, number=1)
    assert fill.status == PrescriptionStatus.SHIPPED
    assert label.get_attribute("href") == fill.label_url
    assert_accessible(page, "shipped with a bought label")
