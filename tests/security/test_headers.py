"""Every HTML page carries the security headers; no template holds inline script or style."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.conf import settings

from tests.security.url_inventory import parameterless_routes

TEMPLATES_DIR = Path(settings.BASE_DIR) / "templates"


def _directives(header: str) -> dict[str, list[str]]:
    directives: dict[str, list[str]] = {}
    for part in header.split(";"):
        words = part.split()
        if words:
            directives[words[0].lower()] = [word.lower() for word in words[1:]]
    return directives


def assert_security_headers(response, where: str) -> None:
    csp = response.get("Content-Security-Policy")
    assert csp, f"{where}: no Content-Security-Policy"
    directives = _directives(csp)
    script_src = directives.get("script-src", directives.get("default-src", []))
    assert script_src, f"{where}: CSP without script-src or default-src"
    assert "'unsafe-inline'" not in script_src, f"{where}: CSP allows inline script"
    assert "'unsafe-eval'" not in script_src, f"{where}: CSP allows eval"
    assert "'unsafe-inline'" not in directives.get("style-src", []), f"{where}: CSP allows inline style"
    assert directives.get("frame-ancestors") == ["'none'"], f"{where}: CSP allows framing"
    assert response.get("X-Frame-Options") == "DENY", f"{where}: X-Frame-Options"
    assert response.get("Referrer-Policy"), f"{where}: no Referrer-Policy"
    assert response.get("X-Content-Type-Options") == "nosniff", f"{where}: X-Content-Type-Options"


def _is_html(response) -> bool:
    return response.get("Content-Type", "").startswith("text/html")


@pytest.mark.parametrize("persona", [None, "prescriber", "technician", "pharmacist", "pharmacy_admin", "superuser"])
def test_every_html_response_carries_the_security_headers(client, login, request, persona, db):
    if persona is not None:
        user = request.getfixturevalue(persona)
        login(client, getattr(user, "user", user))
    checked = 0

    for route in parameterless_routes(include_admin=persona == "superuser"):
        response = client.get(route.path)
        if _is_html(response):
            assert_security_headers(response, f"GET {route.path} as {persona or 'anonymous'} ({response.status_code})")
            checked += 1

    assert checked > 0


def test_error_pages_carry_the_security_headers(client, login, technician):
    assert_security_headers(client.get("/no-such-page/"), "404 page")
    login(client, technician)
    response = client.get("/pharmacy/audit/")
    assert response.status_code == 403
    assert_security_headers(response, "403 page")


# What the CSP would block, found in the source rather than in a browser.
_INLINE_SCRIPT = re.compile(r"<script\b(?![^>]*\bsrc\s*=)[^>]*>", re.IGNORECASE)
_STYLE_ATTRIBUTE = re.compile(r"<[^>]*\sstyle\s*=", re.IGNORECASE)
_STYLE_ELEMENT = re.compile(r"<style\b", re.IGNORECASE)
_EVENT_HANDLER = re.compile(r"<[^>]*\son[a-z]+\s*=", re.IGNORECASE)
_JAVASCRIPT_URL = re.compile(r"""(?:href|src|action)\s*=\s*["']?\s*javascript:""", re.IGNORECASE)
_RULES = {
    "inline <script> without src": _INLINE_SCRIPT,
    "style= attribute": _STYLE_ATTRIBUTE,
    "<style> element": _STYLE_ELEMENT,
    "on*= event handler": _EVENT_HANDLER,
    "javascript: URL": _JAVASCRIPT_URL,
}


def inline_code_findings(text: str) -> list[str]:
    findings = []
    for label, rule in _RULES.items():
        for match in rule.finditer(text):
            line = text.count("\n", 0, match.start()) + 1
            findings.append(f"line {line}: {label}")
    return findings


def test_the_scanner_finds_what_it_looks_for():
    assert inline_code_findings("<script>alert(1)</script>")
    assert inline_code_findings('<p style="color:red">')
    assert inline_code_findings('<button class="x"\n onclick="go()">')
    assert inline_code_findings('<a href="javascript:void(0)">')
    assert inline_code_findings("<style>p{}</style>")
    assert not inline_code_findings('<script src="/static/js/app.js" defer></script>')
    assert not inline_code_findings("<p>Take it at bedtime; the onset=slow is fine</p>")
    assert not inline_code_findings('<button data-confirm="Sure?" class="btn">')


# E-mail bodies are never served by the site, so the CSP does not reach them, and mail programs drop
# <style> blocks: their inline style attributes are the one thing allowed, and only there.
_EMAIL_TEMPLATES = "notifications"
_ALLOWED_IN_EMAIL = ("style= attribute",)


def test_no_template_has_inline_script_style_or_handlers():
    templates = sorted(TEMPLATES_DIR.rglob("*.html"))
    assert templates

    findings = [
        f"{path.relative_to(TEMPLATES_DIR)} {finding}"
        for path in templates
        for finding in inline_code_findings(path.read_text(encoding="utf-8"))
        if not (path.relative_to(TEMPLATES_DIR).parts[0] == _EMAIL_TEMPLATES and finding.endswith(_ALLOWED_IN_EMAIL))
    ]

    assert findings == []


def test_answers_with_patient_data_are_never_stored_by_a_cache(client, login, pharmacist, prescriber):
    from tests.conftest import api_client_for
    from tests.factories import make_prescription

    prescription = make_prescription(prescriber)
    api = api_client_for(pharmacist)
    login(client, pharmacist)

    answers = [
        api.get(f"/api/v1/prescriptions/{prescription.pk}/"),
        api.get("/api/v1/prescriptions/"),
        client.get(f"/pharmacy/prescriptions/{prescription.pk}/"),
    ]

    for response in answers:
        assert response.status_code == 200
        assert "no-store" in response["Cache-Control"], response.request["PATH_INFO"]
