"""What the label and the worksheet share: styles, the document frame, the barcode."""

from __future__ import annotations

from io import BytesIO
from typing import Any

from django.conf import settings
from reportlab.graphics.barcode.code128 import Code128
from reportlab.lib.styles import ParagraphStyle, getSampleStyleSheet
from reportlab.platypus import Flowable, Paragraph, SimpleDocTemplate
from reportlab.platypus.flowables import Spacer

from intake.models import Prescription

# Printed on every label: USP <795>'s and the pharmacy's own additions; kept short enough
# for a 4 x 4 inch label.
RX_ONLY = "Rx only"
COMPOUNDED_NOTICE = "This is a compounded drug"
AUXILIARY_WARNING = "Do not take opioid pain medicine while taking this."
LABEL_WARNINGS = (
    "Naltrexone blocks opioids and can cause withdrawal. Tell every doctor, dentist and surgeon that you take it.",
    "Keep out of the reach of children.",
)


def escape(text: Any) -> str:
    """Text for a Paragraph, whose markup is XML-like."""
    return str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def styles(base_size: float) -> dict[str, ParagraphStyle]:
    sheet = getSampleStyleSheet()
    body = ParagraphStyle("body", parent=sheet["Normal"], fontName="Helvetica", fontSize=base_size,
                          leading=base_size * 1.22)  # fmt: skip
    return {
        "body": body,
        "small": ParagraphStyle("small", parent=body, fontSize=base_size * 0.85, leading=base_size * 1.05),
        "bold": ParagraphStyle("bold", parent=body, fontName="Helvetica-Bold"),
        "title": ParagraphStyle(
            "title", parent=body, fontName="Helvetica-Bold", fontSize=base_size * 1.3, leading=base_size * 1.55
        ),  # fmt: skip
        "heading": ParagraphStyle(
            "heading",
            parent=body,
            fontName="Helvetica-Bold",
            fontSize=base_size * 1.1,
            leading=base_size * 1.4,
            spaceBefore=base_size * 0.6,
            spaceAfter=2,
        ),  # fmt: skip
        "notice": ParagraphStyle("notice", parent=body, fontName="Helvetica-Bold", fontSize=base_size * 1.05),
    }


def barcode(code: str, *, bar_height: float, bar_width: float) -> Flowable:
    """Code 128 of `code`, the bars alone: the caller prints the code's text on a line of its own
    below (the barcode's own human-readable line is drawn inside the bars' box and overlaps them)."""
    return Code128(code, barHeight=bar_height, barWidth=bar_width, humanReadable=False, quiet=False)


def render(story: list[Flowable], *, pagesize: tuple[float, float], margin: float, title: str) -> bytes:
    """Build the PDF. invariant=1 makes the same input give the same bytes (no timestamp or random
    id); uncompressed pages keep the text searchable, which the tests rely on."""
    buffer = BytesIO()
    doc = SimpleDocTemplate(
        buffer, pagesize=pagesize, leftMargin=margin, rightMargin=margin, topMargin=margin, bottomMargin=margin,
        title=title, author=settings.PHARMACY_NAME, creator=settings.PHARMACY_NAME, invariant=1, pageCompression=0,
    )  # fmt: skip
    doc.build(story)
    return buffer.getvalue()


def medication_name(prescription: Prescription) -> str:
    return (
        f"Naltrexone HCl {prescription.strength_mg.normalize():f} mg {prescription.get_dosage_form_display().lower()}"
    )


def spacer(height: float) -> Spacer:
    return Spacer(1, height)


__all__ = ["AUXILIARY_WARNING", "COMPOUNDED_NOTICE", "LABEL_WARNINGS", "RX_ONLY", "Paragraph", "barcode", "escape",
           "medication_name", "render", "spacer", "styles"]  # fmt: skip
