"""Kombu's Redis transport, publishing through one redis-py client per channel.

Kombu makes a new `redis.Redis` for every message it publishes, and redis-py fills a table of
some two hundred reply handlers each time it makes one (as with Django's cache, pharmacy.cache):
on a submission that cost more than the LPUSH itself. A client is safe to share: it takes a
connection from the channel's pool for each command. Consuming is unchanged.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from functools import cached_property
from typing import Any

from kombu.transport import redis


class Channel(redis.Channel):
    @cached_property
    def _shared_client(self) -> Any:
        return self._create_client()

    @contextmanager
    def conn_or_acquire(self, client: Any = None) -> Iterator[Any]:
        yield client or self._shared_client


class Transport(redis.Transport):
    Channel = Channel
