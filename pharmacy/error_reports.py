"""Error reports to Sentry when SENTRY_DSN is set, with nothing of a patient in them.

A report keeps what finds the bug: the exception's class, the stack (files, functions, lines, no
local variables), the route, the request's method and id (to find its log lines). It loses what can
hold a patient: request bodies, query strings, cookies, headers, local variables, the user, and an
exception's message (a row's values, a name) unless it comes from the machinery, as in the logs.
The free text left (messages, the URL and route, breadcrumbs) passes the logs' redaction, which also
drops link tokens from URLs.
"""

from __future__ import annotations

from typing import Any, cast

import sentry_sdk
from sentry_sdk.integrations.celery import CeleryIntegration
from sentry_sdk.integrations.django import DjangoIntegration
from sentry_sdk.types import Event, Hint

from intake.logging import current_request_id, exception_message_kept, redact

WITHHELD = "[message withheld]"


def error_reports_start(*, dsn: str, environment: str, **options: Any) -> None:
    """sentry_sdk.init with the pharmacy's scrubbing; `options` add to it (tests pass a transport)."""
    sentry_sdk.init(
        dsn=dsn,
        environment=environment,
        # Only these and the SDK's defaults: no integration switched on because its library is
        # installed (Redis commands as breadcrumbs would carry cache and throttle keys).
        integrations=[DjangoIntegration(), CeleryIntegration()],
        auto_enabling_integrations=False,
        # What the integrations collect (send_default_pii=False, the older switch, said less): no
        # user, cookies, headers, bodies, query strings, SQL parameters, task arguments or locals.
        data_collection={
            "user_info": False,
            "cookies": {"mode": "off"},
            "http_headers": {"request": {"mode": "off"}},
            "http_bodies": [],
            "url_query_params": {"mode": "off"},
            "database_query_data": False,
            "queues": False,
            "stack_frame_variables": False,
            "gen_ai": {"inputs": False, "outputs": False},
        },
        before_send=error_report_scrub,
        before_breadcrumb=breadcrumb_scrub,
        **options,
    )


def _redacted(value: Any) -> Any:
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, dict):
        return {key: _redacted(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_redacted(item) for item in value]
    return value


def _kept_messages(hint: Hint) -> set[tuple[str, str]]:
    """(class name, message) of the exceptions in the chain whose messages may be sent."""
    kept: set[tuple[str, str]] = set()
    exc_info = hint.get("exc_info")
    current = exc_info[1] if exc_info else None
    while current is not None and (type(current).__name__, str(current)) not in kept:
        if exception_message_kept(current):
            kept.add((type(current).__name__, str(current)))
        current = current.__cause__ or (None if current.__suppress_context__ else current.__context__)
    return kept


def error_report_scrub(event: Event, hint: Hint) -> Event:
    """before_send: what a report may hold (see the module's docstring)."""
    kept = _kept_messages(hint)
    report = cast("dict[str, Any]", event)  # read and changed as the plain dict it is
    for exception in (report.get("exception") or {}).get("values") or []:
        value = exception.get("value")
        if value:
            exception["value"] = redact(value) if (exception.get("type"), value) in kept else WITHHELD
        for frame in (exception.get("stacktrace") or {}).get("frames") or []:
            frame.pop("vars", None)
    for thread in (report.get("threads") or {}).get("values") or []:
        for frame in (thread.get("stacktrace") or {}).get("frames") or []:
            frame.pop("vars", None)
    request = report.get("request")
    if request:
        report["request"] = {"method": request.get("method"), "url": redact((request.get("url") or "").split("?")[0])}
    report.pop("user", None)
    logentry = report.get("logentry")
    if logentry:
        # The message as written (ids, not names, in this code base), without the values passed to it.
        report["logentry"] = {"message": redact(str(logentry.get("message") or ""))}
    # Free text only: the event's own ids (event_id, release, trace ids) look like the long keys that
    # the redaction removes, and Sentry needs them.
    for name in ("message", "transaction"):
        if isinstance(report.get(name), str):
            report[name] = redact(report[name])
    for name in ("extra", "breadcrumbs"):
        if name in report:
            report[name] = _redacted(report[name])
    request_id = current_request_id.get()
    if request_id:
        report.setdefault("tags", {})["request_id"] = request_id
    return event


def breadcrumb_scrub(crumb: dict[str, Any], hint: Hint) -> dict[str, Any]:
    """before_breadcrumb: a log line or an HTTP call on the way to the error, redacted as the logs are,
    without the values passed beside it."""
    crumb.pop("data", None)
    return _redacted(crumb)
