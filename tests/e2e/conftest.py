"""Browser journeys: Playwright drives Debian's Chromium against pytest-django's live server."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

CHROMIUM = Path(os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium"))
AXE_SCRIPT = Path(__file__).with_name("axe.min.js")  # axe-core 4.11, from npm
SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if CHROMIUM.exists():
        return
    skip = pytest.mark.skip(reason=f"no Chromium at {CHROMIUM} (CI installs Debian's chromium package)")
    for item in items:
        if "e2e" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    # Django refuses synchronous ORM calls from a thread with a running event loop; Playwright's sync
    # API runs one for the whole session, and the journeys use the ORM (and flush the database)
    # between browser steps. Set only once a journey runs, and removed after.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM),
            headless=True,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                  "--disable-sync", "--no-first-run", "--disable-quic"],
        )  # fmt: skip
        yield browser
        browser.close()
    os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)


def _watch_console(page, problems: list[str]) -> None:
    # A CSP violation or a script error in the browser fails the journey.
    page.on("console", lambda message: problems.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: problems.append(str(error)))


@pytest.fixture
def page(browser, live_server) -> Iterator[object]:
    # Reduced motion: Bootstrap then skips its colour transitions, so axe never measures a button
    # half-way between two colours.
    context = browser.new_context(
        base_url=live_server.url, viewport={"width": 1280, "height": 900}, reduced_motion="reduce"
    )
    page = context.new_page()
    page.set_default_timeout(15_000)
    problems: list[str] = []
    _watch_console(page, problems)
    _console_problems[id(page)] = problems
    yield page
    context.close()
    _console_problems.pop(id(page), None)
    assert not problems, f"browser console errors: {problems}"


# Each page's console errors so far, for a journey that provokes some on purpose (a refused form
# answers 400 and the browser logs it); any other error still fails the journey.
_console_problems: dict[int, list[str]] = {}


def expect_console_errors(page, *statuses: int) -> None:
    """The page's console errors are exactly these HTTP statuses, in order; they are then forgotten."""
    problems = _console_problems[id(page)]
    assert problems == [f"Failed to load resource: the server responded with a status of {status} "
                        f"({_REASONS[status]})" for status in statuses], problems  # fmt: skip
    problems.clear()


_REASONS = {400: "Bad Request", 403: "Forbidden"}


@pytest.fixture
def phone_page(browser, live_server) -> Iterator[object]:
    """A patient's phone-sized screen."""
    context = browser.new_context(
        base_url=live_server.url,
        viewport={"width": 390, "height": 844},
        is_mobile=True,
        has_touch=True,
        reduced_motion="reduce",
    )
    page = context.new_page()
    page.set_default_timeout(15_000)
    problems: list[str] = []
    _watch_console(page, problems)
    yield page
    context.close()
    assert not problems, f"browser console errors: {problems}"


def screenshot(page, name: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def assert_accessible(page, name: str) -> None:
    """axe-core finds no serious or critical violation on the page as it stands."""
    # Evaluated through the DevTools protocol, not as an inline <script>, so the page's CSP stays on.
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.evaluate(AXE_SCRIPT.read_text(encoding="utf-8") + "\n;undefined")
    result = page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
    serious = [v for v in result["violations"] if v.get("impact") in ("serious", "critical")]
    details = [
        {"id": v["id"], "impact": v["impact"], "help": v["help"], "nodes": [n["target"] for n in v["nodes"][:5]]}
        for v in serious
    ]
    assert not serious, f"{name}: accessibility violations: {json.dumps(details, indent=1)}"


def sign_in(page, email: str, password: str) -> None:
    page.goto("/accounts/login/")
    page.get_by_label("Email address").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_load_state()


def fill_new_prescription(page) -> None:
    """The new-prescription form filled for Ada Lovelace, 4.5 mg capsules for 30 days, unsigned."""
    page.get_by_label("First name").fill("Ada")
    page.get_by_label("Last name").fill("Lovelace")
    page.get_by_label("Date of birth").fill("1980-02-29")
    page.get_by_label("Sex").select_option("F")
    page.get_by_label("Email").fill("ada@example.com")
    page.locator("#id_patient-address_line1").fill("1 Main St")
    page.get_by_label("City").fill("Austin")
    page.locator("#id_patient-state").select_option("TX")
    page.get_by_label("ZIP code").fill("78701")
    page.get_by_label("Dosage form").select_option("capsule")
    page.locator("#id_rx-strength_mg").fill("4.5")
    page.get_by_label("Directions").fill("Take 1 capsule by mouth at bedtime")
    page.get_by_label("Quantity").fill("30")
    page.get_by_label("Days supply").fill("30")
    page.get_by_label("Indication").fill("fibromyalgia")
