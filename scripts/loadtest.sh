#!/usr/bin/env bash
# Load test: gunicorn on PostgreSQL behind nginx, as it is deployed, driven by wrk at fixed rates (one
# wrk process per kind of request); prints p50/p95/p99, the rate kept and the errors per kind and for
# the whole mix, and exits non-zero on any error.
#
#   DATABASE_URL=postgres://postgres@127.0.0.1:5432/ldn_load ./scripts/loadtest.sh
#
# The database named by DATABASE_URL is created if missing, migrated and filled with the benchmark's
# data set (ROWS prescriptions; it refuses a database holding real prescriptions). Each run's
# submissions stay in it; FRESH=1 drops and builds it again first, for figures comparable between
# runs (only a database holding nothing but the benchmark's own rows). With
# CELERY_BROKER_URL set, submissions publish their notifications to it, and with WORKER=1 a Celery worker
# delivers them during the run on the same two cores (in production it runs elsewhere); WORKER=0 (the
# default) leaves them queued, to measure the web tier alone.
# After a 10 s warm-up (WARMUP), the scenarios (RATES, "queue submit status" requests a second each,
# one scenario per comma), DURATION each:
#   RATES="120 0 0,0 150 0,40 50 30" (default): the queue alone, submissions alone, then the mix.
#
# wrk and nginx come from Debian (packages wrk and nginx-light), installed here when missing as CI
# installs Chromium. wrk is C: at these rates it takes a few percent of a core, where locust (Python)
# takes a tenth of the two cores the server is measured on. nginx stands where a deployment's proxy
# does: it holds the client connections and hands gunicorn's sync workers whole requests, so no
# worker waits on an idle connection.
set -euo pipefail
cd "$(dirname "$0")/.."

: "${DATABASE_URL:?Set DATABASE_URL to a PostgreSQL database for the load test, e.g. postgres://postgres@127.0.0.1:5432/ldn_load}"
case "$DATABASE_URL" in postgres://*|postgresql://*) ;; *) echo "The load test runs on PostgreSQL" >&2; exit 2 ;; esac
ROWS=${ROWS:-100000}
RATES=${RATES:-"120 0 0,0 150 0,40 50 30"}
DURATION=${DURATION:-60s}
WORKERS=${WORKERS:-4}
PORT=${PORT:-8765}
PROXY_PORT=${PROXY_PORT:-8764}
OUT=$(mkdir -p "${OUT:-var/loadtest}" && cd "${OUT:-var/loadtest}" && pwd)

missing=()
command -v wrk >/dev/null || missing+=(wrk)
command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] || missing+=(nginx-light)
if [ "${#missing[@]}" -gt 0 ]; then
  echo "Installing ${missing[*]} (Debian packages)"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi
NGINX=$(command -v nginx || echo /usr/sbin/nginx)

if [ ! -x .venv/bin/gunicorn ]; then
  python3 -m venv .venv 2>/dev/null || true
  .venv/bin/python -m pip install --quiet -e .
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
    exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
    if exists and os.environ.get("FRESH") == "1":
        # Only a database of the benchmark's own: no table yet, or prescriptions by its prescribers alone.
        with psycopg.connect(url) as db:
            tables = db.execute("SELECT to_regclass('intake_prescription') IS NOT NULL").fetchone()[0]
            others = tables and db.execute(
                "SELECT count(*) FROM intake_prescription p JOIN intake_prescriber r ON r.id = p.prescriber_id "
                "JOIN accounts_user u ON u.id = r.user_id WHERE u.email NOT LIKE '%@bench.test'"
            ).fetchone()[0]
        if others:
            raise SystemExit(f"FRESH=1: {name} holds {others} prescriptions the benchmark did not make; not dropped")
        conn.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
        exists = None
    if not exists:
        conn.execute(f'CREATE DATABASE "{name}"')
        print(f"Created database {name}")
PY
.venv/bin/python manage.py migrate --verbosity 0
.venv/bin/python manage.py collectstatic --noinput --verbosity 0
.venv/bin/python manage.py benchmark --rows "$ROWS" --load-plan "$OUT/plan.json" | grep -v '^{'
# The plan as a Lua table for the wrk scripts (bench/wrk/): sessions, tokens, look-ups, the body.
.venv/bin/python - "$OUT/plan.json" "$OUT/plan.lua" <<'PY'
import json
import re
import sys

plan = json.load(open(sys.argv[1], encoding="utf-8"))


def text(value: str) -> str:
    if not re.fullmatch(r"[A-Za-z0-9@._:-]*", value):
        raise SystemExit(f"unexpected characters in the load plan: {value!r}")
    return f'"{value}"'


body = json.dumps(plan["body"], ensure_ascii=True)
lua = [
    "return {",
    f"  session_cookie = {text(plan['session_cookie'])},",
    f"  sessions = {{{', '.join(map(text, plan['sessions']))}}},",
    f"  tokens = {{{', '.join(map(text, plan['tokens']))}}},",
    f"  lookups = {{{', '.join('{' + text(ref) + ', ' + text(born) + '}' for ref, born in plan['lookups'])}}},",
    f"  queue_status = {text(plan['queue_status'])},",
    f"  body = [==[{body}]==],",
    "}",
]
open(sys.argv[2], "w", encoding="utf-8").write("\n".join(lua) + "\n")
PY
export WRK_PLAN="$OUT/plan.lua"

mkdir -p "$OUT/nginx"
cat > "$OUT/nginx/nginx.conf" <<CONF
daemon off;
worker_processes 1;
pid $OUT/nginx/nginx.pid;
error_log $OUT/nginx/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path $OUT/nginx/body;
  proxy_temp_path $OUT/nginx/proxy;
  fastcgi_temp_path $OUT/nginx/fastcgi;
  uwsgi_temp_path $OUT/nginx/uwsgi;
  scgi_temp_path $OUT/nginx/scgi;
  keepalive_requests 1000000;
  server {
    listen 127.0.0.1:$PROXY_PORT;
    location / {
      proxy_pass http://127.0.0.1:$PORT;
      proxy_set_header Host \$http_host;
      proxy_buffers 16 16k;
      proxy_buffer_size 16k;
    }
  }
}
CONF

for port in "$PORT" "$PROXY_PORT"; do
  if .venv/bin/python -c "import socket, sys; socket.create_connection(('127.0.0.1', int(sys.argv[1])), 1)" "$port" 2>/dev/null; then
    echo "Port $port is already in use (an earlier run's server?): stop it, or set PORT / PROXY_PORT" >&2
    exit 2
  fi
done

PIDS=()
cleanup() { for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap cleanup EXIT

# Two cores: a few sync workers keep both busy while one waits on PostgreSQL.
.venv/bin/gunicorn pharmacy.wsgi --workers "$WORKERS" --bind "127.0.0.1:$PORT" \
  --log-level warning > "$OUT/gunicorn.log" 2>&1 &
PIDS+=($!)
user=$(id -un)
"$NGINX" -p "$OUT/nginx" -c "$OUT/nginx/nginx.conf" -g "user $user;" > "$OUT/nginx/out.log" 2>&1 &
PIDS+=($!)
if [ -n "${CELERY_BROKER_URL:-}" ] && [ "${WORKER:-0}" = 1 ]; then
  .venv/bin/celery -A pharmacy worker --concurrency 1 --loglevel WARNING > "$OUT/celery.log" 2>&1 &
  PIDS+=($!)
fi
URL="http://127.0.0.1:$PROXY_PORT"
for _ in $(seq 50); do
  if .venv/bin/python -c "import urllib.request; urllib.request.urlopen('$URL/status/')" 2>/dev/null; then break; fi
  sleep 0.2
done

# One wrk process per kind of request at its rate, one connection per request a second (as many as
# people sending one request a second each), all at once; each writes a line of JSON.
run() {  # run NAME DURATION QUEUE_RPS SUBMIT_RPS STATUS_RPS
  local name=$1 duration=$2 kinds=(queue submit status) rates=("$3" "$4" "$5") jobs=()
  rm -f "$OUT/$name"-*.out
  # Start from a checkpoint: the pages the previous step dirtied (the data set's build, the last
  # scenario's submissions) are written out now, not by a checkpoint in the middle of this one.
  .venv/bin/python -c "import os, psycopg; psycopg.connect(os.environ['DATABASE_URL'], autocommit=True).execute('CHECKPOINT')" \
    2>/dev/null || echo "(no CHECKPOINT: the database user may not run one)"
  for i in 0 1 2; do
    local rate=${rates[$i]}
    [ "$rate" -gt 0 ] || continue
    wrk -t1 -c"$(( rate > 8 ? rate : 8 ))" -d"$duration" --timeout 10s -s "bench/wrk/${kinds[$i]}.lua" "$URL" \
      -- "$rate" > "$OUT/$name-${kinds[$i]}.out" 2>&1 &
    jobs+=($!)
  done
  wait "${jobs[@]}"
  # A scenario that overloaded the server leaves requests queued at gunicorn, which still answers
  # them after wrk has gone: one more request waits behind them all, so once it is answered the
  # next scenario starts on an idle server.
  .venv/bin/python -c "import urllib.request; urllib.request.urlopen('$URL/status/', timeout=300)"
  sleep "${PAUSE:-2}"
}

# Warm-up, not reported: each worker's first requests load templates, URL patterns and connections.
run warmup "${WARMUP:-10s}" 10 10 10

status=0
IFS=',' read -ra SCENARIOS <<< "$RATES"
for n in "${!SCENARIOS[@]}"; do
  read -r queue submit lookup <<< "${SCENARIOS[$n]}"
  echo "== queue ${queue}/s, submissions ${submit}/s, status ${lookup}/s for $DURATION"
  .venv/bin/python bench/cpu.py snapshot "$OUT/cpu.json"
  run "scenario$n" "$DURATION" "$queue" "$submit" "$lookup"
  answered=$(cat "$OUT"/scenario"$n"-*.out | .venv/bin/python -c \
    "import json, sys; print(sum(json.loads(l)['requests'] for l in sys.stdin if l.startswith('{')))")
  .venv/bin/python bench/cpu.py since "$OUT/cpu.json" "$answered"
  .venv/bin/python - "$queue" "$submit" "$lookup" "$OUT"/scenario"$n"-*.out <<'PY' || status=1
import json
import sys

asked = dict(zip(("queue page", "submission", "status lookup"), map(int, sys.argv[1:4]), strict=True))
kinds = []
for path in sys.argv[4:]:
    lines = [line for line in open(path, encoding="utf-8") if line.startswith("{")]
    if not lines:
        print(f"{path}: wrk wrote no summary:\n{open(path, encoding='utf-8').read()}")
        sys.exit(1)
    kinds.append(json.loads(lines[-1]))


def percentile(points: list[tuple[float, float]], p: float) -> float:
    total = sum(weight for _, weight in points)
    seen = 0.0
    for value, weight in sorted(points):
        seen += weight
        if seen >= total * p / 100:
            return value
    return points[-1][0]


print(f"{'request':16} {'asked/s':>7} {'kept/s':>7} {'count':>7} {'errors':>6} {'p50 ms':>7} {'p95 ms':>7} {'p99 ms':>7}")
for kind in kinds:
    print(f"{kind['name']:16} {asked[kind['name']]:7d} {kind['rate_per_s']:7.1f} {kind['requests']:7d} "
          f"{kind['errors']:6d} {kind['p50_ms']:7.1f} {kind['p95_ms']:7.1f} {kind['p99_ms']:7.1f}")
    if kind["example"]:
        print(f"  first wrong answer: {kind['example']}")
if len(kinds) > 1:
    # The kinds' latency distributions merged, each weighted by its number of requests.
    points = [(float(q), kind["requests"] / len(kind["quantiles_ms"])) for kind in kinds for q in kind["quantiles_ms"]]
    print(f"{'all':16} {sum(asked.values()):7d} {sum(k['rate_per_s'] for k in kinds):7.1f} "
          f"{sum(k['requests'] for k in kinds):7d} {sum(k['errors'] for k in kinds):6d} "
          f"{percentile(points, 50):7.1f} {percentile(points, 95):7.1f} {percentile(points, 99):7.1f}")
kept = all(kind["rate_per_s"] >= 0.98 * asked[kind["name"]] for kind in kinds)
print("rate kept" if kept else "rate NOT kept: the server could not answer as fast as asked")
sys.exit(1 if any(kind["errors"] for kind in kinds) else 0)
PY
done
if [ "$status" -ne 0 ]; then
  echo "Errors during the load test: see $OUT/*.out, $OUT/gunicorn.log and $OUT/nginx/error.log" >&2
fi
exit "$status"
