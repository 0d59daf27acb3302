"""CPU time by kind of process, from /proc, for the load test (scripts/loadtest.sh).

    python bench/cpu.py snapshot FILE       # CPU seconds so far, by kind, into FILE
    python bench/cpu.py since FILE REQUESTS # the CPU milliseconds per request since FILE, by kind

A process's time counts its children that have ended (gunicorn's workers that were restarted,
PostgreSQL's backends that closed), so nothing is lost between the two readings. The rest of the
machine's busy time (wrk, this script, the system) is "other"; "steal" is time the hypervisor gave
to other machines, which no process here was shown. The machine's busy time is counted in clock ticks
and a process's more finely, so "other" is a difference of two clocks: a tenth of a millisecond either
way is noise.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

KINDS = {
    "gunicorn": "web (gunicorn)",
    "postgres": "PostgreSQL",
    "nginx": "nginx",
    "redis-server": "Redis",
    "celery": "Celery worker",
}
TICK = os.sysconf("SC_CLK_TCK")


def snapshot() -> dict[str, float]:
    seconds = dict.fromkeys(KINDS, 0.0)
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            command = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:  # the process ended while being read
            continue
        kind = next((kind for kind in KINDS if kind in command), None)
        if kind is not None:
            # utime, stime and the children's cutime, cstime, in clock ticks
            seconds[kind] += sum(int(value) for value in fields[11:15]) / TICK
    machine = [int(value) / TICK for value in Path("/proc/stat").read_text().split("\n")[0].split()[1:9]]
    user, nice, system, idle, iowait, irq, softirq, steal = machine
    seconds["busy"] = user + nice + system + irq + softirq
    seconds["steal"] = steal
    return seconds


def main() -> None:
    command, path = sys.argv[1], Path(sys.argv[2])
    if command == "snapshot":
        path.write_text(json.dumps(snapshot()))
        return
    before, after, requests = json.loads(path.read_text()), snapshot(), max(int(sys.argv[3]), 1)
    spent = {kind: after[kind] - before[kind] for kind in after}
    parts = [f"{label} {1000 * spent[kind] / requests:.1f}" for kind, label in KINDS.items()]
    other = spent["busy"] - sum(spent[kind] for kind in KINDS)
    parts.append(f"other (wrk, system) {1000 * other / requests:.1f}")
    print(
        f"CPU ms per request: {', '.join(parts)}; all {1000 * spent['busy'] / requests:.1f}"
        f" (steal {1000 * spent['steal'] / requests:.1f})"
    )


if __name__ == "__main__":
    main()
