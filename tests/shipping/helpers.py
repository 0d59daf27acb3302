"""Signed carrier events for the tracking tests."""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any

from accounts.models import User
from intake.models import Prescription, PrescriptionStatus
from intake.services import workflow
from tests.factories import make_prescription
from tests.workflow_helpers import advance

SECRET = "whsec-test-0123456789"
URL = "/webhooks/easypost/"


def shipped(prescriber, *, pharmacist: User, technician: User, code: str) -> Prescription:
    ready = advance(
        make_prescription(prescriber), PrescriptionStatus.READY, pharmacist=pharmacist, technician=technician
    )
    return workflow.prescription_ship(prescription_id=ready.pk, actor=technician, carrier="USPS", tracking_number=code)


def event(
    event_id: str, code: str, status: str, *, at: str = "2026-12-03T15:00:00Z", message: str = "", kind: str = ""
) -> dict[str, Any]:
    return {
        "object": "Event",
        "id": event_id,
        "description": kind or "tracker.updated",
        "result": {
            "object": "Tracker",
            "tracking_code": code,
            "status": status,
            "status_detail": "status_update",
            "tracking_details": [{"object": "TrackingDetail", "message": message or status, "datetime": at,
                                  "status": status}],
        },
    }  # fmt: skip


def signed(body: dict[str, Any], secret: str = SECRET) -> tuple[bytes, dict[str, str]]:
    raw = json.dumps(body).encode()
    digest = hmac.new(secret.encode(), raw, hashlib.sha256).hexdigest()
    return raw, {"HTTP_X_HMAC_SIGNATURE": f"hmac-sha256-hex={digest}"}


def post(client, body: dict[str, Any], secret: str = SECRET):
    raw, headers = signed(body, secret)
    return client.post(URL, data=raw, content_type="application/json", **headers)
