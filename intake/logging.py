"""Keep patient data and secrets out of log lines.

`redact` replaces what identifies a patient or unlocks an account: email addresses, phone
numbers, dates (a date of birth looks like any other date), credentials in `name=value` or
`"name": "value"` form, `Token …`/`Bearer …` headers, long random keys, and the token part of
questionnaire links. Ordinary numbers (counts, decimals, `2.3e-05`, IP addresses, versions) stay.
Names cannot be told from other words, so code must not log them: log ids and references. For the
same reason a logged traceback keeps each exception's class and stack but not its message, unless the
exception comes from the machinery (a refused connection, a timeout), whose messages carry no rows.

Each line also carries the request it was written for: `RequestIdMiddleware` keeps the id in
`current_request_id` while the request runs, `RequestIdFilter` puts it on every record, and the
Celery signal handlers below carry it into the tasks the request queued. `JsonFormatter` writes a
line as one JSON object (LOG_FORMAT=json).
"""

from __future__ import annotations

import json
import logging
import re
import traceback
import uuid
from contextvars import ContextVar, Token
from datetime import UTC, datetime
from typing import Any

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


# Exceptions whose messages describe the machinery (an address, a timeout, a lock), never a row:
# matched by name, so that this module needs neither Django's nor a driver's classes.
_MACHINERY_ERRORS = frozenset({"OperationalError", "InterfaceError", "SoftTimeLimitExceeded", "TimeLimitExceeded"})
_CAUSE = "\nThe above exception was the direct cause of the following exception:\n\n"
_CONTEXT = "\nDuring handling of the above exception, another exception occurred:\n\n"


def exception_message_kept(exc: BaseException) -> bool:
    """Whether an exception's message may be written down: only the machinery's."""
    return isinstance(exc, OSError) or type(exc).__name__ in _MACHINERY_ERRORS


def _exception_line(exc: BaseException) -> str:
    kind = type(exc)
    if exception_message_kept(exc) or not str(exc):
        return redact("".join(traceback.format_exception_only(kind, exc)))
    name = kind.__qualname__ if kind.__module__ == "builtins" else f"{kind.__module__}.{kind.__qualname__}"
    return f"{name}: [message withheld]\n"


def traceback_without_messages(exc: BaseException) -> str:
    """Like `logging.Formatter.formatException`, but each exception in the chain shows its class and
    stack only: a message can hold anything (a database row's values, a form's input, a name)."""
    parts: list[str] = []
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        stack = "".join(traceback.format_tb(current.__traceback__))
        parts.append(("Traceback (most recent call last):\n" + stack if stack else "") + _exception_line(current))
        if current.__cause__ is not None:
            parts.append(_CAUSE)
            current = current.__cause__
        elif current.__context__ is not None and not current.__suppress_context__:
            parts.append(_CONTEXT)
            current = current.__context__
        else:
            current = None
    if parts and parts[-1] in (_CAUSE, _CONTEXT):
        parts.pop()  # the chain looped back on an exception already shown
    return "".join(reversed(parts)).rstrip("\n")


class RedactPatientDataFilter(logging.Filter):
    """Rewrite each record's message, exception and stack text through `redact` before any handler writes it."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a bad format string must not lose the log line
            message = str(record.msg)
        record.msg = redact(message)
        record.args = None
        if record.exc_info and record.exc_info[1] is not None and not record.exc_text:
            # Exception messages carry values (a ValidationError with an email, a row in an
            # IntegrityError); format the traceback here, without them, so the handler's formatter
            # uses this text instead of formatting the exception again.
            record.exc_text = traceback_without_messages(record.exc_info[1])
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        return True


# --- which request and task a line belongs to ------------------------------------------------------

REQUEST_ID_HEADER = "X-Request-ID"
# The Celery message header that carries the id from the request that queued a task to the worker.
TASK_REQUEST_ID_HEADER = "pharmacy_request_id"
# Written where a line belongs to no request (a worker's own lines, the beat's tasks, a command).
NO_REQUEST_ID = "-"
# An incoming id is kept only if it is short and plain, so that a client cannot write into the log.
_WELL_FORMED_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{8,128}")

current_request_id: ContextVar[str | None] = ContextVar("current_request_id", default=None)
current_task: ContextVar[tuple[str, str] | None] = ContextVar("current_task", default=None)


def request_id_accept(incoming: str | None) -> str:
    """The caller's X-Request-ID when it is well formed (a proxy's or a client's), else a new one."""
    if incoming and _WELL_FORMED_REQUEST_ID.fullmatch(incoming):
        return incoming
    return uuid.uuid4().hex


class RequestIdFilter(logging.Filter):
    """Put the request's id (`-` outside a request) and the running Celery task on every record."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = current_request_id.get() or NO_REQUEST_ID
        task = current_task.get()
        record.task_name, record.task_id = task if task else (None, None)
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object a line: time, level, logger, message, request id, and the task for task lines.

    Nothing from `extra` is written: only these fields, so a value passed beside a message cannot reach
    the log unredacted."""

    def format(self, record: logging.LogRecord) -> str:
        request_id = getattr(record, "request_id", NO_REQUEST_ID)
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, tz=UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": None if request_id == NO_REQUEST_ID else request_id,
        }
        task_name = getattr(record, "task_name", None)
        if task_name:
            line["task_name"] = task_name
            line["task_id"] = getattr(record, "task_id", None)
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            line["exception"] = record.exc_text
        if record.stack_info:
            line["stack"] = self.formatStack(record.stack_info)
        return json.dumps(line, ensure_ascii=False, default=str)


# Celery signal handlers, connected in pharmacy/celery.py. Tokens of the task runs under way, by task
# id, so that each run puts back what it found (an eager task runs inside the request that queued it).
_task_tokens: dict[str, tuple[Token[tuple[str, str] | None], Token[str | None] | None]] = {}


def request_id_to_task_headers(headers: dict[str, Any] | None = None, **_: Any) -> None:
    """before_task_publish: a task queued while a request (or a task) runs carries its id."""
    request_id = current_request_id.get()
    if request_id and headers is not None:
        headers[TASK_REQUEST_ID_HEADER] = request_id


def task_context_enter(task_id: str, task: Any, **_: Any) -> None:
    """task_prerun: the task's lines carry its name and id, and the id of the request that queued it."""
    task_token = current_task.set((task.name, task_id))
    carried = getattr(task.request, TASK_REQUEST_ID_HEADER, None) or (task.request.headers or {}).get(
        TASK_REQUEST_ID_HEADER
    )
    request_token = current_request_id.set(carried) if carried else None
    _task_tokens[task_id] = (task_token, request_token)


def task_context_leave(task_id: str, **_: Any) -> None:
    """task_postrun: put back what the task found."""
    tokens = _task_tokens.pop(task_id, None)
    if tokens is None:
        return
    task_token, request_token = tokens
    current_task.reset(task_token)
    if request_token is not None:
        current_request_id.reset(request_token)
