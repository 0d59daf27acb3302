"""Log lines as the configured handlers write them, for the tests of this folder."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from typing import Any

import pytest

from tests.log_scan import FormattedLines


class WrittenLines:
    def __init__(self, handler: FormattedLines) -> None:
        self.handler = handler

    def json(self, logger: str) -> list[dict[str, Any]]:
        """The lines of one logger as the JSON formatter wrote them, parsed."""
        return [json.loads(text) for name, text in self.handler.lines if name == logger and text.startswith("{")]

    def plain(self, logger: str) -> list[str]:
        return [text for name, text in self.handler.lines if name == logger and not text.startswith("{")]


@pytest.fixture
def written() -> Iterator[WrittenLines]:
    handler = FormattedLines()
    root = logging.getLogger()
    root.addHandler(handler)
    yield WrittenLines(handler)
    root.removeHandler(handler)
