"""`{% link 'name' %}`: `{% url 'name' %}` for a URL without arguments, reversed once per process.

Every page's layout links a dozen such URLs (the navigation, sign-out), and Django reverses each
one on every render: on the pharmacy's queue that cost more than its page query. The same name
always gives the same URL for one URLconf and script prefix, which are part of the key.
"""

from __future__ import annotations

import functools

from django import template
from django.conf import settings
from django.urls import get_script_prefix, get_urlconf, reverse

register = template.Library()


@register.simple_tag
def link(name: str) -> str:
    return _reversed(name, get_script_prefix(), get_urlconf() or settings.ROOT_URLCONF)


@functools.lru_cache(maxsize=256)
def _reversed(name: str, script_prefix: str, urlconf: str) -> str:
    return reverse(name, urlconf=urlconf)
