"""What the pharmacy's work measures as it happens, for Prometheus (pharmacy/operations.py serves it).

Labels never name a patient, a prescriber or a medication.
"""

from __future__ import annotations

from prometheus_client import Histogram

_HOUR = 60 * 60
_DAY = 24 * _HOUR

SUBMISSION_TO_READY = Histogram(
    "pharmacy_submission_to_ready_seconds",
    "Time from a fill's request (a new prescription's submission) to its final check: ready for pickup.",
    # A same-day rush to a fortnight held for the prescriber's answer.
    buckets=(_HOUR, 4 * _HOUR, 8 * _HOUR, _DAY, 2 * _DAY, 3 * _DAY, 5 * _DAY, 7 * _DAY, 14 * _DAY),
)
