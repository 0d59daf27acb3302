#!/usr/bin/env bash
# Set up and run every check and test. Uses PostgreSQL/Redis when DATABASE_URL/CELERY_BROKER_URL
# say so; otherwise SQLite and in-process tasks (tests that need the real services are skipped).
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/install.sh --dev
echo "== ruff"
.venv/bin/ruff check .
.venv/bin/ruff format --check --quiet .
echo "== import contracts"
.venv/bin/lint-imports
echo "== migrations are up to date"
.venv/bin/python manage.py makemigrations --check --dry-run >/dev/null
echo "== mypy"
.venv/bin/mypy pharmacy accounts intake bench
echo "== pytest"
.venv/bin/python -m pytest "$@"
