"""Helpers for the HTML-escape test: hostile text in every field a page shows.

Put PAYLOADS into every user-writable field (patient names, directions, notes, messages, lot
numbers...), render each page that shows them, and call assert_escaped on the body.
"""

from __future__ import annotations

PAYLOADS = (
    '<script>alert("x")</script>',
    '"><img src=x onerror=alert(1)>',
    "'><svg onload=alert(1)>",
    "javascript:alert(1)",
)

# What each payload must never be seen as, raw, in a page; its escaped form is fine.
_RAW_MARKERS = ("<script>alert(", "<img src=x onerror", "<svg onload", 'href="javascript:')


def assert_escaped(body: str, *, where: str = "") -> None:
    found = [marker for marker in _RAW_MARKERS if marker in body]
    assert not found, f"{where}: unescaped user text in the page: {found}"


def short_payload(max_length: int) -> str:
    """The most dangerous payload that fits a field of max_length characters."""
    for payload in sorted(PAYLOADS[:3], key=len):
        if len(payload) <= max_length:
            return payload
    return "<b>x</b>"[:max_length]
