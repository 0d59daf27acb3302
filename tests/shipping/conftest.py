"""The EasyPost backend replays EasyPost's recorded answers (tests/shipping/cassettes): no network,
and the SDK runs for real. A request no cassette holds fails the test, so a purchase nobody
recorded cannot happen unseen."""

from __future__ import annotations

from pathlib import Path

import pytest
import vcr

CASSETTES = Path(__file__).parent / "cassettes"

# The requests the code made, as sent (a cassette's own `requests` are the recorded ones).
SENT: list = []


def _seen(live, recorded_request) -> None:
    if not SENT or SENT[-1] is not live:
        SENT.append(live)


recorded = vcr.VCR(
    cassette_library_dir=str(CASSETTES),
    record_mode="none",
    # The shipment's body carries the test's own patient; the path says which call it is.
    match_on=["method", "scheme", "host", "path", "seen"],
    decode_compressed_response=True,
)
recorded.register_matcher("seen", _seen)


def easypost_on(settings):
    """SHIPPING_BACKEND=easypost with a test key; the answers come from `recorded.use_cassette(...)`."""
    settings.SHIPPING_BACKEND = "easypost"
    settings.EASYPOST_API_KEY = "EZTK_test_key_for_recorded_answers"
    settings.EASYPOST_API_BASE = ""
    settings.SHIPPING_CARRIERS = ["USPS", "UPS"]
    settings.SHIPPING_SERVICES = []
    SENT.clear()
    return settings


@pytest.fixture
def easypost(settings):
    return easypost_on(settings)
