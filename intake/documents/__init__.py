"""Printable documents made with ReportLab: the prescription label and the compounding worksheet."""

from intake.documents.label import prescription_label_pdf
from intake.documents.worksheet import compounding_worksheet_pdf

__all__ = ["compounding_worksheet_pdf", "prescription_label_pdf"]
