"""The API's JSON parser: DRF's, with the body's nesting bounded.

No body the API takes nests deeper than a few levels; a body of "[[[[…" would otherwise reach
Python's recursion limit inside json.load (a 500). The body's size is Django's
DATA_UPLOAD_MAX_MEMORY_SIZE, which DRF applies by reading request.body (intake.api.errors answers it).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import IO, Any

from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser

MAX_DEPTH = 32


class BoundedJSONParser(JSONParser):
    def parse(
        self, stream: IO[Any], media_type: str | None = None, parser_context: Mapping[str, Any] | None = None
    ) -> Any:
        try:
            parsed = super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise _too_deep() from None
        if nesting_depth(parsed) > MAX_DEPTH:
            raise _too_deep()
        return parsed


def _too_deep() -> ParseError:
    return ParseError(f"JSON parse error - the body nests arrays and objects more than {MAX_DEPTH} deep.")


def nesting_depth(value: Any) -> int:
    """How deep lists and dicts nest in a parsed JSON value (a scalar is 0), without recursion."""
    deepest = 0
    pending = [(value, 1)]
    while pending:
        node, depth = pending.pop()
        children = node.values() if isinstance(node, dict) else node if isinstance(node, list) else None
        if children is None:
            continue
        deepest = max(deepest, depth)
        if depth > MAX_DEPTH:
            break  # deep enough to refuse: no need to walk the rest
        pending.extend((child, depth + 1) for child in children)
    return deepest
