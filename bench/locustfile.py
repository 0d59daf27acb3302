"""The load test's traffic (run by scripts/loadtest.sh): staff reading the queue, EHRs submitting
prescriptions, patients looking up their order, each at a fixed rate.

Every simulated person sends one request a second, so a rate of N a second is N people of that
kind (QUEUE_RPS, SUBMIT_RPS and STATUS_RPS in the environment). Each keeps a phase of its own, so
the requests arrive spread over the second as real people's do, not as a burst of N on every tick
(which would measure the queueing of the burst, not the server). The sessions, tokens and
look-ups come from `manage.py benchmark --load-plan` (LOAD_PLAN).
"""

from __future__ import annotations

import copy
import itertools
import json
import os
import random
import time
import uuid
from typing import Any

from locust import FastHttpUser, task

PLAN: dict[str, Any] = json.loads(open(os.environ["LOAD_PLAN"], encoding="utf-8").read())  # noqa: SIM115
_sessions = itertools.cycle(PLAN["sessions"])
_tokens = itertools.cycle(PLAN["tokens"])
_lookups = itertools.cycle(PLAN["lookups"])


class SteadyUser(FastHttpUser):
    """One request a second on a fixed schedule of its own: it starts at a random point of its
    first second and keeps that phase (locust's constant_throughput would pull every user back
    to the second they were all created in)."""

    abstract = True

    def on_start(self) -> None:
        time.sleep(random.random())  # locust patches time.sleep to yield to the other users
        self.due = time.perf_counter()

    def wait_time(self) -> float:
        self.due += 1
        return max(0.0, self.due - time.perf_counter())


class PharmacyStaff(SteadyUser):
    """A pharmacist with the queue open, one page a second, with their own session."""

    fixed_count = int(os.environ.get("QUEUE_RPS", "0"))

    def on_start(self) -> None:
        super().on_start()
        self.cookie = f"{PLAN['session_cookie']}={next(_sessions)}"

    @task
    def queue(self) -> None:
        with self.client.get(f"/pharmacy/queue/?status={PLAN['queue_status']}", headers={"Cookie": self.cookie},
                             name="queue page", catch_response=True) as response:  # fmt: skip
            if response.status_code != 200 or response.text.count('href="/pharmacy/prescriptions/') < 50:
                response.failure(f"{response.status_code}: not a full queue page")


class Ehr(SteadyUser):
    """An EHR posting prescriptions for new patients, with an Idempotency-Key as EHRs do."""

    fixed_count = int(os.environ.get("SUBMIT_RPS", "0"))

    def on_start(self) -> None:
        super().on_start()
        self.auth = f"Token {next(_tokens)}"

    @task
    def submit(self) -> None:
        body = copy.deepcopy(PLAN["body"])
        unique = uuid.uuid4().hex[:12]
        body["patient"]["last_name"] = f"Load{unique}"
        body["patient"]["email"] = f"load{unique}@bench.test"
        headers = {"Authorization": self.auth, "Idempotency-Key": unique, "Content-Type": "application/json"}
        with self.client.post("/api/v1/prescriptions/", data=json.dumps(body), headers=headers,
                              name="submission", catch_response=True) as response:  # fmt: skip
            if response.status_code != 201:
                response.failure(f"{response.status_code}: {response.text[:200]}")


class Patient(SteadyUser):
    """A patient checking their order's status with its reference and their birth date."""

    fixed_count = int(os.environ.get("STATUS_RPS", "0"))

    @task
    def status(self) -> None:
        reference, born = next(_lookups)
        with self.client.get(f"/api/v1/status/?reference={reference}&date_of_birth={born}", name="status lookup",
                             catch_response=True) as response:  # fmt: skip
            if response.status_code != 200:
                response.failure(f"{response.status_code}")
