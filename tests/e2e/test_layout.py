"""In a browser: every staff page, and the prescriber's and patient's main pages, fit a phone's width
(390 px) and a desktop's (1280 px) without scrolling sideways, and the staff menu is one line on a desktop.
A wide table may scroll inside its own box; the page itself never does."""

from datetime import date, timedelta

import pytest
from django.contrib.auth.models import Group
from django.utils import timezone

from accounts.models import Role
from intake.models import FollowUp, PrescriptionStatus
from intake.services.questionnaire import questionnaire_submit
from intake.services.stock import stock_receive
from intake.services.timers import follow_up_send
from intake.services.workflow import prescription_claim
from tests.e2e.conftest import assert_accessible, screenshot, sign_in
from tests.e2e.test_journeys_pharmacy import staff  # noqa: F401 (the fixture)
from tests.factories import PASSWORD, clean_answers, make_prescription
from tests.workflow_helpers import advance

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]
S = PrescriptionStatus
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}

# How far the page reaches past the screen, in CSS pixels (0 when nothing overflows). Measured against
# the screen's width, not window.innerWidth: a phone's browser widens its window to a page that overflows.
OVERFLOW = "width => document.documentElement.scrollWidth - width"
# The elements that stick out past the right edge, to name the culprit when a page overflows.
WIDE_ELEMENTS = """width => [...document.querySelectorAll('body *')]
  .filter(e => e.getBoundingClientRect().right > width + 1 && !e.closest('.table-responsive'))
  .slice(0, 5).map(e => e.tagName.toLowerCase() + (e.className ? '.' + String(e.className).replace(/ /g, '.') : ''))"""


PATIENTS = ("Mary Shelley", "Charles Babbage", "Emmy Noether", "Alan Turing", "Rosalind Franklin", "Marie Curie",
            "Carl Gauss", "Ada Lovelace")  # fmt: skip


def _prescription(people: dict, patient: str):
    """A new patient's prescription, so that the queue shows no duplicate orders."""
    first, last = patient.split()
    return make_prescription(people["prescriber"], patient={"first_name": first, "last_name": last,
                                                            "email": f"{first.lower()}@example.com"})  # fmt: skip


def _seed(people: dict) -> dict[str, str]:
    """One prescription at each step the staff pages show; returns the pages to visit by name."""
    pharmacist, technician = people["pharmacist"], people["technician"]
    both = {"pharmacist": pharmacist, "technician": technician}
    patients = iter(PATIENTS)
    # The widest menu: a pharmacist who also administers the pharmacy (the audit trail shows).
    pharmacist.groups.add(Group.objects.get_or_create(name=Role.ADMIN)[0])

    for _ in range(3):
        advance(_prescription(people, next(patients)), S.PENDING_REVIEW, **both)
    compounding = advance(_prescription(people, next(patients)), S.COMPOUNDING, **both)
    final_check = advance(_prescription(people, next(patients)), S.FINAL_CHECK, **both)
    # Checked by the second pharmacist, so the first may ship it.
    ready = advance(_prescription(people, next(patients)), S.READY, pharmacist=people["checker"],
                    technician=technician)  # fmt: skip
    completed = advance(_prescription(people, next(patients)), S.COMPLETED, **both)
    follow_up_send(prescription_id=completed.pk, now=completed.updated_at)
    assert FollowUp.objects.filter(prescription=completed).exists()
    # Last: the patient's opioid answer would flag every later prescription of theirs as changed.
    flagged = _prescription(people, next(patients))
    questionnaire_submit(
        token=flagged.questionnaire_token,
        date_of_birth=date(1980, 2, 29),
        answers=clean_answers(
            takes_opioids=True, thyroid_medication=True, current_medications=["Norco 5/325 as needed"]
        ),
    )
    prescription_claim(prescription_id=flagged.pk, actor=pharmacist)
    # A lot running low, so the stock pages and the dashboard's card have a row to lay out.
    stock = stock_receive(actor=technician, ingredient="Microcrystalline cellulose NF", manufacturer="Spectrum",
                          lot="MCC-2026-00417", expires=timezone.localdate() + timedelta(days=20), unit="g",
                          quantity="12.5", low_stock_below="50")  # fmt: skip
    return {
        "queue": "/pharmacy/queue/",
        "review": f"/pharmacy/prescriptions/{flagged.pk}/",
        "compounding": f"/pharmacy/prescriptions/{compounding.pk}/compounding/",
        "final-check": f"/pharmacy/prescriptions/{final_check.pk}/final-check/",
        "ship": f"/pharmacy/prescriptions/{ready.pk}/",
        "completed": f"/pharmacy/prescriptions/{completed.pk}/",
        "follow-ups": "/pharmacy/follow-ups/",
        "notifications": "/pharmacy/notifications/",
        "audit": "/pharmacy/audit/",
        "dashboard": "/pharmacy/dashboard/",
        "licences": "/pharmacy/licences/",
        "formulary": "/pharmacy/formulary/",
        "stock": "/pharmacy/stock/",
        "stock-lot": f"/pharmacy/stock/{stock.pk}/",
        "stock-receive": "/pharmacy/stock/receive/",
        "reference": ready.reference,
    }


def _overflow(page, name: str) -> str | None:
    width = page.viewport_size["width"]
    wide = page.evaluate(OVERFLOW, width)
    if wide <= 0:
        return None
    return f"{name} is {wide}px wider than the window: {page.evaluate(WIDE_ELEMENTS, width)}"


def _visit(page, url: str) -> None:
    response = page.goto(url)
    assert response is not None
    assert response.status == 200, url
    page.wait_for_load_state()


def _sign_out(page) -> None:
    toggler = page.get_by_role("button", name="Show navigation")
    if toggler.is_visible() and toggler.get_attribute("aria-expanded") != "true":
        toggler.click()
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_load_state()


def test_staff_prescriber_and_patient_pages_fit_a_phone_and_a_desktop(browser, live_server, staff):  # noqa: F811
    pages = _seed(staff)
    reference = pages.pop("reference")
    problems: list[str] = []
    for size, viewport in (("phone", PHONE), ("desktop", DESKTOP)):
        phone = size == "phone"
        context = browser.new_context(base_url=live_server.url, viewport=viewport, is_mobile=phone,
                                      has_touch=phone, reduced_motion="reduce")  # fmt: skip
        page = context.new_page()
        page.set_default_timeout(15_000)
        # A script error or a refused inline style or script (the CSP) fails the test.
        errors: list[str] = []
        page.on("pageerror", lambda error, errors=errors: errors.append(str(error)))
        page.on(
            "console", lambda message, errors=errors: errors.append(message.text) if message.type == "error" else None
        )

        sign_in(page, "paula@example.test", PASSWORD)
        for name, url in pages.items():
            _visit(page, url)
            problems.append(_overflow(page, f"{size} {name}"))
            if phone:
                assert_accessible(page, f"{size} {name}")
            if phone and name == "queue":
                # Each row a card: the queue's table needs no sideways scrolling at all.
                box = (
                    "() => { const box = document.querySelector('.table-queue').parentElement; "
                    "return box.scrollWidth - box.clientWidth }"
                )
                problems.append("phone queue: the table scrolls sideways" if page.evaluate(box) > 0 else None)
            if name in ("queue", "review"):
                screenshot(page, f"layout-{name}-{size}")
        menu = page.locator("#main-nav")
        if phone:
            # The menu folds behind its button and opens with Bootstrap's script (no inline script).
            assert not menu.is_visible()
            page.get_by_role("button", name="Show navigation").click()
            page.get_by_role("link", name="Queue", exact=True).wait_for()
            assert_accessible(page, "phone menu open")
        else:
            # One line: the menu is no taller than one of its links, give or take a few pixels.
            link_height = page.locator("#main-nav .nav-link").first.bounding_box()["height"]
            menu_height = menu.bounding_box()["height"]
            if menu_height > link_height + 8:
                problems.append(f"the staff menu is {menu_height}px high, a line of links {link_height}px")
            page.get_by_role("button", name="More").click()
            page.get_by_role("link", name="Licences").click()
            page.get_by_role("heading", name="State licences").wait_for()
        _sign_out(page)

        sign_in(page, "grace@example.test", PASSWORD)
        for name, url in (("prescriber home", "/prescriber/"), ("new prescription", "/prescriber/prescriptions/new/")):
            _visit(page, url)
            problems.append(_overflow(page, f"{size} {name}"))
            if phone:
                assert_accessible(page, f"{size} {name}")
        _sign_out(page)

        page.goto("/status/")
        page.get_by_label("Order number").fill(reference)
        page.get_by_label("Your date of birth").fill("1980-02-29")
        page.get_by_role("button", name="Check my order").click()
        page.get_by_text(reference).first.wait_for()
        problems.append(_overflow(page, f"{size} patient status"))
        if phone:
            assert_accessible(page, f"{size} patient status")
        context.close()
        assert not errors, f"{size}: browser errors: {errors}"

    overflowing = [problem for problem in problems if problem]
    assert not overflowing, "\n".join(overflowing)
