"""Throttles for the patient's doors without a login: the status lookup and the private links.

Shared by the web pages and the API so that guesses spread over both still add up. Counters live
in the cache (Redis in production, so every web process sees the same counts). Rates are
REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]:

- "questionnaire": every request to a private link, per client and per token;
- "patient_lookup" (5 per 15 minutes) and "patient_lookup_daily" (50 a day): wrong birth dates
  (or order numbers) per client, whichever order number and door they came through. The short
  window leaves room for a patient's typos and stops a burst; the daily cap makes one address
  guess slowly (50 a day, where one year of possible ages alone holds 365 birth dates) while
  patients behind one mobile carrier's shared address rarely reach it together;
- "patient_reference" (10 a day): wrong birth dates per order number, from any client. It never
  refuses a client that has not missed this order number, so strangers cannot lock the patient
  out of their own status. Past it, each client gets one try at that order number a day: one
  that has missed it already is refused. A day's guesses at one number are then at most 10 plus
  one per address the guesser holds, and the pharmacy is told (an audit record of object type
  "order number") when a number crosses the mark. The cost: a patient who mistyped their own
  birth date on a day their number is being guessed waits until the next day, or calls.

A client is its address, or its /64 for IPv6: one subscriber is given a whole /64.

A try is counted before the birth date is compared and taken back when it was right, so that
requests sent all at once cannot each pass the check before any miss is counted. Once a client
is over a limit every request on it is refused, the right answer included: otherwise a guesser
would learn the answer from the first request that is not refused.

The same steps whether the order number exists or not: counters are keyed by the number as
typed (normalised), never by a prescription, so a miss costs the same either way.
"""

from __future__ import annotations

import contextlib
import hashlib
import ipaddress
import re
from dataclasses import dataclass, field
from types import TracebackType

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest

from intake.audit import AuditAction, audit, client_ip

_PERIODS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
# "5/min", "5/15m", "20/day": a count, then an optional multiple of one unit.
_RATE = re.compile(r"^\s*(\d+)\s*/\s*(\d*)\s*([smhd])[a-z]*\s*$")

GUESSED_REFERENCE = "order number"


@dataclass(frozen=True)
class Throttle:
    """A fixed-window counter per identity; the window starts at the identity's first hit."""

    scope: str

    def rate(self) -> tuple[int, int]:
        """(requests, seconds) from settings, e.g. "5/15min" -> (5, 900); read at call time so tests can change it."""
        rates: dict[str, str] = settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]  # type: ignore[index,assignment]
        match = _RATE.match(rates[self.scope])
        if match is None:
            raise ValueError(f"Throttle rate {self.scope!r} is not like '5/15min': {rates[self.scope]!r}")
        count, multiple, unit = match.groups()
        return int(count), int(multiple or 1) * _PERIODS[unit]

    def limit(self) -> int:
        return self.rate()[0]

    def _key(self, ident: str) -> str:
        # Hashed: a token is a secret and must not sit in clear in the cache.
        digest = hashlib.sha256(f"{self.scope}:{ident}".encode()).hexdigest()[:32]
        return f"throttle:{self.scope}:{digest}"

    def count(self, ident: str) -> int:
        return int(cache.get(self._key(ident), 0))

    def hit(self, ident: str) -> int:
        """Count one request; return the count including it."""
        _limit, seconds = self.rate()
        key = self._key(ident)
        # add() starts the window only if none is running; incr() is atomic on Redis and locmem.
        cache.add(key, 0, timeout=seconds)
        try:
            return cache.incr(key)
        except ValueError:  # the window ended between add() and incr()
            cache.add(key, 1, timeout=seconds)
            return 1

    def take_back(self, ident: str) -> None:
        """Undo one hit: the request it counted turned out not to count."""
        # ValueError: the window ended meanwhile, nothing left to undo.
        with contextlib.suppress(ValueError):
            cache.decr(self._key(ident))

    def wait_seconds(self) -> int:
        return self.rate()[1]


QUESTIONNAIRE = Throttle("questionnaire")
CARRIER_WEBHOOK = Throttle("carrier_webhook")
SMS_STATUS_WEBHOOK = Throttle("sms_status_webhook")
MISSES_PER_CLIENT = Throttle("patient_lookup")
MISSES_PER_CLIENT_DAILY = Throttle("patient_lookup_daily")
MISSES_PER_REFERENCE = Throttle("patient_reference")


def _client(request: HttpRequest) -> str:
    address = client_ip(request)
    if not address:
        return "unknown"
    try:
        parsed = ipaddress.ip_address(address)
    except ValueError:
        return address
    if isinstance(parsed, ipaddress.IPv6Address):
        if parsed.ipv4_mapped is not None:
            return str(parsed.ipv4_mapped)
        return str(ipaddress.ip_network(f"{parsed}/64", strict=False))
    return str(parsed)


def carrier_webhook_allowed(request: HttpRequest) -> bool:
    """Count one call to the carrier's webhook; False once this client is over the rate."""
    return CARRIER_WEBHOOK.hit(f"client:{_client(request)}") <= CARRIER_WEBHOOK.limit()


def sms_status_webhook_allowed(request: HttpRequest) -> bool:
    """Count one call to the SMS provider's status webhook; False once this client is over the rate."""
    return SMS_STATUS_WEBHOOK.hit(f"client:{_client(request)}") <= SMS_STATUS_WEBHOOK.limit()


def normalize_reference(reference: str) -> str:
    return reference.strip().upper()


def private_link_allowed(request: HttpRequest, token: str) -> bool:
    """Count one request to a private link; False once this client or this token is over the rate."""
    within_client = QUESTIONNAIRE.hit(f"client:{_client(request)}") <= QUESTIONNAIRE.limit()
    within_token = QUESTIONNAIRE.hit(f"token:{token}") <= QUESTIONNAIRE.limit()
    return within_client and within_token


@dataclass
class BirthDateTry:
    """One try at a birth date for an order number, counted as a miss until it proves right.

    Use it as a context manager around the comparison: leaving the block takes the try back
    unless missed() was called, whether the birth date was right or never compared.
    """

    request: HttpRequest
    reference: str
    # Seconds to wait when refused; 0 when the try may go ahead.
    retry_after: int = 0
    _counted: list[tuple[Throttle, str]] = field(default_factory=list)
    _reference_misses: int = 0
    _missed: bool = False

    @property
    def refused(self) -> bool:
        return self.retry_after > 0

    def __enter__(self) -> BirthDateTry:
        client = _client(self.request)
        self._counted = [(MISSES_PER_CLIENT, client), (MISSES_PER_CLIENT_DAILY, client)]
        if self.reference:
            self._counted += [
                (MISSES_PER_REFERENCE, self.reference),
                (MISSES_PER_REFERENCE, f"{self.reference} {client}"),
            ]
        counts = [throttle.hit(ident) for throttle, ident in self._counted]
        if counts[0] > MISSES_PER_CLIENT.limit():
            self.retry_after = MISSES_PER_CLIENT.wait_seconds()
        if counts[1] > MISSES_PER_CLIENT_DAILY.limit():
            self.retry_after = MISSES_PER_CLIENT_DAILY.wait_seconds()
        if self.reference:
            self._reference_misses, own_misses = counts[2], counts[3]
            # Past the mark this client may try only if this is its first try at the number today.
            if self._reference_misses > MISSES_PER_REFERENCE.limit() and own_misses > 1:
                self.retry_after = MISSES_PER_REFERENCE.wait_seconds()
        if self.refused:
            self._take_back()  # a refused try compared nothing
        return self

    def missed(self) -> None:
        """The birth date (or the order number) was wrong: the try stays counted."""
        self._missed = True
        if self._reference_misses == MISSES_PER_REFERENCE.limit():
            # Known or unknown number alike: the record costs the same and names no prescription.
            audit(self.request, AuditAction.DENIED, object_type=GUESSED_REFERENCE, object_id=self.reference,
                  description="many wrong dates of birth for this order number today: "
                  "each further address gets one try")  # fmt: skip

    def _take_back(self) -> None:
        for throttle, ident in self._counted:
            throttle.take_back(ident)
        self._counted = []

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, traceback: TracebackType | None
    ) -> None:
        if not self._missed:
            self._take_back()


def birth_date_try(request: HttpRequest, reference: str) -> BirthDateTry:
    """A try at the birth date for this order number from this client (see BirthDateTry)."""
    return BirthDateTry(request, normalize_reference(reference))
