"""Words for a screening flag on the pages that show one: its title and sentence, its severity, what
raised it, the field it names and how it was verified. The words are in intake/clinical/words.py."""

from __future__ import annotations

from datetime import datetime

from django import template
from django.utils.dateparse import parse_datetime

from intake.clinical import words

register = template.Library()


@register.filter
def flag_title(code: str) -> str:
    return words.flag_title(code)


@register.filter
def flag_explanation(code: str) -> str:
    return words.flag_words(code).explanation


@register.filter
def flag_titles(codes: list[str]) -> str:
    return words.flag_titles(list(codes or []))


@register.filter
def severity_label(severity: str) -> str:
    return words.severity_label(severity)


@register.filter
def severity_explanation(severity: str) -> str:
    return words.severity_explanation(severity)


@register.filter
def flag_source(source: str) -> str:
    return words.source_label(source)


@register.filter
def field_label(path: str) -> str:
    return words.field_label(path)


@register.filter
def verification_method(method: str) -> str:
    return words.method_label(method)


@register.filter
def as_datetime(value: str) -> datetime | None:
    """A verification's time, stored as ISO 8601 text in the flag, as a datetime for |date."""
    return parse_datetime(value) if isinstance(value, str) else None
