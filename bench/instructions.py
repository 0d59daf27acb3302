"""Instructions per request, counted by callgrind: a figure that does not drift with the machine's speed.

    DATABASE_URL=postgres://…/ldn_load python bench/instructions.py [queue submit status floor] [--requests 100]

Runs on a database the benchmark built (the load test's, or `manage.py benchmark --scratch --keep`), the
same requests as the benchmark through Django's test client with the whole middleware and `DEBUG` off.
For each kind it runs this file twice under `valgrind --tool=callgrind`: once with a warm-up only and
once with the warm-up and N requests more; the difference over N is one request's instructions in the
web process (the database server's are not counted). Slow: valgrind runs Python some fifty times slower.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
KINDS = ("queue", "submit", "status", "floor")
WARMUP = 20
_COLLECTED = re.compile(r"Collected\s*:\s*(\d+)")


def run_requests(kind: str, count: int) -> None:
    """Inside valgrind: set Django up, warm up, then make `count` requests of one kind."""
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "pharmacy.settings")
    import django

    django.setup()
    from django.test.utils import override_settings

    from bench import benchmark
    from pharmacy.celery import app as celery_app

    benchmark.Command()._check_database(first_size=None, force=False)
    # As the benchmark does: notifications published to a broker in memory, not delivered.
    celery_app.conf.task_always_eager = False
    celery_app.conf.broker_url = "memory://"
    with benchmark.collected_static_files(), override_settings(DEBUG=False, ROOT_URLCONF=benchmark.__name__):
        session = benchmark.Session(people=benchmark.bench_people())
        session.refresh()
        request = getattr(session, kind)
        for _ in range(WARMUP + count):
            request()


def instructions(kind: str, count: int) -> int:
    command = ["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null", sys.executable, __file__,
               "--inside", kind, str(count)]  # fmt: skip
    finished = subprocess.run(command, capture_output=True, text=True, check=False, cwd=ROOT)  # noqa: S603
    found = _COLLECTED.findall(finished.stderr)
    if finished.returncode != 0 or not found:
        raise SystemExit(f"valgrind on {kind} ({count} requests) failed:\n{finished.stderr[-3000:]}")
    return int(found[-1])


def main() -> None:
    if len(sys.argv) == 4 and sys.argv[1] == "--inside":
        run_requests(sys.argv[2], int(sys.argv[3]))
        return
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("kinds", nargs="*", choices=KINDS, default=list(KINDS[:3]))
    parser.add_argument("--requests", type=int, default=100, help="requests counted of each kind")
    options = parser.parse_args()
    for kind in options.kinds:
        per_request = (instructions(kind, options.requests) - instructions(kind, 0)) / options.requests
        print(f"{kind:8} {per_request / 1e6:6.1f} M instructions a request", flush=True)


if __name__ == "__main__":
    main()
