"""The load test's traffic (run by scripts/loadtest.sh): staff reading the queue, EHRs submitting
prescriptions, patients looking up their order, each at a fixed rate.

Every simulated person sends one request a second (constant_throughput), so a rate of N a second
is N people of that kind: QUEUE_RPS, SUBMIT_RPS and STATUS_RPS in the environment. The sessions,
tokens and look-ups come from `manage.py benchmark --load-plan` (LOAD_PLAN).
"""

from __future__ import annotations

import copy
import itertools
import json
import os
import uuid
from typing import Any

from locust import FastHttpUser, constant_throughput, task

PLAN: dict[str, Any] = json.loads(open(os.environ["LOAD_PLAN"], encoding="utf-8").read())  # noqa: SIM115
_sessions = itertools.cycle(PLAN["sessions"])
_tokens = itertools.cycle(PLAN["tokens"])
_lookups = itertools.cycle(PLAN["lookups"])


class PharmacyStaff(FastHttpUser):
    """A pharmacist with the queue open, one page a second, with their own session."""

    fixed_count = int(os.environ.get("QUEUE_RPS", "0"))
    wait_time = constant_throughput(1)

    def on_start(self) -> None:
        self.cookie = f"{PLAN['session_cookie']}={next(_sessions)}"

    @task
    def queue(self) -> None:
        with self.client.get(f"/pharmacy/queue/?status={PLAN['queue_status']}", headers={"Cookie": self.cookie},
                             name="queue page", catch_response=True) as response:  # fmt: skip
            if response.status_code != 200 or response.text.count('href="/pharmacy/prescriptions/') < 50:
                response.failure(f"{response.status_code}: not a full queue page")


class Ehr(FastHttpUser):
    """An EHR posting prescriptions for new patients, with an Idempotency-Key as EHRs do."""

    fixed_count = int(os.environ.get("SUBMIT_RPS", "0"))
    wait_time = constant_throughput(1)

    def on_start(self) -> None:
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


class Patient(FastHttpUser):
    """A patient checking their order's status with its reference and their birth date."""

    fixed_count = int(os.environ.get("STATUS_RPS", "0"))
    wait_time = constant_throughput(1)

    @task
    def status(self) -> None:
        reference, born = next(_lookups)
        with self.client.get(f"/api/v1/status/?reference={reference}&date_of_birth={born}", name="status lookup",
                             catch_response=True) as response:  # fmt: skip
            if response.status_code != 200:
                response.failure(f"{response.status_code}")
