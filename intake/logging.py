"""Keep patient data and secrets out of log lines."""

from __future__ import annotations

import logging
import re

# Things that identify a patient or unlock an account, matched in any log message.
_PATTERNS = [
    (re.compile(r"[\w.+-]+@[\w-]+\.[\w.-]+"), "[email]"),
    (re.compile(r"\b\d{4}-\d{2}-\d{2}\b"), "[date]"),
    (re.compile(r"\+?\d[\d ()\-.]{8,}\d"), "[phone]"),
    (re.compile(r"(?i)(token|password|secret|authorization)(['\"]?\s*[:=]\s*['\"]?)[^\s'\",&]+"), r"\1\2[redacted]"),
    (re.compile(r"/questionnaire/[\w-]{16,}"), "/questionnaire/[token]"),
    (re.compile(r"/api/v1/questionnaires/[\w-]{16,}"), "/api/v1/questionnaires/[token]"),
    (re.compile(r"(?i)(date_of_birth=)[^&\s]+"), r"\1[redacted]"),
]


def redact(text: str) -> str:
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return text


class RedactPatientDataFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a bad format string must not lose the log line
            message = str(record.msg)
        record.msg = redact(message)
        record.args = None
        return True
