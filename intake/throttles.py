"""Throttles for the patient's doors without a login: the status lookup and the questionnaire links.

Shared by the web pages and the API so that guesses spread over both still add up. Counters live
in the cache (Redis in production, so every web process sees the same counts). Rates are
REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]:

- "questionnaire": every request to a private link, per client and per token;
- "patient_lookup": wrong reference/birth-date pairs per client;
- "patient_reference": wrong birth dates per prescription reference, whichever door they came
  through (the status lookup or a private link), so one client cannot guess 5 a minute at each.

Once a counter is over its rate every request on it is refused, the right answer included:
otherwise a guesser would learn the answer from the first request that is not refused.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest

from intake.audit import client_ip

_PERIODS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


@dataclass(frozen=True)
class Throttle:
    """A fixed-window counter per identity; the window starts at the identity's first hit."""

    scope: str

    def rate(self) -> tuple[int, int]:
        """(requests, seconds) from settings, e.g. "5/min" -> (5, 60); read at call time so tests can change it."""
        rates: dict[str, str] = settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]  # type: ignore[index,assignment]
        raw = rates[self.scope]
        count, period = raw.split("/")
        return int(count), _PERIODS[period.strip()[0]]

    def _key(self, ident: str) -> str:
        # Hashed: a token is a secret and must not sit in clear in the cache.
        digest = hashlib.sha256(f"{self.scope}:{ident}".encode()).hexdigest()[:32]
        return f"throttle:{self.scope}:{digest}"

    def count(self, ident: str) -> int:
        return int(cache.get(self._key(ident), 0))

    def exceeded(self, ident: str) -> bool:
        limit, _seconds = self.rate()
        return self.count(ident) >= limit

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

    def wait_seconds(self) -> int:
        return self.rate()[1]


QUESTIONNAIRE = Throttle("questionnaire")
MISSES_PER_CLIENT = Throttle("patient_lookup")
MISSES_PER_REFERENCE = Throttle("patient_reference")


def _client(request: HttpRequest) -> str:
    return client_ip(request) or "unknown"


def normalize_reference(reference: str) -> str:
    return reference.strip().upper()


def private_link_allowed(request: HttpRequest, token: str) -> bool:
    """Count one request to a private link; False once this client or this token is over the rate."""
    within_client = QUESTIONNAIRE.hit(f"client:{_client(request)}") <= QUESTIONNAIRE.rate()[0]
    within_token = QUESTIONNAIRE.hit(f"token:{token}") <= QUESTIONNAIRE.rate()[0]
    return within_client and within_token


def birth_date_guesses_blocked(request: HttpRequest, reference: str) -> bool:
    """Too many wrong birth dates lately from this client or for this reference."""
    return MISSES_PER_CLIENT.exceeded(_client(request)) or MISSES_PER_REFERENCE.exceeded(normalize_reference(reference))


def birth_date_missed(request: HttpRequest, reference: str) -> None:
    """Record a wrong reference/birth-date pair (or an unknown reference)."""
    MISSES_PER_CLIENT.hit(_client(request))
    if reference:
        MISSES_PER_REFERENCE.hit(normalize_reference(reference))


def retry_after_seconds() -> int:
    return max(QUESTIONNAIRE.wait_seconds(), MISSES_PER_CLIENT.wait_seconds(), MISSES_PER_REFERENCE.wait_seconds())
