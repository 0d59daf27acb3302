"""Production settings pass `check --deploy` and turn the transport protections on."""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys

from django.conf import settings

# A clean environment: only what a process needs to start. Copying the test's own would carry
# test-only switches (DJANGO_ALLOW_ASYNC_UNSAFE from live-server tests, SECURE_* overrides) into
# what is meant to be production.
_PASSED_THROUGH = ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "VIRTUAL_ENV")


def _production_env(**extra: str) -> dict[str, str]:
    env = {key: os.environ[key] for key in _PASSED_THROUGH if key in os.environ}
    env.update({"DEBUG": "false", "SECRET_KEY": secrets.token_urlsafe(60), "ALLOWED_HOSTS": "pharmacy.example.com"})
    env.update(extra)
    return env


def _run(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603 - fixed arguments, our own interpreter
        [sys.executable, *args],
        cwd=settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_check_deploy_is_clean_with_production_settings():
    result = _run(["manage.py", "check", "--deploy", "--fail-level", "WARNING"], _production_env())

    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout
    assert "WARNINGS" not in result.stdout + result.stderr


def test_check_deploy_fails_on_a_warning():
    # The check above would pass unnoticed if warnings did not fail it: one that must.
    result = _run(
        ["manage.py", "check", "--deploy", "--fail-level", "WARNING"], _production_env(SECURE_HSTS_SECONDS="0")
    )

    assert result.returncode != 0
    assert "security.W004" in result.stderr


def test_check_deploy_runs_the_libraries_checks_and_silences_none():
    script = (
        "import json, django; from django.conf import settings; django.setup();"
        "from django.core.checks.registry import registry;"
        "checks = registry.get_checks(include_deployment_checks=True);"
        "print(json.dumps({'modules': sorted({c.__module__ for c in checks}),"
        "'silenced': settings.SILENCED_SYSTEM_CHECKS}))"
    )

    result = _run(["-c", script], _production_env(DJANGO_SETTINGS_MODULE="pharmacy.settings"))

    assert result.returncode == 0, result.stderr
    found = json.loads(result.stdout.strip().splitlines()[-1])
    assert {"axes.checks", "csp.checks", "django.core.checks.security.base"} <= set(found["modules"])
    # Accounts and addresses are both locked now: no check of axes or anyone else is hidden.
    assert found["silenced"] == []


def test_production_settings_protect_cookies_and_transport():
    script = (
        "import json, django; from django.conf import settings; django.setup(); print(json.dumps({"
        "'session_secure': settings.SESSION_COOKIE_SECURE, 'csrf_secure': settings.CSRF_COOKIE_SECURE,"
        "'session_httponly': settings.SESSION_COOKIE_HTTPONLY, 'ssl_redirect': settings.SECURE_SSL_REDIRECT,"
        "'hsts': settings.SECURE_HSTS_SECONDS, 'debug': settings.DEBUG, 'idle': settings.SESSION_COOKIE_AGE}))"
    )

    result = _run(["-c", script], _production_env(DJANGO_SETTINGS_MODULE="pharmacy.settings"))

    assert result.returncode == 0, result.stderr
    values = json.loads(result.stdout.strip().splitlines()[-1])
    assert values == {"session_secure": True, "csrf_secure": True, "session_httponly": True, "ssl_redirect": True,
                      "hsts": 31536000, "debug": False, "idle": 900}  # fmt: skip


def test_production_refuses_the_development_secret_key():
    env = _production_env(DJANGO_SETTINGS_MODULE="pharmacy.settings")
    del env["SECRET_KEY"]

    result = _run(["-c", "import django; django.setup()"], env)

    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr
