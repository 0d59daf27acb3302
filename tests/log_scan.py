"""Every log line the suite writes, formatted as the configured handlers write it (plain and JSON), and
searched at the end for what identifies the patients the suite made: names, birth dates, medications,
private link tokens. tests/conftest.py runs one scan over the whole session; a test runs its own."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db.models.signals import post_save
from django.utils.module_loading import import_string

from intake.logging import RedactPatientDataFilter
from intake.models import FollowUp, Patient, Prescription, Questionnaire

# Words as a log line holds them: letters and digits, joined by a hyphen, apostrophe or dot ("O'Brien",
# "1980-02-29", a link token with "-" and "_"); a slash separates ("02/29/1980" is three words).
_WORD = re.compile(r"\w+(?:[-'.]\w+)*")


def _words(text: str) -> tuple[str, ...]:
    return tuple(_WORD.findall(text))


@dataclass(frozen=True)
class Offence:
    logger: str
    line: str
    found: str
    kind: str

    def __str__(self) -> str:
        return f"{self.kind} {self.found!r} in a line of logger {self.logger}: {self.line[:300]}"


@dataclass
class PatientDataSeen:
    """What to look for, recorded as the rows are saved (tests roll their rows back before the end).

    A single word (a last name, a token) must match exactly, case included, so that a last name like
    "Long" does not match "long"; a name or medication of several words matches in any case."""

    needles: dict[tuple[str, ...], str] = field(default_factory=dict)

    def add(self, text: str, kind: str) -> None:
        words = _words(text)
        if not words:
            return
        self.needles.setdefault(words if len(words) == 1 else tuple(w.casefold() for w in words), kind)

    def patient_saved(self, instance: Patient, **_: Any) -> None:
        self.add(f"{instance.first_name} {instance.last_name}", "patient name")
        self.add(f"{instance.last_name}, {instance.first_name}", "patient name")
        self.add(instance.last_name, "patient name")
        born = instance.date_of_birth
        if hasattr(born, "isoformat"):
            self.add(born.isoformat(), "birth date")
            self.add(born.strftime("%m/%d/%Y"), "birth date")

    def prescription_saved(self, instance: Prescription, **_: Any) -> None:
        self.add(instance.questionnaire_token, "questionnaire token")

    def questionnaire_saved(self, instance: Questionnaire, **_: Any) -> None:
        for medication in instance.current_medications or []:
            self.add(str(medication), "medication")

    def follow_up_saved(self, instance: FollowUp, **_: Any) -> None:
        self.add(instance.token, "check-in token")

    _RECEIVERS = (
        (Patient, "patient_saved"),
        (Prescription, "prescription_saved"),
        (Questionnaire, "questionnaire_saved"),
        (FollowUp, "follow_up_saved"),
    )

    def listen(self) -> None:
        for model, method in self._RECEIVERS:
            post_save.connect(getattr(self, method), sender=model, weak=False, dispatch_uid=(id(self), method))

    def stop(self) -> None:
        for model, method in self._RECEIVERS:
            post_save.disconnect(sender=model, dispatch_uid=(id(self), method))


class FormattedLines(logging.Handler):
    """Keeps each record as every configured formatter writes it, after the configured handlers'
    filters (the patient-data redaction among them), at the configured level."""

    def __init__(self) -> None:
        configured = logging.getLevelName(settings.LOGGING["root"].get("level", "WARNING"))
        super().__init__(level=configured if isinstance(configured, int) else logging.INFO)
        self.lines: list[tuple[str, str]] = []
        self.formatters = [_formatter(spec) for spec in settings.LOGGING["formatters"].values()]
        for handler in logging.getLogger().handlers:
            if any(isinstance(f, RedactPatientDataFilter) for f in handler.filters):
                for configured_filter in handler.filters:
                    self.addFilter(configured_filter)
        if not any(isinstance(f, RedactPatientDataFilter) for f in self.filters):
            raise RuntimeError("no configured root log handler redacts patient data: the scan would not be real")

    def emit(self, record: logging.LogRecord) -> None:
        for formatter in self.formatters:
            self.lines.append((record.name, formatter.format(record)))


def _formatter(spec: dict[str, Any]) -> logging.Formatter:
    if "()" in spec:
        return import_string(spec["()"])()
    return logging.Formatter(spec.get("format"), spec.get("datefmt"))


def offences_in(lines: Iterable[tuple[str, str]], seen: PatientDataSeen) -> list[Offence]:
    lengths = {len(needle) for needle in seen.needles}
    found: list[Offence] = []
    for logger_name, line in lines:
        matches = list(_WORD.finditer(line))
        words = tuple(m.group() for m in matches)
        folded = tuple(w.casefold() for w in words)
        for length in lengths:
            source = words if length == 1 else folded
            for start in range(len(source) - length + 1):
                kind = seen.needles.get(source[start : start + length])
                if kind is not None:
                    # the text as the line holds it: a token with "--" is two words but one finding
                    text = line[matches[start].start() : matches[start + length - 1].end()]
                    found.append(Offence(logger_name, line, text, kind))
    return found


class LogScan:
    """A capture of formatted lines and the patient data to look for in them."""

    def __init__(self) -> None:
        self.seen = PatientDataSeen()
        self.lines = FormattedLines()

    def start(self, logger: logging.Logger | None = None) -> None:
        self.seen.listen()
        (logger or logging.getLogger()).addHandler(self.lines)

    def stop(self, logger: logging.Logger | None = None) -> None:
        self.seen.stop()
        (logger or logging.getLogger()).removeHandler(self.lines)

    def offences(self) -> list[Offence]:
        return offences_in(self.lines.lines, self.seen)
