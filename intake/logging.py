"""Keep patient data and secrets out of log lines.

`redact` replaces what identifies a patient or unlocks an account: email addresses, phone
numbers, dates (a date of birth looks like any other date), credentials in `name=value` or
`"name": "value"` form, `Token …`/`Bearer …` headers, long random keys, and the token part of
questionnaire links. Ordinary numbers (counts, decimals, `2.3e-05`, IP addresses, versions) stay.
Names cannot be told from other words, so code must not log them: log ids and references.
"""

from __future__ import annotations

import logging
import re

# A phone number is either international (a "+" and 8 to 15 digits, single separators allowed)
# or North American in the 3-3-4 shape; area code and exchange never start with 0 or 1, which
# keeps most bare 10-digit numbers (timestamps, "1234567890") out. Neither may touch other digits,
# letters or a decimal point, so parts of decimals, exponents and addresses never match.
_NOT_AFTER = r"(?<![\w.+/-])"
_NOT_BEFORE = r"(?![\w]|[.,]\d)"
_INTERNATIONAL_PHONE = r"\+\d(?:[ .\-]?\(?\d\)?){7,14}"
_NANP_PHONE = r"(?:1[ .\-]?)?(?:\([2-9]\d{2}\)\s?|[2-9]\d{2}[ .\-]?)[2-9]\d{2}[ .\-]?\d{4}"

# Names whose value is a credential, in a query string, a header, a dict or JSON.
_CREDENTIAL_NAMES = (
    r"[\w-]*(?:token|password|passwd|passphrase|secret|api[_-]?key|sessionid|session_key|authorization|cookie)[\w-]*"
)
_QUOTED_OR_BARE_VALUE = r"(?:\"[^\"]*\"|'[^']*'|(?:(?:Token|Bearer|Basic)\s+)?[^\s'\",&;)}\]]+)"

_PATTERNS: list[tuple[re.Pattern[str], str]] = [
    # Links first: their tokens would otherwise be half-eaten by the generic rules below.
    (re.compile(r"(/(?:api/v1/)?questionnaires?/)[^/\s?#\"'<>]+"), r"\1[token]"),
    # The status and check-in links carry the same kind of token; their fixed words ("refill") stay.
    (re.compile(r"(/(?:api/v1/)?(?:status|check-ins?)/)[A-Za-z0-9_-]{16,}"), r"\1[token]"),
    (re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+"), "[email]"),
    (
        re.compile(rf"(?i)\b({_CREDENTIAL_NAMES})(\"?'?\s*[:=]\s*)({_QUOTED_OR_BARE_VALUE})"),
        r"\1\2[redacted]",
    ),
    (re.compile(r"(?i)\b(Token|Bearer|Basic)\s+[\w.~+/=-]{8,}"), r"\1 [redacted]"),
    (
        re.compile(r"(?i)\b(date_of_birth|dob|birth_?date)(\"?'?\s*[:=]\s*)(?:\"[^\"]*\"|'[^']*'|[^\s&,;]+)"),
        r"\1\2[redacted]",
    ),
    (re.compile(r"(?<![\w-])\d{4}-\d{2}-\d{2}(?![\w-]|:\d)"), "[date]"),
    (re.compile(r"(?<![\w/.])\d{1,2}/\d{1,2}/\d{4}(?![\w/])"), "[date]"),
    (re.compile(_NOT_AFTER + r"(?:" + _INTERNATIONAL_PHONE + "|" + _NANP_PHONE + r")" + _NOT_BEFORE), "[phone]"),
    # Long random keys (API tokens, link tokens, session keys) seen without a name beside them:
    # 32+ characters of letters and digits, with both in them, so words and identifiers stay.
    (re.compile(r"(?<![\w-])(?=[\w-]*\d)(?=[\w-]*[A-Za-z])[A-Za-z0-9_-]{32,}(?![\w-])"), "[secret]"),
]


def redact(text: str) -> str:
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return text


class RedactPatientDataFilter(logging.Filter):
    """Rewrite each record's message, exception and stack text through `redact` before any handler writes it."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a bad format string must not lose the log line
            message = str(record.msg)
        record.msg = redact(message)
        record.args = None
        if record.exc_info and not record.exc_text:
            # Exception messages carry values (a ValidationError with an email); format them here
            # so the handler's formatter uses the redacted text instead of formatting them again.
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        return True
