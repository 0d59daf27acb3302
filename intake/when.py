"""Dates, times and durations as the pharmacy writes them, the same on pages, messages and PDFs.

"Tuesday, December 8, 2026", "December 8, 2026, 2:05 PM", "30 days", as an American pharmacy
writes them: one unit for a duration, never
"4 weeks, 1 day", and days rather than weeks or months because the pharmacy counts in days
(a link works for 30 days, a beyond-use date is 14 days away). Times are the pharmacy's local time.
In the active language (a Spanish patient's page or message: "martes, 8 de diciembre de 2026"),
written by babel from the CLDR's American English and US Spanish.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Final

from babel.dates import format_date, format_time
from django.utils import timezone, translation
from django.utils.translation import gettext, ngettext

# The CLDR locale per language the pharmacy writes; anything else is written as American English.
BABEL_LOCALES: Final = {"en": "en_US", "es": "es_US"}


def babel_locale(language: str | None = None) -> str:
    """The babel locale of `language`, by default the active one."""
    code = (language or translation.get_language() or "en").split("-")[0]
    return BABEL_LOCALES.get(code, BABEL_LOCALES["en"])


def _local_date(value: date | datetime) -> date:
    if isinstance(value, datetime):
        return timezone.localdate(value) if timezone.is_aware(value) else value.date()
    return value


def date_words(value: date | datetime, *, weekday: bool = False) -> str:
    """'December 8, 2026', or with the weekday 'Tuesday, December 8, 2026'."""
    return format_date(_local_date(value), "full" if weekday else "long", locale=babel_locale())


def datetime_words(moment: datetime) -> str:
    """'December 8, 2026, 2:05 PM' in the pharmacy's time zone."""
    local = timezone.localtime(moment) if timezone.is_aware(moment) else moment
    # CLDR puts a narrow no-break space before AM/PM: a plain one reads the same in a text message.
    clock = format_time(local, "short", locale=babel_locale()).replace("\u202f", " ")
    return f"{date_words(local)}, {clock}"


def duration_words(length: timedelta) -> str:
    """'less than a minute', '5 minutes', '2 hours', '30 days': the nearest whole count of one unit."""
    seconds = abs(length.total_seconds())
    # Rounded to the nearest unit: a 30-day link read a second after it was made still says 30 days.
    minutes = int(seconds / 60 + 0.5)
    if minutes < 1:
        return gettext("less than a minute")
    if minutes < 60:
        return ngettext("%(count)d minute", "%(count)d minutes", minutes) % {"count": minutes}
    hours = int(seconds / 3600 + 0.5)
    if hours < 24:
        return ngettext("%(count)d hour", "%(count)d hours", hours) % {"count": hours}
    days = int(seconds / 86_400 + 0.5)
    return ngettext("%(count)d day", "%(count)d days", days) % {"count": days}


def duration_from_now(moment: datetime, now: datetime | None = None) -> str:
    """How far a moment is from now, before or after: '3 days' (for '3 days ago' or 'for 3 days')."""
    return duration_words(moment - (now or timezone.now()))
