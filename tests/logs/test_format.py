"""LOG_FORMAT=json writes each line as one JSON object; the redaction applies to it as to plain lines."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys

from django.conf import settings

from intake.logging import JsonFormatter, RedactPatientDataFilter, RequestIdFilter, current_request_id

SCRIPT = """
import django
django.setup()
import logging
logger = logging.getLogger("intake.example")
logger.warning("sent to %s", "ada@example.com")
try:
    raise ValueError("no patient Ada Lovelace born 1980-02-29")
except ValueError:
    logger.exception("submission failed")
"""


def _django(code: str, **env: str) -> subprocess.CompletedProcess[str]:
    """`code` run in a new process with the project's settings and `env` (an empty value unsets)."""
    environment = {**os.environ, "DJANGO_SETTINGS_MODULE": "pharmacy.settings", "DEBUG": "true", **env}
    return subprocess.run(  # noqa: S603 (our own command line)
        [sys.executable, "-c", code], cwd=settings.BASE_DIR,
        env={name: value for name, value in environment.items() if value},
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip


def test_log_format_json_writes_one_object_a_line_redacted():
    finished = _django(SCRIPT, LOG_FORMAT="json", LOG_LEVEL="INFO")

    assert finished.returncode == 0, finished.stderr
    lines = [json.loads(line) for line in finished.stderr.splitlines() if '"intake.example"' in line]
    assert [line["message"] for line in lines] == ["sent to [email]", "submission failed"]
    first, second = lines
    assert set(first) == {"time", "level", "logger", "message", "request_id"}
    assert first["level"] == "WARNING"
    assert first["logger"] == "intake.example"
    assert first["request_id"] is None
    assert first["time"].endswith("+00:00")
    assert second["level"] == "ERROR"
    assert "ValueError: [message withheld]" in second["exception"]
    assert "line 8, in <module>" in second["exception"]
    assert "Lovelace" not in finished.stderr
    assert "1980-02-29" not in finished.stderr


def test_the_plain_format_stays_the_default():
    finished = _django(SCRIPT, LOG_FORMAT="", LOG_LEVEL="INFO")

    assert finished.returncode == 0, finished.stderr
    first, second = [line for line in finished.stderr.splitlines() if "intake.example" in line]
    assert first.endswith(" WARNING intake.example - sent to [email]")
    assert second.endswith(" ERROR intake.example - submission failed")
    assert finished.stderr.rstrip().endswith("ValueError: [message withheld]")


def test_an_unknown_log_format_is_refused():
    finished = _django("import django; django.setup()", LOG_FORMAT="xml")

    assert finished.returncode != 0
    assert "LOG_FORMAT must be plain or json, not 'xml'" in finished.stderr


def test_the_json_formatter_names_the_request_and_leaves_extra_values_out():
    record = logging.makeLogRecord({"name": "intake.x", "levelno": logging.INFO, "levelname": "INFO",
                                    "msg": "claimed %s", "args": ("RX-7K2M9QX",),
                                    "patient": "Ada Lovelace"})  # fmt: skip
    token = current_request_id.set("lb-7f3a9c21")
    try:
        RequestIdFilter().filter(record)
        RedactPatientDataFilter().filter(record)
    finally:
        current_request_id.reset(token)

    line = json.loads(JsonFormatter().format(record))

    assert line["message"] == "claimed RX-7K2M9QX"
    assert line["request_id"] == "lb-7f3a9c21"
    assert "Ada" not in json.dumps(line)


def test_a_machinery_errors_message_stays_in_the_traceback():
    logger = logging.getLogger("tests.logs.machinery")
    record = None
    try:
        raise ConnectionRefusedError(111, "Connection refused")
    except OSError:
        record = logger.makeRecord(logger.name, logging.ERROR, __file__, 1, "broker down", (), sys.exc_info())
    RedactPatientDataFilter().filter(record)

    assert record.exc_text is not None
    assert record.exc_text.endswith("ConnectionRefusedError: [Errno 111] Connection refused")


def test_every_configured_handler_names_the_request():
    for name, handler in settings.LOGGING["handlers"].items():
        assert "request_id" in handler.get("filters", []), f"log handler {name} has no request id"
    assert settings.LOGGING["filters"]["request_id"]["()"] == "intake.logging.RequestIdFilter"
