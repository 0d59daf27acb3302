"""Dates and durations in templates, as ``intake.when`` writes them everywhere else.

``{{ day|date_words }}``, ``{{ day|date_words:"weekday" }}``, ``{{ moment|datetime_words }}``,
``{{ length|duration_words }}`` for a timedelta or, for a moment, how far it is from now
(``asked {{ asked_at|duration_words }} ago``, ``works for {{ expires_at|duration_words }}``).
Anything else (None, an empty string) shows nothing, so ``|default:"-"`` still works.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from django import template

from intake import when

register = template.Library()


@register.filter
def date_words(value: object, style: str = "") -> str:
    if isinstance(value, date):  # a datetime is a date too
        return when.date_words(value, weekday=style == "weekday")
    return ""


@register.filter
def datetime_words(value: object) -> str:
    return when.datetime_words(value) if isinstance(value, datetime) else ""


@register.filter
def duration_words(value: object) -> str:
    if isinstance(value, datetime):
        return when.duration_from_now(value)
    if isinstance(value, timedelta):
        return when.duration_words(value)
    return ""
