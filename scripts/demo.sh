#!/usr/bin/env bash
# Set up and run the demo: database, demo accounts, web server and (with a broker) a Celery worker.
# Installs only when the dependencies changed; without EMAIL_HOST the mail goes to a folder it names
# (EMAIL_FILE_PATH, var/demo-mail/ by default), one file per sending. DEMO_SETUP_ONLY=1 stops before
# serving.
set -euo pipefail
cd "$(dirname "$0")/.."
port=${PORT:-8000}
./scripts/install.sh
if [ -z "${EMAIL_HOST:-}" ]; then
  export EMAIL_FILE_PATH=${EMAIL_FILE_PATH:-$PWD/var/demo-mail}
  mkdir -p "$EMAIL_FILE_PATH"
fi
.venv/bin/python manage.py migrate --noinput -v 0
echo "Database ready."
# The seed sends its notifications in-process: their task log lines stay out of the terminal.
LOG_LEVEL=ERROR .venv/bin/python manage.py seed_demo
if [ -n "${EMAIL_HOST:-}" ]; then
  echo "Mail: sent through $EMAIL_HOST."
else
  echo "Mail: written to $EMAIL_FILE_PATH/ (one file per sending), not sent."
fi
if [ -z "${CELERY_BROKER_URL:-}" ]; then
  echo "No CELERY_BROKER_URL: notifications are sent in-process."
fi
cat <<'ACCOUNTS'
Demo accounts (email / password):
  prescriber@demo.test / demo-prescriber-1     prescriber2@demo.test / demo-prescriber-2
  pharmacist@demo.test / demo-pharmacist-1     pharmacist2@demo.test / demo-pharmacist-2
  technician@demo.test / demo-technician-1     admin@demo.test / demo-admin-1 (Django admin)
ACCOUNTS
[ -n "${DEMO_SETUP_ONLY:-}" ] && exit 0
echo "serving at http://127.0.0.1:${port}/"
if [ -n "${CELERY_BROKER_URL:-}" ]; then
  .venv/bin/celery -A pharmacy worker --beat --loglevel=INFO &
  trap 'kill %1 2>/dev/null || true' EXIT
fi
.venv/bin/python manage.py runserver "127.0.0.1:${port}"
