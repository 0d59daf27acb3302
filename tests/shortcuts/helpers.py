"""What a browser would post back from a form page: the values the page shows, field by field."""

from __future__ import annotations

from typing import Any

PDF = b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89"
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00\xff\xd9"
HTML = b"<!doctype html><html><body><script>alert(document.cookie)</script></body></html>"
EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\x00" * 64 + b"PE\x00\x00"


def shown_values(form: Any) -> dict[str, str]:
    data: dict[str, str] = {}
    for field in form:
        value = field.value()
        if value in (None, False, ""):
            continue
        if value is True:
            value = "on"
        elif isinstance(value, list):
            value = "\n".join(value)
        data[field.html_name] = str(value)
    return data


def page_as_posted(context: Any) -> dict[str, str]:
    """The new-prescription page's forms as the browser posts them, unchanged."""
    data = {**shown_values(context["patient_form"]), **shown_values(context["prescription_form"])}
    formset = context["formset"]
    data.update(shown_values(formset.management_form))
    for form in formset.forms:
        data.update(shown_values(form))
    data.update(shown_values(context["signature_form"]))
    data["form_token"] = context["form_token"]
    return data


PATIENT = {
    "patient-first_name": "Ada", "patient-last_name": "Lovelace", "patient-date_of_birth": "1980-02-29",
    "patient-sex": "F", "patient-email": "ada@example.com", "patient-phone": "+15555550123",
    "patient-contact_preference": "email", "patient-language": "en", "patient-address_line1": "1 Main St",
    "patient-city": "Austin",
    "patient-state": "TX", "patient-postal_code": "78701",
}  # fmt: skip
SIGNED = {"sign-signature_name": "Grace Hopper", "sign-signature_attestation": "on"}
