#!/usr/bin/env bash
# Set up and run the demo: database, demo accounts, web server and (with a broker) a Celery worker.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/install.sh
.venv/bin/python manage.py migrate --noinput
.venv/bin/python manage.py seed_demo
if [ -n "${CELERY_BROKER_URL:-}" ]; then
  .venv/bin/celery -A pharmacy worker --beat --loglevel=INFO &
  trap 'kill %1 2>/dev/null || true' EXIT
else
  echo "No CELERY_BROKER_URL: notifications are sent in-process (printed to this console)."
fi
echo "Open http://127.0.0.1:${PORT:-8000}/ and sign in with an account from the README."
.venv/bin/python manage.py runserver "127.0.0.1:${PORT:-8000}"
