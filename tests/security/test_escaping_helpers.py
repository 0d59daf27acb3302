"""The escape helpers catch raw markup and pass Django's escaped output."""

from __future__ import annotations

import pytest
from django.utils.html import escape

from tests.security.escaping import PAYLOADS, assert_escaped, short_payload


@pytest.mark.parametrize("payload", PAYLOADS[:3])
def test_raw_payloads_are_caught(payload):
    with pytest.raises(AssertionError):
        assert_escaped(f"<p>{payload}</p>")


@pytest.mark.parametrize("payload", PAYLOADS)
def test_escaped_payloads_pass(payload):
    assert_escaped(f'<p>{escape(payload)}</p><input value="{escape(payload)}">')


def test_a_user_link_in_href_is_caught_even_when_escaped():
    # Escaping does not defuse a javascript: URL; pages must not put user text in href at all.
    with pytest.raises(AssertionError):
        assert_escaped(f'<a href="{escape("javascript:alert(1)")}">x</a>')


def test_short_payload_fits():
    assert len(short_payload(30)) <= 30
    assert "<" in short_payload(30)
