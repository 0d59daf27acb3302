#!/usr/bin/env bash
# Load test: gunicorn on PostgreSQL, driven by locust (headless) at fixed rates; prints p50/p95/p99
# and errors per request kind and exits non-zero on any error.
#
#   DATABASE_URL=postgres://postgres@127.0.0.1:5432/ldn_load ./scripts/loadtest.sh
#
# The database named by DATABASE_URL is created if missing, migrated and filled with the benchmark's
# data set (ROWS prescriptions; it refuses a database holding real prescriptions). With
# CELERY_BROKER_URL set, submissions publish their notifications to it, and with WORKER=1 a Celery worker
# delivers them during the run on the same two cores (in production it runs elsewhere); WORKER=0 (the
# default) leaves them queued, to measure the web tier alone.
# After a 10 s warm-up (WARMUP), the scenarios (RATES, "queue submit status" requests a second each,
# one scenario per comma):
#   RATES="120 0 0,0 150 0,40 50 30" (default): the queue alone, submissions alone, then the mix.
set -euo pipefail
cd "$(dirname "$0")/.."

: "${DATABASE_URL:?Set DATABASE_URL to a PostgreSQL database for the load test, e.g. postgres://postgres@127.0.0.1:5432/ldn_load}"
case "$DATABASE_URL" in postgres://*|postgresql://*) ;; *) echo "The load test runs on PostgreSQL" >&2; exit 2 ;; esac
ROWS=${ROWS:-100000}
RATES=${RATES:-"120 0 0,0 150 0,40 50 30"}
DURATION=${DURATION:-60s}
WORKERS=${WORKERS:-4}
PORT=${PORT:-8765}
OUT=${OUT:-var/loadtest}
mkdir -p "$OUT"

if [ ! -x .venv/bin/locust ]; then
  python3 -m venv .venv 2>/dev/null || true
  .venv/bin/python -m pip install --quiet -e '.[load]'
fi

# Production settings, but plain HTTP on localhost (TLS would sit in front). SECRET_KEY is a throwaway.
export DEBUG=false SECRET_KEY=${SECRET_KEY:-load-test-$(date +%s)-not-secret} ALLOWED_HOSTS=127.0.0.1,localhost
export SECURE_SSL_REDIRECT=false SECURE_COOKIES=false LOG_LEVEL=${LOG_LEVEL:-WARNING}

.venv/bin/python - <<'PY'
import os
from urllib.parse import urlsplit, urlunsplit

import psycopg

url = os.environ["DATABASE_URL"]
name = urlsplit(url).path.lstrip("/")
parts = urlsplit(url)
with psycopg.connect(urlunsplit(parts._replace(path="/postgres")), autocommit=True) as conn:
    if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
        conn.execute(f'CREATE DATABASE "{name}"')
        print(f"Created database {name}")
PY
.venv/bin/python manage.py migrate --verbosity 0
.venv/bin/python manage.py collectstatic --noinput --verbosity 0
.venv/bin/python manage.py benchmark --rows "$ROWS" --load-plan "$OUT/plan.json" | grep -v '^{'

PIDS=()
cleanup() { for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap cleanup EXIT

# Two cores: a few sync workers keep both busy while one waits on PostgreSQL.
.venv/bin/gunicorn pharmacy.wsgi --workers "$WORKERS" --bind "127.0.0.1:$PORT" \
  --log-level warning > "$OUT/gunicorn.log" 2>&1 &
PIDS+=($!)
if [ -n "${CELERY_BROKER_URL:-}" ] && [ "${WORKER:-0}" = 1 ]; then
  .venv/bin/celery -A pharmacy worker --concurrency 1 --loglevel WARNING > "$OUT/celery.log" 2>&1 &
  PIDS+=($!)
fi
for _ in $(seq 50); do
  if .venv/bin/python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:$PORT/status/')" 2>/dev/null; then break; fi
  sleep 0.2
done

# Warm-up, not reported: each worker's first requests load templates, URL patterns and connections.
QUEUE_RPS=10 SUBMIT_RPS=10 STATUS_RPS=10 LOAD_PLAN="$OUT/plan.json" \
  .venv/bin/locust -f bench/locustfile.py --headless --host "http://127.0.0.1:$PORT" --users 30 --spawn-rate 30 \
  --run-time "${WARMUP:-10s}" --only-summary --loglevel WARNING > "$OUT/warmup.log" 2>&1 || true

status=0
IFS=',' read -ra SCENARIOS <<< "$RATES"
for scenario in "${SCENARIOS[@]}"; do
  read -r queue submit lookup <<< "$scenario"
  users=$((queue + submit + lookup))
  label="queue ${queue}/s, submissions ${submit}/s, status ${lookup}/s"
  echo "== $label for $DURATION"
  QUEUE_RPS=$queue SUBMIT_RPS=$submit STATUS_RPS=$lookup LOAD_PLAN="$OUT/plan.json" \
    .venv/bin/locust -f bench/locustfile.py --headless --host "http://127.0.0.1:$PORT" \
    --users "$users" --spawn-rate "$users" --run-time "$DURATION" --csv "$OUT/run" --only-summary \
    --loglevel WARNING > "$OUT/locust.log" 2>&1 || status=1
  .venv/bin/python - "$OUT/run_stats.csv" "$label" <<'PY' || status=1
import csv
import sys

rows = list(csv.DictReader(open(sys.argv[1], encoding="utf-8")))
print(f"{'request':16} {'req/s':>7} {'count':>7} {'errors':>6} {'p50 ms':>7} {'p95 ms':>7} {'p99 ms':>7}")
errors = 0
for row in rows:
    errors += int(row["Failure Count"]) if row["Name"] != "Aggregated" else 0
    print(f"{row['Name']:16} {float(row['Requests/s']):7.1f} {row['Request Count']:>7} {row['Failure Count']:>6} "
          f"{row['50%']:>7} {row['95%']:>7} {row['99%']:>7}")
sys.exit(1 if errors else 0)
PY
done
if [ "$status" -ne 0 ]; then
  echo "Errors during the load test: see $OUT/locust.log and $OUT/gunicorn.log" >&2
fi
exit "$status"
